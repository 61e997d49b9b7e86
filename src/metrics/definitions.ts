// Every metric that GET /metrics exposes. Recording calls name a metric from
// this table, so a misspelt name or a missing label fails to compile.
//
// Label values come from code (statuses, Twilio error codes, limit names),
// never from request input, so the number of series stays small.

/** Upper bounds, in seconds, of the batch-duration histogram's buckets. */
export const BATCH_DURATION_BUCKETS = [
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

export const METRICS = {
	edge_sms_messages: {
		type: "gauge",
		help: "Stored messages by status and direction, counted in D1 at scrape time.",
		labels: ["direction", "status"],
	},
	edge_sms_dead_letters_stored: {
		type: "gauge",
		help: "Stored dead letters, counted in D1 at scrape time; replayed is true once POST /v1/dead-letters/{id}/replay sent one again.",
		labels: ["replayed"],
	},
	edge_sms_twilio_requests_total: {
		type: "counter",
		help: "Twilio create-message calls by the queue consumer, by outcome (created, retry, ambiguous, permanent) and Twilio error code (none when the error response had no code).",
		labels: ["outcome", "error_code"],
	},
	edge_sms_send_retries_total: {
		type: "counter",
		help: "Send jobs put back on the queue with a delay, by reason: retry (Twilio rate limit or full queue), ambiguous (5xx, timeout or network error), error (an unexpected failure in the consumer).",
		labels: ["reason"],
	},
	edge_sms_dead_letters_total: {
		type: "counter",
		help: "Dead letters recorded, by who reported the failure: consumer (permanent Twilio error), dead-letter-queue (retries exhausted), twilio (failed or undelivered callback), sweep (status fetched by the cron sweep).",
		labels: ["source"],
	},
	edge_sms_rate_limit_rejections_total: {
		type: "counter",
		help: "Requests rejected with 429, by limit: user (a user's send bucket), global (sends across all users), ip_api, ip_webhook, ip_media (per-IP windows).",
		labels: ["limit"],
	},
	edge_sms_webhook_signature_failures_total: {
		type: "counter",
		help: "Twilio webhooks rejected with 403, by path and reason (missing_signature, invalid_signature).",
		labels: ["path", "reason"],
	},
	edge_sms_queue_batch_duration_seconds: {
		type: "histogram",
		help: "Wall time of one queue consumer invocation, by queue. Workers advance the clock only across I/O, so pure CPU time is not included.",
		labels: ["queue"],
		buckets: BATCH_DURATION_BUCKETS,
	},
} as const satisfies Record<string, MetricDefinition>;

export interface MetricDefinition {
	type: "counter" | "gauge" | "histogram";
	help: string;
	labels: readonly string[];
	buckets?: readonly number[];
}

type Metrics = typeof METRICS;

export type MetricName = keyof Metrics;

export type CounterName = {
	[N in MetricName]: Metrics[N]["type"] extends "counter" ? N : never;
}[MetricName];

export type HistogramName = {
	[N in MetricName]: Metrics[N]["type"] extends "histogram" ? N : never;
}[MetricName];

/** The labels of metric `N`, every one required. */
export type LabelsOf<N extends MetricName> = Record<
	Metrics[N]["labels"][number],
	string | number
>;
