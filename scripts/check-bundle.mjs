#!/usr/bin/env node
// Builds the Worker as `wrangler deploy` would, without uploading it, prints
// its size, and fails when the gzip size passes the budget in the README.

import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const GZIP_BUDGET_KIB = 350;

const outdir = mkdtempSync(join(tmpdir(), "edge-sms-bundle-"));
const result = spawnSync(
	"node_modules/.bin/wrangler",
	["deploy", "--dry-run", "--outdir", outdir],
	{
		encoding: "utf8",
		env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
	},
);
const output = `${result.stdout}\n${result.stderr}`;
if (result.status !== 0) {
	console.error(output);
	console.error("wrangler deploy --dry-run failed.");
	process.exit(1);
}

const match = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
if (!match) {
	console.error(output);
	console.error("Could not find the bundle size in wrangler's output.");
	process.exit(1);
}
const [, totalKib, gzipKib] = match.map(Number);
console.log(
	`Worker bundle: ${totalKib} KiB, ${gzipKib} KiB gzip (budget ${GZIP_BUDGET_KIB} KiB gzip).`,
);
if (gzipKib > GZIP_BUDGET_KIB) {
	console.error(
		`The gzip bundle is ${gzipKib} KiB, over the ${GZIP_BUDGET_KIB} KiB budget. Find what grew with \`wrangler deploy --dry-run --outdir dist\` and the metafile, or raise the budget in scripts/check-bundle.mjs and the README.`,
	);
	process.exit(1);
}
