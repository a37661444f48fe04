/**
 * Authorization through the hub is decided on the route the router dispatches: every route of
 * the instance API x the roles read/write/admin, and the path tricks that once reached the
 * admin-only reconcile with a write key (`%72econcile`, `//x/reconcile`, encoded `/` and `.`,
 * dot segments). A refused call changes nothing: no row, no file.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOn } from "../../cli/commands/serve.js";
import { allows } from "../../core/hub/hub.js";
import type { ApiEnv } from "../../functions/api/env.js";
import { assertRolesDeclared, requires } from "../../functions/api/roles.js";
import { createHubApp } from "../../functions/hub/app.js";
import { RemoteInstance } from "../../sdk/remote.js";
import { useTempHome, writeTree } from "../helpers.js";
import { fingerprint, type HubFixture, hubFixture, instanceApiRoutes } from "./hub-fixture.js";

useTempHome();

type Need = "read" | "write" | "admin";
type Role = "read" | "write" | "admin";
const ROLES: Role[] = ["read", "write", "admin"];

/**
 * What each route of the instance API needs, by `METHOD path` as the router knows it. The test
 * below checks that this covers every route exactly: a new route must be decided here too.
 */
const NEEDS: Record<string, Need> = {
  "GET /instance": "read",
  "GET /artifacts": "read",
  "GET /artifacts/by-key": "read",
  "GET /artifacts/:uid": "read",
  "GET /artifacts/:uid/versions": "read",
  "PATCH /artifacts/:uid": "write",
  "DELETE /artifacts/:uid": "write",
  "DELETE /artifacts/:uid?permanent=true": "admin",
  "POST /artifacts/:uid/restore": "write",
  "POST /artifacts/uploads": "write",
  "PUT /artifacts/uploads/:uid/content": "write",
  "PUT /artifacts/uploads/:uid/files/:path": "write",
  "POST /artifacts/uploads/:uid/complete": "write",
  "GET /artifacts/:uid/download": "read",
  "GET /artifacts/:uid/files/:path": "read",
  "GET /artifacts/:uid/lineage": "read",
  "GET /registries": "read",
  "GET /transforms": "read",
  "GET /transforms/:uid": "read",
  "PATCH /transforms/:uid": "write",
  "POST /transforms": "write",
  "POST /transforms/:uid/links/:relation": "write",
  "GET /runs": "read",
  "GET /runs/:uid": "read",
  "PATCH /runs/:uid": "write",
  "POST /runs": "write",
  "GET /features": "read",
  "GET /features/:uid": "read",
  "PATCH /features/:uid": "write",
  "POST /features": "write",
  "GET /ulabels": "read",
  "GET /ulabels/:uid": "read",
  "PATCH /ulabels/:uid": "write",
  "POST /ulabels": "write",
  "GET /projects": "read",
  "GET /projects/:uid": "read",
  "PATCH /projects/:uid": "write",
  "POST /projects": "write",
  "POST /projects/:uid/links/:relation": "write",
  "POST /runs/:uid/finish": "write",
  "POST /runs/:uid/inputs": "write",
  "GET /records": "read",
  "GET /records/:uid": "read",
  "PATCH /records/:uid": "write",
  "POST /records": "write",
  "POST /records/:uid/links/:relation": "write",
  "GET /records/:uid/sheet": "read",
  "GET /records/:uid/features": "read",
  "POST /records/:uid/features": "write",
  "GET /references": "read",
  "GET /references/:uid": "read",
  "PATCH /references/:uid": "write",
  "POST /references": "write",
  "POST /references/:uid/links/:relation": "write",
  "GET /blocks": "read",
  "GET /blocks/:uid": "read",
  "POST /blocks": "write",
  "POST /blocks/:uid/links/:relation": "write",
  "DELETE /blocks/:uid": "write",
  "DELETE /blocks/:uid?permanent=true": "admin",
  "GET /blocks/:registry/:uid": "read",
  "POST /blocks/:registry/:uid": "write",
  "PATCH /blocks/:registry/:uid/:block": "write",
  "DELETE /blocks/:registry/:uid/:block": "write",
  "GET /collections": "read",
  "GET /collections/by-key": "read",
  "GET /collections/:uid": "read",
  "PATCH /collections/:uid": "write",
  "POST /collections": "write",
  "GET /collections/:uid/members": "read",
  "GET /artifacts/:uid/features": "read",
  "POST /artifacts/:uid/features": "write",
  "GET /runs/:uid/features": "read",
  "POST /runs/:uid/features": "write",
  "POST /artifacts/:uid/features/remove": "write",
  "POST /runs/:uid/features/remove": "write",
  "POST /records/:uid/features/remove": "write",
  "GET /search/:registry": "read",
  "GET /schemas": "read",
  "GET /schemas/:ref": "read",
  "POST /schemas": "write",
  // validating a table writes nothing: readers validate their data too
  "POST /schemas/:ref/validate": "read",
  "GET /modules": "read",
  "GET /modules/migrations": "read",
  "GET /modules/search/:registry": "read",
  "GET /modules/lookup": "read",
  "GET /modules/records/:registry": "read",
  "POST /modules/records/:registry": "write",
  "PATCH /modules/records/:registry/:uid": "write",
  "DELETE /modules/records/:registry/:uid": "write",
  "DELETE /modules/records/:registry/:uid?permanent=true": "admin",
  // a schema change: enabling or migrating a module
  "POST /modules/:name/enable": "admin",
  "POST /reconcile": "admin",
  "POST /events/s3": "write",
  "POST /events/gcs": "write",
  "GET /branches": "read",
  "GET /branches/:ref": "read",
  "POST /branches": "write",
  "PATCH /branches/:ref": "write",
  "GET /branches/:ref/changes": "read",
  // merging changes what everyone sees on the target
  "POST /branches/:ref/merge": "admin",
  // spaces decide who sees what: only admins make them
  "GET /spaces": "read",
  "POST /spaces": "admin",
};

const PUBLIC = new Set([
  "GET /health",
  "GET /docs",
  "GET /openapi.json",
  // the web UI's sign-in: checks the credential it is given, like the bearer header
  "GET /session",
  "POST /session",
  "DELETE /session",
]);

/** `METHOD path` of every route of the instance API but the public ones. */
const instanceRoutes = (): string[] => instanceApiRoutes().filter((k) => !PUBLIC.has(k));

/** A concrete request for a route: parameters filled with values of the right shape. */
function requestFor(route: string): { method: string; path: string; body?: string } {
  const [method, template] = route.split(" ") as [string, string];
  const [pathTemplate, query] = template.split("?");
  const path = (pathTemplate as string)
    .replace(":uid", "0000000000000000")
    .replace(":ref", "any")
    .replace(":registry", "ulabels")
    .replace(":path", "a.txt");
  const search = query ?? (path.startsWith("/search") ? "q=x" : "");
  const body =
    method === "POST" || method === "PATCH"
      ? route === "POST /events/s3"
        ? JSON.stringify({ Records: [] })
        : "{}"
      : method === "PUT"
        ? "x"
        : undefined;
  return { method, path: search ? `${path}?${search}` : path, ...(body ? { body } : {}) };
}

describe.skipIf(!process.env.DATABASE_URL)("hub: roles decided on the dispatched route", () => {
  let fx: HubFixture;
  let app: ReturnType<typeof createHubApp>;
  let server: Awaited<ReturnType<typeof listenOn>>["server"] | undefined;
  let port = 0;
  const base = "/instances/alice/alpha";

  beforeAll(async () => {
    fx = await hubFixture();
    loose();
    app = createHubApp({ hub: fx.hub });
    const served = await listenOn(app.fetch, { port: 0, host: "127.0.0.1" });
    server = served.server;
    port = Number(new URL(served.url).port);
  }, 120_000);

  afterAll(async () => {
    server?.close();
    await app?.close();
    await fx?.close();
  });

  const state = () => fingerprint(fx.alpha.dbUrl, fx.alpha.root);
  /** A file nobody registered: a reconcile that runs registers it (a row appears). */
  let n = 0;
  const loose = () => {
    const name = `loose-${n++}.csv`;
    writeFileSync(join(fx.alpha.root, name), `a,b\n${n},2\n`);
    return name;
  };

  const call = async (
    role: Role | "owner",
    req: { method: string; path: string; body?: string },
  ) => {
    const headers: Record<string, string> = { authorization: `Bearer ${fx.keys[role]}` };
    if (req.body !== undefined) {
      headers["content-type"] =
        req.method === "PUT" ? "application/octet-stream" : "application/json";
    }
    const res = await app.request(`${base}${req.path}`, {
      method: req.method,
      headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
    });
    return { status: res.status, text: await res.text() };
  };

  /** The same request through a socket, its target sent byte for byte (no URL normalisation). */
  const raw = (method: string, target: string, key: string) =>
    new Promise<{ status: number; text: string; type: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          method,
          path: target,
          headers: { authorization: `Bearer ${key}` },
        },
        (res) => {
          let text = "";
          res.on("data", (d) => {
            text += d;
          });
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              text,
              type: String(res.headers["content-type"]),
            }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });

  it("a route of the instance API without a declared role stops the app from being built", () => {
    const app = new Hono<ApiEnv>();
    app.get("/listed", requires("read"), (c) => c.text("ok"));
    app.post("/forgotten", (c) => c.text("ok"));
    expect(() => assertRolesDeclared(app.routes, new Set())).toThrow(/POST \/forgotten/);
    expect(() => assertRolesDeclared(app.routes.slice(0, 2), new Set())).not.toThrow();
  });

  it("every route of the instance API has a decided role (this table covers them all)", () => {
    const routes = instanceRoutes();
    const declared = Object.keys(NEEDS).filter((k) => !k.includes("?"));
    expect([...routes].sort()).toEqual([...declared].sort());
  });

  it("matrix: every route x read/write/admin; a refused call is 403 and changes nothing", async () => {
    const failures: string[] = [];
    for (const [route, need] of Object.entries(NEEDS)) {
      const req = requestFor(route);
      // the refused roles first, with the state around them; then the allowed ones
      const refused = ROLES.filter((role) => !allows(role, need));
      const before = await state();
      for (const role of refused) {
        const res = await call(role, req);
        if (res.status !== 403) failures.push(`${route} as ${role}: ${res.status}, expected 403`);
      }
      if ((await state()) !== before) failures.push(`${route}: refused, yet something changed`);
      for (const role of ROLES.filter((r) => allows(r, need))) {
        const res = await call(role, req);
        if (
          res.status === 401 ||
          res.status === 403 ||
          (res.status === 404 && /no route/.test(res.text))
        ) {
          failures.push(`${route} as ${role}: ${res.status} ${res.text}`);
        }
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  /** Paths that name reconcile in a way a second parser of the path could miss. */
  const TRICKS = [
    `${base}/%72econcile`,
    `${base}/%72%65concile`,
    `${base}//x/reconcile`,
    `${base}//reconcile`,
    `${base}/x/..%2Freconcile`,
    `${base}/artifacts%2F..%2F..%2Freconcile`,
    `${base}/%2Freconcile`,
    `${base}/x/%2E%2E/reconcile`,
    `${base}/x/%2e%2e/reconcile`,
    `${base}/x/../reconcile`,
    `${base}/./reconcile`,
    `${base}/%5Creconcile`,
  ];

  it("write and read keys never reach reconcile through an encoded or doubled path", async () => {
    loose();
    const before = await state();
    const failures: string[] = [];
    for (const role of ["write", "read"] as const) {
      for (const path of TRICKS) {
        const res = await app.request(path, {
          method: "POST",
          headers: { authorization: `Bearer ${fx.keys[role]}` },
        });
        // URL parsing resolves some tricks before the app sees them: refused either way
        if (![400, 403, 404].includes(res.status)) {
          failures.push(`${path} as ${role}: ${res.status} ${await res.text()}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await state()).toBe(before);
  });

  it("on a running server, an ambiguous path is 400 before anything is dispatched", async () => {
    const unregistered = loose();
    const before = await state();
    const failures: string[] = [];
    for (const role of ["write", "admin"] as const) {
      for (const path of TRICKS) {
        const res = await raw("POST", path, fx.keys[role]);
        if (res.status !== 400 || res.type !== "application/problem+json") {
          failures.push(`${path} as ${role}: ${res.status} ${res.text}`);
        } else {
          expect(JSON.parse(res.text).hint).toBeTruthy();
        }
      }
    }
    expect(failures).toEqual([]);
    // even an admin's call did nothing: the path was refused, not dispatched
    expect(await state()).toBe(before);
    // the plain path still works for an admin (dry run: nothing changes)
    const plain = await raw("POST", `${base}/reconcile?dry_run=true`, fx.keys.admin);
    expect(plain.status, plain.text).toBe(200);
    expect(JSON.parse(plain.text).registered.map((r: { key: string }) => r.key)).toContain(
      unregistered,
    );
    expect(await state()).toBe(before);
  });

  it("a project role is an annotation: a write key that makes a user a project's admin gains nothing", async () => {
    const project = await call("write", {
      method: "POST",
      path: "/projects",
      body: JSON.stringify({ name: "Escalation" }),
    });
    expect(project.status, project.text).toBe(201);
    const { uid } = JSON.parse(project.text) as { uid: string };
    const linked = await call("write", {
      method: "POST",
      path: `/projects/${uid}/links/users`,
      body: JSON.stringify({ add: ["anonymous"], role: "admin" }),
    });
    expect(linked.status, linked.text).toBe(200);
    expect(JSON.parse(linked.text).users).toEqual([{ handle: "anonymous", role: "admin" }]);
    // the reader cannot add a role at all
    const asReader = await call("read", {
      method: "POST",
      path: `/projects/${uid}/links/users`,
      body: JSON.stringify({ add: ["anonymous"], role: "owner" }),
    });
    expect(asReader.status).toBe(403);
    loose();
    const before = await state();
    for (const req of [
      { method: "POST", path: "/reconcile" },
      { method: "DELETE", path: "/blocks/0000000000000000?permanent=true" },
      { method: "DELETE", path: "/artifacts/0000000000000000?permanent=true" },
    ]) {
      expect((await call("write", req)).status, `${req.method} ${req.path}`).toBe(403);
    }
    expect(await state()).toBe(before);
  });

  it("a write key cannot delete for good by bending the query (permanent needs admin)", async () => {
    const before = await state();
    for (const query of [
      "permanent=true",
      "permanent=true&permanent=false",
      "permanent=false&permanent=true",
      "permanent=TRUE",
      "permanent=1",
    ]) {
      const res = await call("write", {
        method: "DELETE",
        path: `/artifacts/0000000000000000?${query}`,
      });
      expect([400, 403], `${query}: ${res.status} ${res.text}`).toContain(res.status);
    }
    expect(await state()).toBe(before);
  });

  it("what clients send stays unambiguous: nested folder files and a schema named a/b go through", async () => {
    const ln = new RemoteInstance(`http://127.0.0.1:${port}${base}`, { token: fx.keys.write });
    const dir = join(fx.work, "cells.zarr");
    writeTree(dir, { "a.txt": "alpha", "sub/deeper/b 1%.txt": "beta" });
    const { artifact } = await ln.artifacts.save(dir, { key: "folders/cells.zarr" });
    const { path } = await ln.artifacts.load(artifact.uid, { to: join(fx.work, "back") });
    expect(readFileSync(join(path, "sub/deeper/b 1%.txt"), "utf8")).toBe("beta");
    await ln.features.create({ name: "n_cells", dtype: "int" });
    await ln.schemas.create({ name: "lab/cells", features: ["n_cells"] });
    expect((await ln.schemas.get("lab/cells")).name).toBe("lab/cells");
    const csv = join(fx.work, "cells.csv");
    writeFileSync(csv, "n_cells\n3\n");
    expect((await ln.validate(csv, "lab/cells")).valid).toBe(true);
  });
});
