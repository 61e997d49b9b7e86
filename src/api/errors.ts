import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { log } from "../lib/log";

export interface ErrorDetail {
	field: string;
	message: string;
}

/** An error that becomes `{error: {code, message, details?}}` with `status`. */
export class ApiError extends HTTPException {
	readonly code: string;
	readonly details: ErrorDetail[] | undefined;

	constructor(
		status: ContentfulStatusCode,
		code: string,
		message: string,
		options: { details?: ErrorDetail[]; headers?: HeadersInit } = {},
	) {
		super(status, { message });
		this.code = code;
		this.details = options.details;
		this.extraHeaders = options.headers;
	}

	readonly extraHeaders: HeadersInit | undefined;
}

export function errorBody(
	code: string,
	message: string,
	details?: ErrorDetail[],
) {
	return { error: details ? { code, message, details } : { code, message } };
}

/** Builds the JSON error response for every error a route throws. */
export function handleError(error: Error, c: Context): Response {
	if (error instanceof ApiError) {
		const response = c.json(
			errorBody(error.code, error.message, error.details),
			error.status,
		);
		for (const [name, value] of new Headers(error.extraHeaders)) {
			response.headers.set(name, value);
		}
		return response;
	}
	if (error instanceof HTTPException) {
		// Hono's own validators throw this for a body that is not valid JSON.
		if (error.status === 400 && /JSON/i.test(error.message)) {
			return c.json(
				errorBody(
					"invalid_json",
					"The request body is not valid JSON. Send a JSON object with Content-Type: application/json.",
				),
				400,
			);
		}
		return c.json(
			errorBody(httpCode(error.status), error.message),
			error.status,
		);
	}
	log.error("request_failed", {
		method: c.req.method,
		path: c.req.path,
		error,
	});
	return c.json(
		errorBody("internal_error", "The service failed to handle the request."),
		500,
	);
}

function httpCode(status: number): string {
	if (status === 401) return "unauthorized";
	if (status === 403) return "forbidden";
	if (status === 404) return "not_found";
	if (status === 413) return "payload_too_large";
	if (status === 415) return "unsupported_media_type";
	return "bad_request";
}

/** Turns zod issues into one message and per-field details. */
export function validationError(
	issues: z.core.$ZodIssue[],
	target: string,
): ApiError {
	const details = issues.flatMap((issue) => issueDetails(issue, target));
	const summary = details.map((d) => `${d.field}: ${d.message}`).join("; ");
	return new ApiError(400, "invalid_request", `Invalid ${target}: ${summary}`, {
		details,
	});
}

function issueDetails(issue: z.core.$ZodIssue, target: string): ErrorDetail[] {
	const path = issue.path.map(String);
	if (issue.code === "unrecognized_keys") {
		return issue.keys.map((key) => ({
			field: [...path, key].join("."),
			message:
				"unknown field; check its spelling and case against the API docs",
		}));
	}
	const field = path.length > 0 ? path.join(".") : target;
	if (
		issue.code === "invalid_type" &&
		/received undefined/.test(issue.message)
	) {
		return [{ field, message: "is required" }];
	}
	return [{ field, message: issue.message }];
}

/** The validation hook shared by every OpenAPI route. */
export function validationHook(
	result: { success: boolean; error?: z.ZodError; target: string },
	_c: Context,
): void {
	if (!result.success && result.error) {
		const target = result.target === "json" ? "request body" : result.target;
		throw validationError(result.error.issues, target);
	}
}
