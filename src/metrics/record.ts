// Recording side of the metrics. Calls add to a buffer of this isolate, and
// the worker's fetch, queue and scheduled handlers (src/index.ts) send the
// buffer to the MetricsStore Durable Object once per request, batch or cron
// run. So a request that records nothing costs nothing, and one that records
// several increments makes one RPC, after its response (ctx.waitUntil).
//
// The buffer is shared by the requests that run at the same time in one
// isolate, so a flush may carry another request's samples. That request's
// own flush then finds less to send, and no sample is sent twice.

import { log } from "../lib/log";
import {
	type CounterName,
	type HistogramName,
	type LabelsOf,
	METRICS,
	type MetricName,
} from "./definitions";

/** One stored number: a counter, or a histogram's bucket, sum or count. */
export interface MetricSample {
	/** The sample's name, with `_bucket`, `_sum` or `_count` for a histogram. */
	name: string;
	/** Labels in exposition form, such as `queue="sms-outbound"`, without `le`. */
	labels: string;
	/** A histogram bucket's upper bound, such as `0.5` or `+Inf`; otherwise empty. */
	le: string;
	value: number;
}

const pending = new Map<string, MetricSample>();

function addSample(name: string, labels: string, le: string, value: number) {
	const key = `${name}{${labels}}${le}`;
	const sample = pending.get(key);
	if (sample) sample.value += value;
	else pending.set(key, { name, labels, le, value });
}

/** Adds `by` (default 1) to a counter. */
export function countMetric<N extends CounterName>(
	name: N,
	labels: LabelsOf<N>,
	by = 1,
): void {
	addSample(name, formatLabels(name, labels), "", by);
}

/** Records one observation of a histogram, such as a duration in seconds. */
export function observeMetric<N extends HistogramName>(
	name: N,
	labels: LabelsOf<N>,
	value: number,
): void {
	const rendered = formatLabels(name, labels);
	// Every bucket is written, with 0 where the value is above it, so that
	// each series has its full set of buckets in the exposition.
	for (const bound of METRICS[name].buckets) {
		addSample(
			`${name}_bucket`,
			rendered,
			String(bound),
			value <= bound ? 1 : 0,
		);
	}
	addSample(`${name}_bucket`, rendered, "+Inf", 1);
	addSample(`${name}_sum`, rendered, "", value);
	addSample(`${name}_count`, rendered, "", 1);
}

/** Returns the stub of the one object that keeps every counter. */
export function metricsStore(env: Env) {
	return env.METRICS.getByName("deployment");
}

/**
 * Sends the buffered samples to the MetricsStore. When the call fails they
 * go back into the buffer for the next flush. A call that failed after the
 * object applied it is then counted twice, which is the price of never
 * losing an increment to a transient error.
 */
export async function flushMetrics(env: Env): Promise<void> {
	if (pending.size === 0) return;
	const samples = [...pending.values()];
	pending.clear();
	try {
		await metricsStore(env).add(samples);
	} catch (error) {
		for (const s of samples) addSample(s.name, s.labels, s.le, s.value);
		log.warn("metrics_flush_failed", { samples: samples.length, error });
	}
}

/** Formats labels in the metric's declared order: `a="1",b="x"`. */
export function formatLabels(
	name: MetricName,
	labels: Record<string, string | number>,
): string {
	return METRICS[name].labels
		.map((label) => `${label}="${escapeLabelValue(String(labels[label]))}"`)
		.join(",");
}

/** Escapes a label value as the Prometheus text format requires. */
export function escapeLabelValue(value: string): string {
	return value
		.replaceAll("\\", "\\\\")
		.replaceAll('"', '\\"')
		.replaceAll("\n", "\\n");
}
