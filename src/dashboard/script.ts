// The dashboard's browser code: plain ES2022, no build step, inlined into
// the page and allowed by its hash in the Content-Security-Policy. It uses
// only the public JSON API with the API key from sessionStorage, and builds
// every element with textContent, never innerHTML, so no stored text can
// inject markup.
//
// String.raw keeps backslashes (as in regular expressions) as written. The
// code must contain no backtick and no dollar-brace sequence, which would end
// or interpolate the template.

export const DASHBOARD_SCRIPT = String.raw`
(() => {
	const KEY_STORAGE = "edge-sms.apiKey";
	const REFRESH_MS = 3000;
	const PAGE_SIZE = 25;
	const FINAL_STATUSES = [
		"delivered",
		"undelivered",
		"failed",
		"canceled",
		"read",
		"received",
	];

	const state = {
		apiKey: sessionStorage.getItem(KEY_STORAGE),
		view: "",
		timer: 0,
		mediaUpload: false,
		messagePages: [null],
		messageNext: null,
		messageStatuses: new Map(),
		deadLetterPages: [null],
		deadLetterNext: null,
		shownMessage: null,
		rateLimitAvailable: true,
	};

	const byId = (id) => document.getElementById(id);

	/** Builds an element; strings among the children become text nodes. */
	function el(tag, attributes, ...children) {
		const node = document.createElement(tag);
		for (const [name, value] of Object.entries(attributes || {})) {
			if (value === null || value === undefined || value === false) continue;
			if (name === "class") node.className = value;
			else if (name.startsWith("on"))
				node.addEventListener(name.slice(2), value);
			else node.setAttribute(name, value === true ? "" : String(value));
		}
		for (const child of children.flat()) {
			if (child !== null && child !== undefined) node.append(child);
		}
		return node;
	}

	function badge(status) {
		return el("span", { class: "badge " + status }, status);
	}

	function timeElement(iso) {
		if (!iso) return "";
		return el("time", { datetime: iso }, new Date(iso).toLocaleString());
	}

	function announce(text, isError) {
		const region = byId("status");
		region.classList.toggle("error", Boolean(isError));
		// Clearing first makes screen readers announce a repeated message.
		region.textContent = "";
		window.setTimeout(() => {
			region.textContent = text;
		}, 50);
	}

	class ApiError extends Error {
		constructor(status, body) {
			super(
				body?.error?.message || "The request failed with HTTP " + status + ".",
			);
			this.status = status;
			this.body = body;
		}
	}

	/**
	 * Calls the JSON API with the API key and throws ApiError for a 4xx or
	 * 5xx. A 401 signs out, unless options.keepSession is set (the sign-in check).
	 */
	async function api(method, path, options = {}) {
		const headers = new Headers({ Authorization: "Bearer " + state.apiKey });
		let body;
		if (options.json !== undefined) {
			headers.set("Content-Type", "application/json");
			body = JSON.stringify(options.json);
		} else if (options.file) {
			headers.set(
				"Content-Type",
				options.file.type || "application/octet-stream",
			);
			body = options.file;
		}
		const response = await fetch(path, { method, headers, body });
		const type = response.headers.get("Content-Type") || "";
		const data = type.includes("json")
			? await response.json().catch(() => null)
			: null;
		if (response.status === 401 && !options.keepSession) {
			signOut("The API key was rejected. Sign in with a valid key.");
		}
		if (!response.ok) throw new ApiError(response.status, data);
		return data;
	}

	// Signing in and out

	async function signIn(event) {
		event.preventDefault();
		const input = byId("api-key");
		const error = byId("sign-in-error");
		const key = input.value.trim();
		error.textContent = "";
		if (!key) {
			error.textContent = "Enter an API key.";
			input.focus();
			return;
		}
		state.apiKey = key;
		try {
			await api("GET", "/v1/messages?limit=1", { keepSession: true });
		} catch (failure) {
			state.apiKey = null;
			error.textContent =
				failure.status === 401
					? "This API key is unknown or revoked. Ask an admin for a new key."
					: failure.message;
			input.focus();
			return;
		}
		sessionStorage.setItem(KEY_STORAGE, key);
		input.value = "";
		announce("Signed in.");
		startSession();
	}

	function signOut(message) {
		sessionStorage.removeItem(KEY_STORAGE);
		state.apiKey = null;
		window.clearInterval(state.timer);
		byId("nav").hidden = true;
		byId("sign-out").hidden = true;
		byId("rate-limit").hidden = true;
		if (message) byId("sign-in-error").textContent = message;
		showView("sign-in");
		if (message) announce(message, true);
	}

	function startSession() {
		byId("nav").hidden = false;
		byId("sign-out").hidden = false;
		checkMediaUpload();
		refreshRateLimit();
		window.clearInterval(state.timer);
		state.timer = window.setInterval(refreshCurrentView, REFRESH_MS);
		if (!location.hash || location.hash === "#/") location.hash = "#/messages";
		else route();
	}

	// Views

	function showView(name) {
		for (const section of document.querySelectorAll("main > section")) {
			section.hidden = section.id !== "view-" + name;
		}
		for (const link of document.querySelectorAll("#nav a")) {
			const target = link.getAttribute("href").slice(2);
			const current =
				name === target || (name === "message" && target === "messages");
			if (current) link.setAttribute("aria-current", "page");
			else link.removeAttribute("aria-current");
		}
		// Focus moves to the new view's heading, except on the first render,
		// where the reader starts at the top of the page.
		const moveFocus = state.view !== "" && state.view !== name;
		state.view = name;
		if (moveFocus) {
			// An announcement about the previous view would mislead here.
			byId("status").textContent = "";
			const heading = document.querySelector("#view-" + name + " h2");
			if (heading) heading.focus();
		}
	}

	function route() {
		if (!state.apiKey) {
			showView("sign-in");
			return;
		}
		const path = location.hash.slice(1);
		const messageMatch = /^\/messages\/([^/]+)$/.exec(path);
		if (messageMatch) {
			state.shownMessage = null;
			showView("message");
			loadMessage(decodeURIComponent(messageMatch[1]));
		} else if (path === "/send") {
			showView("send");
		} else if (path === "/dead-letters") {
			showView("dead-letters");
			loadDeadLetters();
		} else {
			showView("messages");
			loadMessages();
		}
	}

	function refreshCurrentView() {
		if (!state.apiKey || document.hidden) return;
		refreshRateLimit();
		if (state.view === "messages") loadMessages();
		else if (state.view === "dead-letters") loadDeadLetters();
		else if (state.view === "message" && state.shownMessage) {
			if (!FINAL_STATUSES.includes(state.shownMessage.status)) {
				loadMessage(state.shownMessage.id);
			}
		}
	}

	// Rate limit

	async function refreshRateLimit() {
		if (!state.rateLimitAvailable) return;
		const panel = byId("rate-limit");
		const text = byId("rate-limit-text");
		const meter = byId("rate-limit-meter");
		try {
			const limit = await api("GET", "/v1/rate-limit");
			panel.hidden = false;
			meter.hidden = false;
			meter.max = limit.capacity;
			meter.value = limit.remaining;
			text.textContent =
				"Rate limit: " +
				limit.remaining +
				" of " +
				limit.capacity +
				" " +
				limit.unit +
				"s left, +" +
				limit.refillPerSecond +
				" per second";
		} catch (failure) {
			if (failure.status === 404) {
				// The route does not exist on this deployment: stop asking.
				state.rateLimitAvailable = false;
				panel.hidden = true;
				return;
			}
			panel.hidden = false;
			meter.hidden = true;
			text.textContent =
				"Rate limit: unavailable (" + failure.message + ")";
		}
	}

	// Sending

	async function checkMediaUpload() {
		try {
			const response = await fetch("/openapi.json");
			const spec = await response.json();
			state.mediaUpload = Boolean(spec.paths?.["/v1/media"]?.post);
		} catch {
			state.mediaUpload = false;
		}
		byId("media-field").hidden = !state.mediaUpload;
	}

	function updateBodyCount() {
		const length = byId("send-body").value.length;
		byId("send-body-count").textContent = length + " of 1600 characters";
	}

	async function sendMessage(event) {
		event.preventDefault();
		const form = event.currentTarget;
		const error = byId("send-error");
		const result = byId("send-result");
		const button = form.querySelector("button[type=submit]");
		const to = byId("send-to").value.trim();
		const body = byId("send-body").value;
		const file = state.mediaUpload ? byId("send-media").files[0] : undefined;
		error.textContent = "";
		result.textContent = "";
		if (!to) {
			error.textContent = "Enter the recipient's number, such as +14155550100.";
			byId("send-to").focus();
			return;
		}
		if (!body.trim() && !file) {
			error.textContent = "Write a message or attach a file.";
			byId("send-body").focus();
			return;
		}

		button.disabled = true;
		button.textContent = "Sending";
		try {
			const request = { to };
			if (body.trim()) request.body = body;
			if (file) {
				const media = await api("POST", "/v1/media", { file });
				request.mediaIds = [media.id];
			}
			const message = await api("POST", "/v1/messages", { json: request });
			result.replaceChildren(
				"Queued ",
				el(
					"a",
					{ href: "#/messages/" + encodeURIComponent(message.id) },
					message.id,
				),
				" with status ",
				badge(message.status),
				".",
			);
			announce("Message " + message.id + " is " + message.status + ".");
			form.reset();
			updateBodyCount();
			refreshRateLimit();
		} catch (failure) {
			error.textContent = failure.message;
		} finally {
			button.disabled = false;
			button.textContent = "Send";
		}
	}

	// Messages list

	function messageFilters() {
		const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
		const status = byId("filter-status").value;
		const direction = byId("filter-direction").value;
		if (status) params.set("status", status);
		if (direction) params.set("direction", direction);
		const cursor = state.messagePages[state.messagePages.length - 1];
		if (cursor) params.set("cursor", cursor);
		return params;
	}

	async function loadMessages() {
		let page;
		try {
			page = await api("GET", "/v1/messages?" + messageFilters());
		} catch (failure) {
			if (failure.status !== 401) announce(failure.message, true);
			return;
		}
		if (state.view !== "messages") return;

		announceStatusChanges(page.data);
		const rows = page.data.map(messageRow);
		document.querySelector("#messages-table tbody").replaceChildren(...rows);
		byId("messages-table").hidden = rows.length === 0;
		byId("messages-empty").hidden = rows.length > 0;

		state.messageNext = page.nextCursor;
		byId("page-older").disabled = !page.nextCursor;
		byId("page-newer").disabled = state.messagePages.length === 1;
		byId("messages-pager").hidden =
			!page.nextCursor && state.messagePages.length === 1;
		byId("messages-updated").textContent =
			"Refreshes every 3 seconds. Updated " +
			new Date().toLocaleTimeString() +
			".";
	}

	function messageRow(message) {
		return el(
			"tr",
			{ "data-message-id": message.id },
			el("td", { "data-label": "Status" }, badge(message.status)),
			el("td", { "data-label": "Direction" }, message.direction),
			el("td", { "data-label": "To", class: "nowrap" }, message.to),
			el("td", { "data-label": "From", class: "nowrap" }, message.from || ""),
			el(
				"td",
				{ "data-label": "Message", class: "body" },
				el(
					"a",
					{ href: "#/messages/" + encodeURIComponent(message.id) },
					message.body || "(media only)",
				),
			),
			el("td", { "data-label": "Created" }, timeElement(message.createdAt)),
		);
	}

	/** Announces messages on this page whose status changed since the last load. */
	function announceStatusChanges(messages) {
		const changes = [];
		for (const message of messages) {
			const before = state.messageStatuses.get(message.id);
			if (before && before !== message.status) {
				changes.push(message.to + " is now " + message.status);
			}
			state.messageStatuses.set(message.id, message.status);
		}
		if (changes.length > 3)
			announce(changes.length + " messages changed status.");
		else if (changes.length > 0)
			announce("Message to " + changes.join("; ") + ".");
	}

	function changeMessagePage(older) {
		if (older && state.messageNext) state.messagePages.push(state.messageNext);
		if (!older && state.messagePages.length > 1) state.messagePages.pop();
		loadMessages();
	}

	function resetMessagePages() {
		state.messagePages = [null];
		loadMessages();
	}

	// One message

	async function loadMessage(id) {
		let message;
		try {
			message = await api("GET", "/v1/messages/" + encodeURIComponent(id));
		} catch (failure) {
			if (failure.status === 401) return;
			byId("message-title").textContent = "Message not found";
			byId("message-details").replaceChildren();
			byId("message-timeline").replaceChildren();
			announce(failure.message, true);
			return;
		}
		if (state.view !== "message") return;
		const previous = state.shownMessage;
		if (
			previous &&
			previous.id === message.id &&
			previous.status !== message.status
		) {
			announce("Message status: " + message.status + ".");
		}
		state.shownMessage = message;
		renderMessage(message);
	}

	/** Describes one item of a message's media: {id, url, contentType, size}. */
	function mediaItem(item) {
		const description = [item.contentType, item.size ? item.size + " bytes" : ""]
			.filter(Boolean)
			.join(", ");
		// Inbound media stored only at Twilio has no URL this page may open.
		if (!item.url) return el("div", null, description || "(not available)");
		return el(
			"div",
			null,
			el("a", { href: item.url, rel: "noreferrer", target: "_blank" }, description || "media"),
			" ",
			el("span", { class: "hint" }, item.id || ""),
		);
	}

	function renderMessage(message) {
		byId("message-title").textContent = "Message " + message.id;
		const error =
			message.errorCode || message.errorMessage
				? [message.errorCode, message.errorMessage].filter(Boolean).join(": ")
				: null;
		const media = message.media.map(mediaItem);
		const rows = [
			["Status", badge(message.status)],
			["Direction", message.direction],
			["To", message.to],
			["From", message.from || message.messagingServiceSid || ""],
			["Body", message.body || "(none)"],
			["Media", media.length > 0 ? media : "(none)"],
			["Segments", message.segments + " (" + message.encoding + ")"],
			["Twilio SID", message.twilioSid || "(not sent yet)"],
			["Error", error],
			["Created", timeElement(message.createdAt)],
			["Updated", timeElement(message.updatedAt)],
		];
		byId("message-details").replaceChildren(
			...rows
				.filter(([, value]) => value !== null)
				.flatMap(([term, value]) => [
					el("dt", null, term),
					el("dd", null, value),
				]),
		);
		byId("message-timeline").replaceChildren(
			...message.events.map((event) =>
				el(
					"li",
					{ class: event.status },
					badge(event.status),
					" ",
					timeElement(event.at),
					el("div", { class: "meta" }, "Source: " + event.source),
					event.errorCode || event.errorMessage
						? el(
								"div",
								{ class: "error-text" },
								[event.errorCode, event.errorMessage]
									.filter(Boolean)
									.join(": "),
							)
						: null,
				),
			),
		);
	}

	// Dead letters

	async function loadDeadLetters() {
		const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
		const cursor = state.deadLetterPages[state.deadLetterPages.length - 1];
		if (cursor) params.set("cursor", cursor);
		let page;
		try {
			page = await api("GET", "/v1/dead-letters?" + params);
		} catch (failure) {
			if (failure.status !== 401) announce(failure.message, true);
			return;
		}
		if (state.view !== "dead-letters") return;
		const list = byId("dead-letter-list");
		// A card whose replay is in flight keeps its button state.
		const busy = new Map();
		for (const card of list.querySelectorAll("li[data-busy]")) {
			busy.set(card.dataset.deadLetterId, card);
		}
		list.replaceChildren(
			...page.data.map(
				(letter) => busy.get(letter.id) || deadLetterCard(letter),
			),
		);
		byId("dead-letters-empty").hidden = page.data.length > 0;
		state.deadLetterNext = page.nextCursor;
		byId("dead-letters-older").disabled = !page.nextCursor;
		byId("dead-letters-newer").disabled = state.deadLetterPages.length === 1;
		byId("dead-letters-pager").hidden =
			!page.nextCursor && state.deadLetterPages.length === 1;
	}

	function deadLetterCard(letter) {
		const payload = letter.payload || {};
		const button = el(
			"button",
			{ type: "button", "aria-describedby": "dl-" + letter.id },
			letter.replayedAt ? "Replayed" : "Replay",
		);
		button.disabled = Boolean(letter.replayedAt);
		const outcome = el(
			"span",
			{ class: "hint" },
			letter.replayedAt ? ["Replayed ", timeElement(letter.replayedAt)] : "",
		);
		const card = el(
			"li",
			{ class: "card", "data-dead-letter-id": letter.id },
			el(
				"div",
				{ class: "head" },
				badge(letter.status),
				el(
					"a",
					{ href: "#/messages/" + encodeURIComponent(letter.messageId) },
					"To " + (payload.to || "unknown"),
				),
				el("span", { class: "hint" }, "failed ", timeElement(letter.failedAt)),
			),
			el("div", { class: "error-text", id: "dl-" + letter.id }, letter.error),
			el(
				"div",
				{ class: "hint" },
				"Retries: " + letter.retryCount + ". Dead letter " + letter.id + ".",
			),
			el("div", { class: "actions" }, button, outcome),
		);
		button.addEventListener("click", () =>
			replay(letter, card, button, outcome),
		);
		return card;
	}

	async function replay(letter, card, button, outcome) {
		card.dataset.busy = "true";
		button.disabled = true;
		button.textContent = "Replaying";
		button.setAttribute("aria-busy", "true");
		try {
			const replayed = await api(
				"POST",
				"/v1/dead-letters/" + encodeURIComponent(letter.id) + "/replay",
			);
			button.textContent = "Replayed";
			outcome.replaceChildren("Replayed ", timeElement(replayed.replayedAt));
			announce(
				"Replay of the message to " + (letter.payload.to || "") + " is queued.",
			);
		} catch (failure) {
			if (failure.status === 409) {
				button.textContent = "Replayed";
				outcome.textContent = "Already replayed.";
			} else {
				button.disabled = false;
				button.textContent = "Replay";
			}
			announce(failure.message, true);
		} finally {
			button.removeAttribute("aria-busy");
			delete card.dataset.busy;
		}
	}

	function changeDeadLetterPage(older) {
		if (older && state.deadLetterNext)
			state.deadLetterPages.push(state.deadLetterNext);
		if (!older && state.deadLetterPages.length > 1) state.deadLetterPages.pop();
		loadDeadLetters();
	}

	// Wiring

	byId("sign-in-form").addEventListener("submit", signIn);
	byId("sign-out").addEventListener("click", () => {
		signOut();
		announce("Signed out.");
	});
	byId("send-form").addEventListener("submit", sendMessage);
	byId("send-body").addEventListener("input", updateBodyCount);
	byId("filter-status").addEventListener("change", resetMessagePages);
	byId("filter-direction").addEventListener("change", resetMessagePages);
	byId("page-older").addEventListener("click", () => changeMessagePage(true));
	byId("page-newer").addEventListener("click", () => changeMessagePage(false));
	byId("dead-letters-older").addEventListener("click", () =>
		changeDeadLetterPage(true),
	);
	byId("dead-letters-newer").addEventListener("click", () =>
		changeDeadLetterPage(false),
	);
	window.addEventListener("hashchange", route);
	document.addEventListener("visibilitychange", refreshCurrentView);

	if (state.apiKey) startSession();
	else showView("sign-in");
})();
`;
