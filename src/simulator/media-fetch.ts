import type { StepFailure } from "./callbacks";
import { WEBHOOK_TIMEOUT_MS } from "./webhook";

/** Twilio's cap on all media of one MMS (error 11751 above it). */
export const MAX_MMS_MEDIA_BYTES = 5 * 1024 * 1024;

const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Result of fetching one MediaUrl of an outbound MMS, as
 * `GET /simulator/messages` lists it.
 */
export interface MediaFetchRecord {
	url: string;
	/** Status of the last response (after redirects), or null when none arrived. */
	status: number | null;
	/** Content-Type of the GET response as sent, or of the HEAD response when the GET was not made. */
	contentType: string | null;
	/** Bytes in the GET response's body, or null when there was no GET response. */
	size: number | null;
	/** Reason the item made the message fail, or null. */
	error: string | null;
}

export interface MediaFetchResult {
	records: MediaFetchRecord[];
	/** Null when every item was retrieved with a usable Content-Type. */
	failure: StepFailure | null;
}

/** Sends one request and returns the response. state.ts serves the simulator's own URLs in-process. */
export type Fetcher = (request: Request) => Promise<Response>;

/**
 * Fetches each MediaUrl as Twilio does before sending an MMS: HEAD, then
 * GET, both following redirects, to learn the Content-Type and the size.
 * It stops at the first item that fails. The error codes are a choice,
 * because Twilio documents the failures only loosely:
 *
 * - 11200 (HTTP retrieval failure): no response, a timeout, a status other
 *   than 2xx, or more than 10 redirects, on the HEAD or the GET.
 * - 12300 (invalid Content-Type): a 2xx response without a Content-Type, or
 *   HEAD and GET naming different types. Twilio's text for 11200 also
 *   mentions a missing Content-Type, but 12300 names the problem more
 *   precisely.
 * - 11751: all items together exceed 5 MB.
 *
 * Twilio also rejects a type that does not match the bytes, and limits
 * types other than JPEG, PNG and GIF to 500 KB; the simulator checks
 * neither.
 */
export async function fetchOutboundMedia(
	urls: string[],
	fetcher: Fetcher,
): Promise<MediaFetchResult> {
	const records: MediaFetchRecord[] = [];
	let totalBytes = 0;
	for (const url of urls) {
		const { record, failure } = await fetchOne(url, fetcher);
		records.push(record);
		if (failure) return { records, failure };
		totalBytes += record.size ?? 0;
	}
	if (totalBytes > MAX_MMS_MEDIA_BYTES) {
		return {
			records,
			failure: {
				errorCode: 11751,
				errorMessage: `Media exceeds the MMS size limit of ${MAX_MMS_MEDIA_BYTES} bytes`,
			},
		};
	}
	return { records, failure: null };
}

const RETRIEVAL_FAILURE = 11200;
const INVALID_CONTENT_TYPE = 12300;

async function fetchOne(
	url: string,
	fetcher: Fetcher,
): Promise<{ record: MediaFetchRecord; failure: StepFailure | null }> {
	const record: MediaFetchRecord = {
		url,
		status: null,
		contentType: null,
		size: null,
		error: null,
	};
	const fail = (code: number, error: string) => {
		record.error = error;
		return {
			record,
			failure: {
				errorCode: code,
				errorMessage:
					code === RETRIEVAL_FAILURE
						? "HTTP retrieval failure"
						: "Invalid Content-Type",
			},
		};
	};

	const head = await retrieve(url, "HEAD", fetcher);
	if ("error" in head) return fail(RETRIEVAL_FAILURE, `HEAD: ${head.error}`);
	record.status = head.response.status;
	record.contentType = head.response.headers.get("Content-Type");
	if (!head.response.ok) {
		return fail(RETRIEVAL_FAILURE, `HEAD returned ${head.response.status}`);
	}
	const headType = mediaType(record.contentType);

	const get = await retrieve(url, "GET", fetcher);
	if ("error" in get) return fail(RETRIEVAL_FAILURE, `GET: ${get.error}`);
	record.status = get.response.status;
	record.contentType = get.response.headers.get("Content-Type");
	if (!get.response.ok) {
		await get.response.body?.cancel();
		return fail(RETRIEVAL_FAILURE, `GET returned ${get.response.status}`);
	}
	try {
		record.size = await bodySize(get.response);
	} catch (error) {
		return fail(RETRIEVAL_FAILURE, `GET body: ${messageOf(error)}`);
	}

	const getType = mediaType(record.contentType);
	if (headType === null || getType === null) {
		return fail(
			INVALID_CONTENT_TYPE,
			`${headType === null ? "HEAD" : "GET"} response has no Content-Type`,
		);
	}
	if (headType !== getType) {
		return fail(
			INVALID_CONTENT_TYPE,
			`HEAD says ${headType} but GET says ${getType}`,
		);
	}
	return { record, failure: null };
}

/** Follows up to 10 redirects, each request with Twilio's 15-second limit. */
async function retrieve(
	url: string,
	method: "HEAD" | "GET",
	fetcher: Fetcher,
): Promise<{ response: Response } | { error: string }> {
	let target = url;
	for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
		let response: Response;
		try {
			response = await fetcher(
				new Request(target, {
					method,
					redirect: "manual",
					signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
				}),
			);
		} catch (error) {
			return { error: messageOf(error) };
		}
		const location = response.headers.get("Location");
		if (!REDIRECT_STATUSES.has(response.status) || location === null) {
			return { response };
		}
		await response.body?.cancel();
		try {
			target = new URL(location, target).href;
		} catch {
			return { error: `invalid Location header ${JSON.stringify(location)}` };
		}
	}
	return { error: `more than ${MAX_REDIRECTS} redirects` };
}

/** Returns the media type without parameters, lowercased, or null when absent. */
function mediaType(contentType: string | null): string | null {
	const type = contentType?.split(";", 1)[0]?.trim().toLowerCase() ?? "";
	return type === "" ? null : type;
}

async function bodySize(response: Response): Promise<number> {
	if (response.body === null) return 0;
	const reader = response.body.getReader();
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) return size;
		size += (value as Uint8Array).byteLength;
	}
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
