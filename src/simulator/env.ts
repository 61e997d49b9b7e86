/**
 * Bindings of the Twilio simulator worker. This type is written by hand
 * because the generated `worker-configuration.d.ts` describes the service.
 * Keep it in step with wrangler.simulator.toml.
 */
export interface SimulatorEnv {
	/** Public URL of the service. Inbound webhooks go to `/twilio/incoming` under it. */
	PUBLIC_BASE_URL: string;
	/** Account SID that the API accepts in Basic auth and in request paths. */
	TWILIO_ACCOUNT_SID: string;
	/** Password for Basic auth, and the key for webhook signatures. */
	TWILIO_AUTH_TOKEN: string;
	/** Delay in ms between a create and each later status step (default 150). */
	CALLBACK_DELAY_MS?: string;
	SIMULATOR_STATE: DurableObjectNamespace;
}

const DEFAULT_CALLBACK_DELAY_MS = 150;

/** Returns CALLBACK_DELAY_MS as a number, or 150 when it is missing or not a whole number. */
export function callbackDelayMs(env: SimulatorEnv): number {
	const value = env.CALLBACK_DELAY_MS ?? "";
	return /^\d+$/.test(value) ? Number(value) : DEFAULT_CALLBACK_DELAY_MS;
}
