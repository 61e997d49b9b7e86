import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { computeTwilioSignature } from "../src/twilio/signature";
import {
	BASE,
	createUser,
	getMessage,
	isFinal,
	request,
	runSendJob,
	setFaults,
	waitForMessage,
} from "./helpers";

afterEach(async () => {
	await setFaults({});
});

interface DeadLetter {
	id: string;
	messageId: string;
	payload: { to: string; body?: string };
	status: string;
	error: string;
	retryCount: number;
	failedAt: string;
	replayedAt: string | null;
}

/** Creates a user with one message that failed after its retries ran out. */
async function deadLetteredMessage() {
	const user = await createUser("dead letters");
	const id = `msg_dead${crypto.randomUUID().replaceAll("-", "")}`;
	const now = Date.now();
	await env.DB.batch([
		env.DB.prepare(
			"insert into messages (id, user_id, direction, `to`, `from`, body, segments, encoding, status, created_at, updated_at) values (?, ?, 'outbound', '+14155550177', '+15005550006', 'replay me', 1, 'GSM-7', 'queued', ?, ?)",
		).bind(id, user.id, now, now),
		env.DB.prepare(
			"insert into message_events (message_id, status, source, at) values (?, 'queued', 'api', ?)",
		).bind(id, now),
	]);
	await setFaults({ rates: { "500": 1 } });
	await runSendJob("sms-outbound", id, 1);
	await runSendJob("sms-outbound-dlq", id, 1);
	await setFaults({});
	return { user, messageId: id };
}

describe("dead letters", () => {
	it("lists a dead letter in the documented shape", async () => {
		const { user, messageId } = await deadLetteredMessage();
		const res = await request("GET", "/v1/dead-letters", {
			token: user.apiKey,
		});
		expect(res.status).toBe(200);
		const page = (await res.json()) as {
			data: DeadLetter[];
			nextCursor: string | null;
		};
		expect(page.data).toHaveLength(1);
		const letter = page.data[0] as DeadLetter;
		expect(letter.id).toMatch(/^dlq_/);
		expect(letter.messageId).toBe(messageId);
		expect(letter.payload).toEqual({
			to: "+14155550177",
			from: "+15005550006",
			body: "replay me",
		});
		expect(letter.status).toBe("failed");
		expect(letter.error).toContain("Retries exhausted");
		expect(letter.retryCount).toBe(1);
		expect(Date.parse(letter.failedAt)).not.toBeNaN();
		expect(letter.replayedAt).toBeNull();
		expect(page.nextCursor).toBeNull();
	});

	it("replays a dead letter to delivery once", async () => {
		const { user, messageId } = await deadLetteredMessage();
		const list = await request("GET", "/v1/dead-letters", {
			token: user.apiKey,
		});
		const [letter] = ((await list.json()) as { data: DeadLetter[] }).data;
		const replay = await request(
			"POST",
			`/v1/dead-letters/${letter?.id}/replay`,
			{ token: user.apiKey },
		);
		expect(replay.status).toBe(202);
		expect(((await replay.json()) as DeadLetter).replayedAt).not.toBeNull();

		const message = await waitForMessage(user.apiKey, messageId, isFinal);
		expect(message.status).toBe("delivered");
		const statuses = message.events.map((event) => event.status);
		expect(statuses).toEqual([
			"queued",
			"retrying",
			"failed",
			"queued",
			"sent",
			"delivered",
		]);
		expect(message.events[3]?.source).toBe("replay");

		const again = await request(
			"POST",
			`/v1/dead-letters/${letter?.id}/replay`,
			{ token: user.apiKey },
		);
		expect(again.status).toBe(409);
	});

	it("refuses to replay to an opted-out recipient", async () => {
		const { user, messageId } = await deadLetteredMessage();
		await env.DB.prepare(
			"insert into opt_outs (phone, sender, source, created_at) values ('+14155550177', '+15005550006', 'keyword', ?)",
		)
			.bind(Date.now())
			.run();
		const list = await request("GET", "/v1/dead-letters", {
			token: user.apiKey,
		});
		const [letter] = ((await list.json()) as { data: DeadLetter[] }).data;
		const replay = await request(
			"POST",
			`/v1/dead-letters/${letter?.id}/replay`,
			{ token: user.apiKey },
		);
		expect(replay.status).toBe(422);
		const body = (await replay.json()) as { error: { code: string } };
		expect(body.error.code).toBe("recipient_opted_out");
		const message = await getMessage(user.apiKey, messageId);
		expect(message.status).toBe("failed");
		await env.DB.prepare(
			"delete from opt_outs where phone = '+14155550177'",
		).run();
	});

	it("hides another user's dead letter", async () => {
		const { user } = await deadLetteredMessage();
		const other = await createUser("other");
		const list = await request("GET", "/v1/dead-letters", {
			token: user.apiKey,
		});
		const [letter] = ((await list.json()) as { data: DeadLetter[] }).data;
		const replay = await request(
			"POST",
			`/v1/dead-letters/${letter?.id}/replay`,
			{ token: other.apiKey },
		);
		expect(replay.status).toBe(404);
		const theirs = await request("GET", "/v1/dead-letters", {
			token: other.apiKey,
		});
		expect(((await theirs.json()) as { data: DeadLetter[] }).data).toEqual([]);
	});

	it("ignores callbacks of the attempt before a replay", async () => {
		const user = await createUser("stale callbacks");
		const id = `msg_stale${crypto.randomUUID().replaceAll("-", "")}`;
		const now = Date.now();
		await env.DB.prepare(
			"insert into messages (id, user_id, direction, `to`, `from`, body, segments, encoding, status, generation, created_at, updated_at) values (?, ?, 'outbound', '+14155550178', '+15005550006', 'hi', 1, 'GSM-7', 'queued', 1, ?, ?)",
		)
			.bind(id, user.id, now, now)
			.run();
		const path = `/twilio/status?messageId=${id}&generation=0`;
		const fields = new URLSearchParams({
			MessageSid: `SM${"7".repeat(32)}`,
			MessageStatus: "sent",
			AccountSid: "AC00000000000000000000000000000000",
		});
		const res = await exports.default.fetch(`${BASE}${path}`, {
			method: "POST",
			headers: {
				"Content-Type": "application/x-www-form-urlencoded",
				"X-Twilio-Signature": await computeTwilioSignature(
					"test-auth-token",
					`${BASE}${path}`,
					fields,
				),
			},
			body: fields.toString(),
		});
		expect(res.status).toBe(200);
		const message = await getMessage(user.apiKey, id);
		expect(message.status).toBe("queued");
		expect(message.twilioSid).toBeNull();
		expect(message.events.map((event) => event.status)).toEqual(["sent"]);
	});
});
