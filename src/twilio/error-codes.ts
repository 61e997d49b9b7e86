// Short descriptions of the Twilio error codes a sender meets most, from
// Twilio's published error catalogue. Status callbacks carry only the code.
const DESCRIPTIONS: Record<number, string> = {
	20003: "Authentication failed: check the Account SID and Auth Token",
	20404: "Resource not found",
	20429: "Too many concurrent requests",
	20500: "Twilio internal error",
	20503: "Twilio service unavailable",
	21211: "Invalid 'To' phone number",
	21408: "Permission to send an SMS has not been enabled for the region",
	21602: "Message body is required",
	21603: "'From' or 'MessagingServiceSid' is required",
	21604: "'To' is required",
	21606: "'From' is not a valid message-capable Twilio number",
	21608:
		"The number is unverified; trial accounts may only send to verified numbers",
	21609: "Invalid StatusCallback URL",
	21610: "Attempt to send to an unsubscribed recipient",
	21611: "The sender's queue is full",
	21612: "The 'To' number cannot be reached from this sender",
	21614: "'To' is not a valid mobile number",
	21617: "The concatenated body exceeds 1600 characters",
	21620: "Invalid media URL",
	21621: "'From' is not MMS-enabled",
	21623: "More than 10 media files",
	30001: "Queue overflow",
	30002: "Account suspended",
	30003: "Unreachable destination handset",
	30004: "Message blocked",
	30005: "Unknown destination handset",
	30006: "Landline or unreachable carrier",
	30007: "Message filtered by the carrier",
	30008: "Unknown error from the carrier",
	30010: "Message price exceeds the max price",
	30011: "MMS not supported by the receiving number",
	30017: "Carrier network congestion",
	30019: "Content size exceeds the carrier limit",
	30022: "A2P 10DLC rate limit exceeded",
	30023: "A2P 10DLC daily cap reached",
	30032: "Toll-free number not verified",
	30034: "Message from an unregistered number",
};

/** Returns "30003: Unreachable destination handset" style text for a code. */
export function describeTwilioError(
	code: number | null,
	message?: string | null,
): string {
	const text = message || (code === null ? undefined : DESCRIPTIONS[code]);
	if (code === null) return text ?? "Unknown error";
	return `${code}: ${text ?? "Twilio error"}`;
}
