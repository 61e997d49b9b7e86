/**
 * Phone numbers with fixed behaviour, so tests can provoke each outcome.
 *
 * The numbers that fail the create request are Twilio's test-credential
 * numbers, with the error codes that Twilio lists for them at
 * https://www.twilio.com/docs/iam/test-credentials. The numbers that fail
 * later are the simulator's own. Requests with test credentials trigger no
 * status callbacks, so Twilio has no numbers for such failures.
 */

/** Valid sender, also used as the sender that a Messaging Service picks. */
export const VALID_SENDER = "+15005550006";

export interface RejectedNumber {
	code: number;
	/** Error message in the style of Twilio's, naming the numbers involved. */
	message: (to: string, from: string) => string;
}

/** Recipients that fail the create request with HTTP 400. */
export const REJECTED_RECIPIENTS: ReadonlyMap<string, RejectedNumber> = new Map(
	[
		[
			"+15005550001",
			{
				code: 21211,
				message: (to) => `The 'To' number ${to} is not a valid phone number.`,
			},
		],
		[
			"+15005550002",
			{
				code: 21612,
				message: (to, from) =>
					`The 'To' phone number: ${to}, is not currently reachable using the 'From' phone number: ${from} via SMS.`,
			},
		],
		[
			"+15005550003",
			{
				code: 21408,
				message: (to) =>
					`Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${to}.`,
			},
		],
		[
			"+15005550004",
			{
				code: 21610,
				message: () => "Attempt to send to unsubscribed recipient",
			},
		],
		[
			"+15005550009",
			{
				code: 21614,
				message: (to) => `To number: ${to}, is not a mobile number`,
			},
		],
	],
);

/** Senders that fail the create request with HTTP 400. */
export const REJECTED_SENDERS: ReadonlyMap<string, RejectedNumber> = new Map([
	[
		"+15005550001",
		{
			code: 21212,
			message: (_to, from) =>
				`The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`,
		},
	],
	[
		"+15005550007",
		{
			code: 21606,
			message: (_to, from) =>
				`The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination.`,
		},
	],
	[
		"+15005550008",
		{
			code: 21611,
			message: () =>
				"This 'From' number has exceeded the maximum number of queued messages.",
		},
	],
]);

export interface DeliveryFailure {
	/** Final status of the message. */
	status: "failed" | "undelivered";
	errorCode: number;
	errorMessage: string;
}

/**
 * Recipients whose create succeeds but whose status callbacks report a
 * failure. `+15005550010` goes `sent`, then `undelivered` with 30003
 * (unreachable handset, which a sender may retry later). `+15005550011` goes
 * straight to `failed` with 30008 (unknown error from the carrier).
 */
export const FAILING_RECIPIENTS: ReadonlyMap<string, DeliveryFailure> = new Map(
	[
		[
			"+15005550010",
			{
				status: "undelivered",
				errorCode: 30003,
				errorMessage: "Unreachable destination handset",
			},
		],
		[
			"+15005550011",
			{ status: "failed", errorCode: 30008, errorMessage: "Unknown error" },
		],
	],
);
