/**
 * Message statuses in the order a message moves through them. An outbound
 * message starts `queued` (stored and enqueued); Twilio's callbacks move it
 * to `sending`, `sent`, then a final status. Inbound messages are
 * `received`.
 */
export const MESSAGE_STATUSES = [
	"queued",
	"sending",
	"sent",
	"delivered",
	"undelivered",
	"failed",
	"canceled",
	"read",
	"received",
] as const;

export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<string> = new Set([
	"delivered",
	"undelivered",
	"failed",
	"canceled",
	"read",
	"received",
]);

// Rank of each status, so that a callback that arrives late never moves a
// message backwards. Twilio's `accepted` and `scheduled` come before
// `queued`; `read` (RCS and WhatsApp) may follow `delivered`.
const RANK: Record<string, number> = {
	accepted: 0,
	scheduled: 0,
	queued: 1,
	sending: 2,
	sent: 3,
	delivered: 4,
	undelivered: 4,
	failed: 4,
	canceled: 4,
	read: 5,
	received: 4,
};

/** True when a message in `current` may move to `next`. */
export function isForwardTransition(current: string, next: string): boolean {
	const from = RANK[current];
	const to = RANK[next];
	if (from === undefined || to === undefined) return false;
	return to > from;
}

/** Maps a Twilio message status to the status this service stores. */
export function fromTwilioStatus(status: string): MessageStatus | null {
	if (status === "accepted" || status === "scheduled") return "queued";
	if (status === "partially_delivered") return "delivered";
	if (status === "receiving") return "received";
	return (MESSAGE_STATUSES as readonly string[]).includes(status)
		? (status as MessageStatus)
		: null;
}
