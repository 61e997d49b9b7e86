// Tests of the Twilio simulator over HTTP, as the service uses it. Every
// global fetch from test code goes to the simulator worker, whatever the host.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { SimulatorEnv } from "../src/simulator/env";
import {
	EventLoop,
	type EventSource,
	type PendingEvent,
} from "../src/simulator/event-loop";
import { cdnUrl } from "../src/simulator/media";
import { verifyTwilioSignature } from "../src/twilio/signature";

const API = "https://api.twilio.test";
const ACCOUNT_SID = env.TWILIO_ACCOUNT_SID;
const MESSAGES = `${API}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;
const SENDER = "+15005550006";
const RECIPIENT = "+14155550100";
const STATUS_CALLBACK = "https://sms.test/twilio/status?ref=a'b#rc=2";
const SERVICE_SID = "MG0123456789abcdef0123456789abcdef";
const MESSAGE_PATH = `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages`;
// The API key that vitest.config.ts gives the simulator.
const API_KEY_SID = "SK00000000000000000000000000000000";
const API_KEY_SECRET = "test-api-key-secret";

// Property types of `api.v2010.account.message` in Twilio's OpenAPI
// description of the 2010-04-01 API. Every property there is nullable.
const MESSAGE_SCHEMA: Record<string, "string" | "integer" | "object"> = {
	account_sid: "string",
	api_version: "string",
	body: "string",
	date_created: "string",
	date_sent: "string",
	date_updated: "string",
	direction: "string",
	error_code: "integer",
	error_message: "string",
	from: "string",
	messaging_service_sid: "string",
	num_media: "string",
	num_segments: "string",
	price: "string",
	price_unit: "string",
	sid: "string",
	status: "string",
	subresource_uris: "object",
	to: "string",
	uri: "string",
};

const RFC_2822 =
	/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/;

type Fields = Record<string, string | string[]>;
type Json = Record<string, unknown>;

interface CallbackAttempt {
	messageSid: string;
	url: string;
	params: Record<string, string>;
	signature: string;
	responseStatus: number | null;
}

function basicAuth(
	username: string = ACCOUNT_SID,
	password: string = env.TWILIO_AUTH_TOKEN,
): string {
	return `Basic ${btoa(`${username}:${password}`)}`;
}

function createMessage(
	fields: Fields,
	options: { authorization?: string | null; url?: string } = {},
): Promise<Response> {
	const form = new URLSearchParams();
	for (const [name, value] of Object.entries(fields)) {
		for (const item of [value].flat()) form.append(name, item);
	}
	const headers = new Headers({
		"Content-Type": "application/x-www-form-urlencoded",
	});
	if (options.authorization !== null) {
		headers.set("Authorization", options.authorization ?? basicAuth());
	}
	return fetch(options.url ?? MESSAGES, {
		method: "POST",
		headers,
		body: form,
	});
}

async function createdMessage(fields: Fields): Promise<Json> {
	const response = await createMessage(fields);
	if (response.status !== 201) {
		throw new Error(
			`create failed with ${response.status}: ${await response.text()}`,
		);
	}
	return (await response.json()) as Json;
}

function apiGet(pathAndQuery: string): Promise<Response> {
	return fetch(`${API}${pathAndQuery}`, {
		headers: { Authorization: basicAuth() },
	});
}

async function fetchMessage(sid: unknown): Promise<Json> {
	const response = await apiGet(
		`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${sid}.json`,
	);
	return (await response.json()) as Json;
}

async function listMessages(query: string): Promise<Json> {
	const response = await apiGet(
		`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json?${query}`,
	);
	return (await response.json()) as Json;
}

function putFaults(config: unknown): Promise<Response> {
	return fetch(`${API}/simulator/faults`, {
		method: "PUT",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify(config),
	});
}

async function callbacksFor(sid: unknown): Promise<CallbackAttempt[]> {
	const response = await fetch(`${API}/simulator/callbacks`);
	const { data } = (await response.json()) as { data: CallbackAttempt[] };
	return data.filter((attempt) => attempt.messageSid === sid);
}

/** Waits until `count` callbacks for `sid` are recorded, then 100 ms more for any extra ones. */
async function waitForCallbacks(
	sid: unknown,
	count: number,
): Promise<CallbackAttempt[]> {
	await vi.waitFor(
		async () => expect(await callbacksFor(sid)).toHaveLength(count),
		{ timeout: 5000, interval: 20 },
	);
	await new Promise((resolve) => setTimeout(resolve, 100));
	return callbacksFor(sid);
}

function statusesOf(attempts: CallbackAttempt[]): string[] {
	return attempts.map((attempt) => attempt.params.MessageStatus ?? "");
}

function typeOf(value: unknown): string {
	if (value === null) return "null";
	if (Number.isInteger(value)) return "integer";
	return typeof value;
}

function utcDay(offsetDays = 0): string {
	const date = new Date(Date.now() + offsetDays * 24 * 60 * 60 * 1000);
	return date.toISOString().slice(0, 10);
}

beforeEach(async () => {
	await fetch(`${API}/simulator/messages`, { method: "DELETE" });
});

describe("create", () => {
	it("returns every schema property", async () => {
		const response = await createMessage({
			To: RECIPIENT,
			From: SENDER,
			Body: "hello",
		});
		const message = (await response.json()) as Json;

		expect(response.status).toBe(201);
		expect(Object.keys(message).sort()).toEqual(
			Object.keys(MESSAGE_SCHEMA).sort(),
		);
		for (const [name, type] of Object.entries(MESSAGE_SCHEMA)) {
			expect([type, "null"], name).toContain(typeOf(message[name]));
		}
	});

	it("fills a queued SMS", async () => {
		const message = await createdMessage({
			To: RECIPIENT,
			From: SENDER,
			Body: "hello",
		});

		expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
		expect(message.account_sid).toBe(ACCOUNT_SID);
		expect(message.api_version).toBe("2010-04-01");
		expect(message.status).toBe("queued");
		expect(message.direction).toBe("outbound-api");
		expect(message.from).toBe(SENDER);
		expect(message.to).toBe(RECIPIENT);
		expect(message.body).toBe("hello");
		expect(message.num_segments).toBe("1");
		expect(message.num_media).toBe("0");
		expect(message.date_created).toMatch(RFC_2822);
		expect(message.date_updated).toMatch(RFC_2822);
		expect(message.date_sent).toBeNull();
		expect(message.error_code).toBeNull();
		expect(message.error_message).toBeNull();
		expect(message.price).toBeNull();
		expect(message.price_unit).toBe("USD");
		expect(message.messaging_service_sid).toBeNull();
		expect(message.uri).toBe(
			`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${message.sid}.json`,
		);
		expect(message.subresource_uris).toEqual({
			media: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${message.sid}/Media.json`,
			feedback: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${message.sid}/Feedback.json`,
		});
	});

	it("gives MMS an MM sid", async () => {
		const message = await createdMessage({
			To: RECIPIENT,
			From: SENDER,
			MediaUrl: ["https://media.test/a.jpg", "https://media.test/b.png"],
		});

		expect(message.sid).toMatch(/^MM[0-9a-f]{32}$/);
		expect(message.num_media).toBe("2");
	});

	it("counts segments of a long body", async () => {
		const message = await createdMessage({
			To: RECIPIENT,
			From: SENDER,
			Body: "x".repeat(161),
		});

		expect(message.num_segments).toBe("2");
	});

	it("messaging service send starts accepted", async () => {
		const message = await createdMessage({
			To: RECIPIENT,
			MessagingServiceSid: SERVICE_SID,
			Body: "hello",
		});

		expect(message.status).toBe("accepted");
		expect(message.from).toBeNull();
		expect(message.num_segments).toBe("0");
		expect(message.messaging_service_sid).toBe(SERVICE_SID);
	});

	it("error body has Twilio's four fields", async () => {
		const response = await createMessage({ From: SENDER, Body: "hello" });

		expect(response.status).toBe(400);
		expect(await response.json()).toEqual({
			code: 21604,
			message: "A 'To' phone number is required.",
			more_info: "https://www.twilio.com/docs/errors/21604",
			status: 400,
		});
	});

	it.each([
		["+15005550001", 21211],
		["+15005550002", 21612],
		["+15005550003", 21408],
		["+15005550004", 21610],
		["+15005550009", 21614],
	])("rejects recipient %s with %i", async (to, code) => {
		const response = await createMessage({ To: to, From: SENDER, Body: "hi" });
		const body = (await response.json()) as Json;

		expect(response.status).toBe(400);
		expect(body.code).toBe(code);
	});

	it.each([
		["+15005550001", 21212],
		["+15005550007", 21606],
		["+15005550008", 21611],
	])("rejects sender %s with %i", async (from, code) => {
		const response = await createMessage({
			To: RECIPIENT,
			From: from,
			Body: "hi",
		});
		const body = (await response.json()) as Json;

		expect(response.status).toBe(400);
		expect(body.code).toBe(code);
	});

	it.each<[string, Fields, number]>([
		["no To", { From: SENDER, Body: "hi" }, 21604],
		["no From or MessagingServiceSid", { To: RECIPIENT, Body: "hi" }, 21603],
		["no Body or MediaUrl", { To: RECIPIENT, From: SENDER }, 21602],
		[
			"a Body over 1600 characters",
			{ To: RECIPIENT, From: SENDER, Body: "x".repeat(1601) },
			21617,
		],
		[
			"11 MediaUrl values",
			{
				To: RECIPIENT,
				From: SENDER,
				MediaUrl: Array.from(
					{ length: 11 },
					(_, i) => `https://media.test/${i}.jpg`,
				),
			},
			21623,
		],
		[
			"a MediaUrl that is not http(s)",
			{ To: RECIPIENT, From: SENDER, MediaUrl: "ftp://media.test/a.jpg" },
			21620,
		],
		[
			"a StatusCallback that is not a URL",
			{ To: RECIPIENT, From: SENDER, Body: "hi", StatusCallback: "callback" },
			21609,
		],
		[
			"a StatusCallback host with an underscore",
			{
				To: RECIPIENT,
				From: SENDER,
				Body: "hi",
				StatusCallback: "https://my_host.test/status",
			},
			21609,
		],
		[
			"a To that is not a number",
			{ To: "hello", From: SENDER, Body: "hi" },
			21211,
		],
	])("rejects %s", async (_, fields, code) => {
		const response = await createMessage(fields);
		const body = (await response.json()) as Json;

		expect(response.status).toBe(400);
		expect(body.code).toBe(code);
	});

	it("accepts a 1600-character body", async () => {
		const response = await createMessage({
			To: RECIPIENT,
			From: SENDER,
			Body: "x".repeat(1600),
		});

		expect(response.status).toBe(201);
	});
});

describe("authentication", () => {
	const fields = { To: RECIPIENT, From: SENDER, Body: "hi" };

	it("wrong auth token gets 20003", async () => {
		const response = await createMessage(fields, {
			authorization: basicAuth(ACCOUNT_SID, "wrong-token"),
		});
		const body = (await response.json()) as Json;

		expect(response.status).toBe(401);
		expect(body.code).toBe(20003);
	});

	it("missing credentials get 401", async () => {
		const response = await createMessage(fields, { authorization: null });

		expect(response.status).toBe(401);
	});

	it("other account in path gets 401", async () => {
		const other = "AC11111111111111111111111111111111";
		const response = await createMessage(fields, {
			url: `${API}/2010-04-01/Accounts/${other}/Messages.json`,
		});

		expect(response.status).toBe(401);
	});

	it("401 carries a Basic challenge", async () => {
		const response = await createMessage(fields, { authorization: null });

		expect(response.headers.get("WWW-Authenticate")).toMatch(/^Basic /);
	});

	it("list without credentials gets 401", async () => {
		const response = await fetch(MESSAGES);

		expect(response.status).toBe(401);
	});
});

describe("fetch and list", () => {
	it("fetches a created message", async () => {
		const created = await createdMessage({
			To: RECIPIENT,
			From: SENDER,
			Body: "hi",
		});
		const fetched = await fetchMessage(created.sid);

		expect(fetched.sid).toBe(created.sid);
		expect(fetched.body).toBe("hi");
	});

	it("unknown sid gets 404 with 20404", async () => {
		const response = await apiGet(
			`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/SM00000000000000000000000000000000.json`,
		);
		const body = (await response.json()) as Json;

		expect(response.status).toBe(404);
		expect(body.code).toBe(20404);
	});

	it("delivery sets status and date_sent", async () => {
		const created = await createdMessage({
			To: RECIPIENT,
			From: SENDER,
			Body: "hi",
		});
		await vi.waitFor(
			async () =>
				expect((await fetchMessage(created.sid)).status).toBe("delivered"),
			{ timeout: 5000, interval: 20 },
		);

		expect((await fetchMessage(created.sid)).date_sent).toMatch(RFC_2822);
	});

	it("filters the list by To and From", async () => {
		await createdMessage({ To: "+14155550101", From: SENDER, Body: "a" });
		await createdMessage({ To: "+14155550102", From: SENDER, Body: "b" });
		await createdMessage({
			To: "+14155550101",
			From: "+15005550012",
			Body: "c",
		});

		const byTo = await listMessages("To=%2B14155550101");
		const byBoth = await listMessages("To=%2B14155550101&From=%2B15005550006");

		expect((byTo.messages as Json[]).map((m) => m.body)).toEqual(["c", "a"]);
		expect((byBoth.messages as Json[]).map((m) => m.body)).toEqual(["a"]);
	});

	it("list filters by DateSent day", async () => {
		const created = await createdMessage({
			To: RECIPIENT,
			From: SENDER,
			Body: "a",
		});
		await vi.waitFor(
			async () =>
				expect((await fetchMessage(created.sid)).date_sent).not.toBeNull(),
			{ timeout: 5000, interval: 20 },
		);
		const count = async (query: string) =>
			((await listMessages(query)).messages as Json[]).length;

		expect(await count(`DateSent=${utcDay()}`)).toBe(1);
		expect(await count(`DateSent%3E=${utcDay()}`)).toBe(1);
		expect(await count(`DateSent%3C=${utcDay()}`)).toBe(1);
		expect(await count(`DateSent%3E=${utcDay(1)}`)).toBe(0);
		expect(await count(`DateSent%3C=${utcDay(-1)}`)).toBe(0);
	});

	it("DateSent filter skips unsent messages", async () => {
		await createdMessage({ To: "+15005550011", From: SENDER, Body: "a" });

		const page = await listMessages(`DateSent=${utcDay()}`);

		expect(page.messages).toEqual([]);
	});

	it("list pages newest first", async () => {
		for (const body of ["1", "2", "3"]) {
			await createdMessage({ To: RECIPIENT, From: SENDER, Body: body });
		}

		const first = await listMessages("PageSize=2");
		const second = (await (
			await apiGet(first.next_page_uri as string)
		).json()) as Json;
		const back = (await (
			await apiGet(second.previous_page_uri as string)
		).json()) as Json;

		expect((first.messages as Json[]).map((m) => m.body)).toEqual(["3", "2"]);
		expect(first.page).toBe(0);
		expect(first.page_size).toBe(2);
		expect(first.start).toBe(0);
		expect(first.end).toBe(1);
		expect(first.previous_page_uri).toBeNull();
		expect(first.uri).toBe(
			`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json?PageSize=2&Page=0`,
		);
		expect((second.messages as Json[]).map((m) => m.body)).toEqual(["1"]);
		expect(second.page).toBe(1);
		expect(second.start).toBe(2);
		expect(second.end).toBe(2);
		expect(second.next_page_uri).toBeNull();
		expect((back.messages as Json[]).map((m) => m.body)).toEqual(["3", "2"]);
	});

	it("page URIs keep the filters", async () => {
		const page = await listMessages("To=%2B14155550100&DateSent%3E=2008-01-02");

		expect(page.first_page_uri).toBe(
			`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json?To=%2B14155550100&DateSent%3E=2008-01-02&PageSize=50&Page=0`,
		);
	});

	it("PageSize over 1000 gets 20007", async () => {
		const page = await listMessages("PageSize=1001");

		expect(page.code).toBe(20007);
	});
});

describe("status callbacks", () => {
	it("sends signed sent then delivered", async () => {
		const created = await createdMessage({
			To: RECIPIENT,
			From: SENDER,
			Body: "hi",
			StatusCallback: STATUS_CALLBACK,
		});
		const attempts = await waitForCallbacks(created.sid, 2);

		expect(statusesOf(attempts)).toEqual(["sent", "delivered"]);
		for (const attempt of attempts) {
			expect(attempt.url).toBe(STATUS_CALLBACK);
			expect(
				await verifyTwilioSignature({
					authToken: env.TWILIO_AUTH_TOKEN,
					url: "https://sms.test/twilio/status?ref=a'b",
					params: new URLSearchParams(attempt.params),
					signature: attempt.signature,
				}),
			).toBe(true);
		}
	});

	it("records the response status", async () => {
		const created = await createdMessage({
			To: RECIPIENT,
			From: SENDER,
			Body: "hi",
			StatusCallback: STATUS_CALLBACK,
		});
		const [attempt] = await waitForCallbacks(created.sid, 2);

		expect(attempt?.responseStatus).toEqual(expect.any(Number));
	});

	it("callback carries Twilio's parameters", async () => {
		const created = await createdMessage({
			To: RECIPIENT,
			From: SENDER,
			Body: "hi",
			StatusCallback: STATUS_CALLBACK,
		});
		const [sent, delivered] = await waitForCallbacks(created.sid, 2);

		expect(sent?.params).toEqual({
			AccountSid: ACCOUNT_SID,
			ApiVersion: "2010-04-01",
			From: SENDER,
			MessageSid: created.sid,
			MessageStatus: "sent",
			SmsSid: created.sid,
			SmsStatus: "sent",
			To: RECIPIENT,
		});
		expect(delivered?.params.RawDlrDoneDate).toMatch(/^\d{10}$/);
	});

	it("reports +15005550010 as undelivered with 30003", async () => {
		const created = await createdMessage({
			To: "+15005550010",
			From: SENDER,
			Body: "hi",
			StatusCallback: STATUS_CALLBACK,
		});
		const attempts = await waitForCallbacks(created.sid, 2);
		const message = await fetchMessage(created.sid);

		expect(statusesOf(attempts)).toEqual(["sent", "undelivered"]);
		expect(attempts[1]?.params.ErrorCode).toBe("30003");
		expect(message.status).toBe("undelivered");
		expect(message.error_code).toBe(30003);
	});

	it("reports +15005550011 as failed with 30008", async () => {
		const created = await createdMessage({
			To: "+15005550011",
			From: SENDER,
			Body: "hi",
			StatusCallback: STATUS_CALLBACK,
		});
		const attempts = await waitForCallbacks(created.sid, 1);

		expect(statusesOf(attempts)).toEqual(["failed"]);
		expect(attempts[0]?.params.ErrorCode).toBe("30008");
		expect(attempts[0]?.params.RawDlrDoneDate).toBeUndefined();
	});

	it("messaging service send reports queued first", async () => {
		const created = await createdMessage({
			To: RECIPIENT,
			MessagingServiceSid: SERVICE_SID,
			Body: "hi",
			StatusCallback: STATUS_CALLBACK,
		});
		const attempts = await waitForCallbacks(created.sid, 3);

		expect(statusesOf(attempts)).toEqual(["queued", "sent", "delivered"]);
		expect(attempts.map((attempt) => attempt.params.From)).toEqual([
			SENDER,
			SENDER,
			SENDER,
		]);
		expect(attempts[0]?.params.MessagingServiceSid).toBe(SERVICE_SID);
	});
});

describe("faults", () => {
	const fields = { To: RECIPIENT, From: SENDER, Body: "hi" };

	async function statusesWithSeed(seed: number): Promise<number[]> {
		await putFaults({
			seed,
			rates: { "429": 0.3, "500": 0.2, createdThen500: 0.2 },
		});
		const statuses: number[] = [];
		for (let i = 0; i < 12; i++) {
			statuses.push((await createMessage(fields)).status);
		}
		return statuses;
	}

	it("same seed repeats the outcomes", async () => {
		const first = await statusesWithSeed(7);
		const second = await statusesWithSeed(7);

		expect(second).toEqual(first);
		expect(new Set(first).size).toBeGreaterThan(1);
	});

	it("429 fault creates nothing", async () => {
		await putFaults({ seed: 1, rates: { "429": 1 } });
		const response = await createMessage(fields);
		const body = (await response.json()) as Json;
		const log = await fetch(`${API}/simulator/messages`);

		expect(response.status).toBe(429);
		expect(body.code).toBe(20429);
		expect(await log.json()).toEqual({ data: [] });
	});

	it("500 fault creates nothing", async () => {
		await putFaults({ seed: 1, rates: { "500": 1 } });
		const response = await createMessage(fields);
		const body = (await response.json()) as Json;
		const log = await fetch(`${API}/simulator/messages`);

		expect(response.status).toBe(500);
		expect(body.code).toBe(20500);
		expect(await log.json()).toEqual({ data: [] });
	});

	it("timeout fault waits, then returns 504", async () => {
		await putFaults({ seed: 1, timeoutMs: 200, rates: { timeout: 1 } });
		const started = Date.now();
		const response = await createMessage(fields);
		const log = await fetch(`${API}/simulator/messages`);

		expect(response.status).toBe(504);
		expect(Date.now() - started).toBeGreaterThanOrEqual(200);
		expect(await log.json()).toEqual({ data: [] });
	});

	it("createdThen500 creates but returns 500", async () => {
		await putFaults({ seed: 1, rates: { createdThen500: 1 } });
		const response = await createMessage({
			...fields,
			StatusCallback: STATUS_CALLBACK,
		});
		const log = await fetch(`${API}/simulator/messages`);
		const { data } = (await log.json()) as { data: Json[] };

		expect(response.status).toBe(500);
		expect(data).toHaveLength(1);
		expect(statusesOf(await waitForCallbacks(data[0]?.sid, 2))).toEqual([
			"sent",
			"delivered",
		]);
	});

	it("duplicateCallback sends callbacks twice", async () => {
		await putFaults({ seed: 1, rates: { duplicateCallback: 1 } });
		const created = await createdMessage({
			...fields,
			StatusCallback: STATUS_CALLBACK,
		});
		const attempts = await waitForCallbacks(created.sid, 4);

		expect(statusesOf(attempts)).toEqual([
			"sent",
			"sent",
			"delivered",
			"delivered",
		]);
	});

	it("outOfOrderCallback sends final before sent", async () => {
		await putFaults({ seed: 1, rates: { outOfOrderCallback: 1 } });
		const created = await createdMessage({
			...fields,
			StatusCallback: STATUS_CALLBACK,
		});
		const attempts = await waitForCallbacks(created.sid, 2);

		expect(statusesOf(attempts)).toEqual(["delivered", "sent"]);
	});

	it("latencyMs delays the response", async () => {
		await putFaults({ seed: 1, latencyMs: 150 });
		const started = Date.now();
		await createMessage(fields);

		expect(Date.now() - started).toBeGreaterThanOrEqual(150);
	});

	it("returns the stored settings", async () => {
		await putFaults({ seed: 9, rates: { "429": 0.5 } });
		const response = await fetch(`${API}/simulator/faults`);

		expect(await response.json()).toEqual({
			seed: 9,
			latencyMs: 0,
			timeoutMs: 20000,
			rates: {
				"429": 0.5,
				"500": 0,
				timeout: 0,
				createdThen500: 0,
				duplicateCallback: 0,
				outOfOrderCallback: 0,
			},
			decisions: 0,
		});
	});

	it.each([
		["a rate above 1", { seed: 1, rates: { "429": 1.5 } }],
		["an unknown rate", { seed: 1, rates: { outOfOrder: 0.5 } }],
		[
			"exclusive rates summing over 1",
			{ seed: 1, rates: { "429": 0.6, "500": 0.6 } },
		],
		["no seed", { rates: {} }],
	])("rejects %s with 400", async (_, config) => {
		const response = await putFaults(config);

		expect(response.status).toBe(400);
	});

	it("reset clears the fault settings", async () => {
		await putFaults({ seed: 1, rates: { "429": 1 } });
		await fetch(`${API}/simulator/messages`, { method: "DELETE" });

		expect((await createMessage(fields)).status).toBe(201);
	});
});

describe("inbound", () => {
	it("posts a signed incoming webhook", async () => {
		const response = await fetch(`${API}/simulator/inbound`, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({
				from: RECIPIENT,
				to: SENDER,
				body: "hello back",
				mediaUrls: ["https://media.test/photo.JPG"],
			}),
		});
		const result = (await response.json()) as {
			messageSid: string;
			url: string;
			params: Record<string, string>;
			signature: string;
			response: { status: number };
		};

		expect(response.status).toBe(200);
		expect(result.messageSid).toMatch(/^MM[0-9a-f]{32}$/);
		expect(result.url).toBe("https://sms.test/twilio/incoming");
		expect(result.response.status).toEqual(expect.any(Number));
		expect(result.params).toMatchObject({
			MessageSid: result.messageSid,
			SmsSid: result.messageSid,
			SmsMessageSid: result.messageSid,
			AccountSid: ACCOUNT_SID,
			From: RECIPIENT,
			To: SENDER,
			Body: "hello back",
			NumMedia: "1",
			NumSegments: "1",
			MediaUrl0: "https://media.test/photo.JPG",
			MediaContentType0: "image/jpeg",
			SmsStatus: "received",
			ApiVersion: "2010-04-01",
			FromCountry: "US",
			ToCountry: "US",
		});
		expect(
			await verifyTwilioSignature({
				authToken: env.TWILIO_AUTH_TOKEN,
				url: result.url,
				params: new URLSearchParams(result.params),
				signature: result.signature,
			}),
		).toBe(true);
	});

	it("API returns the inbound message", async () => {
		const response = await fetch(`${API}/simulator/inbound`, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ from: RECIPIENT, to: SENDER, body: "hi" }),
		});
		const { messageSid } = (await response.json()) as { messageSid: string };
		const message = await fetchMessage(messageSid);

		expect(message.direction).toBe("inbound");
		expect(message.status).toBe("received");
	});

	it("missing from gets 400", async () => {
		const response = await fetch(`${API}/simulator/inbound`, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ to: SENDER, body: "hi" }),
		});

		expect(response.status).toBe(400);
	});
});

describe("request log", () => {
	it("lists accepted creates in order", async () => {
		const first = await createdMessage({
			To: RECIPIENT,
			From: SENDER,
			Body: "one",
			StatusCallback: STATUS_CALLBACK,
		});
		const second = await createdMessage({
			To: RECIPIENT,
			From: SENDER,
			MediaUrl: "https://media.test/a.png",
		});
		await createMessage({ To: "+15005550001", From: SENDER, Body: "rejected" });
		const response = await fetch(`${API}/simulator/messages`);
		const { data } = (await response.json()) as { data: Json[] };

		expect(data.map((request) => request.sid)).toEqual([first.sid, second.sid]);
		expect(data[0]).toMatchObject({
			to: RECIPIENT,
			from: SENDER,
			body: "one",
			mediaUrls: [],
			statusCallback: STATUS_CALLBACK,
		});
		expect(data[1]?.mediaUrls).toEqual(["https://media.test/a.png"]);
		expect(new Date(data[0]?.receivedAt as string).toISOString()).toBe(
			data[0]?.receivedAt,
		);
	});
});

describe("api keys", () => {
	const fields = { To: RECIPIENT, From: SENDER, Body: "hi" };

	it("accepts the API key and its secret", async () => {
		const response = await createMessage(fields, {
			authorization: basicAuth(API_KEY_SID, API_KEY_SECRET),
		});

		expect(response.status).toBe(201);
	});

	it("rejects the API key with a wrong secret", async () => {
		const response = await createMessage(fields, {
			authorization: basicAuth(API_KEY_SID, "wrong-secret"),
		});

		expect(response.status).toBe(401);
	});

	it("API key still needs the account in the path", async () => {
		const other = "AC11111111111111111111111111111111";
		const response = await createMessage(fields, {
			authorization: basicAuth(API_KEY_SID, API_KEY_SECRET),
			url: `${API}/2010-04-01/Accounts/${other}/Messages.json`,
		});

		expect(response.status).toBe(401);
	});

	it("rejects the API key secret with the account sid", async () => {
		const response = await createMessage(fields, {
			authorization: basicAuth(ACCOUNT_SID, API_KEY_SECRET),
		});

		expect(response.status).toBe(401);
	});
});

describe("event loop", () => {
	interface FakeEvent {
		message: string;
		name: string;
		request: boolean;
		ms: number;
	}

	/**
	 * Builds an in-memory event source whose events are all due. Requests
	 * take `ms` milliseconds, and `ran` lists events as they finish.
	 */
	function fakeSource(events: FakeEvent[]) {
		const pending = new Map(events.map((event, index) => [index + 1, event]));
		const ran: string[] = [];
		let active = 0;
		let maxActive = 0;
		const finish = (id: number, event: FakeEvent) => {
			pending.delete(id);
			ran.push(`${event.message}:${event.name}`);
		};
		const source: EventSource<FakeEvent> = {
			dueHeads: (_now, limit) => {
				const heads = new Map<string, PendingEvent<FakeEvent>>();
				for (const [id, event] of pending) {
					if (!heads.has(event.message))
						heads.set(event.message, { id, event });
				}
				return [...heads.values()].slice(0, limit);
			},
			nextDueAfter: () => null,
			runAtOnce: ({ id, event }) => {
				if (event.request) return false;
				finish(id, event);
				return true;
			},
			runRequest: async ({ id, event }) => {
				active += 1;
				maxActive = Math.max(maxActive, active);
				await new Promise((resolve) => setTimeout(resolve, event.ms));
				active -= 1;
				finish(id, event);
			},
		};
		return { source, ran, maxActive: () => maxActive };
	}

	function requests(messages: number, perMessage: number): FakeEvent[] {
		return Array.from({ length: messages * perMessage }, (_, index) => ({
			message: `m${index % messages}`,
			name: `r${Math.floor(index / messages)}`,
			request: true,
			ms: 5,
		}));
	}

	it("runs requests of different messages at once", async () => {
		const fake = fakeSource(requests(5, 1));
		await new EventLoop(fake.source, 16).run();

		expect(fake.maxActive()).toBe(5);
	});

	it("keeps at most the limit in flight", async () => {
		const fake = fakeSource(requests(40, 1));
		await new EventLoop(fake.source, 16).run();

		expect(fake.maxActive()).toBe(16);
	});

	it("runs all events", async () => {
		const fake = fakeSource(requests(40, 2));
		await new EventLoop(fake.source, 16).run();

		expect(fake.ran).toHaveLength(80);
	});

	it("runs each message's events in order", async () => {
		// Later events are quicker, so only waiting keeps them in order.
		const events: FakeEvent[] = [];
		for (const message of ["a", "b", "c"]) {
			events.push(
				{ message, name: "1", request: true, ms: 30 },
				{ message, name: "2", request: false, ms: 0 },
				{ message, name: "3", request: true, ms: 1 },
			);
		}
		const fake = fakeSource(events);
		await new EventLoop(fake.source, 16).run();

		for (const message of ["a", "b", "c"]) {
			expect(fake.ran.filter((name) => name.startsWith(message))).toEqual([
				`${message}:1`,
				`${message}:2`,
				`${message}:3`,
			]);
		}
	});

	it("callbacks of many messages stay in order per message", async () => {
		const created = await Promise.all(
			Array.from({ length: 20 }, (_, index) =>
				createdMessage({
					To: RECIPIENT,
					From: SENDER,
					Body: `m${index}`,
					StatusCallback: STATUS_CALLBACK,
				}),
			),
		);
		await vi.waitFor(
			async () => {
				const response = await fetch(`${API}/simulator/callbacks`);
				const { data } = (await response.json()) as { data: unknown[] };
				expect(data).toHaveLength(40);
			},
			{ timeout: 10_000, interval: 50 },
		);

		for (const message of created) {
			expect(statusesOf(await callbacksFor(message.sid))).toEqual([
				"sent",
				"delivered",
			]);
		}
	});
});

const FIXTURE = `${API}/simulator/media-fixture`;

interface MediaRecord {
	url: string;
	status: number | null;
	contentType: string | null;
	size: number | null;
	error: string | null;
}

/** Waits until the simulator has fetched the media of `sid` and returns what it recorded. */
async function mediaRecordsOf(sid: unknown): Promise<MediaRecord[]> {
	let records: MediaRecord[] = [];
	await vi.waitFor(
		async () => {
			const response = await fetch(`${API}/simulator/messages`);
			const { data } = (await response.json()) as {
				data: { sid: string; media: MediaRecord[] }[];
			};
			records = data.find((request) => request.sid === sid)?.media ?? [];
			expect(records).not.toEqual([]);
		},
		{ timeout: 5000, interval: 20 },
	);
	return records;
}

function mms(mediaUrl: string | string[]): Fields {
	return {
		To: RECIPIENT,
		From: SENDER,
		MediaUrl: mediaUrl,
		StatusCallback: STATUS_CALLBACK,
	};
}

describe("outbound media", () => {
	it("records the fetch of each MediaUrl", async () => {
		const url = `${FIXTURE}?contentType=image/png&size=2048`;
		const created = await createdMessage(mms(url));

		expect(await mediaRecordsOf(created.sid)).toEqual([
			{ url, status: 200, contentType: "image/png", size: 2048, error: null },
		]);
	});

	it("delivers an MMS whose media was fetched", async () => {
		const created = await createdMessage(
			mms(`${FIXTURE}?contentType=image/jpeg`),
		);
		const attempts = await waitForCallbacks(created.sid, 2);

		expect(statusesOf(attempts)).toEqual(["sent", "delivered"]);
	});

	it("fails with 11200 when media returns 404", async () => {
		const created = await createdMessage(
			mms(`${FIXTURE}?status=404&contentType=image/png`),
		);
		const [attempt] = await waitForCallbacks(created.sid, 1);

		expect(attempt?.params.MessageStatus).toBe("failed");
		expect(attempt?.params.ErrorCode).toBe("11200");
	});

	it("records the status of media that failed", async () => {
		const url = `${FIXTURE}?status=404&contentType=image/png`;
		const created = await createdMessage(mms(url));

		expect(await mediaRecordsOf(created.sid)).toEqual([
			{
				url,
				status: 404,
				contentType: "image/png",
				size: null,
				error: "HEAD returned 404",
			},
		]);
	});

	it("fetches other hosts over the network", async () => {
		// The simulator's fetches reach the service, which has no such route.
		const created = await createdMessage(
			mms("https://sms.test/no-such-media.png"),
		);
		const [record] = await mediaRecordsOf(created.sid);

		expect(record?.status).toBe(404);
	});

	it("fails with 12300 when media has no Content-Type", async () => {
		const created = await createdMessage(mms(FIXTURE));
		const [attempt] = await waitForCallbacks(created.sid, 1);

		expect(attempt?.params.ErrorCode).toBe("12300");
	});

	it("failed MMS carries the error on the resource", async () => {
		const created = await createdMessage(mms(FIXTURE));
		await waitForCallbacks(created.sid, 1);
		const message = await fetchMessage(created.sid);

		expect(message.status).toBe("failed");
		expect(message.error_code).toBe(12300);
	});

	it("fails with 11751 when media exceeds 5 MB", async () => {
		const created = await createdMessage(
			mms(`${FIXTURE}?contentType=video/mp4&size=${5 * 1024 * 1024 + 1}`),
		);
		const [attempt] = await waitForCallbacks(created.sid, 1);

		expect(attempt?.params.ErrorCode).toBe("11751");
	});

	it("stops at the first item that fails", async () => {
		const created = await createdMessage(
			mms([`${FIXTURE}?status=500`, `${FIXTURE}?contentType=image/png`]),
		);

		expect(await mediaRecordsOf(created.sid)).toHaveLength(1);
	});

	it("fails with 11200 when media needs credentials", async () => {
		const inbound = await sendInbound({ media: [pngItem(new Uint8Array(8))] });
		const created = await createdMessage(
			mms(inbound.params.MediaUrl0 as string),
		);
		const [attempt] = await waitForCallbacks(created.sid, 1);

		expect(attempt?.params.ErrorCode).toBe("11200");
	});

	it("follows redirects to the media", async () => {
		const inbound = await sendInbound({ media: [pngItem(new Uint8Array(8))] });
		const cdn = await cdnLocation(inbound.params.MediaUrl0 as string);
		const redirect = `${FIXTURE}?status=302&location=${encodeURIComponent(cdn)}`;
		const created = await createdMessage(mms(redirect));
		const [record] = await mediaRecordsOf(created.sid);

		expect(record).toEqual({
			url: redirect,
			status: 200,
			contentType: "image/png",
			size: 8,
			error: null,
		});
	});

	it("lists fetched media as Media resources", async () => {
		const created = await createdMessage(
			mms(`${FIXTURE}?contentType=image/gif`),
		);
		await waitForCallbacks(created.sid, 2);
		const list = (await (
			await apiGet(`${MESSAGE_PATH}/${created.sid}/Media.json`)
		).json()) as { media_list: Json[] };

		expect(list.media_list.map((item) => item.content_type)).toEqual([
			"image/gif",
		]);
	});

	it("media URL of outbound media redirects to the MediaUrl", async () => {
		const url = `${FIXTURE}?contentType=image/gif`;
		const created = await createdMessage(mms(url));
		await waitForCallbacks(created.sid, 2);
		const list = (await (
			await apiGet(`${MESSAGE_PATH}/${created.sid}/Media.json`)
		).json()) as { media_list: Json[] };
		const sid = list.media_list[0]?.sid as string;
		const response = await getMedia(
			`${API}${MESSAGE_PATH}/${created.sid}/Media/${sid}`,
		);

		expect(response.headers.get("Location")).toBe(url);
	});
});

interface InboundResult {
	messageSid: string;
	params: Record<string, string>;
}

async function postInbound(fields: Json): Promise<Response> {
	return fetch(`${API}/simulator/inbound`, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify({ from: RECIPIENT, to: SENDER, ...fields }),
	});
}

async function sendInbound(fields: Json): Promise<InboundResult> {
	const response = await postInbound(fields);
	if (response.status !== 200) {
		throw new Error(
			`inbound failed with ${response.status}: ${await response.text()}`,
		);
	}
	return (await response.json()) as InboundResult;
}

function toBase64(bytes: Uint8Array): string {
	let binary = "";
	for (let start = 0; start < bytes.length; start += 0x8000) {
		binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
	}
	return btoa(binary);
}

/** `length` bytes that differ from one position to the next. */
function sampleBytes(length: number, seed = 1): Uint8Array {
	const bytes = new Uint8Array(length);
	let state = seed;
	for (let i = 0; i < length; i++) {
		state = (state * 1103515245 + 12345) >>> 0;
		bytes[i] = state >>> 24;
	}
	return bytes;
}

async function sha256(bytes: ArrayBuffer | Uint8Array): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", bytes);
	return [...new Uint8Array(digest)]
		.map((byte) => byte.toString(16).padStart(2, "0"))
		.join("");
}

function pngItem(bytes: Uint8Array) {
	return { contentType: "image/png", base64: toBase64(bytes) };
}

/** Requests a media URL with the account's credentials, without following the redirect. */
function getMedia(
	url: string,
	init: { method?: string; authorization?: string | null } = {},
): Promise<Response> {
	const headers = new Headers();
	if (init.authorization !== null) {
		headers.set("Authorization", init.authorization ?? basicAuth());
	}
	return fetch(url, {
		method: init.method ?? "GET",
		headers,
		redirect: "manual",
	});
}

async function cdnLocation(mediaUrl: string): Promise<string> {
	const response = await getMedia(mediaUrl);
	return response.headers.get("Location") as string;
}

describe("inbound media", () => {
	it("passes a Twilio media URL for stored media", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });

		expect(result.params.MediaUrl0).toMatch(
			new RegExp(
				`^${API}${MESSAGE_PATH}/${result.messageSid}/Media/ME[0-9a-f]{32}$`,
			),
		);
		expect(result.params.MediaContentType0).toBe("image/png");
	});

	it("numbers mediaUrls before stored media", async () => {
		const result = await sendInbound({
			mediaUrls: ["https://media.test/a.gif"],
			media: [pngItem(sampleBytes(16))],
		});

		expect(result.params.MediaUrl0).toBe("https://media.test/a.gif");
		expect(result.params.MediaContentType1).toBe("image/png");
		expect(result.params.NumMedia).toBe("2");
	});

	it("media URL redirects with 307 to the CDN URL", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const response = await getMedia(result.params.MediaUrl0 as string);

		expect(response.status).toBe(307);
		expect(response.headers.get("Location")).toMatch(
			new RegExp(
				`^${API}/simulator/media-cdn/ME[0-9a-f]{32}\\?token=\\d+\\.[0-9a-f]{64}$`,
			),
		);
	});

	it("CDN URL serves the stored bytes", async () => {
		const bytes = sampleBytes(1000);
		const result = await sendInbound({ media: [pngItem(bytes)] });
		const response = await fetch(
			await cdnLocation(result.params.MediaUrl0 as string),
		);

		expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
	});

	it("CDN URL serves stored bytes over 1 MiB", async () => {
		// The simulator stores media in rows of 1 MiB. The bytes are compared
		// by digest, because a deep comparison of megabytes is slow.
		const bytes = sampleBytes(1024 * 1024 * 2 + 123, 7);
		const result = await sendInbound({ media: [pngItem(bytes)] });
		const response = await fetch(
			await cdnLocation(result.params.MediaUrl0 as string),
		);

		expect(await sha256(await response.arrayBuffer())).toBe(
			await sha256(bytes),
		);
	});

	it("CDN URL sends the stored type and length", async () => {
		const result = await sendInbound({
			media: [{ contentType: "audio/ogg", base64: toBase64(sampleBytes(77)) }],
		});
		const response = await fetch(
			await cdnLocation(result.params.MediaUrl0 as string),
		);

		expect(response.headers.get("Content-Type")).toBe("audio/ogg");
		expect(response.headers.get("Content-Length")).toBe("77");
	});

	it("following the redirect with credentials gets the bytes", async () => {
		const bytes = sampleBytes(300);
		const result = await sendInbound({ media: [pngItem(bytes)] });
		const response = await fetch(result.params.MediaUrl0 as string, {
			headers: { Authorization: basicAuth() },
		});

		expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
	});

	it("keeps the media of each item apart", async () => {
		const first = sampleBytes(50, 1);
		const second = sampleBytes(60, 2);
		const result = await sendInbound({
			media: [pngItem(first), pngItem(second)],
		});
		const response = await fetch(
			await cdnLocation(result.params.MediaUrl1 as string),
		);

		expect(new Uint8Array(await response.arrayBuffer())).toEqual(second);
	});

	it("HEAD of the media URL redirects", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const response = await getMedia(result.params.MediaUrl0 as string, {
			method: "HEAD",
		});

		expect(response.status).toBe(307);
	});

	it("HEAD of the CDN URL sends type and length without a body", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(321))] });
		const response = await fetch(
			await cdnLocation(result.params.MediaUrl0 as string),
			{ method: "HEAD" },
		);

		expect(response.status).toBe(200);
		expect(response.headers.get("Content-Type")).toBe("image/png");
		expect(response.headers.get("Content-Length")).toBe("321");
		expect((await response.arrayBuffer()).byteLength).toBe(0);
	});

	it("media URL without credentials gets 401 with 20003", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const response = await getMedia(result.params.MediaUrl0 as string, {
			authorization: null,
		});
		const body = (await response.json()) as Json;

		expect(response.status).toBe(401);
		expect(body.code).toBe(20003);
	});

	it("media URL with a wrong auth token gets 401", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const response = await getMedia(result.params.MediaUrl0 as string, {
			authorization: basicAuth(ACCOUNT_SID, "wrong-token"),
		});

		expect(response.status).toBe(401);
	});

	it("media URL accepts the API key", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const response = await getMedia(result.params.MediaUrl0 as string, {
			authorization: basicAuth(API_KEY_SID, API_KEY_SECRET),
		});

		expect(response.status).toBe(307);
	});

	it("CDN URL is valid for 4 hours", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const location = await cdnLocation(result.params.MediaUrl0 as string);
		const token = new URL(location).searchParams.get("token") ?? "";
		const expires = Number(token.split(".")[0]);
		const hours = (expires - Date.now() / 1000) / 3600;

		expect(hours).toBeGreaterThan(3.99);
		expect(hours).toBeLessThanOrEqual(4);
	});

	it("CDN URL with a changed token gets 403", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const location = await cdnLocation(result.params.MediaUrl0 as string);
		const response = await fetch(
			location.replace(/.$/, (c) => (c === "0" ? "1" : "0")),
		);

		expect(response.status).toBe(403);
	});

	it("CDN URL without a token gets 403", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const location = await cdnLocation(result.params.MediaUrl0 as string);
		const response = await fetch(location.split("?")[0] as string);

		expect(response.status).toBe(403);
	});

	it("expired CDN URL gets 403", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const mediaSid = (result.params.MediaUrl0 as string).split("/").at(-1);
		const simulatorEnv = {
			SIMULATOR_PUBLIC_URL: API,
			TWILIO_AUTH_TOKEN: env.TWILIO_AUTH_TOKEN,
		} as SimulatorEnv;
		const fiveHoursAgo = Date.now() - 5 * 60 * 60 * 1000;
		const response = await fetch(
			await cdnUrl(simulatorEnv, mediaSid as string, fiveHoursAgo),
		);
		const body = (await response.json()) as { error: { code: string } };

		expect(response.status).toBe(403);
		expect(body.error.code).toBe("token_expired");
	});

	it("lists the message's media in Twilio's shape", async () => {
		const result = await sendInbound({
			media: [pngItem(sampleBytes(16)), pngItem(sampleBytes(8))],
		});
		const response = await apiGet(
			`${MESSAGE_PATH}/${result.messageSid}/Media.json`,
		);
		const list = (await response.json()) as Json & { media_list: Json[] };
		const firstSid = (result.params.MediaUrl0 as string).split("/").at(-1);

		expect(list.media_list).toHaveLength(2);
		expect(list.media_list[0]).toEqual({
			account_sid: ACCOUNT_SID,
			content_type: "image/png",
			date_created: expect.stringMatching(RFC_2822),
			date_updated: expect.stringMatching(RFC_2822),
			parent_sid: result.messageSid,
			sid: firstSid,
			uri: `${MESSAGE_PATH}/${result.messageSid}/Media/${firstSid}.json`,
		});
		expect(list).toMatchObject({
			page: 0,
			page_size: 50,
			start: 0,
			end: 1,
			next_page_uri: null,
			previous_page_uri: null,
			uri: `${MESSAGE_PATH}/${result.messageSid}/Media.json?PageSize=50&Page=0`,
		});
	});

	it("media list of an unknown message gets 404", async () => {
		const response = await apiGet(
			`${MESSAGE_PATH}/MM00000000000000000000000000000000/Media.json`,
		);

		expect(response.status).toBe(404);
	});

	it("media list without credentials gets 401", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const response = await fetch(
			`${API}${MESSAGE_PATH}/${result.messageSid}/Media.json`,
		);

		expect(response.status).toBe(401);
	});

	it("fetches one Media resource as JSON", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const response = await apiGet(
			`${(result.params.MediaUrl0 as string).slice(API.length)}.json`,
		);
		const resource = (await response.json()) as Json;

		expect(resource.parent_sid).toBe(result.messageSid);
	});

	it("delete returns 204", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const response = await getMedia(`${result.params.MediaUrl0}.json`, {
			method: "DELETE",
		});

		expect(response.status).toBe(204);
	});

	it("deleted media gets 404 with 20404", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const mediaUrl = result.params.MediaUrl0 as string;
		await getMedia(`${mediaUrl}.json`, { method: "DELETE" });
		const response = await getMedia(mediaUrl);
		const body = (await response.json()) as Json;

		expect(response.status).toBe(404);
		expect(body.code).toBe(20404);
	});

	it("deleted media is gone from the CDN URL", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const mediaUrl = result.params.MediaUrl0 as string;
		const location = await cdnLocation(mediaUrl);
		await getMedia(`${mediaUrl}.json`, { method: "DELETE" });
		const response = await fetch(location);

		expect(response.status).toBe(404);
	});

	it("deleted media leaves the list", async () => {
		const result = await sendInbound({
			media: [pngItem(sampleBytes(16)), pngItem(sampleBytes(8))],
		});
		await getMedia(`${result.params.MediaUrl0}.json`, { method: "DELETE" });
		const list = (await (
			await apiGet(`${MESSAGE_PATH}/${result.messageSid}/Media.json`)
		).json()) as { media_list: Json[] };

		expect(list.media_list).toHaveLength(1);
	});

	it("delete without credentials gets 401", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		const response = await getMedia(`${result.params.MediaUrl0}.json`, {
			method: "DELETE",
			authorization: null,
		});

		expect(response.status).toBe(401);
	});

	it("deleting media twice gets 404", async () => {
		const result = await sendInbound({ media: [pngItem(sampleBytes(16))] });
		await getMedia(`${result.params.MediaUrl0}.json`, { method: "DELETE" });
		const response = await getMedia(`${result.params.MediaUrl0}.json`, {
			method: "DELETE",
		});

		expect(response.status).toBe(404);
	});

	it("mediaNotReadyCount returns 404 first", async () => {
		const result = await sendInbound({
			media: [pngItem(sampleBytes(16))],
			mediaNotReadyCount: 2,
		});
		const mediaUrl = result.params.MediaUrl0 as string;
		const statuses: number[] = [];
		for (let i = 0; i < 3; i++) {
			statuses.push((await getMedia(mediaUrl)).status);
		}

		expect(statuses).toEqual([404, 404, 307]);
	});

	it("unauthenticated fetches do not use up mediaNotReadyCount", async () => {
		const result = await sendInbound({
			media: [pngItem(sampleBytes(16))],
			mediaNotReadyCount: 1,
		});
		const mediaUrl = result.params.MediaUrl0 as string;
		await getMedia(mediaUrl, { authorization: null });

		expect((await getMedia(mediaUrl)).status).toBe(404);
	});

	it.each<[string, Json]>([
		[
			"11 items",
			{
				mediaUrls: ["https://media.test/a.png"],
				media: Array.from({ length: 10 }, () => pngItem(sampleBytes(4))),
			},
		],
		[
			"over 5 MB in total",
			{
				media: [
					pngItem(sampleBytes(2.5 * 1024 * 1024)),
					pngItem(sampleBytes(2.5 * 1024 * 1024 + 1)),
				],
			},
		],
		["invalid base64", { media: [{ contentType: "image/png", base64: "a" }] }],
		[
			"a content type that is not a media type",
			{ media: [{ contentType: "png", base64: "AAAA" }] },
		],
		["a negative mediaNotReadyCount", { mediaNotReadyCount: -1 }],
	])("rejects %s with 400", async (_, fields) => {
		const response = await postInbound(fields);

		expect(response.status).toBe(400);
	});

	it("accepts 5 MB of media", async () => {
		const response = await postInbound({
			media: [pngItem(sampleBytes(5 * 1024 * 1024))],
		});

		expect(response.status).toBe(200);
	});
});
