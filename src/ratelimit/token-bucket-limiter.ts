import { DurableObject } from "cloudflare:workers";
import {
	type BucketRule,
	type BucketState,
	type BucketView,
	refill,
	returnTokens,
	type TakeResult,
	takeTokens,
	viewBucket,
} from "./token-bucket";

const STATE_KEY = "bucket";

/**
 * One token bucket: a user's send limit or one shard of the global limit.
 * The caller passes the rule with every call, so a changed limit applies on
 * the next request. Every method is synchronous, so calls never interleave.
 * The state is written to SQLite storage before the result is returned, so
 * an evicted or restarted object resumes with the same tokens.
 */
export class TokenBucketLimiter extends DurableObject<Env> {
	/** Takes `cost` whole tokens, or rejects and stores nothing. */
	take(cost: number, rule: BucketRule): TakeResult {
		const { result, state } = takeTokens(this.#load(), rule, Date.now(), cost);
		if (result.allowed) this.ctx.storage.kv.put(STATE_KEY, state);
		return result;
	}

	/** Returns `cost` tokens taken for a request that stored nothing. */
	refund(cost: number, rule: BucketRule): BucketView {
		const state = returnTokens(this.#load(), rule, Date.now(), cost);
		this.ctx.storage.kv.put(STATE_KEY, state);
		return viewBucket(state, rule);
	}

	/** Describes the bucket without spending or storing anything. */
	peek(rule: BucketRule): BucketView {
		return viewBucket(refill(this.#load(), rule, Date.now()), rule);
	}

	#load(): BucketState | undefined {
		return this.ctx.storage.kv.get<BucketState>(STATE_KEY);
	}
}
