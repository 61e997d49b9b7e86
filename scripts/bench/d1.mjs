// D1 work per message, measured on the benchmark's local database after the
// service has stopped: the rows one user's messages left behind, and the
// rows read and written by each statement on a message's path, as D1
// reports them in `meta` (what D1 bills). The service does not expose
// `meta`, so the second part runs SQL equivalent to each statement that
// drizzle builds in the code named beside it, on a spare copy of a
// delivered message. `wrangler d1 execute --local` drops `meta` from its
// output, so this opens the database with Miniflare, as that command does.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";

/** Reads the D1 database id from wrangler.toml; it names the local SQLite file. */
function databaseId() {
	const match = /^database_id\s*=\s*"([^"]+)"/m.exec(
		readFileSync("wrangler.toml", "utf8"),
	);
	if (!match) throw new Error("wrangler.toml has no D1 database_id.");
	return match[1];
}

/**
 * Opens the service's local D1 database under `persistDir` (the directory
 * given to `wrangler dev --persist-to`). Call dispose() when done.
 */
export async function openD1(persistDir) {
	const mf = new Miniflare({
		modules: true,
		script: "",
		// No download of a sample `request.cf` object.
		cf: false,
		d1Persist: join(persistDir, "v3", "d1"),
		d1Databases: { DB: databaseId() },
	});
	const db = await mf.getD1Database("DB");
	return {
		/** Runs the statements in one batch; returns {results, meta} for each. */
		batch: (statements) => db.batch(statements.map((sql) => db.prepare(sql))),
		dispose: () => mf.dispose(),
	};
}

/**
 * Counts the rows that the user's messages left: messages, their events by
 * status and source, and dead letters.
 */
export async function userRows(db, userId) {
	const user = quote(userId);
	const [messages, events, deadLetters] = await db.batch([
		`select count(*) as n from messages where user_id = ${user}`,
		`select e.status, e.source, count(*) as n from message_events e
			join messages m on m.id = e.message_id
			where m.user_id = ${user}
			group by e.status, e.source order by min(e.id)`,
		`select count(*) as n from dead_letters where user_id = ${user}`,
	]);
	return {
		messages: messages.results[0].n,
		events: events.results,
		deadLetters: deadLetters.results[0].n,
	};
}

function quote(value) {
	if (value === null || value === undefined) return "null";
	if (typeof value === "number") return String(value);
	return `'${String(value).replaceAll("'", "''")}'`;
}

/**
 * Runs the statements of one message's path, in order, on a fresh copy of
 * `template` (a delivered message of the user), and returns each step with
 * rows read and written. Each step's name gives the file that builds it.
 */
export async function measureStatementRows(db, { apiKey, userId }) {
	const [{ results }] = await db.batch([
		`select * from messages where user_id = ${quote(userId)} and status = 'delivered' limit 1`,
	]);
	const template = results[0];
	if (!template) throw new Error("No delivered message to copy.");

	const now = Date.now();
	const id = `msg_bench_replay_${now}`;
	const sid = `SMbenchreplay${now}`;
	const keyHash = createHash("sha256").update(apiKey).digest("hex");
	const row = {
		...template,
		id,
		status: "queued",
		twilio_sid: null,
		claimed_at: null,
		ambiguous_at: null,
		generation: 0,
		created_at: now,
		updated_at: now,
	};
	const columns = Object.keys(row);

	const earlierThanSent = "('queued', 'sending')";
	const earlierThanDelivered = "('queued', 'sending', 'sent')";
	const callback = (status, earlier) => [
		[
			`status callback: find the message (src/webhooks/status.ts)`,
			`select * from messages where id = ${quote(id)} limit 1`,
		],
		[
			`status callback: insert the '${status}' event`,
			`insert into message_events (message_id, status, source, error_code, error_message, dedupe_key, at)
				values (${quote(id)}, '${status}', 'twilio', null, null, ${quote(`${sid}:${status}::`)}, ${now})
				on conflict do nothing`,
		],
		[
			`status callback: move the status forward`,
			`update messages set status = '${status}', twilio_sid = coalesce(twilio_sid, ${quote(sid)}),
				claimed_at = null, updated_at = ${now}
				where (id = ${quote(id)} and 1 and status in ${earlier})`,
		],
		[
			`status callback: dead letter only after a failure (src/dead-letters/store.ts)`,
			`insert into dead_letters (id, message_id, user_id, generation, payload, status, error_code, error, twilio_sid, retry_count, failed_at)
				select 'dlq_bench_replay', ${quote(id)}, ${quote(userId)}, 0, '{}', 'failed', null, '', ${quote(sid)}, 0, ${now}
				where 0 and changes() > 0 on conflict do nothing`,
		],
	];

	const steps = [
		[
			"accept: find the user by API key (src/api/auth.ts)",
			`select users.* from api_keys inner join users on users.id = api_keys.user_id
				where (api_keys.key_hash = ${quote(keyHash)} and api_keys.revoked_at is null) limit 1`,
		],
		[
			"accept: opt-out check (src/opt-outs/store.ts)",
			`select phone from opt_outs where (phone = ${quote(row.to)} and sender = ${quote(row.from)}) limit 1`,
		],
		[
			"accept: insert the message (src/messages/send.ts)",
			`insert into messages (${columns.map((name) => `"${name}"`).join(", ")})
				values (${columns.map((name) => quote(row[name])).join(", ")})`,
		],
		[
			"accept: insert the 'queued' event",
			`insert into message_events (message_id, status, source, error_code, error_message, dedupe_key, at)
				values (${quote(id)}, 'queued', 'api', null, null, null, ${now})`,
		],
		[
			"consumer: claim the message (src/queue/outbound-consumer.ts)",
			`update messages set claimed_at = ${now}
				where (id = ${quote(id)} and status = 'queued' and twilio_sid is null
					and (claimed_at is null or claimed_at < ${now - 60_000}))
				returning *`,
		],
		[
			"consumer: record Twilio's SID",
			`update messages set twilio_sid = ${quote(sid)}, claimed_at = null, ambiguous_at = null, updated_at = ${now}
				where id = ${quote(id)}`,
		],
		...callback("sent", earlierThanSent),
		...callback("delivered", earlierThanDelivered),
	];

	const measured = await db.batch(steps.map(([, sql]) => sql));
	return steps.map(([step], index) => ({
		step,
		rowsRead: measured[index].meta.rows_read,
		rowsWritten: measured[index].meta.rows_written,
	}));
}
