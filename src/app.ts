import { swaggerUI } from "@hono/swagger-ui";
import { createRouter } from "./api/context";
import { deadLettersRouter } from "./api/dead-letters";
import { handleError } from "./api/errors";
import { messagesRouter } from "./api/messages";
import { usersRouter } from "./api/users";
import { webhooksRouter } from "./webhooks/routes";

export const app = createRouter();

app.onError(handleError);
app.notFound((c) =>
	c.json(
		{
			error: {
				code: "not_found",
				message: `No route for ${c.req.method} ${c.req.path}. See /docs for the API.`,
			},
		},
		404,
	),
);

app.get("/healthz", (c) => c.json({ ok: true }));

app.route("/", usersRouter);
app.route("/", messagesRouter);
app.route("/", deadLettersRouter);
app.route("/", webhooksRouter);

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
app.get("/docs", swaggerUI({ url: "/openapi.json" }));
