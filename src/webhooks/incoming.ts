import { and, asc, desc, eq } from "drizzle-orm";
import { type Database, openDatabase } from "../db/client";
import { messageEvents, messages, users } from "../db/schema";
import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { parseStoredMedia, type StoredMedia } from "../messages/media";
import { countSegments } from "../messages/segments";
import { classifyKeyword } from "../opt-outs/keywords";
import { recordOptOut, removeOptOut } from "../opt-outs/store";
import type { MediaIngestJob } from "../queue/media-ingest-consumer";

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
 * Stores an inbound message once per MessageSid, owned by the user that
 * `inboundOwner` picks.
 */
export async function storeInboundMessage(
	env: Env,
	inbound: InboundMessage,
): Promise<{ messageId: string; stored: boolean }> {
	const db = openDatabase(env.DB);
	const ownerId = await inboundOwner(db, inbound);

	const now = Date.now();
	const { encoding, segments } = countSegments(inbound.body);
	const id = newId("msg", now);
	const [inserted] = await db
		.insert(messages)
		.values({
			id,
			userId: ownerId,
			direction: "inbound",
			to: inbound.to,
			from: inbound.from,
			body: inbound.body,
			media: JSON.stringify(
				inbound.media.map(
					(item): StoredMedia => ({
						url: item.url,
						contentType: item.contentType,
					}),
				),
			),
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
		// Twilio retried: queue again any media item not copied yet.
		if (existing) {
			await enqueueMediaIngest(
				env,
				existing.id,
				parseStoredMedia(existing.media),
			);
		}
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
		userId: ownerId,
		media: inbound.media.length,
	});
	await applyKeyword(env, inbound);
	await enqueueMediaIngest(
		env,
		id,
		inbound.media.map((item) => ({
			url: item.url,
			contentType: item.contentType,
		})),
	);
	return { messageId: id, stored: true };
}

/**
 * Picks the user an inbound message belongs to, the first match of:
 * 1. the user who last sent to its sender from the number it arrived at;
 * 2. the user who last sent anything from that number;
 * 3. the deployment's first user (its operator).
 * Users see only their own messages, so a reply never reaches another
 * tenant that shares the number unless it matches no conversation at all.
 */
async function inboundOwner(
	db: Database,
	inbound: InboundMessage,
): Promise<string | null> {
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
	if (conversation?.userId) return conversation.userId;

	const [numberUser] = await db
		.select({ userId: messages.userId })
		.from(messages)
		.where(
			and(eq(messages.direction, "outbound"), eq(messages.from, inbound.to)),
		)
		.orderBy(desc(messages.createdAt))
		.limit(1);
	if (numberUser?.userId) return numberUser.userId;

	const [first] = await db
		.select({ id: users.id })
		.from(users)
		.orderBy(asc(users.createdAt), asc(users.id))
		.limit(1);
	return first?.id ?? null;
}

/**
 * Applies an opt-out keyword: STOP and its synonyms record an opt-out of
 * the sender from our number, START and its synonyms remove it, HELP is
 * logged. The message itself is stored either way.
 */
async function applyKeyword(env: Env, inbound: InboundMessage): Promise<void> {
	const keyword = classifyKeyword(inbound.body);
	if (!keyword) return;
	const db = openDatabase(env.DB);
	if (keyword === "stop") {
		await recordOptOut(db, inbound.from, inbound.to, "keyword");
		log.info("opted_out", { twilioSid: inbound.messageSid, to: inbound.to });
	} else if (keyword === "start") {
		await removeOptOut(db, inbound.from, inbound.to);
		log.info("opted_in", { twilioSid: inbound.messageSid, to: inbound.to });
	} else {
		log.info("help_requested", {
			twilioSid: inbound.messageSid,
			to: inbound.to,
		});
	}
}

/** Queues a copy to R2 of each media item that has no copy yet. */
async function enqueueMediaIngest(
	env: Env,
	messageId: string,
	items: StoredMedia[],
): Promise<void> {
	const jobs = items.flatMap((item, index) =>
		item.id || !item.url
			? []
			: [
					{
						body: {
							messageId,
							index,
							url: item.url,
							contentType: item.contentType ?? null,
						} satisfies MediaIngestJob,
					},
				],
	);
	if (jobs.length > 0) await env.MEDIA_INGEST_QUEUE.sendBatch(jobs);
}
