import type { ScheduledEvent } from "./callbacks";
import type { CreateRequest } from "./create";
import type { FaultConfig } from "./faults";
import { NO_FAULTS } from "./faults";
import type { ListFilters, ListQuery, ListRows } from "./list";
import type { MediaFetchRecord } from "./media-fetch";
import type { MessageResource } from "./resource";

/**
 * A create request the simulator accepted, as `GET /simulator/messages`
 * lists it. `media` describes each MediaUrl that was fetched, and stays
 * empty until the fetch is done.
 */
export interface AcceptedRequest extends CreateRequest {
	sid: string;
	receivedAt: string;
	media: MediaFetchRecord[];
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

/**
 * A Media resource of a message. The simulator stores the bytes of inbound
 * items given as base64 (`sourceUrl` null, `size` set). For other items it
 * stores only the URL the bytes came from.
 */
export interface MediaItem {
	sid: string;
	messageSid: string;
	position: number;
	contentType: string;
	sourceUrl: string | null;
	size: number | null;
	createdAt: string;
}

/** A media item to store. `base64` contains its bytes, or is null when only `sourceUrl` is known. */
export interface NewMediaItem {
	sid: string;
	contentType: string;
	sourceUrl: string | null;
	base64: string | null;
}

// A Durable Object's SQLite refuses values over 2 MB, so stored media is
// split into rows of at most 1 MiB.
const MEDIA_CHUNK_BYTES = 1024 * 1024;

// `sent_day` (UTC, YYYY-MM-DD) serves the DateSent filters. `events`
// contains pending status steps, callbacks and media fetches, and
// `message_sid` lets the alarm take each message's events in order. `not_ready_left` counts the
// authenticated media fetches still to be answered with 404.
//
// `schedule` and `media` are tables of earlier versions of this schema,
// replaced by `events` and `media_items`. Their rows are dropped.
const SCHEMA = `
DROP TABLE IF EXISTS schedule;
DROP TABLE IF EXISTS media;
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
CREATE TABLE IF NOT EXISTS media_items (
	sid TEXT PRIMARY KEY,
	message_sid TEXT NOT NULL,
	position INTEGER NOT NULL,
	content_type TEXT NOT NULL,
	source_url TEXT,
	size INTEGER,
	not_ready_left INTEGER NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS media_items_message
	ON media_items (message_sid, position);
CREATE TABLE IF NOT EXISTS media_chunks (
	media_sid TEXT NOT NULL,
	seq INTEGER NOT NULL,
	bytes BLOB NOT NULL,
	PRIMARY KEY (media_sid, seq)
);
CREATE TABLE IF NOT EXISTS media_fetches (
	message_sid TEXT NOT NULL,
	position INTEGER NOT NULL,
	record TEXT NOT NULL,
	PRIMARY KEY (message_sid, position)
);
CREATE TABLE IF NOT EXISTS events (
	id INTEGER PRIMARY KEY,
	message_sid TEXT NOT NULL,
	due_at INTEGER NOT NULL,
	event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_due ON events (due_at, id);
CREATE INDEX IF NOT EXISTS events_message ON events (message_sid, due_at, id);
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

const TABLES = [
	"messages",
	"media_items",
	"media_chunks",
	"media_fetches",
	"events",
	"callback_attempts",
	"faults",
];

type MessageRow = { seq: number; resource: string };

type MediaRow = {
	sid: string;
	message_sid: string;
	position: number;
	content_type: string;
	source_url: string | null;
	size: number | null;
	created_at: string;
};

const MEDIA_COLUMNS =
	"sid, message_sid, position, content_type, source_url, size, created_at";

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

	/** Returns the create request of an outbound message, or null. */
	request(sid: string): CreateRequest | null {
		const row = this.sql
			.exec<{ request: string | null }>(
				"SELECT request FROM messages WHERE sid = ?",
				sid,
			)
			.toArray()[0];
		return row?.request ? (JSON.parse(row.request) as CreateRequest) : null;
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

	/**
	 * Stores the media of a message, in order. Each of the first
	 * `notReadyCount` authenticated fetches of an item will get a 404.
	 */
	insertMedia(
		messageSid: string,
		items: NewMediaItem[],
		notReadyCount: number,
		createdAt: Date,
	): void {
		items.forEach((item, position) => {
			const bytes = item.base64 === null ? null : decodeBase64(item.base64);
			this.sql.exec(
				`INSERT INTO media_items (sid, message_sid, position, content_type,
					source_url, size, not_ready_left, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				item.sid,
				messageSid,
				position,
				item.contentType,
				item.sourceUrl,
				bytes?.byteLength ?? null,
				notReadyCount,
				createdAt.toISOString(),
			);
			if (bytes === null) return;
			for (let seq = 0; seq * MEDIA_CHUNK_BYTES < bytes.byteLength; seq++) {
				const start = seq * MEDIA_CHUNK_BYTES;
				this.sql.exec(
					"INSERT INTO media_chunks (media_sid, seq, bytes) VALUES (?, ?, ?)",
					item.sid,
					seq,
					bytes.slice(start, start + MEDIA_CHUNK_BYTES).buffer,
				);
			}
		});
	}

	mediaItem(sid: string): MediaItem | null {
		const row = this.sql
			.exec<MediaRow>(
				`SELECT ${MEDIA_COLUMNS} FROM media_items WHERE sid = ?`,
				sid,
			)
			.toArray()[0];
		return row ? mediaItemOf(row) : null;
	}

	mediaOf(messageSid: string): MediaItem[] {
		return this.sql
			.exec<MediaRow>(
				`SELECT ${MEDIA_COLUMNS} FROM media_items
				WHERE message_sid = ? ORDER BY position`,
				messageSid,
			)
			.toArray()
			.map(mediaItemOf);
	}

	/** Uses up one of the item's not-ready 404 responses. Returns false when none is left. */
	takeNotReady(sid: string): boolean {
		return (
			this.sql
				.exec(
					`UPDATE media_items SET not_ready_left = not_ready_left - 1
					WHERE sid = ? AND not_ready_left > 0 RETURNING sid`,
					sid,
				)
				.toArray().length > 0
		);
	}

	/** Returns the stored bytes of an item, or null when the simulator stores none. */
	mediaBytes(sid: string): Uint8Array | null {
		const item = this.mediaItem(sid);
		if (item?.size === null || item?.size === undefined) return null;
		const bytes = new Uint8Array(item.size);
		let offset = 0;
		for (const row of this.sql.exec<{ bytes: ArrayBuffer }>(
			"SELECT bytes FROM media_chunks WHERE media_sid = ? ORDER BY seq",
			sid,
		)) {
			bytes.set(new Uint8Array(row.bytes), offset);
			offset += row.bytes.byteLength;
		}
		return bytes;
	}

	/** Deletes an item and its bytes. Returns false when it did not exist. */
	deleteMedia(sid: string): boolean {
		this.sql.exec("DELETE FROM media_chunks WHERE media_sid = ?", sid);
		return (
			this.sql
				.exec("DELETE FROM media_items WHERE sid = ? RETURNING sid", sid)
				.toArray().length > 0
		);
	}

	insertMediaFetches(messageSid: string, records: MediaFetchRecord[]): void {
		records.forEach((record, position) => {
			this.sql.exec(
				"INSERT INTO media_fetches (message_sid, position, record) VALUES (?, ?, ?)",
				messageSid,
				position,
				JSON.stringify(record),
			);
		});
	}

	acceptedRequests(): AcceptedRequest[] {
		const fetches = new Map<string, MediaFetchRecord[]>();
		for (const row of this.sql.exec<{ message_sid: string; record: string }>(
			"SELECT message_sid, record FROM media_fetches ORDER BY message_sid, position",
		)) {
			const records = fetches.get(row.message_sid) ?? [];
			records.push(JSON.parse(row.record) as MediaFetchRecord);
			fetches.set(row.message_sid, records);
		}
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
				media: fetches.get(row.sid) ?? [],
			}));
	}

	schedule(events: ScheduledEvent[]): void {
		for (const event of events) {
			this.sql.exec(
				"INSERT INTO events (message_sid, due_at, event) VALUES (?, ?, ?)",
				event.messageSid,
				event.dueAt,
				JSON.stringify(event),
			);
		}
	}

	/**
	 * Returns, ordered by due time, the events due at `now` or before that
	 * are the earliest pending event of their message. An event still being
	 * sent stays pending, so the message's next event is not returned until
	 * it is removed.
	 */
	dueHeads(
		now: number,
		limit: number,
	): { id: number; event: ScheduledEvent }[] {
		return this.sql
			.exec<{ id: number; event: string }>(
				`SELECT id, event FROM events AS e
				WHERE due_at <= ? AND id = (
					SELECT id FROM events WHERE message_sid = e.message_sid
					ORDER BY due_at, id LIMIT 1
				)
				ORDER BY due_at, id LIMIT ?`,
				now,
				limit,
			)
			.toArray()
			.map((row) => ({
				id: row.id,
				event: JSON.parse(row.event) as ScheduledEvent,
			}));
	}

	nextDueAt(): number | null {
		return this.sql
			.exec<{ due_at: number | null }>(
				"SELECT MIN(due_at) AS due_at FROM events",
			)
			.one().due_at;
	}

	/** Returns the earliest due time later than `now`, or null. */
	nextDueAfter(now: number): number | null {
		return this.sql
			.exec<{ due_at: number | null }>(
				"SELECT MIN(due_at) AS due_at FROM events WHERE due_at > ?",
				now,
			)
			.one().due_at;
	}

	/** Deletes the event. Returns false when it was already deleted, as by a reset. */
	removeEvent(id: number): boolean {
		return (
			this.sql
				.exec("DELETE FROM events WHERE id = ? RETURNING id", id)
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

function mediaItemOf(row: MediaRow): MediaItem {
	return {
		sid: row.sid,
		messageSid: row.message_sid,
		position: row.position,
		contentType: row.content_type,
		sourceUrl: row.source_url,
		size: row.size,
		createdAt: row.created_at,
	};
}

function decodeBase64(text: string): Uint8Array {
	const binary = atob(text);
	const bytes = new Uint8Array(binary.length);
	for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
	return bytes;
}

function isoDay(date: Date): string {
	return date.toISOString().slice(0, 10);
}
