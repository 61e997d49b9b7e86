CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`user_id` text,
	`generation` integer NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`error_code` integer,
	`error` text NOT NULL,
	`twilio_sid` text,
	`retry_count` integer NOT NULL,
	`failed_at` integer NOT NULL,
	`replayed_at` integer,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dead_letters_message_generation` ON `dead_letters` (`message_id`,`generation`);--> statement-breakpoint
CREATE INDEX `dead_letters_user_failed` ON `dead_letters` (`user_id`,`failed_at`,`id`);--> statement-breakpoint
CREATE INDEX `dead_letters_failed` ON `dead_letters` (`failed_at`);--> statement-breakpoint
ALTER TABLE `messages` ADD `ambiguous_at` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `generation` integer DEFAULT 0 NOT NULL;