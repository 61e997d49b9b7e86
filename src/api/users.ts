import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { openDatabase } from "../db/client";
import { apiKeys, type UserRow, users } from "../db/schema";
import { newApiKey, newId, sha256Hex } from "../lib/ids";
import { log } from "../lib/log";
import { peekUserBucket } from "../ratelimit/user-limit";
import { requireAdmin } from "./auth";
import { limitJsonBody, requireJson } from "./body";
import { createRouter } from "./context";
import { ApiError } from "./errors";
import {
	errorResponses,
	IdParamSchema,
	type RateLimit,
	RateLimitSchema,
} from "./schemas";

const CreateUserSchema = z
	.object({
		name: z.string().trim().min(1).max(200),
		rateLimit: RateLimitSchema.optional(),
	})
	.strict()
	.openapi("CreateUser");

const UpdateUserSchema = z
	.object({
		name: z.string().trim().min(1).max(200).optional(),
		rateLimit: RateLimitSchema.nullable().optional(),
	})
	.strict()
	.openapi("UpdateUser");

const UserSchema = z
	.object({
		id: z.string(),
		name: z.string(),
		rateLimit: RateLimitSchema,
		createdAt: z.string(),
	})
	.openapi("User");

const CreatedKeySchema = z
	.object({
		id: z.string(),
		apiKey: z
			.string()
			.openapi({ description: "Shown once; only its hash is stored." }),
	})
	.openapi("ApiKey");

/** Returns the rate limit in force for `user`: its own, or the configured default. */
export function effectiveRateLimit(user: UserRow, env: Env): RateLimit {
	return {
		capacity: user.rateCapacity ?? Number(env.DEFAULT_RATE_CAPACITY || 60),
		refillPerSecond: Number(
			user.rateRefillPerSecond ?? (env.DEFAULT_RATE_REFILL_PER_SECOND || 1),
		),
	};
}

function userJson(user: UserRow, env: Env) {
	return {
		id: user.id,
		name: user.name,
		rateLimit: effectiveRateLimit(user, env),
		createdAt: new Date(user.createdAt).toISOString(),
	};
}

async function createKeyRows(userId: string) {
	const apiKey = newApiKey();
	const row = {
		id: newId("key"),
		userId,
		keyHash: await sha256Hex(apiKey),
		createdAt: Date.now(),
	};
	return { apiKey, row };
}

const adminSecurity = [{ AdminToken: [] }];

export const usersRouter = createRouter();

usersRouter.openapi(
	createRoute({
		method: "post",
		path: "/v1/users",
		tags: ["Admin"],
		summary: "Create a user and its first API key",
		security: adminSecurity,
		middleware: [requireAdmin, requireJson, limitJsonBody] as const,
		request: {
			body: {
				required: true,
				content: { "application/json": { schema: CreateUserSchema } },
			},
		},
		responses: {
			201: {
				description: "The user, with an API key shown once",
				content: {
					"application/json": {
						schema: UserSchema.extend({
							apiKey: z.string(),
							apiKeyId: z.string(),
						}),
					},
				},
			},
			...errorResponses(400, 401, 403),
		},
	}),
	async (c) => {
		const input = c.req.valid("json");
		const db = openDatabase(c.env.DB);
		const user: UserRow = {
			id: newId("usr"),
			name: input.name,
			rateCapacity: input.rateLimit?.capacity ?? null,
			rateRefillPerSecond:
				input.rateLimit === undefined
					? null
					: String(input.rateLimit.refillPerSecond),
			createdAt: Date.now(),
		};
		const key = await createKeyRows(user.id);
		await db.batch([
			db.insert(users).values(user),
			db.insert(apiKeys).values(key.row),
		]);
		log.info("user_created", { userId: user.id, keyId: key.row.id });
		return c.json(
			{ ...userJson(user, c.env), apiKey: key.apiKey, apiKeyId: key.row.id },
			201,
		);
	},
);

usersRouter.openapi(
	createRoute({
		method: "get",
		path: "/v1/users/{id}",
		tags: ["Admin"],
		summary: "Read a user",
		security: adminSecurity,
		middleware: [requireAdmin] as const,
		request: { params: IdParamSchema },
		responses: {
			200: {
				description: "The user",
				content: { "application/json": { schema: UserSchema } },
			},
			...errorResponses(401, 403, 404),
		},
	}),
	async (c) => {
		const user = await findUser(c.env, c.req.valid("param").id);
		return c.json(userJson(user, c.env), 200);
	},
);

usersRouter.openapi(
	createRoute({
		method: "patch",
		path: "/v1/users/{id}",
		tags: ["Admin"],
		summary: "Change a user's name or rate limit",
		description:
			"A `rateLimit` of null returns the user to the configured default. The change applies from the user's next request.",
		security: adminSecurity,
		middleware: [requireAdmin, requireJson, limitJsonBody] as const,
		request: {
			params: IdParamSchema,
			body: {
				required: true,
				content: { "application/json": { schema: UpdateUserSchema } },
			},
		},
		responses: {
			200: {
				description: "The updated user",
				content: { "application/json": { schema: UserSchema } },
			},
			...errorResponses(400, 401, 403, 404),
		},
	}),
	async (c) => {
		const { id } = c.req.valid("param");
		const input = c.req.valid("json");
		const user = await findUser(c.env, id);
		const changes: Partial<UserRow> = {};
		if (input.name !== undefined) changes.name = input.name;
		if (input.rateLimit !== undefined) {
			changes.rateCapacity = input.rateLimit?.capacity ?? null;
			changes.rateRefillPerSecond =
				input.rateLimit === null
					? null
					: String(input.rateLimit.refillPerSecond);
		}
		const updated = { ...user, ...changes };
		if (Object.keys(changes).length > 0) {
			await openDatabase(c.env.DB)
				.update(users)
				.set(changes)
				.where(eq(users.id, id));
			log.info("user_updated", { userId: id, fields: Object.keys(changes) });
		}
		if (input.rateLimit !== undefined) {
			await switchBucketRule(c.env, updated);
		}
		return c.json(userJson(updated, c.env), 200);
	},
);

usersRouter.openapi(
	createRoute({
		method: "post",
		path: "/v1/users/{id}/keys",
		tags: ["Admin"],
		summary: "Create another API key for a user",
		security: adminSecurity,
		middleware: [requireAdmin] as const,
		request: { params: IdParamSchema },
		responses: {
			201: {
				description: "The key, shown once",
				content: { "application/json": { schema: CreatedKeySchema } },
			},
			...errorResponses(401, 403, 404),
		},
	}),
	async (c) => {
		const user = await findUser(c.env, c.req.valid("param").id);
		const key = await createKeyRows(user.id);
		await openDatabase(c.env.DB).insert(apiKeys).values(key.row);
		log.info("api_key_created", { userId: user.id, keyId: key.row.id });
		return c.json({ id: key.row.id, apiKey: key.apiKey }, 201);
	},
);

usersRouter.openapi(
	createRoute({
		method: "delete",
		path: "/v1/keys/{id}",
		tags: ["Admin"],
		summary: "Revoke an API key",
		security: adminSecurity,
		middleware: [requireAdmin] as const,
		request: { params: IdParamSchema },
		responses: {
			204: { description: "Revoked; requests with the key now get 401" },
			...errorResponses(401, 403, 404),
		},
	}),
	async (c) => {
		const { id } = c.req.valid("param");
		const db = openDatabase(c.env.DB);
		const [revoked] = await db
			.update(apiKeys)
			.set({ revokedAt: Date.now() })
			.where(eq(apiKeys.id, id))
			.returning({ id: apiKeys.id });
		if (!revoked) {
			throw new ApiError(404, "not_found", `No API key has the id '${id}'.`);
		}
		log.info("api_key_revoked", { keyId: id });
		return c.body(null, 204);
	},
);

async function findUser(env: Env, id: string): Promise<UserRow> {
	const [user] = await openDatabase(env.DB)
		.select()
		.from(users)
		.where(eq(users.id, id))
		.limit(1);
	if (!user) {
		throw new ApiError(404, "not_found", `No user has the id '${id}'.`);
	}
	return user;
}

/**
 * Moves the user's bucket to its new rule now, so the time until the user's
 * next request refills at the new rate. If the bucket cannot be reached, it
 * switches at that next request instead.
 */
async function switchBucketRule(env: Env, user: UserRow): Promise<void> {
	try {
		await peekUserBucket(env, user);
	} catch (error) {
		log.warn("rate_limit_switch_deferred", { userId: user.id, error });
	}
}
