#!/usr/bin/env node
// Starts the service locally: applies D1 migrations, starts the Twilio
// simulator (unless .dev.vars points at real Twilio) and the service under
// `wrangler dev`, then prints the URL and a ready API key.
//
// Environment: PORT (service, default 8787), SIMULATOR_PORT (default 8788).

import { spawn, spawnSync } from "node:child_process";
import {
	copyFileSync,
	existsSync,
	mkdirSync,
	readFileSync,
	writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

const PORT = Number(process.env.PORT ?? 8787);
const SIMULATOR_PORT = Number(process.env.SIMULATOR_PORT ?? 8788);
const HOST = "127.0.0.1";
const SERVICE_URL = `http://${HOST}:${PORT}`;
const SIMULATOR_URL = `http://${HOST}:${SIMULATOR_PORT}`;
const KEY_FILE = ".wrangler/local-api-key.json";
const READY_TIMEOUT_MS = 60_000;

// No usage metrics, and no download of the Request.cf object: both would
// reach out to Cloudflare, and local runs must work offline.
const env = {
	...process.env,
	WRANGLER_SEND_METRICS: "false",
	CLOUDFLARE_CF_FETCH_ENABLED: "false",
};
// The cron trigger does not fire under `wrangler dev`; this script calls it.
const CRON_INTERVAL_MS = 60_000;
const wrangler = "node_modules/.bin/wrangler";
const children = [];

function readDevVars() {
	if (!existsSync(".dev.vars")) {
		copyFileSync(".dev.vars.example", ".dev.vars");
		console.log("Created .dev.vars from .dev.vars.example.");
	}
	const vars = {};
	for (const line of readFileSync(".dev.vars", "utf8").split("\n")) {
		const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
		if (match) vars[match[1]] = match[2].replace(/^"(.*)"$/, "$1");
	}
	return vars;
}

function usesSimulator(vars) {
	const base = vars.TWILIO_API_BASE ?? "";
	return /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(base);
}

function applyMigrations() {
	const result = spawnSync(
		wrangler,
		["d1", "migrations", "apply", "DB", "--local"],
		{ env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" },
	);
	if (result.status !== 0) {
		console.error(result.stdout, result.stderr);
		throw new Error("Applying the local D1 migrations failed (see above).");
	}
	console.log("Local D1 migrations are applied.");
}

function startWorker(name, args) {
	const child = spawn(wrangler, ["dev", ...args], {
		env,
		stdio: ["ignore", "pipe", "pipe"],
	});
	const prefix = `[${name}] `;
	const forward = (stream, target) => {
		let buffer = "";
		stream.on("data", (chunk) => {
			buffer += chunk;
			const lines = buffer.split("\n");
			buffer = lines.pop() ?? "";
			for (const line of lines) target.write(`${prefix}${line}\n`);
		});
	};
	forward(child.stdout, process.stdout);
	forward(child.stderr, process.stderr);
	child.on("exit", (code, signal) => {
		console.error(`${prefix}stopped (${signal ?? `exit code ${code}`}).`);
		shutdown(1);
	});
	children.push(child);
}

async function waitForReady(url) {
	const deadline = Date.now() + READY_TIMEOUT_MS;
	while (Date.now() < deadline) {
		try {
			const res = await fetch(url);
			if (res.status < 500) return;
		} catch {
			// Not listening yet.
		}
		await sleep(250);
	}
	throw new Error(
		`${url} did not respond within ${READY_TIMEOUT_MS / 1000} s.`,
	);
}

/** Reuses the key saved by an earlier start while it still works. */
async function readyApiKey(adminToken) {
	if (existsSync(KEY_FILE)) {
		const saved = JSON.parse(readFileSync(KEY_FILE, "utf8"));
		const check = await fetch(`${SERVICE_URL}/v1/messages?limit=1`, {
			headers: { Authorization: `Bearer ${saved.apiKey}` },
		});
		if (check.status === 200) return saved.apiKey;
	}
	const res = await fetch(`${SERVICE_URL}/v1/users`, {
		method: "POST",
		headers: {
			Authorization: `Bearer ${adminToken}`,
			"Content-Type": "application/json",
		},
		body: JSON.stringify({ name: "local developer" }),
	});
	if (res.status !== 201) {
		throw new Error(
			`Creating the local user failed: ${res.status} ${await res.text()}`,
		);
	}
	const user = await res.json();
	mkdirSync(".wrangler", { recursive: true });
	writeFileSync(
		KEY_FILE,
		JSON.stringify({ userId: user.id, apiKey: user.apiKey }),
	);
	return user.apiKey;
}

let stopping = false;
function shutdown(code) {
	if (stopping) return;
	stopping = true;
	for (const child of children) child.kill("SIGTERM");
	setTimeout(() => process.exit(code), 500).unref();
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

/** Asks the OS for a free loopback port, for wrangler's inspector. */
function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, HOST, () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** Runs the service's scheduled handler every minute, as the cron would. */
function startCronTicks() {
	const timer = setInterval(async () => {
		try {
			await fetch(`${SERVICE_URL}/cdn-cgi/handler/scheduled`);
		} catch {
			// The service is restarting; the next tick tries again.
		}
	}, CRON_INTERVAL_MS);
	timer.unref();
}

async function main() {
	const vars = readDevVars();
	applyMigrations();

	const simulated = usesSimulator(vars);
	const serviceArgs = [
		"--port",
		String(PORT),
		"--ip",
		HOST,
		"--inspector-port",
		String(await freePort()),
	];
	if (simulated) {
		startWorker("simulator", [
			"-c",
			"wrangler.simulator.toml",
			"--port",
			String(SIMULATOR_PORT),
			"--ip",
			HOST,
			"--inspector-port",
			String(await freePort()),
			"--var",
			`PUBLIC_BASE_URL:${SERVICE_URL}`,
			"--var",
			`SIMULATOR_PUBLIC_URL:${SIMULATOR_URL}`,
		]);
		serviceArgs.push(
			"--var",
			`TWILIO_API_BASE:${SIMULATOR_URL}`,
			"--var",
			`PUBLIC_BASE_URL:${SERVICE_URL}`,
		);
	}
	startWorker("service", serviceArgs);

	await waitForReady(`${SERVICE_URL}/healthz`);
	if (simulated) await waitForReady(`${SIMULATOR_URL}/simulator/messages`);
	const apiKey = await readyApiKey(vars.ADMIN_TOKEN);
	startCronTicks();

	console.log(`
Service:   ${SERVICE_URL}  (API docs at ${SERVICE_URL}/docs)
Twilio:    ${simulated ? `simulator at ${SIMULATOR_URL}` : vars.TWILIO_API_BASE}
API key:   ${apiKey}

Try it:
  curl -s -X POST ${SERVICE_URL}/v1/messages \\
    -H "Authorization: Bearer ${apiKey}" \\
    -H "Content-Type: application/json" \\
    -d '{"to": "+14155550100", "body": "Hello from the edge"}'

Press Ctrl+C to stop.
`);
}

main().catch((error) => {
	console.error(error instanceof Error ? error.message : error);
	shutdown(1);
});
