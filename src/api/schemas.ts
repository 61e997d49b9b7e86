import { z } from "@hono/zod-openapi";

export const ErrorSchema = z
	.object({
		error: z.object({
			code: z.string().openapi({ example: "invalid_request" }),
			message: z.string(),
			details: z
				.array(z.object({ field: z.string(), message: z.string() }))
				.optional(),
		}),
	})
	.openapi("Error");

/** Error responses that every authenticated route can return. */
export function errorResponses(...statuses: number[]) {
	const descriptions: Record<number, string> = {
		400: "Invalid input; `details` names each field",
		401: "Missing or unknown key",
		403: "Wrong role or bad signature",
		404: "Not found, or owned by another user",
		409: "Conflict with the current state",
		413: "Too large",
		415: "Wrong content type",
		422: "Well-formed but not allowed",
		429: "Rate limited; see Retry-After",
	};
	return Object.fromEntries(
		statuses.map((status) => [
			status,
			{
				description: descriptions[status] ?? "Error",
				content: { "application/json": { schema: ErrorSchema } },
			},
		]),
	);
}

export const RateLimitSchema = z
	.object({
		capacity: z
			.number()
			.int()
			.min(1)
			.max(1_000_000)
			.openapi({ description: "Bucket size: the largest burst allowed." }),
		refillPerSecond: z
			.number()
			.min(0)
			.max(1_000_000)
			.refine((value) => Number.isInteger(value * 1000), {
				message: "use at most 3 decimal places",
			})
			.openapi({ description: "Tokens added per second." }),
	})
	.strict()
	.openapi("RateLimit");

export type RateLimit = z.infer<typeof RateLimitSchema>;

export const IdParamSchema = z.object({
	id: z
		.string()
		.min(1)
		.max(100)
		.openapi({ param: { name: "id", in: "path" } }),
});
