import { Hono } from "hono";
import type { AppEnv } from "../api/context";
import { dashboardHtml } from "./page";
import { DASHBOARD_SCRIPT } from "./script";
import { DASHBOARD_STYLES } from "./styles";

interface DashboardPage {
	html: string;
	contentSecurityPolicy: string;
}

let page: DashboardPage | undefined;

async function sha256Base64(text: string): Promise<string> {
	const digest = await crypto.subtle.digest(
		"SHA-256",
		new TextEncoder().encode(text),
	);
	return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/**
 * Renders the page once per isolate. The policy admits only the page's own
 * inline script and stylesheet (by SHA-256), requests to this origin, and
 * no form submission, so a form can never send the API key in a URL.
 */
async function renderPage(): Promise<DashboardPage> {
	const [scriptHash, styleHash] = await Promise.all([
		sha256Base64(DASHBOARD_SCRIPT),
		sha256Base64(DASHBOARD_STYLES),
	]);
	const contentSecurityPolicy = [
		"default-src 'none'",
		`script-src 'sha256-${scriptHash}'`,
		`style-src 'sha256-${styleHash}'`,
		"connect-src 'self'",
		"img-src 'self' data:",
		"form-action 'none'",
		"base-uri 'none'",
		"frame-ancestors 'none'",
	].join("; ");
	return {
		html: dashboardHtml(DASHBOARD_SCRIPT, DASHBOARD_STYLES),
		contentSecurityPolicy,
	};
}

export const dashboardRouter = new Hono<AppEnv>();

dashboardRouter.get("/", async (c) => {
	page ??= await renderPage();
	const { html, contentSecurityPolicy } = page;
	return c.html(html, 200, {
		"Content-Security-Policy": contentSecurityPolicy,
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "no-referrer",
		"Cache-Control": "no-cache",
	});
});
