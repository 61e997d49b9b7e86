import { Hono } from "hono";
import type { AppEnv } from "../api/context";
import { log } from "../lib/log";
import { limitByClientIp } from "../ratelimit/client-ip";
import { parseInboundMessage, storeInboundMessage } from "./incoming";
import { applyStatusCallback, parseStatusCallback } from "./status";
import { verifyTwilioWebhook, type WebhookVariables } from "./verify";

/** An empty TwiML document: Twilio sends no reply to the sender. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

export const webhooksRouter = new Hono<{
	Bindings: AppEnv["Bindings"];
	Variables: WebhookVariables;
}>();

// Counted per IP before the signature check, so a flood of forged requests
// is turned away without computing an HMAC for each.
webhooksRouter.use("/twilio/*", limitByClientIp("webhook"));

webhooksRouter.post("/twilio/status", verifyTwilioWebhook, async (c) => {
	const query = new URL(c.req.url).searchParams;
	const callback = parseStatusCallback(query, c.get("params"));
	if (!callback) {
		log.warn("status_callback_ignored", { reason: "missing_fields" });
		return c.json(
			{
				error: {
					code: "invalid_request",
					message: "A status callback needs MessageSid and MessageStatus.",
				},
			},
			400,
		);
	}
	const outcome = await applyStatusCallback(c.env, callback);
	if (outcome === "unknown_message") {
		log.warn("status_callback_ignored", {
			reason: outcome,
			messageId: callback.messageId,
			twilioSid: callback.messageSid,
		});
	}
	// Twilio only needs a 200; any other status shows as an error in its console.
	return c.body(null, 200);
});

webhooksRouter.post("/twilio/incoming", verifyTwilioWebhook, async (c) => {
	const inbound = parseInboundMessage(c.get("params"));
	if (!inbound) {
		log.warn("inbound_ignored", { reason: "missing_fields" });
		return c.json(
			{
				error: {
					code: "invalid_request",
					message: "An inbound message needs MessageSid, From and To.",
				},
			},
			400,
		);
	}
	await storeInboundMessage(c.env, inbound);
	return c.body(EMPTY_TWIML, 200, { "Content-Type": "text/xml" });
});
