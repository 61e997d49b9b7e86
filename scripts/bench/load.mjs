// Fixed-duration HTTP load with autocannon, reduced to the few numbers the
// report shows. Every run is bounded by its duration and a per-request
// timeout, and stops by itself.

import autocannon from "autocannon";

function percentile(sorted, fraction) {
	if (sorted.length === 0) return null;
	const index = Math.ceil(fraction * sorted.length) - 1;
	return sorted[Math.min(sorted.length - 1, Math.max(0, index))];
}

/**
 * Runs `connections` closed-loop connections against `url` for `seconds`.
 * Returns the count of responses with `expectStatus` and of all others, and
 * the latency of every response in milliseconds.
 */
export async function runLoadSlice({
	url,
	method = "GET",
	headers = {},
	body,
	seconds,
	connections,
	expectStatus,
}) {
	const latencies = [];
	const instance = autocannon({
		url,
		method,
		headers,
		body,
		duration: seconds,
		connections,
		// A request that takes this long counts as an error, not a sample.
		timeout: 10,
	});
	instance.on("response", (_client, _status, _bytes, responseTime) => {
		latencies.push(responseTime);
	});
	const result = await instance;
	const statusCounts = {};
	for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
		statusCounts[code] = stats.count;
	}
	const expected = statusCounts[expectStatus] ?? 0;
	return {
		seconds: result.duration,
		requests: result.requests.total,
		expected,
		unexpected: result.requests.total - expected,
		statusCounts,
		errors: result.errors,
		latencies,
	};
}

/** Adds up slices of one test into its totals and latency percentiles. */
export function combineSlices(slices, connections) {
	const sum = (key) => slices.reduce((total, slice) => total + slice[key], 0);
	const statusCounts = {};
	for (const slice of slices) {
		for (const [code, count] of Object.entries(slice.statusCounts)) {
			statusCounts[code] = (statusCounts[code] ?? 0) + count;
		}
	}
	const latencies = slices
		.flatMap((slice) => slice.latencies)
		.sort((a, b) => a - b);
	const seconds = sum("seconds");
	const expected = sum("expected");
	return {
		connections,
		slices: slices.length,
		seconds,
		requests: sum("requests"),
		expected,
		unexpected: sum("unexpected"),
		errors: sum("errors"),
		statusCounts,
		requestsPerSecond: expected / seconds,
		latencyMs: {
			p50: percentile(latencies, 0.5),
			p99: percentile(latencies, 0.99),
			max: latencies.at(-1) ?? null,
		},
	};
}

/** Runs one fixed-duration test in a single slice. */
export async function runLoad(options) {
	const slice = await runLoadSlice(options);
	return combineSlices([slice], options.connections);
}
