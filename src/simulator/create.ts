import { TwilioApiError } from "./errors";
import { REJECTED_RECIPIENTS, REJECTED_SENDERS, VALID_SENDER } from "./numbers";

/** Limits of `POST .../Messages.json`, each with Twilio's error code for exceeding it. */
export const MAX_BODY_CHARS = 1600; // 21617
export const MAX_MEDIA_URLS = 10; // 21623
export const MAX_STATUS_CALLBACK_CHARS = 4000; // 21609

/** Fields of a create request that the simulator uses. */
export interface CreateRequest {
	to: string;
	/** Null when only a Messaging Service was given. */
	from: string | null;
	messagingServiceSid: string | null;
	body: string;
	mediaUrls: string[];
	statusCallback: string | null;
}

// E.164, optionally behind a channel prefix such as "whatsapp:".
const ADDRESS = /^(?:[a-z]+:)?\+[1-9]\d{1,14}$/;
const SHORT_CODE = /^\d{3,8}$/;
// Up to 11 letters, digits and spaces, with at least one letter.
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z\d ]{1,11}$/;

/**
 * Parses the form fields as Twilio does and throws the TwilioApiError that
 * Twilio would return. Empty fields count as missing. Checks run in a fixed
 * order, so a request with several problems always gets the same code.
 * Twilio does not document the order of its own checks.
 */
export function parseCreateRequest(form: URLSearchParams): CreateRequest {
	const request: CreateRequest = {
		to: form.get("To") ?? "",
		from: form.get("From") || null,
		messagingServiceSid: form.get("MessagingServiceSid") || null,
		body: form.get("Body") ?? "",
		mediaUrls: form.getAll("MediaUrl").filter((url) => url !== ""),
		statusCallback: form.get("StatusCallback") || null,
	};

	checkRequiredFields(request);
	checkContent(request);
	checkStatusCallback(request.statusCallback);
	checkAddresses(request);
	return request;
}

function checkRequiredFields(request: CreateRequest): void {
	if (request.to === "") {
		throw badRequest(21604, "A 'To' phone number is required.");
	}
	if (request.from === null && request.messagingServiceSid === null) {
		throw badRequest(21603, "A 'From' phone number is required.");
	}
	if (request.body === "" && request.mediaUrls.length === 0) {
		throw badRequest(21602, "Message body is required.");
	}
}

function checkContent(request: CreateRequest): void {
	// Counted in UTF-16 code units, so an emoji uses two of the 1600. Twilio
	// states only that emoji and similar characters can count as several.
	if (request.body.length > MAX_BODY_CHARS) {
		throw badRequest(
			21617,
			`The concatenated message body exceeds the ${MAX_BODY_CHARS} character limit.`,
		);
	}
	if (request.mediaUrls.length > MAX_MEDIA_URLS) {
		throw badRequest(
			21623,
			`Too many media URLs. The maximum is ${MAX_MEDIA_URLS}.`,
		);
	}
	const invalidUrl = request.mediaUrls.find((url) => !isHttpUrl(url));
	if (invalidUrl !== undefined) {
		throw badRequest(
			21620,
			`The media URL ${invalidUrl} is invalid. Use an http:// or https:// URL.`,
		);
	}
}

/** Throws 21609 unless `url` is http(s), at most 4000 characters, with no "_" in the host. */
function checkStatusCallback(url: string | null): void {
	if (url === null) return;
	const valid =
		url.length <= MAX_STATUS_CALLBACK_CHARS &&
		isHttpUrl(url) &&
		!new URL(url).hostname.includes("_");
	if (!valid) {
		throw badRequest(
			21609,
			`The StatusCallback URL ${url} is not a valid URL.`,
		);
	}
}

function checkAddresses(request: CreateRequest): void {
	const { to, from } = request;
	if (from !== null) {
		const validSender =
			ADDRESS.test(from) ||
			SHORT_CODE.test(from) ||
			ALPHANUMERIC_SENDER.test(from);
		const rejected = REJECTED_SENDERS.get(from);
		if (!validSender) {
			throw badRequest(
				21212,
				`The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`,
			);
		}
		if (rejected) {
			throw badRequest(rejected.code, rejected.message(to, from));
		}
	}

	if (!ADDRESS.test(to)) {
		throw badRequest(
			21211,
			`The 'To' number ${to} is not a valid phone number.`,
		);
	}
	const rejected = REJECTED_RECIPIENTS.get(to);
	if (rejected) {
		throw badRequest(rejected.code, rejected.message(to, from ?? VALID_SENDER));
	}
}

function isHttpUrl(value: string): boolean {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		return false;
	}
	const { protocol, hostname } = url;
	return (protocol === "http:" || protocol === "https:") && hostname !== "";
}

function badRequest(code: number, message: string): TwilioApiError {
	return new TwilioApiError(400, code, message);
}
