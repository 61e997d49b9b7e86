import { validate } from "@readme/openapi-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/app";
import { request } from "./helpers";

type Operation = { summary?: string; description?: string };
type OpenApiDocument = {
	openapi: string;
	paths: Record<string, Record<string, Operation>>;
};

/** The routes of the HTTP contract, in its own order, as OpenAPI paths. */
const CONTRACT_ROUTES = [
	"POST /v1/users",
	"PATCH /v1/users/{id}",
	"POST /v1/users/{id}/keys",
	"DELETE /v1/keys/{id}",
	"POST /v1/messages",
	"GET /v1/messages",
	"GET /v1/messages/{id}",
	"POST /v1/media",
	"GET /media/{id}",
	"GET /v1/dead-letters",
	"POST /v1/dead-letters/{id}/replay",
	"POST /twilio/status",
	"POST /twilio/incoming",
	"GET /healthz",
	"GET /metrics",
];

/** Routes that serve the document or a page for people, not the API. */
const UNDOCUMENTED_ROUTES = new Set([
	"GET /openapi.json",
	"GET /docs",
	"GET /docs/assets/swagger-ui-dist/{file}",
	"GET /",
]);

/** Converts a Hono path such as `/v1/users/:id{[a-z]+}` to `/v1/users/{id}`. */
function openApiPath(honoPath: string): string {
	return honoPath.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");
}

/** Lists every method and path the app serves, leaving out middleware (ALL). */
function appRoutes(): Set<string> {
	const routes = new Set<string>();
	for (const route of app.routes) {
		if (route.method === "ALL") continue;
		routes.add(`${route.method} ${openApiPath(route.path)}`);
	}
	return routes;
}

function operation(document: OpenApiDocument, route: string) {
	const [method = "", path = ""] = route.split(" ");
	return document.paths[path]?.[method.toLowerCase()];
}

let document: OpenApiDocument;

beforeAll(async () => {
	const res = await request("GET", "/openapi.json");
	expect(res.status).toBe(200);
	document = (await res.json()) as OpenApiDocument;
});

describe("openapi document", () => {
	it("is valid OpenAPI 3.x", async () => {
		expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
		// The parser dereferences in place, so it gets a copy.
		const result = await validate(structuredClone(document) as never);
		const errors = result.valid ? [] : result.errors.map((e) => e.message);
		expect(errors).toEqual([]);
		expect(result.valid).toBe(true);
	});

	it("describes every route of the app", () => {
		const undescribed = [...appRoutes()]
			.filter((route) => !UNDOCUMENTED_ROUTES.has(route))
			.filter((route) => {
				const found = operation(document, route);
				return !found?.summary?.trim() && !found?.description?.trim();
			});
		expect(undescribed).toEqual([]);
	});

	it("lists no operation the app does not serve", () => {
		const served = appRoutes();
		const documented = Object.entries(document.paths).flatMap(
			([path, methods]) =>
				Object.keys(methods)
					.filter((key) => key !== "parameters")
					.map((method) => `${method.toUpperCase()} ${path}`),
		);
		expect(documented.filter((route) => !served.has(route))).toEqual([]);
	});
});

describe("contract routes in the document", () => {
	const served = appRoutes();
	for (const route of CONTRACT_ROUTES) {
		if (!served.has(route)) {
			it.todo(`${route} (not served by the app yet)`);
			continue;
		}
		it(`describes ${route}`, () => {
			const found = operation(document, route);
			expect(found, `${route} is missing from /openapi.json`).toBeDefined();
			expect(found?.summary ?? found?.description).toBeTruthy();
		});
	}
});
