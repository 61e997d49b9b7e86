import { describe, expect, it } from "vitest";
import { backoffSeconds } from "../src/queue/backoff";
import { TwilioApiError } from "../src/twilio/client";
import { classifyTwilioFailure } from "../src/twilio/errors";

function httpError(status: number, code: number | null) {
	return new TwilioApiError("test", { status, code });
}

describe("classifyTwilioFailure", () => {
	it.each([
		[429, 20429, "retry"],
		[429, null, "retry"],
		[400, 21611, "retry"],
		[500, 20500, "ambiguous"],
		[503, 20503, "ambiguous"],
		[502, null, "ambiguous"],
		[400, 21211, "permanent"],
		[400, 21408, "permanent"],
		[400, 21610, "permanent"],
		[400, 21612, "permanent"],
		[400, 21614, "permanent"],
		[401, 20003, "permanent"],
		[404, 20404, "permanent"],
	])("classifies http %i with code %s as %s", (status, code, expected) => {
		expect(classifyTwilioFailure(httpError(status, code))).toBe(expected);
	});

	it("treats a timeout as ambiguous", () => {
		const error = new TwilioApiError("timed out", {
			status: 0,
			timedOut: true,
		});
		expect(classifyTwilioFailure(error)).toBe("ambiguous");
	});

	it("treats a network error as ambiguous", () => {
		const error = new TwilioApiError("unreachable", { status: 0 });
		expect(classifyTwilioFailure(error)).toBe("ambiguous");
	});
});

describe("backoffSeconds", () => {
	const settings = { baseSeconds: 2, capSeconds: 300 };

	it("grows the ceiling exponentially with attempts", () => {
		const top = () => 0.999_999;
		expect(backoffSeconds(1, settings, top)).toBe(2);
		expect(backoffSeconds(2, settings, top)).toBe(4);
		expect(backoffSeconds(3, settings, top)).toBe(8);
		expect(backoffSeconds(5, settings, top)).toBe(32);
	});

	it("never exceeds the cap", () => {
		const top = () => 0.999_999;
		expect(backoffSeconds(9, settings, top)).toBe(300);
		expect(backoffSeconds(100, settings, top)).toBe(300);
	});

	it("draws from zero up to the ceiling", () => {
		expect(backoffSeconds(4, settings, () => 0)).toBe(0);
		expect(backoffSeconds(4, settings, () => 0.5)).toBe(8);
	});

	it("spreads retries across the whole range", () => {
		const delays = new Set<number>();
		for (let i = 0; i < 500; i++) delays.add(backoffSeconds(4, settings));
		expect(Math.min(...delays)).toBe(0);
		expect(Math.max(...delays)).toBe(16);
		expect(delays.size).toBeGreaterThan(10);
	});
});
