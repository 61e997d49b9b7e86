import type { MessageEventRow, MessageRow } from "../db/schema";

export function iso(ms: number): string {
	return new Date(ms).toISOString();
}

/** The public JSON form of a stored message. */
export function messageJson(row: MessageRow) {
	return {
		id: row.id,
		status: row.status,
		direction: row.direction,
		to: row.to,
		from: row.from,
		messagingServiceSid: row.messagingServiceSid,
		body: row.body,
		media: JSON.parse(row.media) as string[],
		segments: row.segments,
		encoding: row.encoding,
		twilioSid: row.twilioSid,
		errorCode: row.errorCode,
		errorMessage: row.errorMessage,
		createdAt: iso(row.createdAt),
		updatedAt: iso(row.updatedAt),
	};
}

export type MessageJson = ReturnType<typeof messageJson>;

export function eventJson(row: MessageEventRow) {
	return {
		status: row.status,
		at: iso(row.at),
		source: row.source,
		...(row.errorCode === null ? {} : { errorCode: row.errorCode }),
		...(row.errorMessage === null ? {} : { errorMessage: row.errorMessage }),
	};
}
