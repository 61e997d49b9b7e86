// The limit on accepted sends across all users, split over N token buckets
// ("shards") because one Durable Object serialises its calls and handles
// roughly a thousand a second. Each request goes to a shard picked at random,
// and each shard enforces 1/N of the rate.
//
// Error bound, for R sends per second over N shards: a shard refills
// floor(R/N) per second to 3 decimals and bursts ceil(R/N), so over any T
// seconds at most R·T + N·ceil(R/N) sends pass, at most N - 1 more than one
// bucket of capacity R would admit. The limit is never exceeded beyond that.
// The other direction is looser: a request is rejected when its own shard is
// empty even if other shards still hold tokens. At a steady random load equal
// to R, about N / (2R) of requests are rejected early by that (an estimate
// from simulating Poisson arrivals; 0.4% for R = 1000, N = 8); below 80% of R
// next to none are, and above R the full rate R passes.

import { readWholeNumber } from "./config";
import type { BucketRule, TakeResult } from "./token-bucket";

export const DEFAULT_GLOBAL_RATE_PER_SECOND = 1000;
export const DEFAULT_GLOBAL_SHARDS = 8;

export interface GlobalLimit {
	/** Accepted sends per second across all users. */
	ratePerSecond: number;
	shards: number;
	/** The rule of each shard. */
	shardRule: BucketRule;
}

/** Reads the global limit from the vars; null when it is disabled (rate 0). */
export function globalLimit(env: Env): GlobalLimit | null {
	const ratePerSecond = readWholeNumber(
		"GLOBAL_RATE_LIMIT_PER_SECOND",
		env.GLOBAL_RATE_LIMIT_PER_SECOND,
		DEFAULT_GLOBAL_RATE_PER_SECOND,
	);
	if (ratePerSecond === 0) return null;
	const shards = Math.max(
		1,
		readWholeNumber(
			"GLOBAL_RATE_LIMIT_SHARDS",
			env.GLOBAL_RATE_LIMIT_SHARDS,
			DEFAULT_GLOBAL_SHARDS,
			1000,
		),
	);
	const milliRatePerShard = Math.floor((ratePerSecond * 1000) / shards);
	return {
		ratePerSecond,
		shards,
		shardRule: {
			capacity: Math.max(1, Math.ceil(ratePerSecond / shards)),
			refillPerSecond: milliRatePerShard / 1000,
		},
	};
}

export interface GlobalCharge {
	result: TakeResult;
	/** Returns the send to its shard when the request stored nothing. */
	refund(): Promise<void>;
}

/** Takes one send from a random shard of the global limit. */
export async function takeGlobalSend(
	env: Env,
	limit: GlobalLimit,
): Promise<GlobalCharge> {
	const shard = Math.floor(Math.random() * limit.shards);
	const stub = env.RATE_LIMITER.getByName(`global:${shard}`);
	const result = await stub.take(1, limit.shardRule);
	return {
		result,
		refund: async () => {
			await stub.refund(1, limit.shardRule);
		},
	};
}
