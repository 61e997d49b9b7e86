CREATE TABLE `media` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text,
	`origin` text NOT NULL,
	`message_id` text,
	`content_type` text NOT NULL,
	`size` integer NOT NULL,
	`source_url` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `media_user` ON `media` (`user_id`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `media_source_url` ON `media` (`source_url`) WHERE source_url is not null;--> statement-breakpoint
CREATE TABLE `opt_outs` (
	`phone` text NOT NULL,
	`sender` text NOT NULL,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`phone`, `sender`)
);
