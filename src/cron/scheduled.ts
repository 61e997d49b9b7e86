import { log } from "../lib/log";
import { evaluateAlerts } from "./alerts";
import { refreshStaleStatuses, requeueStuckMessages } from "./sweep";

/** Runs the cron tasks; each task runs even when another one fails. */
export async function runScheduledTasks(env: Env): Promise<void> {
	const tasks = {
		requeue_stuck: () => requeueStuckMessages(env),
		refresh_statuses: () => refreshStaleStatuses(env),
		alerts: () => evaluateAlerts(env),
	};
	for (const [task, run] of Object.entries(tasks)) {
		try {
			await run();
		} catch (error) {
			log.error("scheduled_task_failed", { task, error });
		}
	}
}
