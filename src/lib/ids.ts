/**
 * Creates an id such as `msg_0193a1b2c3d4e5f60718293a4b5c6d7e`: the prefix,
 * 12 hex digits of the creation time in milliseconds, then 20 random hex
 * digits. Ids of one prefix sort by creation time.
 */
export function newId(prefix: string, now = Date.now()): string {
	const time = now.toString(16).padStart(12, "0");
	const random = crypto.getRandomValues(new Uint8Array(10));
	return `${prefix}_${time}${toHex(random)}`;
}

export function toHex(bytes: Uint8Array): string {
	let hex = "";
	for (const byte of bytes) {
		hex += byte.toString(16).padStart(2, "0");
	}
	return hex;
}

export async function sha256Hex(text: string): Promise<string> {
	const digest = await crypto.subtle.digest(
		"SHA-256",
		new TextEncoder().encode(text),
	);
	return toHex(new Uint8Array(digest));
}

/** Creates a client API key: `sk_` and 32 random bytes in base64url. */
export function newApiKey(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(32));
	let binary = "";
	for (const byte of bytes) {
		binary += String.fromCharCode(byte);
	}
	const base64url = btoa(binary)
		.replaceAll("+", "-")
		.replaceAll("/", "_")
		.replace(/=+$/, "");
	return `sk_${base64url}`;
}
