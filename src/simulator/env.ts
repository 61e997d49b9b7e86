/**
 * Bindings of the Twilio simulator worker. This type is written by hand
 * because the generated `worker-configuration.d.ts` describes the service.
 * Keep it in step with wrangler.simulator.toml.
 */
export interface SimulatorEnv {
	/** Public URL of the service. Inbound webhooks go to `/twilio/incoming` under it. */
	PUBLIC_BASE_URL: string;
	/**
	 * The simulator's own public URL. Media URLs in inbound webhooks and the
	 * redirects to stored media point here, and outbound MediaUrl values under
	 * it are served in-process rather than fetched over the network.
	 */
	SIMULATOR_PUBLIC_URL: string;
	/** Account SID that the API accepts in Basic auth and in request paths. */
	TWILIO_ACCOUNT_SID: string;
	/** Password for Basic auth, and the key for webhook signatures. */
	TWILIO_AUTH_TOKEN: string;
	/**
	 * Optional API key (`SK...`) and its secret, accepted in Basic auth in
	 * place of the Account SID and Auth Token when both are non-empty.
	 */
	TWILIO_API_KEY_SID?: string;
	TWILIO_API_KEY_SECRET?: string;
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

/** SIMULATOR_PUBLIC_URL without a trailing slash. */
export function simulatorBaseUrl(env: SimulatorEnv): string {
	return env.SIMULATOR_PUBLIC_URL.replace(/\/+$/, "");
}
