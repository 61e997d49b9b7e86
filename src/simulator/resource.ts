import { toHex } from "../lib/ids";
import { countSegments } from "../messages/segments";

export const API_VERSION = "2010-04-01";

/** Message statuses that the simulator uses. Twilio's enum has more. */
export type MessageStatus =
	| "accepted"
	| "queued"
	| "sent"
	| "delivered"
	| "undelivered"
	| "failed"
	| "received";

export type Direction = "inbound" | "outbound-api";

/**
 * Twilio's Message resource (`api.v2010.account.message`) with every
 * property of its schema. Counts are strings and dates are RFC 2822
 * strings, as on the wire.
 */
export interface MessageResource {
	account_sid: string;
	api_version: typeof API_VERSION;
	body: string;
	date_created: string;
	date_sent: string | null;
	date_updated: string;
	direction: Direction;
	error_code: number | null;
	error_message: string | null;
	from: string | null;
	messaging_service_sid: string | null;
	num_media: string;
	num_segments: string;
	price: string | null;
	price_unit: string;
	sid: string;
	status: MessageStatus;
	subresource_uris: { media: string; feedback: string };
	to: string;
	uri: string;
}

/** One step of a message's life, applied when it falls due. */
export interface StatusStep {
	status: MessageStatus;
	errorCode?: number;
	errorMessage?: string;
	/** Set when the step assigns the sender, as a Messaging Service does. */
	from?: string;
}

/** Creates a 34-character SID: the two-letter kind, then 32 random hex digits. */
export function newSid(prefix: "SM" | "MM" | "ME"): string {
	return prefix + toHex(crypto.getRandomValues(new Uint8Array(16)));
}

export function messagesPath(accountSid: string): string {
	return `/2010-04-01/Accounts/${accountSid}/Messages.json`;
}

/** Formats `date` in RFC 2822 and GMT as Twilio does: `Thu, 24 Aug 2023 05:01:45 +0000`. */
export function rfc2822(date: Date): string {
	return date.toUTCString().replace(/GMT$/, "+0000");
}

/**
 * Returns `num_segments` for a message whose sender is known.
 *
 * NOTE: an MMS counts as one segment whatever its text. That is an
 * assumption, because Twilio does not document `num_segments` for MMS.
 */
export function segmentsOf(body: string, numMedia: number): string {
	if (numMedia > 0) return "1";
	return String(Math.max(1, countSegments(body).segments));
}

export function newMessageResource(input: {
	sid: string;
	accountSid: string;
	direction: Direction;
	status: MessageStatus;
	from: string | null;
	to: string;
	body: string;
	numMedia: number;
	messagingServiceSid: string | null;
	now: Date;
}): MessageResource {
	const { sid, accountSid, now } = input;
	const base = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}`;
	// A Messaging Service send reports "0" segments until it has a sender.
	const senderChosen = input.from !== null;
	return {
		account_sid: accountSid,
		api_version: API_VERSION,
		body: input.body,
		date_created: rfc2822(now),
		date_sent: input.direction === "inbound" ? rfc2822(now) : null,
		date_updated: rfc2822(now),
		direction: input.direction,
		error_code: null,
		error_message: null,
		from: input.from,
		messaging_service_sid: input.messagingServiceSid,
		num_media: String(input.numMedia),
		num_segments: senderChosen ? segmentsOf(input.body, input.numMedia) : "0",
		price: null,
		price_unit: "USD",
		sid,
		status: input.status,
		subresource_uris: {
			media: `${base}/Media.json`,
			feedback: `${base}/Feedback.json`,
		},
		to: input.to,
		uri: `${base}.json`,
	};
}

/** Returns the resource after `step`. `date_sent` is set when the message is sent. */
export function applyStep(
	resource: MessageResource,
	step: StatusStep,
	now: Date,
): MessageResource {
	const next: MessageResource = {
		...resource,
		status: step.status,
		date_updated: rfc2822(now),
	};
	if (step.from !== undefined) {
		next.from = step.from;
		next.num_segments = segmentsOf(resource.body, Number(resource.num_media));
	}
	if (step.status === "sent") {
		next.date_sent = rfc2822(now);
	}
	if (step.errorCode !== undefined) {
		next.error_code = step.errorCode;
		next.error_message = step.errorMessage ?? null;
	}
	return next;
}
