import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signedMediaUrl } from "../src/media/signing";
import { BASE, createUser, request } from "./helpers";

interface Media {
	id: string;
	contentType: string;
	size: number;
	url: string;
}

let user = { id: "", apiKey: "" };

beforeAll(async () => {
	user = await createUser("media");
});

function pngBytes(size: number): Uint8Array {
	const bytes = new Uint8Array(size);
	bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
	for (let i = 8; i < size; i++) bytes[i] = i % 251;
	return bytes;
}

async function upload(
	apiKey: string,
	bytes: Uint8Array,
	contentType = "image/png",
): Promise<Response> {
	return exports.default.fetch(`${BASE}/v1/media`, {
		method: "POST",
		headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": contentType },
		body: bytes,
	});
}

async function uploaded(apiKey: string, size = 1024): Promise<Media> {
	const res = await upload(apiKey, pngBytes(size));
	expect(res.status).toBe(201);
	return (await res.json()) as Media;
}

describe("POST /v1/media", () => {
	it("stores an image in r2", async () => {
		const bytes = pngBytes(2048);
		const res = await upload(user.apiKey, bytes);
		expect(res.status).toBe(201);
		const item = (await res.json()) as Media;
		expect(item.id).toMatch(/^med_/);
		expect(item.contentType).toBe("image/png");
		expect(item.size).toBe(2048);
		const object = await env.MEDIA_BUCKET.get(`media/${item.id}`);
		expect(
			new Uint8Array(await (object as R2ObjectBody).arrayBuffer()),
		).toEqual(bytes);
	});

	it("rejects a type twilio does not accept with 415", async () => {
		const res = await upload(user.apiKey, pngBytes(100), "application/zip");
		expect(res.status).toBe(415);
		const body = (await res.json()) as { error: { message: string } };
		expect(body.error.message).toContain("image/jpeg");
	});

	it("rejects an image over 5 MB with 413 naming the limit", async () => {
		const res = await upload(user.apiKey, pngBytes(5 * 1024 * 1024 + 1));
		expect(res.status).toBe(413);
		const body = (await res.json()) as { error: { message: string } };
		expect(body.error.message).toContain("5242880");
	});

	it("rejects a pdf over 500 KB with 413", async () => {
		const res = await upload(
			user.apiKey,
			new Uint8Array(500 * 1024 + 1),
			"application/pdf",
		);
		expect(res.status).toBe(413);
		const body = (await res.json()) as { error: { message: string } };
		expect(body.error.message).toContain("512000");
	});
});

describe("GET /media/:id", () => {
	it("serves the bytes with type, length, etag and cache-control", async () => {
		const item = await uploaded(user.apiKey, 3000);
		const res = await exports.default.fetch(item.url);
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toBe("image/png");
		expect(res.headers.get("Content-Length")).toBe("3000");
		expect(res.headers.get("ETag")).toMatch(/^"/);
		const maxAge = Number(
			/max-age=(\d+)/.exec(res.headers.get("Cache-Control") ?? "")?.[1],
		);
		const expires = Number(new URL(item.url).searchParams.get("expires"));
		expect(Math.abs(Date.now() / 1000 + maxAge - expires)).toBeLessThan(5);
		expect(new Uint8Array(await res.arrayBuffer())).toEqual(pngBytes(3000));
	});

	it("answers head without a body", async () => {
		const item = await uploaded(user.apiKey, 500);
		const res = await exports.default.fetch(item.url, { method: "HEAD" });
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toBe("image/png");
		expect(res.headers.get("Content-Length")).toBe("500");
		expect(await res.text()).toBe("");
	});

	it("refuses a tampered signature", async () => {
		const item = await uploaded(user.apiKey);
		const url = new URL(item.url);
		const signature = url.searchParams.get("signature") ?? "";
		url.searchParams.set(
			"signature",
			`${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`,
		);
		const res = await exports.default.fetch(url.toString());
		expect(res.status).toBe(403);
	});

	it("refuses a later expiry with the old signature", async () => {
		const item = await uploaded(user.apiKey);
		const url = new URL(item.url);
		url.searchParams.set(
			"expires",
			String(Number(url.searchParams.get("expires")) + 3600),
		);
		const res = await exports.default.fetch(url.toString());
		expect(res.status).toBe(403);
	});

	it("refuses another media id with the same signature", async () => {
		const mine = await uploaded(user.apiKey);
		const other = await uploaded((await createUser("other media")).apiKey);
		const url = new URL(mine.url);
		url.pathname = `/media/${other.id}`;
		const res = await exports.default.fetch(url.toString());
		expect(res.status).toBe(403);
	});

	it("refuses an expired url", async () => {
		const item = await uploaded(user.apiKey);
		const expired = await signedMediaUrl(
			env,
			item.id,
			60,
			Date.now() - 120_000,
		);
		const res = await exports.default.fetch(expired);
		expect(res.status).toBe(403);
		const body = (await res.json()) as { error: { code: string } };
		expect(body.error.code).toBe("url_expired");
	});

	it("serves repeated fetches from the cache, not r2", async () => {
		const item = await uploaded(user.apiKey, 700);
		const first = await exports.default.fetch(item.url);
		expect(first.status).toBe(200);
		await first.arrayBuffer();
		// Let the cache write that runs after the response finish.
		await new Promise((resolve) => setTimeout(resolve, 100));
		await env.MEDIA_BUCKET.delete(`media/${item.id}`);
		const second = await exports.default.fetch(item.url);
		expect(second.status).toBe(200);
		expect((await second.arrayBuffer()).byteLength).toBe(700);
	});
});

describe("sending with mediaIds", () => {
	it("lists the message's media with signed urls", async () => {
		const item = await uploaded(user.apiKey, 1200);
		const res = await request("POST", "/v1/messages", {
			token: user.apiKey,
			json: { to: "+14155550120", mediaIds: [item.id] },
		});
		expect(res.status).toBe(202);
		const message = (await res.json()) as {
			media: { id: string; url: string; contentType: string; size: number }[];
		};
		expect(message.media).toHaveLength(1);
		expect(message.media[0]?.id).toBe(item.id);
		expect(message.media[0]?.contentType).toBe("image/png");
		expect(message.media[0]?.size).toBe(1200);
		const served = await exports.default.fetch(message.media[0]?.url ?? "");
		expect(served.status).toBe(200);
	});

	it("rejects another user's media id", async () => {
		const other = await createUser("media owner");
		const theirs = await uploaded(other.apiKey);
		const res = await request("POST", "/v1/messages", {
			token: user.apiKey,
			json: { to: "+14155550120", mediaIds: [theirs.id] },
		});
		expect(res.status).toBe(400);
		const body = (await res.json()) as {
			error: { details: { field: string }[] };
		};
		expect(body.error.details[0]?.field).toBe("mediaIds.0");
	});

	it("rejects eleven media items naming the limit", async () => {
		const res = await request("POST", "/v1/messages", {
			token: user.apiKey,
			json: {
				to: "+14155550120",
				mediaUrls: Array.from(
					{ length: 11 },
					(_, i) => `https://cdn.example.com/${i}.png`,
				),
			},
		});
		expect(res.status).toBe(400);
		const body = (await res.json()) as { error: { message: string } };
		expect(body.error.message).toContain("at most 10");
	});

	it("rejects media over 5 MB in total naming the limit", async () => {
		const items = [
			await uploaded(user.apiKey, 3 * 1024 * 1024),
			await uploaded(user.apiKey, 3 * 1024 * 1024),
		];
		const before = await env.DB.prepare(
			"select count(*) as n from messages",
		).first<{
			n: number;
		}>();
		const res = await request("POST", "/v1/messages", {
			token: user.apiKey,
			json: { to: "+14155550120", mediaIds: items.map((item) => item.id) },
		});
		expect(res.status).toBe(413);
		const body = (await res.json()) as { error: { message: string } };
		expect(body.error.message).toContain("5 MB");
		const after = await env.DB.prepare(
			"select count(*) as n from messages",
		).first<{
			n: number;
		}>();
		expect(after?.n).toBe(before?.n);
	});
});
