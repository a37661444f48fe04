/**
 * The hub's HTTP API: accounts and API keys, instances and their collaborators, and the instance
 * API of every instance at `/instances/{owner}/{name}/...`, authorized by role. Creating an
 * instance's database is injected (`provision`), so this file never touches a database server.
 * Database URLs of instances never leave: not in a response, not in an error.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { bearerToken } from "../../core/auth.js";
import type { SpaceGrants } from "../../core/db/space-policies.js";
import { LaminError } from "../../core/errors.js";
import {
  allows,
  type Hub,
  type HubAccess,
  type HubAccount,
  type HubInstancePublic,
  type HubInstanceRecord,
  type HubKeyInfo,
  type InstanceRole,
} from "../../core/hub/hub.js";
import { InstancePool, type InstancePoolOptions } from "../../core/hub/instances.js";
import { spaceGrants } from "../../core/hub/space-grants.js";
import type { Instance } from "../../core/instance.js";
import { createApp } from "../api/app.js";
import { baseApp, PUBLIC_PATHS, unauthenticated } from "../api/base.js";
import { body, json, problems } from "../api/openapi.js";
import { refuseAmbiguousPaths } from "../api/paths.js";
import { problem, problemResponse, problemType } from "../api/problem.js";
import { GCS_EVENTS_PATH, pushToken } from "../api/push-token.js";
import {
  requestCredential,
  type SessionKeys,
  sessionState,
  signIn,
  signOut,
} from "../api/session.js";
import { type WebFiles, webUi } from "../api/web.js";

export interface ProvisionArgs {
  owner: string;
  name: string;
  /** As the caller asked: absent for the hub's default; checked by the provisioner's policy. */
  storageRoot?: string;
  storageEndpoint?: string;
  /** The account that asked. */
  by: HubAccount;
}

export interface HubAppOptions {
  hub: Hub;
  /** Create an instance (database, storage, hub record); absent: POST /instances answers 501. */
  provision?: (args: ProvisionArgs) => Promise<HubInstancePublic>;
  /** Remove an instance entirely; absent: the hub only forgets it. */
  deprovision?: (owner: string, name: string) => Promise<void>;
  /** Open the instance behind a hub record (default: its database, on the hub's connection cap, and its storage). */
  openInstance?: (record: HubInstanceRecord) => Promise<Instance>;
  /** How many instances stay open, and how long a request waits for room (default: env). */
  instancePool?: InstancePoolOptions;
  version?: string;
  /** Proxies in front whose `x-forwarded-for` entries are trusted (default 0: none). */
  trustedProxies?: number;
  /** The built web UI (api/web.ts): the list of instances at /ui, each one's views below it. */
  web?: WebFiles | undefined;
  /** Origins the UI's pages may upload to (the instances' object storage; api/web.ts). */
  storageOrigins?: readonly string[] | undefined;
  /** Browser sessions: an API key sealed in a cookie (api/session.ts). Absent: keys only. */
  sessionKeys?: SessionKeys | undefined;
}

interface HubEnv {
  Variables: {
    account: HubAccount;
    /** The caller's access to the instance the path names, read with its key (one round trip). */
    slugAccess?: SlugAccess;
  };
}

interface SlugAccess {
  owner: string;
  name: string;
  access: HubAccess | undefined;
}

/** `/instances/{owner}/{name}` and below, as the router's `:owner` and `:name` would read it. */
const INSTANCE_PATH = /^\/instances\/([^/]+)\/([^/]+)(?:\/|$)/;

/**
 * The owner and name of an instance path, or undefined. Only a guess made before routing, to
 * read the caller's access with its key: whoever uses it checks it against the route's own
 * parameters, so a path read differently here costs a query, never an authorization.
 */
function slugOf(path: string): { owner: string; name: string } | undefined {
  const m = INSTANCE_PATH.exec(path);
  if (!m) return undefined;
  try {
    return { owner: decodeURIComponent(m[1] as string), name: decodeURIComponent(m[2] as string) };
  } catch {
    return undefined;
  }
}

/** What the hub hands the instance app for one forwarded request. */
interface Forward {
  instance: Instance;
  basePath: string;
  /** The caller's role: each route of the instance API checks what it needs (api/roles.ts). */
  role: InstanceRole;
  /** The caller, when not the owner: writes are recorded as theirs (api/roles.ts). */
  actor?: { uid: string; handle: string };
  /** The spaces a restricted caller may read and write; absent: every space (owner, admin). */
  spaces?: SpaceGrants;
}

/**
 * The client's address, for throttling. `x-forwarded-for` is anyone's to write, so only the
 * entries added by our own proxies count: with `trustedProxies` proxies in front (API Gateway:
 * 1), the address is the one the outermost of them saw. Without proxies: the socket's address.
 * In Lambda: the source address of the request context.
 */
async function clientAddress(c: Context, trustedProxies: number): Promise<string> {
  // in Lambda (Function URL, API Gateway) AWS itself says who connected
  const lambda = (c.env as { requestContext?: { http?: { sourceIp?: string } } } | undefined)
    ?.requestContext?.http?.sourceIp;
  if (lambda) return lambda;
  if (trustedProxies > 0) {
    const hops = (c.req.header("x-forwarded-for") ?? "").split(",").map((h) => h.trim());
    const seen = hops[hops.length - trustedProxies];
    if (seen) return seen;
  }
  try {
    conninfo ??= import("@hono/node-server/conninfo");
    return (await conninfo).getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
/** Loaded on first use: not in Lambda, where AWS gives the address. */
let conninfo: Promise<typeof import("@hono/node-server/conninfo")> | undefined;

const Slug = z.object({
  owner: z.string().min(1).max(64),
  name: z.string().min(1).max(128),
});
const Role = z.enum(["read", "write", "admin"]);
const Account = z
  .object({
    uid: z.string(),
    handle: z.string(),
    kind: z.enum(["user", "org"]),
    name: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("HubAccount");
const KeyInfo = z
  .object({
    id: z.number().int(),
    prefix: z.string(),
    name: z.string().nullable(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
  })
  .openapi("HubKey");
const NewKey = z
  .object({
    key: z.string().openapi({ description: "shown once; store it now" }),
    id: z.number().int(),
    prefix: z.string(),
    name: z.string().nullable(),
    expires_at: z.string().nullable(),
  })
  .openapi("HubNewKey");
const InstanceOut = z
  .object({
    id: z.string(),
    owner: z.string(),
    name: z.string(),
    storage_root: z.string(),
    storage_endpoint: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("HubInstance");
const Collaborator = z.object({ handle: z.string(), role: Role }).openapi("HubCollaborator");
const SpaceCollaborator = z
  .object({ space: z.string(), space_uid: z.string(), handle: z.string(), role: Role })
  .openapi("HubSpaceCollaborator");
const SpaceParams = Slug.extend({
  space: z.string().min(1).max(100).openapi({ description: "the space's name or uid" }),
  handle: z.string().min(1).max(64),
});

const routes = {
  me: createRoute({
    method: "get",
    path: "/account",
    tags: ["account"],
    summary: "The account of the key",
    responses: { 200: json(Account, "the account"), ...problems(401) },
  }),
  keys: createRoute({
    method: "get",
    path: "/keys",
    tags: ["account"],
    summary: "Every API key of the account (never a secret)",
    responses: { 200: json(z.array(KeyInfo), "the keys"), ...problems(401) },
  }),
  createKey: createRoute({
    method: "post",
    path: "/keys",
    tags: ["account"],
    summary: "A new API key; the plaintext is in this answer only",
    request: body(
      z.object({
        name: z.string().max(100).optional(),
        expires_at: z.iso.datetime({ offset: true }).optional(),
      }),
    ),
    responses: { 201: json(NewKey, "the new key"), ...problems(400, 401) },
  }),
  revokeKey: createRoute({
    method: "delete",
    path: "/keys/{idOrPrefix}",
    tags: ["account"],
    summary: "Revoke one key, by id or prefix",
    request: { params: z.object({ idOrPrefix: z.string().min(1).max(64) }) },
    responses: { 200: json(KeyInfo, "the revoked key"), ...problems(401, 404) },
  }),
  revokeAll: createRoute({
    method: "delete",
    path: "/keys",
    tags: ["account"],
    summary: "Revoke every live key of the account, this one included",
    responses: { 200: json(z.object({ revoked: z.number().int() }), "how many"), ...problems(401) },
  }),
  instances: createRoute({
    method: "get",
    path: "/instances",
    tags: ["instances"],
    summary: "Instances the account can reach",
    responses: { 200: json(z.array(InstanceOut), "the instances"), ...problems(401) },
  }),
  createInstance: createRoute({
    method: "post",
    path: "/instances",
    tags: ["instances"],
    summary: "Create an instance owned by the account or by an org it administers",
    request: body(
      z.object({
        owner: z.string().min(1).max(64),
        name: z.string().min(1).max(128),
        /**
         * Absent: the hub's default storage, `<default root>/<owner>/<name>`. Else an absolute
         * folder or s3://bucket/prefix strictly inside a storage area the operator allowed.
         */
        storage_root: z.string().min(1).max(1024).optional(),
        /** Only the endpoint the operator configured for that area is accepted. */
        storage_endpoint: z.string().max(1024).optional(),
      }),
    ),
    responses: {
      201: json(InstanceOut, "the instance"),
      ...problems(400, 401, 403, 409, 501, 503),
    },
  }),
  instance: createRoute({
    method: "get",
    path: "/instances/{owner}/{name}",
    tags: ["instances"],
    summary: "One instance, with the account's role on it",
    request: { params: Slug },
    responses: {
      200: json(InstanceOut.extend({ role: z.string() }), "the instance"),
      ...problems(401, 404),
    },
  }),
  deleteInstance: createRoute({
    method: "delete",
    path: "/instances/{owner}/{name}",
    tags: ["instances"],
    summary: "Delete an instance (owner only)",
    request: { params: Slug },
    responses: { 200: json(InstanceOut, "the instance as it was"), ...problems(401, 403, 404) },
  }),
  collaborators: createRoute({
    method: "get",
    path: "/instances/{owner}/{name}/collaborators",
    tags: ["collaborators"],
    summary: "Who may use the instance, and how",
    request: { params: Slug },
    responses: { 200: json(z.array(Collaborator), "the collaborators"), ...problems(401, 404) },
  }),
  setCollaborator: createRoute({
    method: "put",
    path: "/instances/{owner}/{name}/collaborators/{handle}",
    tags: ["collaborators"],
    summary: "Grant a role, or change it (admin)",
    request: {
      params: Slug.extend({ handle: z.string().min(1).max(64) }),
      ...body(z.object({ role: Role })),
    },
    responses: { 200: json(Collaborator, "the grant"), ...problems(400, 401, 403, 404) },
  }),
  removeCollaborator: createRoute({
    method: "delete",
    path: "/instances/{owner}/{name}/collaborators/{handle}",
    tags: ["collaborators"],
    summary: "Take a collaborator's role away (admin)",
    request: { params: Slug.extend({ handle: z.string().min(1).max(64) }) },
    responses: { 204: { description: "removed" }, ...problems(401, 403, 404) },
  }),
  spaceCollaborators: createRoute({
    method: "get",
    path: "/instances/{owner}/{name}/space-collaborators",
    tags: ["collaborators"],
    summary: "Who has a role in which restricted space (admin: space names are not for everyone)",
    request: { params: Slug },
    responses: {
      200: json(z.array(SpaceCollaborator), "the space roles"),
      ...problems(401, 403, 404),
    },
  }),
  setSpaceCollaborator: createRoute({
    method: "put",
    path: "/instances/{owner}/{name}/space-collaborators/{space}/{handle}",
    tags: ["collaborators"],
    summary: "Grant a collaborator a role in a restricted space, or change it (admin)",
    request: { params: SpaceParams, ...body(z.object({ role: Role })) },
    responses: { 200: json(SpaceCollaborator, "the grant"), ...problems(400, 401, 403, 404) },
  }),
  removeSpaceCollaborator: createRoute({
    method: "delete",
    path: "/instances/{owner}/{name}/space-collaborators/{space}/{handle}",
    tags: ["collaborators"],
    summary: "Take a collaborator's role in a space away (admin)",
    request: { params: SpaceParams },
    responses: { 204: { description: "removed" }, ...problems(401, 403, 404) },
  }),
};

/** 429: a key that failed, from a prefix or network that failed too often. */
function throttled(c: Context, retryAfterSeconds: number | undefined): Response {
  const res = problemResponse(c, {
    type: problemType("throttled"),
    title: "Too many requests",
    status: 429,
    detail:
      "the key is not valid, and too many failed attempts came with this key prefix or from this network",
    hint: "check the key (a valid key is always accepted), or wait for the time in retry-after",
  });
  res.headers.set("retry-after", String(Math.max(1, retryAfterSeconds ?? 1)));
  return res;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const publicInstance = (i: HubInstancePublic) => ({
  id: i.id,
  owner: i.owner,
  name: i.name,
  storage_root: i.storage_root,
  storage_endpoint: i.storage_endpoint,
  created_at: i.created_at.toISOString(),
});
const keyOut = (k: HubKeyInfo) => ({
  id: k.id,
  prefix: k.prefix,
  name: k.name,
  created_at: k.created_at.toISOString(),
  expires_at: iso(k.expires_at),
  revoked_at: iso(k.revoked_at),
  last_used_at: iso(k.last_used_at),
});

/** The Cloud Storage webhook of an instance on the hub (the one route that takes `?token=`). */
const INSTANCE_GCS_EVENTS = new RegExp(`^/instances/[^/]+/[^/]+${GCS_EVENTS_PATH}$`);

/**
 * `response`, calling `release` once its body is sent or abandoned. A JSON answer is whole
 * before it is returned (c.json), so it releases at once and keeps the server's fast path for
 * string bodies; any other body may still be reading (a download), so it is passed through.
 */
function heldUntilSent(response: Response, release: () => void): Response {
  // the header first: reading `body` turns node-server's light response into a full one
  const body = response.headers.get("content-type")?.includes("json") ? null : response.body;
  if (!body) {
    release();
    return response;
  }
  const reader = body.getReader();
  const passed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    async cancel(reason) {
      release();
      await reader.cancel(reason);
    },
  });
  return new Response(passed, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

const notFound = (owner: string, name: string) =>
  new LaminError("not-found", `no instance ${owner}/${name}`, "check the slug and your access");
const forbidden = (role: InstanceRole, need: string) =>
  new LaminError("permission", `your role is ${role}; this needs ${need}`, "ask an admin");

export function createHubApp(opts: HubAppOptions) {
  const trustedProxies = opts.trustedProxies ?? 0;
  const { hub } = opts;
  const pool = new InstancePool(opts.openInstance, opts.instancePool);
  const instanceApp = createApp({
    instance: (c) => (c.env as Forward).instance,
    authorize: () => true,
    role: (c) => (c.env as Forward).role,
    actor: (c) => (c.env as Forward).actor,
    basePath: (c) => (c.env as Forward).basePath,
    spaces: (c) => (c.env as Forward).spaces,
    ...(opts.version ? { version: opts.version } : {}),
  });

  const app = baseApp<HubEnv>({
    title: "lamindb-serverless hub",
    version: opts.version,
    description:
      "Accounts, API keys, instances and collaborators; each instance's API is at /instances/{owner}/{name}/...",
  });

  // before anything else: a path read one way here and another way behind is refused
  app.use("*", refuseAmbiguousPaths());
  if (opts.web) app.use("*", webUi(opts.web, { storageOrigins: opts.storageOrigins ?? [] }));
  const authenticate = async (c: Context, key: string | undefined) =>
    key
      ? await hub.authenticate(key, await clientAddress(c, trustedProxies))
      : ({ error: "invalid" } as const);
  /** authenticate, and with it the access to the instance the path names (one round trip). */
  const authenticateRequest = async (c: Context<HubEnv>, key: string | undefined) => {
    const slug = slugOf(c.req.path);
    if (!key || !slug) return authenticate(c, key);
    const address = await clientAddress(c, trustedProxies);
    const result = await hub.authenticateFor(key, address, slug.owner, slug.name);
    if ("account" in result) c.set("slugAccess", { ...slug, access: result.access });
    return result;
  };
  // sign-in with an API key, checked (and throttled) exactly as a bearer key
  app.post("/session", (c) =>
    signIn(c, opts.sessionKeys, async (key) => {
      const result = await authenticate(c, key);
      if ("account" in result) return undefined;
      return result.error === "throttled"
        ? throttled(c, result.retryAfterSeconds)
        : unauthenticated(c, {
            sent: true,
            credential: "API key",
            hint: "paste a key of your account (lamin hub login prints one)",
            realm: "lamin-hub",
          });
    }),
  );
  app.get("/session", (c) =>
    sessionState(
      c,
      opts.sessionKeys,
      "hub",
      async (key) => "account" in (await authenticate(c, key)),
    ),
  );
  app.delete("/session", (c) => signOut(c));
  app.use("*", async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path)) return next();
    const header = c.req.header("authorization");
    // an instance's Cloud Storage webhook takes a Pub/Sub push's key from the URL (push-token.ts)
    const pushed = pushToken(c, (path) => INSTANCE_GCS_EVENTS.test(path));
    const sent =
      pushed !== undefined
        ? { credential: pushed }
        : requestCredential(c, opts.sessionKeys, bearerToken(header));
    if (sent instanceof Response) return sent;
    const key = sent.credential;
    const result = await authenticateRequest(c, key);
    if ("account" in result) {
      c.set("account", result.account);
      return next();
    }
    if (result.error === "throttled") return throttled(c, result.retryAfterSeconds);
    return unauthenticated(c, {
      sent: header !== undefined || pushed !== undefined,
      credential: "API key",
      hint:
        pushed !== undefined
          ? "the push endpoint's ?token= must be an API key with the write role on the instance"
          : "send Authorization: Bearer <api key> (lamin login)",
      realm: "lamin-hub",
    });
  });
  // JSON bodies of the hub's own routes are small; the instance API limits its own
  const jsonLimit = bodyLimit({
    maxSize: 64 * 1024,
    onError: (c) =>
      problemResponse(c, problem("too-large", "the request body is too large", "send less")),
  });

  /**
   * The caller's access to owner/name (the route's parameters): as read with its key when that
   * was for the same slug, else asked now.
   */
  const accessTo = async (c: Context<HubEnv>, owner: string, name: string) => {
    const known = c.var.slugAccess;
    if (known && known.owner === owner && known.name === name) return known.access;
    return hub.access(c.var.account.handle, owner, name);
  };
  /** The role of the caller on owner/name; 404 when none (same as a missing instance). */
  const roleFor = async (c: Context<HubEnv>, owner: string, name: string) => {
    const role = (await accessTo(c, owner, name))?.role;
    if (!role) throw notFound(owner, name);
    return role;
  };
  const requireRole = async (
    c: Context<HubEnv>,
    owner: string,
    name: string,
    need: "read" | "write" | "admin" | "owner",
  ) => {
    const role = await roleFor(c, owner, name);
    const ok = need === "owner" ? role === "owner" : allows(role, need);
    if (!ok) throw forbidden(role, need);
    return role;
  };

  // The instance API of each instance: the role is checked by the route the instance app
  // dispatches (api/roles.ts), so the path is never read a second time here.
  const forward = async (c: Context<HubEnv>) => {
    const owner = c.req.param("owner") ?? "";
    const name = c.req.param("name") ?? "";
    // the role and the record came with the key (one round trip): this runs on every request
    const access = await accessTo(c, owner, name);
    if (!access) throw notFound(owner, name);
    // held until the answer is sent: the pool never closes an instance a request is using
    const lease = await pool.acquire(access.instance);
    const url = new URL(c.req.url);
    // ["", "instances", owner, name, ...the instance API's path]
    const parts = url.pathname.split("/");
    const target = new URL(url.origin);
    target.pathname = `/${parts.slice(4).join("/")}`;
    target.search = url.search;
    const raw = c.req.raw;
    // the method first: reading `body` turns node-server's light request into a full one
    const hasBody = raw.method !== "GET" && raw.method !== "HEAD" && raw.body !== null;
    const request = new Request(target, {
      method: raw.method,
      headers: raw.headers,
      ...(hasBody ? { body: raw.body, duplex: "half" } : {}),
    } as RequestInit);
    const forwardEnv: Forward = {
      instance: lease.instance,
      // writes are recorded as the caller's (created_by), the owner's as the instance's user
      ...(c.var.account.handle === owner ? {} : { actor: c.var.account }),
      basePath: parts.slice(0, 4).join("/"),
      role: access.role,
    };
    // a collaborator below admin sees only its spaces: the database enforces it (api/app.ts)
    const spaces = spaceGrants(access.role, access.spaces);
    if (spaces) forwardEnv.spaces = spaces;
    let response: Response;
    try {
      response = await instanceApp.fetch(request, forwardEnv);
    } catch (error) {
      lease.release();
      throw error;
    }
    return heldUntilSent(response, lease.release);
  };

  app.use("/keys", jsonLimit);
  app.use("/instances", jsonLimit);
  app.use("/instances/:owner/:name/collaborators/*", jsonLimit);
  app.use("/instances/:owner/:name/space-collaborators/*", jsonLimit);

  /** `fn` on the instance owner/name, held open until it is done. */
  const withInstance = async <T>(
    owner: string,
    name: string,
    fn: (instance: Instance) => Promise<T>,
  ): Promise<T> => {
    const lease = await pool.acquire(await hub.instance(owner, name));
    try {
      return await fn(lease.instance);
    } finally {
      lease.release();
    }
  };

  /** The space a name or uid names in owner/name, read as the owner (admins see every space). */
  const spaceOf = (owner: string, name: string, ref: string) =>
    withInstance(owner, name, (instance) => instance.spaces.resolve(ref));

  const routed = app
    .openapi(routes.me, async (c) => {
      const a = c.var.account;
      return c.json(
        {
          uid: a.uid,
          handle: a.handle,
          kind: a.kind,
          name: a.name,
          created_at: a.created_at.toISOString(),
        },
        200,
      );
    })
    .openapi(routes.keys, async (c) =>
      c.json((await hub.listKeys(c.var.account.handle)).map(keyOut), 200),
    )
    .openapi(routes.createKey, async (c) => {
      const body = c.req.valid("json");
      const key = await hub.createKey(c.var.account.handle, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.expires_at !== undefined ? { expiresAt: new Date(body.expires_at) } : {}),
      });
      return c.json({ ...key, expires_at: iso(key.expires_at) }, 201);
    })
    .openapi(routes.revokeKey, async (c) =>
      c.json(
        keyOut(await hub.revokeKey(c.var.account.handle, c.req.valid("param").idOrPrefix)),
        200,
      ),
    )
    .openapi(routes.revokeAll, async (c) =>
      c.json({ revoked: await hub.revokeAllKeys(c.var.account.handle) }, 200),
    )
    .openapi(routes.instances, async (c) =>
      c.json((await hub.instances(c.var.account.handle)).map(publicInstance), 200),
    )
    .openapi(routes.createInstance, async (c) => {
      const body = c.req.valid("json");
      const me = c.var.account;
      if (body.owner !== me.handle) {
        const members = await hub.members(body.owner).catch(() => []);
        const admin = members.some((m) => m.handle === me.handle && m.role === "admin");
        if (!admin) {
          throw new LaminError(
            "permission",
            `you cannot create instances for '${body.owner}'`,
            "create it under your own handle, or ask an admin of the organisation",
          );
        }
      }
      if (!opts.provision) {
        return problemResponse(c, {
          type: problemType("not-implemented"),
          title: "Not implemented",
          status: 501,
          detail: "this hub does not create instances",
          hint: "ask the hub's operator",
        }) as never;
      }
      const made = await opts.provision({
        owner: body.owner,
        name: body.name,
        ...(body.storage_root !== undefined ? { storageRoot: body.storage_root } : {}),
        ...(body.storage_endpoint !== undefined ? { storageEndpoint: body.storage_endpoint } : {}),
        by: me,
      });
      return c.json(publicInstance(made), 201);
    })
    .openapi(routes.instance, async (c) => {
      const { owner, name } = c.req.valid("param");
      const role = await requireRole(c, owner, name, "read");
      const record = await hub.instance(owner, name);
      return c.json({ ...publicInstance(record), role }, 200);
    })
    .openapi(routes.deleteInstance, async (c) => {
      const { owner, name } = c.req.valid("param");
      await requireRole(c, owner, name, "owner");
      const record = await hub.instance(owner, name);
      await pool.evict(record.id);
      if (opts.deprovision) await opts.deprovision(owner, name);
      else await hub.deleteInstance(owner, name);
      return c.json(publicInstance(record), 200);
    })
    .openapi(routes.collaborators, async (c) => {
      const { owner, name } = c.req.valid("param");
      await requireRole(c, owner, name, "read");
      return c.json(await hub.collaborators(owner, name), 200);
    })
    .openapi(routes.setCollaborator, async (c) => {
      const { owner, name, handle } = c.req.valid("param");
      await requireRole(c, owner, name, "admin");
      const { role } = c.req.valid("json");
      await hub.setCollaborator(owner, name, handle, role);
      return c.json({ handle, role }, 200);
    })
    .openapi(routes.removeCollaborator, async (c) => {
      const { owner, name, handle } = c.req.valid("param");
      await requireRole(c, owner, name, "admin");
      await hub.removeCollaborator(owner, name, handle);
      return c.body(null, 204);
    })
    .openapi(routes.spaceCollaborators, async (c) => {
      const { owner, name } = c.req.valid("param");
      await requireRole(c, owner, name, "admin");
      const grants = await hub.spaceCollaborators(owner, name);
      const spaces = new Map<number, { name: string; uid: string }>();
      await withInstance(owner, name, async (instance) => {
        for (const id of new Set(grants.map((g) => g.space_id))) {
          // a space deleted in the instance since: its grants show under its id
          const found = await instance.spaces.byId(id);
          spaces.set(id, found ?? { name: `#${id}`, uid: "" });
        }
      });
      return c.json(
        grants.map((g) => {
          const space = spaces.get(g.space_id) ?? { name: `#${g.space_id}`, uid: "" };
          return { space: space.name, space_uid: space.uid, handle: g.handle, role: g.role };
        }),
        200,
      );
    })
    .openapi(routes.setSpaceCollaborator, async (c) => {
      const { owner, name, space, handle } = c.req.valid("param");
      await requireRole(c, owner, name, "admin");
      const { role } = c.req.valid("json");
      const found = await spaceOf(owner, name, space);
      await hub.setSpaceCollaborator(owner, name, handle, found.id, role);
      return c.json({ space: found.name, space_uid: found.uid, handle, role }, 200);
    })
    .openapi(routes.removeSpaceCollaborator, async (c) => {
      const { owner, name, space, handle } = c.req.valid("param");
      await requireRole(c, owner, name, "admin");
      const found = await spaceOf(owner, name, space);
      await hub.removeSpaceCollaborator(owner, name, handle, found.id);
      return c.body(null, 204);
    });
  routed.all("/instances/:owner/:name/*", forward);

  return Object.assign(routed, {
    /** Close every instance the hub opened. */
    close: () => pool.close(),
    pool,
  });
}

export type HubApp = ReturnType<typeof createHubApp>;
