import { describe, expect, it } from "vitest";
import { countSegments } from "../src/messages/segments";

/** Returns the first `length` characters of "1234567890" repeated. */
function digits(length: number): string {
	return "1234567890".repeat(Math.ceil(length / 10)).slice(0, length);
}

const GSM7_BASIC_ALPHABET =
	"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

const WINKING_FACE = "😜"; // two UTF-16 code units
const FLAG_OF_ITALY = "🇮🇹"; // two regional indicators, four code units
const RAINBOW_FLAG = "🏳️‍🌈"; // flag, variation selector, ZWJ, rainbow: six

describe("countSegments", () => {
	it.each([
		[digits(160), 1],
		[digits(161), 2],
		[digits(307), 3],
	])("matches Twilio's GSM-7 vectors (%#)", (body, segments) => {
		expect(countSegments(body)).toEqual({ encoding: "GSM-7", segments });
	});

	it.each([
		[WINKING_FACE + digits(68), 1],
		[WINKING_FACE + digits(69), 2],
		[WINKING_FACE + digits(133), 3],
		[FLAG_OF_ITALY + digits(66), 1],
		[FLAG_OF_ITALY + digits(67), 2],
		[RAINBOW_FLAG + digits(64), 1],
		[RAINBOW_FLAG + digits(65), 2],
	])("matches Twilio's UCS-2 vectors (%#)", (body, segments) => {
		expect(countSegments(body)).toEqual({ encoding: "UCS-2", segments });
	});

	it("counts an empty body as zero segments", () => {
		expect(countSegments("")).toEqual({ encoding: "GSM-7", segments: 0 });
	});

	it.each([
		["80 braces", "{".repeat(80), 1],
		["81 braces", "{".repeat(81), 2],
		["159 digits and a euro sign", `${digits(159)}€`, 2],
		["152 multi-segment braces", "{".repeat(152), 2],
		["153 multi-segment braces", "{".repeat(153), 3],
	])("counts extension characters as two: %s", (_, body, segments) => {
		expect(countSegments(body)).toEqual({ encoding: "GSM-7", segments });
	});

	it.each([
		["é ñ Ä", 1],
		["é".repeat(160), 1],
		["Ä".repeat(161), 2],
		[`${GSM7_BASIC_ALPHABET}${digits(33)}`, 1],
		[`${GSM7_BASIC_ALPHABET}${digits(34)}`, 2],
	])("costs 7 bits per GSM-7 character (%#)", (body, segments) => {
		expect(countSegments(body)).toEqual({ encoding: "GSM-7", segments });
	});

	it.each([
		["ł", "ł", 1],
		["a right single quote", `’${digits(69)}`, 1],
		["a right single quote and 70 digits", `’${digits(70)}`, 2],
		["a backtick", "`", 1],
		["a decomposed é", "e\u0301", 1],
	])("switches the whole body to UCS-2 for %s", (_, body, segments) => {
		expect(countSegments(body)).toEqual({ encoding: "UCS-2", segments });
	});

	it("ends a segment between CR and LF", () => {
		// As one 14-bit unit, CR LF would not fit after 152 digits and would
		// push the last digit into a third segment.
		const body = `${digits(152)}\r\n${digits(152)}`;
		expect(countSegments(body)).toEqual({ encoding: "GSM-7", segments: 2 });
	});

	it.each([
		["an emoji", WINKING_FACE.repeat(67)],
		["a ZWJ sequence", digits(64) + RAINBOW_FLAG + digits(64)],
	])("keeps a straddling %s whole", (_, body) => {
		// 134 code units: split freely, they would fill exactly two segments.
		expect(countSegments(body)).toEqual({ encoding: "UCS-2", segments: 3 });
	});

	it("spreads an oversized grapheme over segments", () => {
		const body = `e${"\u0301".repeat(100)}`; // 101 code units
		expect(countSegments(body)).toEqual({ encoding: "UCS-2", segments: 2 });
	});

	it.each([
		["1600 digits", "GSM-7", digits(1600), 11],
		["1600 braces", "GSM-7", "{".repeat(1600), 22],
		["1600 ł", "UCS-2", "ł".repeat(1600), 24],
		["800 emoji", "UCS-2", WINKING_FACE.repeat(800), 25],
	])("counts 1600 code units: %s", (_, encoding, body, segments) => {
		expect(countSegments(body)).toEqual({ encoding, segments });
	});
});
