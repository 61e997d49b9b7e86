import { openDatabase } from "../db/client";
import { media } from "../db/schema";
import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { readLimited } from "../lib/stream";
import { mediaObjectKey } from "../media/signing";
import { mediaType } from "../media/types";
import type { StoredMedia } from "../messages/media";

/** The media-ingest queue's name in wrangler.toml. */
export const MEDIA_INGEST_QUEUE_NAME = "sms-media-ingest";

/** A job on the media-ingest queue: copy one inbound media item to R2. */
export interface MediaIngestJob {
	messageId: string;
	/** Position in the message's media list (MediaUrl{index}). */
	index: number;
	/** Twilio's media URL, which needs the account's credentials. */
	url: string;
	contentType: string | null;
}

// Inbound MMS media is at most 5 MB per message on Twilio's side; a larger
// response is not media and is not stored.
const MAX_INBOUND_MEDIA_BYTES = 10 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 20_000;
// Twilio's media URL can return 404 for a few seconds after the webhook.
const NOT_FOUND_RETRY_SECONDS = 2;

class IngestError extends Error {
	constructor(
		message: string,
		readonly retryable: boolean,
	) {
		super(message);
		this.name = "IngestError";
	}
}

/** Copies each inbound media item to R2 and links it to its message. */
export async function handleMediaIngestBatch(
	batch: MessageBatch<MediaIngestJob>,
	env: Env,
): Promise<void> {
	await Promise.all(
		batch.messages.map(async (job) => {
			try {
				await ingest(env, job.body);
				job.ack();
			} catch (error) {
				const retryable = !(error instanceof IngestError) || error.retryable;
				log.warn(retryable ? "media_ingest_retried" : "media_ingest_failed", {
					messageId: job.body.messageId,
					index: job.body.index,
					attempts: job.attempts,
					error,
				});
				if (retryable) {
					job.retry({ delaySeconds: NOT_FOUND_RETRY_SECONDS * job.attempts });
				} else {
					job.ack();
				}
			}
		}),
	);
}

async function ingest(env: Env, job: MediaIngestJob): Promise<void> {
	const db = openDatabase(env.DB);
	const existing = await db.query.media.findFirst({
		where: (table, { eq }) => eq(table.sourceUrl, job.url),
	});
	if (existing) {
		// A redelivered job: the copy exists, make sure the message links it.
		await linkMedia(env, job, existing.id, existing.contentType, existing.size);
		return;
	}

	const { bytes, contentType } = await download(env, job);
	const id = newId("med");
	const message = await db.query.messages.findFirst({
		where: (table, { eq }) => eq(table.id, job.messageId),
	});
	await env.MEDIA_BUCKET.put(mediaObjectKey(id), bytes, {
		httpMetadata: { contentType },
	});
	await db.insert(media).values({
		id,
		userId: message?.userId ?? null,
		origin: "inbound",
		messageId: job.messageId,
		contentType,
		size: bytes.byteLength,
		sourceUrl: job.url,
		createdAt: Date.now(),
	});
	await linkMedia(env, job, id, contentType, bytes.byteLength);
	log.info("media_ingested", {
		messageId: job.messageId,
		mediaId: id,
		contentType,
		size: bytes.byteLength,
	});
	if (env.DELETE_TWILIO_MEDIA === "true") await deleteTwilioCopy(env, job);
}

function twilioAuthorization(env: Env): string {
	const username = env.TWILIO_API_KEY_SID || env.TWILIO_ACCOUNT_SID;
	const password = env.TWILIO_API_KEY_SID
		? env.TWILIO_API_KEY_SECRET
		: env.TWILIO_AUTH_TOKEN;
	return `Basic ${btoa(`${username}:${password}`)}`;
}

/**
 * Fetches the media, with the account's credentials only when the URL is on
 * the Twilio API's own origin (TWILIO_API_BASE), so a forged MediaUrl never
 * receives them. Twilio responds with a redirect to a short-lived CDN URL,
 * which is fetched without credentials.
 */
async function download(
	env: Env,
	job: MediaIngestJob,
): Promise<{ bytes: Uint8Array; contentType: string }> {
	const headers: HeadersInit = onTwilioOrigin(env, job.url)
		? { Authorization: twilioAuthorization(env) }
		: {};
	let response = await fetch(job.url, {
		headers,
		redirect: "manual",
		signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
	});
	const location = response.headers.get("Location");
	if (response.status >= 300 && response.status < 400 && location) {
		await response.body?.cancel();
		response = await fetch(new URL(location, job.url), {
			signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
		});
	}
	if (response.status === 404 || response.status === 429) {
		await response.body?.cancel();
		throw new IngestError(
			`Fetching the media from Twilio failed with HTTP ${response.status}`,
			true,
		);
	}
	if (!response.ok) {
		await response.body?.cancel();
		throw new IngestError(
			`Fetching the media from Twilio failed with HTTP ${response.status}`,
			response.status >= 500,
		);
	}
	const declared = Number(response.headers.get("Content-Length") ?? Number.NaN);
	if (declared > MAX_INBOUND_MEDIA_BYTES) {
		await response.body?.cancel();
		throw new IngestError(`The media is ${declared} bytes`, false);
	}
	const bytes = await readLimited(response.body, MAX_INBOUND_MEDIA_BYTES);
	if (bytes === null) {
		throw new IngestError(
			`The media is over ${MAX_INBOUND_MEDIA_BYTES} bytes`,
			false,
		);
	}
	const contentType =
		mediaType(response.headers.get("Content-Type")) ||
		mediaType(job.contentType) ||
		"application/octet-stream";
	return { bytes, contentType };
}

function onTwilioOrigin(env: Env, url: string): boolean {
	try {
		return new URL(url).origin === new URL(env.TWILIO_API_BASE).origin;
	} catch {
		return false;
	}
}

/** Points the message's media entry at our copy, in one atomic update. */
async function linkMedia(
	env: Env,
	job: MediaIngestJob,
	id: string,
	contentType: string,
	size: number,
): Promise<void> {
	const item: StoredMedia = { id, url: job.url, contentType, size };
	await env.DB.prepare(
		"update messages set media = json_set(media, ?, json(?)) where id = ?",
	)
		.bind(`$[${job.index}]`, JSON.stringify(item), job.messageId)
		.run();
}

async function deleteTwilioCopy(env: Env, job: MediaIngestJob): Promise<void> {
	if (!onTwilioOrigin(env, job.url)) return;
	try {
		const response = await fetch(`${job.url}.json`, {
			method: "DELETE",
			headers: { Authorization: twilioAuthorization(env) },
			signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
		});
		if (response.status !== 204 && response.status !== 404) {
			log.warn("twilio_media_delete_failed", {
				messageId: job.messageId,
				httpStatus: response.status,
			});
		}
	} catch (error) {
		log.warn("twilio_media_delete_failed", { messageId: job.messageId, error });
	}
}
