import { expect, it } from "vitest";
import { createUser, request, simulatorCreates } from "./helpers";

interface Create {
	from: string;
	to: string;
	receivedAt: string;
}

async function createsFrom(sender: string): Promise<Create[]> {
	const creates = (await simulatorCreates()) as unknown as Create[];
	return creates.filter((create) => create.from === sender);
}

async function waitForCreates(
	sender: string,
	count: number,
	timeoutMs: number,
) {
	const deadline = Date.now() + timeoutMs;
	let creates = await createsFrom(sender);
	while (creates.length < count && Date.now() < deadline) {
		await new Promise((resolve) => setTimeout(resolve, 200));
		creates = await createsFrom(sender);
	}
	return creates;
}

function gapsMs(creates: Create[]): number[] {
	const times = creates.map((create) => Date.parse(create.receivedAt)).sort();
	return times.slice(1).map((time, i) => time - (times[i] as number));
}

it("paces each long-code sender at one message a second", async () => {
	const user = await createUser("pacing", {
		capacity: 1000,
		refillPerSecond: 0,
	});
	const slow = "+14155550210";
	const other = "+14155550211";
	const sends = [
		...Array.from({ length: 20 }, (_, i) => ({ from: slow, body: `a${i}` })),
		...Array.from({ length: 5 }, (_, i) => ({ from: other, body: `b${i}` })),
	];
	const responses = await Promise.all(
		sends.map((send) =>
			request("POST", "/v1/messages", {
				token: user.apiKey,
				json: { to: "+14155550212", ...send },
			}),
		),
	);
	for (const res of responses) expect(res.status).toBe(202);

	const fromOther = await waitForCreates(other, 5, 30_000);
	const fromSlow = await waitForCreates(slow, 20, 60_000);
	expect(fromSlow).toHaveLength(20);
	expect(fromOther).toHaveLength(5);
	// The simulator stamps arrival in milliseconds; allow 5 ms of skew.
	for (const gap of gapsMs(fromSlow)) expect(gap).toBeGreaterThanOrEqual(995);
	for (const gap of gapsMs(fromOther)) expect(gap).toBeGreaterThanOrEqual(995);

	// And no slower than needed: 19 gaps of about 1.05 s, not 3 s each.
	const times = fromSlow.map((c) => Date.parse(c.receivedAt));
	expect(Math.max(...times) - Math.min(...times)).toBeLessThan(19 * 1500);

	// The second sender does not wait behind the first one's queue.
	const lastOther = Math.max(...fromOther.map((c) => Date.parse(c.receivedAt)));
	const lastSlow = Math.max(...fromSlow.map((c) => Date.parse(c.receivedAt)));
	expect(lastOther).toBeLessThan(lastSlow - 10_000);
}, 60_000);
