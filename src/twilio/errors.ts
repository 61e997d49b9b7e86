import type { TwilioApiError } from "./client";

/**
 * The action to take after a failed `POST Messages.json`:
 * - `retry`: Twilio did not process the request; send again after a delay.
 * - `ambiguous`: Twilio may have created the message (5xx, timeout, network
 *   error); look for it before sending again, because a create is not
 *   idempotent.
 * - `permanent`: the request can never succeed as it is; fail the message.
 */
export type FailureClass = "retry" | "ambiguous" | "permanent";

export function classifyTwilioFailure(error: TwilioApiError): FailureClass {
	if (error.status === 429 || error.code === 20429) return "retry";
	if (error.status === 0 || error.status >= 500) return "ambiguous";
	// 21611: the sender's queue is full; it drains at the sender's rate.
	if (error.code === 21611) return "retry";
	return "permanent";
}
