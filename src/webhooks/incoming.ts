import { and, desc, eq } from "drizzle-orm";
import { openDatabase } from "../db/client";
import { messageEvents, messages } from "../db/schema";
import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { countSegments } from "../messages/segments";

/** The fields of Twilio's inbound-message webhook that the service keeps. */
export interface InboundMessage {
	messageSid: string;
	from: string;
	to: string;
	body: string;
	media: { url: string; contentType: string | null }[];
}

export function parseInboundMessage(
	params: URLSearchParams,
): InboundMessage | null {
	const messageSid = params.get("MessageSid") ?? params.get("SmsMessageSid");
	const from = params.get("From");
	const to = params.get("To");
	if (!messageSid || !from || !to) return null;
	const count = Number.parseInt(params.get("NumMedia") ?? "0", 10) || 0;
	const media: InboundMessage["media"] = [];
	// MediaUrl0..MediaUrl{NumMedia-1}, zero-based.
	for (let index = 0; index < count; index++) {
		const url = params.get(`MediaUrl${index}`);
		if (url) {
			media.push({ url, contentType: params.get(`MediaContentType${index}`) });
		}
	}
	return { messageSid, from, to, body: params.get("Body") ?? "", media };
}

/**
 * Stores an inbound message once per MessageSid. It belongs to the user who
 * last sent to its sender from the number it arrived at; with no such
 * conversation it has no owner and every user sees it.
 */
export async function storeInboundMessage(
	env: Env,
	inbound: InboundMessage,
): Promise<{ messageId: string; stored: boolean }> {
	const db = openDatabase(env.DB);
	const [conversation] = await db
		.select({ userId: messages.userId })
		.from(messages)
		.where(
			and(
				eq(messages.direction, "outbound"),
				eq(messages.to, inbound.from),
				eq(messages.from, inbound.to),
			),
		)
		.orderBy(desc(messages.createdAt))
		.limit(1);

	const now = Date.now();
	const { encoding, segments } = countSegments(inbound.body);
	const id = newId("msg", now);
	const [inserted] = await db
		.insert(messages)
		.values({
			id,
			userId: conversation?.userId ?? null,
			direction: "inbound",
			to: inbound.to,
			from: inbound.from,
			body: inbound.body,
			media: JSON.stringify(inbound.media.map((item) => item.url)),
			segments,
			encoding,
			status: "received",
			twilioSid: inbound.messageSid,
			createdAt: now,
			updatedAt: now,
		})
		.onConflictDoNothing()
		.returning({ id: messages.id });
	if (!inserted) {
		const existing = await db.query.messages.findFirst({
			where: (table, { eq }) => eq(table.twilioSid, inbound.messageSid),
		});
		log.info("inbound_duplicate", {
			messageId: existing?.id,
			twilioSid: inbound.messageSid,
		});
		return { messageId: existing?.id ?? "", stored: false };
	}
	await db.insert(messageEvents).values({
		messageId: id,
		status: "received",
		source: "twilio",
		dedupeKey: `${inbound.messageSid}:received`,
		at: now,
	});
	log.info("inbound_received", {
		messageId: id,
		twilioSid: inbound.messageSid,
		userId: conversation?.userId ?? null,
		media: inbound.media.length,
	});
	return { messageId: id, stored: true };
}
