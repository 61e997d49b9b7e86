import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { log } from "../lib/log";

export const API_PREFIX = "/2010-04-01/";

/**
 * Error of the Twilio REST API, sent in the 2010 API's error body
 * `{code, message, more_info, status}` without extra fields.
 */
export class TwilioApiError extends HTTPException {
	readonly code: number;

	constructor(status: ContentfulStatusCode, code: number, message: string) {
		super(status, { message });
		this.code = code;
	}
}

export function twilioErrorBody(code: number, message: string, status: number) {
	return {
		code,
		message,
		more_info: `https://www.twilio.com/docs/errors/${code}`,
		status,
	};
}

/**
 * Error of the simulator's own `/simulator` routes, sent in the service's
 * error body `{error: {code, message, details?}}`.
 */
export class ControlError extends HTTPException {
	readonly code: string;
	readonly details: unknown;

	constructor(
		status: ContentfulStatusCode,
		code: string,
		message: string,
		details?: unknown,
	) {
		super(status, { message });
		this.code = code;
		this.details = details;
	}
}

/** Parses `input` or throws a 400 that lists each invalid field. */
export function parseOrThrow<T extends z.ZodType>(
	schema: T,
	input: unknown,
): z.infer<T> {
	const result = schema.safeParse(input);
	if (result.success) return result.data;
	throw new ControlError(
		400,
		"invalid_request",
		"The request body does not match the expected shape; see details.",
		result.error.issues.map((issue) => ({
			field: issue.path.join("."),
			message: issue.message,
		})),
	);
}

/**
 * Converts any thrown error into a response: Twilio's error body under
 * `/2010-04-01/` and the service's error body elsewhere.
 */
export function handleError(error: Error, c: Context): Response {
	if (error instanceof TwilioApiError) {
		log.info("simulator.api_error", {
			path: c.req.path,
			status: error.status,
			code: error.code,
		});
		const response = c.json(
			twilioErrorBody(error.code, error.message, error.status),
			error.status,
		);
		if (error.status === 401) {
			response.headers.set("WWW-Authenticate", 'Basic realm="Twilio API"');
		}
		return response;
	}
	if (error instanceof ControlError) {
		const body =
			error.details === undefined
				? { code: error.code, message: error.message }
				: { code: error.code, message: error.message, details: error.details };
		return c.json({ error: body }, error.status);
	}
	if (error instanceof HTTPException) {
		return error.getResponse();
	}

	log.error("simulator.request_failed", {
		method: c.req.method,
		path: c.req.path,
		error,
	});
	if (c.req.path.startsWith(API_PREFIX)) {
		return c.json(twilioErrorBody(20500, "Internal Server Error", 500), 500);
	}
	return c.json(
		{
			error: {
				code: "internal_error",
				message: "The simulator failed to handle the request.",
			},
		},
		500,
	);
}

/** Responds with Twilio's 20404 under `/2010-04-01/`, as Twilio does, and with `not_found` elsewhere. */
export function handleNotFound(c: Context): Response {
	if (c.req.path.startsWith(API_PREFIX)) {
		return c.json(
			twilioErrorBody(
				20404,
				`The requested resource ${c.req.path} was not found`,
				404,
			),
			404,
		);
	}
	return c.json(
		{
			error: {
				code: "not_found",
				message: `No simulator route matches ${c.req.method} ${c.req.path}.`,
			},
		},
		404,
	);
}
