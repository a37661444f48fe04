/**
 * Building blocks of the route definitions (request and response shapes in OpenAPI terms) and of
 * the list handlers (query parameters to list options, pages to response bodies).
 */
import type { z } from "@hono/zod-openapi";
import type { OrderBy, Page } from "../../core/registry/model/paging.js";
import { Problem } from "./schemas.js";

/** A JSON response with `schema`. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

/** problem+json responses for these status codes. */
export const problems = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      code,
      { content: { "application/problem+json": { schema: Problem } }, description: "a problem" },
    ]),
  );

/** A required JSON request body with `schema`. */
export const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

/** The list options of a validated list query: paging parameters out, the rest is the filter. */
export function listOptions(query: Record<string, unknown>) {
  const { limit, cursor, order_by, ...filter } = query as {
    limit?: number;
    cursor?: string;
    order_by?: OrderBy;
  } & Record<string, unknown>;
  return {
    filter,
    ...(limit !== undefined ? { limit } : {}),
    ...(cursor !== undefined ? { cursor } : {}),
    ...(order_by !== undefined ? { orderBy: order_by } : {}),
  };
}

/** A page as the API answers it: `next_cursor` only when another page follows. */
export const toPage = <T>(p: Page<T>) => ({
  items: p.items,
  ...(p.nextCursor ? { next_cursor: p.nextCursor } : {}),
});

/** `feature.<lookup>=value` parameters apart from the field lookups (as GET /artifacts). */
export function splitFeatureParams(params: Record<string, unknown>): {
  query: Record<string, unknown>;
  features?: Record<string, string>;
} {
  const query: Record<string, unknown> = {};
  const features: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k.startsWith("feature.")) features[k.slice("feature.".length)] = v as string;
    else query[k] = v;
  }
  return Object.keys(features).length > 0 ? { query, features } : { query };
}
