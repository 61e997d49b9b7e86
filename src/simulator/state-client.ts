import type { SimulatorEnv } from "./env";
import type { StateOps } from "./state";

/** Name of the one Durable Object that stores all of the simulator's state. */
const STATE_OBJECT_NAME = "twilio";

/**
 * Runs one operation of the state object and returns its result. The host
 * in the URL is a placeholder, because a stub ignores it.
 */
export async function callState<K extends keyof StateOps>(
	env: SimulatorEnv,
	op: K,
	...args: Parameters<StateOps[K]>
): Promise<Awaited<ReturnType<StateOps[K]>>> {
	const namespace = env.SIMULATOR_STATE;
	const stub = namespace.get(namespace.idFromName(STATE_OBJECT_NAME));
	const response = await stub.fetch(`https://state/${op}`, {
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
