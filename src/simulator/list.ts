import { TwilioApiError } from "./errors";
import { type MessageResource, messagesPath } from "./resource";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000; // a larger PageSize gets 20007

/** Filters of `GET .../Messages.json`. Dates are UTC days as `YYYY-MM-DD`. */
export interface ListFilters {
	to: string | null;
	from: string | null;
	sentOn: string | null;
	sentOnOrBefore: string | null;
	sentOnOrAfter: string | null;
}

/**
 * Start of a page: an offset, or a position given by a page token. Page
 * tokens are opaque to clients. Here `PA<sid>` selects the messages after
 * that one and `PB<sid>` the ones before it, in newest-first order.
 */
export type PageCursor =
	| { kind: "offset"; offset: number }
	| { kind: "after" | "before"; sid: string };

export interface ListQuery {
	filters: ListFilters;
	pageSize: number;
	page: number;
	cursor: PageCursor;
	/** PageToken as given, repeated in `uri`. */
	pageToken: string | null;
}

/** One page of messages from the state, newest first. */
export interface ListRows {
	messages: MessageResource[];
	hasNext: boolean;
}

// Twilio's filter names contain the comparison. `DateSent<` means "on or
// before", and `DateSent>` means "on or after".
const FILTER_PARAMS = ["To", "From", "DateSent", "DateSent<", "DateSent>"];

/** Reads PageSize and Page, which every list of the 2010 API takes. */
export function parsePaging(query: URLSearchParams): {
	pageSize: number;
	page: number;
} {
	const pageSize = integerParam(query, "PageSize") ?? DEFAULT_PAGE_SIZE;
	if (pageSize < 1) {
		throw invalidParameter("PageSize must be at least 1.");
	}
	if (pageSize > MAX_PAGE_SIZE) {
		throw new TwilioApiError(
			400,
			20007,
			`Page size too large. The maximum page size is ${MAX_PAGE_SIZE}.`,
		);
	}
	return { pageSize, page: integerParam(query, "Page") ?? 0 };
}

export function parseListQuery(query: URLSearchParams): ListQuery {
	const { pageSize, page } = parsePaging(query);
	const pageToken = query.get("PageToken");

	return {
		filters: {
			to: query.get("To") || null,
			from: query.get("From") || null,
			sentOn: dayParam(query, "DateSent"),
			sentOnOrBefore: dayParam(query, "DateSent<"),
			sentOnOrAfter: dayParam(query, "DateSent>"),
		},
		pageSize,
		page,
		cursor: pageToken
			? parsePageToken(pageToken)
			: { kind: "offset", offset: page * pageSize },
		pageToken,
	};
}

/** Builds the paged list body, with URIs relative to the API host as in Twilio's. */
export function listPage(
	accountSid: string,
	query: URLSearchParams,
	parsed: ListQuery,
	rows: ListRows,
) {
	const { page, pageSize } = parsed;
	const start = page * pageSize;
	const first = rows.messages.at(0);
	const last = rows.messages.at(-1);
	const pageUri = (pageNumber: number, token: string | null) =>
		listUri(accountSid, query, pageSize, pageNumber, token);

	return {
		messages: rows.messages,
		uri: pageUri(page, parsed.pageToken),
		first_page_uri: pageUri(0, null),
		next_page_uri:
			rows.hasNext && last ? pageUri(page + 1, `PA${last.sid}`) : null,
		previous_page_uri:
			page > 0 && first ? pageUri(page - 1, `PB${first.sid}`) : null,
		page,
		page_size: pageSize,
		start,
		end: rows.messages.length > 0 ? start + rows.messages.length - 1 : start,
	};
}

function listUri(
	accountSid: string,
	query: URLSearchParams,
	pageSize: number,
	page: number,
	pageToken: string | null,
): string {
	const params = new URLSearchParams();
	for (const name of FILTER_PARAMS) {
		const value = query.get(name);
		if (value) params.set(name, value);
	}
	params.set("PageSize", String(pageSize));
	params.set("Page", String(page));
	if (pageToken) params.set("PageToken", pageToken);
	return `${messagesPath(accountSid)}?${params}`;
}

function parsePageToken(token: string): PageCursor {
	const match = /^P([AB])((?:SM|MM)[0-9a-f]{32})$/.exec(token);
	if (!match?.[2]) {
		throw new TwilioApiError(400, 21481, `Invalid PageToken ${token}.`);
	}
	return { kind: match[1] === "A" ? "after" : "before", sid: match[2] };
}

function integerParam(query: URLSearchParams, name: string): number | null {
	const value = query.get(name);
	if (value === null || value === "") return null;
	if (!/^\d+$/.test(value)) {
		throw invalidParameter(`${name} must be a whole number.`);
	}
	return Number(value);
}

/**
 * Reads a `DateSent` filter as a UTC day, as Twilio compares them. Twilio's
 * OpenAPI description documents only `YYYY-MM-DD`, but its examples pass
 * other formats too, so any date that `Date.parse` reads is accepted.
 */
function dayParam(query: URLSearchParams, name: string): string | null {
	const value = query.get(name);
	if (!value) return null;
	if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;

	const time = Date.parse(value);
	if (Number.isNaN(time)) {
		throw invalidParameter(`${name} is not a date: ${value}.`);
	}
	return new Date(time).toISOString().slice(0, 10);
}

/**
 * NOTE: Twilio documents no code for a malformed list parameter. The
 * simulator uses 20001 (Twilio's "unknown parameters" code) with HTTP 400.
 */
function invalidParameter(message: string): TwilioApiError {
	return new TwilioApiError(400, 20001, message);
}
