export interface BackoffSettings {
	baseSeconds: number;
	capSeconds: number;
}

/**
 * Returns the delay before the next attempt: exponential backoff with full
 * jitter, a uniform draw from [0, min(cap, base * 2^(attempts - 1))].
 * `attempts` is the queue's delivery count, 1 for the first delivery.
 */
export function backoffSeconds(
	attempts: number,
	settings: BackoffSettings,
	random: () => number = Math.random,
): number {
	const exponent = Math.max(0, Math.min(attempts - 1, 30));
	const ceiling = Math.min(
		settings.capSeconds,
		settings.baseSeconds * 2 ** exponent,
	);
	return Math.floor(random() * (ceiling + 1));
}

export function backoffSettings(env: Env): BackoffSettings {
	return {
		baseSeconds: positiveNumber(env.RETRY_BASE_SECONDS, 2),
		capSeconds: positiveNumber(env.RETRY_CAP_SECONDS, 300),
	};
}

function positiveNumber(value: string | undefined, fallback: number): number {
	const parsed = Number(value);
	return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}
