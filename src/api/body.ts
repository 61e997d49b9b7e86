import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { ApiError } from "./errors";

/** The largest JSON request body the API reads, in bytes. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

/** Rejects a request whose body is not declared as JSON, with 415. */
export const requireJson = createMiddleware(async (c, next) => {
	const type = c.req.header("Content-Type") ?? "";
	if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
		throw new ApiError(
			415,
			"unsupported_media_type",
			`Content-Type must be application/json, not '${type || "(none)"}'.`,
		);
	}
	await next();
});

/** Rejects a JSON body over MAX_JSON_BODY_BYTES with 413, before parsing it. */
export const limitJsonBody = bodyLimit({
	maxSize: MAX_JSON_BODY_BYTES,
	onError: () => {
		throw new ApiError(
			413,
			"payload_too_large",
			`The request body may be at most ${MAX_JSON_BODY_BYTES} bytes. A message body is at most 1600 characters; send media with POST /v1/media.`,
		);
	},
});
