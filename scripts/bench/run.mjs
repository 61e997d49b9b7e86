#!/usr/bin/env node

// `npm run bench`: measures the service locally and writes BENCHMARKS.md.
//
// 1. The probe Worker, without and with wrangler's inspector: what one local
//    D1, Durable Object, queue or log call costs.
// 2. The simulator and three copies of the service side by side. Two have
//    no outbound consumer, one with the send limits and one with
//    RATE_LIMITS_ENABLED=false: a no-op baseline (GET /healthz), then the
//    accept path (POST /v1/messages) on both in turns, under fixed load.
// 3. The pipeline on the third, complete copy: 1,000 messages accepted, then
//    the time until every one is delivered, failing loudly if any is lost.
// 4. D1 rows per message, read from the stopped service's database.
//
// Everything listens on free loopback ports with state in a temporary
// directory, and every phase is bounded in time. It takes about two
// minutes on 2 cores and stops itself after RUN_LIMIT_MS.

import { measureStatementRows, openD1, userRows } from "./d1.mjs";
import { combineSlices, runLoad, runLoadSlice } from "./load.mjs";
import { combineCpu, describeMachine, startCpuMeter } from "./machine.mjs";
import {
	callbackOutcomes,
	createBenchUser,
	metricSum,
	readMetrics,
	runPipeline,
	waitUntilSettled,
} from "./pipeline.mjs";
import { writeReport } from "./report.mjs";
import {
	abortAll,
	DevProcesses,
	SERVICE_INSPECTOR,
	startStack,
} from "./stack.mjs";

const LOAD_SECONDS = 10;
/** The two accept tests take turns of LOAD_SECONDS / TURNS seconds each. */
const TURNS = 5;
const PROBE_SECONDS = 3;
const CONNECTIONS = 10;
const PIPELINE_MESSAGES = 1000;
const PIPELINE_TIMEOUT_MS = 150_000;
/** How long the backlog of an accept test may take to be delivered. */
const SETTLE_TIMEOUT_MS = 90_000;
/** The whole run stops with an error after this long (the budget is 5 minutes). */
const RUN_LIMIT_MS = 290_000;

/** The simulator's sender in .dev.vars.example (TWILIO_FROM). */
const SENDER = "+15005550006";
const SENDER_RATES = JSON.stringify({ [SENDER]: 100_000 });
const WEBHOOK_IP_WINDOW_LIMIT = "1000000";
const CALLBACK_DELAY_MS = "10";

const PROBE_ROUTES = [
	["/noop", "nothing"],
	["/d1-read", "D1: `select 1`"],
	["/d1-write", "D1: insert one row"],
	["/durable-object", "Durable Object: read and write its storage"],
	["/queue-send", "Queue: send one message"],
	["/log", "`console.log` of one JSON line"],
];

/** D1 round trips of one delivered message, counted in the code. */
const D1_CALLS = {
	// auth lookup, opt-out check, one batch inserting message and event
	accept: { reads: 2, writes: 1 },
	// claim; record the SID; per callback (sent, delivered): find, one batch
	rest: { reads: 2, writes: 4 },
};

const SMS = JSON.stringify({ to: "+14155550100", body: "Benchmark message" });

function log(text) {
	process.stdout.write(`[bench] ${text}\n`);
}

/**
 * Runs `start` once more when it fails. Starting `wrangler dev` can fail
 * when another program takes a port between the benchmark finding it free
 * and workerd binding it, which happens on a busy machine.
 */
async function startWithRetry(label, start) {
	try {
		return await start();
	} catch (error) {
		log(
			`${label} did not start; trying once more: ${String(error).split("\n")[0]}`,
		);
		return await start();
	}
}

/** Runs each probe route under load, with or without wrangler's inspector. */
async function measureProbe(inspector) {
	const { dev, probe } = await startWithRetry("the probe Worker", async () => {
		const dev = new DevProcesses("bench-probe");
		try {
			const probe = await dev.start({
				name: "probe",
				args: [
					"-c",
					"scripts/bench/probe-worker/wrangler.toml",
					"--persist-to",
					`${dev.root}/state`,
				],
				readyPath: "/noop",
				inspector,
			});
			await dev.ready([probe]);
			return { dev, probe };
		} catch (error) {
			await dev.stop();
			dev.remove();
			throw error;
		}
	});
	try {
		const runs = [];
		for (const [route, what] of PROBE_ROUTES) {
			const url = `${probe.url}${route}`;
			for (let i = 0; i < 20; i++) await (await fetch(url)).text();
			const meter = startCpuMeter({ probe: probe.pgid });
			const run = await runLoad({
				url,
				seconds: PROBE_SECONDS,
				connections: CONNECTIONS,
				expectStatus: 200,
			});
			runs.push({ route, what, ...run, cpu: meter() });
			log(
				`probe ${route}${inspector ? " (inspector)" : ""}: ${run.requestsPerSecond.toFixed(0)} requests/s`,
			);
		}
		return runs;
	} finally {
		await dev.stop();
		dev.remove();
	}
}

function sendLoad(service, apiKey) {
	return {
		url: `${service.url}/v1/messages`,
		method: "POST",
		headers: {
			Authorization: `Bearer ${apiKey}`,
			"Content-Type": "application/json",
		},
		body: SMS,
		expectStatus: 202,
	};
}

/**
 * Sends a few requests first, so that no test pays for compiling or for
 * creating objects.
 */
async function warmUp(service, apiKey) {
	const load = sendLoad(service, apiKey);
	for (let i = 0; i < 20; i++) {
		await (await fetch(`${service.url}/healthz`)).text();
		const res = await fetch(load.url, {
			method: "POST",
			headers: load.headers,
			body: load.body,
		});
		if (res.status !== 202) {
			throw new Error(`A warm-up send got ${res.status}: ${await res.text()}`);
		}
		await res.text();
	}
}

function checkAnswers(name, run, expectStatus) {
	log(
		`${name}: ${run.requestsPerSecond.toFixed(0)} requests/s, p50 ${run.latencyMs.p50?.toFixed(1)} ms, p99 ${run.latencyMs.p99?.toFixed(1)} ms, ${run.unexpected} other responses, ${run.errors} errors`,
	);
	if (run.unexpected > 0 || run.errors > 0) {
		throw new Error(
			`${name}: ${run.unexpected} responses other than ${expectStatus} (${JSON.stringify(run.statusCounts)}) and ${run.errors} errors.`,
		);
	}
}

async function measureLoad(name, options, groups) {
	const meter = startCpuMeter(groups);
	const run = await runLoad({
		...options,
		seconds: LOAD_SECONDS,
		connections: CONNECTIONS,
	});
	const result = { ...run, cpu: meter() };
	checkAnswers(name, result, options.expectStatus);
	return result;
}

/**
 * Runs several tests in turns of LOAD_SECONDS / TURNS each, so that a change
 * in the rest of the machine's load during the measurement falls on all of
 * them alike. Returns each test's totals.
 */
async function measureInTurns(tests, groups) {
	const slices = tests.map(() => []);
	const cpu = tests.map(() => []);
	for (let turn = 0; turn < TURNS; turn++) {
		for (const [index, test] of tests.entries()) {
			const meter = startCpuMeter(groups);
			slices[index].push(
				await runLoadSlice({
					...test.options,
					seconds: LOAD_SECONDS / TURNS,
					connections: CONNECTIONS,
				}),
			);
			cpu[index].push(meter());
		}
	}
	return tests.map((test, index) => {
		const result = {
			...combineSlices(slices[index], CONNECTIONS),
			cpu: combineCpu(cpu[index]),
		};
		checkAnswers(test.name, result, test.options.expectStatus);
		return result;
	});
}

function perMessageMs(seconds, count) {
	return (seconds * 1000) / count;
}

async function main() {
	const startedAt = Date.now();
	const machine = describeMachine();
	log(
		`${machine.cpuModel}, ${machine.cores} cores, load average ${machine.loadAverage.map((v) => v.toFixed(2)).join(" ")}`,
	);

	const probe = {
		plain: await measureProbe(false),
		inspector: await measureProbe(true),
	};

	const baseVars = {
		SENDER_RATES,
		WEBHOOK_IP_WINDOW_LIMIT,
	};
	log("starting the simulator and three copies of the service");
	const stack = await startWithRetry("the stack", () =>
		startStack({
			services: [
				// The accept tests run on copies without the outbound consumer, so
				// delivery does not take CPU from accepting. On Cloudflare the
				// consumer runs on other machines too.
				{ name: "limited", vars: baseVars, consumer: false },
				{
					name: "unlimited",
					vars: { ...baseVars, RATE_LIMITS_ENABLED: "false" },
					consumer: false,
				},
				{ name: "pipeline", vars: baseVars },
			],
			simulatorVars: { CALLBACK_DELAY_MS },
		}),
	);
	const [limited, unlimited, pipelineCopy] = stack.services;
	const groups = {
		limited: limited.pgid,
		unlimited: unlimited.pgid,
		pipeline: pipelineCopy.pgid,
		simulator: stack.simulator.pgid,
	};
	let pipelineUser;
	const results = { machine, probe, load: {} };
	try {
		const limitedKey = await createBenchUser(limited.url, "bench accept");
		const unlimitedKey = await createBenchUser(unlimited.url, "bench accept");
		const pipelineKey = await createBenchUser(
			pipelineCopy.url,
			"bench pipeline",
		);
		await warmUp(limited, limitedKey);
		await warmUp(unlimited, unlimitedKey);
		// Its own user, so that the pipeline's user has only the pipeline's messages.
		const warmUpKey = await createBenchUser(pipelineCopy.url, "bench warm-up");
		await warmUp(pipelineCopy, warmUpKey);
		await waitUntilSettled(pipelineCopy.url, warmUpKey, {
			timeoutMs: SETTLE_TIMEOUT_MS,
		});

		results.load.baseline = await measureLoad(
			"GET /healthz",
			{ url: `${limited.url}/healthz`, expectStatus: 200 },
			groups,
		);
		[results.load.acceptLimited, results.load.acceptUnlimited] =
			await measureInTurns(
				[
					{
						name: "POST /v1/messages, limits on",
						options: sendLoad(limited, limitedKey),
					},
					{
						name: "POST /v1/messages, limits off",
						options: sendLoad(unlimited, unlimitedKey),
					},
				],
				groups,
			);

		log(`pipeline: ${PIPELINE_MESSAGES} messages`);
		const metricsBefore = await readMetrics(pipelineCopy.url);
		const meter = startCpuMeter(groups);
		const pipeline = await runPipeline({
			serviceUrl: pipelineCopy.url,
			apiKey: pipelineKey,
			count: PIPELINE_MESSAGES,
			concurrency: CONNECTIONS,
			timeoutMs: PIPELINE_TIMEOUT_MS,
		});
		pipeline.cpu = meter();
		const metricsAfter = await readMetrics(pipelineCopy.url);
		results.pipeline = pipeline;
		log(
			`pipeline: ${pipeline.messagesPerSecond.toFixed(1)} delivered messages/s, ${pipeline.lost} lost`,
		);
		const delta = (name, labels) => {
			const before = metricSum(metricsBefore, name, labels);
			const after = metricSum(metricsAfter, name, labels);
			return before === null || after === null ? null : after - before;
		};
		results.metrics = {
			created: delta("edge_sms_twilio_requests_total", { outcome: "created" }),
			twilioCalls: delta("edge_sms_twilio_requests_total"),
			retries: delta("edge_sms_send_retries_total"),
			batches: delta("edge_sms_queue_batch_duration_seconds_count", {
				queue: "sms-outbound",
			}),
		};
		pipelineUser = { apiKey: pipelineKey };
	} catch (error) {
		process.stderr.write(`${stack.output()}\n`);
		const outcomes = await callbackOutcomes(stack.simulator.url).catch(
			(reason) => `unreadable: ${reason}`,
		);
		process.stderr.write(
			`[bench] status callbacks by response: ${JSON.stringify(outcomes)}\n`,
		);
		await stack.stop();
		stack.remove();
		throw error;
	} finally {
		await stack.stop();
	}

	try {
		const db = await openD1(pipelineCopy.persistDir);
		try {
			const [{ results: users }] = await db.batch([
				"select id from users where name = 'bench pipeline'",
			]);
			pipelineUser.id = users[0].id;
			results.rows = await userRows(db, pipelineUser.id);
			results.statements = await measureStatementRows(db, {
				apiKey: pipelineUser.apiKey,
				userId: pipelineUser.id,
			});
		} finally {
			await db.dispose();
		}
	} finally {
		stack.remove();
	}

	results.settings = {
		command: "npm run bench",
		connections: CONNECTIONS,
		loadSeconds: LOAD_SECONDS,
		turns: TURNS,
		probeSeconds: PROBE_SECONDS,
		senderRates: SENDER_RATES,
		webhookLimit: WEBHOOK_IP_WINDOW_LIMIT,
		callbackDelayMs: CALLBACK_DELAY_MS,
		inspector: SERVICE_INSPECTOR,
	};
	results.perMessage = perMessageFigures(results);
	results.date = new Date().toISOString().slice(0, 16).replace("T", " ");
	results.durationSeconds = (Date.now() - startedAt) / 1000;
	results.otherCoresMax = Math.max(
		...Object.values(results.load).map((run) => run.cpu.otherCores),
		results.pipeline.cpu.otherCores,
	);
	writeReport(results);
	log(`wrote BENCHMARKS.md in ${results.durationSeconds.toFixed(0)} s`);
}

/**
 * Reduces the pipeline's counters, rows and CPU to figures per message, and
 * estimates D1's ceiling from the probe's D1 rates.
 */
function perMessageFigures(results) {
	const { pipeline, metrics, rows, statements, probe } = results;
	const n = pipeline.count;
	const ratio = (value) => (value === null ? "n/a" : (value / n).toFixed(2));
	const cpu = pipeline.cpu.byGroup;
	const eventsText = rows.events
		.map(
			(event) =>
				`${event.status} (${event.source}) ${(event.n / n).toFixed(2)}`,
		)
		.join(", ");

	// D1 serves one call at a time, so its calls per message bound the rate.
	const runs = results.settings.inspector ? probe.inspector : probe.plain;
	const rate = (route) =>
		runs.find((run) => run.route === route)?.requestsPerSecond ?? null;
	const read = rate("/d1-read");
	const write = rate("/d1-write");
	const ceiling = ({ reads, writes }) =>
		read && write ? 1 / (reads / read + writes / write) : null;
	const whole = {
		reads: D1_CALLS.accept.reads + D1_CALLS.rest.reads,
		writes: D1_CALLS.accept.writes + D1_CALLS.rest.writes,
	};

	return {
		measured: [
			{
				what: "Twilio create calls",
				value: ratio(metrics.created),
				how: '`edge_sms_twilio_requests_total{outcome="created"}` before and after',
			},
			{
				what: "send retries",
				value: ratio(metrics.retries),
				how: "`edge_sms_send_retries_total` before and after",
			},
			{
				what: "outbound queue batches (consumer invocations)",
				value: ratio(metrics.batches),
				how: "`edge_sms_queue_batch_duration_seconds_count` before and after",
			},
			{
				what: "`messages` rows",
				value: (rows.messages / n).toFixed(2),
				how: "counted in D1 for the pipeline's user",
			},
			{
				what: "`message_events` rows",
				value: `${(rows.events.reduce((sum, event) => sum + event.n, 0) / n).toFixed(2)}: ${eventsText}`,
				how: "counted in D1, by status and source",
			},
			{
				what: "`dead_letters` rows",
				value: (rows.deadLetters / n).toFixed(2),
				how: "counted in D1",
			},
			{
				what: "local CPU of the service (ms, workerd + node)",
				value: `${perMessageMs(cpu.pipeline.workerd, n).toFixed(1)} + ${perMessageMs(cpu.pipeline.node, n).toFixed(1)}`,
				how: "all processes of its `wrangler dev`, from /proc, over the pipeline",
			},
			{
				what: "local CPU of the simulator (ms, workerd + node)",
				value: `${perMessageMs(cpu.simulator.workerd, n).toFixed(1)} + ${perMessageMs(cpu.simulator.node, n).toFixed(1)}`,
				how: "the same, for the simulator",
			},
			{
				what: "CPU of the load generator (ms)",
				value: perMessageMs(pipeline.cpu.loadGenerator, n).toFixed(1),
				how: "this Node.js process: sending and polling",
			},
		],
		statements,
		rowsRead: statements.reduce((sum, row) => sum + row.rowsRead, 0),
		rowsWritten: statements.reduce((sum, row) => sum + row.rowsWritten, 0),
		d1ReadsPerSecond: read,
		d1WritesPerSecond: write,
		acceptD1Calls: D1_CALLS.accept.reads + D1_CALLS.accept.writes,
		pipelineD1Calls: whole.reads + whole.writes,
		acceptCeilingEstimate: ceiling(D1_CALLS.accept),
		pipelineCeilingEstimate: ceiling(whole),
	};
}

/** Ends the wrangler processes, which run in process groups of their own. */
function abort(reason) {
	process.stderr.write(`[bench] stopped: ${reason}\n`);
	abortAll();
	process.exit(1);
}
const watchdog = setTimeout(
	() => abort(`the run took longer than ${RUN_LIMIT_MS / 1000} s.`),
	RUN_LIMIT_MS,
);
watchdog.unref();
process.on("SIGINT", () => abort("interrupted."));
process.on("SIGTERM", () => abort("terminated."));

main().then(
	() => {
		clearTimeout(watchdog);
	},
	(error) => {
		clearTimeout(watchdog);
		process.stderr.write(`[bench] failed: ${error?.stack ?? error}\n`);
		process.exitCode = 1;
	},
);
