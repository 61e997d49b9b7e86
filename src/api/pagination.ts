import { ApiError } from "./errors";

export interface Cursor {
	createdAt: number;
	id: string;
}

/** Encodes the position after the last item of a page as an opaque string. */
export function encodeCursor(cursor: Cursor): string {
	return btoa(`${cursor.createdAt}:${cursor.id}`)
		.replaceAll("+", "-")
		.replaceAll("/", "_")
		.replace(/=+$/, "");
}

export function decodeCursor(text: string): Cursor {
	let decoded = "";
	try {
		decoded = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
	} catch {
		// Reported below with the same message as any other bad cursor.
	}
	const match = /^(\d{1,15}):([\w-]{1,100})$/.exec(decoded);
	if (!match?.[1] || !match[2]) {
		throw new ApiError(
			400,
			"invalid_request",
			"Invalid cursor: pass the nextCursor value of the previous page unchanged.",
			{ details: [{ field: "cursor", message: "not a cursor from this API" }] },
		);
	}
	return { createdAt: Number(match[1]), id: match[2] };
}
