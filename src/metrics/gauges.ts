import { count, sql } from "drizzle-orm";
import { openDatabase } from "../db/client";
import { deadLetters, messages } from "../db/schema";
import { MESSAGE_STATUSES } from "../messages/status";
import type { MetricSample } from "./record";
import { formatLabels } from "./record";

/**
 * Reads the gauges that D1 can count: messages by direction and status,
 * and dead letters by whether they were replayed. Series that D1 has no rows
 * for are reported as 0, so a status that empties out reads 0 instead of
 * disappearing from the scrape.
 *
 * NOTE: counting messages reads every message row (no index covers
 * direction and status), which D1 bills per row read. With millions of
 * messages, keep these counts up to date on write instead.
 */
export async function readGauges(env: Env): Promise<MetricSample[]> {
	const db = openDatabase(env.DB);
	const replayed = sql<number>`${deadLetters.replayedAt} is not null`;
	const [messageCounts, deadLetterCounts] = await Promise.all([
		db
			.select({
				direction: messages.direction,
				status: messages.status,
				total: count(),
			})
			.from(messages)
			.groupBy(messages.direction, messages.status),
		db.select({ replayed, total: count() }).from(deadLetters).groupBy(replayed),
	]);

	// Inbound messages are only ever `received`; outbound ones take the rest.
	const messageTotals = new Map<string, MetricSample>();
	const setTotal = (direction: string, status: string, total: number) => {
		const sample = gauge("edge_sms_messages", { direction, status }, total);
		messageTotals.set(sample.labels, sample);
	};
	for (const status of MESSAGE_STATUSES) {
		setTotal(status === "received" ? "inbound" : "outbound", status, 0);
	}
	for (const row of messageCounts) {
		setTotal(row.direction, row.status, row.total);
	}
	const samples = [...messageTotals.values()];

	const deadLetterTotals = { false: 0, true: 0 };
	for (const row of deadLetterCounts) {
		deadLetterTotals[row.replayed ? "true" : "false"] += row.total;
	}
	samples.push(
		gauge(
			"edge_sms_dead_letters_stored",
			{ replayed: "false" },
			deadLetterTotals.false,
		),
		gauge(
			"edge_sms_dead_letters_stored",
			{ replayed: "true" },
			deadLetterTotals.true,
		),
	);
	return samples;
}

function gauge(
	name: "edge_sms_messages" | "edge_sms_dead_letters_stored",
	labels: Record<string, string>,
	value: number,
): MetricSample {
	return { name, labels: formatLabels(name, labels), le: "", value };
}
