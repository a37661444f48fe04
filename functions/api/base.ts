/**
 * What every app of ours starts with: problem+json errors and 404s, `/health`, `/docs`, and an
 * OpenAPI 3.1 description whose operations all need a bearer token (the public routes are not
 * in it). The instance API and the hub build on it.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, Env } from "hono";
import { docsPage } from "./docs.js";
import { problem, problemHook, problemResponse, toProblem } from "./problem.js";

/** Routes answered without a token. */
export const PUBLIC_PATHS = new Set(["/health", "/openapi.json", "/docs", "/session"]);

export function baseApp<E extends Env>(info: {
  title: string;
  description: string;
  version?: string | undefined;
  /** More fields of the /health answer (an instance's uid, see ApiOptions.health). */
  health?: Record<string, string> | undefined;
}) {
  const app = new OpenAPIHono<E>({ defaultHook: problemHook });
  app.onError((error, c) => problemResponse(c, toProblem(error)));
  app.notFound((c) =>
    problemResponse(
      c,
      problem("not-found", `no route ${c.req.method} ${c.req.path}`, "see /docs for the routes"),
    ),
  );
  // A NUL byte fits no name, key, slug or filter value (Postgres cannot store one): refused
  // before any route, in the raw URL so that no decoding step can hide it.
  app.use("*", async (c, next) => {
    if (!/%00|\0/.test(c.req.url)) return next();
    return problemResponse(
      c,
      problem(
        "validation",
        "the request's path or query holds a NUL byte (%00)",
        "remove it: names, keys, slugs and filter values cannot contain NUL",
      ),
    );
  });
  app.get("/health", (c) => c.json({ ...info.health, ok: true }));
  app.get("/docs", (c) => c.html(docsPage("/openapi.json")));
  app.get("/openapi.json", (c) =>
    c.json(
      plainPathParams(
        app.getOpenAPI31Document({
          openapi: "3.1.0",
          info: {
            title: info.title,
            version: info.version ?? "0.0.0",
            description: info.description,
          },
          security: [{ bearer: [] }],
        }),
      ),
    ),
  );
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
  });
  return app;
}

/**
 * The document's paths without the router's patterns: `{path{.+}}` (a parameter that spans
 * segments) is documented as `{path}`.
 */
function plainPathParams<D extends { paths?: Record<string, unknown> }>(doc: D): D {
  if (!doc.paths) return doc;
  const paths = Object.fromEntries(
    Object.entries(doc.paths).map(([p, item]) => [p.replace(/\{(\w+)\{[^}]*\}\}/g, "{$1}"), item]),
  );
  return { ...doc, paths };
}

/** 401 problem+json with the `www-authenticate` challenge of `realm`. */
export function unauthenticated(
  c: Context,
  what: { sent: boolean; credential: string; hint: string; realm: string },
): Response {
  const res = problemResponse(
    c,
    problem(
      "unauthenticated",
      what.sent ? `the ${what.credential} is not valid` : `this route needs an ${what.credential}`,
      what.hint,
    ),
  );
  res.headers.set("www-authenticate", `Bearer realm="${what.realm}"`);
  return res;
}
