import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/app";
import type { WindowResult, WindowRule } from "../src/ratelimit/sliding-window";
import { computeTwilioSignature } from "../src/twilio/signature";
import { BASE, createUser } from "./helpers";

interface ErrorBody {
	error: { code: string; message: string };
}

const AUTH_TOKEN = "test-auth-token";

// Addresses from the documentation range 203.0.113.0/24 (RFC 5737); each test
// uses its own so their windows never meet.
let nextAddress = 1;
function newClientIp(): string {
	return `203.0.113.${nextAddress++}`;
}

/** Calls the app with some vars replaced, as another deployment would. */
function call(
	path: string,
	init: RequestInit,
	vars: Partial<Record<keyof Env, string>>,
) {
	return app.request(`${BASE}${path}`, init, { ...env, ...vars });
}

function getMessages(ip: string, token?: string) {
	const headers = new Headers({ "CF-Connecting-IP": ip });
	if (token) headers.set("Authorization", `Bearer ${token}`);
	return call("/v1/messages", { headers }, { IP_WINDOW_LIMIT: "3" });
}

async function postStatusWebhook(ip: string, signed: boolean) {
	const params = new URLSearchParams({
		MessageSid: "SMratelimit00000000000000000000000",
		MessageStatus: "sent",
	});
	const headers = new Headers({
		"CF-Connecting-IP": ip,
		"Content-Type": "application/x-www-form-urlencoded",
	});
	if (signed) {
		const url = `${BASE}/twilio/status`;
		headers.set(
			"X-Twilio-Signature",
			await computeTwilioSignature(AUTH_TOKEN, url, params),
		);
	}
	return call(
		"/twilio/status",
		{ method: "POST", headers, body: params.toString() },
		{ WEBHOOK_IP_WINDOW_LIMIT: "2" },
	);
}

let apiKey = "";

beforeAll(async () => {
	apiKey = (await createUser("ip limits")).apiKey;
});

describe("per-ip limit on unauthenticated requests", () => {
	it("answers 429 once an address is over the limit", async () => {
		const ip = newClientIp();
		const statuses: number[] = [];
		for (const token of [undefined, "wrong-key", undefined, "wrong-key"]) {
			statuses.push((await getMessages(ip, token)).status);
		}
		expect(statuses).toEqual([401, 401, 401, 429]);
	});

	it("names the limit and the retry time in the 429", async () => {
		const ip = newClientIp();
		for (const _ of [1, 2, 3]) await getMessages(ip);
		const res = await getMessages(ip);
		const body = (await res.json()) as ErrorBody;
		expect(body.error.code).toBe("rate_limited");
		expect(body.error.message).toContain("at most 3 in 60 seconds");
		expect(res.headers.get("Retry-After")).toBe("60");
		expect(res.headers.get("RateLimit-Remaining")).toBe("0");
	});

	it("reports the window on a 401", async () => {
		const res = await getMessages(newClientIp());
		expect(res.status).toBe(401);
		expect(res.headers.get("RateLimit-Limit")).toBe("3");
		expect(res.headers.get("RateLimit-Remaining")).toBe("2");
		expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
	});

	it("still admits a valid key from a blocked address", async () => {
		const ip = newClientIp();
		for (const _ of [1, 2, 3, 4]) await getMessages(ip);
		expect((await getMessages(ip)).status).toBe(429);
		expect((await getMessages(ip, apiKey)).status).toBe(200);
	});

	it("keeps addresses apart", async () => {
		const blocked = newClientIp();
		for (const _ of [1, 2, 3, 4]) await getMessages(blocked);
		expect((await getMessages(blocked)).status).toBe(429);
		expect((await getMessages(newClientIp())).status).toBe(401);
	});

	it("counts wrong admin tokens too", async () => {
		const ip = newClientIp();
		const statuses: number[] = [];
		for (const _ of [1, 2, 3, 4]) {
			const res = await call(
				"/v1/users",
				{
					method: "POST",
					headers: {
						"CF-Connecting-IP": ip,
						Authorization: "Bearer not-the-admin-token",
						"Content-Type": "application/json",
					},
					body: JSON.stringify({ name: "nobody" }),
				},
				{ IP_WINDOW_LIMIT: "3" },
			);
			statuses.push(res.status);
		}
		expect(statuses).toEqual([403, 403, 403, 429]);
	});
});

describe("per-ip limit on twilio webhooks", () => {
	it("answers 429 before checking the signature", async () => {
		const ip = newClientIp();
		const forged = [
			await postStatusWebhook(ip, false),
			await postStatusWebhook(ip, false),
		];
		const signed = await postStatusWebhook(ip, true);
		expect(forged.map((res) => res.status)).toEqual([403, 403]);
		expect(signed.status).toBe(429);
	});

	it("admits a signed webhook from another address", async () => {
		const res = await postStatusWebhook(newClientIp(), true);
		expect(res.status).toBe(200);
		expect(res.headers.get("RateLimit-Limit")).toBe("2");
	});
});

describe("sliding window durable object", () => {
	const rule: WindowRule = { limit: 3, windowMs: 1000 };
	const stubFor = (name: string) => env.IP_LIMITER.getByName(name);

	it("admits exactly the limit and again after the window", async () => {
		const name = "test:window";
		const results: WindowResult[] = [];
		for (const _ of [1, 2, 3, 4]) results.push(await stubFor(name).count(rule));
		expect(results.map((result) => result.allowed)).toEqual([
			true,
			true,
			true,
			false,
		]);

		const retryAfterMs = results[3]?.retryAfterMs ?? 0;
		expect(retryAfterMs).toBeGreaterThan(0);
		expect(retryAfterMs).toBeLessThanOrEqual(rule.windowMs);
		await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
		expect((await stubFor(name).count(rule)).allowed).toBe(true);
	});

	it("keeps its window when the object restarts", async () => {
		const name = "test:window-restart";
		const slow = { limit: 2, windowMs: 60_000 };
		await stubFor(name).count(slow);
		await stubFor(name).count(slow);
		await runInDurableObject(stubFor(name), (instance) => {
			(instance as unknown as { marker: boolean }).marker = true;
		});
		try {
			await runInDurableObject(stubFor(name), (_, state) =>
				state.abort("test restart"),
			);
		} catch {
			// abort() throws in the object by design.
		}
		const marker = await runInDurableObject(
			stubFor(name),
			(instance) => (instance as unknown as { marker?: boolean }).marker,
		);
		expect(marker).toBeUndefined();
		const after = await stubFor(name).count(slow);
		expect(after.allowed).toBe(false);
		expect(after.remaining).toBe(0);
	});

	it("deletes its storage once the window is empty", async () => {
		const name = "test:window-cleanup";
		await stubFor(name).count({ limit: 5, windowMs: 50 });
		await new Promise((resolve) => setTimeout(resolve, 60));
		// Miniflare may already have run the alarm at its time; this runs it if not.
		await runDurableObjectAlarm(stubFor(name));
		const tables = await runInDurableObject(stubFor(name), (_, state) =>
			state.storage.sql
				.exec("SELECT name FROM sqlite_master WHERE type = 'table'")
				.toArray()
				.map((row) => row.name),
		);
		expect(tables).not.toContain("hits");
		expect(
			(await stubFor(name).count({ limit: 1, windowMs: 50 })).allowed,
		).toBe(true);
	});
});
