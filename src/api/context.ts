import { OpenAPIHono } from "@hono/zod-openapi";
import type { UserRow } from "../db/schema";
import { validationHook } from "./errors";

export interface AppEnv {
	Bindings: Env;
	Variables: { user: UserRow };
}

/** Creates a router whose request validation errors use the service's error shape. */
export function createRouter() {
	return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
