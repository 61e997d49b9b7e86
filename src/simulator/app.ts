import { Hono } from "hono";
import { api } from "./api";
import { control } from "./control";
import type { SimulatorEnv } from "./env";
import { handleError, handleNotFound } from "./errors";
import { mediaCdn } from "./media";

/**
 * All of the simulator's routes. The worker serves them, and the state
 * object calls them directly for MediaUrl values under the simulator's own
 * URL (see state.ts).
 */
export const app = new Hono<{ Bindings: SimulatorEnv }>();

app.route("/", api);
app.route("/", mediaCdn);
app.route("/", control);
app.onError(handleError);
app.notFound(handleNotFound);
