import type { Context } from "hono";
import { toSeconds } from "./config";

/**
 * The delay reported by RateLimit-Reset and Retry-After for a bucket that
 * never refills (refillPerSecond 0): one day, because only an admin raising
 * the limit brings tokens back.
 */
export const NO_REFILL_RETRY_SECONDS = 86_400;

/** Converts a delay in ms to whole seconds; null means the bucket never refills. */
export function delaySeconds(ms: number | null): number {
	return ms === null ? NO_REFILL_RETRY_SECONDS : toSeconds(ms);
}

/** Builds the RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset headers. */
export function rateLimitHeaders(view: {
	limit: number;
	remaining: number;
	resetMs: number | null;
}): Record<string, string> {
	return {
		"RateLimit-Limit": String(view.limit),
		"RateLimit-Remaining": String(view.remaining),
		"RateLimit-Reset": String(delaySeconds(view.resetMs)),
	};
}

/**
 * Sets headers on the response a handler already produced. A response with
 * immutable headers, such as one from the Cache API or fetch, is copied first.
 */
export function setResponseHeaders(
	c: Context,
	headers: Record<string, string>,
): void {
	let response = c.res;
	try {
		for (const [name, value] of Object.entries(headers)) {
			response.headers.set(name, value);
		}
	} catch {
		response = new Response(response.body, response);
		for (const [name, value] of Object.entries(headers)) {
			response.headers.set(name, value);
		}
		c.res = response;
	}
}
