import { createMiddleware } from "hono/factory";
import type { SimulatorEnv } from "./env";
import { TwilioApiError } from "./errors";

/**
 * Requires HTTP Basic auth with the configured Account SID and Auth Token,
 * and the same Account SID in the path (`:accountSid`). Other requests are
 * rejected with Twilio's 401 and code 20003. API keys (`SK...`) are not
 * supported.
 */
export const requireAccountCredentials = createMiddleware<{
	Bindings: SimulatorEnv;
}>(async (c, next) => {
	const credentials = basicCredentials(c.req.header("Authorization"));
	const accepted =
		credentials !== null &&
		(await equalSecrets(credentials.username, c.env.TWILIO_ACCOUNT_SID)) &&
		(await equalSecrets(credentials.password, c.env.TWILIO_AUTH_TOKEN)) &&
		c.req.param("accountSid") === c.env.TWILIO_ACCOUNT_SID;
	if (!accepted) {
		throw new TwilioApiError(401, 20003, "Authenticate");
	}
	await next();
});

function basicCredentials(
	header: string | undefined,
): { username: string; password: string } | null {
	const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? "");
	if (!match?.[1]) return null;

	let decoded: string;
	try {
		decoded = atob(match[1]);
	} catch {
		return null;
	}
	const colon = decoded.indexOf(":");
	if (colon === -1) return null;
	return {
		username: decoded.slice(0, colon),
		password: decoded.slice(colon + 1),
	};
}

/** Compares the SHA-256 digests in constant time, so timing reveals neither content nor length. */
async function equalSecrets(
	actual: string,
	expected: string,
): Promise<boolean> {
	const digest = (text: string) =>
		crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
	const [actualDigest, expectedDigest] = await Promise.all([
		digest(actual),
		digest(expected),
	]);
	return crypto.subtle.timingSafeEqual(actualDigest, expectedDigest);
}
