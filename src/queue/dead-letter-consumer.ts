import { and, eq, notInArray } from "drizzle-orm";
import { openDatabase } from "../db/client";
import { messageEvents, messages } from "../db/schema";
import { log } from "../lib/log";
import { FINAL_STATUSES } from "../messages/status";
import type { SendJob } from "./jobs";

/**
 * Fails each message whose send job the queue gave up on after
 * `max_retries` deliveries.
 */
export async function handleDeadLetterBatch(
	batch: MessageBatch<SendJob>,
	env: Env,
): Promise<void> {
	const db = openDatabase(env.DB);
	for (const job of batch.messages) {
		const messageId = job.body?.messageId;
		if (!messageId) {
			log.error("dead_letter_unreadable", { queueMessageId: job.id });
			job.ack();
			continue;
		}
		const now = Date.now();
		const reason = "Retries exhausted: Twilio did not accept the message.";
		const [failed] = await db
			.update(messages)
			.set({
				status: "failed",
				errorMessage: reason,
				claimedAt: null,
				updatedAt: now,
			})
			.where(
				and(
					eq(messages.id, messageId),
					notInArray(messages.status, [...FINAL_STATUSES]),
				),
			)
			.returning({ id: messages.id });
		if (failed) {
			await db.insert(messageEvents).values({
				messageId,
				status: "failed",
				source: "consumer",
				errorMessage: reason,
				at: now,
			});
		}
		log.warn("dead_lettered", { messageId, attempts: job.attempts });
		job.ack();
	}
}
