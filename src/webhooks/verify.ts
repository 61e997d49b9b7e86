import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../api/context";
import { log } from "../lib/log";
import { countMetric } from "../metrics/record";
import { verifyTwilioSignature } from "../twilio/signature";

/**
 * Returns the URL Twilio signed: PUBLIC_BASE_URL with the request's path and
 * query. It is never rebuilt from Host or X-Forwarded-* headers, which a caller controls.
 */
export function signedUrl(env: Env, requestUrl: string): string {
	const url = new URL(requestUrl);
	// Take the query as it arrived: URL parsing would re-encode characters
	// such as the apostrophe and change what was signed.
	const queryStart = requestUrl.indexOf("?");
	const query = queryStart >= 0 ? requestUrl.slice(queryStart) : "";
	return `${env.PUBLIC_BASE_URL.replace(/\/+$/, "")}${url.pathname}${query}`;
}

export interface WebhookVariables {
	params: URLSearchParams;
}

/**
 * Rejects, with 403 and no write, a webhook whose X-Twilio-Signature does not
 * match TWILIO_AUTH_TOKEN; stores the form parameters as `params`.
 */
export const verifyTwilioWebhook = createMiddleware<{
	Bindings: AppEnv["Bindings"];
	Variables: WebhookVariables;
}>(async (c, next) => {
	const params = new URLSearchParams(await c.req.text());
	const signature = c.req.header("X-Twilio-Signature");
	const url = signedUrl(c.env, c.req.url);
	const valid =
		Boolean(c.env.TWILIO_AUTH_TOKEN) &&
		(await verifyTwilioSignature({
			authToken: c.env.TWILIO_AUTH_TOKEN,
			url,
			params,
			signature,
		}));
	if (!valid) {
		const reason = signature ? "invalid_signature" : "missing_signature";
		countMetric("edge_sms_webhook_signature_failures_total", {
			path: c.req.path,
			reason,
		});
		log.warn("webhook_rejected", {
			path: c.req.path,
			reason,
			messageSid: params.get("MessageSid"),
		});
		return c.json(
			{
				error: {
					code: "invalid_signature",
					message: signature
						? "X-Twilio-Signature does not match this request."
						: "Missing X-Twilio-Signature header.",
				},
			},
			403,
		);
	}
	c.set("params", params);
	await next();
});
