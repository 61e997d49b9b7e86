import { DurableObject } from "cloudflare:workers";
import {
	type PacerState,
	pauseSlots,
	reserveSlot,
	toMilliRate,
} from "./send-slots";

const STATE_KEY = "pacer";

/**
 * Hands out the send slots of one sending number. The caller passes the
 * sender's rate with every call, so a changed SENDER_RATES applies to the
 * next reservation. Every method is synchronous, so calls never interleave,
 * and bookings are in SQLite storage before the wait is returned.
 */
export class SenderPacer extends DurableObject<Env> {
	/**
	 * Books `segments` at the next free slot and returns the milliseconds to
	 * wait before sending. When that wait is above `maxWaitMs`, books nothing
	 * and still returns the wait.
	 */
	reserve(
		segments: number,
		segmentsPerSecond: number,
		maxWaitMs = Number.POSITIVE_INFINITY,
	): number {
		const reservation = reserveSlot(
			this.#load(),
			Date.now(),
			segments,
			toMilliRate(segmentsPerSecond),
			maxWaitMs,
		);
		if (reservation.booked) {
			this.ctx.storage.kv.put(STATE_KEY, reservation.state);
		}
		return reservation.waitMs;
	}

	/** Frees no slot before `pauseMs` from now, after Twilio rejected a send with 429. */
	throttle(pauseMs: number, segmentsPerSecond: number): void {
		const state = pauseSlots(
			this.#load(),
			Date.now(),
			pauseMs,
			toMilliRate(segmentsPerSecond),
		);
		this.ctx.storage.kv.put(STATE_KEY, state);
	}

	#load(): PacerState | undefined {
		return this.ctx.storage.kv.get<PacerState>(STATE_KEY);
	}
}
