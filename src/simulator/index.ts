/**
 * Twilio simulator: a Worker that replaces https://api.twilio.com in local
 * runs and tests, so the service needs no Twilio account. It speaks
 * Twilio's wire format: form-encoded requests, Basic auth with
 * TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, the Message resource as JSON,
 * errors as `{code, message, more_info, status}`, and webhooks signed with
 * `X-Twilio-Signature`.
 *
 * Twilio's routes:
 *   POST /2010-04-01/Accounts/:sid/Messages.json             create (201)
 *   GET  /2010-04-01/Accounts/:sid/Messages/:messageSid.json fetch
 *   GET  /2010-04-01/Accounts/:sid/Messages.json             list: To, From,
 *        DateSent, DateSent<, DateSent>, PageSize, Page, PageToken
 *
 * After a create, the message advances every CALLBACK_DELAY_MS ms (default
 * 150) to `sent`, then `delivered`. With a Messaging Service and no From, it
 * starts as `accepted` and first becomes `queued` from +15005550006. Each
 * step is POSTed to the request's StatusCallback, if it has one.
 *
 * Numbers with fixed behaviour (see numbers.ts):
 *   To   +15005550001 → 400 21211   +15005550002 → 400 21612
 *        +15005550003 → 400 21408   +15005550004 → 400 21610
 *        +15005550009 → 400 21614
 *        +15005550010 → created; `sent`, then `undelivered` with 30003
 *        +15005550011 → created; `failed` with 30008
 *   From +15005550001 → 400 21212   +15005550007 → 400 21606
 *        +15005550008 → 400 21611
 *        +15005550006 and any other valid sender → accepted (Twilio's test
 *        credentials reject all other senders with 21606)
 *
 * The simulator's own routes (no credentials):
 *   GET    /simulator/messages   create requests accepted, oldest first
 *   DELETE /simulator/messages   delete messages, callbacks and faults
 *   GET    /simulator/callbacks  status callbacks sent, with the responses
 *   GET    /simulator/faults     fault settings
 *   PUT    /simulator/faults     `{seed, latencyMs?, timeoutMs?, rates?}`
 *   POST   /simulator/inbound    `{from, to, body?, mediaUrls?}` → signed
 *                                webhook to PUBLIC_BASE_URL/twilio/incoming
 */
import { app } from "./app";
import type { SimulatorEnv } from "./env";

export { SimulatorState } from "./state";

export default {
	fetch: app.fetch,
} satisfies ExportedHandler<SimulatorEnv>;
