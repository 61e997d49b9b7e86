import { Hono } from "hono";
import { z } from "zod";
import type { SimulatorEnv } from "./env";
import { ControlError, parseOrThrow } from "./errors";
import { FaultConfigSchema } from "./faults";
import { deliverInbound, InboundRequestSchema } from "./inbound";
import { MAX_MMS_MEDIA_BYTES } from "./media-fetch";
import { callState } from "./state-client";

/**
 * Simulator-only routes, which Twilio does not have. They let a developer or
 * a test inspect what the simulator received and sent, inject faults and
 * inbound messages, and reset the state. They require no credentials, so the
 * simulator must not be deployed where others can reach it.
 */
export const control = new Hono<{ Bindings: SimulatorEnv }>();

control.get("/simulator/messages", async (c) => {
	return c.json({ data: await callState(c.env, "acceptedRequests") });
});

/** Deletes messages, media, pending and recorded callbacks, and fault settings. */
control.delete("/simulator/messages", async (c) => {
	await callState(c.env, "reset");
	return c.body(null, 204);
});

control.get("/simulator/callbacks", async (c) => {
	return c.json({ data: await callState(c.env, "callbackAttempts") });
});

control.get("/simulator/faults", async (c) => {
	return c.json(await callState(c.env, "faults"));
});

control.put("/simulator/faults", async (c) => {
	const config = parseOrThrow(FaultConfigSchema, await jsonBody(c.req.raw));
	return c.json(await callState(c.env, "setFaults", config));
});

/** Responds with 200 and the service's response, or 502 when the service could not be reached. */
control.post("/simulator/inbound", async (c) => {
	const input = parseOrThrow(InboundRequestSchema, await jsonBody(c.req.raw));
	const result = await deliverInbound(c.env, input);
	return c.json(result, result.response.status === null ? 502 : 200);
});

const MediaFixtureSchema = z.strictObject({
	status: z.coerce.number().int().min(200).max(599).default(200),
	contentType: z.string().min(1).optional(),
	// Up to 1 MB over the MMS limit, so that a test can exceed it.
	size: z.coerce
		.number()
		.int()
		.min(0)
		.max(MAX_MMS_MEDIA_BYTES + 1024 * 1024)
		.default(1024),
	location: z.url().optional(),
});

/**
 * GET and HEAD: `size` bytes (default 1024) with `status` (default 200),
 * `contentType` as the Content-Type (none when not given) and `location` as
 * the Location. Sent as a MediaUrl, it shows how a message fails when its
 * media is missing, untyped or too large, and that redirects are followed.
 */
control.get("/simulator/media-fixture", (c) => {
	const { status, contentType, size, location } = parseOrThrow(
		MediaFixtureSchema,
		c.req.query(),
	);
	const bytes = new Uint8Array(size).map((_, index) => index % 251);
	const headers = new Headers();
	if (contentType !== undefined) headers.set("Content-Type", contentType);
	if (location !== undefined) headers.set("Location", location);
	return new Response(bytes, { status, headers });
});

async function jsonBody(request: Request): Promise<unknown> {
	try {
		return await request.json();
	} catch {
		throw new ControlError(
			400,
			"invalid_json",
			"The request body is not valid JSON; send a JSON object.",
		);
	}
}
