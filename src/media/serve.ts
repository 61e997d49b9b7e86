import { Hono } from "hono";
import type { AppEnv } from "../api/context";
import { log } from "../lib/log";
import { limitByClientIp } from "../ratelimit/client-ip";
import { checkMediaSignature, mediaObjectKey } from "./signing";

/**
 * GET and HEAD /media/:id?expires=&signature=: the bytes of a media item to
 * anyone with a valid signed URL (Twilio fetches MMS media this way).
 * Responses are cached with the Cache API until the URL expires, so repeated fetches
 * of one URL do not read R2 again.
 */
export const mediaServeRouter = new Hono<AppEnv>();

mediaServeRouter.use("/media/*", limitByClientIp("media"));

mediaServeRouter.on(["GET", "HEAD"], "/media/:id", async (c) => {
	const id = c.req.param("id");
	const expires = c.req.query("expires");
	const check = await checkMediaSignature(
		c.env,
		id,
		expires,
		c.req.query("signature"),
	);
	if (check !== "valid") {
		log.warn("media_url_rejected", { mediaId: id, reason: check });
		return c.json(
			{
				error: {
					code: check === "expired" ? "url_expired" : "invalid_signature",
					message: rejectionMessage(check, expires, c.req.query("signature")),
				},
			},
			403,
		);
	}

	const cache = caches.default;
	// HEAD gets the cached GET response without its body.
	const cacheKey = new Request(c.req.url, { method: "GET" });
	let response = await cache.match(cacheKey);
	if (!response) {
		const object = await c.env.MEDIA_BUCKET.get(mediaObjectKey(id));
		if (!object) {
			return c.json(
				{
					error: { code: "not_found", message: `No media has the id '${id}'.` },
				},
				404,
			);
		}
		const maxAge = Math.max(0, Number(expires) - Math.floor(Date.now() / 1000));
		const headers = new Headers({
			"Content-Type":
				object.httpMetadata?.contentType ?? "application/octet-stream",
			"Content-Length": String(object.size),
			ETag: object.httpEtag,
			"Cache-Control": `public, max-age=${maxAge}, immutable`,
		});
		response = new Response(object.body, { headers });
		c.executionCtx.waitUntil(cache.put(cacheKey, response.clone()));
	}
	if (c.req.method === "HEAD") {
		return new Response(null, { headers: response.headers });
	}
	return response;
});

function rejectionMessage(
	check: "expired" | "invalid",
	expires: string | undefined,
	signature: string | undefined,
): string {
	if (check === "expired") {
		return "This media URL has expired. Request the message or media again for a fresh URL.";
	}
	if (!expires || !signature) {
		return "This media URL lacks its expires and signature parameters. Use the whole URL the API returned.";
	}
	return "This media URL's signature is invalid. Use the URL the API returned, unchanged.";
}
