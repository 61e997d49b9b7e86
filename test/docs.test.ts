import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("serves swagger ui assets", async () => {
	const page = await exports.default.fetch("https://sms.test/docs");
	const html = await page.text();
	expect(html).toContain("/docs/assets/swagger-ui-dist/swagger-ui-bundle.js");
	const js = await exports.default.fetch(
		"https://sms.test/docs/assets/swagger-ui-dist/swagger-ui-bundle.js",
	);
	expect(js.status).toBe(200);
	expect((await js.text()).length).toBeGreaterThan(100_000);
	const css = await exports.default.fetch(
		"https://sms.test/docs/assets/swagger-ui-dist/swagger-ui.css",
	);
	expect(css.headers.get("Content-Type")).toContain("text/css");
	const other = await exports.default.fetch(
		"https://sms.test/docs/assets/swagger-ui-dist/index.html",
	);
	expect(other.status).toBe(404);
});
