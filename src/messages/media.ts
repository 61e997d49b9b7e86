import {
	API_MEDIA_URL_TTL_SECONDS,
	signedMediaUrl,
	TWILIO_MEDIA_URL_TTL_SECONDS,
} from "../media/signing";

/**
 * One media item of a message as stored in `messages.media` (a JSON array):
 * a URL the client gave, or a media item of ours (uploaded, or an inbound
 * item copied from Twilio) by id. An inbound item not copied yet has only
 * Twilio's URL.
 */
export interface StoredMedia {
	id?: string;
	url?: string;
	contentType?: string | null;
	size?: number | null;
}

export interface MediaView {
	id: string | null;
	url: string | null;
	contentType: string | null;
	size: number | null;
}

export function parseStoredMedia(text: string): StoredMedia[] {
	const items = JSON.parse(text) as (StoredMedia | string)[];
	return items.map((item) => (typeof item === "string" ? { url: item } : item));
}

/** Builds the media of a message as the API shows it, with signed URLs for our items. */
export async function mediaViews(
	env: Env,
	stored: StoredMedia[],
	inbound: boolean,
): Promise<MediaView[]> {
	return Promise.all(
		stored.map(async (item) => ({
			id: item.id ?? null,
			url: item.id
				? await signedMediaUrl(env, item.id, API_MEDIA_URL_TTL_SECONDS)
				: // Twilio's URL of an inbound item needs the account's
					// credentials, so it is not shown.
					inbound
					? null
					: (item.url ?? null),
			contentType: item.contentType ?? null,
			size: item.size ?? null,
		})),
	);
}

/** Builds the MediaUrl values for Twilio, valid for Twilio's whole send window. */
export async function twilioMediaUrls(
	env: Env,
	stored: StoredMedia[],
): Promise<string[]> {
	const urls = await Promise.all(
		stored.map((item) =>
			item.id
				? signedMediaUrl(env, item.id, TWILIO_MEDIA_URL_TTL_SECONDS)
				: Promise.resolve(item.url ?? null),
		),
	);
	return urls.filter((url): url is string => url !== null);
}
