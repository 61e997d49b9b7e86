import { and, eq, isNull, lt, or } from "drizzle-orm";
import { type Database, openDatabase } from "../db/client";
import { type MessageRow, messageEvents, messages } from "../db/schema";
import { failMessage } from "../dead-letters/store";
import { log } from "../lib/log";
import { parseStoredMedia, twilioMediaUrls } from "../messages/media";
import { fromTwilioStatus, isForwardTransition } from "../messages/status";
import { countMetric } from "../metrics/record";
import { optOutSender, recordOptOut } from "../opt-outs/store";
import { reportSenderThrottled } from "../ratelimit/pacing";
import { TwilioApiError, TwilioClient } from "../twilio/client";
import { describeTwilioError } from "../twilio/error-codes";
import { classifyTwilioFailure } from "../twilio/errors";
import { backoffSeconds, backoffSettings } from "./backoff";
import type { SendJob } from "./jobs";
import { paceSend } from "./pacing";
import { findCreatedMessage } from "./reconcile";

/**
 * How long a consumer owns a message it claimed. A claim older than this
 * belongs to a consumer that died mid-call, and may be taken over.
 */
export const CLAIM_LEASE_MS = 60_000;

interface SendContext {
	env: Env;
	db: Database;
	twilio: TwilioClient;
}

/** Sends each message of the batch through Twilio and acks it on its own. */
export async function handleOutboundBatch(
	batch: MessageBatch<SendJob>,
	env: Env,
): Promise<void> {
	const context: SendContext = {
		env,
		db: openDatabase(env.DB),
		twilio: new TwilioClient(env),
	};
	await Promise.all(
		batch.messages.map((job) =>
			processSendJob(job, context).catch((error) => {
				const delaySeconds = backoffSeconds(job.attempts, backoffSettings(env));
				log.error("send_job_failed", {
					messageId: job.body?.messageId,
					attempts: job.attempts,
					delaySeconds,
					error,
				});
				countMetric("edge_sms_send_retries_total", { reason: "error" });
				job.retry({ delaySeconds });
			}),
		),
	);
}

async function processSendJob(
	job: Message<SendJob>,
	context: SendContext,
): Promise<void> {
	const messageId = job.body?.messageId;
	const claimed = messageId ? await claimMessage(context.db, messageId) : null;
	if (!claimed) {
		await explainSkippedJob(context.db, job);
		return;
	}

	// An earlier attempt may have created the message before failing; if
	// Twilio has it, record it instead of sending a second copy.
	if (claimed.ambiguousAt !== null) {
		const existing = await findCreatedMessage(context, claimed);
		if (existing) {
			await recordCreated(context.db, claimed, existing.sid, existing.status);
			log.info("sent", {
				messageId: claimed.id,
				twilioSid: existing.sid,
				attempts: job.attempts,
				reconciled: true,
			});
			job.ack();
			return;
		}
	}

	if (!(await waitForSendSlot(context, job, claimed))) return;

	try {
		const created = await context.twilio.createMessage({
			to: claimed.to,
			from: claimed.from,
			messagingServiceSid: claimed.messagingServiceSid,
			body: claimed.body,
			mediaUrls: await twilioMediaUrls(
				context.env,
				parseStoredMedia(claimed.media),
			),
			statusCallback: statusCallbackUrl(context.env, claimed),
		});
		countMetric("edge_sms_twilio_requests_total", {
			outcome: "created",
			error_code: "none",
		});
		await recordCreated(context.db, claimed, created.sid, created.status);
		log.info("sent", {
			messageId: claimed.id,
			twilioSid: created.sid,
			attempts: job.attempts,
		});
		job.ack();
	} catch (error) {
		if (!(error instanceof TwilioApiError)) throw error;
		await handleTwilioFailure(context, job, claimed, error);
	}
}

/**
 * Waits for the sender's send slot (Twilio's per-sender rate). When the slot
 * is far, the claim is released and a fresh job carrying the booked slot is
 * enqueued with a delay, so pacing never spends the job's retries. Returns
 * whether the message may be sent now.
 */
async function waitForSendSlot(
	context: SendContext,
	job: Message<SendJob>,
	message: MessageRow,
): Promise<boolean> {
	const decision = await paceSend(context.env, job.body, message);
	if (decision.kind === "send") return true;
	await context.db
		.update(messages)
		.set({ claimedAt: null })
		.where(eq(messages.id, message.id));
	await context.env.OUTBOUND_QUEUE.send(decision.job, {
		delaySeconds: decision.delaySeconds,
	});
	job.ack();
	log.info("send_paced", {
		messageId: message.id,
		slotAt: decision.job.slotAt,
		delaySeconds: decision.delaySeconds,
	});
	return false;
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
		// Another consumer has a live claim, so look again once it has expired.
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

/**
 * Builds the StatusCallback URL for a message. It carries the message id, so a
 * callback is matched even before the SID is stored, and the generation, so
 * callbacks for an attempt before a replay can be ignored.
 */
export function statusCallbackUrl(env: Env, message: MessageRow): string {
	const base = env.PUBLIC_BASE_URL.replace(/\/+$/, "");
	const id = encodeURIComponent(message.id);
	return `${base}/twilio/status?messageId=${id}&generation=${message.generation}`;
}

async function recordCreated(
	db: Database,
	row: MessageRow,
	twilioSid: string,
	twilioStatus: string,
): Promise<void> {
	const now = Date.now();
	await db
		.update(messages)
		.set({ twilioSid, claimedAt: null, ambiguousAt: null, updatedAt: now })
		.where(eq(messages.id, row.id));
	// A status callback may have arrived before this response did; the status
	// only moves forward.
	const status = fromTwilioStatus(twilioStatus) ?? "queued";
	if (isForwardTransition(row.status, status)) {
		await db
			.update(messages)
			.set({ status })
			.where(and(eq(messages.id, row.id), eq(messages.status, row.status)));
	}
}

async function handleTwilioFailure(
	context: SendContext,
	job: Message<SendJob>,
	row: MessageRow,
	error: TwilioApiError,
): Promise<void> {
	const failure = classifyTwilioFailure(error);
	const reason = describeTwilioError(error.code, error.message);
	countMetric("edge_sms_twilio_requests_total", {
		outcome: failure,
		error_code: error.code ?? "none",
	});
	if (failure === "permanent") {
		const sender = optOutSender(row);
		if (error.code === 21610 && sender) {
			// Twilio keeps its own opt-out list; mirror it so the API rejects
			// the next send before it is queued.
			await recordOptOut(context.db, row.to, sender, "twilio_21610");
		}
		const recorded = await failMessage(context.db, row, {
			status: "failed",
			errorCode: error.code,
			error: reason,
			retryCount: job.attempts - 1,
			source: "consumer",
		});
		if (recorded)
			countMetric("edge_sms_dead_letters_total", { source: "consumer" });
		log.warn("dead_lettered", {
			messageId: row.id,
			errorCode: error.code,
			httpStatus: error.status,
			attempts: job.attempts,
		});
		job.ack();
		return;
	}

	const sender = row.from ?? row.messagingServiceSid;
	if (sender && (error.status === 429 || error.code === 20429)) {
		await reportSenderThrottled(context.env, sender);
	}
	const delaySeconds = backoffSeconds(
		job.attempts,
		backoffSettings(context.env),
	);
	const now = Date.now();
	await context.db.batch([
		context.db
			.update(messages)
			.set({
				claimedAt: null,
				updatedAt: now,
				...(failure === "ambiguous" ? { ambiguousAt: now } : {}),
			})
			.where(eq(messages.id, row.id)),
		context.db.insert(messageEvents).values({
			messageId: row.id,
			status: "retrying",
			source: "consumer",
			errorCode: error.code,
			errorMessage: `${reason}; attempt ${job.attempts}, next in ${delaySeconds} s`,
			at: now,
		}),
	]);
	log.warn("retried", {
		messageId: row.id,
		attempts: job.attempts,
		delaySeconds,
		errorCode: error.code,
		httpStatus: error.status,
		failure,
	});
	countMetric("edge_sms_send_retries_total", { reason: failure });
	job.retry({ delaySeconds });
}
