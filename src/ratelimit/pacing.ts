// Per-sender pacing for the outbound queue consumer. Twilio queues what a
// sender cannot send at once, but only up to 10 hours of segments at the
// sender's MPS. Beyond that it rejects a new message with error 21611 or
// fails it later with 30001. Pacing here keeps that queue short.

import { warnInvalidVar } from "./config";

export type SenderKind =
	| "short_code"
	| "toll_free"
	| "long_code"
	| "international"
	| "messaging_service";

/**
 * Twilio's default throughput per sender kind, in segments per second. A2P
 * 10DLC campaigns and high-throughput toll-free numbers may allow more. A
 * Messaging Service spreads its sends over a pool of unknown size, so it gets
 * the long-code rate unless SENDER_RATES names it.
 */
export const DEFAULT_SENDER_RATES: Record<SenderKind, number> = {
	short_code: 100,
	toll_free: 3,
	long_code: 1,
	international: 10,
	messaging_service: 1,
};

/**
 * How long a sender pauses after Twilio rejected a request with 429 (error
 * 20429, too many concurrent requests on the account). Twilio publishes no
 * figure, and requests in flight usually finish within a second.
 */
export const THROTTLE_PAUSE_MS = 1000;

/**
 * Sends are spaced this share wider than the sender's rate, so that jitter
 * on the way to Twilio (a few milliseconds here) never makes two requests
 * arrive closer together than the rate allows. It costs 5% of throughput.
 */
export const PACING_MARGIN = 0.05;

const TOLL_FREE = /^\+1(800|833|844|855|866|877|888)\d{7}$/;
const NANP_NUMBER = /^\+1\d{10}$/;
const SHORT_CODE = /^\+?\d{5,6}$/;
const MESSAGING_SERVICE_SID = /^MG[0-9a-f]{32}$/i;

export function senderKind(sender: string): SenderKind {
	if (SHORT_CODE.test(sender)) return "short_code";
	if (TOLL_FREE.test(sender)) return "toll_free";
	if (NANP_NUMBER.test(sender)) return "long_code";
	if (MESSAGING_SERVICE_SID.test(sender)) return "messaging_service";
	return "international";
}

let parsedRates: { raw: string; rates: Map<string, number> } | undefined;

/**
 * Parses SENDER_RATES, a JSON object from sender to segments per second such
 * as {"+18005550100": 25}. Rates below 0.001 or not numbers are skipped.
 */
function configuredRates(raw: string | undefined): Map<string, number> {
	const text = raw?.trim() ?? "";
	if (parsedRates?.raw === text) return parsedRates.rates;

	const rates = new Map<string, number>();
	if (text !== "") {
		let value: unknown;
		try {
			value = JSON.parse(text);
		} catch {
			value = undefined;
		}
		if (value === null || typeof value !== "object" || Array.isArray(value)) {
			warnInvalidVar("SENDER_RATES", text, "a JSON object of sender to rate");
		} else {
			for (const [sender, rate] of Object.entries(value)) {
				if (typeof rate === "number" && rate >= 0.001) {
					rates.set(sender, rate);
				} else {
					warnInvalidVar(
						"SENDER_RATES",
						text,
						`a rate of at least 0.001 for ${sender}`,
					);
				}
			}
		}
	}
	parsedRates = { raw: text, rates };
	return rates;
}

/** Returns the sender's rate in segments per second. */
export function senderRate(env: Env, sender: string): number {
	return (
		configuredRates(env.SENDER_RATES).get(sender) ??
		DEFAULT_SENDER_RATES[senderKind(sender)]
	);
}

function pacer(env: Env, sender: string) {
	return env.SENDER_PACER.getByName(sender);
}

/**
 * Books the next send slot of `sender` (an E.164 number, short code,
 * alphanumeric sender ID or Messaging Service SID) for a message of
 * `segments` segments, and returns the milliseconds to wait before calling
 * Twilio. A message without text (MMS with media only) takes one slot.
 *
 * With `maxWaitMs`, a slot further away than that is not booked. The caller
 * is then expected to retry the message later (its wait is a good delay)
 * instead of leaving a booked slot unused.
 */
export async function reserveSendSlot(
	env: Env,
	sender: string,
	segments: number,
	options: { maxWaitMs?: number } = {},
): Promise<number> {
	return pacer(env, sender).reserve(
		Math.max(1, Math.ceil(segments)),
		senderRate(env, sender) / (1 + PACING_MARGIN),
		options.maxWaitMs,
	);
}

/** Returns the pause after a 429: SENDER_THROTTLE_PAUSE_MS, or THROTTLE_PAUSE_MS. */
export function throttlePauseMs(env: Env): number {
	const text = env.SENDER_THROTTLE_PAUSE_MS?.trim() ?? "";
	const value = Number(text);
	if (text === "" || !Number.isFinite(value) || value < 0) {
		return THROTTLE_PAUSE_MS;
	}
	return value;
}

/**
 * Pauses `sender` for throttlePauseMs(env) after Twilio rejected a send with 429
 * (error 20429).
 * Slots booked before the call keep their times.
 */
export async function reportSenderThrottled(
	env: Env,
	sender: string,
): Promise<void> {
	await pacer(env, sender).throttle(
		throttlePauseMs(env),
		senderRate(env, sender),
	);
}
