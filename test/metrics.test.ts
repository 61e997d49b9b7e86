import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { METRICS } from "../src/metrics/definitions";
import { renderMetrics } from "../src/metrics/exposition";
import { formatLabels, metricsStore } from "../src/metrics/record";
import { ADMIN_TOKEN, createUser, request, waitForMessage } from "./helpers";

/** One sample line: a name, optional labels, and a number. */
const SAMPLE_LINE =
	/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;

async function scrape(): Promise<string> {
	const res = await request("GET", "/metrics", { token: ADMIN_TOKEN });
	expect(res.status).toBe(200);
	return res.text();
}

/** Returns the value of the sample with exactly these labels, or 0 when absent. */
function sampleValue(
	text: string,
	name: string,
	labels: Record<string, string> = {},
): number {
	const expected = Object.entries(labels)
		.map(([key, value]) => `${key}="${value}"`)
		.sort()
		.join(",");
	for (const line of text.split("\n")) {
		const match = SAMPLE_LINE.exec(line);
		if (!match || match[1] !== name) continue;
		const found = (match[2] ?? "").split(",").filter(Boolean).sort().join(",");
		if (found === expected) return Number(match[3]);
	}
	return 0;
}

/** Polls /metrics until `read` returns at least `minimum`. */
async function waitForValue(
	read: (text: string) => number,
	minimum: number,
): Promise<number> {
	let value = 0;
	await expect
		.poll(
			async () => {
				value = read(await scrape());
				return value;
			},
			{ timeout: 10_000, interval: 100 },
		)
		.toBeGreaterThanOrEqual(minimum);
	return value;
}

describe("GET /metrics", () => {
	it("rejects a request without the admin token", async () => {
		const user = await createUser("metrics reader");
		const anonymous = await request("GET", "/metrics");
		expect(anonymous.status).toBe(401);
		const client = await request("GET", "/metrics", { token: user.apiKey });
		expect(client.status).toBe(403);
	});

	it("serves the Prometheus text format", async () => {
		const res = await request("GET", "/metrics", { token: ADMIN_TOKEN });
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toBe(
			"text/plain; version=0.0.4; charset=utf-8",
		);
		const text = await res.text();
		expect(text.endsWith("\n")).toBe(true);

		for (const [name, metric] of Object.entries(METRICS)) {
			expect(text).toContain(`# HELP ${name} `);
			expect(text).toContain(`# TYPE ${name} ${metric.type}\n`);
			if (metric.type === "counter") expect(name).toMatch(/_total$/);
		}
		const malformed = text
			.split("\n")
			.filter((line) => line !== "" && !line.startsWith("# "))
			.filter((line) => !SAMPLE_LINE.test(line));
		expect(malformed).toEqual([]);
	});

	it("counts messages by direction and status from D1", async () => {
		const text = await scrape();
		const rows = await env.DB.prepare(
			"select direction, status, count(*) as total from messages group by direction, status",
		).all<{ direction: string; status: string; total: number }>();
		for (const row of rows.results) {
			const labels = { direction: row.direction, status: row.status };
			expect(sampleValue(text, "edge_sms_messages", labels)).toBe(row.total);
		}
		// Known statuses with no rows read 0 rather than vanish.
		expect(text).toMatch(
			/^edge_sms_messages\{direction="outbound",status="canceled"\} \d+$/m,
		);
	});
});

describe("recorded metrics", () => {
	it("counts a permanent Twilio failure and its dead letter", async () => {
		const before = await scrape();
		const user = await createUser("metrics sender");
		const res = await request("POST", "/v1/messages", {
			token: user.apiKey,
			json: { to: "+15005550001", body: "metrics: invalid number" },
		});
		expect(res.status).toBe(202);
		const { id } = (await res.json()) as { id: string };
		await waitForMessage(user.apiKey, id, (m) => m.status === "failed");

		const permanent = { outcome: "permanent", error_code: "21211" };
		const permanentBefore = sampleValue(
			before,
			"edge_sms_twilio_requests_total",
			permanent,
		);
		await waitForValue(
			(text) => sampleValue(text, "edge_sms_twilio_requests_total", permanent),
			permanentBefore + 1,
		);

		const consumer = { source: "consumer" };
		await waitForValue(
			(text) => sampleValue(text, "edge_sms_dead_letters_total", consumer),
			sampleValue(before, "edge_sms_dead_letters_total", consumer) + 1,
		);

		const after = await scrape();
		expect(
			sampleValue(after, "edge_sms_dead_letters_stored", {
				replayed: "false",
			}),
		).toBeGreaterThanOrEqual(1);
	});

	it("observes the duration of each queue batch", async () => {
		const queue = { queue: "sms-outbound" };
		const before = await scrape();
		const countBefore = sampleValue(
			before,
			"edge_sms_queue_batch_duration_seconds_count",
			queue,
		);
		const user = await createUser("metrics batch");
		const res = await request("POST", "/v1/messages", {
			token: user.apiKey,
			json: { to: "+14155550123", body: "metrics: delivered" },
		});
		expect(res.status).toBe(202);

		const count = await waitForValue(
			(text) =>
				sampleValue(text, "edge_sms_queue_batch_duration_seconds_count", queue),
			countBefore + 1,
		);
		const text = await scrape();
		const infinity = sampleValue(
			text,
			"edge_sms_queue_batch_duration_seconds_bucket",
			{ ...queue, le: "+Inf" },
		);
		expect(infinity).toBeGreaterThanOrEqual(count);

		// Buckets are cumulative, so each counts at least as many as the one before.
		const buckets = METRICS.edge_sms_queue_batch_duration_seconds.buckets.map(
			(le) =>
				sampleValue(text, "edge_sms_queue_batch_duration_seconds_bucket", {
					...queue,
					le: String(le),
				}),
		);
		for (let i = 1; i < buckets.length; i++) {
			expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1] ?? 0);
		}
		expect(buckets.at(-1)).toBeLessThanOrEqual(infinity);
	});

	it("counts webhook signature failures", async () => {
		const labels = { path: "/twilio/status", reason: "missing_signature" };
		const before = sampleValue(
			await scrape(),
			"edge_sms_webhook_signature_failures_total",
			labels,
		);
		const res = await request("POST", "/twilio/status", {
			headers: { "Content-Type": "application/x-www-form-urlencoded" },
		});
		expect(res.status).toBe(403);
		await waitForValue(
			(text) =>
				sampleValue(text, "edge_sms_webhook_signature_failures_total", labels),
			before + 1,
		);
	});

	it("counts rate-limit rejections by limit", async () => {
		const labels = { limit: "user" };
		const before = sampleValue(
			await scrape(),
			"edge_sms_rate_limit_rejections_total",
			labels,
		);
		const user = await createUser("metrics limited", {
			capacity: 1,
			refillPerSecond: 0,
		});
		const send = () =>
			request("POST", "/v1/messages", {
				token: user.apiKey,
				json: { to: "+14155550124", body: "metrics: rate limit" },
			});
		expect((await send()).status).toBe(202);
		expect((await send()).status).toBe(429);
		await waitForValue(
			(text) =>
				sampleValue(text, "edge_sms_rate_limit_rejections_total", labels),
			before + 1,
		);
	});

	it("keeps counters in the Durable Object", async () => {
		const text = await scrape();
		const stored = await metricsStore(env).snapshot();
		const webhook = stored.find(
			(sample) =>
				sample.name === "edge_sms_webhook_signature_failures_total" &&
				sample.labels === 'path="/twilio/status",reason="missing_signature"',
		);
		expect(webhook).toBeDefined();
		expect(
			sampleValue(text, "edge_sms_webhook_signature_failures_total", {
				path: "/twilio/status",
				reason: "missing_signature",
			}),
		).toBe(webhook?.value);
	});
});

describe("exposition", () => {
	it("escapes label values", () => {
		const labels = formatLabels("edge_sms_webhook_signature_failures_total", {
			path: 'a"b\\c\nd',
			reason: "x",
		});
		expect(labels).toBe('path="a\\"b\\\\c\\nd",reason="x"');
	});

	it("orders histogram buckets and ends with sum and count", () => {
		const name = "edge_sms_queue_batch_duration_seconds";
		const labels = 'queue="q"';
		const text = renderMetrics([
			{ name: `${name}_count`, labels, le: "", value: 2 },
			{ name: `${name}_bucket`, labels, le: "+Inf", value: 2 },
			{ name: `${name}_bucket`, labels, le: "10", value: 2 },
			{ name: `${name}_bucket`, labels, le: "0.5", value: 1 },
			{ name: `${name}_sum`, labels, le: "", value: 3.5 },
		]);
		const lines = text.split("\n").filter((line) => line.startsWith(name));
		expect(lines).toEqual([
			`${name}_bucket{queue="q",le="0.5"} 1`,
			`${name}_bucket{queue="q",le="10"} 2`,
			`${name}_bucket{queue="q",le="+Inf"} 2`,
			`${name}_sum{queue="q"} 3.5`,
			`${name}_count{queue="q"} 2`,
		]);
	});
});
