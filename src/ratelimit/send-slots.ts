// Leaky-bucket pacing of one sender: each segment occupies 1/rate seconds,
// and segments follow each other without gaps while a backlog lasts. Twilio
// counts a sender's throughput (MPS) in segments, so a 3-segment message on a
// 1-MPS number occupies 3 seconds.
//
// A backlog is stored as an anchor time plus the segments booked since it,
// and every slot start is computed from that total, so rates such as
// 3 per second (333⅓ ms per segment) do not drift with rounding.

export interface PacerState {
	/** Epoch milliseconds at which the booked run of segments starts. */
	anchor: number;
	/** Segments booked since `anchor`. */
	bookedSegments: number;
	/** The rate in thousandths of a segment per second, an integer. */
	milliRate: number;
}

export interface Reservation {
	/** Milliseconds from `now` until the slot starts. */
	waitMs: number;
	/** False when the wait exceeded `maxWaitMs` and nothing was booked. */
	booked: boolean;
	state: PacerState;
}

/** Converts segments per second to the integer `milliRate`, at least 1. */
export function toMilliRate(segmentsPerSecond: number): number {
	return Math.max(1, Math.round(segmentsPerSecond * 1000));
}

/** Returns the epoch milliseconds at which the next free slot starts. */
export function nextFreeAt(state: PacerState): number {
	// One segment lasts 1000 / rate ms = 10^6 / milliRate ms.
	const busyMs = (state.bookedSegments * 1_000_000) / state.milliRate;
	return state.anchor + Math.ceil(busyMs);
}

/** Restarts the run at the later of `now` and the end of the current one. */
function reanchor(
	state: PacerState | undefined,
	now: number,
	milliRate: number,
): PacerState {
	const anchor = state ? Math.max(now, nextFreeAt(state)) : now;
	return { anchor, bookedSegments: 0, milliRate };
}

/**
 * Books `segments` at the first free slot at or after `now`, unless that slot
 * starts more than `maxWaitMs` from now. A rate change starts a new run at
 * the end of the segments booked at the old rate.
 */
export function reserveSlot(
	state: PacerState | undefined,
	now: number,
	segments: number,
	milliRate: number,
	maxWaitMs = Number.POSITIVE_INFINITY,
): Reservation {
	let current =
		state && state.milliRate === milliRate
			? state
			: reanchor(state, now, milliRate);
	if (nextFreeAt(current) <= now) current = reanchor(current, now, milliRate);

	const waitMs = nextFreeAt(current) - now;
	if (waitMs > maxWaitMs) return { waitMs, booked: false, state: current };
	const next = {
		...current,
		bookedSegments: current.bookedSegments + segments,
	};
	return { waitMs, booked: true, state: next };
}

/** Moves the next free slot to at least `pauseMs` after `now`. */
export function pauseSlots(
	state: PacerState | undefined,
	now: number,
	pauseMs: number,
	milliRate: number,
): PacerState {
	const resumeAt = now + pauseMs;
	if (state && nextFreeAt(state) >= resumeAt) return state;
	return { anchor: resumeAt, bookedSegments: 0, milliRate };
}
