import { and, eq, isNull } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { openDatabase } from "../db/client";
import { apiKeys, users } from "../db/schema";
import { sha256Hex } from "../lib/ids";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function bearerToken(header: string | undefined): string {
	const match = header ? BEARER.exec(header) : null;
	if (!match?.[1]) {
		throw new ApiError(
			401,
			"missing_api_key",
			"Missing API key. Send it as 'Authorization: Bearer <key>'.",
			{ headers: { "WWW-Authenticate": "Bearer" } },
		);
	}
	return match[1];
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

/** Admits requests that carry the ADMIN_TOKEN secret. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
	const token = bearerToken(c.req.header("Authorization"));
	const expected = c.env.ADMIN_TOKEN;
	if (!expected || !(await timingSafeEqualText(token, expected))) {
		throw new ApiError(
			403,
			"forbidden",
			"This route needs the admin token (ADMIN_TOKEN) as the bearer token.",
		);
	}
	await next();
});

/** Resolves the bearer API key to its user and stores it as `user`. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
	const key = bearerToken(c.req.header("Authorization"));
	const keyHash = await sha256Hex(key);
	const db = openDatabase(c.env.DB);
	const [row] = await db
		.select({ user: users })
		.from(apiKeys)
		.innerJoin(users, eq(users.id, apiKeys.userId))
		.where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
		.limit(1);
	if (!row) {
		throw new ApiError(
			401,
			"invalid_api_key",
			"The API key is unknown or revoked. Ask an admin for a new key.",
			{ headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } },
		);
	}
	c.set("user", row.user);
	await next();
});
