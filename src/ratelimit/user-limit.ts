import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../api/context";
import { ApiError } from "../api/errors";
import { effectiveRateLimit } from "../api/users";
import type { UserRow } from "../db/schema";
import { log } from "../lib/log";
import { countSegments } from "../messages/segments";
import { countMetric } from "../metrics/record";
import { warnInvalidVar } from "./config";
import { type GlobalLimit, globalLimit, takeGlobalSend } from "./global-limit";
import { delaySeconds, rateLimitHeaders, setResponseHeaders } from "./headers";
import type { BucketRule, BucketView, TakeResult } from "./token-bucket";

/** The unit one token pays for: a message, or each segment of its text. */
export type CostUnit = "message" | "segment";

export function costUnit(env: Env): CostUnit {
	const value = env.RATE_LIMIT_COST?.trim() || "message";
	if (value === "message" || value === "segment") return value;
	warnInvalidVar("RATE_LIMIT_COST", value, '"message" or "segment"');
	return "message";
}

/** Returns the tokens a send costs: 1, or its segment count with at least 1. */
export function sendCost(env: Env, body: string | undefined): number {
	if (costUnit(env) === "message") return 1;
	return Math.max(1, countSegments(body ?? "").segments);
}

/**
 * False only when RATE_LIMITS_ENABLED is "false": sends then skip the
 * per-user and global limits, for load tests that measure the rest of the
 * accept path. Any other value, or none, keeps the limits, so a typo never
 * turns them off.
 */
export function sendLimitsEnabled(env: Env): boolean {
	return env.RATE_LIMITS_ENABLED?.trim() !== "false";
}

export function userBucketRule(env: Env, user: UserRow): BucketRule {
	return effectiveRateLimit(user, env);
}

/** Returns the stub of the user's token bucket. */
export function userBucket(env: Env, userId: string) {
	return env.RATE_LIMITER.getByName(`user:${userId}`);
}

/** Reads the user's bucket without spending a token. */
export function peekUserBucket(env: Env, user: UserRow): Promise<BucketView> {
	return userBucket(env, user.id).peek(userBucketRule(env, user));
}

/**
 * Adds the user's rate-limit headers to a response that has none, such as a
 * validation error, which is returned before any token is spent.
 */
export const userRateLimitHeaders = createMiddleware<AppEnv>(
	async (c, next) => {
		await next();
		if (!sendLimitsEnabled(c.env)) return;
		if (c.res.headers.has("RateLimit-Limit")) return;
		try {
			const view = await peekUserBucket(c.env, c.get("user"));
			setResponseHeaders(c, rateLimitHeaders(view));
		} catch (error) {
			log.warn("rate_limit_peek_failed", { userId: c.get("user").id, error });
		}
	},
);

function userLimitError(
	rule: BucketRule,
	result: TakeResult,
	cost: number,
	unit: CostUnit,
): ApiError {
	const retryAfter = delaySeconds(result.retryAfterMs);
	const costText =
		unit === "segment" ? ` This message has ${cost} segments.` : "";
	const when =
		result.retryAfterMs === null
			? "This limit does not refill; ask an admin to raise it."
			: `Retry after ${retryAfter} seconds.`;
	return new ApiError(
		429,
		"rate_limited",
		`Send rate limit reached for this user (capacity ${rule.capacity}, refill ${rule.refillPerSecond} per second, one token per ${unit}; ${result.remaining} left).${costText} ${when}`,
		{
			headers: {
				...rateLimitHeaders(result),
				"Retry-After": String(retryAfter),
			},
		},
	);
}

function globalLimitError(
	limit: GlobalLimit,
	result: TakeResult,
	view: BucketView,
): ApiError {
	const retryAfter = Math.max(1, delaySeconds(result.retryAfterMs));
	return new ApiError(
		429,
		"rate_limited",
		`The service is at its global limit of ${limit.ratePerSecond} sends per second across all users. Retry after ${retryAfter} seconds.`,
		{
			headers: { ...rateLimitHeaders(view), "Retry-After": String(retryAfter) },
		},
	);
}

interface SendCharge {
	view: BucketView;
	/** Returns every token taken; logs and swallows its own failures. */
	refund(): Promise<BucketView | null>;
}

/**
 * Takes the send's cost from the user's bucket, then one send from the global
 * limit, and throws a 429 ApiError when either is empty. A global rejection
 * returns the user's tokens first.
 */
async function chargeSend(
	env: Env,
	user: UserRow,
	body: string | undefined,
): Promise<SendCharge> {
	const rule = userBucketRule(env, user);
	const unit = costUnit(env);
	const cost = sendCost(env, body);
	if (cost > rule.capacity) {
		throw new ApiError(
			422,
			"cost_exceeds_capacity",
			`This message has ${cost} segments, but this user's rate limit allows bursts of at most ${rule.capacity}. Split the text into shorter messages, or ask an admin to raise the capacity.`,
		);
	}

	const bucket = userBucket(env, user.id);
	const userResult = await bucket.take(cost, rule);
	if (!userResult.allowed) {
		countMetric("edge_sms_rate_limit_rejections_total", { limit: "user" });
		throw userLimitError(rule, userResult, cost, unit);
	}

	const limit = globalLimit(env);
	const global = limit ? await takeGlobalSend(env, limit) : null;
	if (limit && global && !global.result.allowed) {
		countMetric("edge_sms_rate_limit_rejections_total", { limit: "global" });
		throw globalLimitError(
			limit,
			global.result,
			await bucket.refund(cost, rule),
		);
	}

	const refund = async () => {
		try {
			const [view] = await Promise.all([
				bucket.refund(cost, rule),
				global?.refund(),
			]);
			return view;
		} catch (error) {
			log.error("rate_limit_refund_failed", { userId: user.id, cost, error });
			return null;
		}
	};
	return { view: userResult, refund };
}

/**
 * Charges the user's rate limit for one send, then runs `accept`. Tokens are
 * returned when `accept` throws or `storedNothing` holds for its result (an
 * idempotent replay), so only sends that store a new message cost anything.
 * Sets the RateLimit-* headers on `c`. With the send limits off it only
 * runs `accept`, and sets no headers.
 */
export async function chargedSend<T>(
	c: Context<AppEnv>,
	body: string | undefined,
	accept: () => Promise<T>,
	storedNothing: (result: T) => boolean,
): Promise<T> {
	if (!sendLimitsEnabled(c.env)) return accept();
	const charge = await chargeSend(c.env, c.get("user"), body);
	let result: T;
	try {
		result = await accept();
	} catch (error) {
		await charge.refund();
		throw error;
	}

	const view = storedNothing(result) ? await charge.refund() : charge.view;
	for (const [name, value] of Object.entries(
		rateLimitHeaders(view ?? charge.view),
	)) {
		c.header(name, value);
	}
	return result;
}
