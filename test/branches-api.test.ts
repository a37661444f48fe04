/**
 * Branches over HTTP and in the SDK: the routes of functions/api/routes/branches.ts through the
 * SDK's RemoteInstance (its `fetch` is the app's), the `lamin-branch` header that makes a
 * request write to and read a branch, and hostile input (bad names, unknown branches).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import type { Instance } from "../core/instance.js";
import { createApp } from "../functions/api/app.js";
import { RemoteInstance } from "../sdk/remote.js";
import { createInstance, type TestInstance, tempDir, useTempHome } from "./helpers.js";

useTempHome();
const TOKEN = "lnt_branches-api-test-token-0123456789";
const BASE = "http://api.test";

describe("branches over HTTP", () => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  let app: ReturnType<typeof createApp>;
  const fetchFn = ((input: string | URL | Request, init?: RequestInit) =>
    app.request(input, init)) as typeof fetch;
  const client = (branch?: string) =>
    new RemoteInstance(BASE, { token: TOKEN, fetch: fetchFn, ...(branch ? { branch } : {}) });
  const file = (name: string, text: string) => {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  };
  const call = (method: string, path: string, body?: unknown, headers = {}) =>
    app.request(`${BASE}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const branchCount = async () =>
    (await queryRows<{ n: number }>(ln.db, sql`SELECT count(*)::int AS n FROM lamindb_branch`))[0]
      ?.n;

  beforeAll(async () => {
    t = await createInstance("pglite");
    ln = t.instance;
    work = tempDir("lamin-branches-api-");
    app = createApp({ instance: () => ln, authorize: (token) => token === TOKEN });
  });
  afterAll(() => t.dispose());

  it("creates, lists, reads and updates branches", async () => {
    const remote = client();
    const created = await remote.branches.create("api_branch", { description: "via HTTP" });
    expect(created).toMatchObject({ name: "api_branch", status: "standalone" });
    const names = (await remote.branches.list()).map((b) => b.name);
    expect(names).toEqual(["trash", "archive", "main", "api_branch"]);
    expect(await remote.branches.get(created.uid)).toMatchObject({ name: "api_branch" });
    expect(await remote.branches.update("api_branch", { status: "draft" })).toMatchObject({
      status: "draft",
    });
  });

  it("a client on a branch writes there and reads it plus main; others do not see it", async () => {
    await ln.artifacts.save(file("m.csv", "main\n"), { key: "api/main.csv" });
    const onBranch = client();
    await onBranch.useBranch("api_branch");
    expect(onBranch.branch.name).toBe("api_branch");
    const saved = await onBranch.artifacts.save(file("b.csv", "branch\n"), { key: "api/b.csv" });
    const [row] = await queryRows<{ branch_id: number }>(
      ln.db,
      sql`SELECT branch_id FROM lamindb_artifact WHERE uid = ${saved.artifact.uid}`,
    );
    expect(row?.branch_id).toBe((await ln.branches.resolve("api_branch")).id);
    const seen = (await onBranch.artifacts.list()).items.map((a) => a.key);
    expect(seen).toEqual(expect.arrayContaining(["api/main.csv", "api/b.csv"]));
    // the settings' branch given at construction works the same
    expect((await client("api_branch").artifacts.list()).items.map((a) => a.key)).toContain(
      "api/b.csv",
    );
    const onMain = (await client().artifacts.list()).items.map((a) => a.key);
    expect(onMain).toContain("api/main.csv");
    expect(onMain).not.toContain("api/b.csv");
    // the server's own instance stays on main: a request's branch is the request's
    expect(ln.branch.name).toBe("main");
  });

  it("merges through the API: the records move to main", async () => {
    const result = await client().branches.merge("api_branch");
    expect(result).toMatchObject({ source: "api_branch", target: "main" });
    expect(result.moved.lamindb_artifact).toBe(1);
    const onMain = (await client().artifacts.list()).items.map((a) => a.key);
    expect(onMain).toContain("api/b.csv");
    expect(await client().branches.get("api_branch")).toMatchObject({ status: "merged" });
  });

  it("refuses hostile input with a problem and changes nothing", async () => {
    const before = await branchCount();
    for (const name of ["", "a b", "x'; DROP TABLE lamindb_branch; --", "a".repeat(101), "../x"]) {
      const res = await call("POST", "/branches", { name });
      expect(res.status, name).toBe(400);
      expect(res.headers.get("content-type")).toContain("problem+json");
    }
    expect((await call("POST", "/branches", { name: 5 })).status).toBe(400);
    expect((await call("PATCH", "/branches/main", { status: "draft" })).status).toBe(400);
    expect((await call("PATCH", "/branches/api_branch", { status: "bogus" })).status).toBe(400);
    expect((await call("POST", "/branches/nope/merge")).status).toBe(404);
    expect((await call("POST", "/branches/main/merge?target=main")).status).toBe(400);
    // an unknown branch in the header: refused, not silently main
    const res = await call("GET", "/artifacts", undefined, { "lamin-branch": "nope" });
    expect(res.status).toBe(404);
    const injected = await call("GET", "/artifacts", undefined, {
      "lamin-branch": "main' OR '1'='1",
    });
    expect(injected.status).toBe(404);
    expect(await branchCount()).toBe(before);
    await expect(client().useBranch("nope")).rejects.toMatchObject({ kind: "not-found" });
  });
});
