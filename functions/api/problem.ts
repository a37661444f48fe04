/**
 * Errors over HTTP as RFC 9457 problem details (`application/problem+json`): a stable `type`,
 * a `title`, the right status, and a `detail` that says what to do. Stack traces never leave.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { dbFault } from "../../core/db/faults.js";
import { type ErrorKind, LaminError } from "../../core/errors.js";
import { ioError } from "../../core/io-errors.js";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  hint?: string;
  /** A structured report of what was wrong (schema validation), when the error has one. */
  report?: unknown;
}

const KINDS: Record<ErrorKind | "internal" | "payload", { status: number; title: string }> = {
  validation: { status: 400, title: "Invalid request" },
  unauthenticated: { status: 401, title: "Authentication required" },
  permission: { status: 403, title: "Not allowed" },
  "not-found": { status: 404, title: "Not found" },
  conflict: { status: 409, title: "Conflict" },
  "too-large": { status: 413, title: "Payload too large" },
  unprocessable: { status: 422, title: "Unprocessable content" },
  integrity: { status: 422, title: "Integrity check failed" },
  payload: { status: 415, title: "Unsupported media type" },
  unavailable: { status: 503, title: "Service unavailable" },
  "insufficient-storage": { status: 507, title: "Insufficient storage" },
  internal: { status: 500, title: "Internal error" },
};

export const problemType = (kind: string) => `urn:lamindb-serverless:problem:${kind}`;

export function problem(kind: keyof typeof KINDS, detail: string, hint?: string): Problem {
  const { status, title } = KINDS[kind];
  return { type: problemType(kind), title, status, detail, ...(hint ? { hint } : {}) };
}

/** Seconds a client should wait before retrying a 503 (a database restarting, a busy lock). */
export const RETRY_AFTER_SECONDS = 5;

export function problemResponse(c: Context, p: Problem): Response {
  return c.body(JSON.stringify(p), p.status as ContentfulStatusCode, {
    "content-type": "application/problem+json",
    ...(p.status === 503 ? { "retry-after": String(RETRY_AFTER_SECONDS) } : {}),
  });
}

/** Map anything thrown by a handler to a problem; unknown errors are logged, not leaked. */
export function toProblem(thrown: unknown): Problem {
  // a database failure met outside a query (e.g. opening the instance) is classified here too
  // (server paths stay out of the answer: a disk problem is described without them)
  const error = dbFault(thrown) ?? ioError(thrown, "the server cannot write its files") ?? thrown;
  if (error instanceof LaminError) {
    const report = (error as { report?: unknown }).report;
    return { ...problem(error.kind, error.message, error.hint), ...(report ? { report } : {}) };
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    const kind =
      status === 401
        ? "unauthenticated"
        : status === 413
          ? "too-large"
          : status === 415
            ? "payload"
            : status === 404
              ? "not-found"
              : status < 500
                ? "validation"
                : "internal";
    return problem(kind, error.message || KINDS[kind].title);
  }
  if (error instanceof SyntaxError) {
    return problem("validation", "the request body is not valid JSON", "send a JSON document");
  }
  console.error("unhandled error in API handler:", error);
  return problem(
    "internal",
    "something went wrong on the server",
    "try again; if it persists, report it",
  );
}

/** zod-openapi's hook: a request that fails validation becomes a 400 problem naming the fields. */
export function problemHook(
  result:
    | { success: true }
    | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const detail = result.error.issues
    .slice(0, 10)
    .map((i) => `${i.path.map(String).join(".") || "(request)"}: ${i.message}`)
    .join("; ");
  return problemResponse(c, problem("validation", detail, "see /docs for the expected request"));
}
