// Per-IP sliding windows for traffic that is not (yet) authenticated: API
// requests with a missing or unknown key, Twilio webhooks before their
// signature is checked, and media downloads. Each scope and address has its
// own Durable Object, so an address over one limit is not blocked in another.

import { createMiddleware } from "hono/factory";
import { ApiError } from "../api/errors";
import { countMetric } from "../metrics/record";
import { readWholeNumber, toSeconds } from "./config";
import { rateLimitHeaders, setResponseHeaders } from "./headers";
import type { WindowResult, WindowRule } from "./sliding-window";

export type IpScope = "api" | "webhook" | "media";

/** The key of every request without CF-Connecting-IP, as in local tests. */
export const UNKNOWN_IP = "unknown";

export const DEFAULT_IP_WINDOW_SECONDS = 60;

/**
 * Requests per window for each scope, and the var that overrides it. Twilio
 * sends webhooks and fetches MMS media from a few shared addresses, so those
 * scopes allow far more than API requests without a valid key.
 */
const SCOPE_LIMITS = {
	api: { name: "IP_WINDOW_LIMIT", fallback: 60 },
	webhook: { name: "WEBHOOK_IP_WINDOW_LIMIT", fallback: 6000 },
	media: { name: "MEDIA_IP_WINDOW_LIMIT", fallback: 6000 },
} as const satisfies Record<IpScope, { name: keyof Env; fallback: number }>;

/** Reads the scope's rule from the vars; null when its limit is 0 (off). */
export function ipWindowRule(env: Env, scope: IpScope): WindowRule | null {
	const { name, fallback } = SCOPE_LIMITS[scope];
	const limit = readWholeNumber(name, env[name], fallback);
	if (limit === 0) return null;
	const seconds = readWholeNumber(
		"IP_WINDOW_SECONDS",
		env.IP_WINDOW_SECONDS,
		DEFAULT_IP_WINDOW_SECONDS,
		86_400,
	);
	return { limit, windowMs: Math.max(1, seconds) * 1000 };
}

/**
 * Returns the client address Cloudflare's edge reports. The header cannot be
 * set by a client on a request that passed through Cloudflare.
 */
export function clientIp(request: Request): string {
	return request.headers.get("CF-Connecting-IP")?.trim() || UNKNOWN_IP;
}

function ipLimitError(rule: WindowRule, result: WindowResult): ApiError {
	const retryAfter = Math.max(1, toSeconds(result.retryAfterMs));
	return new ApiError(
		429,
		"rate_limited",
		`Too many requests from this IP address: at most ${rule.limit} in ${rule.windowMs / 1000} seconds. Retry after ${retryAfter} seconds.`,
		{
			headers: {
				...rateLimitHeaders(result),
				"Retry-After": String(retryAfter),
			},
		},
	);
}

/**
 * Counts the request against its IP address in `scope`. Throws a 429
 * ApiError once the address is over the limit; otherwise returns the
 * RateLimit-* headers for the response (none when the scope is off).
 */
export async function countClientRequest(
	env: Env,
	request: Request,
	scope: IpScope,
): Promise<Record<string, string>> {
	const rule = ipWindowRule(env, scope);
	if (!rule) return {};
	const name = `${scope}:${clientIp(request)}`;
	const result = await env.IP_LIMITER.getByName(name).count(rule);
	if (!result.allowed) {
		countMetric("edge_sms_rate_limit_rejections_total", {
			limit: `ip_${scope}`,
		});
		throw ipLimitError(rule, result);
	}
	return rateLimitHeaders(result);
}

/** Middleware that applies the per-IP window of `scope` to every request. */
export function limitByClientIp(scope: IpScope) {
	return createMiddleware<{ Bindings: Env }>(async (c, next) => {
		const headers = await countClientRequest(c.env, c.req.raw, scope);
		await next();
		setResponseHeaders(c, headers);
	});
}
