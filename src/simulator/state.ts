import { log } from "../lib/log";
import { type ScheduledCallback, scheduleEvents } from "./callbacks";
import type { CreateRequest } from "./create";
import { callbackDelayMs, type SimulatorEnv } from "./env";
import {
	decideFaults,
	type FaultConfig,
	type FaultState,
	type RequestOutcome,
} from "./faults";
import type { ListQuery, ListRows } from "./list";
import {
	applyStep,
	type MessageResource,
	newMessageResource,
	newSid,
	type StatusStep,
} from "./resource";
import {
	type AcceptedRequest,
	type CallbackAttempt,
	type InboundMedia,
	SimulatorStore,
} from "./store";
import { postSignedForm } from "./webhook";

export type CreateOutcome =
	| { kind: "created"; resource: MessageResource; respondWith500: boolean }
	| {
			kind: "rejected";
			outcome: Exclude<RequestOutcome, "ok" | "createdThen500">;
			timeoutMs: number;
	  };

/** Operations of the state object, called through `callState`. */
export interface StateOps {
	create(input: { request: CreateRequest }): Promise<CreateOutcome>;
	fetchMessage(input: { sid: string }): MessageResource | null;
	listMessages(input: ListQuery): ListRows;
	recordInbound(input: {
		resource: MessageResource;
		media: InboundMedia[];
	}): void;
	acceptedRequests(): AcceptedRequest[];
	callbackAttempts(): CallbackAttempt[];
	faults(): FaultState;
	setFaults(input: FaultConfig): FaultState;
	reset(): Promise<void>;
}

/**
 * Durable Object with all of the simulator's state. It is SQLite-backed, so
 * messages, fault draws and pending callbacks survive restarts. Its SQL
 * calls are synchronous, so no two operations interleave their reads and
 * writes. Its alarm applies due status steps and sends due callbacks one
 * after another, ordered by due time, then by insertion.
 *
 * The worker reaches it through `fetch` with an operation name rather than
 * RPC, because RPC needs the `DurableObject` base class from
 * `cloudflare:workers`, which the test build's esbuild step cannot resolve.
 */
export class SimulatorState implements DurableObject {
	private readonly store: SimulatorStore;

	constructor(
		private readonly ctx: DurableObjectState,
		private readonly env: SimulatorEnv,
	) {
		this.store = new SimulatorStore(ctx.storage.sql);
	}

	private readonly ops: StateOps = {
		create: ({ request }) => this.create(request),
		fetchMessage: ({ sid }) => this.store.message(sid),
		listMessages: (query) => this.store.listMessages(query),
		recordInbound: ({ resource, media }) => {
			this.store.insertMessage(resource, new Date(), null);
			this.store.insertMedia(resource.sid, media);
		},
		acceptedRequests: () => this.store.acceptedRequests(),
		callbackAttempts: () => this.store.callbackAttempts(),
		faults: () => {
			const { config, decisions } = this.store.faults();
			return { ...config, decisions };
		},
		setFaults: (config) => this.setFaults(config),
		reset: () => this.reset(),
	};

	async fetch(request: Request): Promise<Response> {
		const name = new URL(request.url).pathname.slice(1);
		if (!Object.hasOwn(this.ops, name)) {
			log.error("simulator.unknown_state_operation", { operation: name });
			return new Response(`Unknown state operation ${name}`, { status: 404 });
		}
		const op = this.ops[name as keyof StateOps] as (input: unknown) => unknown;
		const result = await op(await request.json());
		return Response.json({ result: result ?? null });
	}

	async alarm(): Promise<void> {
		for (;;) {
			const due = this.store.dueEvent(Date.now());
			if (!due) break;

			if (due.event.kind === "step") {
				this.store.removeEvent(due.id);
				this.applyStep(due.event.messageSid, due.event.step);
			} else {
				await this.sendCallback(due.id, due.event);
			}
		}
		await this.armAlarm();
	}

	private async create(request: CreateRequest): Promise<CreateOutcome> {
		const { config, randomState, decisions } = this.store.faults();
		const draw = decideFaults(config, randomState);
		this.store.saveFaults(config, draw.state, decisions + 1);

		const { outcome } = draw.decision;
		if (outcome === "429" || outcome === "500" || outcome === "timeout") {
			log.info("simulator.fault_injected", { outcome });
			return { kind: "rejected", outcome, timeoutMs: config.timeoutMs };
		}

		const now = new Date();
		const resource = newMessageResource({
			sid: newSid(request.mediaUrls.length > 0 ? "MM" : "SM"),
			accountSid: this.env.TWILIO_ACCOUNT_SID,
			direction: "outbound-api",
			status: request.from === null ? "accepted" : "queued",
			from: request.from,
			to: request.to,
			body: request.body,
			numMedia: request.mediaUrls.length,
			messagingServiceSid: request.messagingServiceSid,
			now,
		});
		this.store.insertMessage(resource, now, request);
		this.store.schedule(
			scheduleEvents({
				resource,
				request,
				decision: draw.decision,
				startAt: now.getTime(),
				delayMs: callbackDelayMs(this.env),
			}),
		);
		await this.armAlarm();

		log.info("simulator.message_created", {
			sid: resource.sid,
			status: resource.status,
			outcome,
			duplicateCallback: draw.decision.duplicateCallback,
			outOfOrderCallback: draw.decision.outOfOrderCallback,
		});
		return {
			kind: "created",
			resource,
			respondWith500: outcome === "createdThen500",
		};
	}

	private applyStep(sid: string, step: StatusStep): void {
		const resource = this.store.message(sid);
		if (!resource) return;

		const now = new Date();
		this.store.updateMessage(applyStep(resource, step, now), now);
		log.info("simulator.status_changed", { sid, status: step.status });
	}

	private async sendCallback(
		id: number,
		callback: ScheduledCallback,
	): Promise<void> {
		const result = await postSignedForm(
			callback.url,
			new URLSearchParams(callback.params),
			this.env.TWILIO_AUTH_TOKEN,
		);
		// A reset during the request has already deleted the event. The attempt
		// then belongs to no message and is not recorded.
		if (!this.store.removeEvent(id)) return;

		this.store.insertCallbackAttempt({
			messageSid: callback.messageSid,
			url: callback.url,
			params: callback.params,
			signature: result.signature,
			responseStatus: result.status,
			error: result.error,
			sentAt: new Date().toISOString(),
		});
		const fields = {
			sid: callback.messageSid,
			status: callback.params.MessageStatus,
			responseStatus: result.status,
		};
		if (result.error === null) log.info("simulator.callback_sent", fields);
		else
			log.warn("simulator.callback_failed", { ...fields, error: result.error });
	}

	private async armAlarm(): Promise<void> {
		const next = this.store.nextDueAt();
		if (next === null) await this.ctx.storage.deleteAlarm();
		else await this.ctx.storage.setAlarm(next);
	}

	/** Stores `config` and restarts the random sequence from its seed. */
	private setFaults(config: FaultConfig): FaultState {
		this.store.saveFaults(config, config.seed, 0);
		log.info("simulator.faults_set", { seed: config.seed });
		return { ...config, decisions: 0 };
	}

	private async reset(): Promise<void> {
		this.store.clear();
		await this.ctx.storage.deleteAlarm();
		log.info("simulator.reset");
	}
}
