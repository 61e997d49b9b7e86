// Twilio's default keywords for long codes and toll-free numbers. Twilio
// matches the whole body only ("STOP please" is no keyword), in any case.
const STOP_KEYWORDS = new Set([
	"STOP",
	"STOPALL",
	"UNSUBSCRIBE",
	"CANCEL",
	"END",
	"QUIT",
]);
const START_KEYWORDS = new Set(["START", "YES", "UNSTOP"]);
const HELP_KEYWORDS = new Set(["HELP", "INFO"]);

export type Keyword = "stop" | "start" | "help";

/** Classifies an inbound body as an opt-out keyword, or null for any other text. */
export function classifyKeyword(body: string): Keyword | null {
	const word = body.trim().toUpperCase();
	if (STOP_KEYWORDS.has(word)) return "stop";
	if (START_KEYWORDS.has(word)) return "start";
	if (HELP_KEYWORDS.has(word)) return "help";
	return null;
}
