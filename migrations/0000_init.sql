CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`user_id` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`message_id` text NOT NULL,
	`response` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `key`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `message_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` text NOT NULL,
	`status` text NOT NULL,
	`source` text NOT NULL,
	`error_code` integer,
	`error_message` text,
	`dedupe_key` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `message_events_message` ON `message_events` (`message_id`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `message_events_dedupe` ON `message_events` (`dedupe_key`) WHERE dedupe_key is not null;--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text,
	`direction` text NOT NULL,
	`to` text NOT NULL,
	`from` text,
	`messaging_service_sid` text,
	`body` text DEFAULT '' NOT NULL,
	`media` text DEFAULT '[]' NOT NULL,
	`segments` integer NOT NULL,
	`encoding` text NOT NULL,
	`status` text NOT NULL,
	`twilio_sid` text,
	`error_code` integer,
	`error_message` text,
	`claimed_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_twilio_sid` ON `messages` (`twilio_sid`);--> statement-breakpoint
CREATE INDEX `messages_user_created` ON `messages` (`user_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `messages_conversation` ON `messages` (`direction`,`to`,`from`,`created_at`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`rate_capacity` integer,
	`rate_refill_per_second` text,
	`created_at` integer NOT NULL
);
