import { log } from "../lib/log";
import { app } from "./app";
import {
	type ScheduledCallback,
	type ScheduledEvent,
	type ScheduledMediaCheck,
	scheduleEvents,
} from "./callbacks";
import type { CreateRequest } from "./create";
import { callbackDelayMs, type SimulatorEnv, simulatorBaseUrl } from "./env";
import { EventLoop } from "./event-loop";
import {
	decideFaults,
	type FaultConfig,
	type FaultState,
	type RequestOutcome,
} from "./faults";
import type { ListQuery, ListRows } from "./list";
import { type Fetcher, fetchOutboundMedia } from "./media-fetch";
import {
	applyStep,
	type MessageResource,
	newMessageResource,
	newSid,
	type StatusStep,
} from "./resource";
import { MEDIA_CONTENT_PATH } from "./state-client";
import {
	type AcceptedRequest,
	type CallbackAttempt,
	type MediaItem,
	type NewMediaItem,
	SimulatorStore,
} from "./store";
import { postSignedForm } from "./webhook";

/**
 * How many callbacks and media fetches the alarm keeps in flight at once,
 * each for a different message. Enough that a slow receiver does not hold
 * up other messages, few enough not to flood a local service.
 */
export const MAX_CONCURRENT_REQUESTS = 16;

export type CreateOutcome =
	| { kind: "created"; resource: MessageResource; respondWith500: boolean }
	| {
			kind: "rejected";
			outcome: Exclude<RequestOutcome, "ok" | "createdThen500">;
			timeoutMs: number;
	  };

/** Target of an item's media URL. */
export type OpenedMedia =
	| { kind: "missing" }
	| { kind: "notReady" }
	| { kind: "stored" }
	| { kind: "elsewhere"; url: string };

/** Operations of the state object, called through `callState`. */
export interface StateOps {
	create(input: { request: CreateRequest }): Promise<CreateOutcome>;
	fetchMessage(input: { sid: string }): MessageResource | null;
	listMessages(input: ListQuery): ListRows;
	recordInbound(input: {
		resource: MessageResource;
		media: NewMediaItem[];
		notReadyCount: number;
	}): void;
	/** Null when the message does not exist. */
	listMedia(input: { messageSid: string }): MediaItem[] | null;
	/** With `messageSid`, null unless the item belongs to that message. */
	mediaItem(input: { mediaSid: string; messageSid?: string }): MediaItem | null;
	/** Uses up one of the item's not-ready 404 responses, if any are left. */
	openMedia(input: { messageSid: string; mediaSid: string }): OpenedMedia;
	deleteMedia(input: { messageSid: string; mediaSid: string }): boolean;
	acceptedRequests(): AcceptedRequest[];
	callbackAttempts(): CallbackAttempt[];
	faults(): FaultState;
	setFaults(input: FaultConfig): FaultState;
	reset(): Promise<void>;
}

/**
 * Durable Object with all of the simulator's state. It is SQLite-backed, so
 * messages, media, fault draws and pending events survive restarts. Its SQL
 * calls are synchronous, so no two operations interleave their reads and
 * writes.
 *
 * Its alarm works through the pending events (status steps, callbacks and
 * media fetches). Each message's events run strictly in order, ordered by
 * due time, then by insertion: the next one starts only once the previous
 * one has finished. Events of different messages run concurrently, up to
 * MAX_CONCURRENT_REQUESTS requests at once. A message whose callback
 * receiver is slow therefore advances no further until it responds (at
 * most 15 seconds), while other messages go on.
 *
 * The worker reaches it through `fetch` with an operation name rather than
 * RPC, because RPC needs the `DurableObject` base class from
 * `cloudflare:workers`, which the test build's esbuild step cannot resolve.
 */
export class SimulatorState implements DurableObject {
	private readonly store: SimulatorStore;
	private readonly events: EventLoop<ScheduledEvent>;

	constructor(
		private readonly ctx: DurableObjectState,
		private readonly env: SimulatorEnv,
	) {
		this.store = new SimulatorStore(ctx.storage.sql);
		this.events = new EventLoop<ScheduledEvent>(
			{
				dueHeads: (now, limit) => this.store.dueHeads(now, limit),
				nextDueAfter: (now) => this.store.nextDueAfter(now),
				runAtOnce: ({ id, event }) => {
					if (event.kind !== "step") return false;
					this.store.removeEvent(id);
					this.applyStep(event.messageSid, event.step);
					return true;
				},
				runRequest: ({ id, event }) => this.runRequest(id, event),
			},
			MAX_CONCURRENT_REQUESTS,
		);
	}

	private readonly ops: StateOps = {
		create: ({ request }) => this.create(request),
		fetchMessage: ({ sid }) => this.store.message(sid),
		listMessages: (query) => this.store.listMessages(query),
		recordInbound: ({ resource, media, notReadyCount }) => {
			const now = new Date();
			this.store.insertMessage(resource, now, null);
			this.store.insertMedia(resource.sid, media, notReadyCount, now);
		},
		listMedia: ({ messageSid }) =>
			this.store.message(messageSid) ? this.store.mediaOf(messageSid) : null,
		mediaItem: ({ mediaSid, messageSid }) => {
			const item = this.store.mediaItem(mediaSid);
			if (!item || (messageSid && item.messageSid !== messageSid)) return null;
			return item;
		},
		openMedia: ({ messageSid, mediaSid }) => {
			const item = this.store.mediaItem(mediaSid);
			if (!item || item.messageSid !== messageSid) return { kind: "missing" };
			if (this.store.takeNotReady(mediaSid)) return { kind: "notReady" };
			return item.sourceUrl === null
				? { kind: "stored" }
				: { kind: "elsewhere", url: item.sourceUrl };
		},
		deleteMedia: ({ messageSid, mediaSid }) => {
			const item = this.store.mediaItem(mediaSid);
			if (!item || item.messageSid !== messageSid) return false;
			return this.store.deleteMedia(mediaSid);
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
		const url = new URL(request.url);
		if (url.pathname === MEDIA_CONTENT_PATH) {
			const bytes = this.store.mediaBytes(url.searchParams.get("sid") ?? "");
			return bytes === null
				? new Response("No stored media has this sid.", { status: 404 })
				: new Response(bytes);
		}
		const name = url.pathname.slice(1);
		if (!Object.hasOwn(this.ops, name)) {
			log.error("simulator.unknown_state_operation", { operation: name });
			return new Response(`Unknown state operation ${name}`, { status: 404 });
		}
		const op = this.ops[name as keyof StateOps] as (input: unknown) => unknown;
		const result = await op(await request.json());
		return Response.json({ result: result ?? null });
	}

	async alarm(): Promise<void> {
		await this.events.run();
		await this.armAlarm();
	}

	/** Catches every error and drops the failed event, so that it cannot block its message. */
	private async runRequest(id: number, event: ScheduledEvent): Promise<void> {
		try {
			if (event.kind === "callback") await this.sendCallback(id, event);
			else if (event.kind === "media") await this.fetchMedia(id, event);
			else if (this.store.removeEvent(id)) {
				this.applyStep(event.messageSid, event.step);
			}
		} catch (error) {
			this.store.removeEvent(id);
			log.error("simulator.event_failed", {
				sid: event.messageSid,
				kind: event.kind,
				error,
			});
		}
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
		// An MMS first has its media fetched, and its steps are scheduled after that.
		this.store.schedule(
			request.mediaUrls.length > 0
				? [
						{
							kind: "media",
							dueAt: now.getTime(),
							messageSid: resource.sid,
							decision: draw.decision,
						},
					]
				: scheduleEvents({
						resource,
						request,
						decision: draw.decision,
						startAt: now.getTime(),
						delayMs: callbackDelayMs(this.env),
					}),
		);
		this.events.wake();
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

	/**
	 * Fetches the MediaUrl values of an MMS (see media-fetch.ts), records what
	 * came back, and schedules the message's status steps: the usual ones, or
	 * `failed` with the error code of the first item that failed. Fetched
	 * items become the message's Media resources, whose media URLs redirect
	 * to the MediaUrl they came from.
	 */
	private async fetchMedia(
		id: number,
		event: ScheduledMediaCheck,
	): Promise<void> {
		const sid = event.messageSid;
		const request = this.store.request(sid);
		if (!request) {
			this.store.removeEvent(id);
			return;
		}
		const { records, failure } = await fetchOutboundMedia(
			request.mediaUrls,
			this.fetchAsTwilio,
		);
		// A reset during the fetches has already deleted the event and the message.
		if (!this.store.removeEvent(id)) return;
		const resource = this.store.message(sid);
		if (!resource) return;

		const now = new Date();
		this.store.insertMediaFetches(sid, records);
		if (failure === null) {
			this.store.insertMedia(
				sid,
				records.map((record) => ({
					sid: newSid("ME"),
					contentType: record.contentType ?? "",
					sourceUrl: record.url,
					base64: null,
				})),
				0,
				now,
			);
		}
		this.store.schedule(
			scheduleEvents({
				resource,
				request,
				decision: event.decision,
				startAt: now.getTime(),
				delayMs: callbackDelayMs(this.env),
				mediaFailure: failure,
			}),
		);
		const fields = { sid, items: records.length };
		if (failure === null) log.info("simulator.media_fetched", fields);
		else
			log.warn("simulator.media_rejected", {
				...fields,
				errorCode: failure.errorCode,
				error: records.at(-1)?.error,
			});
	}

	/**
	 * Sends a request for a MediaUrl. Requests for URLs under
	 * SIMULATOR_PUBLIC_URL go to the simulator's own routes in-process,
	 * because in tests every fetch the simulator makes goes to the service.
	 * Locally it saves a round trip.
	 */
	private readonly fetchAsTwilio: Fetcher = async (request) => {
		const own = new URL(simulatorBaseUrl(this.env)).origin;
		if (new URL(request.url).origin === own) {
			return app.fetch(request, this.env);
		}
		return fetch(request);
	};

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
