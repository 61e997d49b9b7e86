import { Hono } from "hono";
import { toHex } from "../lib/ids";
import { type SimulatorEnv, simulatorBaseUrl } from "./env";
import { ControlError, TwilioApiError } from "./errors";
import { parsePaging } from "./list";
import { rfc2822 } from "./resource";
import { callState, mediaContent } from "./state-client";
import type { MediaItem } from "./store";

/** Twilio's short-lived media URLs stay valid for 4 hours. */
export const CDN_URL_TTL_SECONDS = 4 * 60 * 60;

const MESSAGE_PATH =
	"/2010-04-01/Accounts/:accountSid/Messages/:messageSid{(?:SM|MM)[0-9a-fA-F]{32}}";
const MEDIA_SID = "ME[0-9a-fA-F]{32}";

/**
 * Builds the URL that Twilio puts in `MediaUrlN` of an incoming-message
 * webhook. It has no `.json`, so it returns the media, not its resource.
 */
export function twilioMediaUrl(
	env: SimulatorEnv,
	accountSid: string,
	messageSid: string,
	mediaSid: string,
): string {
	return `${simulatorBaseUrl(env)}${messagePath(accountSid, messageSid)}/Media/${mediaSid}`;
}

function messagePath(accountSid: string, messageSid: string): string {
	return `/2010-04-01/Accounts/${accountSid}/Messages/${messageSid}`;
}

/** Twilio's Media resource (`api.v2010.account.message.media`). */
function mediaResource(accountSid: string, item: MediaItem) {
	const created = rfc2822(new Date(item.createdAt));
	return {
		account_sid: accountSid,
		content_type: item.contentType,
		date_created: created,
		date_updated: created,
		parent_sid: item.messageSid,
		sid: item.sid,
		uri: `${messagePath(accountSid, item.messageSid)}/Media/${item.sid}.json`,
	};
}

function notFound(path: string): TwilioApiError {
	return new TwilioApiError(
		404,
		20404,
		`The requested resource ${path} was not found`,
	);
}

/**
 * Twilio's Media routes under a message. The caller mounts them behind
 * Basic auth. The simulator stores bytes only for inbound media given as
 * base64. For other items (inbound `mediaUrls`, outbound MediaUrl values)
 * it stores the source URL, and the media URL redirects there instead.
 */
export const mediaApi = new Hono<{ Bindings: SimulatorEnv }>();

/**
 * Lists the media of a message with Twilio's paging fields. The
 * DateCreated filters are not supported, because a message has at most 10
 * items.
 */
mediaApi.get(`${MESSAGE_PATH}/Media.json`, async (c) => {
	const accountSid = c.req.param("accountSid");
	const messageSid = c.req.param("messageSid");
	const { pageSize, page } = parsePaging(new URL(c.req.url).searchParams);
	const items = await callState(c.env, "listMedia", { messageSid });
	if (items === null) throw notFound(c.req.path);

	const start = page * pageSize;
	const pageItems = items.slice(start, start + pageSize);
	const listUri = (pageNumber: number) =>
		`${messagePath(accountSid, messageSid)}/Media.json?PageSize=${pageSize}&Page=${pageNumber}`;
	return c.json({
		media_list: pageItems.map((item) => mediaResource(accountSid, item)),
		end: pageItems.length > 0 ? start + pageItems.length - 1 : start,
		first_page_uri: listUri(0),
		next_page_uri: start + pageSize < items.length ? listUri(page + 1) : null,
		page,
		page_size: pageSize,
		previous_page_uri: page > 0 ? listUri(page - 1) : null,
		start,
		uri: listUri(page),
	});
});

mediaApi.get(`${MESSAGE_PATH}/Media/:file{${MEDIA_SID}\\.json}`, async (c) => {
	const item = await callState(c.env, "mediaItem", {
		messageSid: c.req.param("messageSid"),
		mediaSid: c.req.param("file").slice(0, -".json".length),
	});
	if (item === null) throw notFound(c.req.path);
	return c.json(mediaResource(c.req.param("accountSid"), item));
});

/** Deletes the resource and its bytes. Later fetches of either get 404. */
mediaApi.delete(
	`${MESSAGE_PATH}/Media/:file{${MEDIA_SID}\\.json}`,
	async (c) => {
		const deleted = await callState(c.env, "deleteMedia", {
			messageSid: c.req.param("messageSid"),
			mediaSid: c.req.param("file").slice(0, -".json".length),
		});
		if (!deleted) throw notFound(c.req.path);
		return c.body(null, 204);
	},
);

/**
 * The media itself (GET and HEAD): a 307 to a short-lived URL that needs no
 * credentials, as Twilio redirects to its CDN. While an item is not ready
 * (`mediaNotReadyCount` of `POST /simulator/inbound`) it returns 404, as
 * Twilio does for a short while after the webhook.
 */
mediaApi.get(`${MESSAGE_PATH}/Media/:mediaSid{${MEDIA_SID}}`, async (c) => {
	const mediaSid = c.req.param("mediaSid");
	const opened = await callState(c.env, "openMedia", {
		messageSid: c.req.param("messageSid"),
		mediaSid,
	});
	if (opened.kind === "missing" || opened.kind === "notReady") {
		throw notFound(c.req.path);
	}
	const location =
		opened.kind === "elsewhere"
			? opened.url
			: await cdnUrl(c.env, mediaSid, Date.now());
	return c.redirect(location, 307);
});

/**
 * The short-lived copy that the media URL redirects to. The token alone
 * grants access, as with Twilio's CDN URLs.
 */
export const mediaCdn = new Hono<{ Bindings: SimulatorEnv }>();

mediaCdn.get(`/simulator/media-cdn/:mediaSid{${MEDIA_SID}}`, async (c) => {
	const mediaSid = c.req.param("mediaSid");
	const expires = await checkCdnToken(
		c.env,
		mediaSid,
		c.req.query("token"),
		Date.now(),
	);
	const missing = new ControlError(
		404,
		"not_found",
		`No stored media has the sid ${mediaSid}.`,
	);
	const item = await callState(c.env, "mediaItem", { mediaSid });
	if (item?.size === null || item?.size === undefined) throw missing;

	const headers = new Headers({
		"Content-Type": item.contentType,
		"Content-Length": String(item.size),
		"Cache-Control": `private, max-age=${Math.max(0, expires - Math.floor(Date.now() / 1000))}`,
	});
	if (c.req.method === "HEAD") return new Response(null, { headers });
	const bytes = await mediaContent(c.env, mediaSid);
	if (bytes === null) throw missing;
	return new Response(bytes, { headers });
});

/** `${SIMULATOR_PUBLIC_URL}/simulator/media-cdn/{ME}?token=…`, valid for 4 hours from `now`. */
export async function cdnUrl(
	env: SimulatorEnv,
	mediaSid: string,
	now: number,
): Promise<string> {
	const expires = Math.floor(now / 1000) + CDN_URL_TTL_SECONDS;
	const mac = await crypto.subtle.sign(
		"HMAC",
		await tokenKey(env),
		tokenText(mediaSid, expires),
	);
	const token = `${expires}.${toHex(new Uint8Array(mac))}`;
	return `${simulatorBaseUrl(env)}/simulator/media-cdn/${mediaSid}?token=${token}`;
}

/**
 * Checks a CDN token (`{expires}.{HMAC-SHA256 hex}`) and returns its expiry
 * in epoch seconds, or throws a 403. WebCrypto's verify compares in
 * constant time.
 */
async function checkCdnToken(
	env: SimulatorEnv,
	mediaSid: string,
	token: string | undefined,
	now: number,
): Promise<number> {
	const match = /^(\d{1,12})\.([0-9a-f]{64})$/.exec(token ?? "");
	const invalid = new ControlError(
		403,
		"invalid_token",
		"The media URL's token is missing or invalid. Fetch the media URL again for a fresh one.",
	);
	if (!match?.[1] || !match[2]) throw invalid;

	const expires = Number(match[1]);
	const mac = new Uint8Array(
		match[2].match(/../g)?.map((pair) => Number.parseInt(pair, 16)) ?? [],
	);
	const valid = await crypto.subtle.verify(
		"HMAC",
		await tokenKey(env),
		mac,
		tokenText(mediaSid, expires),
	);
	if (!valid) throw invalid;
	if (expires * 1000 <= now) {
		throw new ControlError(
			403,
			"token_expired",
			"The media URL has expired. Fetch the media URL again for a fresh one.",
		);
	}
	return expires;
}

/**
 * Imports the Auth Token as the token key. The signed text starts with a
 * label, so that no other use of that key (webhook signatures use HMAC-SHA1
 * over URLs) produces a valid token.
 */
function tokenKey(env: SimulatorEnv): Promise<CryptoKey> {
	return crypto.subtle.importKey(
		"raw",
		new TextEncoder().encode(env.TWILIO_AUTH_TOKEN),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign", "verify"],
	);
}

function tokenText(mediaSid: string, expires: number): Uint8Array {
	return new TextEncoder().encode(
		`simulator-media-cdn\n${mediaSid}\n${expires}`,
	);
}
