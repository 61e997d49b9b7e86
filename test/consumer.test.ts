import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
	createUser,
	getMessage,
	runSendJob,
	setFaults,
	simulatorCreates,
} from "./helpers";

let user = { id: "", apiKey: "" };
let sequence = 0;

beforeAll(async () => {
	user = await createUser("consumer");
});

afterEach(async () => {
	await setFaults({});
});

/** Stores a queued message without enqueueing it, as the API would. */
async function storeQueuedMessage(to: string): Promise<string> {
	sequence++;
	const id = `msg_consumer${Date.now()}${sequence}`;
	const now = Date.now();
	await env.DB.batch([
		env.DB.prepare(
			"insert into messages (id, user_id, direction, `to`, `from`, body, segments, encoding, status, created_at, updated_at) values (?, ?, 'outbound', ?, '+15005550006', ?, 1, 'GSM-7', 'queued', ?, ?)",
		).bind(id, user.id, to, `consumer test ${id}`, now, now),
		env.DB.prepare(
			"insert into message_events (message_id, status, source, at) values (?, 'queued', 'api', ?)",
		).bind(id, now),
	]);
	return id;
}

async function createsFor(messageId: string) {
	return (await simulatorCreates()).filter((create) =>
		create.statusCallback?.includes(messageId),
	);
}

async function deadLettersFor(messageId: string) {
	const rows = await env.DB.prepare(
		"select status, error_code, error, retry_count, payload from dead_letters where message_id = ?",
	)
		.bind(messageId)
		.all<{
			status: string;
			error_code: number | null;
			error: string;
			retry_count: number;
			payload: string;
		}>();
	return rows.results;
}

describe("outbound consumer", () => {
	it("sends a queued message and acks it", async () => {
		const id = await storeQueuedMessage("+14155550101");
		const result = await runSendJob("sms-outbound", id, 1);
		expect(result.explicitAcks).toEqual([`job-${id}-1`]);
		expect(result.retryMessages).toEqual([]);
		expect(await createsFor(id)).toHaveLength(1);
		expect((await getMessage(user.apiKey, id)).twilioSid).toMatch(/^SM/);
	});

	it("makes no second call for a redelivered job", async () => {
		const id = await storeQueuedMessage("+14155550102");
		await runSendJob("sms-outbound", id, 1);
		const again = await runSendJob("sms-outbound", id, 2);
		expect(again.explicitAcks).toEqual([`job-${id}-2`]);
		expect(await createsFor(id)).toHaveLength(1);
	});

	it("retries a 429 after a backoff delay", async () => {
		await setFaults({ rates: { "429": 1 } });
		const id = await storeQueuedMessage("+14155550103");
		const result = await runSendJob("sms-outbound", id, 3);
		expect(result.explicitAcks).toEqual([]);
		expect(result.retryMessages).toHaveLength(1);
		// A delay of 0 is reported as no delay.
		const delay = result.retryMessages[0]?.delaySeconds ?? 0;
		// RETRY_BASE_SECONDS is 1 in tests: the third attempt waits 0..4 s.
		expect(delay).toBeGreaterThanOrEqual(0);
		expect(delay).toBeLessThanOrEqual(4);
		const message = await getMessage(user.apiKey, id);
		expect(message.status).toBe("queued");
		expect(message.events.at(-1)?.status).toBe("retrying");
		expect(message.events.at(-1)?.errorCode).toBe(20429);
		expect(await createsFor(id)).toHaveLength(0);
	});

	it("dead-letters a permanent error without retrying", async () => {
		const id = await storeQueuedMessage("+15005550001");
		const result = await runSendJob("sms-outbound", id, 2);
		expect(result.explicitAcks).toEqual([`job-${id}-2`]);
		expect(result.retryMessages).toEqual([]);
		const message = await getMessage(user.apiKey, id);
		expect(message.status).toBe("failed");
		expect(message.errorCode).toBe(21211);
		const letters = await deadLettersFor(id);
		expect(letters).toHaveLength(1);
		expect(letters[0]?.status).toBe("failed");
		expect(letters[0]?.error_code).toBe(21211);
		expect(letters[0]?.retry_count).toBe(1);
		expect(JSON.parse(letters[0]?.payload ?? "{}").to).toBe("+15005550001");
	});

	it("dead-letters a job whose retries ran out", async () => {
		await setFaults({ rates: { "500": 1 } });
		const id = await storeQueuedMessage("+14155550104");
		for (let attempt = 1; attempt <= 3; attempt++) {
			const result = await runSendJob("sms-outbound", id, attempt);
			expect(result.retryMessages).toHaveLength(1);
		}
		const result = await runSendJob("sms-outbound-dlq", id, 1);
		expect(result.explicitAcks).toEqual([`job-${id}-1`]);
		const message = await getMessage(user.apiKey, id);
		expect(message.status).toBe("failed");
		expect(message.errorMessage).toContain("Retries exhausted");
		const letters = await deadLettersFor(id);
		expect(letters).toHaveLength(1);
		expect(letters[0]?.retry_count).toBe(3);
		expect(letters[0]?.error_code).toBe(20500);
	});

	it("links a message twilio created before a 500", async () => {
		await setFaults({ rates: { createdThen500: 1 } });
		const id = await storeQueuedMessage("+14155550105");
		const first = await runSendJob("sms-outbound", id, 1);
		expect(first.retryMessages).toHaveLength(1);
		expect(await createsFor(id)).toHaveLength(1);
		await setFaults({});
		// Stop the simulator's callbacks from linking the SID first.
		await env.DB.prepare(
			"update messages set twilio_sid = null, status = 'queued' where id = ?",
		)
			.bind(id)
			.run();
		const second = await runSendJob("sms-outbound", id, 2);
		expect(second.explicitAcks).toEqual([`job-${id}-2`]);
		const creates = await createsFor(id);
		expect(creates).toHaveLength(1);
		const message = await getMessage(user.apiKey, id);
		expect(message.twilioSid).toBe(creates[0]?.sid);
	});

	it("sends again after a 500 that created nothing", async () => {
		await setFaults({ rates: { "500": 1 } });
		const id = await storeQueuedMessage("+14155550106");
		const first = await runSendJob("sms-outbound", id, 1);
		expect(first.retryMessages).toHaveLength(1);
		expect(await createsFor(id)).toHaveLength(0);
		await setFaults({});
		const second = await runSendJob("sms-outbound", id, 2);
		expect(second.explicitAcks).toEqual([`job-${id}-2`]);
		expect(await createsFor(id)).toHaveLength(1);
	});
});

describe("status callbacks", () => {
	it("dead-letters an undelivered message", async () => {
		const id = await storeQueuedMessage("+15005550010");
		await runSendJob("sms-outbound", id, 1);
		const deadline = Date.now() + 5000;
		let letters = await deadLettersFor(id);
		while (letters.length === 0 && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 50));
			letters = await deadLettersFor(id);
		}
		expect(letters).toHaveLength(1);
		expect(letters[0]?.status).toBe("undelivered");
		expect(letters[0]?.error).toBe("30003: Unreachable destination handset");
		expect((await getMessage(user.apiKey, id)).status).toBe("undelivered");
	});
});
