// The Prometheus text exposition format, version 0.0.4: a HELP and a TYPE
// line per metric family, then one line per sample.

import { METRICS, type MetricDefinition } from "./definitions";
import type { MetricSample } from "./record";

export const PROMETHEUS_CONTENT_TYPE =
	"text/plain; version=0.0.4; charset=utf-8";

/** Renders every metric of METRICS from `samples`, in the table's order. */
export function renderMetrics(samples: MetricSample[]): string {
	const lines: string[] = [];
	for (const [name, definition] of Object.entries(METRICS)) {
		const metric: MetricDefinition = definition;
		lines.push(`# HELP ${name} ${escapeHelp(metric.help)}`);
		lines.push(`# TYPE ${name} ${metric.type}`);
		if (metric.type === "histogram") {
			lines.push(...histogramLines(name, samples));
		} else {
			for (const sample of samples) {
				if (sample.name === name) lines.push(sampleLine(sample));
			}
		}
	}
	return `${lines.join("\n")}\n`;
}

/** Lists each series' buckets in ascending `le` order, then its sum and count. */
function histogramLines(name: string, samples: MetricSample[]): string[] {
	const series = new Map<string, MetricSample[]>();
	for (const sample of samples) {
		if (!sample.name.startsWith(`${name}_`)) continue;
		const group = series.get(sample.labels) ?? [];
		group.push(sample);
		series.set(sample.labels, group);
	}

	const lines: string[] = [];
	for (const group of series.values()) {
		const buckets = group
			.filter((sample) => sample.name === `${name}_bucket`)
			.sort((a, b) => bucketBound(a.le) - bucketBound(b.le));
		for (const bucket of buckets) lines.push(sampleLine(bucket));
		for (const suffix of ["_sum", "_count"]) {
			const total = group.find((sample) => sample.name === name + suffix);
			if (total) lines.push(sampleLine(total));
		}
	}
	return lines;
}

function bucketBound(le: string): number {
	return le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
}

function sampleLine(sample: MetricSample): string {
	const labels = [sample.labels, sample.le ? `le="${sample.le}"` : ""]
		.filter(Boolean)
		.join(",");
	const value = formatValue(sample.value);
	return labels
		? `${sample.name}{${labels}} ${value}`
		: `${sample.name} ${value}`;
}

function formatValue(value: number): string {
	if (Number.isNaN(value)) return "NaN";
	if (value === Number.POSITIVE_INFINITY) return "+Inf";
	if (value === Number.NEGATIVE_INFINITY) return "-Inf";
	return String(value);
}

function escapeHelp(text: string): string {
	return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}
