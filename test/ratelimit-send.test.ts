import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { globalLimit, takeGlobalSend } from "../src/ratelimit/global-limit";
import { sendCost, userBucket } from "../src/ratelimit/user-limit";
import { ADMIN_TOKEN, BASE, createUser, request } from "./helpers";

interface ErrorBody {
	error: { code: string; message: string };
}

interface RateLimitState {
	capacity: number;
	refillPerSecond: number;
	remaining: number;
	resetSeconds: number;
	unit: string;
}

const SMS = { to: "+14155550100", body: "rate limit test" };

function send(apiKey: string, json: unknown = SMS, headers?: HeadersInit) {
	return request("POST", "/v1/messages", { token: apiKey, json, headers });
}

async function readState(apiKey: string): Promise<RateLimitState> {
	const res = await request("GET", "/v1/rate-limit", { token: apiKey });
	return (await res.json()) as RateLimitState;
}

async function countUserMessages(userId: string): Promise<number> {
	const row = await env.DB.prepare(
		"select count(*) as n from messages where user_id = ?",
	)
		.bind(userId)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

/** Sends through the app with some vars replaced, as another deployment would. */
function sendWithVars(
	vars: Partial<Record<keyof Env, string>>,
	apiKey: string,
	json: unknown = SMS,
) {
	return app.request(
		`${BASE}/v1/messages`,
		{
			method: "POST",
			headers: {
				Authorization: `Bearer ${apiKey}`,
				"Content-Type": "application/json",
			},
			body: JSON.stringify(json),
		},
		{ ...env, ...vars },
	);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("per-user token bucket", () => {
	it("admits exactly the capacity of 200 concurrent sends", async () => {
		const user = await createUser("burst", {
			capacity: 50,
			refillPerSecond: 0,
		});
		const responses = await Promise.all(
			Array.from({ length: 200 }, () => send(user.apiKey)),
		);
		const statuses = responses.map((res) => res.status);
		expect(statuses.filter((status) => status === 202)).toHaveLength(50);
		expect(statuses.filter((status) => status === 429)).toHaveLength(150);
		expect(await countUserMessages(user.id)).toBe(50);
	});

	it("admits the refilled tokens after waiting", async () => {
		// One token a second leaves a second of slack for slow requests.
		const user = await createUser("refill", {
			capacity: 2,
			refillPerSecond: 1,
		});
		const first = await Promise.all([1, 2, 3].map(() => send(user.apiKey)));
		expect(first.map((res) => res.status).sort()).toEqual([202, 202, 429]);

		await sleep(2000);
		const second = await Promise.all([1, 2, 3].map(() => send(user.apiKey)));
		expect(second.map((res) => res.status).sort()).toEqual([202, 202, 429]);
		expect(await countUserMessages(user.id)).toBe(4);
	});

	it("keeps the remaining count when its object restarts", async () => {
		const user = await createUser("restart", {
			capacity: 5,
			refillPerSecond: 0,
		});
		for (const _ of [1, 2, 3]) await send(user.apiKey);
		const stub = userBucket(env, user.id);
		await runInDurableObject(stub, (instance) => {
			(instance as unknown as { marker: boolean }).marker = true;
		});

		try {
			await runInDurableObject(stub, (_, state) => state.abort("test restart"));
		} catch {
			// abort() throws in the object by design.
		}

		// A stub is unusable once its object aborted; a new one reaches the new instance.
		const marker = await runInDurableObject(
			userBucket(env, user.id),
			(instance) => (instance as unknown as { marker?: boolean }).marker,
		);
		expect(marker).toBeUndefined();
		expect((await readState(user.apiKey)).remaining).toBe(2);
		const res = await send(user.apiKey);
		expect(res.headers.get("RateLimit-Remaining")).toBe("1");
	});

	it("gives two users separate buckets", async () => {
		const first = await createUser("first", {
			capacity: 1,
			refillPerSecond: 0,
		});
		const second = await createUser("second", {
			capacity: 1,
			refillPerSecond: 0,
		});
		expect((await send(first.apiKey)).status).toBe(202);
		expect((await send(first.apiKey)).status).toBe(429);
		expect((await send(second.apiKey)).status).toBe(202);
	});

	it("applies a patched rate limit on the next request", async () => {
		const user = await createUser("patched", {
			capacity: 10,
			refillPerSecond: 0,
		});
		const before = await send(user.apiKey);
		expect(before.headers.get("RateLimit-Limit")).toBe("10");

		const patch = await request("PATCH", `/v1/users/${user.id}`, {
			token: ADMIN_TOKEN,
			json: { rateLimit: { capacity: 3, refillPerSecond: 1 } },
		});
		expect(patch.status).toBe(200);
		const after = await send(user.apiKey);
		expect(after.headers.get("RateLimit-Limit")).toBe("3");
		expect(after.headers.get("RateLimit-Remaining")).toBe("2");
	});
});

describe("rate limit headers", () => {
	it("describes the bucket on an accepted send", async () => {
		const user = await createUser("headers", {
			capacity: 4,
			refillPerSecond: 0.5,
		});
		const res = await send(user.apiKey);
		expect(res.status).toBe(202);
		expect(res.headers.get("RateLimit-Limit")).toBe("4");
		expect(res.headers.get("RateLimit-Remaining")).toBe("3");
		expect(res.headers.get("RateLimit-Reset")).toBe("2");
		expect(res.headers.get("Retry-After")).toBeNull();
	});

	it("adds retry-after and the error body to a 429", async () => {
		const user = await createUser("limited", {
			capacity: 1,
			refillPerSecond: 0.25,
		});
		await send(user.apiKey);
		const res = await send(user.apiKey);
		expect(res.status).toBe(429);
		expect(res.headers.get("Retry-After")).toBe("4");
		expect(res.headers.get("RateLimit-Remaining")).toBe("0");
		expect(res.headers.get("RateLimit-Reset")).toBe("4");
		const body = (await res.json()) as ErrorBody;
		expect(body.error.code).toBe("rate_limited");
		expect(body.error.message).toContain("capacity 1");
		expect(body.error.message).toContain("Retry after 4 seconds");
	});

	it("reports a full bucket with a reset of zero", async () => {
		const user = await createUser("full", { capacity: 3, refillPerSecond: 1 });
		const state = await readState(user.apiKey);
		expect(state).toEqual({
			capacity: 3,
			refillPerSecond: 1,
			remaining: 3,
			resetSeconds: 0,
			unit: "message",
		});
	});

	it("reads the bucket without spending a token", async () => {
		const user = await createUser("reader", {
			capacity: 2,
			refillPerSecond: 0,
		});
		await readState(user.apiKey);
		const res = await request("GET", "/v1/rate-limit", { token: user.apiKey });
		expect(res.headers.get("RateLimit-Remaining")).toBe("2");
		expect(((await res.json()) as RateLimitState).remaining).toBe(2);
	});

	it("charges nothing for invalid requests", async () => {
		const user = await createUser("invalid", {
			capacity: 2,
			refillPerSecond: 0,
		});
		const res = await send(user.apiKey, { body: "no recipient" });
		expect(res.status).toBe(400);
		expect(res.headers.get("RateLimit-Limit")).toBe("2");
		expect(res.headers.get("RateLimit-Remaining")).toBe("2");
		expect(await countUserMessages(user.id)).toBe(0);
	});

	it("charges nothing for an idempotent replay", async () => {
		const user = await createUser("replay", {
			capacity: 3,
			refillPerSecond: 0,
		});
		const headers = { "Idempotency-Key": "rate-limit-replay" };
		const first = await send(user.apiKey, SMS, headers);
		const replay = await send(user.apiKey, SMS, headers);
		expect(first.headers.get("RateLimit-Remaining")).toBe("2");
		expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
		expect(replay.headers.get("RateLimit-Remaining")).toBe("2");
	});

	it("lists the route in the openapi document", async () => {
		const res = await request("GET", "/openapi.json");
		const document = (await res.json()) as { paths: Record<string, unknown> };
		expect(Object.keys(document.paths)).toContain("/v1/rate-limit");
	});
});

describe("segment cost", () => {
	const segmentVars = { RATE_LIMIT_COST: "segment" };

	it("counts one token per segment", () => {
		const segmentEnv = { ...env, ...segmentVars };
		expect(sendCost(segmentEnv, "a".repeat(161))).toBe(2);
		expect(sendCost(segmentEnv, undefined)).toBe(1);
		expect(sendCost(env, "a".repeat(161))).toBe(1);
	});

	it("charges a two-segment message two tokens", async () => {
		const user = await createUser("segments", {
			capacity: 3,
			refillPerSecond: 0,
		});
		const long = { ...SMS, body: "a".repeat(161) };
		const first = await sendWithVars(segmentVars, user.apiKey, long);
		const second = await sendWithVars(segmentVars, user.apiKey, long);
		expect(first.status).toBe(202);
		expect(first.headers.get("RateLimit-Remaining")).toBe("1");
		expect(second.status).toBe(429);
		expect(((await second.json()) as ErrorBody).error.message).toContain(
			"2 segments",
		);
	});

	it("rejects a message longer than the capacity with 422", async () => {
		const user = await createUser("too long", {
			capacity: 3,
			refillPerSecond: 1,
		});
		const res = await sendWithVars(segmentVars, user.apiKey, {
			...SMS,
			body: "a".repeat(1600),
		});
		expect(res.status).toBe(422);
		expect(((await res.json()) as ErrorBody).error.code).toBe(
			"cost_exceeds_capacity",
		);
		expect(await countUserMessages(user.id)).toBe(0);
	});
});

describe("global limit", () => {
	it("splits the rate over the shards", () => {
		const limit = globalLimit({
			...env,
			GLOBAL_RATE_LIMIT_PER_SECOND: "10",
			GLOBAL_RATE_LIMIT_SHARDS: "3",
		});
		expect(limit?.shardRule).toEqual({ capacity: 4, refillPerSecond: 3.333 });
		expect(globalLimit({ ...env, GLOBAL_RATE_LIMIT_PER_SECOND: "0" })).toBe(
			null,
		);
	});

	it("never admits more than the shards' total burst", async () => {
		const limit = globalLimit({
			...env,
			GLOBAL_RATE_LIMIT_PER_SECOND: "8",
			GLOBAL_RATE_LIMIT_SHARDS: "4",
		});
		if (!limit) throw new Error("the global limit is off");
		const charges = await Promise.all(
			Array.from({ length: 40 }, () => takeGlobalSend(env, limit)),
		);
		const admitted = charges.filter((charge) => charge.result.allowed);
		expect(admitted.length).toBeLessThanOrEqual(8);
		expect(admitted.length).toBeGreaterThan(0);
	});

	it("refunds the user on a global rejection", async () => {
		const vars = {
			GLOBAL_RATE_LIMIT_PER_SECOND: "1",
			GLOBAL_RATE_LIMIT_SHARDS: "1",
		};
		const user = await createUser("global", {
			capacity: 10,
			refillPerSecond: 0,
		});
		const statuses: number[] = [];
		let last = new Response();
		for (const _ of [1, 2, 3]) {
			last = await sendWithVars(vars, user.apiKey);
			statuses.push(last.status);
		}
		expect(statuses.filter((status) => status === 429)).not.toHaveLength(0);
		expect(last.status).toBe(429);
		expect(((await last.json()) as ErrorBody).error.message).toContain(
			"global limit of 1 sends per second",
		);
		expect(last.headers.get("Retry-After")).toBe("1");
		const accepted = statuses.filter((status) => status === 202).length;
		expect((await readState(user.apiKey)).remaining).toBe(10 - accepted);
	});
});
