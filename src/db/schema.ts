import { sql } from "drizzle-orm";
import {
	index,
	integer,
	primaryKey,
	sqliteTable,
	text,
	uniqueIndex,
} from "drizzle-orm/sqlite-core";

/** Milliseconds since the Unix epoch, as SQLite integers. */
const timestamp = (name: string) => integer(name, { mode: "number" });

export const users = sqliteTable("users", {
	id: text("id").primaryKey(),
	name: text("name").notNull(),
	// Token-bucket settings; null means the configured defaults apply.
	rateCapacity: integer("rate_capacity"),
	rateRefillPerSecond: text("rate_refill_per_second"),
	createdAt: timestamp("created_at").notNull(),
});

export const apiKeys = sqliteTable(
	"api_keys",
	{
		id: text("id").primaryKey(),
		userId: text("user_id")
			.notNull()
			.references(() => users.id),
		// Hex SHA-256 of the key; the key itself is shown once and never stored.
		keyHash: text("key_hash").notNull(),
		createdAt: timestamp("created_at").notNull(),
		revokedAt: timestamp("revoked_at"),
	},
	(table) => [uniqueIndex("api_keys_key_hash").on(table.keyHash)],
);

export const messages = sqliteTable(
	"messages",
	{
		id: text("id").primaryKey(),
		// Null for an inbound message that matches no user's conversation.
		userId: text("user_id").references(() => users.id),
		direction: text("direction", { enum: ["outbound", "inbound"] }).notNull(),
		to: text("to").notNull(),
		from: text("from"),
		messagingServiceSid: text("messaging_service_sid"),
		body: text("body").notNull().default(""),
		// JSON array of media URLs.
		media: text("media").notNull().default("[]"),
		segments: integer("segments").notNull(),
		encoding: text("encoding").notNull(),
		status: text("status").notNull(),
		twilioSid: text("twilio_sid"),
		errorCode: integer("error_code"),
		errorMessage: text("error_message"),
		// Set while a queue consumer owns the Twilio call for this message.
		claimedAt: timestamp("claimed_at"),
		// Set when a Twilio call failed in a way that may still have created
		// the message; the next attempt looks for it before sending again.
		ambiguousAt: timestamp("ambiguous_at"),
		// Starts at 0 and grows with each replay of a dead letter, so callbacks
		// for an earlier attempt are distinguished from the current one.
		generation: integer("generation").notNull().default(0),
		createdAt: timestamp("created_at").notNull(),
		updatedAt: timestamp("updated_at").notNull(),
	},
	(table) => [
		uniqueIndex("messages_twilio_sid").on(table.twilioSid),
		index("messages_user_created").on(table.userId, table.createdAt, table.id),
		index("messages_conversation").on(
			table.direction,
			table.to,
			table.from,
			table.createdAt,
		),
	],
);

export const messageEvents = sqliteTable(
	"message_events",
	{
		id: integer("id").primaryKey({ autoIncrement: true }),
		messageId: text("message_id")
			.notNull()
			.references(() => messages.id),
		status: text("status").notNull(),
		// Reporter: api, consumer, twilio (a callback), replay or sweep.
		source: text("source").notNull(),
		errorCode: integer("error_code"),
		errorMessage: text("error_message"),
		// Identifies a Twilio callback so a repeated one is stored once.
		dedupeKey: text("dedupe_key"),
		at: timestamp("at").notNull(),
	},
	(table) => [
		index("message_events_message").on(table.messageId, table.id),
		uniqueIndex("message_events_dedupe")
			.on(table.dedupeKey)
			.where(sql`dedupe_key is not null`),
	],
);

export const idempotencyKeys = sqliteTable(
	"idempotency_keys",
	{
		userId: text("user_id")
			.notNull()
			.references(() => users.id),
		key: text("key").notNull(),
		// Hex SHA-256 of the request body, to tell a replay from a reuse.
		requestHash: text("request_hash").notNull(),
		messageId: text("message_id").notNull(),
		// The first 202 response body, returned again on a replay.
		response: text("response").notNull(),
		createdAt: timestamp("created_at").notNull(),
	},
	(table) => [primaryKey({ columns: [table.userId, table.key] })],
);

export const deadLetters = sqliteTable(
	"dead_letters",
	{
		id: text("id").primaryKey(),
		messageId: text("message_id")
			.notNull()
			.references(() => messages.id),
		userId: text("user_id").references(() => users.id),
		// The message's generation when it failed; one dead letter per attempt.
		generation: integer("generation").notNull(),
		// JSON of the original send request: to, from, body, mediaUrls.
		payload: text("payload").notNull(),
		status: text("status").notNull(),
		errorCode: integer("error_code"),
		error: text("error").notNull(),
		twilioSid: text("twilio_sid"),
		retryCount: integer("retry_count").notNull(),
		failedAt: timestamp("failed_at").notNull(),
		replayedAt: timestamp("replayed_at"),
	},
	(table) => [
		uniqueIndex("dead_letters_message_generation").on(
			table.messageId,
			table.generation,
		),
		index("dead_letters_user_failed").on(
			table.userId,
			table.failedAt,
			table.id,
		),
		index("dead_letters_failed").on(table.failedAt),
	],
);

export const media = sqliteTable(
	"media",
	{
		id: text("id").primaryKey(),
		userId: text("user_id").references(() => users.id),
		// `upload` for POST /v1/media, `inbound` for a copy of Twilio's media.
		origin: text("origin", { enum: ["upload", "inbound"] }).notNull(),
		// The inbound message the media arrived with.
		messageId: text("message_id").references(() => messages.id),
		contentType: text("content_type").notNull(),
		// Bytes.
		size: integer("size").notNull(),
		// Twilio's URL of an inbound item, kept to delete Twilio's copy.
		sourceUrl: text("source_url"),
		createdAt: timestamp("created_at").notNull(),
	},
	(table) => [
		index("media_user").on(table.userId, table.createdAt),
		uniqueIndex("media_source_url")
			.on(table.sourceUrl)
			.where(sql`source_url is not null`),
	],
);

export const optOuts = sqliteTable(
	"opt_outs",
	{
		// The recipient who sent the stop keyword, in E.164.
		phone: text("phone").notNull(),
		// Our number (or Messaging Service SID) that received it.
		sender: text("sender").notNull(),
		// Origin: `keyword` (an inbound STOP) or `twilio_21610`.
		source: text("source").notNull(),
		createdAt: timestamp("created_at").notNull(),
	},
	(table) => [primaryKey({ columns: [table.phone, table.sender] })],
);

export type UserRow = typeof users.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type MessageEventRow = typeof messageEvents.$inferSelect;
export type DeadLetterRow = typeof deadLetters.$inferSelect;
export type MediaRow = typeof media.$inferSelect;
