type Level = "debug" | "info" | "warn" | "error";

/** Fields of one log event; never put a secret, API key or message body here. */
export type LogFields = Record<string, unknown> & { error?: unknown };

/**
 * Writes one JSON object per event, so `wrangler tail --format json` and
 * Workers Logs index each field.
 */
function write(level: Level, event: string, fields: LogFields = {}): void {
	const { error, ...rest } = fields;
	const line: Record<string, unknown> = { level, event, ...rest };
	if (error !== undefined) {
		line.error = describeError(error);
	}
	const text = JSON.stringify(line);
	if (level === "error") console.error(text);
	else if (level === "warn") console.warn(text);
	else console.log(text);
}

function describeError(error: unknown): unknown {
	if (error instanceof Error) {
		return { name: error.name, message: error.message };
	}
	return String(error);
}

export const log = {
	debug: (event: string, fields?: LogFields) => write("debug", event, fields),
	info: (event: string, fields?: LogFields) => write("info", event, fields),
	warn: (event: string, fields?: LogFields) => write("warn", event, fields),
	error: (event: string, fields?: LogFields) => write("error", event, fields),
};
