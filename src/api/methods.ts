interface RouteEntry {
	method: string;
	path: string;
}

const patterns = new Map<string, RegExp>();

/** Compiles a Hono path such as `/v1/users/:id` into a matching RegExp. */
function pathPattern(path: string): RegExp {
	let pattern = patterns.get(path);
	if (!pattern) {
		const source = path
			.split("/")
			.map((segment) => {
				if (segment === "*") return ".*";
				if (segment.startsWith(":")) return "[^/]+";
				return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
			})
			.join("/");
		pattern = new RegExp(`^${source}/?$`);
		patterns.set(path, pattern);
	}
	return pattern;
}

/**
 * Returns the methods the app serves at `path`, for a 405 answer's Allow
 * header; empty when no route matches the path at all.
 */
export function allowedMethods(routes: RouteEntry[], path: string): string[] {
	const methods = new Set<string>();
	for (const route of routes) {
		if (route.method === "ALL") continue;
		if (pathPattern(route.path).test(path)) methods.add(route.method);
	}
	if (methods.has("GET")) methods.add("HEAD");
	return [...methods].sort();
}
