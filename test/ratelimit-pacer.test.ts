import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	reportSenderThrottled,
	reserveSendSlot,
	senderKind,
	senderRate,
	THROTTLE_PAUSE_MS,
} from "../src/ratelimit/pacing";

/** Reserves in one synchronous run inside the object, where the clock does not advance. */
function reserveAtOnce(
	sender: string,
	rate: number,
	segments: number[],
): Promise<number[]> {
	return runInDurableObject(env.SENDER_PACER.getByName(sender), (pacer) =>
		segments.map((count) => pacer.reserve(count, rate)),
	);
}

describe("sender pacer", () => {
	it("spaces a long code one second apart", async () => {
		const waits = await reserveAtOnce("+14155550101", 1, [1, 1, 1]);
		expect(waits).toEqual([0, 1000, 2000]);
	});

	it("spaces toll-free a third of a second apart", async () => {
		const waits = await reserveAtOnce("+18885550101", 3, [1, 1, 1, 1]);
		expect(waits).toEqual([0, 334, 667, 1000]);
	});

	it("counts segments", async () => {
		const waits = await reserveAtOnce("+14155550102", 1, [3, 2, 1]);
		expect(waits).toEqual([0, 3000, 5000]);
	});

	it("gives two senders independent slots", async () => {
		const first = await reserveSendSlot(env, "+14155550103", 1);
		const second = await reserveSendSlot(env, "+14155550104", 1);
		const firstAgain = await reserveSendSlot(env, "+14155550103", 1);
		expect(first).toBe(0);
		expect(second).toBe(0);
		expect(firstAgain).toBeGreaterThan(900);
		expect(firstAgain).toBeLessThanOrEqual(1000);
	});

	it("reserves toll-free slots at its default rate", async () => {
		const sender = "+18005550105";
		await reserveSendSlot(env, sender, 1);
		const wait = await reserveSendSlot(env, sender, 1);
		expect(wait).toBeGreaterThan(300);
		expect(wait).toBeLessThanOrEqual(334);
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

	it("pauses a sender that twilio throttled", async () => {
		const sender = "+14155550107";
		await reportSenderThrottled(env, sender);
		const wait = await reserveSendSlot(env, sender, 1);
		expect(wait).toBeGreaterThan(THROTTLE_PAUSE_MS - 100);
		expect(wait).toBeLessThanOrEqual(THROTTLE_PAUSE_MS);
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
