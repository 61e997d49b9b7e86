import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { classifyKeyword } from "../src/opt-outs/keywords";
import {
	createUser,
	isFinal,
	request,
	SIMULATOR,
	waitForMessage,
} from "./helpers";

async function inbound(from: string, body: string): Promise<void> {
	const res = await fetch(`${SIMULATOR}/simulator/inbound`, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify({ from, to: "+15005550006", body }),
	});
	expect(res.status).toBe(200);
}

async function send(apiKey: string, to: string): Promise<Response> {
	return request("POST", "/v1/messages", {
		token: apiKey,
		json: { to, body: "Your order has shipped!" },
	});
}

describe("classifyKeyword", () => {
	it.each([
		["STOP", "stop"],
		["stop", "stop"],
		["  Stop \n", "stop"],
		["STOPALL", "stop"],
		["unsubscribe", "stop"],
		["Cancel", "stop"],
		["END", "stop"],
		["quit", "stop"],
		["START", "start"],
		["yes", "start"],
		["Unstop", "start"],
		["HELP", "help"],
		["info", "help"],
		["STOP please", null],
		["please stop", null],
		["", null],
	])("classifies %j as %s", (body, expected) => {
		expect(classifyKeyword(body)).toBe(expected);
	});
});

describe("opt-out", () => {
	it("rejects a send after stop and accepts it after start", async () => {
		const user = await createUser("opt-out");
		const phone = "+14155550130";
		expect((await send(user.apiKey, phone)).status).toBe(202);

		await inbound(phone, " stop ");
		const before = await env.DB.prepare(
			"select count(*) as n from messages where user_id = ?",
		)
			.bind(user.id)
			.first<{ n: number }>();
		const rejected = await send(user.apiKey, phone);
		expect(rejected.status).toBe(422);
		const body = (await rejected.json()) as { error: { code: string } };
		expect(body.error.code).toBe("recipient_opted_out");
		const after = await env.DB.prepare(
			"select count(*) as n from messages where user_id = ?",
		)
			.bind(user.id)
			.first<{ n: number }>();
		expect(after?.n).toBe(before?.n);

		await inbound(phone, "START");
		expect((await send(user.apiKey, phone)).status).toBe(202);
	});

	it("does not opt out on a sentence containing stop", async () => {
		const user = await createUser("not a keyword");
		const phone = "+14155550131";
		await inbound(phone, "please stop by tomorrow");
		expect((await send(user.apiKey, phone)).status).toBe(202);
	});

	it("keeps other senders' recipients unaffected", async () => {
		const user = await createUser("other sender");
		await inbound("+14155550132", "STOP");
		const res = await request("POST", "/v1/messages", {
			token: user.apiKey,
			json: { to: "+14155550132", from: "+15005550099", body: "hi" },
		});
		expect(res.status).toBe(202);
	});

	it("records an opt-out when twilio answers 21610", async () => {
		const user = await createUser("twilio opt-out");
		const accepted = await send(user.apiKey, "+15005550004");
		expect(accepted.status).toBe(202);
		const { id } = (await accepted.json()) as { id: string };
		const failed = await waitForMessage(user.apiKey, id, isFinal);
		expect(failed.errorCode).toBe(21610);
		const row = await env.DB.prepare(
			"select source from opt_outs where phone = ? and sender = ?",
		)
			.bind("+15005550004", "+15005550006")
			.first<{ source: string }>();
		expect(row?.source).toBe("twilio_21610");
		expect((await send(user.apiKey, "+15005550004")).status).toBe(422);
	});
});
