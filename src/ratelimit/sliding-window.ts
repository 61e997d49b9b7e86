// A sliding-window log: a request is admitted when fewer than `limit`
// requests were admitted in the `windowMs` milliseconds before it. The window
// ending at `now` is (now - windowMs, now], so a request exactly windowMs old
// no longer counts, and any windowMs-long interval contains at most `limit`
// admitted requests. Rejected requests are not recorded, so a client that
// keeps knocking is admitted again as soon as its old requests expire.

export interface WindowRule {
	/** Requests admitted per window, at least 1. */
	limit: number;
	windowMs: number;
}

export interface WindowResult {
	allowed: boolean;
	limit: number;
	/** Requests still admitted in the current window. */
	remaining: number;
	/** Milliseconds until the oldest counted request expires; 0 with none. */
	resetMs: number;
	/** Milliseconds until a request would be admitted; 0 when allowed. */
	retryAfterMs: number;
}

export interface WindowUpdate {
	result: WindowResult;
	/** The live hits, ascending, with this request when it was admitted. */
	hits: number[];
	/** How many of the oldest hits expired and can be deleted. */
	expired: number;
}

/**
 * Counts a request at `now` against `hits`, the ascending epoch milliseconds
 * of the requests admitted so far.
 */
export function countRequest(
	hits: readonly number[],
	now: number,
	rule: WindowRule,
): WindowUpdate {
	// A clock that steps back records at the latest hit, keeping `hits` sorted.
	const at = Math.max(now, hits.at(-1) ?? now);
	// Hits at or before the cutoff have left the window.
	const cutoff = at - rule.windowMs;
	let expired = 0;
	while (expired < hits.length && (hits[expired] as number) <= cutoff) {
		expired++;
	}
	const live = hits.slice(expired);

	const allowed = live.length < rule.limit;
	if (allowed) live.push(at);
	const oldest = live[0];
	// A rejected request would be admitted once the hit at index
	// live.length - limit expires. More than `limit` hits are live only after
	// the limit was lowered.
	const blocking = live[live.length - rule.limit];
	const result: WindowResult = {
		allowed,
		limit: rule.limit,
		remaining: Math.max(0, rule.limit - live.length),
		resetMs: oldest === undefined ? 0 : oldest + rule.windowMs - at,
		retryAfterMs:
			allowed || blocking === undefined ? 0 : blocking + rule.windowMs - at,
	};
	return { result, hits: live, expired };
}
