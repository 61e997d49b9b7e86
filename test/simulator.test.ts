// Tests of the Twilio simulator over HTTP, as the service uses it. Every
// global fetch from test code goes to the simulator worker, whatever the host.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { verifyTwilioSignature } from "../src/twilio/signature";

const API = "https://api.twilio.test";
const ACCOUNT_SID = env.TWILIO_ACCOUNT_SID;
const MESSAGES = `${API}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;
const SENDER = "+15005550006";
const RECIPIENT = "+14155550100";
const STATUS_CALLBACK = "https://sms.test/twilio/status?ref=a'b#rc=2";
const SERVICE_SID = "MG0123456789abcdef0123456789abcdef";

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
