import { and, eq, isNull, lt, or } from "drizzle-orm";
import { type Database, openDatabase } from "../db/client";
import { type MessageRow, messageEvents, messages } from "../db/schema";
import { log } from "../lib/log";
import { fromTwilioStatus, isForwardTransition } from "../messages/status";
import { TwilioApiError, TwilioClient } from "../twilio/client";
import { classifyTwilioFailure } from "../twilio/errors";
import type { SendJob } from "./jobs";

/**
 * How long a consumer owns a message it claimed. A claim older than this
 * belongs to a consumer that died mid-call, and may be taken over.
 */
export const CLAIM_LEASE_MS = 60_000;

const RETRY_DELAY_SECONDS = 5;

/** Sends each message of the batch through Twilio and acks it on its own. */
export async function handleOutboundBatch(
	batch: MessageBatch<SendJob>,
	env: Env,
): Promise<void> {
	const db = openDatabase(env.DB);
	const twilio = new TwilioClient(env);
	await Promise.all(
		batch.messages.map((message) =>
			processSendJob(message, env, db, twilio).catch((error) => {
				log.error("send_job_failed", {
					messageId: message.body?.messageId,
					attempts: message.attempts,
					error,
				});
				message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
			}),
		),
	);
}

async function processSendJob(
	job: Message<SendJob>,
	env: Env,
	db: Database,
	twilio: TwilioClient,
): Promise<void> {
	const messageId = job.body?.messageId;
	const claimed = messageId ? await claimMessage(db, messageId) : null;
	if (!claimed) {
		await explainSkippedJob(db, job);
		return;
	}

	try {
		const created = await twilio.createMessage({
			to: claimed.to,
			from: claimed.from,
			messagingServiceSid: claimed.messagingServiceSid,
			body: claimed.body,
			mediaUrls: JSON.parse(claimed.media) as string[],
			statusCallback: statusCallbackUrl(env, claimed.id),
		});
		await recordCreated(db, claimed, created.sid, created.status);
		log.info("sent", {
			messageId: claimed.id,
			twilioSid: created.sid,
			attempts: job.attempts,
		});
		job.ack();
	} catch (error) {
		if (!(error instanceof TwilioApiError)) throw error;
		await handleTwilioFailure(db, job, claimed, error);
	}
}

/**
 * Takes ownership of the Twilio call for a message: only a `queued` message
 * without a Twilio SID and without a live claim can be claimed, so a
 * redelivered job never sends a message twice.
 */
async function claimMessage(
	db: Database,
	messageId: string,
): Promise<MessageRow | null> {
	const now = Date.now();
	const [row] = await db
		.update(messages)
		.set({ claimedAt: now })
		.where(
			and(
				eq(messages.id, messageId),
				eq(messages.status, "queued"),
				isNull(messages.twilioSid),
				or(
					isNull(messages.claimedAt),
					lt(messages.claimedAt, now - CLAIM_LEASE_MS),
				),
			),
		)
		.returning();
	return row ?? null;
}

/** Acks a job whose message needs no call, or retries one that is busy. */
async function explainSkippedJob(
	db: Database,
	job: Message<SendJob>,
): Promise<void> {
	const messageId = job.body?.messageId;
	const row = messageId
		? await db.query.messages.findFirst({
				where: (table, { eq }) => eq(table.id, messageId),
			})
		: undefined;
	if (row && row.status === "queued" && !row.twilioSid) {
		// Another consumer holds a live claim; look again once it has expired.
		job.retry({ delaySeconds: Math.ceil(CLAIM_LEASE_MS / 1000) });
		return;
	}
	log.info("send_skipped", {
		messageId,
		reason: row ? "already_sent" : "unknown_message",
		status: row?.status,
		twilioSid: row?.twilioSid,
	});
	job.ack();
}

export function statusCallbackUrl(env: Env, messageId: string): string {
	const base = env.PUBLIC_BASE_URL.replace(/\/+$/, "");
	return `${base}/twilio/status?messageId=${encodeURIComponent(messageId)}`;
}

async function recordCreated(
	db: Database,
	row: MessageRow,
	twilioSid: string,
	twilioStatus: string,
): Promise<void> {
	const now = Date.now();
	// A status callback may have arrived before this answer did; the status
	// only moves forward.
	const status = fromTwilioStatus(twilioStatus) ?? "queued";
	await db
		.update(messages)
		.set({ twilioSid, claimedAt: null, updatedAt: now })
		.where(eq(messages.id, row.id));
	if (isForwardTransition(row.status, status)) {
		await db
			.update(messages)
			.set({ status })
			.where(and(eq(messages.id, row.id), eq(messages.status, row.status)));
	}
}

async function handleTwilioFailure(
	db: Database,
	job: Message<SendJob>,
	row: MessageRow,
	error: TwilioApiError,
): Promise<void> {
	const failure = classifyTwilioFailure(error);
	if (failure === "permanent") {
		await markFailed(db, row.id, error);
		log.warn("send_failed", {
			messageId: row.id,
			errorCode: error.code,
			status: error.status,
			error,
		});
		job.ack();
		return;
	}
	// TODO(reliability): an ambiguous failure may have created the message;
	// look it up in Twilio before sending again.
	await db
		.update(messages)
		.set({ claimedAt: null })
		.where(eq(messages.id, row.id));
	log.warn("retried", {
		messageId: row.id,
		attempts: job.attempts,
		errorCode: error.code,
		status: error.status,
		failure,
		error,
	});
	job.retry({ delaySeconds: RETRY_DELAY_SECONDS });
}

async function markFailed(
	db: Database,
	messageId: string,
	error: TwilioApiError,
): Promise<void> {
	const now = Date.now();
	await db.batch([
		db
			.update(messages)
			.set({
				status: "failed",
				errorCode: error.code,
				errorMessage: error.message,
				claimedAt: null,
				updatedAt: now,
			})
			.where(eq(messages.id, messageId)),
		db.insert(messageEvents).values({
			messageId,
			status: "failed",
			source: "consumer",
			errorCode: error.code,
			errorMessage: error.message,
			at: now,
		}),
	]);
}
