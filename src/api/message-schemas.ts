import { z } from "@hono/zod-openapi";
import { toE164 } from "../messages/phone";

export const MAX_BODY_LENGTH = 1600;
export const MAX_MEDIA_PER_MESSAGE = 10;
export const MAX_MEDIA_URL_LENGTH = 2000;

// Half of a surrogate pair without its other half: JSON allows it, but it
// would reach Twilio as U+FFFD.
const LONE_SURROGATE =
	/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A phone number in international format, normalised to E.164. */
export const PhoneNumberSchema = z
	.string()
	.max(40)
	.transform((value, ctx) => {
		const e164 = toE164(value);
		if (!e164) {
			// In a query string an unencoded "+" arrives as a space.
			const hint = /^ \d/.test(value)
				? "; in a query string, write the + as %2B"
				: "";
			ctx.addIssue({
				code: "custom",
				message: `'${value}' is not a valid phone number; use international format such as +14155550100${hint}`,
			});
			return z.NEVER;
		}
		return e164;
	})
	.openapi({ type: "string", example: "+14155550100" });

export const SendMessageSchema = z
	.object({
		to: PhoneNumberSchema,
		from: PhoneNumberSchema.optional().openapi({
			description: "Defaults to TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID",
		}),
		body: z
			.string()
			// Twilio counts the 1600 in UTF-16 code units, so an emoji counts 2.
			.refine((text) => !LONE_SURROGATE.test(text), {
				message:
					"contains a lone UTF-16 surrogate, which is not text; send valid Unicode",
			})
			.refine((text) => text.length <= MAX_BODY_LENGTH, {
				message: `must be at most ${MAX_BODY_LENGTH} characters (UTF-16 code units, so an emoji counts as 2); split the text into several messages`,
			})
			.optional(),
		mediaUrls: z
			.array(
				z
					.url({
						protocol: /^https$/,
						message: "must be an https URL that Twilio can fetch",
					})
					.max(MAX_MEDIA_URL_LENGTH, {
						message: `must be at most ${MAX_MEDIA_URL_LENGTH} characters`,
					}),
			)
			.max(MAX_MEDIA_PER_MESSAGE, {
				message: `at most ${MAX_MEDIA_PER_MESSAGE} media per message`,
			})
			.optional(),
		mediaIds: z
			.array(z.string().min(1).max(100))
			.max(MAX_MEDIA_PER_MESSAGE, {
				message: `at most ${MAX_MEDIA_PER_MESSAGE} media per message`,
			})
			.optional()
			.openapi({ description: "Ids from POST /v1/media" }),
	})
	.strict()
	.refine(
		(input) =>
			(input.mediaUrls?.length ?? 0) + (input.mediaIds?.length ?? 0) <=
			MAX_MEDIA_PER_MESSAGE,
		{
			message: `at most ${MAX_MEDIA_PER_MESSAGE} media per message, mediaUrls and mediaIds together`,
			path: ["mediaIds"],
		},
	)
	.refine(
		(input) =>
			(input.body !== undefined && input.body.length > 0) ||
			(input.mediaUrls?.length ?? 0) > 0 ||
			(input.mediaIds?.length ?? 0) > 0,
		{ message: "a message needs a 'body' or at least one media item" },
	)
	.openapi("SendMessage");

export const MessageSchema = z
	.object({
		id: z.string(),
		status: z.string(),
		direction: z.enum(["outbound", "inbound"]),
		to: z.string(),
		from: z.string().nullable(),
		messagingServiceSid: z.string().nullable(),
		body: z.string(),
		media: z.array(
			z.object({
				id: z.string().nullable(),
				url: z.string().nullable(),
				contentType: z.string().nullable(),
				size: z.number().int().nullable(),
			}),
		),
		segments: z.number().int(),
		encoding: z.string(),
		twilioSid: z.string().nullable(),
		errorCode: z.number().int().nullable(),
		errorMessage: z.string().nullable(),
		createdAt: z.string(),
		updatedAt: z.string(),
	})
	.openapi("Message");
