/**
 * The hub's HTTP API on Postgres: accounts and keys, instances, collaborators, and the instance
 * API behind `/instances/{owner}/{name}`, as a matrix of routes x callers (roles and bad keys).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase } from "../core/db/postgres.js";
import { hashFile } from "../core/hash.js";
import type { HubInstanceRecord } from "../core/hub/hub.js";
import { Hub } from "../core/hub/hub.js";
import { InstancePool } from "../core/hub/instances.js";
import { openHub } from "../core/hub/open.js";
import { AuthThrottle } from "../core/hub/throttle.js";
import type { Instance } from "../core/instance.js";
import { initInstance } from "../core/setup.js";
import { createHubApp } from "../functions/hub/app.js";
import { postgresUrl, tempDir, useTempHome } from "./helpers.js";

useTempHome();

type Caller =
  | "owner"
  | "admin"
  | "write"
  | "read"
  | "stranger"
  | "none"
  | "revoked"
  | "expired"
  | "tampered";
const CALLERS: Caller[] = [
  "read",
  "write",
  "admin",
  "stranger",
  "none",
  "revoked",
  "expired",
  "tampered",
  "owner",
];
const BAD = { none: 401, revoked: 401, expired: 401, tampered: 401, stranger: 404 } as const;
const RANK = { read: 1, write: 2, admin: 3, owner: 4 } as const;

describe.skipIf(!process.env.DATABASE_URL)("hub API on Postgres", () => {
  let clock = Date.now();
  const hubUrl = postgresUrl();
  const dbUrls: string[] = [];
  const instances: Instance[] = [];
  let hubHandle: Awaited<ReturnType<typeof openHub>>;
  let hub: Hub;
  let app: ReturnType<typeof createHubApp>;
  let work: string;
  const keys = {} as Record<Caller, string | null>;
  let eveKey: string;

  const makeInstance = async (name: string) => {
    const db = postgresUrl();
    dbUrls.push(db);
    const ln = await initInstance({ storage: join(work, name), name, db });
    instances.push(ln);
    await hub.recordInstance({
      owner: "alice",
      name,
      storageRoot: ln.storageRecord.root,
      dbUrl: db,
    });
    return ln;
  };

  beforeAll(async () => {
    work = tempDir("lamin-hub-api-");
    hubHandle = await openHub(hubUrl, {
      now: () => clock,
      throttle: new AuthThrottle({ maxPerPrefix: 1e6, maxPerAddress: 1e6, now: () => clock }),
    });
    hub = hubHandle.hub;
    for (const h of ["alice", "bob", "carol", "dave", "eve"]) await hub.createAccount(h);
    await hub.createAccount("lab", { kind: "org" });
    await hub.addMember("lab", "alice", "admin");
    await makeInstance("alpha");
    await makeInstance("beta");
    // only recorded: its database is never opened (deleting it only forgets it)
    await hub.recordInstance({
      owner: "alice",
      name: "scratch",
      storageRoot: join(work, "scratch"),
      dbUrl: postgresUrl("lamin_never_opened"),
    });
    for (const name of ["alpha", "scratch"]) {
      await hub.setCollaborator("alice", name, "bob", "admin");
      await hub.setCollaborator("alice", name, "carol", "write");
      await hub.setCollaborator("alice", name, "dave", "read");
    }
    keys.owner = (await hub.createKey("alice")).key;
    keys.admin = (await hub.createKey("bob")).key;
    keys.write = (await hub.createKey("carol")).key;
    keys.read = (await hub.createKey("dave")).key;
    eveKey = (await hub.createKey("eve")).key;
    keys.stranger = eveKey;
    keys.none = null;
    const revoked = await hub.createKey("carol", { name: "leaked" });
    await hub.revokeKey("carol", revoked.id);
    keys.revoked = revoked.key;
    keys.expired = (await hub.createKey("carol", { expiresAt: new Date(clock + 1000) })).key;
    clock += 5000;
    const good = keys.write;
    keys.tampered = `${good.slice(0, -1)}${good.endsWith("A") ? "B" : "A"}`;
    app = createHubApp({ hub, trustedProxies: 1 });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    for (const ln of instances) await ln.close().catch(() => {});
    await hubHandle?.close();
    for (const url of [...dbUrls, hubUrl]) await dropDatabase(url).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  });

  const bodies: string[] = [];
  const call = async (
    method: string,
    path: string,
    key: string | null,
    opts: { json?: unknown; body?: string; address?: string } = {},
  ) => {
    const headers: Record<string, string> = {};
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (opts.address) headers["x-forwarded-for"] = opts.address;
    let body: string | undefined = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers["content-type"] = "application/json";
    }
    const res = await app.request(path, { method, headers, ...(body ? { body } : {}) });
    const text = await res.text();
    bodies.push(text);
    return { status: res.status, text, headers: res.headers, json: () => JSON.parse(text) };
  };

  let n = 0;
  const declare = async () => {
    const path = join(work, `f${n++}.txt`);
    writeFileSync(path, `content ${n} ${Math.random()}`);
    const h = await hashFile(path);
    return {
      path,
      body: {
        name: "f.txt",
        key: `raw/f${n}.txt`,
        size: h.size,
        hash: h.hash,
        hash_type: h.hashType,
      },
    };
  };

  /** Upload a file through the hub with `key`; returns the artifact uid. */
  const upload = async (key: string, slug = "alice/alpha") => {
    const { path, body } = await declare();
    const ticket = await call("POST", `/instances/${slug}/artifacts/uploads`, key, { json: body });
    expect(ticket.status, ticket.text).toBe(200);
    const { upload: u, artifact } = ticket.json();
    expect(u.url).toBe(`/instances/${slug}/artifacts/uploads/${artifact.uid}/content`);
    expect(u.complete_url).toBe(`/instances/${slug}/artifacts/uploads/${artifact.uid}/complete`);
    const put = await call("PUT", u.url, key, {
      body: (await import("node:fs")).readFileSync(path, "utf8"),
    });
    expect(put.status, put.text).toBe(204);
    const done = await call("POST", u.complete_url, key);
    expect(done.status, done.text).toBe(200);
    return done.json().uid as string;
  };

  it("serves /health and /openapi.json without a key; everything else needs one", async () => {
    expect((await call("GET", "/health", null)).status).toBe(200);
    const spec = await call("GET", "/openapi.json", null);
    expect(spec.status).toBe(200);
    expect(spec.json().paths["/instances/{owner}/{name}/collaborators"]).toBeDefined();
    const res = await call("GET", "/account", null);
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("account and keys: me, list, create (shown once), revoke one, revoke all", async () => {
    const me = await call("GET", "/account", keys.owner);
    expect(me.status).toBe(200);
    expect(me.json().handle).toBe("alice");
    const made = await call("POST", "/keys", keys.write, { json: { name: "ci" } });
    expect(made.status, made.text).toBe(201);
    const fresh = made.json();
    expect(fresh.key).toEqual(expect.any(String));
    expect((await call("GET", "/account", fresh.key)).json().handle).toBe("carol");
    const list = await call("GET", "/keys", keys.write);
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(fresh.key);
    expect(list.json().map((k: { prefix: string }) => k.prefix)).toContain(fresh.prefix);
    const revoked = await call("DELETE", `/keys/${fresh.prefix}`, keys.write);
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.json().revoked_at).not.toBeNull();
    expect((await call("GET", "/account", fresh.key)).status).toBe(401);
    // dave makes a spare key and then revokes all of his: both stop working
    const spare = (await call("POST", "/keys", keys.read, { json: {} })).json().key as string;
    const daveKey = (await hub.createKey("dave")).key;
    const all = await call("DELETE", "/keys", daveKey);
    expect(all.status).toBe(200);
    expect(all.json().revoked).toBeGreaterThanOrEqual(3);
    expect((await call("GET", "/account", spare)).status).toBe(401);
    expect((await call("GET", "/account", keys.read)).status).toBe(401);
    keys.read = (await hub.createKey("dave")).key;
    expect((await call("DELETE", "/keys/999999", keys.read)).status).toBe(404);
  });

  /** Every round trip to the hub's database while `fn` runs (a query, or a connection taken). */
  const hubRoundTrips = async (fn: () => Promise<unknown>): Promise<number> => {
    type Call = (...args: unknown[]) => Promise<unknown>;
    const pool = (hub.db as unknown as { $client: Record<"query" | "connect", Call> }).$client;
    const { query, connect } = pool;
    let n = 0;
    let inQuery = false; // the pool's query takes a connection itself, at once: one round trip
    pool.query = (...args: unknown[]) => {
      n++;
      inQuery = true;
      try {
        return query.apply(pool, args);
      } finally {
        inQuery = false;
      }
    };
    pool.connect = (...args: unknown[]) => {
      if (!inQuery) n++;
      return connect.apply(pool, args);
    };
    try {
      await fn();
    } finally {
      pool.query = query;
      pool.connect = connect;
    }
    return n;
  };

  it("a request to an instance's API: one round trip to the hub; a dead key refused on the next", async () => {
    const { key, id } = await hub.createKey("carol", { name: "trips" });
    const get = () => call("GET", "/instances/alice/alpha/artifacts", key);
    // the first use writes last_used_at (once a minute per key): a second round trip
    expect(await hubRoundTrips(async () => expect((await get()).status).toBe(200))).toBe(2);
    // then the key, the role and the database URL come in one
    expect(await hubRoundTrips(async () => expect((await get()).status).toBe(200))).toBe(1);
    // the same for someone without a role, and for an instance that does not exist
    const stranger = () => call("GET", "/instances/alice/beta/artifacts", key);
    expect(await hubRoundTrips(async () => expect((await stranger()).status).toBe(404))).toBe(1);
    const missing = () => call("GET", "/instances/alice/nope/artifacts", key);
    expect(await hubRoundTrips(async () => expect((await missing()).status).toBe(404))).toBe(1);
    // nothing of the key is kept between requests: revoked, it fails on the very next one
    await hub.revokeKey("carol", id);
    expect((await get()).status).toBe(401);
    // and expired, as soon as its time is up
    const brief = (await hub.createKey("carol", { expiresAt: new Date(clock + 1000) })).key;
    const viaBrief = () => call("GET", "/instances/alice/alpha/artifacts", brief);
    expect((await viaBrief()).status).toBe(200);
    clock += 1000;
    expect((await viaBrief()).status).toBe(401);
    // a role taken away counts at once too
    const daveKey = (await hub.createKey("dave")).key;
    const asDave = () => call("GET", "/instances/alice/scratch/collaborators", daveKey);
    expect((await asDave()).status).toBe(200);
    await hub.removeCollaborator("alice", "scratch", "dave");
    expect((await asDave()).status).toBe(404);
    await hub.setCollaborator("alice", "scratch", "dave", "read");
  });

  it("instances: list what one can reach, never a database URL; create rules", async () => {
    const mine = await call("GET", "/instances", keys.owner);
    expect(mine.json().map((i: { name: string }) => i.name)).toEqual(["alpha", "beta", "scratch"]);
    const dave = await call("GET", "/instances", keys.read);
    expect(dave.json().map((i: { name: string }) => i.name)).toEqual(["alpha", "scratch"]);
    expect((await call("GET", "/instances", eveKey)).json()).toEqual([]);
    const one = await call("GET", "/instances/alice/alpha", keys.read);
    expect(one.status).toBe(200);
    expect(one.json().role).toBe("read");
    expect((await call("GET", "/instances/alice/beta", keys.read)).status).toBe(404);
    expect((await call("GET", "/instances/alice/nope", keys.owner)).status).toBe(404);
    const create = { owner: "alice", name: "gamma", storage_root: join(work, "gamma") };
    expect((await call("POST", "/instances", eveKey, { json: create })).status).toBe(403);
    const org = { ...create, owner: "lab" };
    expect((await call("POST", "/instances", keys.write, { json: org })).status).toBe(403);
    const noProvisioner = await call("POST", "/instances", keys.owner, { json: org });
    expect(noProvisioner.status).toBe(501);
    expect(noProvisioner.headers.get("content-type")).toBe("application/problem+json");
    // with a provisioner: the owner and an org admin may create
    const seen: string[] = [];
    const withProv = createHubApp({
      hub,
      provision: async (a) => {
        seen.push(`${a.owner}/${a.name} by ${a.by.handle}`);
        return {
          id: "x",
          owner: a.owner,
          name: a.name,
          storage_root: a.storageRoot ?? "",
          storage_endpoint: null,
          created_at: new Date(),
        };
      },
    });
    const res = await withProv.request("/instances", {
      method: "POST",
      headers: { authorization: `Bearer ${keys.owner}`, "content-type": "application/json" },
      body: JSON.stringify(org),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(seen).toEqual(["lab/gamma by alice"]);
    await withProv.close();
  });

  interface Route {
    label: string;
    need: "read" | "write" | "admin" | "owner";
    /** Runs as the owner before the call: what the call needs (e.g. a fresh artifact). */
    run: (key: string | null) => Promise<{ status: number; text: string }>;
  }
  let shared = "";
  const ROUTES: Route[] = [
    {
      label: "GET /artifacts",
      need: "read",
      run: (k) => call("GET", "/instances/alice/alpha/artifacts", k),
    },
    {
      label: "GET /artifacts/{uid}",
      need: "read",
      run: (k) => call("GET", `/instances/alice/alpha/artifacts/${shared}`, k),
    },
    {
      label: "POST /artifacts/uploads",
      need: "write",
      run: async (k) =>
        call("POST", "/instances/alice/alpha/artifacts/uploads", k, {
          json: (await declare()).body,
        }),
    },
    {
      label: "DELETE /artifacts/{uid}",
      need: "write",
      run: async (k) => {
        const uid = await upload(keys.owner as string);
        return call("DELETE", `/instances/alice/alpha/artifacts/${uid}`, k);
      },
    },
    {
      label: "DELETE /artifacts/{uid}?permanent=true",
      need: "admin",
      run: async (k) => {
        const uid = await upload(keys.owner as string);
        return call("DELETE", `/instances/alice/alpha/artifacts/${uid}?permanent=true`, k);
      },
    },
    {
      // a POST that writes nothing: readers validate their data too
      label: "POST /schemas/{ref}/validate",
      need: "read",
      run: async (k) => {
        const schema = { name: "any-columns" };
        await call("POST", "/instances/alice/alpha/schemas", keys.owner as string, {
          json: schema,
        });
        return call("POST", "/instances/alice/alpha/schemas/any-columns/validate", k, {
          json: {
            file: "a.csv",
            format: "csv",
            columns: ["x"],
            values: { x: ["1"] },
            n_rows: 1,
            text: true,
            single: false,
          },
        });
      },
    },
    {
      label: "POST /reconcile",
      need: "admin",
      run: (k) => call("POST", "/instances/alice/alpha/reconcile?dry_run=true", k),
    },
    {
      label: "GET collaborators",
      need: "read",
      run: (k) => call("GET", "/instances/alice/alpha/collaborators", k),
    },
    {
      label: "PUT collaborator",
      need: "admin",
      run: (k) =>
        call("PUT", "/instances/alice/alpha/collaborators/dave", k, { json: { role: "read" } }),
    },
    {
      label: "DELETE instance",
      need: "owner",
      run: (k) => call("DELETE", "/instances/alice/scratch", k),
    },
  ];

  it("matrix: each route x each caller", async () => {
    shared = await upload(keys.owner as string);
    const failures: string[] = [];
    for (const route of ROUTES) {
      for (const caller of CALLERS) {
        const key = keys[caller];
        const res = await route.run(key);
        let expected: string;
        if (caller in BAD) expected = String(BAD[caller as keyof typeof BAD]);
        else {
          const rank = RANK[caller as keyof typeof RANK];
          expected = rank >= RANK[route.need] ? "2xx" : "403";
        }
        const got = res.status >= 200 && res.status < 300 ? "2xx" : String(res.status);
        if (got !== expected) {
          failures.push(`${route.label} as ${caller}: ${got}, expected ${expected}: ${res.text}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect((await call("GET", "/instances/alice/scratch", keys.owner)).status).toBe(404);
  }, 120_000);

  it("a collaborator of one instance cannot reach another (404)", async () => {
    for (const caller of ["admin", "write", "read"] as const) {
      const k = keys[caller];
      expect((await call("GET", "/instances/alice/beta/artifacts", k)).status).toBe(404);
      expect((await call("GET", "/instances/alice/beta", k)).status).toBe(404);
      expect((await call("GET", "/instances/alice/beta/collaborators", k)).status).toBe(404);
    }
    expect((await call("GET", "/instances/alice/beta/artifacts", keys.owner)).status).toBe(200);
  });

  it("a write collaborator uploads through the prefix and reads it back", async () => {
    const uid = await upload(keys.write as string);
    const got = await call("GET", `/instances/alice/alpha/artifacts/${uid}`, keys.read);
    expect(got.status).toBe(200);
    const bytes = await call("GET", `/instances/alice/alpha/artifacts/${uid}/download`, keys.read);
    expect(bytes.text).toMatch(/^content /);
  });

  it("a database that cannot be opened is a 503 without its URL", async () => {
    await hub.recordInstance({
      owner: "alice",
      name: "broken",
      storageRoot: join(work, "broken"),
      dbUrl: "postgresql://secretuser:hunter2@127.0.0.1:1/nowhere",
    });
    const res = await call("GET", "/instances/alice/broken/artifacts", keys.owner);
    expect(res.status).toBe(503);
    expect(res.text).not.toContain("hunter2");
    expect(res.text).not.toContain("127.0.0.1:1");
  });

  it("throttles repeated bad keys from one address (429 with retry-after)", async () => {
    const strict = createHubApp({ hub: new Hub(hubHandle.database.db), trustedProxies: 1 });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 40; i++) {
      last = await strict.request("/account", {
        headers: {
          authorization: `Bearer lk_bad${i}_nonsense`,
          "x-forwarded-for": "203.0.113.9, 10.0.0.1",
        },
      });
      statuses.push(last.status);
    }
    expect(statuses[0]).toBe(401);
    expect(statuses.at(-1)).toBe(429);
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThan(0);
    const throttled = JSON.parse((await last?.text()) ?? "{}");
    expect(throttled.status).toBe(429);
    expect(last?.headers.get("content-type")).toBe("application/problem+json");
    // a client cannot pick its address: what it writes before our proxy's entry is ignored
    const spoofed = await strict.request("/account", {
      headers: {
        authorization: "Bearer lk_bad_spoofed",
        "x-forwarded-for": "198.51.100.99, 10.0.0.1",
      },
    });
    expect(spoofed.status).toBe(429);
    // a valid key is never refused for failures, even from the throttled address
    const valid = await strict.request("/account", {
      headers: { authorization: `Bearer ${keys.owner}`, "x-forwarded-for": "10.0.0.1" },
    });
    expect(valid.status).toBe(200);
    // another network is not held back by it
    const other = await strict.request("/account", {
      headers: { authorization: "Bearer lk_bad_other", "x-forwarded-for": "198.51.100.7" },
    });
    expect(other.status).toBe(401);
    await strict.close();
  });

  it("never answers with a database URL", () => {
    expect(bodies.length).toBeGreaterThan(50);
    for (const text of bodies) expect(text).not.toContain("postgresql://");
  });
});

describe("the hub's instance pool", () => {
  it("keeps at most maxOpen instances open, closing the least recently used", async () => {
    const closed: string[] = [];
    const opened: string[] = [];
    const pool = new InstancePool(async (record) => {
      opened.push(record.id);
      return { close: async () => void closed.push(record.id) } as unknown as Instance;
    }, 2);
    const rec = (id: string) => ({ id }) as HubInstanceRecord;
    await pool.get(rec("a"));
    await pool.get(rec("b"));
    await pool.get(rec("a")); // a is now the most recently used
    await pool.get(rec("c")); // evicts b
    await new Promise((r) => setTimeout(r, 0));
    expect(closed).toEqual(["b"]);
    expect(pool.size).toBe(2);
    await pool.get(rec("b")); // reopens b, evicts a
    await new Promise((r) => setTimeout(r, 0));
    expect(opened).toEqual(["a", "b", "c", "b"]);
    expect(closed).toEqual(["b", "a"]);
    await pool.close();
    expect(closed.sort()).toEqual(["a", "b", "b", "c"]);
  });
});
