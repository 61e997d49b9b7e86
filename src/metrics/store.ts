import { DurableObject } from "cloudflare:workers";
import type { MetricSample } from "./record";

/**
 * The counters and histograms of the whole deployment, in one SQLite-backed
 * object, so they survive isolates, restarts and deploys. Workers send at
 * most one `add` per request or queue batch that recorded anything, and
 * none for the rest.
 *
 * NOTE: one object serialises every call, which holds up to roughly a
 * thousand calls a second. Past that, spread `add` over N objects picked at
 * random and sum their snapshots at scrape time.
 */
export class MetricsStore extends DurableObject<Env> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.storage.sql.exec(
			`create table if not exists samples (
				name text not null,
				labels text not null,
				le text not null,
				value real not null,
				primary key (name, labels, le)
			)`,
		);
	}

	/** Adds each sample's value to its stored total. */
	add(samples: MetricSample[]): void {
		for (const sample of samples) {
			this.ctx.storage.sql.exec(
				`insert into samples (name, labels, le, value) values (?, ?, ?, ?)
				on conflict (name, labels, le) do update set value = value + excluded.value`,
				sample.name,
				sample.labels,
				sample.le,
				sample.value,
			);
		}
	}

	/** Returns every stored total. */
	snapshot(): MetricSample[] {
		return this.ctx.storage.sql
			.exec<{ name: string; labels: string; le: string; value: number }>(
				"select name, labels, le, value from samples order by name, labels",
			)
			.toArray()
			.map((row) => ({ ...row }));
	}
}
