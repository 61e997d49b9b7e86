import { describe, expect, it } from "vitest";
import {
	computeTwilioSignature,
	verifyTwilioSignature,
} from "../src/twilio/signature";

// The expected signatures below were computed outside this code, in Node 20:
//   node -e 'console.log(require("node:crypto").createHmac("sha1", AUTH_TOKEN)
//     .update(DATA, "utf8").digest("base64"))'
// DATA is written by hand above each vector: the URL followed by each name and
// decoded value, names in code-unit order.
const AUTH_TOKEN = "9f1c2e7a4b3d8e6f0a5c1b2d3e4f5a6b";
const INBOUND_URL = "https://sms.example.com/twilio/inbound";

// An inbound SMS as Twilio posts it, fields deliberately out of order.
const INBOUND_BODY =
	"MessageSid=SM22222222222222222222222222222222" +
	"&AccountSid=AC11111111111111111111111111111111" +
	"&From=%2B15551230001&To=%2B15559870002&Body=Hello+there&NumMedia=0";

// The signed form of INBOUND_BODY.
const INBOUND_PAIRS =
	"AccountSidAC11111111111111111111111111111111" +
	"BodyHello there" +
	"From+15551230001" +
	"MessageSidSM22222222222222222222222222222222" +
	"NumMedia0" +
	"To+15559870002";

const SIGNATURES = {
	// INBOUND_URL + INBOUND_PAIRS
	inbound: "V4NVHTiDSKOJ4jPBkDHork4mJfY=",
	// "https://sms.example.com:443/twilio/inbound" + INBOUND_PAIRS
	inboundWithPort443: "ivh0Jp/aOjCZ5PcvUJjsAtYXj/k=",
	// "http://sms.example.com/twilio/inbound" + INBOUND_PAIRS
	inboundHttp: "RZws6aPP14ue9d62tW4XynhCltQ=",
	// "http://sms.example.com:80/twilio/inbound" + INBOUND_PAIRS
	inboundHttpWithPort80: "kF86jzCgrfltXzXUFYgMmO2N8Y8=",
	// "https://sms.example.com:8443/twilio/inbound" + INBOUND_PAIRS
	inboundWithPort8443: "9FoGGDZJm26lx061K2JZ9xHwKAE=",
	// "https://sms.example.com/twilio/inbound?name=O'Brien" + INBOUND_PAIRS
	rawApostrophe: "1YXmuGrgj9lUxbaQD1hbVLBK0yE=",
	// "https://sms.example.com/twilio/inbound?name=O%27Brien" + INBOUND_PAIRS
	encodedApostrophe: "MBvGPgqAZ96oModHXgWJ3ylMasQ=",
	// "https://sms.example.com/twilio/inbound?tag=a+b%20c"
	//   + "Body1+1 = 2" + "From+15551230001"
	plusAndSpaces: "G5Lx4CcWi1mJc1W4TLjgtHcqXMY=",
	// INBOUND_URL + "Digits1234" + "Digits5678"
	repeatedDeduped: "ZilQMiDU9IcgUGOsDDwCyhq4fXo=",
	// INBOUND_URL + "Digits1234" + "Digits1234" + "Digits5678"
	repeatedWithDuplicates: "nkx5+fYSskyF8vjl/0p839m/aDU=",
	// INBOUND_URL + "BodyGrüße aus Köln 👋🏽" + "From+15551230001"
	utf8AndEmoji: "QGti9o3a3+lztUo4ViNBQ/5/e8Q=",
	// INBOUND_URL + "Body" + "From+15551230001" + "MediaUrl0"
	emptyValues: "BKdZzS6kjhr0SkDFbWd1b4RG6Ow=",
	// INBOUND_URL + "A4" + "B2" + "a3" + "b1"
	caseOrder: "52STQ7lsu/Up3oGp9ZpViLPUDFw=",
	// "https://sms.example.com/twilio/status?bodySHA256=abc", no parameters
	urlOnly: "FmUhn51cuhHSE9f9qIHfU2XMaA0=",
};

function inboundParams(): URLSearchParams {
	return new URLSearchParams(INBOUND_BODY);
}

function verifyInbound(url: string, signature: string | null | undefined) {
	return verifyTwilioSignature({
		authToken: AUTH_TOKEN,
		url,
		params: inboundParams(),
		signature,
	});
}

describe("computeTwilioSignature", () => {
	it("signs the url followed by sorted pairs", async () => {
		const fromParams = await computeTwilioSignature(
			AUTH_TOKEN,
			INBOUND_URL,
			inboundParams(),
		);
		const fromString = await computeTwilioSignature(
			AUTH_TOKEN,
			INBOUND_URL + INBOUND_PAIRS,
			new URLSearchParams(),
		);

		expect(fromParams).toBe(SIGNATURES.inbound);
		expect(fromString).toBe(SIGNATURES.inbound);
	});

	it("keeps the port as written", async () => {
		const sign = (url: string) =>
			computeTwilioSignature(AUTH_TOKEN, url, inboundParams());

		expect(await sign("https://sms.example.com:443/twilio/inbound")).toBe(
			SIGNATURES.inboundWithPort443,
		);
		expect(await sign("http://sms.example.com/twilio/inbound")).toBe(
			SIGNATURES.inboundHttp,
		);
		expect(await sign("http://sms.example.com:80/twilio/inbound")).toBe(
			SIGNATURES.inboundHttpWithPort80,
		);
		expect(await sign("https://sms.example.com:8443/twilio/inbound")).toBe(
			SIGNATURES.inboundWithPort8443,
		);
	});

	it("drops credentials from the url", async () => {
		const sign = (url: string) =>
			computeTwilioSignature(AUTH_TOKEN, url, inboundParams());

		expect(await sign("https://user:pass@sms.example.com/twilio/inbound")).toBe(
			SIGNATURES.inbound,
		);
		expect(await sign("https://user@sms.example.com/twilio/inbound")).toBe(
			SIGNATURES.inbound,
		);
		expect(
			await sign("https://user:p@ss@sms.example.com:8443/twilio/inbound"),
		).toBe(SIGNATURES.inboundWithPort8443);
	});

	it("drops the fragment", async () => {
		const signature = await computeTwilioSignature(
			AUTH_TOKEN,
			`${INBOUND_URL}#rt=4000&rp=ct,rt,5xx&rc=2`,
			inboundParams(),
		);

		expect(signature).toBe(SIGNATURES.inbound);
	});

	it("signs apostrophes as written", async () => {
		const sign = (url: string) =>
			computeTwilioSignature(AUTH_TOKEN, url, inboundParams());

		expect(await sign(`${INBOUND_URL}?name=O'Brien`)).toBe(
			SIGNATURES.rawApostrophe,
		);
		expect(await sign(`${INBOUND_URL}?name=O%27Brien`)).toBe(
			SIGNATURES.encodedApostrophe,
		);
	});

	it("signs decoded values and the raw query", async () => {
		const params = new URLSearchParams("Body=1%2B1+%3D+2&From=%2B15551230001");

		const signature = await computeTwilioSignature(
			AUTH_TOKEN,
			`${INBOUND_URL}?tag=a+b%20c`,
			params,
		);

		expect(params.get("Body")).toBe("1+1 = 2");
		expect(signature).toBe(SIGNATURES.plusAndSpaces);
	});

	it("dedupes and sorts repeated values", async () => {
		const signature = await computeTwilioSignature(
			AUTH_TOKEN,
			INBOUND_URL,
			new URLSearchParams("Digits=5678&Digits=1234&Digits=1234"),
		);

		expect(signature).toBe(SIGNATURES.repeatedDeduped);
	});

	it("signs utf-8 and emoji as utf-8 bytes", async () => {
		const params = new URLSearchParams();
		params.append("From", "+15551230001");
		params.append("Body", "Grüße aus Köln 👋🏽");

		const signature = await computeTwilioSignature(
			AUTH_TOKEN,
			INBOUND_URL,
			params,
		);

		expect(signature).toBe(SIGNATURES.utf8AndEmoji);
	});

	it("signs an empty value as its name", async () => {
		const signature = await computeTwilioSignature(
			AUTH_TOKEN,
			INBOUND_URL,
			new URLSearchParams("MediaUrl0=&From=%2B15551230001&Body="),
		);

		expect(signature).toBe(SIGNATURES.emptyValues);
	});

	it("sorts names by code unit", async () => {
		// localeCompare would give "a A b B" or "A a B b".
		const signature = await computeTwilioSignature(
			AUTH_TOKEN,
			INBOUND_URL,
			new URLSearchParams("b=1&B=2&a=3&A=4"),
		);

		expect(signature).toBe(SIGNATURES.caseOrder);
	});

	it("signs only the url without parameters", async () => {
		const signature = await computeTwilioSignature(
			AUTH_TOKEN,
			"https://sms.example.com/twilio/status?bodySHA256=abc",
			new URLSearchParams(),
		);

		expect(signature).toBe(SIGNATURES.urlOnly);
	});

	it("rejects an empty auth token", async () => {
		await expect(
			computeTwilioSignature("", INBOUND_URL, inboundParams()),
		).rejects.toThrow("Twilio auth token is empty");
	});
});

describe("verifyTwilioSignature", () => {
	it("accepts a matching signature", async () => {
		expect(await verifyInbound(INBOUND_URL, SIGNATURES.inbound)).toBe(true);
	});

	it("accepts https with or without :443", async () => {
		const withPort = "https://sms.example.com:443/twilio/inbound";

		expect(await verifyInbound(withPort, SIGNATURES.inbound)).toBe(true);
		expect(await verifyInbound(withPort, SIGNATURES.inboundWithPort443)).toBe(
			true,
		);
		expect(
			await verifyInbound(INBOUND_URL, SIGNATURES.inboundWithPort443),
		).toBe(true);
	});

	it("accepts http with or without :80", async () => {
		const withoutPort = "http://sms.example.com/twilio/inbound";
		const withPort = "http://sms.example.com:80/twilio/inbound";

		expect(await verifyInbound(withoutPort, SIGNATURES.inboundHttp)).toBe(true);
		expect(await verifyInbound(withPort, SIGNATURES.inboundHttp)).toBe(true);
		expect(
			await verifyInbound(withoutPort, SIGNATURES.inboundHttpWithPort80),
		).toBe(true);
	});

	it("treats :443 on http as a custom port", async () => {
		const url = "http://sms.example.com:443/twilio/inbound";

		expect(await verifyInbound(url, SIGNATURES.inboundHttp)).toBe(false);
		expect(await verifyInbound(url, SIGNATURES.inboundWithPort443)).toBe(false);
	});

	it("requires a custom port in the signed url", async () => {
		const url = "https://sms.example.com:8443/twilio/inbound";

		expect(await verifyInbound(url, SIGNATURES.inboundWithPort8443)).toBe(true);
		expect(await verifyInbound(url, SIGNATURES.inbound)).toBe(false);
		expect(await verifyInbound(url, SIGNATURES.inboundWithPort443)).toBe(false);
	});

	it("ignores credentials in the url", async () => {
		const url = "https://user:pass@sms.example.com/twilio/inbound";

		expect(await verifyInbound(url, SIGNATURES.inbound)).toBe(true);
		expect(await verifyInbound(url, SIGNATURES.inboundWithPort443)).toBe(true);
	});

	it("ignores the fragment", async () => {
		const url = `${INBOUND_URL}#rt=4000&rp=ct,rt,5xx&rc=2`;

		expect(await verifyInbound(url, SIGNATURES.inbound)).toBe(true);
	});

	it("accepts raw and encoded apostrophes", async () => {
		const rawUrl = `${INBOUND_URL}?name=O'Brien`;
		const encodedUrl = `${INBOUND_URL}?name=O%27Brien`;

		expect(await verifyInbound(rawUrl, SIGNATURES.rawApostrophe)).toBe(true);
		expect(await verifyInbound(rawUrl, SIGNATURES.encodedApostrophe)).toBe(
			true,
		);
		expect(await verifyInbound(encodedUrl, SIGNATURES.rawApostrophe)).toBe(
			true,
		);
		expect(await verifyInbound(encodedUrl, SIGNATURES.encodedApostrophe)).toBe(
			true,
		);
	});

	it("combines port and apostrophe variants", async () => {
		const signedUrl = "https://sms.example.com:443/twilio/inbound?q=it's";
		const signature = await computeTwilioSignature(
			AUTH_TOKEN,
			signedUrl,
			inboundParams(),
		);

		expect(await verifyInbound(`${INBOUND_URL}?q=it%27s`, signature)).toBe(
			true,
		);
	});

	it("handles an ipv6 host with a default port", async () => {
		const signature = await computeTwilioSignature(
			AUTH_TOKEN,
			"https://[2001:db8::1]/twilio/inbound",
			inboundParams(),
		);

		expect(
			await verifyInbound(
				"https://[2001:db8::1]:443/twilio/inbound",
				signature,
			),
		).toBe(true);
		expect(
			await verifyInbound(
				"https://[2001:db8::1]:8443/twilio/inbound",
				signature,
			),
		).toBe(false);
	});

	it("accepts decoded plus signs and spaces", async () => {
		const valid = await verifyTwilioSignature({
			authToken: AUTH_TOKEN,
			url: `${INBOUND_URL}?tag=a+b%20c`,
			params: new URLSearchParams("Body=1%2B1+%3D+2&From=%2B15551230001"),
			signature: SIGNATURES.plusAndSpaces,
		});

		expect(valid).toBe(true);
	});

	it("accepts repeated values only when deduped", async () => {
		const verifyDigits = (signature: string) =>
			verifyTwilioSignature({
				authToken: AUTH_TOKEN,
				url: INBOUND_URL,
				params: new URLSearchParams("Digits=5678&Digits=1234&Digits=1234"),
				signature,
			});

		expect(await verifyDigits(SIGNATURES.repeatedDeduped)).toBe(true);
		expect(await verifyDigits(SIGNATURES.repeatedWithDuplicates)).toBe(false);
	});

	it("accepts utf-8 and emoji values", async () => {
		const params = new URLSearchParams();
		params.append("Body", "Grüße aus Köln 👋🏽");
		params.append("From", "+15551230001");

		const valid = await verifyTwilioSignature({
			authToken: AUTH_TOKEN,
			url: INBOUND_URL,
			params,
			signature: SIGNATURES.utf8AndEmoji,
		});

		expect(valid).toBe(true);
	});

	it("accepts empty values", async () => {
		const valid = await verifyTwilioSignature({
			authToken: AUTH_TOKEN,
			url: INBOUND_URL,
			params: new URLSearchParams("Body=&From=%2B15551230001&MediaUrl0="),
			signature: SIGNATURES.emptyValues,
		});

		expect(valid).toBe(true);
	});

	it("rejects a tampered parameter", async () => {
		const verifyParams = (params: URLSearchParams) =>
			verifyTwilioSignature({
				authToken: AUTH_TOKEN,
				url: INBOUND_URL,
				params,
				signature: SIGNATURES.inbound,
			});

		const changed = inboundParams();
		changed.set("Body", "Hello there!");
		const added = inboundParams();
		added.append("NumSegments", "1");
		const removed = inboundParams();
		removed.delete("NumMedia");
		const emptied = inboundParams();
		emptied.set("Body", "");

		expect(await verifyParams(changed)).toBe(false);
		expect(await verifyParams(added)).toBe(false);
		expect(await verifyParams(removed)).toBe(false);
		expect(await verifyParams(emptied)).toBe(false);
	});

	it("rejects a different url", async () => {
		const otherPath = "https://sms.example.com/twilio/inbound/";
		const otherScheme = "http://sms.example.com/twilio/inbound";

		expect(await verifyInbound(otherPath, SIGNATURES.inbound)).toBe(false);
		expect(await verifyInbound(otherScheme, SIGNATURES.inbound)).toBe(false);
	});

	it("rejects a wrong auth token", async () => {
		const valid = await verifyTwilioSignature({
			authToken: "0f1c2e7a4b3d8e6f0a5c1b2d3e4f5a6b",
			url: INBOUND_URL,
			params: inboundParams(),
			signature: SIGNATURES.inbound,
		});

		expect(valid).toBe(false);
	});

	it("rejects a missing signature", async () => {
		expect(await verifyInbound(INBOUND_URL, null)).toBe(false);
		expect(await verifyInbound(INBOUND_URL, undefined)).toBe(false);
		expect(await verifyInbound(INBOUND_URL, "")).toBe(false);
	});

	it("rejects a malformed signature", async () => {
		const unpadded = SIGNATURES.inbound.replace(/=+$/, "");
		const lowercased = SIGNATURES.inbound.toLowerCase();
		const padded = ` ${SIGNATURES.inbound}`;

		expect(await verifyInbound(INBOUND_URL, "not-a-signature")).toBe(false);
		expect(await verifyInbound(INBOUND_URL, unpadded)).toBe(false);
		expect(await verifyInbound(INBOUND_URL, lowercased)).toBe(false);
		expect(await verifyInbound(INBOUND_URL, padded)).toBe(false);
	});

	it("rejects an empty auth token", async () => {
		await expect(
			verifyTwilioSignature({
				authToken: "",
				url: INBOUND_URL,
				params: inboundParams(),
				signature: SIGNATURES.inbound,
			}),
		).rejects.toThrow("Twilio auth token is empty");
	});
});

// Vectors from twilio-node's spec/validation.spec.js (commit 005ea9c), an
// implementation written independently of this one.
describe("twilio-node vectors", () => {
	const token = "12345";
	const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
	const callParams = () =>
		new URLSearchParams({
			CallSid: "CA1234567890ABCDE",
			Caller: "+14158675309",
			Digits: "1234",
			From: "+14158675309",
			To: "+18005551212",
		});
	const verify = (
		requestUrl: string,
		params: URLSearchParams,
		signature: string,
	) =>
		verifyTwilioSignature({
			authToken: token,
			url: requestUrl,
			params,
			signature,
		});

	it("computes the basic vector", async () => {
		expect(await computeTwilioSignature(token, url, callParams())).toBe(
			"RSOYDt4T1cUTdK1PDd93/VVr8B8=",
		);
	});

	it("accepts the port and quoting vectors", async () => {
		const withApostrophe = `${url}&Body=It's+amazing`;

		expect(
			await verify(url, callParams(), "kvajT1Ptam85bY51eRf/AJRuM3w="),
		).toBe(true);
		expect(
			await verify(
				withApostrophe,
				callParams(),
				"dsq4Ehbj6cs+KdTkpF5sSSplOWw=",
			),
		).toBe(true);
	});

	it("accepts the repeated-key vector", async () => {
		const params = new URLSearchParams(
			"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234",
		);

		expect(await verify(url, params, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")).toBe(
			true,
		);
	});

	// twilio-node keeps credentials in the signed URL and strips any port.
	// Twilio documents that SMS webhooks drop credentials and keep the port.
	it("differs on credentials and custom ports", async () => {
		const withCredentials =
			"https://user:pass@mycompany.com/myapp.php?foo=1&bar=2";
		const withCustomPort = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";

		expect(
			await verify(
				withCredentials,
				callParams(),
				"CukzLTc1tT5dXEDIHm/tKBanW10=",
			),
		).toBe(false);
		expect(
			await verify(
				withCredentials,
				callParams(),
				"RSOYDt4T1cUTdK1PDd93/VVr8B8=",
			),
		).toBe(true);
		expect(
			await verify(
				withCustomPort,
				callParams(),
				"RSOYDt4T1cUTdK1PDd93/VVr8B8=",
			),
		).toBe(false);
	});
});
