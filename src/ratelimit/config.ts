import { log } from "../lib/log";

const reportedInvalid = new Set<string>();

/** Logs an invalid var once per isolate, not on every request. */
export function warnInvalidVar(name: string, value: string, expected: string) {
	const key = `${name}=${value}`;
	if (reportedInvalid.has(key)) return;
	reportedInvalid.add(key);
	log.warn("invalid_config", { name, value, expected });
}

/**
 * Parses a var containing a whole number from 0 to `max`. An empty or missing
 * var means `fallback`. An invalid one is logged and also means `fallback`, so
 * a typo in configuration weakens a limit instead of failing every request.
 */
export function readWholeNumber(
	name: string,
	value: string | undefined,
	fallback: number,
	max = 1_000_000,
): number {
	if (value === undefined || value.trim() === "") return fallback;
	const parsed = Number(value);
	if (!Number.isInteger(parsed) || parsed < 0 || parsed > max) {
		warnInvalidVar(name, value, `a whole number from 0 to ${max}`);
		return fallback;
	}
	return parsed;
}

/** Converts milliseconds to whole seconds, rounding up so clients never retry early. */
export function toSeconds(ms: number): number {
	return Math.ceil(ms / 1000);
}
