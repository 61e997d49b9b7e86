import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, createUser, request } from "./helpers";

interface ErrorBody {
	error: {
		code: string;
		message: string;
		details?: { field: string; message: string }[];
	};
}

async function countMessages(): Promise<number> {
	const row = await env.DB.prepare("select count(*) as n from messages").first<{
		n: number;
	}>();
	return row?.n ?? 0;
}

let apiKey = "";

beforeAll(async () => {
	apiKey = (await createUser("validation")).apiKey;
});

describe("POST /v1/messages validation", () => {
	it("rejects invalid json with a 400", async () => {
		const before = await countMessages();
		const res = await exports.default.fetch(`${BASE}/v1/messages`, {
			method: "POST",
			headers: {
				Authorization: `Bearer ${apiKey}`,
				"Content-Type": "application/json",
			},
			body: '{"to": "+14155550100", "body": ',
		});
		expect(res.status).toBe(400);
		const body = (await res.json()) as ErrorBody;
		expect(body.error.code).toBe("invalid_json");
		expect(await countMessages()).toBe(before);
	});

	it("rejects a missing to and names the field", async () => {
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { body: "hello" },
		});
		expect(res.status).toBe(400);
		const body = (await res.json()) as ErrorBody;
		expect(body.error.code).toBe("invalid_request");
		expect(body.error.details?.map((d) => d.field)).toContain("to");
		expect(body.error.message).toContain("to");
	});

	it("rejects a 1601-character body", async () => {
		const before = await countMessages();
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+14155550100", body: "a".repeat(1601) },
		});
		expect(res.status).toBe(400);
		const body = (await res.json()) as ErrorBody;
		expect(body.error.details?.[0]?.field).toBe("body");
		expect(body.error.message).toContain("1600");
		expect(await countMessages()).toBe(before);
	});

	it("accepts a 1600-character body with 11 segments", async () => {
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+14155550100", body: "a".repeat(1600) },
		});
		expect(res.status).toBe(202);
		const message = (await res.json()) as {
			segments: number;
			encoding: string;
		};
		expect(message.segments).toBe(11);
		expect(message.encoding).toBe("GSM-7");
	});

	it("rejects an invalid phone number", async () => {
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "12345", body: "hi" },
		});
		expect(res.status).toBe(400);
		const body = (await res.json()) as ErrorBody;
		expect(body.error.details?.[0]?.field).toBe("to");
		expect(body.error.details?.[0]?.message).toContain("+14155550100");
	});

	it("normalises a formatted number to e.164", async () => {
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+1 (415) 555-0100", body: "hi" },
		});
		expect(res.status).toBe(202);
		expect(((await res.json()) as { to: string }).to).toBe("+14155550100");
	});

	it("rejects an unknown field by name", async () => {
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+14155550100", Body: "hi" },
		});
		expect(res.status).toBe(400);
		const body = (await res.json()) as ErrorBody;
		expect(body.error.details?.map((d) => d.field)).toContain("Body");
		expect(body.error.message).toContain("Body");
	});

	it("rejects a message with neither body nor media", async () => {
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+14155550100" },
		});
		expect(res.status).toBe(400);
	});

	it("rejects plain http media urls", async () => {
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+14155550100", mediaUrls: ["http://example.com/a.png"] },
		});
		expect(res.status).toBe(400);
		const body = (await res.json()) as ErrorBody;
		expect(body.error.details?.[0]?.field).toBe("mediaUrls.0");
	});

	it("rejects a body that is not json with 415", async () => {
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			headers: { "Content-Type": "text/plain" },
		});
		expect(res.status).toBe(415);
	});

	it.each([
		["a json array", "[]"],
		["a json string", '"hello"'],
		["null", "null"],
	])("rejects %s as the body", async (_name, text) => {
		const res = await exports.default.fetch(`${BASE}/v1/messages`, {
			method: "POST",
			headers: {
				Authorization: `Bearer ${apiKey}`,
				"Content-Type": "application/json",
			},
			body: text,
		});
		expect(res.status).toBe(400);
	});
});

describe("authentication", () => {
	it("rejects an unknown key with 401", async () => {
		const res = await request("POST", "/v1/messages", {
			token: "sk_not_a_real_key",
			json: { to: "+14155550100", body: "hi" },
		});
		expect(res.status).toBe(401);
		expect(((await res.json()) as ErrorBody).error.code).toBe(
			"invalid_api_key",
		);
	});

	it("rejects a missing key with 401", async () => {
		const res = await request("GET", "/v1/messages");
		expect(res.status).toBe(401);
		expect(((await res.json()) as ErrorBody).error.code).toBe(
			"missing_api_key",
		);
	});

	it("rejects a client key on admin routes with 403", async () => {
		const res = await request("POST", "/v1/users", {
			token: apiKey,
			json: { name: "x" },
		});
		expect(res.status).toBe(403);
	});

	it("rejects the admin token on client routes with 403", async () => {
		const res = await request("GET", "/v1/messages", {
			token: "test-admin-token",
		});
		expect(res.status).toBe(403);
		expect(((await res.json()) as ErrorBody).error.code).toBe("forbidden");
	});

	it("rejects a user patch that is not json with 415", async () => {
		const user = await createUser("patch");
		const res = await request("PATCH", `/v1/users/${user.id}`, {
			token: "test-admin-token",
			headers: { "Content-Type": "text/plain" },
		});
		expect(res.status).toBe(415);
	});

	it("rejects a json body over 64 KiB with 413", async () => {
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+14155550100", body: "a".repeat(70_000) },
		});
		expect(res.status).toBe(413);
	});

	it("counts the body limit in utf-16 code units", async () => {
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+14155550100", body: "😀".repeat(801) },
		});
		expect(res.status).toBe(400);
		const ok = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+14155550100", body: "😀".repeat(800) },
		});
		expect(ok.status).toBe(202);
	});

	it("hides another user's message behind a 404", async () => {
		const other = await createUser("other");
		const sent = await request("POST", "/v1/messages", {
			token: other.apiKey,
			json: { to: "+14155550100", body: "private" },
		});
		const { id } = (await sent.json()) as { id: string };
		const res = await request("GET", `/v1/messages/${id}`, { token: apiKey });
		expect(res.status).toBe(404);
		const list = await request("GET", "/v1/messages?limit=100", {
			token: apiKey,
		});
		const page = (await list.json()) as { data: { id: string }[] };
		expect(page.data.map((m) => m.id)).not.toContain(id);
	});

	it("stops accepting a revoked key", async () => {
		const user = await createUser("revoked");
		const created = await request("POST", `/v1/users/${user.id}/keys`, {
			token: "test-admin-token",
		});
		expect(created.status).toBe(201);
		const key = (await created.json()) as { id: string; apiKey: string };
		expect(
			(await request("GET", "/v1/messages", { token: key.apiKey })).status,
		).toBe(200);
		const revoked = await request("DELETE", `/v1/keys/${key.id}`, {
			token: "test-admin-token",
		});
		expect(revoked.status).toBe(204);
		expect(
			(await request("GET", "/v1/messages", { token: key.apiKey })).status,
		).toBe(401);
	});

	it("stores keys only as hashes", async () => {
		const user = await createUser("hashed");
		const rows = await env.DB.prepare(
			"select key_hash from api_keys where user_id = ?",
		)
			.bind(user.id)
			.all<{ key_hash: string }>();
		expect(rows.results).toHaveLength(1);
		expect(rows.results[0]?.key_hash).not.toContain(user.apiKey);
		expect(rows.results[0]?.key_hash).toMatch(/^[0-9a-f]{64}$/);
	});
});

describe("idempotency", () => {
	it("returns the first response for a repeated key and body", async () => {
		const json = { to: "+14155550100", body: "once" };
		const headers = { "Idempotency-Key": "order-1" };
		const first = await request("POST", "/v1/messages", {
			token: apiKey,
			json,
			headers,
		});
		const second = await request("POST", "/v1/messages", {
			token: apiKey,
			json,
			headers,
		});
		expect(first.status).toBe(202);
		expect(second.status).toBe(202);
		const a = (await first.json()) as { id: string };
		const b = (await second.json()) as { id: string };
		expect(b).toEqual(a);
		expect(second.headers.get("Idempotent-Replayed")).toBe("true");
	});

	it("answers 422 when a key is reused with another body", async () => {
		const headers = { "Idempotency-Key": "order-2" };
		await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+14155550100", body: "one" },
			headers,
		});
		const before = await countMessages();
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+14155550100", body: "two" },
			headers,
		});
		expect(res.status).toBe(422);
		expect(((await res.json()) as ErrorBody).error.code).toBe(
			"idempotency_key_reused",
		);
		expect(await countMessages()).toBe(before);
	});

	it("stores one message for concurrent requests with one key", async () => {
		const json = { to: "+14155550100", body: "race" };
		const headers = { "Idempotency-Key": "order-3" };
		const responses = await Promise.all(
			Array.from({ length: 5 }, () =>
				request("POST", "/v1/messages", { token: apiKey, json, headers }),
			),
		);
		const ids = new Set<string>();
		for (const res of responses) {
			expect(res.status).toBe(202);
			ids.add(((await res.json()) as { id: string }).id);
		}
		expect(ids.size).toBe(1);
	});
});

describe("GET /v1/messages", () => {
	it("pages newest first with a cursor", async () => {
		const user = await createUser("pager");
		const sent: string[] = [];
		for (let i = 0; i < 5; i++) {
			const res = await request("POST", "/v1/messages", {
				token: user.apiKey,
				json: { to: "+14155550100", body: `m${i}` },
			});
			sent.push(((await res.json()) as { id: string }).id);
		}
		const seen: string[] = [];
		let cursor: string | null = null;
		do {
			const query: string = cursor ? `&cursor=${cursor}` : "";
			const res = await request("GET", `/v1/messages?limit=2${query}`, {
				token: user.apiKey,
			});
			expect(res.status).toBe(200);
			const page = (await res.json()) as {
				data: { id: string }[];
				nextCursor: string | null;
			};
			seen.push(...page.data.map((m) => m.id));
			cursor = page.nextCursor;
		} while (cursor);
		expect(seen).toEqual([...sent].reverse());
	});

	it("rejects a forged cursor with a 400", async () => {
		const res = await request("GET", "/v1/messages?cursor=%%%", {
			token: apiKey,
		});
		expect(res.status).toBe(400);
	});

	it("rejects an unknown status filter", async () => {
		const res = await request("GET", "/v1/messages?status=lost", {
			token: apiKey,
		});
		expect(res.status).toBe(400);
		const body = (await res.json()) as ErrorBody;
		expect(body.error.details?.[0]?.field).toBe("status");
	});
});

describe("unknown routes", () => {
	it("answers a wrong method with 405 and allow", async () => {
		const res = await request("PUT", "/v1/messages", { token: apiKey });
		expect(res.status).toBe(405);
		expect(res.headers.get("Allow")).toBe("GET, HEAD, POST");
		expect(((await res.json()) as ErrorBody).error.code).toBe(
			"method_not_allowed",
		);
	});

	it("answers a wrong method on an id route with 405", async () => {
		const res = await request("DELETE", "/v1/messages/msg_x", {
			token: apiKey,
		});
		expect(res.status).toBe(405);
		expect(res.headers.get("Allow")).toBe("GET, HEAD");
	});

	it("answers an unknown path with 404", async () => {
		const res = await request("GET", "/v1/nothing-here", { token: apiKey });
		expect(res.status).toBe(404);
		expect(((await res.json()) as ErrorBody).error.code).toBe("not_found");
	});
});

describe("list filters", () => {
	it("hints at %2B for a plus sign lost in the query", async () => {
		const res = await request("GET", "/v1/messages?to=+14155550100", {
			token: apiKey,
		});
		expect(res.status).toBe(400);
		const body = (await res.json()) as ErrorBody;
		expect(body.error.details?.[0]?.field).toBe("to");
		expect(body.error.details?.[0]?.message).toContain("%2B");
	});

	it("filters by an encoded recipient", async () => {
		const res = await request("GET", "/v1/messages?to=%2B14155550100", {
			token: apiKey,
		});
		expect(res.status).toBe(200);
		const page = (await res.json()) as { data: { to: string }[] };
		for (const message of page.data) expect(message.to).toBe("+14155550100");
	});
});

describe("body text", () => {
	it("rejects a lone surrogate", async () => {
		const res = await exports.default.fetch(`${BASE}/v1/messages`, {
			method: "POST",
			headers: {
				Authorization: `Bearer ${apiKey}`,
				"Content-Type": "application/json",
			},
			body: '{"to": "+14155550100", "body": "a\\ud83db"}',
		});
		expect(res.status).toBe(400);
		const body = (await res.json()) as ErrorBody;
		expect(body.error.details?.[0]?.field).toBe("body");
	});

	it("accepts a whole emoji", async () => {
		const res = await request("POST", "/v1/messages", {
			token: apiKey,
			json: { to: "+14155550100", body: "a😀b" },
		});
		expect(res.status).toBe(202);
	});
});
