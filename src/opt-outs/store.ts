import { and, eq, or } from "drizzle-orm";
import type { Database } from "../db/client";
import { optOuts } from "../db/schema";

/**
 * Returns the sender an opt-out is kept against: our number, or the Messaging
 * Service SID when Twilio picks the number.
 */
export function optOutSender(message: {
	from: string | null;
	messagingServiceSid: string | null;
}): string | null {
	return message.from ?? message.messagingServiceSid;
}

export function recordOptOut(
	db: Database,
	phone: string,
	sender: string,
	source: "keyword" | "twilio_21610",
) {
	return db
		.insert(optOuts)
		.values({ phone, sender, source, createdAt: Date.now() })
		.onConflictDoNothing();
}

export function removeOptOut(db: Database, phone: string, sender: string) {
	return db
		.delete(optOuts)
		.where(and(eq(optOuts.phone, phone), eq(optOuts.sender, sender)));
}

/**
 * True when `phone` opted out of messages from `sender`. A send through a
 * Messaging Service can come from any of its numbers, so it checks every
 * opt-out of the recipient.
 */
export async function isOptedOut(
	db: Database,
	phone: string,
	sender: { from: string | null; messagingServiceSid: string | null },
): Promise<boolean> {
	const senderMatch = sender.from
		? eq(optOuts.sender, sender.from)
		: or(
				eq(optOuts.sender, sender.messagingServiceSid ?? ""),
				eq(optOuts.phone, phone),
			);
	const [row] = await db
		.select({ phone: optOuts.phone })
		.from(optOuts)
		.where(and(eq(optOuts.phone, phone), senderMatch))
		.limit(1);
	return row !== undefined;
}
