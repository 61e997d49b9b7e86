import type { CreateRequest } from "./create";
import type { FaultDecision } from "./faults";
import { FAILING_RECIPIENTS, VALID_SENDER } from "./numbers";
import { API_VERSION, type MessageResource, type StatusStep } from "./resource";

/** A change of a message's status, due at `dueAt` (epoch milliseconds). */
export interface ScheduledStep {
	kind: "step";
	dueAt: number;
	messageSid: string;
	step: StatusStep;
}

/** One status callback request, due at `dueAt` (epoch milliseconds). */
export interface ScheduledCallback {
	kind: "callback";
	dueAt: number;
	messageSid: string;
	url: string;
	params: Record<string, string>;
}

/**
 * The fetch of an MMS's MediaUrl values, due at `dueAt` (epoch
 * milliseconds). The message's status steps are scheduled once it is done,
 * with the fault decision drawn at create time.
 */
export interface ScheduledMediaCheck {
	kind: "media";
	dueAt: number;
	messageSid: string;
	decision: FaultDecision;
}

export type ScheduledEvent =
	| ScheduledStep
	| ScheduledCallback
	| ScheduledMediaCheck;

/** A reason for a message to fail that the request alone does not show. */
export interface StepFailure {
	errorCode: number;
	errorMessage: string;
}

/**
 * Lists the statuses that a created message goes through after its initial
 * one. The initial status (`queued`, or `accepted` with a Messaging Service)
 * produces no callback. A Messaging Service send becomes `queued` once a
 * sender is chosen. `mediaFailure` (media that could not be fetched) makes
 * the message `failed` without being sent, whatever its recipient.
 */
export function plannedSteps(
	request: CreateRequest,
	mediaFailure: StepFailure | null = null,
): StatusStep[] {
	const steps: StatusStep[] = [];
	if (request.from === null) {
		steps.push({ status: "queued", from: VALID_SENDER });
	}

	const failure = mediaFailure
		? { status: "failed" as const, ...mediaFailure }
		: FAILING_RECIPIENTS.get(request.to);
	const finalStep: StatusStep = failure
		? {
				status: failure.status,
				errorCode: failure.errorCode,
				errorMessage: failure.errorMessage,
			}
		: { status: "delivered" };
	if (finalStep.status !== "failed") {
		steps.push({ status: "sent" });
	}
	steps.push(finalStep);
	return steps;
}

/**
 * Schedules each step `delayMs` after the previous one. When the request
 * has a StatusCallback, each step also gets a callback due at the same time
 * and ordered after it, so a fetch made on receipt returns the new status.
 *
 * Faults change only the callbacks. `outOfOrderCallback` delays the `sent`
 * callback until after the final one, as a slow network path would.
 * `duplicateCallback` sends each callback twice in a row.
 */
export function scheduleEvents(input: {
	resource: MessageResource;
	request: CreateRequest;
	decision: FaultDecision;
	startAt: number;
	delayMs: number;
	mediaFailure?: StepFailure | null;
}): ScheduledEvent[] {
	const { resource, request, decision, startAt, delayMs } = input;
	const planned = plannedSteps(request, input.mediaFailure ?? null);
	const steps: ScheduledStep[] = planned.map((step, index) => ({
		kind: "step",
		dueAt: startAt + (index + 1) * delayMs,
		messageSid: resource.sid,
		step,
	}));
	if (request.statusCallback === null) return steps;

	let callbacks = callbacksFor(resource, request.statusCallback, steps);
	if (decision.outOfOrderCallback) callbacks = holdBackSent(callbacks);
	if (decision.duplicateCallback) {
		callbacks = callbacks.flatMap((callback) => [callback, { ...callback }]);
	}
	// A stable sort keeps each step ahead of the callbacks due with it.
	return [...steps, ...callbacks].sort((a, b) => a.dueAt - b.dueAt);
}

function callbacksFor(
	resource: MessageResource,
	url: string,
	steps: ScheduledStep[],
): ScheduledCallback[] {
	let from = resource.from;
	return steps.map(({ dueAt, step }) => {
		from = step.from ?? from;
		return {
			kind: "callback",
			dueAt,
			messageSid: resource.sid,
			url,
			params: callbackParams(resource, step, from ?? "", new Date(dueAt)),
		};
	});
}

function holdBackSent(callbacks: ScheduledCallback[]): ScheduledCallback[] {
	const sent = callbacks.find(
		(callback) => callback.params.MessageStatus === "sent",
	);
	const last = callbacks.at(-1);
	if (!sent || !last || sent === last) return callbacks;
	return [
		...callbacks.filter((callback) => callback !== sent),
		{ ...sent, dueAt: last.dueAt },
	];
}

/**
 * Builds the form fields of a status callback as Twilio sends them for SMS
 * and MMS. `SmsSid` and `SmsStatus` repeat `MessageSid` and `MessageStatus`
 * for older receivers. `ErrorCode` is added for `failed` and `undelivered`,
 * and `RawDlrDoneDate` (the carrier's receipt time as YYMMDDhhmm in UTC) for
 * `delivered` and `undelivered`.
 */
export function callbackParams(
	resource: MessageResource,
	step: StatusStep,
	from: string,
	at: Date,
): Record<string, string> {
	const params: Record<string, string> = {
		MessageSid: resource.sid,
		SmsSid: resource.sid,
		MessageStatus: step.status,
		SmsStatus: step.status,
		AccountSid: resource.account_sid,
		From: from,
		To: resource.to,
		ApiVersion: API_VERSION,
	};
	if (resource.messaging_service_sid !== null) {
		params.MessagingServiceSid = resource.messaging_service_sid;
	}
	if (step.errorCode !== undefined) {
		params.ErrorCode = String(step.errorCode);
	}
	if (step.status === "delivered" || step.status === "undelivered") {
		params.RawDlrDoneDate = rawDlrDoneDate(at);
	}
	return params;
}

function rawDlrDoneDate(at: Date): string {
	const parts = [
		at.getUTCFullYear() % 100,
		at.getUTCMonth() + 1,
		at.getUTCDate(),
		at.getUTCHours(),
		at.getUTCMinutes(),
	];
	return parts.map((part) => String(part).padStart(2, "0")).join("");
}
