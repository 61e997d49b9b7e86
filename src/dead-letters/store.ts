import { and, eq, notInArray } from "drizzle-orm";
import { type Database, toStatement } from "../db/client";
import { type MessageRow, messages } from "../db/schema";
import { newId } from "../lib/ids";
import { parseStoredMedia } from "../messages/media";
import { FINAL_STATUSES } from "../messages/status";

export interface Failure {
	/** `failed` when Twilio never took the message, or Twilio's final status. */
	status: "failed" | "undelivered";
	errorCode: number | null;
	/** Human-readable reason, such as "21211: Invalid 'To' phone number". */
	error: string;
	/** How many times the send was retried before this failure. */
	retryCount: number;
	/** Reporter: consumer, twilio, dead-letter-queue or sweep. */
	source: string;
}

/** Returns the original send request, as a replay sends it again. */
export function messagePayload(message: MessageRow) {
	const media = parseStoredMedia(message.media);
	const mediaIds = media.flatMap((item) => (item.id ? [item.id] : []));
	const mediaUrls = media.flatMap((item) =>
		!item.id && item.url ? [item.url] : [],
	);
	return {
		to: message.to,
		...(message.from ? { from: message.from } : {}),
		...(message.body ? { body: message.body } : {}),
		...(mediaUrls.length > 0 ? { mediaUrls } : {}),
		...(mediaIds.length > 0 ? { mediaIds } : {}),
	};
}

/**
 * Inserts the dead letter for `message` only when `enabled` and the statement
 * before it in the same batch changed a row; a second one for the same
 * attempt is ignored.
 */
export function insertDeadLetterAfterChange(
	db: Database,
	message: MessageRow,
	failure: Failure,
	now: number,
	enabled = true,
): D1PreparedStatement {
	return db.$client
		.prepare(
			`insert into dead_letters
				(id, message_id, user_id, generation, payload, status, error_code,
				error, twilio_sid, retry_count, failed_at)
			select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
			where ? and changes() > 0
			on conflict do nothing`,
		)
		.bind(
			newId("dlq", now),
			message.id,
			message.userId,
			message.generation,
			JSON.stringify(messagePayload(message)),
			failure.status,
			failure.errorCode,
			failure.error,
			message.twilioSid,
			failure.retryCount,
			now,
			enabled ? 1 : 0,
		);
}

/**
 * Marks a message failed and records its event and dead letter in one
 * transaction. Does nothing when the message already reached a final status
 * or was replayed since. Returns whether the message changed.
 */
export async function failMessage(
	db: Database,
	message: MessageRow,
	failure: Failure,
): Promise<boolean> {
	const now = Date.now();
	// Each insert runs only when the statement before it changed a row, so
	// the three writes happen together or not at all.
	const [update] = await db.$client.batch([
		toStatement(
			db,
			db
				.update(messages)
				.set({
					status: failure.status,
					errorCode: failure.errorCode,
					errorMessage: failure.error,
					claimedAt: null,
					updatedAt: now,
				})
				.where(
					and(
						eq(messages.id, message.id),
						eq(messages.generation, message.generation),
						notInArray(messages.status, [...FINAL_STATUSES]),
					),
				),
		),
		db.$client
			.prepare(
				`insert into message_events
					(message_id, status, source, error_code, error_message, at)
				select ?, ?, ?, ?, ?, ?
				where changes() > 0`,
			)
			.bind(
				message.id,
				failure.status,
				failure.source,
				failure.errorCode,
				failure.error,
				now,
			),
		insertDeadLetterAfterChange(db, message, failure, now),
	]);
	return (update?.meta.changes ?? 0) > 0;
}
