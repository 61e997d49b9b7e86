import { and, eq, inArray } from "drizzle-orm";
import { ApiError } from "../api/errors";
import { isUniqueViolation, openDatabase } from "../db/client";
import {
	idempotencyKeys,
	type MediaRow,
	type MessageRow,
	media,
	messageEvents,
	messages,
	type UserRow,
} from "../db/schema";
import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { MAX_MESSAGE_MEDIA_BYTES } from "../media/types";
import { isOptedOut, optOutSender } from "../opt-outs/store";
import type { SendJob } from "../queue/jobs";
import type { StoredMedia } from "./media";
import { countSegments } from "./segments";
import { type MessageJson, messageJson } from "./serialize";

export interface OutboundInput {
	to: string;
	from?: string | undefined;
	body?: string | undefined;
	mediaUrls?: string[] | undefined;
	mediaIds?: string[] | undefined;
}

export interface Idempotency {
	key: string;
	requestHash: string;
}

export interface AcceptResult {
	message: MessageJson;
	replayed: boolean;
}

/**
 * Stores a new outbound message with its `queued` event and puts its send
 * job on the queue. Returns only once both are done, so an accepted message
 * is never lost; if the job cannot be enqueued the rows are removed again.
 */
export async function acceptOutboundMessage(
	env: Env,
	user: UserRow,
	input: OutboundInput,
	idempotency: Idempotency | null,
): Promise<AcceptResult> {
	if (idempotency) {
		const earlier = await findIdempotentResponse(env, user.id, idempotency);
		if (earlier) return { message: earlier, replayed: true };
	}

	const mediaItems = await resolveMedia(env, user, input);
	const row = buildMessageRow(env, user, input, mediaItems);
	await rejectOptedOut(env, row);
	const json = await messageJson(env, row);
	try {
		await insertMessage(env, row, json, idempotency);
	} catch (error) {
		if (idempotency && isUniqueViolation(error)) {
			// A concurrent request with the same key stored its message first.
			const earlier = await findIdempotentResponse(env, user.id, idempotency);
			if (earlier) return { message: earlier, replayed: true };
		}
		throw error;
	}

	try {
		await env.OUTBOUND_QUEUE.send({ messageId: row.id } satisfies SendJob);
	} catch (error) {
		log.error("enqueue_failed", { messageId: row.id, error });
		await removeMessage(env, row.id, user.id, idempotency);
		throw new ApiError(
			503,
			"queue_unavailable",
			"The message could not be queued and was not stored. Retry the request.",
		);
	}

	log.info("accepted", {
		messageId: row.id,
		userId: user.id,
		segments: row.segments,
		media: mediaItems.length,
	});
	return { message: json, replayed: false };
}

/**
 * Builds the stored media list of a new message: the client's URLs, then its
 * uploaded items by id. Every id must be the user's own upload, and all of
 * them together within Twilio's 5 MB per message.
 */
async function resolveMedia(
	env: Env,
	user: UserRow,
	input: OutboundInput,
): Promise<StoredMedia[]> {
	const fromUrls = (input.mediaUrls ?? []).map((url) => ({ url }));
	const ids = input.mediaIds ?? [];
	if (ids.length === 0) return fromUrls;

	const rows = await openDatabase(env.DB)
		.select()
		.from(media)
		.where(and(inArray(media.id, ids), eq(media.userId, user.id)));
	const byId = new Map(rows.map((row) => [row.id, row]));
	const missing = ids.flatMap((id, index) =>
		byId.has(id)
			? []
			: [
					{
						field: `mediaIds.${index}`,
						message: `no media '${id}' of yours; upload it with POST /v1/media`,
					},
				],
	);
	if (missing.length > 0) {
		throw new ApiError(
			400,
			"invalid_request",
			`Unknown media: ${missing.map((m) => m.field).join(", ")}`,
			{ details: missing },
		);
	}
	const items = ids.map((id) => byId.get(id) as MediaRow);
	const total = items.reduce((sum, item) => sum + item.size, 0);
	if (total > MAX_MESSAGE_MEDIA_BYTES) {
		throw new ApiError(
			413,
			"payload_too_large",
			`The media of one message may total at most ${MAX_MESSAGE_MEDIA_BYTES} bytes (5 MB); these total ${total} bytes. Send fewer or smaller items.`,
			{ details: [{ field: "mediaIds", message: "over 5 MB in total" }] },
		);
	}
	return [
		...fromUrls,
		...items.map((item) => ({
			id: item.id,
			contentType: item.contentType,
			size: item.size,
		})),
	];
}

async function rejectOptedOut(env: Env, row: MessageRow): Promise<void> {
	const optedOut = await isOptedOut(openDatabase(env.DB), row.to, row);
	if (!optedOut) return;
	log.info("send_rejected_opted_out", { userId: row.userId, to: row.to });
	throw new ApiError(
		422,
		"recipient_opted_out",
		`${row.to} opted out of messages from ${optOutSender(row)} (a STOP reply, or Twilio's error 21610). Nothing was sent; they can opt back in by replying START.`,
	);
}

function buildMessageRow(
	env: Env,
	user: UserRow,
	input: OutboundInput,
	stored: StoredMedia[],
): MessageRow {
	const from = input.from ?? (env.TWILIO_FROM || null);
	const messagingServiceSid =
		input.from === undefined && !from
			? env.TWILIO_MESSAGING_SERVICE_SID || null
			: null;
	if (!from && !messagingServiceSid) {
		throw new ApiError(
			400,
			"invalid_request",
			"No sender: pass 'from' as an E.164 number, or configure TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID.",
			{ details: [{ field: "from", message: "required" }] },
		);
	}
	const body = input.body ?? "";
	const { encoding, segments } = countSegments(body);
	const now = Date.now();
	return {
		id: newId("msg", now),
		userId: user.id,
		direction: "outbound",
		to: input.to,
		from,
		messagingServiceSid,
		body,
		media: JSON.stringify(stored),
		segments,
		encoding,
		status: "queued",
		twilioSid: null,
		errorCode: null,
		errorMessage: null,
		claimedAt: null,
		ambiguousAt: null,
		generation: 0,
		createdAt: now,
		updatedAt: now,
	};
}

async function insertMessage(
	env: Env,
	row: MessageRow,
	json: MessageJson,
	idempotency: Idempotency | null,
): Promise<void> {
	const db = openDatabase(env.DB);
	const event = db.insert(messageEvents).values({
		messageId: row.id,
		status: "queued",
		source: "api",
		at: row.createdAt,
	});
	if (!idempotency) {
		await db.batch([db.insert(messages).values(row), event]);
		return;
	}
	// The key row goes first: when the key is taken, the whole batch fails.
	await db.batch([
		db.insert(idempotencyKeys).values({
			userId: row.userId as string,
			key: idempotency.key,
			requestHash: idempotency.requestHash,
			messageId: row.id,
			response: JSON.stringify(json),
			createdAt: row.createdAt,
		}),
		db.insert(messages).values(row),
		event,
	]);
}

async function findIdempotentResponse(
	env: Env,
	userId: string,
	idempotency: Idempotency,
): Promise<MessageJson | null> {
	const row = await openDatabase(env.DB).query.idempotencyKeys.findFirst({
		where: (table, { and, eq }) =>
			and(eq(table.userId, userId), eq(table.key, idempotency.key)),
	});
	if (!row) return null;
	if (row.requestHash !== idempotency.requestHash) {
		throw new ApiError(
			422,
			"idempotency_key_reused",
			`The Idempotency-Key '${idempotency.key}' was already used with a different request body. Use a new key for a new message.`,
		);
	}
	return JSON.parse(row.response) as MessageJson;
}

async function removeMessage(
	env: Env,
	messageId: string,
	userId: string,
	idempotency: Idempotency | null,
): Promise<void> {
	const db = openDatabase(env.DB);
	const idempotencyDelete = idempotency
		? [
				db
					.delete(idempotencyKeys)
					.where(eq(idempotencyKeys.messageId, messageId)),
			]
		: [];
	try {
		await db.batch([
			db.delete(messageEvents).where(eq(messageEvents.messageId, messageId)),
			db.delete(messages).where(eq(messages.id, messageId)),
			...idempotencyDelete,
		]);
	} catch (error) {
		// The stuck-message sweep re-enqueues a message left behind here.
		log.error("accept_rollback_failed", { messageId, userId, error });
	}
}
