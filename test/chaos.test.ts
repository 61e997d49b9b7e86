import { env } from "cloudflare:workers";
import { afterAll, expect, it } from "vitest";
import { createUser, request, setFaults, simulatorCreates } from "./helpers";

const MESSAGES = 300;
// About 100 s on an idle 2-core machine; the run is CPU-bound in workerd.
const SETTLE_TIMEOUT_MS = 240_000;

afterAll(async () => {
	await setFaults({});
});

async function statusCounts(userId: string): Promise<Record<string, number>> {
	const rows = await env.DB.prepare(
		"select status, count(*) as n from messages where user_id = ? group by status",
	)
		.bind(userId)
		.all<{ status: string; n: number }>();
	return Object.fromEntries(rows.results.map((row) => [row.status, row.n]));
}

it(
	"settles every message once under transient faults",
	async () => {
		await setFaults({
			seed: 20_261_204,
			timeoutMs: 50,
			rates: {
				"429": 0.1,
				"500": 0.08,
				timeout: 0.04,
				createdThen500: 0.08,
				duplicateCallback: 0.3,
				outOfOrderCallback: 0.3,
			},
		});
		const user = await createUser("chaos", {
			capacity: 10_000,
			refillPerSecond: 0,
		});

		// Accept 300 messages, 20 requests at a time.
		let accepted = 0;
		for (let start = 0; start < MESSAGES; start += 20) {
			const responses = await Promise.all(
				Array.from({ length: Math.min(20, MESSAGES - start) }, (_, i) =>
					request("POST", "/v1/messages", {
						token: user.apiKey,
						json: { to: "+14155550142", body: `chaos ${start + i}` },
					}),
				),
			);
			for (const res of responses) if (res.status === 202) accepted++;
		}
		expect(accepted).toBe(MESSAGES);

		// Wait until every message is in a final status.
		const deadline = Date.now() + SETTLE_TIMEOUT_MS;
		let counts = await statusCounts(user.id);
		const settled = (c: Record<string, number>) =>
			(c.delivered ?? 0) + (c.failed ?? 0) + (c.undelivered ?? 0);
		while (settled(counts) < accepted && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 250));
			counts = await statusCounts(user.id);
		}

		const creates = await simulatorCreates();
		const createsPerMessage = new Map<string, number>();
		for (const create of creates) {
			const id = /messageId=([^&]+)/.exec(create.statusCallback ?? "")?.[1];
			if (id) createsPerMessage.set(id, (createsPerMessage.get(id) ?? 0) + 1);
		}
		const ours = await env.DB.prepare(
			"select id from messages where user_id = ?",
		)
			.bind(user.id)
			.all<{ id: string }>();
		const duplicates = ours.results.filter(
			(row) => (createsPerMessage.get(row.id) ?? 0) > 1,
		);
		const missingDeadLetters = await env.DB.prepare(
			`select count(*) as n from messages m where m.user_id = ?
			and m.status in ('failed', 'undelivered')
			and not exists (select 1 from dead_letters d where d.message_id = m.id)`,
		)
			.bind(user.id)
			.first<{ n: number }>();
		const retries = await env.DB.prepare(
			`select count(*) as n from message_events e join messages m on m.id = e.message_id
			where m.user_id = ? and e.status = 'retrying'`,
		)
			.bind(user.id)
			.first<{ n: number }>();

		console.log(
			`chaos: accepted=${accepted} delivered=${counts.delivered ?? 0} failed=${counts.failed ?? 0} undelivered=${counts.undelivered ?? 0} other=${accepted - settled(counts)} retries=${retries?.n} creates=${creates.length} duplicateCreates=${duplicates.length} missingDeadLetters=${missingDeadLetters?.n}`,
		);
		expect(settled(counts)).toBe(accepted);
		expect(duplicates).toEqual([]);
		expect(missingDeadLetters?.n).toBe(0);
		expect(retries?.n).toBeGreaterThan(0);
	},
	SETTLE_TIMEOUT_MS + 30_000,
);
