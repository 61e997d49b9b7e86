import { fetcher } from "itty-fetcher";
import type {
	TwilioErrorBody,
	TwilioMessage,
	TwilioMessagePage,
} from "./types";

/** How long one REST call may take before it is treated as a timeout. */
export const TWILIO_REQUEST_TIMEOUT_MS = 10_000;

/** A failed Twilio REST call: an HTTP error, a timeout or a network error. */
export class TwilioApiError extends Error {
	/** HTTP status, or 0 when no response arrived (timeout, network error). */
	readonly status: number;
	/** Twilio's error code, such as 21211, when the response carried one. */
	readonly code: number | null;
	readonly timedOut: boolean;

	constructor(
		message: string,
		options: {
			status: number;
			code?: number | null;
			timedOut?: boolean;
			cause?: unknown;
		},
	) {
		super(message, { cause: options.cause });
		this.name = "TwilioApiError";
		this.status = options.status;
		this.code = options.code ?? null;
		this.timedOut = options.timedOut ?? false;
	}
}

export interface CreateMessageParams {
	to: string;
	from: string | null;
	messagingServiceSid: string | null;
	body: string;
	mediaUrls: string[];
	statusCallback: string;
}

/** A minimal client for Twilio's Messages resource, over fetch. */
export class TwilioClient {
	private readonly api;
	private readonly accountPath: string;

	constructor(env: Env) {
		const username = env.TWILIO_API_KEY_SID || env.TWILIO_ACCOUNT_SID;
		const password = env.TWILIO_API_KEY_SID
			? env.TWILIO_API_KEY_SECRET
			: env.TWILIO_AUTH_TOKEN;
		this.api = fetcher({
			base: env.TWILIO_API_BASE.replace(/\/+$/, ""),
			headers: {
				Authorization: `Basic ${btoa(`${username}:${password}`)}`,
				Accept: "application/json",
			},
		});
		this.accountPath = `/2010-04-01/Accounts/${env.TWILIO_ACCOUNT_SID}`;
	}

	/** Sends a message: `POST Messages.json`, form-encoded. */
	createMessage(params: CreateMessageParams): Promise<TwilioMessage> {
		const form = new URLSearchParams({ To: params.to });
		if (params.from) form.set("From", params.from);
		if (params.messagingServiceSid) {
			form.set("MessagingServiceSid", params.messagingServiceSid);
		}
		if (params.body) form.set("Body", params.body);
		// Twilio reads an array parameter as the key repeated once per value.
		for (const url of params.mediaUrls) form.append("MediaUrl", url);
		form.set("StatusCallback", params.statusCallback);
		return this.call(async () => {
			const created: TwilioMessage = await this.api.post(
				`${this.accountPath}/Messages.json`,
				form.toString(),
				{
					headers: { "Content-Type": "application/x-www-form-urlencoded" },
					signal: AbortSignal.timeout(TWILIO_REQUEST_TIMEOUT_MS),
				},
			);
			if (typeof created?.sid !== "string") {
				// A 2xx without a Message resource: whether Twilio created the
				// message is unknown.
				throw new TwilioApiError("Twilio responded without a message SID", {
					status: 502,
				});
			}
			return created;
		});
	}

	fetchMessage(sid: string): Promise<TwilioMessage> {
		return this.call(() =>
			this.api.get(`${this.accountPath}/Messages/${sid}.json`, {
				signal: AbortSignal.timeout(TWILIO_REQUEST_TIMEOUT_MS),
			}),
		);
	}

	/**
	 * Lists the newest messages to `to` (and from `from`), optionally only
	 * those sent on or after the day of `sentAfter`. A message not sent yet
	 * has no send date, so the date filter leaves it out.
	 */
	listMessages(filter: {
		to: string;
		from?: string | null;
		sentAfter?: Date;
	}): Promise<TwilioMessagePage> {
		const query: Record<string, string> = { To: filter.to, PageSize: "100" };
		if (filter.from) query.From = filter.from;
		if (filter.sentAfter) {
			query["DateSent>"] = filter.sentAfter.toISOString().slice(0, 10);
		}
		return this.call(() =>
			this.api.get(`${this.accountPath}/Messages.json`, {
				query,
				signal: AbortSignal.timeout(TWILIO_REQUEST_TIMEOUT_MS),
			}),
		);
	}

	/** Fetches the page named by a list response's `next_page_uri`. */
	listMessagesPage(nextPageUri: string): Promise<TwilioMessagePage> {
		if (!nextPageUri.startsWith(`${this.accountPath}/Messages.json`)) {
			throw new TwilioApiError(`Unexpected next page URI '${nextPageUri}'`, {
				status: 502,
			});
		}
		return this.call(() =>
			this.api.get(nextPageUri, {
				signal: AbortSignal.timeout(TWILIO_REQUEST_TIMEOUT_MS),
			}),
		);
	}

	private async call<T>(request: () => Promise<T>): Promise<T> {
		try {
			return await request();
		} catch (error) {
			if (error instanceof TwilioApiError) throw error;
			throw toTwilioApiError(error);
		}
	}
}

function toTwilioApiError(error: unknown): TwilioApiError {
	// itty-fetcher throws an object with the HTTP status and the parsed body's
	// fields for a non-2xx response; fetch itself throws for network errors.
	const failure = error as TwilioErrorBody & { status?: unknown };
	if (typeof failure?.status === "number") {
		const code = typeof failure.code === "number" ? failure.code : null;
		const message =
			typeof failure.message === "string" && failure.message
				? failure.message
				: `Twilio responded with HTTP ${failure.status}`;
		return new TwilioApiError(message, {
			status: failure.status,
			code,
			cause: error,
		});
	}
	const timedOut =
		error instanceof DOMException &&
		(error.name === "TimeoutError" || error.name === "AbortError");
	const message = timedOut
		? `Twilio did not respond within ${TWILIO_REQUEST_TIMEOUT_MS} ms`
		: `Twilio could not be reached: ${String((error as Error)?.message ?? error)}`;
	return new TwilioApiError(message, { status: 0, timedOut, cause: error });
}
