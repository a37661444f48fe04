/**
 * How a create was decided, for clients that report it like the in-process call does: the
 * status code says new (201) or not (200); the `lamin-status` header says which of LaminDB's
 * outcomes (`created`, `new-version`, `existing`, `restored`) and `lamin-note` (URI-encoded)
 * what the caller should know. Headers, so that the bodies stay the plain records.
 */
import type { Context } from "hono";
import type { CreateResult } from "../../../core/registry/records.js";

export const STATUS_HEADER = "lamin-status";
export const NOTE_HEADER = "lamin-note";

export function createdStatus(c: Context, r: CreateResult<unknown>): 200 | 201 {
  c.header(STATUS_HEADER, r.status);
  if (r.note) c.header(NOTE_HEADER, encodeURIComponent(r.note));
  return r.status === "created" || r.status === "new-version" ? 201 : 200;
}

/** The response headers of a create, for the OpenAPI document. */
export const createHeaders = {
  [STATUS_HEADER]: {
    description: "created, new-version, existing or restored",
    schema: { type: "string" as const },
  },
  [NOTE_HEADER]: {
    description: "a note about the outcome (URI-encoded), when there is one",
    schema: { type: "string" as const },
  },
};
