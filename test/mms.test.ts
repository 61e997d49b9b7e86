import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	BASE,
	createUser,
	isFinal,
	request,
	SIMULATOR,
	waitForMessage,
} from "./helpers";

interface MediaFetch {
	url: string;
	status: number | null;
	contentType: string | null;
	size: number | null;
}

function imageBytes(size: number, seed: number): Uint8Array {
	const bytes = new Uint8Array(size);
	bytes.set([0xff, 0xd8, 0xff, 0xe0]);
	for (let i = 4; i < size; i++) bytes[i] = (i * seed) % 256;
	return bytes;
}

function base64(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary);
}

describe("outbound mms", () => {
	it("sends uploaded media that the simulator fetches with its type", async () => {
		const user = await createUser("mms out");
		const upload = await exports.default.fetch(`${BASE}/v1/media`, {
			method: "POST",
			headers: {
				Authorization: `Bearer ${user.apiKey}`,
				"Content-Type": "image/jpeg",
			},
			body: imageBytes(4096, 7),
		});
		expect(upload.status).toBe(201);
		const { id: mediaId } = (await upload.json()) as { id: string };

		const sent = await request("POST", "/v1/messages", {
			token: user.apiKey,
			json: { to: "+14155550140", body: "a picture", mediaIds: [mediaId] },
		});
		expect(sent.status).toBe(202);
		const { id } = (await sent.json()) as { id: string };
		const message = await waitForMessage(user.apiKey, id, isFinal);
		expect(message.status).toBe("delivered");
		expect(message.twilioSid).toMatch(/^MM/);

		const log = await fetch(`${SIMULATOR}/simulator/messages`);
		const creates = (
			(await log.json()) as {
				data: { sid: string; mediaUrls: string[]; media: MediaFetch[] }[];
			}
		).data;
		const create = creates.find((entry) => entry.sid === message.twilioSid);
		expect(create?.mediaUrls).toHaveLength(1);
		expect(create?.mediaUrls[0]).toContain(`/media/${mediaId}?expires=`);
		// The URL stays valid for Twilio's whole 10-hour send window.
		const expires = Number(
			new URL(create?.mediaUrls[0] ?? "").searchParams.get("expires"),
		);
		expect(expires - Date.now() / 1000).toBeGreaterThan(36_000);
		expect(create?.media[0]?.status).toBe(200);
		expect(create?.media[0]?.contentType).toBe("image/jpeg");
		expect(create?.media[0]?.size).toBe(4096);
	});
});

describe("inbound mms", () => {
	it("copies both images to r2 byte for byte", async () => {
		const user = await createUser("mms in");
		// The reply belongs to the user who texted that phone first.
		await request("POST", "/v1/messages", {
			token: user.apiKey,
			json: { to: "+14155550141", body: "send me the pictures" },
		});
		const images = [imageBytes(3000, 3), imageBytes(5000, 5)];
		const res = await fetch(`${SIMULATOR}/simulator/inbound`, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({
				from: "+14155550141",
				to: "+15005550006",
				body: "two pictures",
				media: images.map((bytes) => ({
					contentType: "image/jpeg",
					base64: base64(bytes),
				})),
				mediaNotReadyCount: 1,
			}),
		});
		expect(res.status).toBe(200);
		const { messageSid } = (await res.json()) as { messageSid: string };
		const row = await env.DB.prepare(
			"select id from messages where twilio_sid = ?",
		)
			.bind(messageSid)
			.first<{ id: string }>();
		expect(row).not.toBeNull();

		const message = await waitForMessage(
			user.apiKey,
			row?.id ?? "",
			(m) =>
				(m as unknown as { media: { id: string | null }[] }).media.every(
					(item) => item.id !== null,
				),
			15_000,
		);
		const media = (
			message as unknown as {
				media: { id: string; url: string; contentType: string; size: number }[];
			}
		).media;
		expect(media).toHaveLength(2);
		for (const [index, item] of media.entries()) {
			expect(item.contentType).toBe("image/jpeg");
			expect(item.size).toBe(images[index]?.byteLength);
			const object = await env.MEDIA_BUCKET.get(`media/${item.id}`);
			const stored = new Uint8Array(
				await (object as R2ObjectBody).arrayBuffer(),
			);
			expect(stored).toEqual(images[index]);
			const served = await exports.default.fetch(item.url);
			expect(new Uint8Array(await served.arrayBuffer())).toEqual(images[index]);
		}
	});
});
