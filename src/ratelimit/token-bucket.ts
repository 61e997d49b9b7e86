// Token bucket arithmetic in integers, so any number of small refills adds up
// to exactly the refill of one long interval.
//
// Tokens are counted in micro-tokens and time in whole milliseconds. A refill
// rate has at most 3 decimals (RateLimitSchema enforces it), so the rate in
// micro-tokens per millisecond, refillPerSecond × 1000, is an integer, and so
// is the refill of any whole number of milliseconds. Capacities up to 10^6
// tokens stay far below Number.MAX_SAFE_INTEGER in micro-tokens.

export const MICRO_TOKENS_PER_TOKEN = 1_000_000;

export interface BucketRule {
	/** Whole tokens; the largest burst. */
	capacity: number;
	/** Tokens added per second, at most 3 decimals; 0 means no refill. */
	refillPerSecond: number;
}

export interface BucketState {
	microTokens: number;
	/** Epoch milliseconds of the last refill. */
	updatedAt: number;
	/**
	 * The rule the bucket refilled under up to `updatedAt`. State stored before
	 * the rule was recorded lacks it, and counts as refilled under the rule of
	 * the call that loads it.
	 */
	rule?: BucketRule;
}

/** The part of a bucket's state that clients see. */
export interface BucketView {
	/** The capacity in whole tokens. */
	limit: number;
	/** Whole tokens left. */
	remaining: number;
	/** Milliseconds until one more whole token; 0 when full, null with no refill. */
	resetMs: number | null;
}

export interface TakeResult extends BucketView {
	allowed: boolean;
	/**
	 * Milliseconds until the bucket contains the requested cost: 0 when allowed,
	 * null when it never will (no refill, or a cost above the capacity).
	 */
	retryAfterMs: number | null;
}

function capacityMicro(rule: BucketRule): number {
	return rule.capacity * MICRO_TOKENS_PER_TOKEN;
}

/** Converts the refill rate to micro-tokens per millisecond, an integer. */
export function refillMicroPerMs(rule: BucketRule): number {
	// Math.round undoes binary floating-point error, as in 0.007 * 1000.
	return Math.round(rule.refillPerSecond * 1000);
}

function sameRule(a: BucketRule, b: BucketRule): boolean {
	return (
		a.capacity === b.capacity && refillMicroPerMs(a) === refillMicroPerMs(b)
	);
}

/**
 * Returns true when `state` was refilled under a rule other than `rule`, or
 * under an unrecorded one. `refill` then switches the bucket to `rule`, and
 * the caller must store the result even on a read, because the next call
 * would otherwise refill the time since the switch under the old rule.
 */
export function switchesRule(
	state: BucketState | undefined,
	rule: BucketRule,
): boolean {
	return state !== undefined && !(state.rule && sameRule(state.rule, rule));
}

/** Refills `state` under `rule` up to `now`, capped at the rule's capacity. */
function refillUnder(
	state: BucketState,
	rule: BucketRule,
	now: number,
): BucketState {
	const capacity = capacityMicro(rule);
	// A clock that steps back adds nothing and keeps the later timestamp.
	const updatedAt = Math.max(state.updatedAt, now);
	const elapsed = updatedAt - state.updatedAt;
	const missing = capacity - state.microTokens;
	if (missing <= 0) return { microTokens: capacity, updatedAt };

	const rate = refillMicroPerMs(rule);
	// Comparing times first keeps elapsed × rate small: a bucket idle for
	// days would otherwise pass 2^53 micro-tokens.
	if (rate > 0 && elapsed >= Math.ceil(missing / rate)) {
		return { microTokens: capacity, updatedAt };
	}
	return { microTokens: state.microTokens + elapsed * rate, updatedAt };
}

/**
 * Returns the bucket at `now` under `rule`: full when it has no state yet,
 * otherwise refilled for the time since `updatedAt`. That time refills under
 * the rule stored with the state, so a changed rule applies from this call
 * on and never to the past. Tokens earned so far are kept, down to the new
 * capacity when it is lower.
 */
export function refill(
	state: BucketState | undefined,
	rule: BucketRule,
	now: number,
): BucketState {
	const current = {
		capacity: rule.capacity,
		refillPerSecond: rule.refillPerSecond,
	};
	if (!state) {
		return { microTokens: capacityMicro(rule), updatedAt: now, rule: current };
	}
	const settled = refillUnder(state, state.rule ?? rule, now);
	return {
		microTokens: Math.min(settled.microTokens, capacityMicro(rule)),
		updatedAt: settled.updatedAt,
		rule: current,
	};
}

function msUntil(
	state: BucketState,
	rule: BucketRule,
	targetMicro: number,
): number | null {
	const missing = targetMicro - state.microTokens;
	if (missing <= 0) return 0;
	const rate = refillMicroPerMs(rule);
	return rate === 0 ? null : Math.ceil(missing / rate);
}

/** Describes a bucket that `refill` has brought up to date. */
export function viewBucket(state: BucketState, rule: BucketRule): BucketView {
	const remaining = Math.floor(state.microTokens / MICRO_TOKENS_PER_TOKEN);
	const full = state.microTokens >= capacityMicro(rule);
	return {
		limit: rule.capacity,
		remaining,
		resetMs: full
			? 0
			: msUntil(state, rule, (remaining + 1) * MICRO_TOKENS_PER_TOKEN),
	};
}

/**
 * Takes `cost` whole tokens if the bucket contains them at `now`. A rejected
 * take returns the state refilled to `now`, which the caller needs to store
 * only when `switchesRule` returns true.
 */
export function takeTokens(
	state: BucketState | undefined,
	rule: BucketRule,
	now: number,
	cost: number,
): { result: TakeResult; state: BucketState } {
	const current = refill(state, rule, now);
	const costMicro = cost * MICRO_TOKENS_PER_TOKEN;
	if (current.microTokens < costMicro) {
		const retryAfterMs =
			cost > rule.capacity ? null : msUntil(current, rule, costMicro);
		return {
			result: { ...viewBucket(current, rule), allowed: false, retryAfterMs },
			state: current,
		};
	}

	const next = { ...current, microTokens: current.microTokens - costMicro };
	return {
		result: { ...viewBucket(next, rule), allowed: true, retryAfterMs: 0 },
		state: next,
	};
}

/** Returns `cost` tokens taken earlier, up to the capacity. */
export function returnTokens(
	state: BucketState | undefined,
	rule: BucketRule,
	now: number,
	cost: number,
): BucketState {
	const current = refill(state, rule, now);
	const microTokens = Math.min(
		capacityMicro(rule),
		current.microTokens + cost * MICRO_TOKENS_PER_TOKEN,
	);
	return { ...current, microTokens };
}
