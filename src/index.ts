import { app } from "./app";
import { handleDeadLetterBatch } from "./queue/dead-letter-consumer";
import type { SendJob } from "./queue/jobs";
import { handleOutboundBatch } from "./queue/outbound-consumer";

export default {
	fetch: app.fetch,

	async queue(batch, env) {
		if (batch.queue === "sms-outbound-dlq") {
			await handleDeadLetterBatch(batch, env);
			return;
		}
		await handleOutboundBatch(batch, env);
	},
} satisfies ExportedHandler<Env, SendJob>;
