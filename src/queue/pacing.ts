import type { MessageRow } from "../db/schema";
import {
	PACING_MARGIN,
	reserveSendSlot,
	senderRate,
} from "../ratelimit/pacing";
import type { SendJob } from "./jobs";

/** Maximum time a consumer sleeps for a send slot, in milliseconds. */
const MAX_SLEEP_MS = 3000;

/**
 * A deferred job comes back this long before its slot, so that the queue's
 * batching delay (up to max_batch_timeout, 1 s) does not make it late.
 */
const EARLY_RETURN_MS = 1500;

export type PacingDecision =
	| { kind: "send" }
	| { kind: "defer"; job: SendJob; delaySeconds: number };

/**
 * Decides when a message may be sent under its sender's rate, and sleeps
 * for a slot that is near. A slot further away is booked and carried in the
 * job (`slotAt`), which the caller puts back on the queue. When the job
 * returns, it uses that slot instead of booking another, so waiting messages
 * keep their places. A job that returns too late for its slot books a new
 * one, because sending late could put it too close to the next booked send.
 */
export async function paceSend(
	env: Env,
	job: SendJob,
	message: MessageRow,
): Promise<PacingDecision> {
	const sender = message.from ?? message.messagingServiceSid;
	if (!sender) return { kind: "send" };

	let slotAt = job.slotAt;
	const now = Date.now();
	if (slotAt === undefined || now - slotAt > lateToleranceMs(env, sender)) {
		slotAt = now + (await reserveSendSlot(env, sender, message.segments));
	}

	const waitMs = slotAt - Date.now();
	if (waitMs <= MAX_SLEEP_MS) {
		if (waitMs > 0) await scheduler.wait(waitMs);
		return { kind: "send" };
	}
	return {
		kind: "defer",
		job: { ...job, slotAt },
		delaySeconds: Math.max(0, Math.floor((waitMs - EARLY_RETURN_MS) / 1000)),
	};
}

/**
 * Returns how late a send may be for its slot without breaking the rate:
 * the gap that the pacing margin leaves between two one-segment slots.
 */
function lateToleranceMs(env: Env, sender: string): number {
	const intervalMs = 1000 / senderRate(env, sender);
	return intervalMs * PACING_MARGIN;
}
