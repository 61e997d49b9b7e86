import { app } from "./app";
import { runScheduledTasks } from "./cron/scheduled";
import { flushMetrics, observeMetric } from "./metrics/record";
import {
	DEAD_LETTER_QUEUE_NAME,
	handleDeadLetterBatch,
} from "./queue/dead-letter-consumer";
import type { SendJob } from "./queue/jobs";
import {
	handleMediaIngestBatch,
	MEDIA_INGEST_QUEUE_NAME,
	type MediaIngestJob,
} from "./queue/media-ingest-consumer";
import { handleOutboundBatch } from "./queue/outbound-consumer";

export { MetricsStore } from "./metrics/store";
export { SenderPacer } from "./ratelimit/sender-pacer";
export { SlidingWindowLimiter } from "./ratelimit/sliding-window-limiter";
export { TokenBucketLimiter } from "./ratelimit/token-bucket-limiter";

export default {
	async fetch(request, env, ctx) {
		const response = await app.fetch(request, env, ctx);
		// After the response, so recording metrics never delays it.
		ctx.waitUntil(flushMetrics(env));
		return response;
	},

	async queue(batch, env) {
		const startedAt = Date.now();
		try {
			if (batch.queue === DEAD_LETTER_QUEUE_NAME) {
				await handleDeadLetterBatch(batch as MessageBatch<SendJob>, env);
			} else if (batch.queue === MEDIA_INGEST_QUEUE_NAME) {
				await handleMediaIngestBatch(
					batch as MessageBatch<MediaIngestJob>,
					env,
				);
			} else {
				await handleOutboundBatch(batch as MessageBatch<SendJob>, env);
			}
		} finally {
			observeMetric(
				"edge_sms_queue_batch_duration_seconds",
				{ queue: batch.queue },
				(Date.now() - startedAt) / 1000,
			);
			// Awaited: the invocation may end as soon as this handler returns.
			await flushMetrics(env);
		}
	},

	async scheduled(_controller, env) {
		await runScheduledTasks(env);
		await flushMetrics(env);
	},
} satisfies ExportedHandler<Env, SendJob | MediaIngestJob>;
