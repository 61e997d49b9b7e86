import { and, eq, inArray, sql } from "drizzle-orm";
import { type Database, openDatabase, toStatement } from "../db/client";
import { type MessageRow, messageEvents, messages } from "../db/schema";
import { insertDeadLetterAfterChange } from "../dead-letters/store";
import { log } from "../lib/log";
import {
	fromTwilioStatus,
	isForwardTransition,
	MESSAGE_STATUSES,
} from "../messages/status";
import { countMetric } from "../metrics/record";
import { describeTwilioError } from "../twilio/error-codes";

export interface StatusCallback {
	/** Our message id, from the StatusCallback URL's query. */
	messageId: string | null;
	/** The message's generation when it was sent, from the same query. */
	generation: number | null;
	messageSid: string;
	status: string;
	errorCode: number | null;
	rawDlrDoneDate: string | null;
	/** Event source: `twilio` for a callback, `sweep` for a status the cron fetched. */
	source?: "twilio" | "sweep";
}

export function parseStatusCallback(
	query: URLSearchParams,
	params: URLSearchParams,
): StatusCallback | null {
	const messageSid = params.get("MessageSid") ?? params.get("SmsSid");
	const status = params.get("MessageStatus") ?? params.get("SmsStatus");
	if (!messageSid || !status) return null;
	const errorCode = Number.parseInt(params.get("ErrorCode") ?? "", 10);
	const generation = Number.parseInt(query.get("generation") ?? "", 10);
	return {
		messageId: query.get("messageId"),
		generation: Number.isNaN(generation) ? null : generation,
		messageSid,
		status,
		errorCode: Number.isNaN(errorCode) ? null : errorCode,
		rawDlrDoneDate: params.get("RawDlrDoneDate"),
	};
}

export type CallbackOutcome =
	| "applied"
	| "logged"
	| "duplicate"
	| "unknown_message";

/**
 * Logs a status callback as an event and moves the message's status forward,
 * in one batch. A late callback (`sent` after `delivered`), or one for an
 * attempt before a replay, is logged but changes no status. A repeated one
 * (same SID, status, error and DLR date) changes nothing. A `failed` or
 * `undelivered` status also records a dead letter.
 */
export async function applyStatusCallback(
	env: Env,
	callback: StatusCallback,
): Promise<CallbackOutcome> {
	const db = openDatabase(env.DB);
	const message = await findCallbackMessage(db, callback);
	if (!message) return "unknown_message";

	const status = fromTwilioStatus(callback.status);
	if (status === null) {
		// Not a Message status Twilio documents; storing it could only confuse.
		log.warn("status_callback_ignored", {
			reason: "unknown_status",
			messageId: message.id,
			twilioSid: callback.messageSid,
			status: callback.status.slice(0, 40),
		});
		return "logged";
	}
	const current =
		(callback.generation ?? message.generation) === message.generation &&
		(message.twilioSid === null || message.twilioSid === callback.messageSid);
	const now = Date.now();
	const dedupeKey = [
		callback.messageSid,
		callback.status,
		callback.errorCode ?? "",
		callback.rawDlrDoneDate ?? "",
	].join(":");
	const failed = status === "failed" || status === "undelivered";
	const error = failed ? describeTwilioError(callback.errorCode) : null;

	const [inserted, updated, deadLettered] = await db.$client.batch([
		toStatement(
			db,
			db
				.insert(messageEvents)
				.values({
					messageId: message.id,
					status,
					source: callback.source ?? "twilio",
					errorCode: callback.errorCode,
					errorMessage: error,
					dedupeKey,
					at: now,
				})
				.onConflictDoNothing(),
		),
		toStatement(
			db,
			db
				.update(messages)
				.set({
					status,
					twilioSid: sql`coalesce(${messages.twilioSid}, ${callback.messageSid})`,
					...(failed
						? { errorCode: callback.errorCode, errorMessage: error }
						: {}),
					claimedAt: null,
					updatedAt: now,
				})
				.where(
					and(
						eq(messages.id, message.id),
						// Matches nothing for a callback of an earlier attempt.
						current ? sql`1` : sql`0`,
						inArray(messages.status, earlierStatuses(status)),
					),
				),
		),
		insertDeadLetterAfterChange(
			db,
			{ ...message, twilioSid: callback.messageSid },
			{
				status: status === "undelivered" ? "undelivered" : "failed",
				errorCode: callback.errorCode,
				error: error ?? "",
				retryCount: 0,
				source: callback.source ?? "twilio",
			},
			now,
			failed,
		),
	]);
	if (changed(deadLettered)) {
		countMetric("edge_sms_dead_letters_total", {
			source: callback.source ?? "twilio",
		});
	}
	const outcome: CallbackOutcome = !changed(inserted)
		? "duplicate"
		: changed(updated)
			? "applied"
			: "logged";
	log.info(outcome === "applied" ? "status_changed" : "status_logged", {
		messageId: message.id,
		twilioSid: callback.messageSid,
		status,
		errorCode: callback.errorCode,
		outcome,
	});
	return outcome;
}

async function findCallbackMessage(
	db: Database,
	callback: StatusCallback,
): Promise<MessageRow | null> {
	const message = await db.query.messages.findFirst({
		where: (table, { eq }) =>
			callback.messageId
				? eq(table.id, callback.messageId)
				: eq(table.twilioSid, callback.messageSid),
	});
	return message?.direction === "outbound" ? message : null;
}

function earlierStatuses(status: string): string[] {
	return MESSAGE_STATUSES.filter((candidate) =>
		isForwardTransition(candidate, status),
	);
}

function changed(result: D1Result | undefined): boolean {
	return (result?.meta.changes ?? 0) > 0;
}
