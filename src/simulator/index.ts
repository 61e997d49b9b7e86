/**
 * Twilio simulator: a Worker that replaces https://api.twilio.com in local
 * runs and tests, so the service needs no Twilio account. It speaks
 * Twilio's wire format: form-encoded requests, Basic auth with
 * TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and
 * TWILIO_API_KEY_SECRET when both are set), the Message and Media resources
 * as JSON, errors as `{code, message, more_info, status}`, and webhooks
 * signed with `X-Twilio-Signature`.
 *
 * Twilio's routes (Basic auth):
 *   POST   /2010-04-01/Accounts/:sid/Messages.json             create (201)
 *   GET    /2010-04-01/Accounts/:sid/Messages/:messageSid.json fetch
 *   GET    /2010-04-01/Accounts/:sid/Messages.json             list: To, From,
 *          DateSent, DateSent<, DateSent>, PageSize, Page, PageToken
 *   GET    .../Messages/:messageSid/Media.json                 list media:
 *          PageSize, Page
 *   GET    .../Messages/:messageSid/Media/:mediaSid.json       fetch media
 *   DELETE .../Messages/:messageSid/Media/:mediaSid.json       delete (204)
 *   GET    .../Messages/:messageSid/Media/:mediaSid            the media
 *          itself (also HEAD): 307 to a CDN URL valid for 4 hours
 *
 * After a create, the message advances every CALLBACK_DELAY_MS ms (default
 * 150) to `sent`, then `delivered`. With a Messaging Service and no From, it
 * starts as `accepted` and first becomes `queued` from +15005550006. Each
 * step is POSTed to the request's StatusCallback, if it has one. Callbacks
 * of one message are sent one after another, those of different messages
 * concurrently (up to 16 requests at once).
 *
 * An MMS first has each MediaUrl fetched (HEAD, then GET) as Twilio does.
 * The results appear in GET /simulator/messages. When an item cannot be
 * retrieved the message goes straight to `failed`, with 11200 (no 2xx
 * response), 12300 (a missing Content-Type, or HEAD and GET types that
 * differ) or 11751 (over 5 MB in total). MediaUrl values under
 * SIMULATOR_PUBLIC_URL are served in-process.
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
 *   GET    /simulator/messages   create requests accepted, oldest first, each
 *                                with `media: [{url, status, contentType,
 *                                size, error}]` once its media was fetched
 *   DELETE /simulator/messages   delete messages, media, callbacks and faults
 *   GET    /simulator/callbacks  status callbacks sent, with the responses
 *   GET    /simulator/faults     fault settings
 *   PUT    /simulator/faults     `{seed, latencyMs?, timeoutMs?, rates?}`
 *   POST   /simulator/inbound    `{from, to, body?, mediaUrls?, media?,
 *                                mediaNotReadyCount?}` → signed webhook to
 *                                PUBLIC_BASE_URL/twilio/incoming. `media` is
 *                                `[{contentType, base64}]` (with mediaUrls at
 *                                most 10 items, at most 5 MB decoded); these
 *                                are stored and passed as Twilio media URLs.
 *                                `mediaNotReadyCount: n` makes the first n
 *                                authenticated fetches of each item get 404.
 *   GET    /simulator/media-cdn/:mediaSid?token=…
 *                                stored media bytes (also HEAD), where the
 *                                media URL redirects; 403 once expired
 *   GET    /simulator/media-fixture?status=&contentType=&size=&location=
 *                                test media to send as a MediaUrl (also HEAD)
 */
import { app } from "./app";
import type { SimulatorEnv } from "./env";

export { SimulatorState } from "./state";

export default {
	fetch: app.fetch,
} satisfies ExportedHandler<SimulatorEnv>;
