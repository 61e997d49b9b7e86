// Each route makes exactly one call to one local primitive, so its
// throughput under load is that primitive's local ceiling, next to /noop.

import { DurableObject } from "cloudflare:workers";

/** Counts calls in SQLite storage and stores the count before it responds, as the rate limiters do. */
export class Counter extends DurableObject {
	increment() {
		const next = (this.ctx.storage.kv.get("count") ?? 0) + 1;
		this.ctx.storage.kv.put("count", next);
		return next;
	}
}

let tableReady;

const routes = {
	"/noop": async () => {},
	"/d1-read": (env) => env.DB.prepare("select 1 as one").first(),
	"/d1-write": async (env) => {
		tableReady ??= env.DB.exec(
			"create table if not exists hits (id integer primary key, at integer)",
		);
		await tableReady;
		await env.DB.prepare("insert into hits (at) values (?)")
			.bind(Date.now())
			.run();
	},
	"/durable-object": (env) => env.COUNTER.getByName("probe").increment(),
	"/queue-send": (env) => env.QUEUE.send({ at: Date.now() }),
	// One JSON log line, as src/lib/log.ts writes for each step of a message.
	"/log": async () => {
		console.log(
			JSON.stringify({ level: "info", event: "probe", at: Date.now() }),
		);
	},
};

export default {
	async fetch(request, env) {
		const route = routes[new URL(request.url).pathname];
		if (!route) return new Response("not found", { status: 404 });
		await route(env);
		return new Response("ok");
	},

	async queue(batch) {
		batch.ackAll();
	},
};
