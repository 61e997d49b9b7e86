import { and, count, eq, gte, inArray } from "drizzle-orm";
import { openDatabase } from "../db/client";
import { deadLetters, messages } from "../db/schema";
import { log } from "../lib/log";

export interface Alert {
	rule: "dead_letters" | "failure_rate";
	message: string;
	value: number;
	threshold: number;
	windowSeconds: number;
	at: string;
}

function setting(value: string | undefined, fallback: number): number {
	const parsed = Number(value);
	return Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
}

/**
 * Evaluates the alert rules over the last ALERT_WINDOW_SECONDS: too many
 * dead letters, or too large a share of outbound messages failed. Each alert
 * is logged as an `alert` event and, when ALERT_WEBHOOK_URL is set, posted
 * there as JSON.
 */
export async function evaluateAlerts(
	env: Env,
	now = Date.now(),
): Promise<Alert[]> {
	const windowSeconds = setting(env.ALERT_WINDOW_SECONDS, 300);
	const since = now - windowSeconds * 1000;
	const db = openDatabase(env.DB);
	const alerts: Alert[] = [];

	const [dead] = await db
		.select({ value: count() })
		.from(deadLetters)
		.where(gte(deadLetters.failedAt, since));
	const deadThreshold = setting(env.ALERT_DEAD_LETTERS, 10);
	const deadCount = dead?.value ?? 0;
	if (deadThreshold > 0 && deadCount >= deadThreshold) {
		alerts.push({
			rule: "dead_letters",
			message: `${deadCount} dead letters in the last ${windowSeconds} s (threshold ${deadThreshold})`,
			value: deadCount,
			threshold: deadThreshold,
			windowSeconds,
			at: new Date(now).toISOString(),
		});
	}

	const finished = await db
		.select({ status: messages.status, value: count() })
		.from(messages)
		.where(
			and(
				eq(messages.direction, "outbound"),
				gte(messages.updatedAt, since),
				inArray(messages.status, ["delivered", "failed", "undelivered"]),
			),
		)
		.groupBy(messages.status);
	const total = finished.reduce((sum, row) => sum + row.value, 0);
	const failed = finished
		.filter((row) => row.status !== "delivered")
		.reduce((sum, row) => sum + row.value, 0);
	const rateThreshold = setting(env.ALERT_FAILURE_RATE, 0.2);
	const rate = total === 0 ? 0 : failed / total;
	if (rateThreshold > 0 && total > 0 && rate >= rateThreshold) {
		alerts.push({
			rule: "failure_rate",
			message: `${failed} of ${total} outbound messages failed in the last ${windowSeconds} s (${(rate * 100).toFixed(1)}%, threshold ${(rateThreshold * 100).toFixed(1)}%)`,
			value: rate,
			threshold: rateThreshold,
			windowSeconds,
			at: new Date(now).toISOString(),
		});
	}

	for (const alert of alerts) {
		log.warn("alert", { ...alert });
		await postAlert(env, alert);
	}
	return alerts;
}

async function postAlert(env: Env, alert: Alert): Promise<void> {
	if (!env.ALERT_WEBHOOK_URL) return;
	try {
		const res = await fetch(env.ALERT_WEBHOOK_URL, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ service: "edge-sms", ...alert }),
			signal: AbortSignal.timeout(5000),
		});
		if (!res.ok) {
			log.warn("alert_post_failed", {
				rule: alert.rule,
				httpStatus: res.status,
			});
		}
	} catch (error) {
		log.warn("alert_post_failed", { rule: alert.rule, error });
	}
}
