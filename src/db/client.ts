import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = ReturnType<typeof openDatabase>;

export function openDatabase(d1: D1Database) {
	return drizzle(d1, { schema });
}

/** True when `error`, or any error in its `cause` chain, is a D1 UNIQUE violation. */
export function isUniqueViolation(error: unknown): boolean {
	let current: unknown = error;
	for (let depth = 0; current instanceof Error && depth < 5; depth++) {
		if (/UNIQUE constraint failed/i.test(current.message)) return true;
		current = current.cause;
	}
	return false;
}

/** Converts a drizzle query to a D1 statement, to batch it with raw SQL. */
export function toStatement(
	db: Database,
	query: { toSQL(): { sql: string; params: unknown[] } },
): D1PreparedStatement {
	const { sql, params } = query.toSQL();
	return db.$client.prepare(sql).bind(...params);
}
