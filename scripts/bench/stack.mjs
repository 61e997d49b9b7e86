// Starts what `npm run bench` measures, each under `wrangler dev` on a free
// loopback port with its state in a temporary directory: the Twilio
// simulator and copies of the service, or the probe Worker. The developer's
// .dev.vars, .wrangler/state and ports 8787/8788 are never touched.

import { spawn, spawnSync } from "node:child_process";
import {
	createWriteStream,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const HOST = "127.0.0.1";
export const WRANGLER = resolve("node_modules/.bin/wrangler");
export const ADMIN_TOKEN = "bench-admin-token";
/**
 * When set, each process's whole output, with the Workers' info-level log
 * lines, goes to NAME.log in this directory. Logging every line costs CPU,
 * so numbers from such a run are lower; use it to find out why a run failed.
 */
const LOG_DIR = process.env.BENCH_LOG_DIR;
const READY_TIMEOUT_MS = 60_000;
/** Linux reports process CPU times in ticks of 1/100 s (USER_HZ) on x86 and arm64. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** The environment of every wrangler command the benchmark runs. */
export const WRANGLER_ENV = {
	...process.env,
	WRANGLER_SEND_METRICS: "false",
	// Miniflare otherwise downloads a sample `request.cf` object from
	// Cloudflare at start; the benchmark stays on the loopback address.
	CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

/**
 * `wrangler dev` attaches a DevTools inspector to every Worker, and with it
 * attached each local D1 call costs about four times the CPU, part of it in
 * wrangler's Node.js process (the probe Worker measures both ways on every
 * run). Wrangler 4.84 has no flag to leave it off. It leaves it off when
 * VSCODE_INSPECTOR_OPTIONS is set, as in a VS Code debug terminal, where the
 * editor attaches its own debugger; Miniflare then only reads the variable
 * to find that debugger, and finds none here. This returns the environment
 * for a `wrangler dev` with or without the inspector.
 */
function devEnv(inspector) {
	const env = { ...WRANGLER_ENV };
	if (inspector) delete env.VSCODE_INSPECTOR_OPTIONS;
	else env.VSCODE_INSPECTOR_OPTIONS = "inspector-off";
	return env;
}

/** "on" measures the service with wrangler's inspector attached, as `npm start` runs it. */
export const SERVICE_INSPECTOR = process.env.BENCH_INSPECTOR === "on";

/**
 * Returns `count` different ports that were free a moment ago on the
 * loopback address. They are taken together, so none of them is handed out
 * twice before the processes that use them have bound them.
 */
export async function freePorts(count) {
	const servers = await Promise.all(
		Array.from(
			{ length: count },
			() =>
				new Promise((resolveServer, reject) => {
					const server = createServer();
					server.once("error", reject);
					server.listen(0, HOST, () => resolveServer(server));
				}),
		),
	);
	const ports = servers.map((server) => server.address().port);
	await Promise.all(
		servers.map((server) => new Promise((done) => server.close(done))),
	);
	return ports;
}

/** Runs a wrangler command to completion and returns its stdout. */
export function runWrangler(args) {
	const result = spawnSync(WRANGLER, args, {
		env: WRANGLER_ENV,
		encoding: "utf8",
		stdio: ["ignore", "pipe", "pipe"],
		maxBuffer: 64 * 1024 * 1024,
	});
	if (result.status !== 0) {
		throw new Error(
			`wrangler ${args.slice(0, 3).join(" ")} failed:\n${result.stdout}\n${result.stderr}`,
		);
	}
	return result.stdout;
}

/** Applies the service's D1 migrations to the database under `persistDir`. */
export function applyMigrations(persistDir) {
	runWrangler([
		"d1",
		"migrations",
		"apply",
		"DB",
		"--local",
		"--persist-to",
		persistDir,
	]);
}

/**
 * Bundles a Worker as `wrangler deploy` would, into `dir`, for `wrangler dev
 * --no-bundle`. Running that snapshot keeps edits to the work tree during a
 * run from reloading the Worker, because a reload drops the queue batches
 * and connections in flight.
 */
export function buildWorker(config, dir) {
	runWrangler(["deploy", "--dry-run", "-c", config, "--outdir", dir]);
	return { config, dir };
}

/**
 * Writes a copy of the build's configuration, with the bundle as `main`, to
 * `name`.toml in the build's directory. The copy leaves out the consumer of
 * the queue `withoutConsumerOf`, so messages sent to that queue stay there.
 */
export function configCopy(build, name, { withoutConsumerOf } = {}) {
	const text = readFileSync(build.config, "utf8");
	if (!/^main\s*=.*$/m.test(text))
		throw new Error(`${build.config} has no main.`);
	let copy = text
		.replace(/^main\s*=.*$/m, 'main = "index.js"')
		// Other relative paths, such as `[assets] directory`, become absolute.
		.replace(
			/^(directory\s*=\s*)"([^"/][^"]*)"/gm,
			(_line, key, path) => `${key}${JSON.stringify(resolve(path))}`,
		);
	if (withoutConsumerOf) {
		// A table runs from its header to the next header.
		const tables = copy.split(/^(?=\[)/m);
		const withoutConsumer = tables.filter(
			(table) =>
				!(
					table.startsWith("[[queues.consumers]]") &&
					new RegExp(`^queue\\s*=\\s*"${withoutConsumerOf}"`, "m").test(table)
				),
		);
		if (withoutConsumer.length !== tables.length - 1) {
			throw new Error(
				`${build.config} has no consumer of ${withoutConsumerOf}.`,
			);
		}
		copy = withoutConsumer.join("");
	}
	const path = join(build.dir, `${name}.toml`);
	writeFileSync(path, copy);
	return path;
}

/**
 * Processes of the process group `pgid` with their CPU ticks so far, read
 * from /proc (proc(5): fields 5 pgrp, 14 utime, 15 stime).
 */
function groupProcesses(pgid) {
	const found = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		let stat;
		try {
			stat = readFileSync(`/proc/${entry}/stat`, "utf8");
		} catch {
			continue; // The process ended while we looked.
		}
		// The command name is in parentheses and may contain spaces.
		const close = stat.lastIndexOf(")");
		const name = stat.slice(stat.indexOf("(") + 1, close);
		const fields = stat.slice(close + 2).split(" ");
		if (Number(fields[2]) !== pgid) continue;
		found.push({
			name,
			ticks: Number(fields[11]) + Number(fields[12]),
		});
	}
	return found;
}

/**
 * Returns the CPU seconds (user + system) used so far by the live processes
 * of one wrangler dev: `workerd` (the Worker with its local D1, queues and Durable
 * Objects, and wrangler's local proxy) and `node` (wrangler itself, which
 * also serves the proxy's loopback calls and prints the logs).
 */
export function cpuSeconds(pgid) {
	const total = { workerd: 0, node: 0 };
	for (const proc of groupProcesses(pgid)) {
		const key = proc.name.startsWith("workerd") ? "workerd" : "node";
		total[key] += proc.ticks / CLOCK_TICKS_PER_SECOND;
	}
	return total;
}

async function waitForReady(url, child, output) {
	const deadline = Date.now() + READY_TIMEOUT_MS;
	while (Date.now() < deadline) {
		if (child.exitCode !== null || child.signalCode !== null) {
			throw new Error(`The process for ${url} exited. Output:\n${output()}`);
		}
		try {
			const res = await fetch(url);
			if (res.status < 500) return;
		} catch {
			// Not listening yet.
		}
		await sleep(200);
	}
	throw new Error(
		`${url} did not respond within ${READY_TIMEOUT_MS / 1000} s. Output:\n${output()}`,
	);
}

function signalGroup(child, signal) {
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
async function stopGroup(child) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((done) => child.once("exit", () => done()));
	signalGroup(child, "SIGTERM");
	const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 5000);
	await exited;
	clearTimeout(timer);
}

/** Every DevProcesses not yet removed, for abort(). */
const active = new Set();

/**
 * Ends every process group the benchmark started and deletes their state at
 * once, for a run that is interrupted or over its time limit.
 */
export function abortAll() {
	for (const dev of active) {
		for (const child of dev.children) signalGroup(child, "SIGTERM");
		rmSync(dev.root, { recursive: true, force: true });
	}
	active.clear();
}

/**
 * A set of `wrangler dev` processes sharing one temporary directory. Each
 * reads its vars from a copy of .dev.vars.example passed as `--env-file`,
 * because wrangler then skips .dev.vars and a developer's settings stay out.
 */
export class DevProcesses {
	constructor(label) {
		this.root = mkdtempSync(join(tmpdir(), `edge-sms-${label}-`));
		this.envFile = join(this.root, "local.env");
		writeFileSync(this.envFile, readFileSync(".dev.vars.example", "utf8"));
		this.children = [];
		this.logs = new Map();
		active.add(this);
	}

	/** Returns the tail of every process's output, for an error message. */
	output() {
		return [...this.logs]
			.map(([name, text]) => `[${name}]\n${text.slice(-4000)}`)
			.join("\n");
	}

	/**
	 * Starts `wrangler dev` with `args` plus `vars` as `--var` pairs, on
	 * `ports` ([its own, its inspector's]; two free ones when not given), and
	 * returns {name, url, pgid, ready, child}. ready() waits for it.
	 */
	async start({
		name,
		args = [],
		vars = {},
		readyPath,
		ports,
		inspector = SERVICE_INSPECTOR,
	}) {
		const [listen, inspectorPort] = ports ?? (await freePorts(2));
		const url = `http://${HOST}:${listen}`;
		// Its own dev registry, because copies of the service share a name.
		const registry = join(this.root, "registry", name);
		mkdirSync(registry, { recursive: true });
		const child = spawn(
			WRANGLER,
			[
				"dev",
				...args,
				"--ip",
				HOST,
				"--port",
				String(listen),
				"--inspector-port",
				String(inspectorPort),
				"--show-interactive-dev-session=false",
				"--log-level",
				LOG_DIR ? "log" : "warn",
				"--env-file",
				this.envFile,
				...Object.entries(vars).flatMap(([key, value]) => [
					"--var",
					`${key}:${value}`,
				]),
			],
			{
				env: { ...devEnv(inspector), WRANGLER_REGISTRY_PATH: registry },
				// A process group of its own, so that stop() ends wrangler and
				// workerd, and cpuSeconds() finds them.
				detached: true,
				stdio: ["ignore", "pipe", "pipe"],
			},
		);
		this.logs.set(name, "");
		const append = (chunk) => {
			// Only the tail is kept, for error messages.
			const text = this.logs.get(name) + chunk;
			this.logs.set(name, text.length > 20_000 ? text.slice(-10_000) : text);
		};
		child.stdout.on("data", append);
		child.stderr.on("data", append);
		if (LOG_DIR) {
			mkdirSync(LOG_DIR, { recursive: true });
			const file = createWriteStream(join(LOG_DIR, `${name}.log`));
			child.stdout.pipe(file, { end: false });
			child.stderr.pipe(file, { end: false });
			child.once("exit", () => file.end());
		}
		this.children.push(child);
		return {
			name,
			url,
			pgid: child.pid,
			ready: `${url}${readyPath}`,
			child,
		};
	}

	/** Waits until every started process responds on its ready path. */
	async ready(started) {
		await Promise.all(
			started.map((proc) =>
				waitForReady(proc.ready, proc.child, () => this.output()),
			),
		);
		// A process that failed to bind its port exits, and another program on
		// that port may have responded in its place.
		await sleep(500);
		for (const proc of started) {
			if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
				throw new Error(`${proc.name} exited. Output:\n${this.output()}`);
			}
		}
	}

	/** Ends every process; their state stays on disk until remove(). */
	async stop() {
		await Promise.all(this.children.map(stopGroup));
	}

	remove() {
		rmSync(this.root, { recursive: true, force: true });
		active.delete(this);
	}
}

/** The service's outbound queue (wrangler.toml). */
const OUTBOUND_QUEUE = "sms-outbound";

/**
 * Starts the simulator and each service of `services` ({name, vars,
 * consumer}), where `vars` are extra `--var` pairs for that copy and
 * `consumer: false` leaves out its outbound queue consumer. Every copy has
 * its own persist directory with the D1 migrations applied, and sends
 * through the simulator. The simulator's status callbacks go to the
 * StatusCallback URL that each copy passes with its sends.
 */
export async function startStack({ services, simulatorVars = {} }) {
	const dev = new DevProcesses("bench");
	try {
		const serviceBuild = buildWorker(
			"wrangler.toml",
			join(dev.root, "build", "service"),
		);
		const simulatorBuild = buildWorker(
			"wrangler.simulator.toml",
			join(dev.root, "build", "simulator"),
		);
		// Two ports per process: its own and its inspector's.
		const ports = await freePorts(2 * (services.length + 1));
		const portPair = () => ports.splice(0, 2);
		const simulatorPorts = portPair();
		const simulatorUrl = `http://${HOST}:${simulatorPorts[0]}`;
		const planned = [];
		for (const service of services) {
			const servicePorts = portPair();
			const persistDir = join(dev.root, service.name);
			applyMigrations(persistDir);
			const config = configCopy(serviceBuild, service.name, {
				withoutConsumerOf: service.consumer === false ? OUTBOUND_QUEUE : null,
			});
			planned.push({ ...service, ports: servicePorts, persistDir, config });
		}
		const firstServiceUrl = `http://${HOST}:${planned[0]?.ports[0]}`;

		const simulator = await dev.start({
			name: "simulator",
			ports: simulatorPorts,
			args: [
				"-c",
				configCopy(simulatorBuild, "simulator"),
				"--no-bundle",
				"--persist-to",
				join(dev.root, "simulator"),
			],
			vars: {
				// Inbound webhooks go here; the benchmark sends none.
				PUBLIC_BASE_URL: firstServiceUrl,
				SIMULATOR_PUBLIC_URL: simulatorUrl,
				...simulatorVars,
			},
			readyPath: "/simulator/messages",
		});
		const started = [];
		for (const service of planned) {
			const url = `http://${HOST}:${service.ports[0]}`;
			const proc = await dev.start({
				name: service.name,
				ports: service.ports,
				args: [
					"-c",
					service.config,
					"--no-bundle",
					"--persist-to",
					service.persistDir,
				],
				vars: {
					PUBLIC_BASE_URL: url,
					TWILIO_API_BASE: simulatorUrl,
					ADMIN_TOKEN,
					...service.vars,
				},
				readyPath: "/healthz",
			});
			started.push({ ...proc, persistDir: service.persistDir });
		}
		await dev.ready([simulator, ...started]);
		return {
			simulator,
			services: started,
			output: () => dev.output(),
			stop: () => dev.stop(),
			remove: () => dev.remove(),
		};
	} catch (error) {
		await dev.stop();
		dev.remove();
		throw error;
	}
}
