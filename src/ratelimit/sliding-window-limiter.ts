import { DurableObject } from "cloudflare:workers";
import {
	countRequest,
	type WindowResult,
	type WindowRule,
} from "./sliding-window";

const WINDOW_KEY = "windowMs";

/**
 * The sliding-window log of one client IP address in one scope. Each admitted
 * request is a row in SQLite storage, mirrored in memory in ascending order.
 * `count` finishes its update before its only await, so calls never see a
 * half-done update. An alarm deletes the storage once every request has left
 * the window, so addresses seen once do not keep storage forever.
 */
export class SlidingWindowLimiter extends DurableObject<Env> {
	#hits: number[] = [];
	#hasTable = false;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		const tables = ctx.storage.sql
			.exec(
				"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hits'",
			)
			.toArray();
		if (tables.length > 0) {
			this.#hasTable = true;
			this.#hits = ctx.storage.sql
				.exec<{ at: number }>("SELECT at FROM hits ORDER BY at")
				.toArray()
				.map((row) => row.at);
		}
	}

	/** Counts one request and reports whether it is admitted. */
	async count(rule: WindowRule): Promise<WindowResult> {
		const sql = this.ctx.storage.sql;
		const wasIdle = this.#hits.length === 0;
		const update = countRequest(this.#hits, Date.now(), rule);
		const recorded = update.hits.at(-1);

		if (update.expired > 0) {
			const oldest = update.hits[0] ?? Number.POSITIVE_INFINITY;
			sql.exec("DELETE FROM hits WHERE at < ?", oldest);
		}
		if (update.result.allowed && recorded !== undefined) {
			this.#createTable();
			sql.exec("INSERT INTO hits (at) VALUES (?)", recorded);
			if (this.ctx.storage.kv.get(WINDOW_KEY) !== rule.windowMs) {
				this.ctx.storage.kv.put(WINDOW_KEY, rule.windowMs);
			}
		}
		this.#hits = update.hits;

		// The update is complete here. The alarm only schedules the cleanup.
		if (wasIdle && update.result.allowed && recorded !== undefined) {
			await this.ctx.storage.setAlarm(recorded + rule.windowMs);
		}
		return update.result;
	}

	override async alarm(): Promise<void> {
		const windowMs = this.ctx.storage.kv.get<number>(WINDOW_KEY);
		const newest = this.#hits.at(-1);
		if (windowMs === undefined || newest === undefined) {
			await this.#clear();
			return;
		}
		if (newest <= Date.now() - windowMs) {
			await this.#clear();
			return;
		}
		await this.ctx.storage.setAlarm(newest + windowMs);
	}

	#createTable(): void {
		if (this.#hasTable) return;
		this.ctx.storage.sql.exec(
			"CREATE TABLE IF NOT EXISTS hits (at INTEGER NOT NULL)",
		);
		this.ctx.storage.sql.exec(
			"CREATE INDEX IF NOT EXISTS hits_at ON hits (at)",
		);
		this.#hasTable = true;
	}

	async #clear(): Promise<void> {
		this.#hits = [];
		this.#hasTable = false;
		await this.ctx.storage.deleteAll();
	}
}
