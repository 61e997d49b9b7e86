import { MESSAGE_STATUSES } from "../messages/status";

/**
 * Builds the dashboard's HTML. The views are static markup that the inline
 * script fills from the JSON API; the script and stylesheet are passed in so
 * that their hashes, not 'unsafe-inline', admit them in the CSP.
 */
export function dashboardHtml(script: string, styles: string): string {
	const statusOptions = MESSAGE_STATUSES.map(
		(status) => `<option value="${status}">${status}</option>`,
	).join("");
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Edge SMS dashboard</title>
<link rel="icon" href="data:,">
<style>${styles}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
	<h1>Edge SMS</h1>
	<nav id="nav" aria-label="Views" hidden>
		<a href="#/messages">Messages</a>
		<a href="#/send">Send</a>
		<a href="#/dead-letters">Dead letters</a>
	</nav>
	<p id="rate-limit" class="rate" hidden>
		<span id="rate-limit-text">Rate limit: loading</span>
		<meter id="rate-limit-meter" min="0" max="1" value="0" aria-labelledby="rate-limit-text"></meter>
	</p>
	<button id="sign-out" type="button" class="secondary" hidden>Sign out</button>
</header>
<p id="status" class="status" role="status" aria-live="polite"></p>
<main id="main" tabindex="-1">
	<section id="view-sign-in" aria-labelledby="sign-in-title">
		<h2 id="sign-in-title" tabindex="-1">Sign in</h2>
		<form id="sign-in-form" novalidate>
			<label for="api-key">API key</label>
			<input id="api-key" name="apiKey" type="password" autocomplete="off" spellcheck="false" required aria-describedby="api-key-hint">
			<p id="api-key-hint" class="hint">Kept in this tab's session storage until you sign out or close the tab. An admin creates keys with POST /v1/users.</p>
			<button type="submit">Sign in</button>
			<p id="sign-in-error" class="error" role="alert"></p>
		</form>
	</section>

	<section id="view-send" aria-labelledby="send-title" hidden>
		<h2 id="send-title" tabindex="-1">Send a message</h2>
		<form id="send-form" novalidate>
			<label for="send-to">To</label>
			<input id="send-to" name="to" type="tel" autocomplete="off" required placeholder="+14155550100" aria-describedby="send-to-hint">
			<p id="send-to-hint" class="hint">International format, such as +14155550100.</p>
			<label for="send-body">Message</label>
			<textarea id="send-body" name="body" rows="4" maxlength="1600" aria-describedby="send-body-count"></textarea>
			<p id="send-body-count" class="hint">0 of 1600 characters</p>
			<div id="media-field" hidden>
				<label for="send-media">Media (optional)</label>
				<input id="send-media" name="media" type="file" accept="image/*,audio/*,video/*,application/pdf,text/vcard,text/x-vcard,text/csv,text/rtf,text/calendar,application/vcard,application/vnd.apple.pkpass">
			</div>
			<button type="submit">Send</button>
			<p id="send-error" class="error" role="alert"></p>
			<p id="send-result"></p>
		</form>
	</section>

	<section id="view-messages" aria-labelledby="messages-title" hidden>
		<h2 id="messages-title" tabindex="-1">Messages</h2>
		<form id="filters" class="filters" novalidate>
			<div>
				<label for="filter-status">Status</label>
				<select id="filter-status" name="status"><option value="">Any status</option>${statusOptions}</select>
			</div>
			<div>
				<label for="filter-direction">Direction</label>
				<select id="filter-direction" name="direction">
					<option value="">Both directions</option>
					<option value="outbound">Outbound</option>
					<option value="inbound">Inbound</option>
				</select>
			</div>
		</form>
		<p id="messages-updated" class="hint">Refreshes every 3 seconds.</p>
		<table id="messages-table">
			<caption class="visually-hidden">Messages, newest first. The list refreshes every few seconds.</caption>
			<thead><tr>
				<th scope="col">Status</th><th scope="col">Direction</th><th scope="col">To</th>
				<th scope="col">From</th><th scope="col">Message</th><th scope="col">Created</th>
			</tr></thead>
			<tbody></tbody>
		</table>
		<p id="messages-empty" hidden>No messages match these filters.</p>
		<div id="messages-pager" class="pager">
			<button id="page-newer" type="button" class="secondary">Newer</button>
			<button id="page-older" type="button" class="secondary">Older</button>
		</div>
	</section>

	<section id="view-message" aria-labelledby="message-title" hidden>
		<p><a href="#/messages">Back to all messages</a></p>
		<h2 id="message-title" tabindex="-1">Message</h2>
		<dl id="message-details"></dl>
		<h3>Delivery timeline</h3>
		<ol id="message-timeline" class="timeline"></ol>
	</section>

	<section id="view-dead-letters" aria-labelledby="dead-letters-title" hidden>
		<h2 id="dead-letters-title" tabindex="-1">Dead letters</h2>
		<p class="hint">Messages that could not be delivered. Replay queues one again, once.</p>
		<ul id="dead-letter-list" class="cards"></ul>
		<p id="dead-letters-empty" hidden>No dead letters.</p>
		<div id="dead-letters-pager" class="pager">
			<button id="dead-letters-newer" type="button" class="secondary">Newer</button>
			<button id="dead-letters-older" type="button" class="secondary">Older</button>
		</div>
	</section>
</main>
<script>${script}</script>
</body>
</html>
`;
}
