/**
 * The HTTP API of an instance: one Hono app, served locally by `lamin serve` (node-server) and on
 * AWS Lambda (hono/aws-lambda). Errors are problem+json; every route but /health, /openapi.json
 * and /docs needs a bearer token.
 */
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { bearerToken } from "../../core/auth.js";
import type { Instance } from "../../core/instance.js";
import { baseApp, PUBLIC_PATHS, unauthenticated } from "./base.js";
import type { ApiEnv } from "./env.js";
import { problem, problemResponse } from "./problem.js";
import { annotationRoutes } from "./routes/annotations.js";
import { artifactRoutes } from "./routes/artifacts.js";
import { lineageRoutes } from "./routes/lineage.js";

import { registryRoutes } from "./routes/registries.js";
import { storageRoutes } from "./routes/storage.js";

export interface ApiOptions {
  /** The instance behind the routes. */
  instance: (c: Context) => Instance | Promise<Instance>;
  /** Whether a bearer token may use the instance (undefined: no token was sent). */
  authorize: (token: string | undefined) => boolean | Promise<boolean>;
  /** Largest JSON body accepted, in bytes. */
  maxJsonBytes?: number;
  version?: string;
  /**
   * Path under which the routes are reached when the app is mounted below a prefix (the hub
   * serves it at `/instances/{owner}/{name}`): upload and download URLs handed to clients start
   * with it. Default: "" (served at the root).
   */
  basePath?: string | ((c: Context) => string);
}

export function createApp(opts: ApiOptions) {
  const app = baseApp<ApiEnv>({
    title: "lamindb-serverless",
    version: opts.version,
    description: "LaminDB's registries over HTTP. Filters use the query language of the README.",
  });

  app.use("*", async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path)) return next();
    const header = c.req.header("authorization");
    const token = bearerToken(header);
    if (!(await opts.authorize(token))) {
      return unauthenticated(c, {
        sent: header !== undefined,
        credential: "access token",
        hint: "send Authorization: Bearer <token> (lamin serve prints one)",
        realm: "lamindb",
      });
    }
    c.set("instance", await opts.instance(c));
    return next();
  });
  // What the instance is; never how its database is reached.
  app.get("/instance", (c) => {
    const { instance, uid, storage, user } = c.var.instance.describe();
    return c.json({ instance, uid, storage, user });
  });
  // JSON bodies are small; uploads stream their bytes and are bounded by the declared size
  const jsonLimit = bodyLimit({
    maxSize: opts.maxJsonBytes ?? 1024 * 1024,
    onError: (c) =>
      problemResponse(
        c,
        problem("too-large", "the request body is too large", "send at most 1 MiB of JSON"),
      ),
  });
  app.use("*", async (c, next) => (c.req.method === "PUT" ? next() : jsonLimit(c, next)));

  return app
    .route("/", artifactRoutes(opts.basePath))
    .route("/", lineageRoutes())
    .route("/", registryRoutes())
    .route("/", annotationRoutes())
    .route("/", storageRoutes());
}

export type AppType = ReturnType<typeof createApp>;
