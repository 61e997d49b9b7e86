import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { openDatabase } from "../db/client";
import { messageEvents, messages } from "../db/schema";
import { sha256Hex } from "../lib/ids";
import { acceptOutboundMessage } from "../messages/send";
import { eventJson, messageJson } from "../messages/serialize";
import { MESSAGE_STATUSES } from "../messages/status";
import { rateLimitRouter } from "../ratelimit/routes";
import { chargedSend, userRateLimitHeaders } from "../ratelimit/user-limit";
import { requireUser } from "./auth";
import { limitJsonBody, requireJson } from "./body";
import { createRouter } from "./context";
import { ApiError } from "./errors";
import {
	MessageSchema,
	PhoneNumberSchema,
	SendMessageSchema,
} from "./message-schemas";
import { decodeCursor, encodeCursor } from "./pagination";
import { errorResponses, IdParamSchema } from "./schemas";

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

const ListQuerySchema = z.object({
	status: z.enum(MESSAGE_STATUSES).optional(),
	direction: z.enum(["outbound", "inbound"]).optional(),
	to: PhoneNumberSchema.optional(),
	limit: z.coerce.number().int().min(1).max(100).default(50),
	cursor: z.string().max(200).optional(),
});

const userSecurity = [{ ApiKey: [] }];

export const messagesRouter = createRouter();

messagesRouter.route("/", rateLimitRouter);

messagesRouter.openapi(
	createRoute({
		method: "post",
		path: "/v1/messages",
		tags: ["Messages"],
		summary: "Send an SMS or MMS",
		description:
			"Stores the message and queues it for Twilio. A 202 response means the message is stored and its job is on the queue. Repeating a request with the same `Idempotency-Key` and body returns the first response and sends nothing new. A valid request that stores a new message spends one token of the user's rate limit, or one per segment when the service counts segments; every response carries the RateLimit-* headers.",
		security: userSecurity,
		middleware: [
			requireUser,
			userRateLimitHeaders,
			requireJson,
			limitJsonBody,
		] as const,
		request: {
			headers: z.object({
				"idempotency-key": z
					.string()
					.min(1)
					.max(MAX_IDEMPOTENCY_KEY_LENGTH)
					.optional()
					.openapi({ description: "Any unique string up to 255 characters" }),
			}),
			body: {
				required: true,
				content: { "application/json": { schema: SendMessageSchema } },
			},
		},
		responses: {
			202: {
				description: "Stored and queued",
				content: { "application/json": { schema: MessageSchema } },
			},
			...errorResponses(400, 401, 415, 422, 429),
		},
	}),
	async (c) => {
		const input = c.req.valid("json");
		const key = c.req.valid("header")["idempotency-key"];
		const idempotency = key
			? { key, requestHash: await sha256Hex(JSON.stringify(input)) }
			: null;
		const result = await chargedSend(
			c,
			input.body,
			() => acceptOutboundMessage(c.env, c.get("user"), input, idempotency),
			(accepted) => accepted.replayed,
		);
		if (result.replayed) c.header("Idempotent-Replayed", "true");
		return c.json(result.message, 202);
	},
);

messagesRouter.openapi(
	createRoute({
		method: "get",
		path: "/v1/messages",
		tags: ["Messages"],
		summary: "List messages, newest first",
		security: userSecurity,
		middleware: [requireUser] as const,
		request: { query: ListQuerySchema },
		responses: {
			200: {
				description: "A page of messages",
				content: {
					"application/json": {
						schema: z.object({
							data: z.array(MessageSchema),
							nextCursor: z.string().nullable(),
						}),
					},
				},
			},
			...errorResponses(400, 401),
		},
	}),
	async (c) => {
		const query = c.req.valid("query");
		const user = c.get("user");
		const filters: (SQL | undefined)[] = [visibleTo(user.id)];
		if (query.status) filters.push(eq(messages.status, query.status));
		if (query.direction) filters.push(eq(messages.direction, query.direction));
		if (query.to) filters.push(eq(messages.to, query.to));
		if (query.cursor) {
			const cursor = decodeCursor(query.cursor);
			filters.push(
				or(
					lt(messages.createdAt, cursor.createdAt),
					and(
						eq(messages.createdAt, cursor.createdAt),
						lt(messages.id, cursor.id),
					),
				),
			);
		}
		const rows = await openDatabase(c.env.DB)
			.select()
			.from(messages)
			.where(and(...filters))
			.orderBy(desc(messages.createdAt), desc(messages.id))
			.limit(query.limit + 1);
		const page = rows.slice(0, query.limit);
		const last = page.at(-1);
		const nextCursor =
			rows.length > query.limit && last
				? encodeCursor({ createdAt: last.createdAt, id: last.id })
				: null;
		const data = await Promise.all(page.map((row) => messageJson(c.env, row)));
		return c.json({ data, nextCursor }, 200);
	},
);

messagesRouter.openapi(
	createRoute({
		method: "get",
		path: "/v1/messages/{id}",
		tags: ["Messages"],
		summary: "Read one message with its delivery events",
		security: userSecurity,
		middleware: [requireUser] as const,
		request: { params: IdParamSchema },
		responses: {
			200: {
				description: "The message, with `events` oldest first",
				content: {
					"application/json": {
						schema: MessageSchema.extend({
							events: z.array(
								z.object({
									status: z.string(),
									at: z.string(),
									source: z.string(),
									errorCode: z.number().int().optional(),
									errorMessage: z.string().optional(),
								}),
							),
						}),
					},
				},
			},
			...errorResponses(401, 404),
		},
	}),
	async (c) => {
		const { id } = c.req.valid("param");
		const db = openDatabase(c.env.DB);
		const [row] = await db
			.select()
			.from(messages)
			.where(and(eq(messages.id, id), visibleTo(c.get("user").id)))
			.limit(1);
		if (!row) {
			throw new ApiError(404, "not_found", `No message has the id '${id}'.`);
		}
		const events = await db
			.select()
			.from(messageEvents)
			.where(eq(messageEvents.messageId, id))
			.orderBy(asc(messageEvents.id));
		return c.json(
			{ ...(await messageJson(c.env, row)), events: events.map(eventJson) },
			200,
		);
	},
);

/** Restricts a query to the messages `userId` owns. */
function visibleTo(userId: string): SQL {
	return eq(messages.userId, userId);
}
