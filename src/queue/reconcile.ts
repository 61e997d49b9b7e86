import type { Database } from "../db/client";
import type { MessageRow } from "../db/schema";
import { log } from "../lib/log";
import type { TwilioClient } from "../twilio/client";
import type { TwilioMessage } from "../twilio/types";

// Twilio's clock and ours may differ a little; look this far before the
// message's creation time.
const CLOCK_SKEW_MS = 5 * 60_000;

// At 100 messages a page, the newest 2,000 messages to the recipient.
const MAX_PAGES = 20;

/**
 * Looks in Twilio for a message that an earlier, ambiguous attempt created:
 * same recipient, sender and body, created after our message, and not
 * already linked to another of our messages.
 *
 * NOTE: Twilio's Message resource does not echo the StatusCallback URL, so
 * two messages with the same body to the same recipient in the same minutes
 * cannot be distinguished; the unique index on `twilio_sid` keeps one SID from
 * being linked to both.
 */
export async function findCreatedMessage(
	context: { db: Database; twilio: TwilioClient },
	message: MessageRow,
): Promise<TwilioMessage | null> {
	const since = message.createdAt - CLOCK_SKEW_MS;
	let page = await context.twilio.listMessages({
		to: message.to,
		from: message.from,
	});
	for (let pages = 1; ; pages++) {
		for (const candidate of page.messages) {
			if (!matches(candidate, message, since)) continue;
			const linked = await context.db.query.messages.findFirst({
				where: (table, { eq }) => eq(table.twilioSid, candidate.sid),
			});
			if (!linked) {
				log.info("reconciled", {
					messageId: message.id,
					twilioSid: candidate.sid,
				});
				return candidate;
			}
		}
		// Pages run newest first: stop at the first page that reaches back
		// past the message's creation.
		const oldest = Date.parse(page.messages.at(-1)?.date_created ?? "");
		if (!page.next_page_uri || oldest < since || pages >= MAX_PAGES) break;
		page = await context.twilio.listMessagesPage(page.next_page_uri);
	}
	return null;
}

function matches(
	candidate: TwilioMessage,
	message: MessageRow,
	since: number,
): boolean {
	if (candidate.to !== message.to) return false;
	if (message.from && candidate.from !== message.from) return false;
	if ((candidate.body ?? "") !== message.body) return false;
	const created = Date.parse(candidate.date_created ?? "");
	return Number.isNaN(created) || created >= since;
}
