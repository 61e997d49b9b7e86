import { ApiError } from "../api/errors";
import type { Database } from "../db/client";
import type { DeadLetterRow } from "../db/schema";
import { log } from "../lib/log";
import { isOptedOut, optOutSender } from "../opt-outs/store";
import type { SendJob } from "../queue/jobs";

/**
 * Queues a dead-lettered message again as a new attempt: in one transaction
 * the dead letter is marked replayed, the message returns to `queued` with
 * its generation raised, and a `queued` event records the replay. Then the
 * send job is enqueued; if that fails, the cron sweep enqueues it later.
 */
export async function replayDeadLetter(
	env: Env,
	db: Database,
	deadLetter: DeadLetterRow,
): Promise<DeadLetterRow> {
	await rejectOptedOutRecipient(db, deadLetter);
	const now = Date.now();
	// Each statement runs only when the one before it changed a row.
	const [marked] = await db.$client.batch([
		db.$client
			.prepare(
				`update dead_letters set replayed_at = ?
				where id = ? and replayed_at is null
					and exists (select 1 from messages
						where id = ? and generation = ?
						and status in ('failed', 'undelivered'))`,
			)
			.bind(now, deadLetter.id, deadLetter.messageId, deadLetter.generation),
		db.$client
			.prepare(
				`update messages set status = 'queued', twilio_sid = null,
					error_code = null, error_message = null, claimed_at = null,
					ambiguous_at = null, generation = generation + 1, updated_at = ?
				where id = ? and changes() > 0`,
			)
			.bind(now, deadLetter.messageId),
		db.$client
			.prepare(
				`insert into message_events (message_id, status, source, error_message, at)
				select ?, 'queued', 'replay', ?, ? where changes() > 0`,
			)
			.bind(deadLetter.messageId, `Replay of ${deadLetter.id}`, now),
	]);
	if ((marked?.meta.changes ?? 0) === 0) {
		throw new ApiError(
			409,
			"already_replayed",
			`Dead letter '${deadLetter.id}' was already replayed, or its message was sent again since. Check GET /v1/messages/${deadLetter.messageId}.`,
		);
	}

	try {
		await env.OUTBOUND_QUEUE.send({
			messageId: deadLetter.messageId,
			replayOf: deadLetter.id,
		} satisfies SendJob);
	} catch (error) {
		log.error("enqueue_failed", {
			messageId: deadLetter.messageId,
			deadLetterId: deadLetter.id,
			error,
		});
	}
	log.info("replayed", {
		messageId: deadLetter.messageId,
		deadLetterId: deadLetter.id,
	});
	return { ...deadLetter, replayedAt: now };
}

async function rejectOptedOutRecipient(
	db: Database,
	deadLetter: DeadLetterRow,
): Promise<void> {
	const message = await db.query.messages.findFirst({
		where: (table, { eq }) => eq(table.id, deadLetter.messageId),
	});
	if (!message || !(await isOptedOut(db, message.to, message))) return;
	throw new ApiError(
		422,
		"recipient_opted_out",
		`${message.to} opted out of messages from ${optOutSender(message)}, so this dead letter cannot be replayed until they opt back in (for example by replying START).`,
	);
}
