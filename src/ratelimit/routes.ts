import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../api/auth";
import { createRouter } from "../api/context";
import { errorResponses } from "../api/schemas";
import { delaySeconds, rateLimitHeaders } from "./headers";
import { costUnit, peekUserBucket, userBucketRule } from "./user-limit";

const RateLimitStateSchema = z
	.object({
		capacity: z.number().int().openapi({ description: "Largest burst" }),
		refillPerSecond: z.number(),
		remaining: z
			.number()
			.int()
			.openapi({ description: "Whole tokens left now" }),
		resetSeconds: z.number().int().openapi({
			description: "Seconds until one more token; 0 when the bucket is full",
		}),
		unit: z.enum(["message", "segment"]).openapi({
			description: "What one token pays for",
		}),
	})
	.openapi("RateLimitState");

export const rateLimitRouter = createRouter();

rateLimitRouter.openapi(
	createRoute({
		method: "get",
		path: "/v1/rate-limit",
		tags: ["Messages"],
		summary: "Read the send rate limit without spending a token",
		security: [{ ApiKey: [] }],
		middleware: [requireUser] as const,
		responses: {
			200: {
				description: "The user's token bucket for POST /v1/messages",
				content: { "application/json": { schema: RateLimitStateSchema } },
			},
			...errorResponses(401, 429),
		},
	}),
	async (c) => {
		const user = c.get("user");
		const rule = userBucketRule(c.env, user);
		const view = await peekUserBucket(c.env, user);
		for (const [name, value] of Object.entries(rateLimitHeaders(view))) {
			c.header(name, value);
		}
		return c.json(
			{
				capacity: rule.capacity,
				refillPerSecond: rule.refillPerSecond,
				remaining: view.remaining,
				resetSeconds: delaySeconds(view.resetMs),
				unit: costUnit(c.env),
			},
			200,
		);
	},
);
