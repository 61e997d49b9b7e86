import { createMiddleware } from "hono/factory";
import type { SimulatorEnv } from "./env";
import { TwilioApiError } from "./errors";

/**
 * Requires HTTP Basic auth and the configured Account SID in the path
 * (`:accountSid`). Basic auth may carry the Account SID and Auth Token. When
 * TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET are both set, it may carry
 * that API key and its secret instead, and the path still names the
 * account, as on Twilio. Other requests are rejected with Twilio's 401 and
 * code 20003.
 */
export const requireAccountCredentials = createMiddleware<{
	Bindings: SimulatorEnv;
}>(async (c, next) => {
	const credentials = basicCredentials(c.req.header("Authorization"));
	const accepted =
		credentials !== null &&
		(await acceptedCredentials(c.env, credentials)) &&
		c.req.param("accountSid") === c.env.TWILIO_ACCOUNT_SID;
	if (!accepted) {
		throw new TwilioApiError(401, 20003, "Authenticate");
	}
	await next();
});

/** Checks both pairs, so the time taken does not tell which pair was tried. */
async function acceptedCredentials(
	env: SimulatorEnv,
	{ username, password }: { username: string; password: string },
): Promise<boolean> {
	const pairs: [string, string][] = [
		[env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN],
	];
	if (env.TWILIO_API_KEY_SID && env.TWILIO_API_KEY_SECRET) {
		pairs.push([env.TWILIO_API_KEY_SID, env.TWILIO_API_KEY_SECRET]);
	}
	const matches = await Promise.all(
		pairs.map(async ([sid, secret]) => {
			const [sameSid, sameSecret] = await Promise.all([
				equalSecrets(username, sid),
				equalSecrets(password, secret),
			]);
			return sameSid && sameSecret;
		}),
	);
	return matches.includes(true);
}

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
