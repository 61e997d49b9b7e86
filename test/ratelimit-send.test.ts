import {
	createExecutionContext,
	runInDurableObject,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { app } from "../src/app";
import worker from "../src/index";
import {
	DEFAULT_GLOBAL_SHARDS,
	globalLimit,
	takeGlobalSend,
} from "../src/ratelimit/global-limit";
import type { BucketState } from "../src/ratelimit/token-bucket";
import { BUCKET_STATE_KEY } from "../src/ratelimit/token-bucket-limiter";
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

/**
 * Moves the stored refill time of the user's bucket `ms` back, which has
 * the effect of waiting `ms` without sleeping. Returns the state it found.
 */
async function ageBucket(userId: string, ms: number): Promise<BucketState> {
	return runInDurableObject(userBucket(env, userId), (_, state) => {
		const stored = state.storage.kv.get<BucketState>(BUCKET_STATE_KEY);
		if (!stored) throw new Error("the bucket has no stored state");
		state.storage.kv.put(BUCKET_STATE_KEY, {
			...stored,
			updatedAt: stored.updatedAt - ms,
		});
		return stored;
	});
}

function patchRateLimit(
	userId: string,
	rateLimit: { capacity: number; refillPerSecond: number },
) {
	return request("PATCH", `/v1/users/${userId}`, {
		token: ADMIN_TOKEN,
		json: { rateLimit },
	});
}

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

	it("keeps tokens when a patch stops refill", async () => {
		const user = await createUser("refill stopped", {
			capacity: 5,
			refillPerSecond: 1,
		});
		for (const _ of [1, 2, 3, 4, 5]) {
			expect((await send(user.apiKey)).status).toBe(202);
		}
		await ageBucket(user.id, 8000);
		expect((await readState(user.apiKey)).remaining).toBe(5);

		const patch = await patchRateLimit(user.id, {
			capacity: 5,
			refillPerSecond: 0,
		});
		expect(patch.status).toBe(200);
		expect(await readState(user.apiKey)).toMatchObject({
			refillPerSecond: 0,
			remaining: 5,
			resetSeconds: 0,
		});

		const statuses: number[] = [];
		let last = new Response();
		for (const _ of [1, 2, 3, 4, 5, 6]) {
			last = await send(user.apiKey);
			statuses.push(last.status);
		}
		expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
		expect(last.headers.get("Retry-After")).toBe("86400");
	});

	it("adds no past tokens when refill starts", async () => {
		const user = await createUser("refill started", {
			capacity: 5,
			refillPerSecond: 0,
		});
		for (const _ of [1, 2, 3, 4, 5]) await send(user.apiKey);
		await ageBucket(user.id, 8000);

		const rule = { capacity: 5, refillPerSecond: 1 };
		expect((await patchRateLimit(user.id, rule)).status).toBe(200);
		// The read switches the bucket to the new rule and stores the switch,
		// so the time after it refills at the new rate.
		expect(await readState(user.apiKey)).toMatchObject({
			remaining: 0,
			resetSeconds: 1,
		});
		const switched = await ageBucket(user.id, 2000);
		expect(switched.rule).toEqual(rule);
		expect(switched.microTokens).toBeLessThan(1_000_000);

		const res = await send(user.apiKey);
		expect(res.status).toBe(202);
		expect(res.headers.get("RateLimit-Remaining")).toBe("1");
	});
});

describe("rate limit changes", () => {
	it("switches the bucket's rule at the patch itself", async () => {
		const user = await createUser("switch at patch", {
			capacity: 5,
			refillPerSecond: 2,
		});
		// One send, so the bucket has stored state under the first rule.
		const sent = await request("POST", "/v1/messages", {
			token: user.apiKey,
			json: { to: "+14155550100", body: "hi" },
		});
		expect(sent.status).toBe(202);
		const patch = await request("PATCH", `/v1/users/${user.id}`, {
			token: ADMIN_TOKEN,
			json: { rateLimit: { capacity: 5, refillPerSecond: 0 } },
		});
		expect(patch.status).toBe(200);
		const stored = await runInDurableObject(
			userBucket(env, user.id),
			(_, state) => state.storage.kv.get<BucketState>(BUCKET_STATE_KEY),
		);
		expect(stored?.rule?.refillPerSecond).toBe(0);
		expect(stored?.rule?.capacity).toBe(5);
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
	// These tests drain shards under their own rules. A shard keeps its tokens
	// when the rule changes, so later tests would find them still empty under
	// the default rule.
	afterEach(async () => {
		for (let shard = 0; shard < DEFAULT_GLOBAL_SHARDS; shard++) {
			const stub = env.RATE_LIMITER.getByName(`global:${shard}`);
			await runInDurableObject(stub, (_, state) => state.storage.deleteAll());
		}
	});

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
		// Three quick sends against one global token a second: at least one
		// is rejected, whichever second boundary the sends straddle.
		const statuses: number[] = [];
		let rejected: Response | undefined;
		for (const _ of [1, 2, 3]) {
			const res = await sendWithVars(vars, user.apiKey);
			statuses.push(res.status);
			if (res.status === 429 && !rejected) rejected = res;
		}
		if (!rejected) throw new Error(`no send was rejected: ${statuses}`);
		expect(((await rejected.json()) as ErrorBody).error.message).toContain(
			"global limit of 1 sends per second",
		);
		expect(rejected.headers.get("Retry-After")).toBe("1");
		const accepted = statuses.filter((status) => status === 202).length;
		expect((await readState(user.apiKey)).remaining).toBe(10 - accepted);
	});
});

describe("RATE_LIMITS_ENABLED", () => {
	/** Sends through the Worker's fetch handler with the send limits off. */
	async function sendUnlimited(apiKey: string): Promise<Response> {
		const ctx = createExecutionContext();
		const res = await worker.fetch(
			new Request(`${BASE}/v1/messages`, {
				method: "POST",
				headers: {
					Authorization: `Bearer ${apiKey}`,
					"Content-Type": "application/json",
				},
				body: JSON.stringify(SMS),
			}),
			{
				...env,
				RATE_LIMITS_ENABLED: "false",
				// Would reject the second send if the global limit were checked.
				GLOBAL_RATE_LIMIT_PER_SECOND: "1",
				GLOBAL_RATE_LIMIT_SHARDS: "1",
			},
			ctx,
		);
		await waitOnExecutionContext(ctx);
		return res;
	}

	it('"false" skips the user and global limits and charges nothing', async () => {
		const user = await createUser("unlimited", {
			capacity: 1,
			refillPerSecond: 0,
		});
		const responses = [];
		for (const _ of [1, 2, 3]) responses.push(await sendUnlimited(user.apiKey));
		expect(responses.map((res) => res.status)).toEqual([202, 202, 202]);
		expect(responses[0]?.headers.get("RateLimit-Limit")).toBeNull();
		expect(await countUserMessages(user.id)).toBe(3);
		expect((await readState(user.apiKey)).remaining).toBe(1);
	});

	it("keeps the limits with its default value", async () => {
		expect(env.RATE_LIMITS_ENABLED).toBe("true");
		const user = await createUser("limited by default", {
			capacity: 1,
			refillPerSecond: 0,
		});
		expect((await send(user.apiKey)).status).toBe(202);
		expect((await send(user.apiKey)).status).toBe(429);
	});
});
