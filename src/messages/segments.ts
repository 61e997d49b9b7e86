// Estimates how many SMS segments Twilio splits a message body into, following
// the algorithm of Twilio's own segment calculator. The authoritative count is
// the `num_segments` that Twilio reports on the Message after sending it.

export type Encoding = "GSM-7" | "UCS-2";

export interface SegmentCount {
	encoding: Encoding;
	segments: number;
}

/** User data in one SMS: 140 octets. */
export const SEGMENT_SIZE_BITS = 1120;

/**
 * The User Data Header that joins a concatenated message: 6 octets, carried
 * by every segment as soon as a message needs more than one.
 */
export const CONCATENATION_HEADER_BITS = 48;

export const GSM7_CHAR_BITS = 7;

/** An extension character is sent as the escape code followed by its code. */
export const GSM7_EXTENSION_CHAR_BITS = 2 * GSM7_CHAR_BITS;

export const UCS2_CODE_UNIT_BITS = 16;

// The default alphabet of 3GPP TS 23.038: 128 codes, of which 0x1B is the
// escape to the extension table, leaving 127 characters. It differs from
// ASCII in places: "@" is 0x00, "$" 0x02 and "_" 0x11, while 0x24, 0x40,
// 0x5B-0x60 and 0x7B-0x7F hold ¤ ¡ Ä Ö Ñ Ü § ¿ ä ö ñ ü à. Of ASCII,
// "[\]^{|}~" move to the extension table and "`" has no code at all.
const GSM7_BASIC_CHARS = new Set([
	..."@£$¥èéùìòÇ\nØø\rÅå",
	..."Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ",
	..." !\"#¤%&'()*+,-./",
	..."0123456789:;<=>?",
	..."¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§",
	..."¿abcdefghijklmnopqrstuvwxyzäöñüà",
]);

// The characters of the default extension table of 3GPP TS 23.038, each sent
// after the 0x1B escape. "\f" (form feed) is the page break.
const GSM7_EXTENSION_CHARS = new Set([..."\f^{}\\[~]|€"]);

const graphemeSegmenter = new Intl.Segmenter(undefined, {
	granularity: "grapheme",
});

/**
 * Counts the segments of an SMS body and the encoding it will be sent in.
 *
 * A body with any character outside the GSM-7 alphabet is sent entirely in
 * UCS-2. A grapheme cluster (a letter with its accents, an emoji sequence)
 * that does not fit in the space left in a segment starts the next one. An
 * empty body, as in an MMS that carries only media, counts as zero segments.
 *
 * NOTE: Twilio's Smart Encoding, when enabled, replaces Unicode look-alikes
 * with GSM-7 characters before sending, so it can send fewer segments.
 */
export function countSegments(body: string): SegmentCount {
	const encoding = isGsm7(body) ? "GSM-7" : "UCS-2";
	const costs = graphemeCostsInBits(body, encoding);

	const totalBits = costs.reduce((sum, bits) => sum + bits, 0);
	if (totalBits === 0) return { encoding, segments: 0 };
	if (totalBits <= SEGMENT_SIZE_BITS) return { encoding, segments: 1 };

	return {
		encoding,
		segments: fillSegments(
			costs,
			SEGMENT_SIZE_BITS - CONCATENATION_HEADER_BITS,
		),
	};
}

function isGsm7(body: string): boolean {
	for (const char of body) {
		if (!GSM7_BASIC_CHARS.has(char) && !GSM7_EXTENSION_CHARS.has(char)) {
			return false;
		}
	}
	return true;
}

function graphemeCostsInBits(body: string, encoding: Encoding): number[] {
	const costs: number[] = [];
	for (const { segment } of graphemeSegmenter.segment(body)) {
		// Unicode makes CR LF one grapheme, but Twilio's calculator counts two,
		// so a segment may end between them.
		const parts = segment === "\r\n" ? ["\r", "\n"] : [segment];
		for (const part of parts) costs.push(graphemeBits(part, encoding));
	}
	return costs;
}

function graphemeBits(grapheme: string, encoding: Encoding): number {
	if (encoding === "UCS-2") return grapheme.length * UCS2_CODE_UNIT_BITS;

	let bits = 0;
	for (const char of grapheme) {
		bits += GSM7_EXTENSION_CHARS.has(char)
			? GSM7_EXTENSION_CHAR_BITS
			: GSM7_CHAR_BITS;
	}
	return bits;
}

function fillSegments(costs: number[], capacityBits: number): number {
	let segments = 1;
	let usedBits = 0;
	for (const bits of costs) {
		if (usedBits + bits <= capacityBits) {
			usedBits += bits;
			continue;
		}
		if (usedBits > 0) {
			segments += 1;
			usedBits = 0;
		}

		// A grapheme bigger than a whole segment (dozens of combining marks)
		// cannot stay whole, so it fills as many segments as its bits need.
		// NOTE: this case is an estimate, not checked against Twilio.
		const extraSegments = Math.ceil(bits / capacityBits) - 1;
		segments += extraSegments;
		usedBits = bits - extraSegments * capacityBits;
	}
	return segments;
}
