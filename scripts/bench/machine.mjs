// The machine's description, and the CPU that other programs used during
// each measurement. A number taken while other programs used the cores is
// lower than the same code reaches on an idle machine.

import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { CLOCK_TICKS_PER_SECOND, cpuSeconds, runWrangler } from "./stack.mjs";

export function describeMachine() {
	let cpuModel = cpus()[0]?.model ?? "unknown";
	try {
		const line = readFileSync("/proc/cpuinfo", "utf8")
			.split("\n")
			.find((text) => text.startsWith("model name"));
		if (line) cpuModel = line.split(":")[1].trim();
	} catch {
		// Not Linux; os.cpus() has the model too.
	}
	const wrangler = runWrangler(["--version"]).trim().split("\n").at(-1);
	return {
		cpuModel,
		cores: cpus().length,
		memoryGiB: totalmem() / 2 ** 30,
		node: process.version,
		wrangler,
		loadAverage: loadavg(),
	};
}

/** Busy CPU seconds of the whole machine so far, from /proc/stat. */
function machineBusySeconds() {
	const fields = readFileSync("/proc/stat", "utf8")
		.split("\n")[0]
		.trim()
		.split(/\s+/)
		.slice(1)
		.map(Number);
	// user nice system idle iowait irq softirq steal ...; idle and iowait are not busy.
	const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
	const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
	return (total - idle) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Measures CPU use over a phase: of each given process group (by name), of
 * this Node.js process (the load generator), and of everything else on the
 * machine. Call the returned function at the end of the phase.
 */
export function startCpuMeter(groups) {
	const startedAt = performance.now();
	const machine = machineBusySeconds();
	const own = process.cpuUsage();
	const before = Object.fromEntries(
		Object.entries(groups).map(([name, pgid]) => [name, cpuSeconds(pgid)]),
	);
	return () => {
		const seconds = (performance.now() - startedAt) / 1000;
		const ownUsage = process.cpuUsage(own);
		const loadGenerator = (ownUsage.user + ownUsage.system) / 1e6;
		const byGroup = {};
		let ours = loadGenerator;
		for (const [name, pgid] of Object.entries(groups)) {
			const now = cpuSeconds(pgid);
			const used = {
				workerd: now.workerd - before[name].workerd,
				node: now.node - before[name].node,
			};
			byGroup[name] = used;
			ours += used.workerd + used.node;
		}
		const busy = machineBusySeconds() - machine;
		// Clamped: processes that ended in the phase take their ticks along.
		const otherSeconds = Math.max(0, busy - ours);
		return {
			seconds,
			byGroup,
			loadGenerator,
			otherSeconds,
			otherCores: otherSeconds / seconds,
		};
	};
}

/** Adds up the CPU of several phases measured by startCpuMeter. */
export function combineCpu(parts) {
	const total = { seconds: 0, byGroup: {}, loadGenerator: 0, otherSeconds: 0 };
	for (const part of parts) {
		total.seconds += part.seconds;
		total.loadGenerator += part.loadGenerator;
		total.otherSeconds += part.otherSeconds;
		for (const [name, used] of Object.entries(part.byGroup)) {
			const sum = total.byGroup[name] ?? { workerd: 0, node: 0 };
			sum.workerd += used.workerd;
			sum.node += used.node;
			total.byGroup[name] = sum;
		}
	}
	total.otherCores = total.otherSeconds / total.seconds;
	return total;
}
