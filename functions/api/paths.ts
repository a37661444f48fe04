/**
 * Paths that different layers may read differently (a proxy, a router, URL parsing) are refused
 * before anything is dispatched: an empty segment (`//`), a dot segment (`.`, `..`), an encoded
 * `/` or `\`, a backslash, and a %-escape of a character that needs none (`%72` for `r`, `%2E`
 * for `.`). Clients that encode path segments as `encodeURIComponent` does never send these.
 */
import type { Context, MiddlewareHandler } from "hono";
import { problem, problemResponse } from "./problem.js";

/** Why `path` (without its query) is ambiguous, or undefined when it is not. */
export function ambiguity(path: string): string | undefined {
  if (path.includes("\\") || /%5c/i.test(path)) return "a backslash";
  if (/%2f/i.test(path)) return "an encoded '/' (%2F)";
  // the unreserved characters of RFC 3986: escaping them changes nothing but what a parser sees
  const needless = /%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/.exec(path);
  if (needless) return `a needless %-escape (${needless[0]})`;
  const segments = path.split("/").slice(1);
  if (segments.slice(0, -1).includes("")) return "an empty segment (//)";
  if (segments.some((s) => s === "." || s === "..")) return "a '.' or '..' segment";
  return undefined;
}

/**
 * The path as the client sent it, before URL parsing resolved dot segments: the request line
 * in Node, the event's raw path in Lambda, else the request's URL.
 */
export function rawPath(c: Context): string {
  const env = c.env as
    | { incoming?: { url?: string }; event?: { rawPath?: string; path?: string } }
    | undefined;
  const sent = env?.incoming?.url ?? env?.event?.rawPath ?? env?.event?.path;
  // an absolute-form request target (`http://host/path`) keeps its path as written
  const target = sent?.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, "") || new URL(c.req.url).pathname;
  return target.split("?")[0] ?? target;
}

/** 400 problem+json for an ambiguous path, before routing, authentication or anything else. */
export function refuseAmbiguousPaths(): MiddlewareHandler {
  return async (c, next) => {
    const why = ambiguity(rawPath(c));
    if (!why) return next();
    return problemResponse(
      c,
      problem(
        "validation",
        `the request path is ambiguous: it has ${why}`,
        "send each path segment as written, percent-encoding only what must be (as encodeURIComponent does): no //, no . or .. segments, no encoded / or .",
      ),
    );
  };
}
