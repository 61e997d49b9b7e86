/** A job on the outbound queue: send the stored message through Twilio. */
export interface SendJob {
	messageId: string;
	/** Set when a dead letter is replayed, so logs can tell the attempts apart. */
	replayOf?: string;
	/** A send slot of the sender, booked for this message (epoch ms). */
	slotAt?: number;
}
