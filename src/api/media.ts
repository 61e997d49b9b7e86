import { createRoute, z } from "@hono/zod-openapi";
import { openDatabase } from "../db/client";
import { media } from "../db/schema";
import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { readLimited } from "../lib/stream";
import {
	API_MEDIA_URL_TTL_SECONDS,
	mediaObjectKey,
	signedMediaUrl,
} from "../media/signing";
import {
	acceptedTypes,
	MAX_MESSAGE_MEDIA_BYTES,
	maxBytesFor,
	mediaType,
} from "../media/types";
import { requireUser } from "./auth";
import { createRouter } from "./context";
import { ApiError } from "./errors";
import { errorResponses } from "./schemas";

export const MediaSchema = z
	.object({
		id: z.string(),
		contentType: z.string(),
		size: z.number().int().openapi({ description: "Bytes" }),
		url: z.string().openapi({
			description: `A signed URL that stays valid for ${API_MEDIA_URL_TTL_SECONDS} s`,
		}),
	})
	.openapi("Media");

function tooLarge(type: string, limit: number): ApiError {
	return new ApiError(
		413,
		"payload_too_large",
		`Media of type ${type} may be at most ${limit} bytes (${limit / 1024} KB); Twilio refuses larger files. Compress or resize it.`,
	);
}

export const mediaRouter = createRouter();

mediaRouter.openapi(
	createRoute({
		method: "post",
		path: "/v1/media",
		tags: ["Media"],
		summary: "Upload media for an MMS",
		description: `The raw bytes, with their Content-Type. Images (JPEG, PNG, GIF) may be up to ${MAX_MESSAGE_MEDIA_BYTES} bytes, other types Twilio accepts up to 500 KB. Send the returned id in \`mediaIds\` of POST /v1/messages.`,
		security: [{ ApiKey: [] }],
		middleware: [requireUser] as const,
		request: {
			body: {
				required: true,
				content: Object.fromEntries(
					["image/jpeg", "image/png", "image/gif", "application/pdf"].map(
						(type) => [
							type,
							{ schema: z.string().openapi({ format: "binary" }) },
						],
					),
				),
			},
		},
		responses: {
			201: {
				description: "Stored",
				content: { "application/json": { schema: MediaSchema } },
			},
			...errorResponses(401, 413, 415),
		},
	}),
	async (c) => {
		const type = mediaType(c.req.header("Content-Type"));
		const limit = maxBytesFor(type);
		if (limit === null) {
			throw new ApiError(
				415,
				"unsupported_media_type",
				`Twilio does not accept '${type || "(none)"}' for MMS. Send one of: ${acceptedTypes().join(", ")}.`,
			);
		}
		const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
		if (declared > limit) throw tooLarge(type, limit);
		const bytes = await readLimited(c.req.raw.body, limit);
		if (bytes === null) throw tooLarge(type, limit);
		if (bytes.byteLength === 0) {
			throw new ApiError(400, "invalid_request", "The media body is empty.");
		}

		const user = c.get("user");
		const id = newId("med");
		await c.env.MEDIA_BUCKET.put(mediaObjectKey(id), bytes, {
			httpMetadata: { contentType: type },
			customMetadata: { userId: user.id },
		});
		await openDatabase(c.env.DB).insert(media).values({
			id,
			userId: user.id,
			origin: "upload",
			contentType: type,
			size: bytes.byteLength,
			createdAt: Date.now(),
		});
		log.info("media_uploaded", {
			mediaId: id,
			userId: user.id,
			contentType: type,
			size: bytes.byteLength,
		});
		const url = await signedMediaUrl(c.env, id, API_MEDIA_URL_TTL_SECONDS);
		return c.json({ id, contentType: type, size: bytes.byteLength, url }, 201);
	},
);
