import { and, eq, isNull } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { openDatabase } from "../db/client";
import { apiKeys, type UserRow, users } from "../db/schema";
import { sha256Hex } from "../lib/ids";
import { countClientRequest } from "../ratelimit/client-ip";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Returns the bearer token, or null when the header is missing or malformed. */
function bearerToken(header: string | undefined): string | null {
	const match = header ? BEARER.exec(header) : null;
	return match?.[1] ?? null;
}

function missingKeyError(limitHeaders: Record<string, string>): ApiError {
	return new ApiError(
		401,
		"missing_api_key",
		"Missing API key. Send it as 'Authorization: Bearer <key>'.",
		{ headers: { ...limitHeaders, "WWW-Authenticate": "Bearer" } },
	);
}

async function timingSafeEqualText(a: string, b: string): Promise<boolean> {
	// Comparing digests keeps the time independent of where the texts differ.
	const [left, right] = await Promise.all([sha256Hex(a), sha256Hex(b)]);
	let difference = 0;
	for (let i = 0; i < left.length; i++) {
		difference |= left.charCodeAt(i) ^ right.charCodeAt(i);
	}
	return difference === 0 && a.length === b.length;
}

/**
 * Admits requests that carry the ADMIN_TOKEN secret. Other requests count
 * against the per-IP limit for unauthenticated traffic before the 401 or 403,
 * so guessing the token from one address soon gets 429.
 */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
	const token = bearerToken(c.req.header("Authorization"));
	const expected = c.env.ADMIN_TOKEN;
	if (token && expected && (await timingSafeEqualText(token, expected))) {
		await next();
		return;
	}
	const limitHeaders = await countClientRequest(c.env, c.req.raw, "api");
	if (!token) throw missingKeyError(limitHeaders);
	throw new ApiError(
		403,
		"forbidden",
		"This route needs the admin token (ADMIN_TOKEN) as the bearer token.",
		{ headers: limitHeaders },
	);
});

/**
 * Resolves the bearer API key to its user and stores it as `user`. A missing
 * or unknown key counts against the per-IP limit for unauthenticated traffic
 * before the 401, so guessing keys from one address soon gets 429.
 */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
	const key = bearerToken(c.req.header("Authorization"));
	const user = key ? await findUserByKey(c.env, key) : undefined;
	if (!user) {
		const limitHeaders = await countClientRequest(c.env, c.req.raw, "api");
		if (!key) throw missingKeyError(limitHeaders);
		if (
			c.env.ADMIN_TOKEN &&
			(await timingSafeEqualText(key, c.env.ADMIN_TOKEN))
		) {
			throw new ApiError(
				403,
				"forbidden",
				"The admin token cannot call client routes. Create a user with POST /v1/users and use its API key.",
				{ headers: limitHeaders },
			);
		}
		throw new ApiError(
			401,
			"invalid_api_key",
			"The API key is unknown or revoked. Ask an admin for a new key.",
			{
				headers: {
					...limitHeaders,
					"WWW-Authenticate": 'Bearer error="invalid_token"',
				},
			},
		);
	}
	c.set("user", user);
	await next();
});

async function findUserByKey(
	env: Env,
	key: string,
): Promise<UserRow | undefined> {
	const [row] = await openDatabase(env.DB)
		.select({ user: users })
		.from(apiKeys)
		.innerJoin(users, eq(users.id, apiKeys.userId))
		.where(
			and(eq(apiKeys.keyHash, await sha256Hex(key)), isNull(apiKeys.revokedAt)),
		)
		.limit(1);
	return row?.user;
}
