import { describe, expect, it } from "vitest";
import {
	nextFreeAt,
	type PacerState,
	pauseSlots,
	reserveSlot,
	toMilliRate,
} from "../src/ratelimit/send-slots";
import { countRequest, type WindowRule } from "../src/ratelimit/sliding-window";
import {
	type BucketState,
	MICRO_TOKENS_PER_TOKEN,
	refill,
	returnTokens,
	switchesRule,
	takeTokens,
	viewBucket,
} from "../src/ratelimit/token-bucket";

const T0 = 1_800_000_000_000;

describe("token bucket", () => {
	it("starts full", () => {
		const rule = { capacity: 5, refillPerSecond: 1 };
		const view = viewBucket(refill(undefined, rule, T0), rule);
		expect(view.remaining).toBe(5);
		expect(view.resetMs).toBe(0);
	});

	it("takes the cost and rejects without changing the state", () => {
		const rule = { capacity: 3, refillPerSecond: 0 };
		const first = takeTokens(undefined, rule, T0, 2);
		expect(first.result.allowed).toBe(true);
		expect(first.result.remaining).toBe(1);

		const second = takeTokens(first.state, rule, T0, 2);
		expect(second.result.allowed).toBe(false);
		expect(second.state).toEqual(first.state);
	});

	it("does not drift after many small refills", () => {
		const rule = { capacity: 10, refillPerSecond: 0.01 };
		let state: BucketState = { microTokens: 0, updatedAt: T0 };
		for (let ms = 1; ms <= 100_000; ms++) {
			state = refill(state, rule, T0 + ms);
		}
		const once = refill({ microTokens: 0, updatedAt: T0 }, rule, T0 + 100_000);
		expect(state.microTokens).toBe(MICRO_TOKENS_PER_TOKEN);
		expect(once.microTokens).toBe(MICRO_TOKENS_PER_TOKEN);
	});

	it("adds a token exactly when its time is up", () => {
		const rule = { capacity: 1, refillPerSecond: 0.001 };
		const empty = { microTokens: 0, updatedAt: T0 };
		expect(takeTokens(empty, rule, T0 + 999_999, 1).result.allowed).toBe(false);
		expect(takeTokens(empty, rule, T0 + 1_000_000, 1).result.allowed).toBe(
			true,
		);
	});

	it("keeps 3-decimal rates exact", () => {
		const rule = { capacity: 100, refillPerSecond: 0.007 };
		const state = refill({ microTokens: 0, updatedAt: T0 }, rule, T0 + 1000);
		expect(state.microTokens).toBe(7000);
	});

	it("reports reset and retry waits", () => {
		const rule = { capacity: 4, refillPerSecond: 2 };
		const empty = { microTokens: 0, updatedAt: T0 };
		const rejected = takeTokens(empty, rule, T0, 3).result;
		expect(rejected.resetMs).toBe(500);
		expect(rejected.retryAfterMs).toBe(1500);
	});

	it("reports no reset and no retry without refill", () => {
		const rule = { capacity: 1, refillPerSecond: 0 };
		const rejected = takeTokens(
			{ microTokens: 0, updatedAt: T0 },
			rule,
			T0 + 60_000,
			1,
		).result;
		expect(rejected.resetMs).toBeNull();
		expect(rejected.retryAfterMs).toBeNull();
	});

	it("never admits a cost above the capacity", () => {
		const rule = { capacity: 2, refillPerSecond: 1 };
		const result = takeTokens(undefined, rule, T0, 3).result;
		expect(result.allowed).toBe(false);
		expect(result.retryAfterMs).toBeNull();
	});

	it("trims tokens when the capacity is lowered", () => {
		const state = refill(undefined, { capacity: 50, refillPerSecond: 1 }, T0);
		const view = viewBucket(
			refill(state, { capacity: 3, refillPerSecond: 1 }, T0),
			{ capacity: 3, refillPerSecond: 1 },
		);
		expect(view.remaining).toBe(3);
		expect(view.limit).toBe(3);
	});

	it("fills a bucket idle for decades without overflow", () => {
		const rule = { capacity: 1_000_000, refillPerSecond: 1_000_000 };
		const state = refill({ microTokens: 0, updatedAt: 0 }, rule, T0 * 1000);
		expect(state.microTokens).toBe(1_000_000 * MICRO_TOKENS_PER_TOKEN);
	});

	it("adds nothing when the clock steps back", () => {
		const rule = { capacity: 5, refillPerSecond: 1 };
		const state = { microTokens: 1_500_000, updatedAt: T0 };
		const back = refill(state, rule, T0 - 10_000);
		expect(back).toEqual({ ...state, rule });
	});

	it("returns tokens up to the capacity", () => {
		const rule = { capacity: 2, refillPerSecond: 0 };
		const state = { microTokens: 1_000_000, updatedAt: T0 };
		expect(returnTokens(state, rule, T0, 1).microTokens).toBe(2_000_000);
		expect(returnTokens(state, rule, T0, 5).microTokens).toBe(2_000_000);
	});
});

describe("token bucket with a changed rule", () => {
	const SECOND = 1000;

	/** Returns the state after spending the whole capacity of `rule` at T0. */
	function emptied(rule: { capacity: number; refillPerSecond: number }) {
		const { result, state } = takeTokens(undefined, rule, T0, rule.capacity);
		expect(result.allowed).toBe(true);
		return state;
	}

	it("keeps tokens when refill stops", () => {
		const before = { capacity: 5, refillPerSecond: 1 };
		const stopped = { capacity: 5, refillPerSecond: 0 };
		const spent = emptied(before);
		// Earned lazily: nothing is stored between the spend and this read.
		expect(viewBucket(refill(spent, before, T0 + 8 * SECOND), before)).toEqual({
			limit: 5,
			remaining: 5,
			resetMs: 0,
		});

		expect(switchesRule(spent, stopped)).toBe(true);
		const switched = refill(spent, stopped, T0 + 8 * SECOND);
		expect(switched).toEqual({
			microTokens: 5 * MICRO_TOKENS_PER_TOKEN,
			updatedAt: T0 + 8 * SECOND,
			rule: stopped,
		});
		expect(viewBucket(switched, stopped).remaining).toBe(5);

		const sent = takeTokens(switched, stopped, T0 + 9 * SECOND, 1);
		expect(sent.result.allowed).toBe(true);
		expect(sent.result.remaining).toBe(4);
		expect(switchesRule(sent.state, stopped)).toBe(false);
	});

	it("earns nothing before refill starts", () => {
		const stopped = { capacity: 5, refillPerSecond: 0 };
		const started = { capacity: 5, refillPerSecond: 1 };
		const spent = emptied(stopped);

		const switched = refill(spent, started, T0 + 8 * SECOND);
		expect(switched.microTokens).toBe(0);
		expect(switched.updatedAt).toBe(T0 + 8 * SECOND);
		expect(viewBucket(switched, started)).toEqual({
			limit: 5,
			remaining: 0,
			resetMs: SECOND,
		});

		const early = takeTokens(switched, started, T0 + 9 * SECOND - 1, 1);
		expect(early.result.allowed).toBe(false);
		expect(early.result.retryAfterMs).toBe(1);
		expect(
			takeTokens(switched, started, T0 + 9 * SECOND, 1).result.allowed,
		).toBe(true);
	});

	it("switches the rule in a take", () => {
		const before = { capacity: 5, refillPerSecond: 1 };
		const stopped = { capacity: 5, refillPerSecond: 0 };
		const spent = emptied(before);
		const accepted = takeTokens(spent, stopped, T0 + 8 * SECOND, 1);
		expect(accepted.result.allowed).toBe(true);
		expect(accepted.result.remaining).toBe(4);
		expect(accepted.state.rule).toEqual(stopped);

		// A rejected take still switches, so its state must be stored.
		const started = { capacity: 5, refillPerSecond: 1 };
		const rejected = takeTokens(emptied(stopped), started, T0 + 8 * SECOND, 1);
		expect(rejected.result.allowed).toBe(false);
		expect(rejected.result.retryAfterMs).toBe(SECOND);
		expect(rejected.state).toEqual({
			microTokens: 0,
			updatedAt: T0 + 8 * SECOND,
			rule: started,
		});
	});

	it("refills each period at its rule", () => {
		const slow = { capacity: 10, refillPerSecond: 0.5 };
		const fast = { capacity: 10, refillPerSecond: 2 };
		let state = emptied(slow);
		state = refill(state, fast, T0 + 4 * SECOND); // 2 tokens at 0.5 a second
		state = refill(state, slow, T0 + 6 * SECOND); // 4 more at 2 a second
		state = refill(state, slow, T0 + 8 * SECOND); // 1 more at 0.5 a second
		expect(state.microTokens).toBe(7 * MICRO_TOKENS_PER_TOKEN);
	});

	it("clamps tokens to lowered capacity", () => {
		const before = { capacity: 10, refillPerSecond: 1 };
		const lowered = { capacity: 3, refillPerSecond: 1 };
		const spent = takeTokens(undefined, before, T0, 8).state;
		// 2 tokens left plus 4 earned is 6, above the new capacity.
		const switched = refill(spent, lowered, T0 + 4 * SECOND);
		expect(switched.microTokens).toBe(3 * MICRO_TOKENS_PER_TOKEN);
		expect(viewBucket(switched, lowered)).toEqual({
			limit: 3,
			remaining: 3,
			resetMs: 0,
		});
	});

	it("keeps tokens when capacity rises", () => {
		const before = { capacity: 3, refillPerSecond: 1 };
		const raised = { capacity: 10, refillPerSecond: 1 };
		const spent = takeTokens(undefined, before, T0, 2).state;
		// 1 token left plus 5 seconds of refill stops at the old capacity 3.
		const switched = refill(spent, raised, T0 + 5 * SECOND);
		expect(switched.microTokens).toBe(3 * MICRO_TOKENS_PER_TOKEN);
		expect(viewBucket(switched, raised).remaining).toBe(3);
		expect(refill(switched, raised, T0 + 7 * SECOND).microTokens).toBe(
			5 * MICRO_TOKENS_PER_TOKEN,
		);
	});

	it("compares rules by integer rate", () => {
		const state = emptied({ capacity: 100, refillPerSecond: 0.007 });
		expect(
			switchesRule(state, { capacity: 100, refillPerSecond: 7 / 1000 }),
		).toBe(false);
		expect(switchesRule(state, { capacity: 99, refillPerSecond: 0.007 })).toBe(
			true,
		);
		expect(switchesRule(undefined, { capacity: 1, refillPerSecond: 0 })).toBe(
			false,
		);
	});

	it("records the rule in legacy state", () => {
		const rule = { capacity: 5, refillPerSecond: 1 };
		const unrecorded = { microTokens: 0, updatedAt: T0 };
		expect(switchesRule(unrecorded, rule)).toBe(true);
		const state = refill(unrecorded, rule, T0 + 2 * SECOND);
		expect(state).toEqual({
			microTokens: 2 * MICRO_TOKENS_PER_TOKEN,
			updatedAt: T0 + 2 * SECOND,
			rule,
		});
		expect(switchesRule(state, rule)).toBe(false);
	});
});

/** Drives `countRequest` like the Durable Object does, with a given clock. */
function windowDriver(rule: WindowRule) {
	let hits: number[] = [];
	return (now: number) => {
		const update = countRequest(hits, now, rule);
		hits = update.hits;
		return update.result;
	};
}

describe("sliding window", () => {
	it("admits exactly the limit at one instant", () => {
		const count = windowDriver({ limit: 3, windowMs: 1000 });
		const results = [0, 0, 0, 0].map(() => count(T0).allowed);
		expect(results).toEqual([true, true, true, false]);
	});

	it("admits again exactly at the window edge", () => {
		const count = windowDriver({ limit: 2, windowMs: 1000 });
		count(T0);
		count(T0 + 400);
		expect(count(T0 + 999).allowed).toBe(false);
		expect(count(T0 + 1000).allowed).toBe(true);
		expect(count(T0 + 1000).allowed).toBe(false);
		expect(count(T0 + 1399).allowed).toBe(false);
		expect(count(T0 + 1400).allowed).toBe(true);
	});

	it("reports the retry time of the window edge", () => {
		const count = windowDriver({ limit: 2, windowMs: 1000 });
		count(T0);
		count(T0 + 300);
		const rejected = count(T0 + 500);
		expect(rejected.retryAfterMs).toBe(500);
		expect(rejected.remaining).toBe(0);
		expect(rejected.resetMs).toBe(500);
		expect(count(T0 + 999).allowed).toBe(false);
		expect(count(T0 + 1000).allowed).toBe(true);
	});

	it("never overfills a window of random traffic", () => {
		const rule = { limit: 5, windowMs: 1000 };
		const count = windowDriver(rule);
		let seed = 42;
		let now = T0;
		const admitted: number[] = [];
		const wronglyRejected: number[] = [];
		for (let i = 0; i < 5000; i++) {
			// A linear congruential generator keeps the run reproducible.
			seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
			now += seed % 120;
			const inWindow = admitted.filter((at) => at > now - rule.windowMs);
			const result = count(now);
			if (result.allowed) admitted.push(now);
			else if (inWindow.length < rule.limit) wronglyRejected.push(now);
		}
		const overfull = admitted.filter(
			(start, i) => (admitted[i + rule.limit] ?? Infinity) < start + 1000,
		);
		expect(overfull).toEqual([]);
		expect(wronglyRejected).toEqual([]);
		expect(admitted.length).toBeGreaterThan(1000);
	});

	it("honours a lowered limit", () => {
		let hits: number[] = [];
		for (const ms of [0, 100, 200, 300]) {
			hits = countRequest(hits, T0 + ms, { limit: 4, windowMs: 1000 }).hits;
		}
		const lowered = { limit: 2, windowMs: 1000 };
		const rejected = countRequest(hits, T0 + 400, lowered).result;
		expect(rejected.allowed).toBe(false);
		expect(rejected.retryAfterMs).toBe(800);
		expect(countRequest(hits, T0 + 1199, lowered).result.allowed).toBe(false);
		expect(countRequest(hits, T0 + 1200, lowered).result.allowed).toBe(true);
	});
});

function reserveAll(
	rate: number,
	requests: { at: number; segments: number }[],
): number[] {
	let state: PacerState | undefined;
	return requests.map(({ at, segments }) => {
		const reservation = reserveSlot(
			state,
			T0 + at,
			segments,
			toMilliRate(rate),
		);
		state = reservation.state;
		return reservation.waitMs;
	});
}

describe("send slots", () => {
	it("spaces a long code one second apart", () => {
		const waits = reserveAll(
			1,
			[0, 0, 0].map(() => ({ at: 0, segments: 1 })),
		);
		expect(waits).toEqual([0, 1000, 2000]);
	});

	it("spaces toll-free slots without drift", () => {
		const requests = Array.from({ length: 301 }, () => ({
			at: 0,
			segments: 1,
		}));
		const waits = reserveAll(3, requests);
		expect(waits.slice(0, 4)).toEqual([0, 334, 667, 1000]);
		expect(waits[300]).toBe(100_000);
	});

	it("books one slot per segment", () => {
		const waits = reserveAll(1, [
			{ at: 0, segments: 3 },
			{ at: 0, segments: 1 },
		]);
		expect(waits).toEqual([0, 3000]);
	});

	it("sends at once after an idle gap", () => {
		const waits = reserveAll(1, [
			{ at: 0, segments: 1 },
			{ at: 5000, segments: 1 },
			{ at: 5200, segments: 1 },
		]);
		expect(waits).toEqual([0, 0, 800]);
	});

	it("books nothing when the wait exceeds the maximum", () => {
		const rate = toMilliRate(1);
		const first = reserveSlot(undefined, T0, 5, rate);
		const skipped = reserveSlot(first.state, T0, 1, rate, 2000);
		expect(skipped.booked).toBe(false);
		expect(skipped.waitMs).toBe(5000);
		expect(skipped.state).toEqual(first.state);
	});

	it("pauses the next slot after a throttle", () => {
		const rate = toMilliRate(1);
		const state = pauseSlots(undefined, T0, 1500, rate);
		expect(nextFreeAt(state)).toBe(T0 + 1500);
		expect(reserveSlot(state, T0 + 100, 1, rate).waitMs).toBe(1400);
	});

	it("keeps later bookings when a throttle is shorter", () => {
		const rate = toMilliRate(1);
		const booked = reserveSlot(undefined, T0, 4, rate).state;
		expect(pauseSlots(booked, T0, 1000, rate)).toEqual(booked);
	});

	it("continues after old bookings when the rate changes", () => {
		const booked = reserveSlot(undefined, T0, 2, toMilliRate(1)).state;
		const faster = reserveSlot(booked, T0, 1, toMilliRate(10));
		expect(faster.waitMs).toBe(2000);
		expect(reserveSlot(faster.state, T0, 1, toMilliRate(10)).waitMs).toBe(2100);
	});
});
