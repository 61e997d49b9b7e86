import { and, eq, inArray, sql } from "drizzle-orm";
import { openDatabase } from "../db/client";
import { messageEvents, messages } from "../db/schema";
import { log } from "../lib/log";
import {
	fromTwilioStatus,
	isForwardTransition,
	MESSAGE_STATUSES,
} from "../messages/status";

export interface StatusCallback {
	/** Our message id, from the StatusCallback URL's query. */
	messageId: string | null;
	messageSid: string;
	status: string;
	errorCode: number | null;
	rawDlrDoneDate: string | null;
}

export function parseStatusCallback(
	query: URLSearchParams,
	params: URLSearchParams,
): StatusCallback | null {
	const messageSid = params.get("MessageSid") ?? params.get("SmsSid");
	const status = params.get("MessageStatus") ?? params.get("SmsStatus");
	if (!messageSid || !status) return null;
	const errorCode = Number.parseInt(params.get("ErrorCode") ?? "", 10);
	return {
		messageId: query.get("messageId"),
		messageSid,
		status,
		errorCode: Number.isNaN(errorCode) ? null : errorCode,
		rawDlrDoneDate: params.get("RawDlrDoneDate"),
	};
}

/**
 * Logs a status callback as an event and moves the message's status forward.
 * A late callback (`sent` after `delivered`) is logged but changes no status;
 * a repeated one (same SID, status, error and DLR date) changes nothing.
 */
export async function applyStatusCallback(
	env: Env,
	callback: StatusCallback,
): Promise<"applied" | "logged" | "duplicate" | "unknown_message"> {
	const db = openDatabase(env.DB);
	const message = await db.query.messages.findFirst({
		where: (table, { eq }) =>
			callback.messageId
				? eq(table.id, callback.messageId)
				: eq(table.twilioSid, callback.messageSid),
	});
	if (message?.direction !== "outbound") return "unknown_message";
	if (message.twilioSid && message.twilioSid !== callback.messageSid) {
		return "unknown_message";
	}

	const status = fromTwilioStatus(callback.status) ?? callback.status;
	const now = Date.now();
	const dedupeKey = [
		callback.messageSid,
		callback.status,
		callback.errorCode ?? "",
		callback.rawDlrDoneDate ?? "",
	].join(":");
	const [inserted] = await db
		.insert(messageEvents)
		.values({
			messageId: message.id,
			status,
			source: "twilio",
			errorCode: callback.errorCode,
			dedupeKey,
			at: now,
		})
		.onConflictDoNothing()
		.returning({ id: messageEvents.id });
	if (!inserted) return "duplicate";

	const earlier = MESSAGE_STATUSES.filter((candidate) =>
		isForwardTransition(candidate, status),
	);
	const failed = status === "failed" || status === "undelivered";
	const [updated] = await db
		.update(messages)
		.set({
			status,
			twilioSid: sql`coalesce(${messages.twilioSid}, ${callback.messageSid})`,
			errorCode: failed ? callback.errorCode : messages.errorCode,
			updatedAt: now,
		})
		.where(and(eq(messages.id, message.id), inArray(messages.status, earlier)))
		.returning({ id: messages.id });
	log.info(updated ? "status_changed" : "status_logged", {
		messageId: message.id,
		twilioSid: callback.messageSid,
		status,
		errorCode: callback.errorCode,
	});
	return updated ? "applied" : "logged";
}
