import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { openDatabase } from "../db/client";
import { type DeadLetterRow, deadLetters } from "../db/schema";
import { replayDeadLetter } from "../dead-letters/replay";
import { iso } from "../messages/serialize";
import { requireUser } from "./auth";
import { createRouter } from "./context";
import { ApiError } from "./errors";
import { decodeCursor, encodeCursor } from "./pagination";
import { errorResponses, IdParamSchema } from "./schemas";

export const DeadLetterSchema = z
	.object({
		id: z.string(),
		messageId: z.string(),
		payload: z.record(z.string(), z.unknown()),
		status: z.string(),
		error: z.string(),
		errorCode: z.number().int().nullable(),
		twilioSid: z.string().nullable(),
		retryCount: z.number().int(),
		failedAt: z.string(),
		replayedAt: z.string().nullable(),
	})
	.openapi("DeadLetter");

export function deadLetterJson(row: DeadLetterRow) {
	return {
		id: row.id,
		messageId: row.messageId,
		payload: JSON.parse(row.payload) as Record<string, unknown>,
		status: row.status,
		error: row.error,
		errorCode: row.errorCode,
		twilioSid: row.twilioSid,
		retryCount: row.retryCount,
		failedAt: iso(row.failedAt),
		replayedAt: row.replayedAt === null ? null : iso(row.replayedAt),
	};
}

const userSecurity = [{ ApiKey: [] }];

export const deadLettersRouter = createRouter();

deadLettersRouter.openapi(
	createRoute({
		method: "get",
		path: "/v1/dead-letters",
		tags: ["Dead letters"],
		summary: "List messages that could not be delivered, newest first",
		security: userSecurity,
		middleware: [requireUser] as const,
		request: {
			query: z.object({
				limit: z.coerce.number().int().min(1).max(100).default(50),
				cursor: z.string().max(200).optional(),
			}),
		},
		responses: {
			200: {
				description: "A page of dead letters",
				content: {
					"application/json": {
						schema: z.object({
							data: z.array(DeadLetterSchema),
							nextCursor: z.string().nullable(),
						}),
					},
				},
			},
			...errorResponses(400, 401),
		},
	}),
	async (c) => {
		const { limit, cursor } = c.req.valid("query");
		const filters: (SQL | undefined)[] = [
			eq(deadLetters.userId, c.get("user").id),
		];
		if (cursor) {
			const position = decodeCursor(cursor);
			filters.push(
				or(
					lt(deadLetters.failedAt, position.createdAt),
					and(
						eq(deadLetters.failedAt, position.createdAt),
						lt(deadLetters.id, position.id),
					),
				),
			);
		}
		const rows = await openDatabase(c.env.DB)
			.select()
			.from(deadLetters)
			.where(and(...filters))
			.orderBy(desc(deadLetters.failedAt), desc(deadLetters.id))
			.limit(limit + 1);
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		const nextCursor =
			rows.length > limit && last
				? encodeCursor({ createdAt: last.failedAt, id: last.id })
				: null;
		return c.json({ data: page.map(deadLetterJson), nextCursor }, 200);
	},
);

deadLettersRouter.openapi(
	createRoute({
		method: "post",
		path: "/v1/dead-letters/{id}/replay",
		tags: ["Dead letters"],
		summary: "Send a dead-lettered message again",
		description:
			"Queues the original request again as a new attempt of the same message. A dead letter can be replayed once; a second replay gets 409.",
		security: userSecurity,
		middleware: [requireUser] as const,
		request: { params: IdParamSchema },
		responses: {
			202: {
				description: "The message is queued again",
				content: { "application/json": { schema: DeadLetterSchema } },
			},
			...errorResponses(401, 404, 409),
		},
	}),
	async (c) => {
		const { id } = c.req.valid("param");
		const db = openDatabase(c.env.DB);
		const row = await db.query.deadLetters.findFirst({
			where: (table, { and, eq }) =>
				and(eq(table.id, id), eq(table.userId, c.get("user").id)),
		});
		if (!row) {
			throw new ApiError(
				404,
				"not_found",
				`No dead letter has the id '${id}'.`,
			);
		}
		const replayed = await replayDeadLetter(c.env, db, row);
		return c.json(deadLetterJson(replayed), 202);
	},
);
