import { parsePhoneNumberFromString } from "libphonenumber-js";

// Digits with the separators people type; channel prefixes such as
// "whatsapp:" are not SMS numbers and are rejected.
const PHONE_TEXT = /^\+[\d\s().-]+$/;

/**
 * Returns `value` in E.164 form (`+14155550100`), or null when it is not a
 * valid phone number in international format.
 */
export function toE164(value: string): string | null {
	const text = value.trim();
	if (!PHONE_TEXT.test(text)) return null;
	const parsed = parsePhoneNumberFromString(text);
	if (!parsed?.isValid()) return null;
	return parsed.number;
}
