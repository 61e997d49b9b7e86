import { parsePhoneNumberFromString } from "libphonenumber-js";
import { z } from "zod";
import { log } from "../lib/log";
import { MAX_BODY_CHARS, MAX_MEDIA_URLS } from "./create";
import type { SimulatorEnv } from "./env";
import { twilioMediaUrl } from "./media";
import { MAX_MMS_MEDIA_BYTES } from "./media-fetch";
import {
	API_VERSION,
	type MessageResource,
	newMessageResource,
	newSid,
} from "./resource";
import { callState } from "./state-client";
import type { NewMediaItem } from "./store";
import { postSignedForm, type WebhookResult } from "./webhook";

/** Upper bound of `mediaNotReadyCount`, so that a typo cannot hide media for good. */
export const MAX_NOT_READY_COUNT = 100;

// type "/" subtype, optionally followed by parameters.
const MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+(?:\s*;.*)?$/;

const InboundMediaSchema = z.strictObject({
	contentType: z.string().regex(MEDIA_TYPE, "must be a media type"),
	base64: z.base64(),
});

/**
 * Body of `POST /simulator/inbound`. `mediaUrls` are passed to the service
 * as they are. `media` items are stored by the simulator and served from
 * Twilio-style media URLs. Both count towards Twilio's limit of 10 items,
 * and the stored bytes towards its limit of 5 MB.
 */
export const InboundRequestSchema = z
	.strictObject({
		from: z.string().min(1),
		to: z.string().min(1),
		body: z.string().max(MAX_BODY_CHARS).default(""),
		mediaUrls: z
			.array(z.url({ protocol: /^https?$/ }))
			.max(MAX_MEDIA_URLS)
			.default([]),
		media: z.array(InboundMediaSchema).max(MAX_MEDIA_URLS).default([]),
		mediaNotReadyCount: z
			.number()
			.int()
			.min(0)
			.max(MAX_NOT_READY_COUNT)
			.default(0),
	})
	.refine(
		({ mediaUrls, media }) => mediaUrls.length + media.length <= MAX_MEDIA_URLS,
		{
			path: ["media"],
			message: `mediaUrls and media together may contain at most ${MAX_MEDIA_URLS} items`,
		},
	)
	.refine(
		({ media }) =>
			media.reduce((sum, item) => sum + decodedLength(item.base64), 0) <=
			MAX_MMS_MEDIA_BYTES,
		{
			path: ["media"],
			message: `the decoded media may total at most ${MAX_MMS_MEDIA_BYTES} bytes`,
		},
	);

export type InboundRequest = z.infer<typeof InboundRequestSchema>;

export interface InboundResult {
	messageSid: string;
	url: string;
	params: Record<string, string>;
	signature: string;
	response: Pick<WebhookResult, "status" | "contentType" | "body" | "error">;
}

/** A media item as the incoming-message webhook names it. */
export interface WebhookMedia {
	url: string;
	contentType: string;
}

/**
 * Records an inbound message as Twilio would (direction `inbound`, status
 * `received`), POSTs Twilio's signed webhook for it to the service's
 * `/twilio/incoming`, and returns the service's response.
 */
export async function deliverInbound(
	env: SimulatorEnv,
	input: InboundRequest,
): Promise<InboundResult> {
	const media: NewMediaItem[] = [
		...input.mediaUrls.map((url) => ({
			sid: newSid("ME"),
			contentType: contentTypeOf(url),
			sourceUrl: url,
			base64: null,
		})),
		...input.media.map((item) => ({
			sid: newSid("ME"),
			contentType: item.contentType,
			sourceUrl: null,
			base64: item.base64,
		})),
	];
	const resource = newMessageResource({
		sid: newSid(media.length > 0 ? "MM" : "SM"),
		accountSid: env.TWILIO_ACCOUNT_SID,
		direction: "inbound",
		status: "received",
		from: input.from,
		to: input.to,
		body: input.body,
		numMedia: media.length,
		messagingServiceSid: null,
		now: new Date(),
	});
	await callState(env, "recordInbound", {
		resource,
		media,
		notReadyCount: input.mediaNotReadyCount,
	});

	const url = `${env.PUBLIC_BASE_URL.replace(/\/+$/, "")}/twilio/incoming`;
	const params = inboundParams(
		resource,
		media.map((item) => ({
			url:
				item.sourceUrl ??
				twilioMediaUrl(env, resource.account_sid, resource.sid, item.sid),
			contentType: item.contentType,
		})),
	);
	const result = await postSignedForm(url, params, env.TWILIO_AUTH_TOKEN);
	const fields = { sid: resource.sid, responseStatus: result.status };
	if (result.error === null) log.info("simulator.inbound_sent", fields);
	else log.warn("simulator.inbound_failed", { ...fields, error: result.error });

	const { signature, ...response } = result;
	return {
		messageSid: resource.sid,
		url,
		params: Object.fromEntries(params),
		signature,
		response,
	};
}

/**
 * Builds the form fields of Twilio's incoming-message webhook. `SmsSid` and
 * `SmsMessageSid` repeat `MessageSid` for older receivers, and media fields
 * are numbered from 0. Twilio fills the city, state and zip fields when it
 * has the data. The simulator has none and sends them empty.
 */
export function inboundParams(
	resource: MessageResource,
	media: WebhookMedia[],
): URLSearchParams {
	const from = resource.from ?? "";
	const params = new URLSearchParams({
		MessageSid: resource.sid,
		SmsSid: resource.sid,
		SmsMessageSid: resource.sid,
		AccountSid: resource.account_sid,
		From: from,
		FromCountry: countryOf(from),
		FromState: "",
		FromCity: "",
		FromZip: "",
		To: resource.to,
		ToCountry: countryOf(resource.to),
		ToState: "",
		ToCity: "",
		ToZip: "",
		Body: resource.body,
		NumMedia: resource.num_media,
		NumSegments: resource.num_segments,
		SmsStatus: "received",
		ApiVersion: API_VERSION,
	});
	media.forEach((item, index) => {
		params.set(`MediaUrl${index}`, item.url);
		params.set(`MediaContentType${index}`, item.contentType);
	});
	return params;
}

/** Bytes that a padded base64 string decodes to. */
function decodedLength(base64: string): number {
	const padding = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
	return (base64.length / 4) * 3 - padding;
}

/** ISO 3166 alpha-2 code of a phone number's country, or "" when unknown. */
function countryOf(address: string): string {
	return parsePhoneNumberFromString(address)?.country ?? "";
}

const CONTENT_TYPES: Record<string, string> = {
	jpg: "image/jpeg",
	jpeg: "image/jpeg",
	png: "image/png",
	gif: "image/gif",
	webp: "image/webp",
	bmp: "image/bmp",
	mp4: "video/mp4",
	"3gp": "video/3gpp",
	mov: "video/quicktime",
	mp3: "audio/mpeg",
	ogg: "audio/ogg",
	amr: "audio/amr",
	wav: "audio/wav",
	vcf: "text/vcard",
	pdf: "application/pdf",
	txt: "text/plain",
	csv: "text/csv",
};

/**
 * Guesses the media type of a `mediaUrls` item from the extension of the
 * URL's path, because the simulator does not fetch those.
 */
export function contentTypeOf(url: string): string {
	const extension = /\.([A-Za-z0-9]+)$/.exec(new URL(url).pathname)?.[1];
	return (
		(extension && CONTENT_TYPES[extension.toLowerCase()]) ??
		"application/octet-stream"
	);
}
