import {
	createExecutionContext,
	createMessageBatch,
	getQueueResult,
} from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../src/index";
import type { SendJob } from "../src/queue/jobs";

export const ADMIN_TOKEN = "test-admin-token";
export const BASE = "https://sms.test";

export function request(
	method: string,
	path: string,
	options: { token?: string; json?: unknown; headers?: HeadersInit } = {},
): Promise<Response> {
	const headers = new Headers(options.headers);
	if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
	let body: string | undefined;
	if (options.json !== undefined) {
		headers.set("Content-Type", "application/json");
		body = JSON.stringify(options.json);
	}
	return exports.default.fetch(`${BASE}${path}`, { method, headers, body });
}

export async function createUser(
	name = "test user",
	rateLimit?: { capacity: number; refillPerSecond: number },
): Promise<{ id: string; apiKey: string }> {
	const res = await request("POST", "/v1/users", {
		token: ADMIN_TOKEN,
		json: rateLimit ? { name, rateLimit } : { name },
	});
	if (res.status !== 201) {
		throw new Error(
			`creating a user failed: ${res.status} ${await res.text()}`,
		);
	}
	return (await res.json()) as { id: string; apiKey: string };
}

export interface MessageView {
	id: string;
	status: string;
	direction: string;
	to: string;
	from: string | null;
	body: string;
	twilioSid: string | null;
	errorCode: number | null;
	errorMessage: string | null;
	events: { status: string; at: string; source: string; errorCode?: number }[];
}

export async function getMessage(
	apiKey: string,
	id: string,
): Promise<MessageView> {
	const res = await request("GET", `/v1/messages/${id}`, { token: apiKey });
	if (res.status !== 200) {
		throw new Error(`reading ${id} failed: ${res.status} ${await res.text()}`);
	}
	return (await res.json()) as MessageView;
}

/** Polls the message until `done` holds, or fails after `timeoutMs`. */
export async function waitForMessage(
	apiKey: string,
	id: string,
	done: (message: MessageView) => boolean,
	timeoutMs = 8000,
): Promise<MessageView> {
	const deadline = Date.now() + timeoutMs;
	let message = await getMessage(apiKey, id);
	while (!done(message)) {
		if (Date.now() > deadline) {
			throw new Error(
				`message ${id} is still ${message.status} after ${timeoutMs} ms: ${JSON.stringify(message.events)}`,
			);
		}
		await new Promise((resolve) => setTimeout(resolve, 50));
		message = await getMessage(apiKey, id);
	}
	return message;
}

export const isFinal = (message: MessageView) =>
	["delivered", "undelivered", "failed"].includes(message.status);

export const SIMULATOR = "https://api.twilio.test";

/** Sets the simulator's fault rates; `{}` turns every fault off. */
export async function setFaults(settings: {
	seed?: number;
	latencyMs?: number;
	timeoutMs?: number;
	rates?: Record<string, number>;
}): Promise<void> {
	const res = await fetch(`${SIMULATOR}/simulator/faults`, {
		method: "PUT",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify({ seed: 1, ...settings }),
	});
	if (res.status !== 200) {
		throw new Error(`setting faults failed: ${res.status} ${await res.text()}`);
	}
}

export interface SimulatedCreate {
	sid: string;
	to: string;
	body: string | null;
	statusCallback: string | null;
}

/** Lists every create request the simulator accepted, in order. */
export async function simulatorCreates(): Promise<SimulatedCreate[]> {
	const res = await fetch(`${SIMULATOR}/simulator/messages`);
	const body = (await res.json()) as { data: SimulatedCreate[] };
	return body.data;
}

/**
 * Runs the service's queue handler on one send job for `messageId`, as the
 * queue would deliver it for the `attempts`-th time, and returns what the
 * handler acked and retried. The job id is `job-<messageId>-<attempts>`.
 */
export async function runSendJob(
	queue: string,
	messageId: string,
	attempts: number,
) {
	const batch = createMessageBatch<SendJob>(queue, [
		{
			id: `job-${messageId}-${attempts}`,
			timestamp: new Date(),
			attempts,
			body: { messageId },
		},
	]);
	const ctx = createExecutionContext();
	await worker.queue(batch, env);
	return getQueueResult(batch, ctx);
}
