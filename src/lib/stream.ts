/**
 * Reads `body` into memory if it is at most `limit` bytes; returns null when
 * it is longer. The rest of a longer body is still read and dropped, because
 * leaving a request body half-read makes some runtimes (wrangler dev among
 * them) fail the next request on the connection.
 */
export async function readLimited(
	body: ReadableStream<Uint8Array> | null,
	limit: number,
): Promise<Uint8Array | null> {
	if (!body) return new Uint8Array();
	const reader = body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size <= limit) chunks.push(value);
	}
	if (size > limit) return null;
	const bytes = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		bytes.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return bytes;
}
