import type { MessageEventRow, MessageRow } from "../db/schema";
import { mediaViews, parseStoredMedia } from "./media";

export function iso(ms: number): string {
	return new Date(ms).toISOString();
}

/** Builds the public JSON form of a stored message. */
export async function messageJson(env: Env, row: MessageRow) {
	const media = await mediaViews(
		env,
		parseStoredMedia(row.media),
		row.direction === "inbound",
	);
	return {
		id: row.id,
		status: row.status,
		direction: row.direction,
		to: row.to,
		from: row.from,
		messagingServiceSid: row.messagingServiceSid,
		body: row.body,
		media,
		segments: row.segments,
		encoding: row.encoding,
		twilioSid: row.twilioSid,
		errorCode: row.errorCode,
		errorMessage: row.errorMessage,
		createdAt: iso(row.createdAt),
		updatedAt: iso(row.updatedAt),
	};
}

export type MessageJson = Awaited<ReturnType<typeof messageJson>>;

export function eventJson(row: MessageEventRow) {
	return {
		status: row.status,
		at: iso(row.at),
		source: row.source,
		...(row.errorCode === null ? {} : { errorCode: row.errorCode }),
		...(row.errorMessage === null ? {} : { errorMessage: row.errorMessage }),
	};
}
