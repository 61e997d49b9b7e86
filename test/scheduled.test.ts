import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { evaluateAlerts } from "../src/cron/alerts";
import worker from "../src/index";
import { createUser, isFinal, waitForMessage } from "./helpers";

afterEach(() => {
	vi.restoreAllMocks();
});

async function insertMessage(
	userId: string,
	fields: { status: string; twilioSid?: string; ageMs: number },
): Promise<string> {
	const id = `msg_sweep${crypto.randomUUID().replaceAll("-", "")}`;
	const at = Date.now() - fields.ageMs;
	await env.DB.prepare(
		"insert into messages (id, user_id, direction, `to`, `from`, body, segments, encoding, status, twilio_sid, created_at, updated_at) values (?, ?, 'outbound', '+14155550188', '+15005550006', ?, 1, 'GSM-7', ?, ?, ?, ?)",
	)
		.bind(
			id,
			userId,
			`sweep ${id}`,
			fields.status,
			fields.twilioSid ?? null,
			at,
			at,
		)
		.run();
	return id;
}

describe("scheduled sweep", () => {
	it("re-enqueues a message whose job was lost", async () => {
		const user = await createUser("sweep");
		const id = await insertMessage(user.id, {
			status: "queued",
			ageMs: 3_600_000,
		});
		await worker.scheduled(createScheduledController(), env);
		const message = await waitForMessage(user.apiKey, id, isFinal);
		expect(message.status).toBe("delivered");
	});

	it("leaves a recent queued message alone", async () => {
		const user = await createUser("sweep recent");
		const id = await insertMessage(user.id, { status: "queued", ageMs: 0 });
		await worker.scheduled(createScheduledController(), env);
		await new Promise((resolve) => setTimeout(resolve, 1500));
		const row = await env.DB.prepare(
			"select twilio_sid from messages where id = ?",
		)
			.bind(id)
			.first<{ twilio_sid: string | null }>();
		expect(row?.twilio_sid).toBeNull();
	});

	it("refreshes a status whose callbacks were lost", async () => {
		const user = await createUser("refresh");
		// A message that Twilio has as delivered, stuck at `sent` here.
		const create = await fetch(
			"https://api.twilio.test/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json",
			{
				method: "POST",
				headers: {
					Authorization: `Basic ${btoa("AC00000000000000000000000000000000:test-auth-token")}`,
					"Content-Type": "application/x-www-form-urlencoded",
				},
				body: new URLSearchParams({
					To: "+14155550189",
					From: "+15005550006",
					Body: "lost callbacks",
				}).toString(),
			},
		);
		const { sid } = (await create.json()) as { sid: string };
		await new Promise((resolve) => setTimeout(resolve, 300));
		const id = await insertMessage(user.id, {
			status: "sent",
			twilioSid: sid,
			ageMs: 7_200_000,
		});
		await worker.scheduled(createScheduledController(), env);
		const message = await waitForMessage(user.apiKey, id, isFinal);
		expect(message.status).toBe("delivered");
		expect(message.events.at(-1)?.source).toBe("sweep");
	});
});

describe("alerts", () => {
	it("posts an alert when dead letters pass the threshold", async () => {
		const user = await createUser("alerts");
		const id = await insertMessage(user.id, { status: "failed", ageMs: 0 });
		await env.DB.prepare(
			"insert into dead_letters (id, message_id, user_id, generation, payload, status, error, retry_count, failed_at) values (?, ?, ?, 0, '{}', 'failed', 'test', 0, ?)",
		)
			.bind(`dlq_${id}`, id, user.id, Date.now())
			.run();
		const fetchSpy = vi.spyOn(globalThis, "fetch");
		const alerts = await evaluateAlerts({
			...env,
			ALERT_DEAD_LETTERS: "1",
			ALERT_FAILURE_RATE: "0",
			ALERT_WEBHOOK_URL: "https://alerts.test/hook",
		});
		expect(alerts.map((alert) => alert.rule)).toEqual(["dead_letters"]);
		expect(alerts[0]?.value).toBeGreaterThanOrEqual(1);
		const call = fetchSpy.mock.calls.find(
			([url]) => String(url) === "https://alerts.test/hook",
		);
		expect(call).toBeDefined();
		const body = JSON.parse(String(call?.[1]?.body));
		expect(body.rule).toBe("dead_letters");
		expect(body.service).toBe("edge-sms");
	});

	it("raises a failure-rate alert", async () => {
		const alerts = await evaluateAlerts({
			...env,
			ALERT_DEAD_LETTERS: "0",
			ALERT_FAILURE_RATE: "0.0001",
			ALERT_WEBHOOK_URL: "",
		});
		expect(alerts.map((alert) => alert.rule)).toEqual(["failure_rate"]);
	});

	it("stays quiet under the thresholds", async () => {
		const alerts = await evaluateAlerts({
			...env,
			ALERT_DEAD_LETTERS: "1000000",
			ALERT_FAILURE_RATE: "1.1",
		});
		expect(alerts).toEqual([]);
	});
});
