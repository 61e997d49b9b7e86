/** Twilio's cap on all media of one MMS, in bytes. */
export const MAX_MESSAGE_MEDIA_BYTES = 5 * 1024 * 1024;

/** Twilio resizes these image types for the handset, up to the MMS cap. */
const IMAGE_TYPES = new Set([
	"image/jpeg",
	"image/jpg",
	"image/png",
	"image/gif",
]);

/** Other types Twilio passes through unchanged, each up to 500 KB. */
export const MAX_OTHER_MEDIA_BYTES = 500 * 1024;

// NOTE: Twilio's table of accepted MIME types was only partly confirmed: the
// image rows are certain, the rest follow its published list and carriers
// may refuse some of them.
const OTHER_TYPES = new Set([
	"image/bmp",
	"image/tiff",
	"audio/basic",
	"audio/mp4",
	"audio/mpeg",
	"audio/ogg",
	"audio/3gpp",
	"audio/3gpp2",
	"audio/ac3",
	"audio/amr",
	"audio/webm",
	"video/mpeg",
	"video/mp4",
	"video/quicktime",
	"video/webm",
	"video/3gpp",
	"video/3gpp2",
	"video/h263",
	"video/h264",
	"text/vcard",
	"text/x-vcard",
	"text/csv",
	"text/rtf",
	"text/calendar",
	"application/pdf",
	"application/vcard",
	"application/vnd.apple.pkpass",
]);

/** Returns the media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(contentType: string | null | undefined): string {
	return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Returns the size limit for `type` in bytes, or null when Twilio rejects the type. */
export function maxBytesFor(type: string): number | null {
	if (IMAGE_TYPES.has(type)) return MAX_MESSAGE_MEDIA_BYTES;
	if (OTHER_TYPES.has(type)) return MAX_OTHER_MEDIA_BYTES;
	return null;
}

export function acceptedTypes(): string[] {
	return [...IMAGE_TYPES, ...OTHER_TYPES];
}
