import { computeTwilioSignature } from "../twilio/signature";

/** Twilio stops waiting for a webhook's response after 15 seconds. */
export const WEBHOOK_TIMEOUT_MS = 15_000;

export interface WebhookResult {
	signature: string;
	/** HTTP status, or null when no response arrived. `error` then contains the reason. */
	status: number | null;
	contentType: string | null;
	body: string | null;
	error: string | null;
}

/**
 * POSTs `params` form-encoded to `url`, signed as Twilio signs webhooks.
 *
 * The signature covers the URL exactly as configured, query included, but
 * without a `#fragment`. Twilio reads connection overrides such as `#rc=2`
 * from the fragment and leaves it out of the signed string.
 *
 * NOTE: each webhook is sent once. By default Twilio retries once when the
 * TCP or TLS connection fails, and that retry is not simulated.
 */
export async function postSignedForm(
	url: string,
	params: URLSearchParams,
	authToken: string,
): Promise<WebhookResult> {
	const target = url.split("#", 1)[0] ?? url;
	const signature = await computeTwilioSignature(authToken, target, params);

	try {
		const response = await fetch(target, {
			method: "POST",
			headers: {
				"Content-Type": "application/x-www-form-urlencoded",
				"User-Agent": "TwilioProxy/1.1",
				"X-Twilio-Signature": signature,
			},
			body: params.toString(),
			signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
		});
		return {
			signature,
			status: response.status,
			contentType: response.headers.get("Content-Type"),
			body: await response.text(),
			error: null,
		};
	} catch (error) {
		return {
			signature,
			status: null,
			contentType: null,
			body: null,
			error: error instanceof Error ? error.message : String(error),
		};
	}
}
