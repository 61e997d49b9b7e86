import { swaggerUI } from "@hono/swagger-ui";
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "./api/context";
import { deadLettersRouter } from "./api/dead-letters";
import { handleError } from "./api/errors";
import { mediaRouter } from "./api/media";
import { messagesRouter } from "./api/messages";
import { allowedMethods } from "./api/methods";
import { usersRouter } from "./api/users";
import { dashboardRouter } from "./dashboard/routes";
import { mediaServeRouter } from "./media/serve";
import { metricsRouter } from "./metrics/routes";
import { webhooksRouter } from "./webhooks/routes";

export const app = createRouter();

const DOCS_ASSETS_PATH = "docs/assets";
const DOCS_ASSET_FILES = new Set(["swagger-ui.css", "swagger-ui-bundle.js"]);

app.onError(handleError);
app.notFound((c) => {
	const allowed = allowedMethods(app.routes, c.req.path);
	// A handler that found nothing also ends here; that stays a 404.
	if (allowed.length > 0 && !allowed.includes(c.req.method)) {
		return c.json(
			{
				error: {
					code: "method_not_allowed",
					message: `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(", ")}.`,
				},
			},
			405,
			{ Allow: allowed.join(", ") },
		);
	}
	return c.json(
		{
			error: {
				code: "not_found",
				message: `No route for ${c.req.method} ${c.req.path}. See /docs for the API.`,
			},
		},
		404,
	);
});

app.openapi(
	createRoute({
		method: "get",
		path: "/healthz",
		tags: ["Service"],
		summary: "Liveness check",
		description: "Returns 200 without querying D1, the queues or Twilio.",
		responses: {
			200: {
				description: "The Worker is running",
				content: {
					"application/json": { schema: z.object({ ok: z.literal(true) }) },
				},
			},
		},
	}),
	(c) => c.json({ ok: true as const }, 200),
);

app.route("/", usersRouter);
app.route("/", messagesRouter);
app.route("/", deadLettersRouter);
app.route("/", mediaRouter);
app.route("/", mediaServeRouter);
app.route("/", webhooksRouter);
app.route("/", metricsRouter);
app.route("/", dashboardRouter);
registerWebhookPaths();
registerMediaPath();

app.openAPIRegistry.registerComponent("securitySchemes", "ApiKey", {
	type: "http",
	scheme: "bearer",
	description: "A client API key from POST /v1/users or /v1/users/{id}/keys",
});
app.openAPIRegistry.registerComponent("securitySchemes", "AdminToken", {
	type: "http",
	scheme: "bearer",
	description: "The ADMIN_TOKEN secret",
});
app.doc31("/openapi.json", {
	openapi: "3.1.0",
	info: {
		title: "Edge SMS",
		version: "0.1.0",
		description:
			"Send SMS and MMS through Twilio from any HTTPS client, and receive Twilio's webhooks.",
	},
});
app.get(
	"/docs",
	swaggerUI({ url: "/openapi.json", baseUrl: `/${DOCS_ASSETS_PATH}` }),
);
// Swagger UI's own CSS and JavaScript, from the swagger-ui-dist package.
app.get(`/${DOCS_ASSETS_PATH}/swagger-ui-dist/:file`, async (c) => {
	const file = c.req.param("file");
	if (!DOCS_ASSET_FILES.has(file)) return c.notFound();
	const response = await c.env.ASSETS.fetch(new URL(`/${file}`, c.req.url));
	const headers = new Headers(response.headers);
	headers.set("Cache-Control", "public, max-age=86400");
	return new Response(response.body, { status: response.status, headers });
});

/**
 * Describes the Twilio webhooks in the document. They are plain Hono routes,
 * because they read the raw form body to check its signature before parsing.
 */
function registerWebhookPaths() {
	const signature = z.object({
		"x-twilio-signature": z.string().openapi({
			description:
				"HMAC-SHA1 of PUBLIC_BASE_URL, the path, the query and the sorted form parameters, keyed with TWILIO_AUTH_TOKEN",
		}),
	});
	const rejected = {
		403: {
			description: "Missing or invalid X-Twilio-Signature; nothing is stored",
		},
		429: { description: "Too many webhook requests from this IP address" },
	};
	app.openAPIRegistry.registerPath({
		method: "post",
		path: "/twilio/status",
		tags: ["Twilio webhooks"],
		summary: "Receive a Twilio status callback",
		description:
			"Logs the status as a delivery event and moves the message forward only; a failed or undelivered status records a dead letter.",
		request: {
			headers: signature,
			query: z.object({
				messageId: z.string().optional(),
				generation: z.string().optional(),
			}),
			body: {
				content: {
					"application/x-www-form-urlencoded": {
						schema: z.object({
							MessageSid: z.string(),
							MessageStatus: z.string(),
							ErrorCode: z.string().optional(),
						}),
					},
				},
			},
		},
		responses: {
			200: { description: "Stored, or ignored as a repeat" },
			400: { description: "MessageSid or MessageStatus is missing" },
			...rejected,
		},
	});
	app.openAPIRegistry.registerPath({
		method: "post",
		path: "/twilio/incoming",
		tags: ["Twilio webhooks"],
		summary: "Receive an inbound SMS or MMS from Twilio",
		description:
			"Stores the message once per MessageSid and answers with an empty TwiML document, so Twilio sends no reply.",
		request: {
			headers: signature,
			body: {
				content: {
					"application/x-www-form-urlencoded": {
						schema: z.object({
							MessageSid: z.string(),
							From: z.string(),
							To: z.string(),
							Body: z.string().optional(),
							NumMedia: z.string().optional(),
						}),
					},
				},
			},
		},
		responses: {
			200: {
				description: "Stored; the body is <Response/>",
				content: { "text/xml": { schema: z.string() } },
			},
			400: { description: "MessageSid, From or To is missing" },
			...rejected,
		},
	});
}

/** Describes GET and HEAD /media/{id}, a plain Hono route for raw bytes. */
function registerMediaPath() {
	for (const method of ["get", "head"] as const) {
		app.openAPIRegistry.registerPath({
			method,
			path: "/media/{id}",
			tags: ["Media"],
			summary:
				method === "get"
					? "Download media by signed URL"
					: "Check media by signed URL",
			description:
				"Anyone with a URL signed by the service (HMAC-SHA256 over the id and expiry) may fetch the media until it expires; Twilio fetches MMS media this way. Answers are cacheable until `expires`.",
			request: {
				params: z.object({ id: z.string() }),
				query: z.object({
					expires: z.string().openapi({ description: "Unix time in seconds" }),
					signature: z.string().openapi({ description: "Hex HMAC-SHA256" }),
				}),
			},
			responses: {
				200: {
					description:
						"The bytes, with their Content-Type, Content-Length and ETag",
				},
				403: { description: "The signature is invalid or the URL expired" },
				404: { description: "No such media" },
				429: { description: "Too many downloads from this IP address" },
			},
		});
	}
}
