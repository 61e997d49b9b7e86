export default {
	async fetch(request) {
		if (new URL(request.url).pathname === "/echo") {
			const res = await fetch("https://sms.test/from-sim");
			return new Response(`sim got: ${await res.text()}`);
		}
		return Response.json({ simulator: true });
	},
} satisfies ExportedHandler;
