// The dashboard's stylesheet, inlined into the page and allowed by its hash
// in the Content-Security-Policy. Colours meet WCAG AA contrast (4.5:1) for
// text on their backgrounds.

export const DASHBOARD_STYLES = `
:root {
	--ink: #1f2933;
	--muted: #52606d;
	--line: #d9e2ec;
	--paper: #ffffff;
	--wash: #f5f7fa;
	--accent: #1d4ed8;
	--danger: #b42318;
	font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
	color: var(--ink);
	background: var(--wash);
	line-height: 1.5;
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
h1, h2, h3 { line-height: 1.2; }
h1 { font-size: 1.25rem; margin: 0; }
h2 { font-size: 1.25rem; margin: 0 0 1rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 0.5rem; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
[hidden] { display: none !important; }
.visually-hidden {
	position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0;
	overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.skip { position: absolute; left: 0.5rem; top: -3rem; background: var(--paper); padding: 0.5rem; }
.skip:focus { top: 0.5rem; }
.top {
	display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.5rem;
	padding: 0.75rem 1rem; background: var(--paper); border-bottom: 1px solid var(--line);
}
.top nav { display: flex; flex-wrap: wrap; gap: 0.25rem; }
.top nav a {
	padding: 0.5rem 0.75rem; border-radius: 6px; text-decoration: none; font-weight: 600;
}
.top nav a[aria-current="page"] { background: #dbe4ff; color: #1e3a8a; }
.rate {
	display: flex; align-items: center; gap: 0.5rem; margin: 0 0 0 auto;
	font-size: 0.875rem; color: var(--muted);
}
.rate meter { width: 4rem; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
main:focus { outline: none; }
section { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
section > p:first-child { margin-top: 0; }
.status { max-width: 72rem; margin: 0 auto; padding: 0 1rem; min-height: 1.5rem; }
.status:not(:empty) { padding-top: 0.75rem; font-weight: 600; }
.status.error { color: var(--danger); }
form { display: grid; gap: 0.25rem; max-width: 32rem; }
form > * { min-width: 0; }
#send-result { overflow-wrap: anywhere; }
label { font-weight: 600; margin-top: 0.5rem; }
input, textarea, select, button { font: inherit; }
input, textarea, select {
	width: 100%; padding: 0.5rem; border: 1px solid #7b8794; border-radius: 6px; background: var(--paper); color: var(--ink);
}
textarea { resize: vertical; }
button {
	min-height: 2.75rem; padding: 0.5rem 1rem; border: 1px solid var(--accent); border-radius: 6px;
	background: var(--accent); color: #fff; font-weight: 600; cursor: pointer;
}
button.secondary { background: var(--paper); color: var(--accent); }
button:disabled { background: #f0f2f4; border-color: #cbd2d9; color: #52606d; cursor: not-allowed; }
form button[type="submit"] { justify-self: start; margin-top: 0.75rem; }
.hint { margin: 0; color: var(--muted); font-size: 0.875rem; }
.error { margin: 0; color: var(--danger); font-weight: 600; }
.error:empty { display: none; }
.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; max-width: none; margin-bottom: 1rem; align-items: end; }
.filters div { display: grid; min-width: 10rem; }
.filters label { margin: 0; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 0.875rem; color: var(--muted); }
td.body { max-width: 22rem; overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
.badge {
	display: inline-block; padding: 0.1rem 0.5rem; border-radius: 999px; font-size: 0.8125rem;
	font-weight: 600; background: #e4e7eb; color: #323f4b; white-space: nowrap;
}
.badge.queued, .badge.sending, .badge.sent { background: #dbeafe; color: #1e3a8a; }
.badge.delivered, .badge.read { background: #dcfce7; color: #14532d; }
.badge.failed, .badge.undelivered { background: #fee2e2; color: #7f1d1d; }
.badge.retrying { background: #fef3c7; color: #78350f; }
.badge.received { background: #ede9fe; color: #4c1d95; }
.pager { display: flex; gap: 0.5rem; align-items: center; margin-top: 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0; }
dt { font-weight: 600; color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.timeline { list-style: none; margin: 0; padding: 0 0 0 1rem; border-left: 3px solid var(--line); }
.timeline li { position: relative; padding: 0 0 1rem 0.75rem; }
/* Each marker is centred on the list's 3 px left border: 1rem of padding
   plus half the border and half the 18 px marker to the left of the item. */
.timeline li::before {
	content: ""; position: absolute; left: calc(-1rem - 10.5px); top: 0.3rem;
	width: 18px; height: 18px; box-sizing: border-box;
	border-radius: 50%; background: var(--paper); border: 3px solid #7b8794;
}
.timeline li.delivered::before, .timeline li.read::before { border-color: #15803d; }
.timeline li.failed::before, .timeline li.undelivered::before { border-color: #b42318; }
.timeline li.retrying::before { border-color: #b45309; }
.timeline .meta { color: var(--muted); font-size: 0.875rem; }
.cards { list-style: none; margin: 0.75rem 0 0; padding: 0; display: grid; gap: 0.75rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 0.75rem; display: grid; gap: 0.5rem; }
.card .head { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
.card .error-text { overflow-wrap: anywhere; }
.card .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
@media (max-width: 40rem) {
	main { padding: 0.5rem; }
	section { padding: 0.75rem; }
	.top { gap: 0.5rem; }
	.top #sign-out { order: 1; margin-left: auto; }
	.top nav { order: 2; width: 100%; }
	.rate { order: 3; width: 100%; margin: 0; }
	table, thead, tbody, tr, td { display: block; }
	thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
	tr { border-bottom: 1px solid var(--line); padding: 0.5rem 0; }
	td { border: 0; padding: 0.125rem 0; display: grid; grid-template-columns: 6.5rem 1fr; gap: 0.5rem; }
	td::before { content: attr(data-label); font-weight: 600; color: var(--muted); font-size: 0.875rem; }
	td > * { justify-self: start; }
	td.body { max-width: none; }
	dl { grid-template-columns: 1fr; }
	dd { margin-bottom: 0.5rem; }
}
`;
