import { parsePhoneNumberFromString } from "libphonenumber-js";
import { z } from "zod";
import { log } from "../lib/log";
import { MAX_BODY_CHARS, MAX_MEDIA_URLS } from "./create";
import type { SimulatorEnv } from "./env";
import {
	API_VERSION,
	type MessageResource,
	newMessageResource,
	newSid,
} from "./resource";
import { callState } from "./state-client";
import type { InboundMedia } from "./store";
import { postSignedForm, type WebhookResult } from "./webhook";

export const InboundRequestSchema = z.strictObject({
	from: z.string().min(1),
	to: z.string().min(1),
	body: z.string().max(MAX_BODY_CHARS).default(""),
	mediaUrls: z
		.array(z.url({ protocol: /^https?$/ }))
		.max(MAX_MEDIA_URLS)
		.default([]),
});

export type InboundRequest = z.infer<typeof InboundRequestSchema>;

export interface InboundResult {
	messageSid: string;
	url: string;
	params: Record<string, string>;
	signature: string;
	response: Pick<WebhookResult, "status" | "contentType" | "body" | "error">;
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
	const media: InboundMedia[] = input.mediaUrls.map((url) => ({
		sid: newSid("ME"),
		url,
		contentType: contentTypeOf(url),
	}));
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
	await callState(env, "recordInbound", { resource, media });

	const url = `${env.PUBLIC_BASE_URL.replace(/\/+$/, "")}/twilio/incoming`;
	const params = inboundParams(resource, media);
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
	media: InboundMedia[],
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
		params.set(`MediaUrl${index}`, mediaUrlFor(item));
		params.set(`MediaContentType${index}`, item.contentType);
	});
	return params;
}

/**
 * TODO(fidelity): Twilio sends its own URL for each item,
 * `https://api.twilio.com/2010-04-01/Accounts/{AC}/Messages/{MM}/Media/{ME}`,
 * which requires Basic auth and redirects to a short-lived copy. Until the
 * simulator serves media itself, it passes the original URL through. The ME
 * sid and source URL of each item are already stored for that route.
 */
function mediaUrlFor(item: InboundMedia): string {
	return item.url;
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
 * Guesses the media type from the extension of the URL's path, because the
 * simulator does not fetch the media.
 */
export function contentTypeOf(url: string): string {
	const extension = /\.([A-Za-z0-9]+)$/.exec(new URL(url).pathname)?.[1];
	return (
		(extension && CONTENT_TYPES[extension.toLowerCase()]) ??
		"application/octet-stream"
	);
}
