import { describe, expect, it } from "vitest";
import { createUser, isFinal, request, waitForMessage } from "./helpers";

describe("sending an sms end to end", () => {
	it("moves a message from queued to delivered", async () => {
		const user = await createUser();
		const res = await request("POST", "/v1/messages", {
			token: user.apiKey,
			json: { to: "+14155550100", body: "Your order has shipped!" },
		});
		expect(res.status).toBe(202);
		const accepted = (await res.json()) as { id: string; status: string };
		expect(accepted.status).toBe("queued");

		const message = await waitForMessage(user.apiKey, accepted.id, isFinal);
		expect(message.status).toBe("delivered");
		expect(message.twilioSid).toMatch(/^SM[0-9a-f]{32}$/);
		expect(message.events.map((event) => event.status)).toEqual([
			"queued",
			"sent",
			"delivered",
		]);
	});
});
