import {
	cloudflareTest,
	readD1Migrations,
} from "@cloudflare/vitest-pool-workers";
import { build } from "esbuild";
import { defineConfig } from "vitest/config";

// Service, simulator and test code all run inside one Miniflare instance: the
// service's outbound fetches (the Twilio REST API) go to the simulator worker,
// and the simulator's fetches (status callbacks, inbound webhooks) come back
// to the service.
const SIMULATOR_BUNDLE = ".wrangler/test/simulator.mjs";
const TEST_PUBLIC_BASE_URL = "https://sms.test";
const TEST_TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000000";
const TEST_TWILIO_AUTH_TOKEN = "test-auth-token";

export default defineConfig(async () => {
	const migrations = await readD1Migrations("./migrations");
	await build({
		entryPoints: ["src/simulator/index.ts"],
		bundle: true,
		format: "esm",
		target: "es2022",
		outfile: SIMULATOR_BUNDLE,
		logLevel: "warning",
	});
	return {
		plugins: [
			cloudflareTest({
				main: "./src/index.ts",
				wrangler: { configPath: "./wrangler.toml" },
				miniflare: {
					outboundService: "twilio-simulator",
					bindings: {
						TEST_MIGRATIONS: migrations,
						PUBLIC_BASE_URL: TEST_PUBLIC_BASE_URL,
						ADMIN_TOKEN: "test-admin-token",
						TWILIO_API_BASE: "https://api.twilio.test",
						TWILIO_ACCOUNT_SID: TEST_TWILIO_ACCOUNT_SID,
						TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN,
						TWILIO_FROM: "+15005550006",
						MEDIA_SIGNING_KEY: "test-media-signing-key",
						// Short backoff, so retried messages settle within a test.
						RETRY_BASE_SECONDS: "1",
						RETRY_CAP_SECONDS: "4",
						// Most tests send from +15005550006; pacing it at a long code's
						// 1 message a second would make them slow. Pacing tests use
						// other senders.
						SENDER_RATES: JSON.stringify({ "+15005550006": 10_000 }),
						// A short pause after a simulated 429, so fault tests settle fast.
						SENDER_THROTTLE_PAUSE_MS: "50",
					},
					workers: [
						{
							name: "twilio-simulator",
							modules: true,
							scriptPath: SIMULATOR_BUNDLE,
							compatibilityDate: "2026-04-20",
							// The pool names the worker that runs the service and the tests
							// "vitest-pool-workers-runner-<project name>".
							outboundService: "vitest-pool-workers-runner-workers",
							bindings: {
								PUBLIC_BASE_URL: TEST_PUBLIC_BASE_URL,
								TWILIO_ACCOUNT_SID: TEST_TWILIO_ACCOUNT_SID,
								TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN,
								// Short, so that tests wait little for status callbacks.
								CALLBACK_DELAY_MS: "20",
								// The host the tests use for the simulator; every fetch from
								// test code reaches it whatever the host.
								SIMULATOR_PUBLIC_URL: "https://api.twilio.test",
								// An API key that the simulator accepts besides the Auth Token.
								// test/simulator.test.ts repeats these values.
								TWILIO_API_KEY_SID: "SK00000000000000000000000000000000",
								TWILIO_API_KEY_SECRET: "test-api-key-secret",
							},
							durableObjects: {
								SIMULATOR_STATE: {
									className: "SimulatorState",
									useSQLite: true,
								},
							},
						},
					],
				},
			}),
		],
		test: {
			setupFiles: ["./test/setup.ts"],
			testTimeout: 20_000,
			// All files share one simulator, and some set its fault rates, so
			// files run one at a time.
			fileParallelism: false,
			projects: [
				{
					// This configuration: every test inside workerd.
					extends: true as const,
					test: {
						name: "workers",
						include: ["test/**/*.test.ts"],
						exclude: ["test/e2e/**"],
					},
				},
				{
					// The browser test starts the service and the simulator with
					// `wrangler dev` and drives Chromium from Node. A groupOrder of
					// its own runs it apart from the workerd tests, never at the same
					// time, so the two do not compete for the machine's cores.
					test: {
						name: "e2e",
						include: ["test/e2e/**/*.test.ts"],
						environment: "node",
						testTimeout: 90_000,
						hookTimeout: 90_000,
						sequence: { groupOrder: 1 },
					},
				},
			],
		},
	};
});
