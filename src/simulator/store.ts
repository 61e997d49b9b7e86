import type { ScheduledEvent } from "./callbacks";
import type { CreateRequest } from "./create";
import type { FaultConfig } from "./faults";
import { NO_FAULTS } from "./faults";
import type { ListFilters, ListQuery, ListRows } from "./list";
import type { MessageResource } from "./resource";

/** A create request the simulator accepted, as `GET /simulator/messages` lists it. */
export interface AcceptedRequest extends CreateRequest {
	sid: string;
	receivedAt: string;
}

/** One status callback request the simulator made, and what came back. */
export interface CallbackAttempt {
	messageSid: string;
	url: string;
	params: Record<string, string>;
	signature: string;
	responseStatus: number | null;
	error: string | null;
	sentAt: string;
}

/** An inbound media item: its ME sid and where its bytes are. */
export interface InboundMedia {
	sid: string;
	url: string;
	contentType: string;
}

// `sent_day` (UTC, YYYY-MM-DD) serves the DateSent filters. `media` maps
// each inbound ME sid to the URL it came with, so that a media route can
// later serve the bytes behind Basic auth as Twilio does.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
	seq INTEGER PRIMARY KEY,
	sid TEXT NOT NULL UNIQUE,
	to_address TEXT NOT NULL,
	from_address TEXT,
	sent_day TEXT,
	resource TEXT NOT NULL,
	request TEXT,
	received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS media (
	sid TEXT PRIMARY KEY,
	message_sid TEXT NOT NULL,
	position INTEGER NOT NULL,
	url TEXT NOT NULL,
	content_type TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule (
	id INTEGER PRIMARY KEY,
	due_at INTEGER NOT NULL,
	event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS schedule_due ON schedule (due_at, id);
CREATE TABLE IF NOT EXISTS callback_attempts (
	id INTEGER PRIMARY KEY,
	message_sid TEXT NOT NULL,
	url TEXT NOT NULL,
	params TEXT NOT NULL,
	signature TEXT NOT NULL,
	response_status INTEGER,
	error TEXT,
	sent_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	config TEXT NOT NULL,
	random_state INTEGER NOT NULL,
	decisions INTEGER NOT NULL
);`;

const TABLES = ["messages", "media", "schedule", "callback_attempts", "faults"];

type MessageRow = { seq: number; resource: string };

/** Tables of the simulator's state and the queries on them. */
export class SimulatorStore {
	constructor(private readonly sql: SqlStorage) {
		sql.exec(SCHEMA);
	}

	insertMessage(
		resource: MessageResource,
		receivedAt: Date,
		request: CreateRequest | null,
	): void {
		this.sql.exec(
			`INSERT INTO messages
				(sid, to_address, from_address, sent_day, resource, request, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			resource.sid,
			resource.to,
			resource.from,
			resource.date_sent === null ? null : isoDay(receivedAt),
			JSON.stringify(resource),
			request === null ? null : JSON.stringify(request),
			receivedAt.toISOString(),
		);
	}

	/** Stores a changed resource. `sent_day` is set once, when the message is first sent. */
	updateMessage(resource: MessageResource, now: Date): void {
		this.sql.exec(
			`UPDATE messages SET resource = ?, from_address = ?,
				sent_day = COALESCE(sent_day, ?) WHERE sid = ?`,
			JSON.stringify(resource),
			resource.from,
			resource.date_sent === null ? null : isoDay(now),
			resource.sid,
		);
	}

	message(sid: string): MessageResource | null {
		const row = this.sql
			.exec<{ resource: string }>(
				"SELECT resource FROM messages WHERE sid = ?",
				sid,
			)
			.toArray()[0];
		return row ? (JSON.parse(row.resource) as MessageResource) : null;
	}

	/** Returns one page, newest first. A page token with an unknown sid returns an empty page. */
	listMessages({ filters, cursor, pageSize }: ListQuery): ListRows {
		const { conditions, bindings } = filterConditions(filters);
		const where = (...extra: string[]) =>
			[...conditions, ...extra].join(" AND ") || "1";
		const seqOf = "(SELECT seq FROM messages WHERE sid = ?)";

		let rows: MessageRow[];
		if (cursor.kind === "offset") {
			rows = this.sql
				.exec<MessageRow>(
					`SELECT seq, resource FROM messages WHERE ${where()}
					ORDER BY seq DESC LIMIT ? OFFSET ?`,
					...bindings,
					pageSize,
					cursor.offset,
				)
				.toArray();
		} else if (cursor.kind === "after") {
			rows = this.sql
				.exec<MessageRow>(
					`SELECT seq, resource FROM messages WHERE ${where(`seq < ${seqOf}`)}
					ORDER BY seq DESC LIMIT ?`,
					...bindings,
					cursor.sid,
					pageSize,
				)
				.toArray();
		} else {
			rows = this.sql
				.exec<MessageRow>(
					`SELECT seq, resource FROM messages WHERE ${where(`seq > ${seqOf}`)}
					ORDER BY seq ASC LIMIT ?`,
					...bindings,
					cursor.sid,
					pageSize,
				)
				.toArray()
				.reverse();
		}

		const last = rows.at(-1);
		const hasNext =
			last !== undefined &&
			this.sql
				.exec(
					`SELECT 1 FROM messages WHERE ${where("seq < ?")} LIMIT 1`,
					...bindings,
					last.seq,
				)
				.toArray().length > 0;
		return {
			messages: rows.map((row) => JSON.parse(row.resource) as MessageResource),
			hasNext,
		};
	}

	insertMedia(messageSid: string, media: InboundMedia[]): void {
		media.forEach((item, position) => {
			this.sql.exec(
				`INSERT INTO media (sid, message_sid, position, url, content_type)
				VALUES (?, ?, ?, ?, ?)`,
				item.sid,
				messageSid,
				position,
				item.url,
				item.contentType,
			);
		});
	}

	acceptedRequests(): AcceptedRequest[] {
		return this.sql
			.exec<{ sid: string; request: string; received_at: string }>(
				`SELECT sid, request, received_at FROM messages
				WHERE request IS NOT NULL ORDER BY seq`,
			)
			.toArray()
			.map((row) => ({
				sid: row.sid,
				receivedAt: row.received_at,
				...(JSON.parse(row.request) as CreateRequest),
			}));
	}

	schedule(events: ScheduledEvent[]): void {
		for (const event of events) {
			this.sql.exec(
				"INSERT INTO schedule (due_at, event) VALUES (?, ?)",
				event.dueAt,
				JSON.stringify(event),
			);
		}
	}

	/** Returns the earliest event due at `now` or before. */
	dueEvent(now: number): { id: number; event: ScheduledEvent } | null {
		const row = this.sql
			.exec<{ id: number; event: string }>(
				`SELECT id, event FROM schedule WHERE due_at <= ?
				ORDER BY due_at, id LIMIT 1`,
				now,
			)
			.toArray()[0];
		return row
			? { id: row.id, event: JSON.parse(row.event) as ScheduledEvent }
			: null;
	}

	nextDueAt(): number | null {
		return this.sql
			.exec<{ due_at: number | null }>(
				"SELECT MIN(due_at) AS due_at FROM schedule",
			)
			.one().due_at;
	}

	/** Deletes the event. Returns false when it was already deleted, as by a reset. */
	removeEvent(id: number): boolean {
		return (
			this.sql
				.exec("DELETE FROM schedule WHERE id = ? RETURNING id", id)
				.toArray().length > 0
		);
	}

	insertCallbackAttempt(attempt: CallbackAttempt): void {
		this.sql.exec(
			`INSERT INTO callback_attempts
				(message_sid, url, params, signature, response_status, error, sent_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			attempt.messageSid,
			attempt.url,
			JSON.stringify(attempt.params),
			attempt.signature,
			attempt.responseStatus,
			attempt.error,
			attempt.sentAt,
		);
	}

	callbackAttempts(): CallbackAttempt[] {
		type Row = {
			message_sid: string;
			url: string;
			params: string;
			signature: string;
			response_status: number | null;
			error: string | null;
			sent_at: string;
		};
		return this.sql
			.exec<Row>("SELECT * FROM callback_attempts ORDER BY id")
			.toArray()
			.map((row) => ({
				messageSid: row.message_sid,
				url: row.url,
				params: JSON.parse(row.params) as Record<string, string>,
				signature: row.signature,
				responseStatus: row.response_status,
				error: row.error,
				sentAt: row.sent_at,
			}));
	}

	/** Returns the fault settings and the generator's state. No faults apply until they are set. */
	faults(): { config: FaultConfig; randomState: number; decisions: number } {
		const row = this.sql
			.exec<{ config: string; random_state: number; decisions: number }>(
				"SELECT config, random_state, decisions FROM faults WHERE id = 1",
			)
			.toArray()[0];
		if (!row) {
			return { config: NO_FAULTS, randomState: NO_FAULTS.seed, decisions: 0 };
		}
		return {
			config: JSON.parse(row.config) as FaultConfig,
			randomState: row.random_state,
			decisions: row.decisions,
		};
	}

	saveFaults(
		config: FaultConfig,
		randomState: number,
		decisions: number,
	): void {
		this.sql.exec(
			`INSERT INTO faults (id, config, random_state, decisions) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET config = excluded.config,
				random_state = excluded.random_state, decisions = excluded.decisions`,
			JSON.stringify(config),
			randomState,
			decisions,
		);
	}

	clear(): void {
		for (const table of TABLES) {
			this.sql.exec(`DELETE FROM ${table}`);
		}
	}
}

function filterConditions(filters: ListFilters) {
	const conditions: string[] = [];
	const bindings: string[] = [];
	const add = (condition: string, value: string | null) => {
		if (value === null) return;
		conditions.push(condition);
		bindings.push(value);
	};
	add("to_address = ?", filters.to);
	add("from_address = ?", filters.from);
	add("sent_day = ?", filters.sentOn);
	add("sent_day <= ?", filters.sentOnOrBefore);
	add("sent_day >= ?", filters.sentOnOrAfter);
	return { conditions, bindings };
}

function isoDay(date: Date): string {
	return date.toISOString().slice(0, 10);
}
