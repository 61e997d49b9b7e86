import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { computeTwilioSignature } from "../src/twilio/signature";
import { BASE, createUser, getMessage, request } from "./helpers";

const AUTH_TOKEN = "test-auth-token";

async function postWebhook(
	path: string,
	fields: Record<string, string>,
	options: { signature?: string | null; signedUrl?: string } = {},
): Promise<Response> {
	const params = new URLSearchParams(fields);
	const signature =
		options.signature === undefined
			? await computeTwilioSignature(
					AUTH_TOKEN,
					options.signedUrl ?? `${BASE}${path}`,
					params,
				)
			: options.signature;
	const headers = new Headers({
		"Content-Type": "application/x-www-form-urlencoded",
	});
	if (signature !== null) headers.set("X-Twilio-Signature", signature);
	return exports.default.fetch(`${BASE}${path}`, {
		method: "POST",
		headers,
		body: params.toString(),
	});
}

async function tableCounts(): Promise<string> {
	const row = await env.DB.prepare(
		"select (select count(*) from messages) as messages, (select count(*) from message_events) as events",
	).first();
	return JSON.stringify(row);
}

/** Inserts a queued outbound message straight into D1, as the API would. */
async function storeQueuedMessage(userId: string): Promise<string> {
	const id = `msg_webhook${crypto.randomUUID().replaceAll("-", "")}`;
	const now = Date.now();
	await env.DB.batch([
		env.DB.prepare(
			"insert into messages (id, user_id, direction, `to`, `from`, body, segments, encoding, status, created_at, updated_at) values (?, ?, 'outbound', '+14155550100', '+15005550006', 'hi', 1, 'GSM-7', 'queued', ?, ?)",
		).bind(id, userId, now, now),
		env.DB.prepare(
			"insert into message_events (message_id, status, source, at) values (?, 'queued', 'api', ?)",
		).bind(id, now),
	]);
	return id;
}

function statusFields(sid: string, status: string, extra = {}) {
	return {
		AccountSid: "AC00000000000000000000000000000000",
		MessageSid: sid,
		SmsSid: sid,
		MessageStatus: status,
		SmsStatus: status,
		From: "+15005550006",
		To: "+14155550100",
		ApiVersion: "2010-04-01",
		...extra,
	};
}

let user = { id: "", apiKey: "" };

beforeAll(async () => {
	user = await createUser("webhooks");
});

describe("POST /twilio/status", () => {
	it("rejects an unsigned callback and writes nothing", async () => {
		const id = await storeQueuedMessage(user.id);
		const before = await tableCounts();
		const res = await postWebhook(
			`/twilio/status?messageId=${id}`,
			statusFields(`SM${"a".repeat(32)}`, "delivered"),
			{ signature: null },
		);
		expect(res.status).toBe(403);
		expect(await tableCounts()).toBe(before);
		expect((await getMessage(user.apiKey, id)).status).toBe("queued");
	});

	it("rejects a tampered callback and writes nothing", async () => {
		const id = await storeQueuedMessage(user.id);
		const path = `/twilio/status?messageId=${id}`;
		const fields = statusFields(`SM${"b".repeat(32)}`, "sent");
		const signature = await computeTwilioSignature(
			AUTH_TOKEN,
			`${BASE}${path}`,
			new URLSearchParams(fields),
		);
		const before = await tableCounts();
		const res = await postWebhook(
			path,
			{ ...fields, MessageStatus: "delivered" },
			{ signature },
		);
		expect(res.status).toBe(403);
		expect(await tableCounts()).toBe(before);
	});

	it("rejects a signature made for another host", async () => {
		const id = await storeQueuedMessage(user.id);
		const path = `/twilio/status?messageId=${id}`;
		const res = await postWebhook(
			path,
			statusFields(`SM${"c".repeat(32)}`, "sent"),
			{ signedUrl: `https://attacker.test${path}` },
		);
		expect(res.status).toBe(403);
	});

	it("accepts the url signed with the default port", async () => {
		const id = await storeQueuedMessage(user.id);
		const path = `/twilio/status?messageId=${id}`;
		const res = await postWebhook(
			path,
			statusFields(`SM${"d".repeat(32)}`, "sent"),
			{ signedUrl: `https://sms.test:443${path}` },
		);
		expect(res.status).toBe(200);
		expect((await getMessage(user.apiKey, id)).status).toBe("sent");
	});

	it("never moves a status backwards but logs the late callback", async () => {
		const id = await storeQueuedMessage(user.id);
		const sid = `SM${"e".repeat(32)}`;
		const path = `/twilio/status?messageId=${id}`;
		expect(
			(await postWebhook(path, statusFields(sid, "delivered"))).status,
		).toBe(200);
		expect((await postWebhook(path, statusFields(sid, "sent"))).status).toBe(
			200,
		);
		const message = await getMessage(user.apiKey, id);
		expect(message.status).toBe("delivered");
		expect(message.twilioSid).toBe(sid);
		expect(message.events.map((e) => e.status)).toEqual([
			"queued",
			"delivered",
			"sent",
		]);
	});

	it("stores a duplicate callback once", async () => {
		const id = await storeQueuedMessage(user.id);
		const sid = `SM${"f".repeat(32)}`;
		const path = `/twilio/status?messageId=${id}`;
		const fields = statusFields(sid, "sent");
		expect((await postWebhook(path, fields)).status).toBe(200);
		const before = await tableCounts();
		expect((await postWebhook(path, fields)).status).toBe(200);
		expect(await tableCounts()).toBe(before);
	});

	it("records the error code of an undelivered message", async () => {
		const id = await storeQueuedMessage(user.id);
		const sid = `SM${"1".repeat(32)}`;
		const path = `/twilio/status?messageId=${id}`;
		await postWebhook(
			path,
			statusFields(sid, "undelivered", { ErrorCode: "30003" }),
		);
		const message = await getMessage(user.apiKey, id);
		expect(message.status).toBe("undelivered");
		expect(message.errorCode).toBe(30003);
		expect(message.events.at(-1)?.errorCode).toBe(30003);
	});
});

describe("POST /twilio/incoming", () => {
	function inboundFields(sid: string, body: string) {
		return {
			AccountSid: "AC00000000000000000000000000000000",
			MessageSid: sid,
			SmsMessageSid: sid,
			SmsSid: sid,
			From: "+14155550199",
			To: "+15005550006",
			Body: body,
			NumMedia: "0",
			NumSegments: "1",
			ApiVersion: "2010-04-01",
			SmsStatus: "received",
		};
	}

	it("stores an inbound message once and answers with empty twiml", async () => {
		const sid = `SM${"2".repeat(32)}`;
		const fields = inboundFields(sid, "Hello there");
		const first = await postWebhook("/twilio/incoming", fields);
		expect(first.status).toBe(200);
		expect(first.headers.get("Content-Type")).toContain("text/xml");
		expect(await first.text()).toContain("<Response/>");
		const second = await postWebhook("/twilio/incoming", fields);
		expect(second.status).toBe(200);
		const rows = await env.DB.prepare(
			"select id, direction, body from messages where twilio_sid = ?",
		)
			.bind(sid)
			.all<{ direction: string; body: string }>();
		expect(rows.results).toHaveLength(1);
		expect(rows.results[0]?.direction).toBe("inbound");
		const list = await request("GET", "/v1/messages?direction=inbound", {
			token: user.apiKey,
		});
		const page = (await list.json()) as { data: { body: string }[] };
		expect(page.data.map((m) => m.body)).toContain("Hello there");
	});

	it("routes a reply to the user in the conversation only", async () => {
		const sender = await createUser("conversation owner");
		const bystander = await createUser("bystander");
		const sent = await request("POST", "/v1/messages", {
			token: sender.apiKey,
			json: { to: "+14155550160", from: "+15005550020", body: "hello?" },
		});
		expect(sent.status).toBe(202);
		const reply = {
			...inboundFields(`SM${"5".repeat(32)}`, "a reply"),
			From: "+14155550160",
			To: "+15005550020",
		};
		expect((await postWebhook("/twilio/incoming", reply)).status).toBe(200);
		const row = await env.DB.prepare(
			"select id, user_id from messages where twilio_sid = ?",
		)
			.bind(reply.MessageSid)
			.first<{ id: string; user_id: string }>();
		expect(row?.user_id).toBe(sender.id);
		const mine = await request("GET", `/v1/messages/${row?.id}`, {
			token: sender.apiKey,
		});
		expect(mine.status).toBe(200);
		const theirs = await request("GET", `/v1/messages/${row?.id}`, {
			token: bystander.apiKey,
		});
		expect(theirs.status).toBe(404);
	});

	it("gives a stranger's message to the number's last sender", async () => {
		const sender = await createUser("number user");
		await request("POST", "/v1/messages", {
			token: sender.apiKey,
			json: { to: "+14155550161", from: "+15005550021", body: "hi" },
		});
		const stranger = {
			...inboundFields(`SM${"6".repeat(32)}`, "who is this?"),
			From: "+14155550162",
			To: "+15005550021",
		};
		expect((await postWebhook("/twilio/incoming", stranger)).status).toBe(200);
		const row = await env.DB.prepare(
			"select user_id from messages where twilio_sid = ?",
		)
			.bind(stranger.MessageSid)
			.first<{ user_id: string }>();
		expect(row?.user_id).toBe(sender.id);
	});

	it("rejects an unsigned inbound message and stores nothing", async () => {
		const before = await tableCounts();
		const res = await postWebhook(
			"/twilio/incoming",
			inboundFields(`SM${"3".repeat(32)}`, "forged"),
			{ signature: null },
		);
		expect(res.status).toBe(403);
		expect(await tableCounts()).toBe(before);
	});

	it("accepts a signature over a query with a raw apostrophe", async () => {
		const path = "/twilio/incoming?tag=o'brien";
		const res = await postWebhook(
			path,
			inboundFields(`SM${"4".repeat(32)}`, "apostrophe"),
			{ signedUrl: `${BASE}${path}` },
		);
		expect(res.status).toBe(200);
	});
});
