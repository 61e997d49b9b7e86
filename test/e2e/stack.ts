/// <reference types="node" />
// Starts the service and the Twilio simulator with `wrangler dev` on free
// loopback ports, with their own state in a temporary directory. So a test
// run does not clash with a developer's `npm start`, which uses ports 8787
// and 8788 and .wrangler/state, and keeps nothing between runs.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const HOST = "127.0.0.1";
const WRANGLER = "node_modules/.bin/wrangler";
const READY_TIMEOUT_MS = 45_000;

export const E2E_ADMIN_TOKEN = "e2e-admin-token";
const TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000000";
const TWILIO_AUTH_TOKEN = "e2e-simulator-auth-token";

export interface Stack {
	serviceUrl: string;
	simulatorUrl: string;
	/** Output of both workers, for a failure message. */
	output(): string;
	stop(): Promise<void>;
}

/** Returns a port that was free a moment ago on the loopback address. */
function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, HOST, () => {
			const address = server.address();
			const port = typeof address === "object" && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	if (!child.pid || child.exitCode !== null || child.signalCode !== null) {
		return;
	}
	try {
		process.kill(-child.pid, signal);
	} catch {
		// The group has already exited.
	}
}

/** Sends SIGTERM to the child's process group, and SIGKILL after 5 s. */
async function stopProcessGroup(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise<void>((resolve) =>
		child.once("exit", () => resolve()),
	);
	signalGroup(child, "SIGTERM");
	const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 5000);
	await exited;
	clearTimeout(timer);
}

async function waitForReady(url: string, stack: Stack): Promise<void> {
	const deadline = Date.now() + READY_TIMEOUT_MS;
	while (Date.now() < deadline) {
		try {
			const res = await fetch(url);
			if (res.status < 500) return;
		} catch {
			// Not listening yet.
		}
		await sleep(200);
	}
	throw new Error(
		`${url} did not answer within ${READY_TIMEOUT_MS / 1000} s. Output:\n${stack.output()}`,
	);
}

/** Applies the D1 migrations, starts both workers and waits until they respond. */
export async function startStack(): Promise<Stack> {
	const stateDir = mkdtempSync(join(tmpdir(), "edge-sms-e2e-"));
	const [servicePort, simulatorPort, serviceInspector, simulatorInspector] =
		await Promise.all([freePort(), freePort(), freePort(), freePort()]);
	const serviceUrl = `http://${HOST}:${servicePort}`;
	const simulatorUrl = `http://${HOST}:${simulatorPort}`;
	const env = {
		...process.env,
		WRANGLER_SEND_METRICS: "false",
		// No download of the Request.cf object: the test runs offline.
		CLOUDFLARE_CF_FETCH_ENABLED: "false",
		// Keeps these workers out of the registry a developer's `npm start` uses.
		WRANGLER_REGISTRY_PATH: join(stateDir, "registry"),
	};

	const migrate = spawnSync(
		WRANGLER,
		[
			"d1",
			"migrations",
			"apply",
			"DB",
			"--local",
			"--persist-to",
			join(stateDir, "service"),
		],
		{ env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
	);
	if (migrate.status !== 0) {
		throw new Error(
			`Applying the D1 migrations failed:\n${migrate.stdout}\n${migrate.stderr}`,
		);
	}

	const children: ChildProcess[] = [];
	let output = "";
	const start = (name: string, args: string[]) => {
		// A process group of its own, so stop() ends wrangler and its workerd.
		const child = spawn(WRANGLER, ["dev", ...args], {
			env,
			detached: true,
			stdio: ["ignore", "pipe", "pipe"],
		});
		const append = (chunk: Buffer) => {
			output += `[${name}] ${chunk}`;
		};
		child.stdout?.on("data", append);
		child.stderr?.on("data", append);
		children.push(child);
	};
	const common = ["--ip", HOST, "--show-interactive-dev-session=false"];

	start("simulator", [
		"-c",
		"wrangler.simulator.toml",
		...common,
		"--port",
		String(simulatorPort),
		"--inspector-port",
		String(simulatorInspector),
		"--persist-to",
		join(stateDir, "simulator"),
		"--var",
		`PUBLIC_BASE_URL:${serviceUrl}`,
		"--var",
		`SIMULATOR_PUBLIC_URL:${simulatorUrl}`,
		"--var",
		`TWILIO_ACCOUNT_SID:${TWILIO_ACCOUNT_SID}`,
		"--var",
		`TWILIO_AUTH_TOKEN:${TWILIO_AUTH_TOKEN}`,
	]);
	start("service", [
		...common,
		"--port",
		String(servicePort),
		"--inspector-port",
		String(serviceInspector),
		"--persist-to",
		join(stateDir, "service"),
		...[
			`PUBLIC_BASE_URL:${serviceUrl}`,
			`TWILIO_API_BASE:${simulatorUrl}`,
			`ADMIN_TOKEN:${E2E_ADMIN_TOKEN}`,
			`TWILIO_ACCOUNT_SID:${TWILIO_ACCOUNT_SID}`,
			`TWILIO_AUTH_TOKEN:${TWILIO_AUTH_TOKEN}`,
			"TWILIO_API_KEY_SID:",
			"TWILIO_API_KEY_SECRET:",
			"TWILIO_FROM:+15005550006",
			"MEDIA_SIGNING_KEY:e2e-media-signing-key",
		].flatMap((pair) => ["--var", pair]),
	]);

	const stack: Stack = {
		serviceUrl,
		simulatorUrl,
		output: () => output,
		async stop() {
			await Promise.all(children.map(stopProcessGroup));
			rmSync(stateDir, { recursive: true, force: true });
		},
	};

	try {
		await Promise.all([
			waitForReady(`${serviceUrl}/healthz`, stack),
			waitForReady(`${simulatorUrl}/simulator/messages`, stack),
		]);
	} catch (error) {
		await stack.stop();
		throw error;
	}
	return stack;
}
