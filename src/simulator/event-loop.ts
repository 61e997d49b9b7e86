/** A pending event and its row id. */
export interface PendingEvent<E> {
	id: number;
	event: E;
}

/** Source of the loop's events, and the code that runs them. */
export interface EventSource<E> {
	/**
	 * Returns up to `limit` events due at `now` or before that are the
	 * earliest pending event of their message, ordered by due time. An event
	 * being run stays pending until it is removed, so the next event of its
	 * message is not returned before then.
	 */
	dueHeads(now: number, limit: number): PendingEvent<E>[];
	/** Returns the earliest due time after `now`, or null when there is none. */
	nextDueAfter(now: number): number | null;
	/**
	 * Runs an event that needs no request (a status step) and removes it.
	 * Returns false, doing nothing, for an event that needs a request.
	 */
	runAtOnce(pending: PendingEvent<E>): boolean;
	/** Makes the event's request and removes the event. Must not reject. */
	runRequest(pending: PendingEvent<E>): Promise<void>;
}

/**
 * Runs due events: each message's events strictly one after another, and
 * the requests of different messages concurrently, at most `maxInFlight` at
 * a time. One run lasts until no event is due and none is in flight.
 */
export class EventLoop<E> {
	private current: Promise<void> | null = null;
	private wakeUp: (() => void) | null = null;

	constructor(
		private readonly source: EventSource<E>,
		private readonly maxInFlight: number,
	) {}

	/** Starts a run, or wakes the one in progress and returns its promise. */
	run(): Promise<void> {
		if (this.current) {
			this.wake();
			return this.current;
		}
		this.current = this.loop().finally(() => {
			this.current = null;
		});
		return this.current;
	}

	/** Makes a run in progress look for due events now, as after new events were added. */
	wake(): void {
		this.wakeUp?.();
	}

	private async loop(): Promise<void> {
		const inFlight = new Map<number, Promise<void>>();
		for (;;) {
			const now = Date.now();
			let ranAtOnce = false;
			const heads = this.source.dueHeads(now, this.maxInFlight + inFlight.size);
			for (const pending of heads) {
				if (inFlight.has(pending.id)) continue;
				if (this.source.runAtOnce(pending)) {
					ranAtOnce = true;
				} else if (inFlight.size < this.maxInFlight) {
					const request = this.source
						.runRequest(pending)
						.finally(() => inFlight.delete(pending.id));
					inFlight.set(pending.id, request);
				}
			}
			// The message of an event that just ran may have its next event due.
			if (ranAtOnce) continue;
			if (inFlight.size === 0) return;
			await this.nextChange(inFlight.values(), this.source.nextDueAfter(now));
		}
	}

	/** Resolves when a request finishes, when `dueAt` arrives, or on `wake`. */
	private nextChange(
		requests: Iterable<Promise<void>>,
		dueAt: number | null,
	): Promise<void> {
		return new Promise((resolve) => {
			let timer: ReturnType<typeof setTimeout> | undefined;
			let settled = false;
			const done = () => {
				if (settled) return;
				settled = true;
				clearTimeout(timer);
				if (this.wakeUp === done) this.wakeUp = null;
				resolve();
			};
			if (dueAt !== null) {
				timer = setTimeout(done, Math.max(0, dueAt - Date.now()));
			}
			this.wakeUp = done;
			for (const request of requests) request.then(done);
		});
	}
}
