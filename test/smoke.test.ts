import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("answers", async () => {
	const res = await exports.default.fetch("http://x/");
	expect(await res.text()).toBe("ok");
	const sim = await fetch("https://api.twilio.test/echo");
	expect(await sim.text()).toBe("sim got: ok");
});
