import { and, desc, eq, gt } from "drizzle-orm";
import type { Database } from "../db/client";
import { openDatabase } from "../db/client";
import { type MessageRow, messageEvents } from "../db/schema";
import { failMessage } from "../dead-letters/store";
import { log } from "../lib/log";
import { countMetric } from "../metrics/record";
import type { SendJob } from "./jobs";

/** The dead-letter queue's name in wrangler.toml. */
export const DEAD_LETTER_QUEUE_NAME = "sms-outbound-dlq";

/**
 * Records a dead letter for each send job the queue gave up on after
 * `max_retries` deliveries, and marks its message failed.
 */
export async function handleDeadLetterBatch(
	batch: MessageBatch<SendJob>,
	env: Env,
): Promise<void> {
	const db = openDatabase(env.DB);
	for (const job of batch.messages) {
		const messageId = job.body?.messageId;
		const message = messageId
			? await db.query.messages.findFirst({
					where: (table, { eq }) => eq(table.id, messageId),
				})
			: undefined;
		if (!message) {
			log.error("dead_letter_unknown_message", {
				messageId,
				queueMessageId: job.id,
			});
			job.ack();
			continue;
		}
		const retries = await retriesSinceLastQueued(db, message);
		const lastError = retries[0]?.errorMessage ?? "no error recorded";
		const changed = await failMessage(db, message, {
			status: "failed",
			errorCode: retries[0]?.errorCode ?? null,
			error: `Retries exhausted after ${retries.length + 1} attempts; last error: ${lastError}`,
			retryCount: retries.length,
			source: "dead-letter-queue",
		});
		if (changed)
			countMetric("edge_sms_dead_letters_total", {
				source: "dead-letter-queue",
			});
		log.warn(changed ? "dead_lettered" : "dead_letter_ignored", {
			messageId: message.id,
			status: message.status,
			retries: retries.length,
		});
		job.ack();
	}
}

/** Lists the `retrying` events of the current attempt, newest first. */
async function retriesSinceLastQueued(db: Database, message: MessageRow) {
	const [queued] = await db
		.select({ id: messageEvents.id })
		.from(messageEvents)
		.where(
			and(
				eq(messageEvents.messageId, message.id),
				eq(messageEvents.status, "queued"),
			),
		)
		.orderBy(desc(messageEvents.id))
		.limit(1);
	return db
		.select()
		.from(messageEvents)
		.where(
			and(
				eq(messageEvents.messageId, message.id),
				eq(messageEvents.status, "retrying"),
				gt(messageEvents.id, queued?.id ?? 0),
			),
		)
		.orderBy(desc(messageEvents.id));
}
