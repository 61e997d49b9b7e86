import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { log } from "../lib/log";
import { requireAccountCredentials } from "./auth";
import { parseCreateRequest } from "./create";
import type { SimulatorEnv } from "./env";
import { TwilioApiError, twilioErrorBody } from "./errors";
import { listPage, parseListQuery } from "./list";
import { mediaApi } from "./media";
import { callState } from "./state-client";

type ApiEnv = { Bindings: SimulatorEnv };

const ACCOUNT = "/2010-04-01/Accounts/:accountSid";

/**
 * Routes of Twilio's Messages API (2010-04-01): create, fetch and list, and
 * the Media routes of media.ts, with Twilio's JSON bodies. Every response,
 * errors included, is delayed by the fault setting `latencyMs` after the
 * work is done. A client with a shorter timeout therefore gets no
 * confirmation for a message that was created.
 */
export const api = new Hono<ApiEnv>();

const delayResponse = createMiddleware<ApiEnv>(async (c, next) => {
	await next();
	const { latencyMs } = await callState(c.env, "faults");
	if (latencyMs > 0) {
		log.info("simulator.latency_injected", { latencyMs });
		await sleep(latencyMs);
	}
});

api.use(`${ACCOUNT}/*`, delayResponse, requireAccountCredentials);
api.route("/", mediaApi);

api.post(`${ACCOUNT}/Messages.json`, async (c) => {
	// Decoded by hand: workerd warns when text() reads a form-encoded body.
	const body = new TextDecoder().decode(await c.req.arrayBuffer());
	const form = new URLSearchParams(body);
	const request = parseCreateRequest(form);
	const outcome = await callState(c.env, "create", { request });

	if (outcome.kind === "created") {
		return outcome.respondWith500
			? c.json(twilioErrorBody(20500, "Internal Server Error", 500), 500)
			: c.json(outcome.resource, 201);
	}
	switch (outcome.outcome) {
		case "429":
			throw new TwilioApiError(429, 20429, "Too Many Requests");
		case "500":
			throw new TwilioApiError(500, 20500, "Internal Server Error");
		case "timeout":
			// Models a gateway timeout in front of the API, so the body is HTML
			// rather than Twilio's JSON.
			await sleep(outcome.timeoutMs);
			return c.html(
				"<html><body><h1>504 Gateway Time-out</h1></body></html>",
				504,
			);
	}
});

api.get(`${ACCOUNT}/Messages.json`, async (c) => {
	const query = new URL(c.req.url).searchParams;
	const parsed = parseListQuery(query);
	const rows = await callState(c.env, "listMessages", parsed);
	return c.json(listPage(c.req.param("accountSid"), query, parsed, rows));
});

api.get(`${ACCOUNT}/Messages/:file{[A-Za-z0-9]+\\.json}`, async (c) => {
	const sid = c.req.param("file").slice(0, -".json".length);
	const message = await callState(c.env, "fetchMessage", { sid });
	if (!message) {
		throw new TwilioApiError(
			404,
			20404,
			`The requested resource ${c.req.path} was not found`,
		);
	}
	return c.json(message);
});

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
