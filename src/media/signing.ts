import { toHex } from "../lib/ids";

/**
 * How long a media URL given to Twilio stays valid, in seconds: Twilio's
 * longest ValidityPeriod (36,000 s, 10 hours) plus 10 minutes, so that a
 * message Twilio sends at the end of its queue can still fetch its media.
 */
export const TWILIO_MEDIA_URL_TTL_SECONDS = 36_000 + 600;

/** How long a media URL shown in the API stays valid, in seconds. */
export const API_MEDIA_URL_TTL_SECONDS = 3600;

async function signingKey(secret: string): Promise<CryptoKey> {
	if (!secret) {
		throw new Error(
			"MEDIA_SIGNING_KEY is not set; media URLs cannot be signed.",
		);
	}
	return crypto.subtle.importKey(
		"raw",
		new TextEncoder().encode(secret),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign", "verify"],
	);
}

function signedText(id: string, expires: number): Uint8Array {
	return new TextEncoder().encode(`${id}.${expires}`);
}

/** Returns `${PUBLIC_BASE_URL}/media/{id}?expires=…&signature=…`. */
export async function signedMediaUrl(
	env: Env,
	id: string,
	ttlSeconds: number,
	now = Date.now(),
): Promise<string> {
	const expires = Math.floor(now / 1000) + ttlSeconds;
	const key = await signingKey(env.MEDIA_SIGNING_KEY);
	const mac = await crypto.subtle.sign("HMAC", key, signedText(id, expires));
	const base = env.PUBLIC_BASE_URL.replace(/\/+$/, "");
	const signature = toHex(new Uint8Array(mac));
	return `${base}/media/${encodeURIComponent(id)}?expires=${expires}&signature=${signature}`;
}

export type SignatureCheck = "valid" | "expired" | "invalid";

/**
 * Checks a media URL's signature (HMAC-SHA256 over "id.expires"), compared in
 * constant time by WebCrypto's verify, then its expiry.
 */
export async function checkMediaSignature(
	env: Env,
	id: string,
	expires: string | undefined,
	signature: string | undefined,
	now = Date.now(),
): Promise<SignatureCheck> {
	if (!expires || !/^\d{1,12}$/.test(expires)) return "invalid";
	if (!signature || !/^[0-9a-f]{64}$/.test(signature)) return "invalid";
	const mac = new Uint8Array(32);
	for (let i = 0; i < 32; i++) {
		mac[i] = Number.parseInt(signature.slice(i * 2, i * 2 + 2), 16);
	}
	const key = await signingKey(env.MEDIA_SIGNING_KEY);
	const valid = await crypto.subtle.verify(
		"HMAC",
		key,
		mac,
		signedText(id, Number(expires)),
	);
	if (!valid) return "invalid";
	return Number(expires) * 1000 > now ? "valid" : "expired";
}

/** Returns the R2 key of a media item. */
export function mediaObjectKey(id: string): string {
	return `media/${id}`;
}
