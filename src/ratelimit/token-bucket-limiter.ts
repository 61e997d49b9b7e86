import { DurableObject } from "cloudflare:workers";
import {
	type BucketRule,
	type BucketState,
	type BucketView,
	refill,
	returnTokens,
	switchesRule,
	type TakeResult,
	takeTokens,
	viewBucket,
} from "./token-bucket";

/** The storage key of the bucket's state. */
export const BUCKET_STATE_KEY = "bucket";

/**
 * One token bucket: a user's send limit or one shard of the global limit.
 * The caller passes the rule with every call. The state records the rule it
 * was last refilled under, so a call with a changed rule first refills the
 * time before it under the old rule and then switches. The change applies
 * from that call on. Every method is synchronous, so calls never interleave.
 * The state is written to SQLite storage before the result is returned, so
 * an evicted or restarted object resumes with the same tokens.
 */
export class TokenBucketLimiter extends DurableObject<Env> {
	/**
	 * Takes `cost` whole tokens, or rejects. A rejection stores nothing
	 * unless the rule changed.
	 */
	take(cost: number, rule: BucketRule): TakeResult {
		const stored = this.#load();
		const { result, state } = takeTokens(stored, rule, Date.now(), cost);
		if (result.allowed || switchesRule(stored, rule)) this.#store(state);
		return result;
	}

	/** Returns `cost` tokens taken for a request that stored nothing. */
	refund(cost: number, rule: BucketRule): BucketView {
		const state = returnTokens(this.#load(), rule, Date.now(), cost);
		this.#store(state);
		return viewBucket(state, rule);
	}

	/**
	 * Describes the bucket without spending anything. It stores the state
	 * only when the rule changed.
	 */
	peek(rule: BucketRule): BucketView {
		const stored = this.#load();
		const state = refill(stored, rule, Date.now());
		if (switchesRule(stored, rule)) this.#store(state);
		return viewBucket(state, rule);
	}

	#load(): BucketState | undefined {
		return this.ctx.storage.kv.get<BucketState>(BUCKET_STATE_KEY);
	}

	#store(state: BucketState): void {
		this.ctx.storage.kv.put(BUCKET_STATE_KEY, state);
	}
}
