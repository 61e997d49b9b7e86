import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	PACING_MARGIN,
	reportSenderThrottled,
	reserveSendSlot,
	senderKind,
	senderRate,
	throttlePauseMs,
} from "../src/ratelimit/pacing";
import { nextFreeAt, type PacerState } from "../src/ratelimit/send-slots";

/** Reserves slots back to back and reads the stored state afterwards. */
async function reserveAll(sender: string, rate: number, segments: number[]) {
	const stub = env.SENDER_PACER.getByName(sender);
	return runInDurableObject(stub, (pacer, state) => {
		const waits = segments.map((count) => pacer.reserve(count, rate));
		const stored = state.storage.kv.get<PacerState>("pacer");
		return { waits, stored };
	});
}

const CLOCK_TOLERANCE_MS = 50;

/** Time that may pass between two calls through stubs on a loaded machine. */
const RPC_TOLERANCE_MS = 500;

/**
 * Checks each wait against its exact slot. The clock may advance a few
 * milliseconds between reservations, which only shortens the later waits.
 */
function expectWaits(waits: number[], exact: number[]) {
	expect(waits).toHaveLength(exact.length);
	exact.forEach((slot, i) => {
		expect(waits[i]).toBeLessThanOrEqual(slot);
		expect(waits[i]).toBeGreaterThan(slot - CLOCK_TOLERANCE_MS);
	});
}

describe("sender pacer", () => {
	it("spaces a long code one second apart", async () => {
		const { waits, stored } = await reserveAll("+14155550101", 1, [1, 1, 1]);
		expectWaits(waits, [0, 1000, 2000]);
		expect(stored && nextFreeAt(stored) - stored.anchor).toBe(3000);
	});

	it("spaces toll-free a third of a second apart", async () => {
		const { waits, stored } = await reserveAll("+18885550101", 3, [1, 1, 1, 1]);
		expectWaits(waits, [0, 334, 667, 1000]);
		expect(stored && nextFreeAt(stored) - stored.anchor).toBe(1334);
	});

	it("counts segments", async () => {
		const { waits, stored } = await reserveAll("+14155550102", 1, [3, 2, 1]);
		expectWaits(waits, [0, 3000, 5000]);
		expect(stored?.bookedSegments).toBe(6);
	});

	it("gives two senders independent slots", async () => {
		const first = await reserveSendSlot(env, "+14155550103", 1);
		const second = await reserveSendSlot(env, "+14155550104", 1);
		const firstAgain = await reserveSendSlot(env, "+14155550103", 1);
		expect(first).toBe(0);
		expect(second).toBe(0);
		// One long-code slot is 1 s widened by the pacing margin.
		const spacing = Math.ceil(1000 * (1 + PACING_MARGIN));
		expect(firstAgain).toBeGreaterThan(spacing - RPC_TOLERANCE_MS);
		expect(firstAgain).toBeLessThanOrEqual(spacing);
	});

	it("reserves toll-free slots at its default rate", async () => {
		const sender = "+18005550105";
		await reserveSendSlot(env, sender, 1);
		const stored = await runInDurableObject(
			env.SENDER_PACER.getByName(sender),
			(_, state) => state.storage.kv.get<PacerState>("pacer"),
		);
		expect(stored?.milliRate).toBe(
			Math.floor((3 / (1 + PACING_MARGIN)) * 1000),
		);
	});

	it("books nothing beyond the maximum wait", async () => {
		const sender = "+14155550106";
		await reserveSendSlot(env, sender, 10);
		const skipped = await reserveSendSlot(env, sender, 1, { maxWaitMs: 2000 });
		const booked = await reserveSendSlot(env, sender, 1);
		expect(skipped).toBeGreaterThan(9000);
		expect(booked).toBeGreaterThan(9000);
		expect(booked).toBeLessThanOrEqual(skipped);
	});

	it("pauses a second by default after a 429", () => {
		expect(throttlePauseMs({ ...env, SENDER_THROTTLE_PAUSE_MS: "" })).toBe(
			1000,
		);
		expect(throttlePauseMs({ ...env, SENDER_THROTTLE_PAUSE_MS: "-5" })).toBe(
			1000,
		);
		expect(throttlePauseMs({ ...env, SENDER_THROTTLE_PAUSE_MS: "250" })).toBe(
			250,
		);
	});

	it("pauses a sender that twilio throttled", async () => {
		const sender = "+14155550107";
		await reportSenderThrottled(env, sender);
		const wait = await reserveSendSlot(env, sender, 1);
		const pause = throttlePauseMs(env);
		expect(wait).toBeGreaterThan(pause - RPC_TOLERANCE_MS);
		expect(wait).toBeLessThanOrEqual(pause);
	});
});

describe("sender rates", () => {
	it("tells sender kinds apart", () => {
		expect(senderKind("+14155550100")).toBe("long_code");
		expect(senderKind("+18445550100")).toBe("toll_free");
		expect(senderKind("12345")).toBe("short_code");
		expect(senderKind("654321")).toBe("short_code");
		expect(senderKind("+447700900123")).toBe("international");
		expect(senderKind("ACME")).toBe("international");
		expect(senderKind(`MG${"0".repeat(32)}`)).toBe("messaging_service");
	});

	it("uses twilio's default rate per kind", () => {
		expect(senderRate(env, "+14155550100")).toBe(1);
		expect(senderRate(env, "+18775550100")).toBe(3);
		expect(senderRate(env, "22395")).toBe(100);
		expect(senderRate(env, "+447700900123")).toBe(10);
	});

	it("prefers the rate in SENDER_RATES", () => {
		const configured = {
			...env,
			SENDER_RATES: '{"+14155550100": 25, "+14155550199": "fast"}',
		};
		expect(senderRate(configured, "+14155550100")).toBe(25);
		expect(senderRate(configured, "+14155550199")).toBe(1);
		expect(senderRate({ ...env, SENDER_RATES: "not json" }, "22395")).toBe(100);
	});
});
