// The send pipeline end to end through the public API: accept N messages,
// wait until every one has a final status, and count each status. All
// waits are bounded and fail loudly.

import { setTimeout as sleep } from "node:timers/promises";
import { ADMIN_TOKEN } from "./stack.mjs";

/** Statuses after which a message changes no more (src/messages/status.ts). */
const FINAL = new Set([
	"delivered",
	"undelivered",
	"failed",
	"canceled",
	"read",
]);
const IN_FLIGHT = ["queued", "sending", "sent"];

async function call(url, { method = "GET", token, json } = {}) {
	const res = await fetch(url, {
		method,
		headers: {
			...(token ? { Authorization: `Bearer ${token}` } : {}),
			...(json === undefined ? {} : { "Content-Type": "application/json" }),
		},
		body: json === undefined ? undefined : JSON.stringify(json),
	});
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : null };
}

/**
 * Creates a user whose bucket never runs dry in a benchmark, so every send
 * is charged but none is rejected, and returns its API key.
 */
export async function createBenchUser(serviceUrl, name) {
	const res = await call(`${serviceUrl}/v1/users`, {
		method: "POST",
		token: ADMIN_TOKEN,
		json: { name, rateLimit: { capacity: 1_000_000, refillPerSecond: 1000 } },
	});
	if (res.status !== 201) {
		throw new Error(
			`Creating a user failed: ${res.status} ${JSON.stringify(res.body)}`,
		);
	}
	return res.body.apiKey;
}

/** Reads the Prometheus text of GET /metrics into {"name{labels}": value}. */
export async function readMetrics(serviceUrl) {
	const res = await fetch(`${serviceUrl}/metrics`, {
		headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
	});
	if (res.status !== 200) return null;
	const samples = {};
	for (const line of (await res.text()).split("\n")) {
		if (!line || line.startsWith("#")) continue;
		const space = line.lastIndexOf(" ");
		samples[line.slice(0, space)] = Number(line.slice(space + 1));
	}
	return samples;
}

/** Sums the samples of `name` whose labels contain every `labels` pair. */
export function metricSum(samples, name, labels = {}) {
	if (!samples) return null;
	let sum = 0;
	for (const [key, value] of Object.entries(samples)) {
		const brace = key.indexOf("{");
		const sampleName = brace === -1 ? key : key.slice(0, brace);
		if (sampleName !== name) continue;
		const text = brace === -1 ? "" : key.slice(brace);
		const matches = Object.entries(labels).every(([label, expected]) =>
			text.includes(`${label}="${expected}"`),
		);
		if (matches) sum += value;
	}
	return sum;
}

/**
 * Counts the user's messages in each status that is not final, up to 100
 * per status (one page each).
 */
async function inFlight(serviceUrl, apiKey) {
	const counts = {};
	for (const status of IN_FLIGHT) {
		const res = await call(
			`${serviceUrl}/v1/messages?status=${status}&limit=100`,
			{ token: apiKey },
		);
		if (res.status !== 200) {
			throw new Error(`Listing messages failed: ${res.status}`);
		}
		if (res.body.data.length > 0) counts[status] = res.body.data.length;
	}
	return counts;
}

/**
 * Waits until none of the user's messages is queued, sending or sent,
 * polling once every `pollMs`. Throws after `timeoutMs`, or sooner when
 * nothing has moved for `stallMs`, naming what is left.
 */
export async function waitUntilSettled(
	serviceUrl,
	apiKey,
	{ timeoutMs, pollMs = 1000, stallMs = 30_000 },
) {
	const deadline = Date.now() + timeoutMs;
	let last = "";
	let lastChange = Date.now();
	for (;;) {
		const counts = await inFlight(serviceUrl, apiKey);
		const text = JSON.stringify(counts);
		if (text === "{}") return;
		if (text !== last) {
			last = text;
			lastChange = Date.now();
		}
		const stalled = Date.now() - lastChange > stallMs;
		if (stalled || Date.now() > deadline) {
			throw new Error(
				`Messages are still in flight (${text}, at most 100 counted per status) ${stalled ? `and none moved for ${stallMs / 1000} s` : `after ${timeoutMs / 1000} s`}.`,
			);
		}
		await sleep(pollMs);
	}
}

/**
 * Counts the simulator's status callback attempts by the HTTP status of the
 * response, or by the error when none came, for a failure message.
 */
export async function callbackOutcomes(simulatorUrl) {
	const res = await call(`${simulatorUrl}/simulator/callbacks`);
	const outcomes = {};
	for (const attempt of res.body?.data ?? []) {
		const key = attempt.responseStatus ?? `no response: ${attempt.error}`;
		outcomes[key] = (outcomes[key] ?? 0) + 1;
	}
	return outcomes;
}

/** Lists every message of the user, page by page, through the API. */
async function listAll(serviceUrl, apiKey, maxPages) {
	const all = [];
	let cursor = null;
	for (let page = 0; page < maxPages; page++) {
		const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
		const res = await call(`${serviceUrl}/v1/messages?limit=100${query}`, {
			token: apiKey,
		});
		if (res.status !== 200) throw new Error(`Listing failed: ${res.status}`);
		all.push(...res.body.data);
		cursor = res.body.nextCursor;
		if (!cursor) return all;
	}
	throw new Error(`The user has more than ${maxPages * 100} messages.`);
}

function percentile(sorted, fraction) {
	if (sorted.length === 0) return null;
	const index = Math.min(
		sorted.length - 1,
		Math.ceil(fraction * sorted.length) - 1,
	);
	return sorted[Math.max(0, index)];
}

/**
 * Accepts `count` messages with `concurrency` requests in flight, waits
 * until each has a final status, and checks that every accepted message is
 * there and delivered. Times come from the service's own createdAt and
 * updatedAt (the delivered callback's time), so polling adds no error.
 */
export async function runPipeline({
	serviceUrl,
	apiKey,
	count,
	concurrency,
	timeoutMs,
}) {
	const accepted = new Set();
	const rejected = [];
	let next = 0;
	const startedAt = Date.now();
	const sender = async () => {
		while (next < count) {
			const index = next++;
			const res = await call(`${serviceUrl}/v1/messages`, {
				method: "POST",
				token: apiKey,
				json: { to: "+14155550100", body: `Pipeline message ${index}` },
			});
			if (res.status === 202) accepted.add(res.body.id);
			else rejected.push(res.status);
		}
	};
	await Promise.all(Array.from({ length: concurrency }, sender));
	const acceptedAt = Date.now();
	if (rejected.length > 0) {
		throw new Error(
			`${rejected.length} of ${count} sends were not accepted (statuses ${[...new Set(rejected)].join(", ")}).`,
		);
	}

	await waitUntilSettled(serviceUrl, apiKey, {
		timeoutMs: Math.max(1000, timeoutMs - (acceptedAt - startedAt)),
	});
	const settledAt = Date.now();

	const messages = await listAll(
		serviceUrl,
		apiKey,
		Math.ceil(count / 100) + 2,
	);
	const statusCounts = {};
	for (const message of messages) {
		statusCounts[message.status] = (statusCounts[message.status] ?? 0) + 1;
	}
	const listed = new Set(messages.map((message) => message.id));
	const missing = [...accepted].filter((id) => !listed.has(id));
	const notFinal = messages.filter((message) => !FINAL.has(message.status));
	const delivered = messages.filter(
		(message) => message.status === "delivered",
	);
	if (
		missing.length > 0 ||
		notFinal.length > 0 ||
		delivered.length !== count ||
		messages.length !== count
	) {
		throw new Error(
			`Lost or unfinished messages: accepted ${accepted.size}, listed ${messages.length}, missing ${missing.length}, not final ${notFinal.length}, statuses ${JSON.stringify(statusCounts)}.`,
		);
	}

	const created = delivered.map((message) => Date.parse(message.createdAt));
	const finished = delivered.map((message) => Date.parse(message.updatedAt));
	const firstAccept = Math.min(...created);
	const lastDelivered = Math.max(...finished);
	const endToEnd = delivered
		.map(
			(message) =>
				Date.parse(message.updatedAt) - Date.parse(message.createdAt),
		)
		.sort((a, b) => a - b);
	return {
		count,
		concurrency,
		statusCounts,
		lost: missing.length,
		acceptSeconds: (acceptedAt - startedAt) / 1000,
		acceptPerSecond: count / ((acceptedAt - startedAt) / 1000),
		firstToLastSeconds: (lastDelivered - firstAccept) / 1000,
		messagesPerSecond: count / ((lastDelivered - firstAccept) / 1000),
		settleSeconds: (settledAt - startedAt) / 1000,
		endToEndMs: {
			p50: percentile(endToEnd, 0.5),
			p99: percentile(endToEnd, 0.99),
			max: endToEnd.at(-1),
		},
	};
}
