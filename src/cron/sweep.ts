import { and, eq, inArray, isNotNull, isNull, lt, or } from "drizzle-orm";
import { type Database, openDatabase } from "../db/client";
import { messages } from "../db/schema";
import { log } from "../lib/log";
import type { SendJob } from "../queue/jobs";
import { TwilioApiError, TwilioClient } from "../twilio/client";
import { applyStatusCallback } from "../webhooks/status";

/** Messages handled per sweep, so one run stays well inside its time limit. */
const SWEEP_BATCH = 100;

function seconds(value: string | undefined, fallback: number): number {
	const parsed = Number(value);
	return (Number.isFinite(parsed) && parsed > 0 ? parsed : fallback) * 1000;
}

/**
 * Re-enqueues outbound messages that are still `queued`, have no Twilio SID
 * and no live claim, and have not changed for STUCK_AFTER_SECONDS: their job
 * never reached the consumer (the enqueue after a replay failed, say). The
 * consumer's claim makes a second job for the same message harmless.
 */
export async function requeueStuckMessages(env: Env): Promise<number> {
	const db = openDatabase(env.DB);
	const cutoff = Date.now() - seconds(env.STUCK_AFTER_SECONDS, 600);
	const stuck = await db
		.select({ id: messages.id })
		.from(messages)
		.where(
			and(
				eq(messages.direction, "outbound"),
				eq(messages.status, "queued"),
				isNull(messages.twilioSid),
				lt(messages.updatedAt, cutoff),
				or(isNull(messages.claimedAt), lt(messages.claimedAt, cutoff)),
			),
		)
		.limit(SWEEP_BATCH);
	if (stuck.length === 0) return 0;
	await env.OUTBOUND_QUEUE.sendBatch(
		stuck.map((row) => ({ body: { messageId: row.id } satisfies SendJob })),
	);
	// Touch them so the next sweep waits a full period again.
	await db
		.update(messages)
		.set({ updatedAt: Date.now() })
		.where(
			inArray(
				messages.id,
				stuck.map((row) => row.id),
			),
		);
	log.warn("requeued_stuck", { count: stuck.length });
	return stuck.length;
}

/**
 * Asks Twilio for the status of sent messages whose callbacks stopped for
 * STATUS_REFRESH_AFTER_SECONDS, and applies it as a callback would: a lost
 * callback never leaves a message in a non-final state.
 */
export async function refreshStaleStatuses(env: Env): Promise<number> {
	const db = openDatabase(env.DB);
	const cutoff = Date.now() - seconds(env.STATUS_REFRESH_AFTER_SECONDS, 3600);
	const stale = await findStale(db, cutoff);
	const twilio = new TwilioClient(env);
	let refreshed = 0;
	for (const row of stale) {
		try {
			const remote = await twilio.fetchMessage(row.twilioSid as string);
			const outcome = await applyStatusCallback(env, {
				messageId: row.id,
				generation: row.generation,
				messageSid: remote.sid,
				status: remote.status,
				errorCode: remote.error_code,
				rawDlrDoneDate: null,
				source: "sweep",
			});
			if (outcome === "applied") refreshed++;
			// Touch the row so an unchanged status is asked for again only
			// after another full period.
			await db
				.update(messages)
				.set({ updatedAt: Date.now() })
				.where(and(eq(messages.id, row.id), eq(messages.status, row.status)));
		} catch (error) {
			if (!(error instanceof TwilioApiError)) throw error;
			log.warn("status_refresh_failed", {
				messageId: row.id,
				twilioSid: row.twilioSid,
				httpStatus: error.status,
				error,
			});
		}
	}
	if (refreshed > 0) log.info("statuses_refreshed", { count: refreshed });
	return refreshed;
}

function findStale(db: Database, cutoff: number) {
	return db
		.select()
		.from(messages)
		.where(
			and(
				eq(messages.direction, "outbound"),
				inArray(messages.status, ["queued", "sending", "sent"]),
				isNotNull(messages.twilioSid),
				lt(messages.updatedAt, cutoff),
			),
		)
		.limit(SWEEP_BATCH);
}
