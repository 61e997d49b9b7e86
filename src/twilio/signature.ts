/**
 * Twilio webhook signatures (the `X-Twilio-Signature` header).
 *
 * Twilio appends each POST parameter's name and decoded value to the webhook
 * URL, signs the UTF-8 bytes with HMAC-SHA1 keyed by the account's primary
 * auth token, and sends the digest in base64. GET webhooks carry their
 * parameters in the query string, so callers pass empty `params` for them.
 */

const encoder = new TextEncoder();

const DEFAULT_PORTS: Record<string, string> = { http: "80", https: "443" };

/** Parts of a URL as written, without user info and fragment. */
interface UrlParts {
	scheme: string;
	host: string;
	port: string | undefined;
	pathAndQuery: string;
}

/**
 * HMAC-SHA1 over url + sorted (bytewise, by name) name+value pairs, base64.
 *
 * The URL loses its `#fragment` and `user:pass@` first, because Twilio leaves
 * both out of the signed string. Everything else is signed byte for byte.
 * Throws when `authToken` is empty.
 */
export async function computeTwilioSignature(
	authToken: string,
	url: string,
	params: URLSearchParams,
): Promise<string> {
	const key = await importSigningKey(authToken);
	return signPayload(key, stripUnsignedUrlParts(url) + serializeParams(params));
}

/**
 * True when `signature` matches `url` or one of the variants Twilio's helper libraries accept. Constant-time compare.
 *
 * Pass the public URL configured in Twilio, not one rebuilt from the request
 * behind a proxy. `candidateUrls` lists the variants and where they differ
 * from twilio-node. Returns false for a missing or empty signature and throws
 * when `authToken` is empty, because that is a configuration error.
 */
export async function verifyTwilioSignature(input: {
	authToken: string;
	url: string;
	params: URLSearchParams;
	signature: string | null | undefined;
}): Promise<boolean> {
	const { authToken, url, params, signature } = input;
	if (!signature) {
		return false;
	}

	const key = await importSigningKey(authToken);
	const serializedParams = serializeParams(params);
	for (const candidate of candidateUrls(stripUnsignedUrlParts(url))) {
		const expected = await signPayload(key, candidate + serializedParams);
		if (equalsInConstantTime(expected, signature)) {
			return true;
		}
	}
	return false;
}

async function importSigningKey(authToken: string): Promise<CryptoKey> {
	if (authToken === "") {
		throw new Error(
			"Twilio auth token is empty. Set it to the account's primary auth token.",
		);
	}
	return crypto.subtle.importKey(
		"raw",
		encoder.encode(authToken),
		{ name: "HMAC", hash: "SHA-1" },
		false,
		["sign"],
	);
}

async function signPayload(key: CryptoKey, payload: string): Promise<string> {
	const digest = await crypto.subtle.sign("HMAC", key, encoder.encode(payload));
	return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/**
 * Concatenates names and values with no separators. `sort()` without a
 * comparator orders by UTF-16 code units, so "Z" comes before "a", as in
 * twilio-node. `localeCompare` would interleave upper and lower case. A
 * repeated name contributes each distinct value once, in sorted order, as
 * twilio-node does.
 *
 * NOTE: how Twilio's servers sign a repeated name is unverified. SMS and MMS
 * webhooks number their repeated fields instead (`MediaUrl0`, `MediaUrl1`).
 */
function serializeParams(params: URLSearchParams): string {
	let serialized = "";
	for (const name of [...new Set(params.keys())].sort()) {
		for (const value of [...new Set(params.getAll(name))].sort()) {
			serialized += name + value;
		}
	}
	return serialized;
}

function stripUnsignedUrlParts(url: string): string {
	const fragmentStart = url.indexOf("#");
	const withoutFragment =
		fragmentStart === -1 ? url : url.slice(0, fragmentStart);
	const parts = splitUrl(withoutFragment);
	return parts ? joinUrl(parts) : withoutFragment;
}

/**
 * Lists the spellings of one webhook URL that may have been signed: with the
 * default port (80 or 443) removed or added, and with the query's apostrophes
 * raw or encoded as `%27`. WHATWG URL serialization, as in `request.url`,
 * encodes `'` in the query of http and https URLs, while Twilio signs the URL
 * as configured.
 *
 * NOTE: twilio-node also accepts the URL with a non-default port removed, and
 * signs it with credentials kept. Twilio's security documentation says SMS
 * webhooks are signed with credentials dropped and any port kept, so this
 * code follows the documentation.
 */
function candidateUrls(url: string): Set<string> {
	const candidates = new Set<string>();
	for (const withPortVariant of defaultPortVariants(url)) {
		for (const withQuoteVariant of apostropheVariants(withPortVariant)) {
			candidates.add(withQuoteVariant);
		}
	}
	return candidates;
}

function defaultPortVariants(url: string): string[] {
	const parts = splitUrl(url);
	const defaultPort = parts && DEFAULT_PORTS[parts.scheme.toLowerCase()];
	if (!parts || !defaultPort) {
		return [url];
	}

	if (parts.port === undefined) {
		return [url, joinUrl({ ...parts, port: defaultPort })];
	}
	if (parts.port === defaultPort) {
		return [url, joinUrl({ ...parts, port: undefined })];
	}
	return [url];
}

function apostropheVariants(url: string): string[] {
	const queryStart = url.indexOf("?");
	if (queryStart === -1) {
		return [url];
	}

	const beforeQuery = url.slice(0, queryStart);
	const query = url.slice(queryStart);
	return [
		url,
		beforeQuery + query.replaceAll("'", "%27"),
		beforeQuery + query.replaceAll("%27", "'"),
	];
}

/**
 * Splits a URL without a fragment, keeping each part as written. Returns
 * undefined when there is no `scheme://host` prefix, and callers then use the
 * URL unchanged. User info ends at the last `@` of the authority, as in the
 * WHATWG URL parser.
 */
function splitUrl(url: string): UrlParts | undefined {
	const urlMatch = /^([a-z][a-z\d+.-]*):\/\/([^/?]*)(.*)$/is.exec(url);
	if (!urlMatch) {
		return undefined;
	}
	const [, scheme = "", authority = "", pathAndQuery = ""] = urlMatch;

	const hostAndPort = authority.slice(authority.lastIndexOf("@") + 1);
	const hostMatch = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostAndPort);
	if (!hostMatch) {
		return undefined;
	}
	const [, host = "", port] = hostMatch;

	return { scheme, host, port, pathAndQuery };
}

function joinUrl({ scheme, host, port, pathAndQuery }: UrlParts): string {
	const portSuffix = port === undefined ? "" : `:${port}`;
	return `${scheme}://${host}${portSuffix}${pathAndQuery}`;
}

/**
 * Compares two strings without an early exit on the first differing byte.
 * Lengths may differ in observable time, which leaks nothing because every
 * valid signature is 28 base64 characters.
 */
function equalsInConstantTime(expected: string, actual: string): boolean {
	const expectedBytes = encoder.encode(expected);
	const actualBytes = encoder.encode(actual);
	if (expectedBytes.byteLength !== actualBytes.byteLength) {
		return false;
	}
	return crypto.subtle.timingSafeEqual(expectedBytes, actualBytes);
}
