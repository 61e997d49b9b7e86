import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../api/auth";
import { createRouter } from "../api/context";
import { errorResponses } from "../api/schemas";
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from "./exposition";
import { readGauges } from "./gauges";
import { flushMetrics, metricsStore } from "./record";

export const metricsRouter = createRouter();

metricsRouter.openapi(
	createRoute({
		method: "get",
		path: "/metrics",
		tags: ["Admin"],
		summary: "Read the service's metrics in Prometheus text format",
		description:
			"Counters and histograms of the whole deployment, kept in one Durable Object, and gauges counted in D1 at scrape time. Point a Prometheus scrape job at this path with the admin token as its bearer token.",
		security: [{ AdminToken: [] }],
		middleware: [requireAdmin] as const,
		responses: {
			200: {
				description: "Prometheus text exposition format, version 0.0.4",
				content: { "text/plain": { schema: z.string() } },
			},
			...errorResponses(401, 403, 429),
		},
	}),
	async (c) => {
		// This isolate's own buffered samples go first, so they are included.
		await flushMetrics(c.env);
		const [stored, gauges] = await Promise.all([
			metricsStore(c.env).snapshot(),
			readGauges(c.env),
		]);
		return c.text(renderMetrics([...gauges, ...stored]), 200, {
			"Content-Type": PROMETHEUS_CONTENT_TYPE,
			"Cache-Control": "no-store",
		});
	},
);
