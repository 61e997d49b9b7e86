import { z } from "zod";

/** Upper bounds that keep a mistyped setting from stalling a test run. */
export const MAX_LATENCY_MS = 60_000;
export const MAX_TIMEOUT_MS = 120_000;
export const DEFAULT_TIMEOUT_MS = 20_000;

const Rate = z.number().min(0).max(1).default(0);

/**
 * Probabilities, each from 0 to 1. The first four are outcomes of one
 * create request that exclude each other, so their sum may not exceed 1.
 * The last two apply to the status callbacks of a created message.
 */
export const FaultRatesSchema = z.strictObject({
	"429": Rate,
	"500": Rate,
	timeout: Rate,
	createdThen500: Rate,
	duplicateCallback: Rate,
	outOfOrderCallback: Rate,
});

export const FaultConfigSchema = z
	.strictObject({
		seed: z
			.number()
			.int()
			.min(0)
			.max(2 ** 32 - 1),
		latencyMs: z.number().int().min(0).max(MAX_LATENCY_MS).default(0),
		timeoutMs: z
			.number()
			.int()
			.min(0)
			.max(MAX_TIMEOUT_MS)
			.default(DEFAULT_TIMEOUT_MS),
		rates: FaultRatesSchema.prefault({}),
	})
	.refine(
		({ rates }) =>
			rates["429"] + rates["500"] + rates.timeout + rates.createdThen500 <= 1,
		{
			path: ["rates"],
			message:
				'"429", "500", timeout and createdThen500 exclude each other, so their sum must not exceed 1',
		},
	);

export type FaultConfig = z.infer<typeof FaultConfigSchema>;

/** Fault settings as `GET /simulator/faults` returns them. */
export interface FaultState extends FaultConfig {
	/** Create requests decided since the seed was last set. */
	decisions: number;
}

export const NO_FAULTS: FaultConfig = FaultConfigSchema.parse({ seed: 0 });

/** Outcome of one create request that passed validation. */
export type RequestOutcome =
	| "ok"
	| "429"
	| "500"
	| "timeout"
	| "createdThen500";

export interface FaultDecision {
	outcome: RequestOutcome;
	duplicateCallback: boolean;
	outOfOrderCallback: boolean;
}

/**
 * Advances a mulberry32 generator and returns its next state and a number in
 * [0, 1). The whole state is one 32-bit integer, which the simulator stores
 * so that a run repeats across restarts.
 */
export function nextRandom(state: number): { state: number; value: number } {
	const next = (state + 0x6d2b79f5) >>> 0;
	let t = next;
	t = Math.imul(t ^ (t >>> 15), t | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	const value = ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
	return { state: next, value };
}

/**
 * Decides the faults of one create request. It draws exactly three numbers
 * whatever the rates, so the n-th request after a seed is set always gets
 * the same three numbers.
 */
export function decideFaults(
	config: FaultConfig,
	state: number,
): { state: number; decision: FaultDecision } {
	const outcomeDraw = nextRandom(state);
	const duplicateDraw = nextRandom(outcomeDraw.state);
	const orderDraw = nextRandom(duplicateDraw.state);
	const { rates } = config;

	return {
		state: orderDraw.state,
		decision: {
			outcome: pickOutcome(outcomeDraw.value, rates),
			duplicateCallback: duplicateDraw.value < rates.duplicateCallback,
			outOfOrderCallback: orderDraw.value < rates.outOfOrderCallback,
		},
	};
}

function pickOutcome(
	value: number,
	rates: FaultConfig["rates"],
): RequestOutcome {
	const bands: [Exclude<RequestOutcome, "ok">, number][] = [
		["429", rates["429"]],
		["500", rates["500"]],
		["timeout", rates.timeout],
		["createdThen500", rates.createdThen500],
	];
	let upper = 0;
	for (const [outcome, rate] of bands) {
		upper += rate;
		if (value < upper) return outcome;
	}
	return "ok";
}
