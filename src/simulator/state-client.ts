import type { SimulatorEnv } from "./env";
import type { StateOps } from "./state";

/** Name of the one Durable Object that stores all of the simulator's state. */
const STATE_OBJECT_NAME = "twilio";

/** Path of the state object's one operation that returns bytes rather than JSON. */
export const MEDIA_CONTENT_PATH = "/mediaContent";

function stateStub(env: SimulatorEnv): DurableObjectStub {
	const namespace = env.SIMULATOR_STATE;
	return namespace.get(namespace.idFromName(STATE_OBJECT_NAME));
}

/**
 * Runs one operation of the state object and returns its result. The host
 * in the URL is a placeholder, because a stub ignores it.
 */
export async function callState<K extends keyof StateOps>(
	env: SimulatorEnv,
	op: K,
	...args: Parameters<StateOps[K]>
): Promise<Awaited<ReturnType<StateOps[K]>>> {
	const response = await stateStub(env).fetch(`https://state/${op}`, {
		method: "POST",
		body: JSON.stringify(args[0] ?? null),
	});
	if (!response.ok) {
		throw new Error(
			`State operation ${op} failed with ${response.status}: ${await response.text()}`,
		);
	}
	const { result } = (await response.json()) as {
		result: Awaited<ReturnType<StateOps[K]>>;
	};
	return result;
}

/** Returns the stored bytes of a media item, or null when the simulator stores none. */
export async function mediaContent(
	env: SimulatorEnv,
	mediaSid: string,
): Promise<ArrayBuffer | null> {
	const url = new URL(`https://state${MEDIA_CONTENT_PATH}`);
	url.searchParams.set("sid", mediaSid);
	const response = await stateStub(env).fetch(url);
	if (response.status === 404) return null;
	if (!response.ok) {
		throw new Error(
			`Reading media ${mediaSid} failed with ${response.status}: ${await response.text()}`,
		);
	}
	return response.arrayBuffer();
}
