/**
 * The HTTP API of an instance: one Hono app, served locally by `lamin serve` (node-server) and on
 * AWS Lambda (hono/aws-lambda). Errors are problem+json; every route but /health, /openapi.json
 * and /docs needs a bearer token.
 */
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { bearerToken } from "../../core/auth.js";
import { sqlState } from "../../core/db/client.js";
import { forgetSpacePolicies, inSpaces, type SpaceGrants } from "../../core/db/space-policies.js";
import { LaminError } from "../../core/errors.js";
import type { InstanceRole } from "../../core/hub/roles.js";
import type { Instance } from "../../core/instance.js";
import { baseApp, PUBLIC_PATHS, unauthenticated } from "./base.js";
import type { ApiEnv } from "./env.js";
import { problem, problemResponse } from "./problem.js";
import { GCS_EVENTS_PATH, pushToken } from "./push-token.js";
import { assertRolesDeclared, requires } from "./roles.js";
import { annotationRoutes } from "./routes/annotations.js";
import { artifactRoutes } from "./routes/artifacts.js";
import { blockRoutes } from "./routes/blocks.js";
import { branchRoutes } from "./routes/branches.js";
import { lineageRoutes } from "./routes/lineage.js";
import { moduleRoutes } from "./routes/modules.js";
import { registryRoutes } from "./routes/registries.js";
import { schemaRoutes } from "./routes/schemas.js";
import { spaceRoutes } from "./routes/spaces.js";
import { storageRoutes } from "./routes/storage.js";
import {
  type OneTimeCodes,
  requestCredential,
  type SessionKeys,
  sessionState,
  signIn,
  signOut,
} from "./session.js";
import { type WebFiles, webUi } from "./web.js";

export interface ApiOptions {
  /** The instance behind the routes. */
  instance: (c: Context) => Instance | Promise<Instance>;
  /** Whether a bearer token may use the instance (undefined: no token was sent). */
  authorize: (token: string | undefined) => boolean | Promise<boolean>;
  /**
   * The caller's role, which each route's guard checks (routes declare what they need). Absent:
   * the token holder owns the instance (`lamin serve`: one token, full access).
   */
  role?: (c: Context) => InstanceRole | undefined;
  /**
   * Who the caller is, to record their writes as theirs (`created_by`; the hub's accounts).
   * Absent: writes are the instance user's (`lamin serve`: the owner's token).
   */
  actor?: (c: Context) => { uid: string; handle: string } | undefined;
  /**
   * The spaces a restricted caller may read and write (the hub's space grants). Absent or
   * undefined: the caller sees every space (owner, admin, `lamin serve`). Present: the request
   * runs in one transaction under the database's space policies (core/db/space-policies.ts).
   */
  spaces?: (c: Context) => SpaceGrants | undefined;
  /** Largest JSON body accepted, in bytes. */
  maxJsonBytes?: number;
  /**
   * Largest table posted for validation (POST /schemas/{ref}/validate), in bytes. Default 5 MiB,
   * under the 6 MB request limit of AWS Lambda.
   */
  maxTableBytes?: number;
  version?: string;
  /**
   * More fields of the public /health answer. `lamin serve` adds `instance` (its uid), so that
   * local commands tell it from another server that took its port before sending the token.
   */
  health?: Record<string, string>;
  /**
   * Path under which the routes are reached when the app is mounted below a prefix (the hub
   * serves it at `/instances/{owner}/{name}`): upload and download URLs handed to clients start
   * with it. Default: "" (served at the root).
   */
  basePath?: string | ((c: Context) => string);
  /** The built web UI to serve at /ui (see web.ts); absent: no UI. */
  web?: WebFiles | undefined;
  /** Origins the UI's pages may upload to (presigned PUTs to object storage; web.ts). */
  storageOrigins?: readonly string[] | undefined;
  /**
   * Browser sessions (session.ts): the sign-in credential sealed in a cookie, accepted like the
   * bearer header; `codes` are one-time sign-in links. Absent: bearer tokens only.
   */
  session?: { keys: SessionKeys; codes?: OneTimeCodes } | undefined;
}

export function createApp(opts: ApiOptions) {
  const app = baseApp<ApiEnv>({
    title: "lamindb-serverless",
    version: opts.version,
    description: "LaminDB's registries over HTTP. Filters use the query language of the README.",
    health: opts.health,
  });

  if (opts.web) {
    app.use("*", webUi(opts.web, { storageOrigins: opts.storageOrigins ?? [] }));
  }
  const session = opts.session;
  app.post("/session", (c) =>
    signIn(
      c,
      session?.keys,
      async (token) =>
        (await opts.authorize(token))
          ? undefined
          : unauthenticated(c, {
              sent: true,
              credential: "access token",
              hint: "paste the token lamin serve printed",
              realm: "lamindb",
            }),
      session?.codes,
    ),
  );
  app.get("/session", (c) =>
    sessionState(c, session?.keys, "instance", async (token) => opts.authorize(token)),
  );
  app.delete("/session", (c) => signOut(c));
  app.use("*", async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path)) return next();
    const header = c.req.header("authorization");
    // a Pub/Sub push names its token in the URL (push-token.ts); any header it has is Google's
    const pushed = pushToken(c, (path) => path === GCS_EVENTS_PATH);
    const sent =
      pushed !== undefined
        ? { credential: pushed }
        : requestCredential(c, session?.keys, bearerToken(header));
    if (sent instanceof Response) return sent;
    const token = sent.credential;
    if (!(await opts.authorize(token))) {
      return unauthenticated(c, {
        sent: header !== undefined || pushed !== undefined,
        credential: "access token",
        hint:
          pushed !== undefined
            ? "the push endpoint's ?token= must be the access token lamin serve printed"
            : "send Authorization: Bearer <token> (lamin serve prints one)",
        realm: "lamindb",
      });
    }
    c.set("role", opts.role ? opts.role(c) : "owner");
    c.set("actor", opts.actor?.(c));
    const served = await opts.instance(c);
    const enter = async (base: Instance) => {
      // the branch a client works on (`lamin switch`): writes go there, reads show it and main
      const branch = c.req.header(BRANCH_HEADER);
      const instance = branch ? await base.onBranch(branch) : base;
      // a client's `lamin track` run: its writes are attributed to it, as in process (GETs never
      // record anything, so they need no lookup)
      const run = c.req.method !== "GET" ? c.req.header(RUN_HEADER) : undefined;
      const active = run ? await instance.runs.active(run) : undefined;
      c.set("instance", active ? instance.withRun(active) : instance);
      return next();
    };
    const grants = opts.spaces?.(c);
    if (!grants) return enter(served);
    // a restricted caller: everything, the branch and run lookups included, under the policies;
    // a failed request rolls back, so that a refusal changes nothing
    try {
      // a GET reads: writes are refused, and on Postgres it begins no transaction (prelude.ts)
      const readOnly = c.req.method === "GET" || c.req.method === "HEAD";
      await inSpaces(
        served.database,
        grants,
        async (scoped) => {
          await enter(served.over(scoped));
          if (c.error || c.res.status >= 400) throw ROLLBACK;
        },
        { readOnly },
      );
    } catch (error) {
      if (error !== ROLLBACK) throw error;
      // a table not granted yet (a module enabled since; not a refusal of the policies, which
      // arrive as a permission error): check and install the policies again next time
      if (sqlState(c.error) === "42501" && !(c.error instanceof LaminError)) {
        forgetSpacePolicies(served.database);
      }
    }
  });
  // What the instance is; never how its database is reached. `role`: what the caller may do
  // (the web UI shows write controls by it).
  app.get("/instance", requires("read"), async (c) => {
    const { instance, uid, storage, user } = c.var.instance.describe();
    // the instance's README block (the web UI's overview shows it)
    const readme = (await c.var.instance.blocks.readme())?.content ?? null;
    return c.json({ instance, uid, storage, user, role: c.var.role, readme });
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
  // a table to validate is data, not a request: its own, larger cap, and what to do instead
  const maxTable = opts.maxTableBytes ?? 5 * 1024 * 1024;
  const tableLimit = bodyLimit({
    maxSize: maxTable,
    onError: (c) =>
      problemResponse(
        c,
        problem(
          "too-large",
          `the table is too large to validate over HTTP (at most ${mib(maxTable)} of JSON)`,
          "validate where the instance's database is (lamin validate on the server), or split the file",
        ),
      ),
  });
  app.use("*", async (c, next) =>
    c.req.method === "PUT"
      ? next()
      : c.req.method === "POST" && TABLE_PATH.test(c.req.path)
        ? tableLimit(c, next)
        : jsonLimit(c, next),
  );

  const routed = app
    .route("/", artifactRoutes(opts.basePath))
    .route("/", lineageRoutes())
    .route("/", registryRoutes())
    .route("/", blockRoutes())
    .route("/", annotationRoutes())
    .route("/", schemaRoutes())
    .route("/", moduleRoutes())
    .route("/", storageRoutes())
    .route("/", branchRoutes())
    .route("/", spaceRoutes());
  assertRolesDeclared(routed.routes, PUBLIC_PATHS);
  return routed;
}

/** Thrown to end a restricted request's transaction without committing (its answer stands). */
const ROLLBACK = new Error("rolled back: the request failed");

/** The uid of the run a client tracks (`lamin track`); see Instance.withRun. */
export const RUN_HEADER = "lamin-run";

/** The name or uid of the branch a client works on (`lamin switch`); see Instance.onBranch. */
export const BRANCH_HEADER = "lamin-branch";

/**
 * Routes whose body is a table (routes/schemas.ts): validation, which takes a larger body. A
 * schema name may hold `/` (sent as several segments).
 */
export const TABLE_PATH = /^\/schemas\/.+\/validate$/;

const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;

export type AppType = ReturnType<typeof createApp>;
