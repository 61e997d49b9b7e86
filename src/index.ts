import { app } from "./app";
import { runScheduledTasks } from "./cron/scheduled";
import {
	DEAD_LETTER_QUEUE_NAME,
	handleDeadLetterBatch,
} from "./queue/dead-letter-consumer";
import type { SendJob } from "./queue/jobs";
import { handleOutboundBatch } from "./queue/outbound-consumer";

export { SenderPacer } from "./ratelimit/sender-pacer";
export { SlidingWindowLimiter } from "./ratelimit/sliding-window-limiter";
export { TokenBucketLimiter } from "./ratelimit/token-bucket-limiter";

export default {
	fetch: app.fetch,

	async queue(batch, env) {
		if (batch.queue === DEAD_LETTER_QUEUE_NAME) {
			await handleDeadLetterBatch(batch, env);
			return;
		}
		await handleOutboundBatch(batch, env);
	},

	async scheduled(_controller, env) {
		await runScheduledTasks(env);
	},
} satisfies ExportedHandler<Env, SendJob>;
