/**
 * A NUL byte (which Postgres cannot store) in a filter, a path, a key, a name or a slug: bad
 * input, answered as such (ValidationError in process, 400 problem+json over HTTP) and changing
 * nothing. Refused at the edge where that is cheap (the URL), else mapped from the database's
 * SQLSTATE (22021, 22P05) in one place (core/db/faults.ts); never a 500 or raw SQL.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../../core/errors.js";
import { openHub } from "../../core/hub/open.js";
import { createApp } from "../../functions/api/app.js";
import { createHubApp } from "../../functions/hub/app.js";
import {
  BACKENDS,
  createInstance,
  snapshotTables,
  type TestInstance,
  tempDir,
  useTempHome,
} from "../helpers.js";
import { expectNoInternals } from "./support.js";

useTempHome();

const TABLES = ["lamindb_artifact", "lamindb_ulabel", "lamindb_feature", "lamindb_record"];

describe.each(BACKENDS)("NUL bytes on %s", (backend) => {
  let t: TestInstance;
  let app: ReturnType<typeof createApp>;
  const auth = { authorization: "Bearer t" };

  beforeAll(async () => {
    t = await createInstance(backend);
    app = createApp({ instance: () => t.instance, authorize: () => true });
  });
  afterAll(() => t?.dispose());

  /** A 400 problem+json that names the problem, with nothing internal in it. */
  async function expect400(res: Response, detail: RegExp) {
    const body = await res.text();
    expect(res.status, body).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(JSON.parse(body).detail).toMatch(detail);
    expectNoInternals(body);
  }

  it("in process: filters, names and descriptions are ValidationErrors, and nothing is written", async () => {
    const ln = t.instance;
    const before = await snapshotTables(ln.db, TABLES);
    const file = join(tempDir(), "ok.txt");
    writeFileSync(file, "fine bytes");
    const refusals: (() => Promise<unknown>)[] = [
      () => ln.artifacts.list({ filter: { key: "raw/a\u0000.csv" } }),
      () => ln.artifacts.list({ filter: { description__icontains: "\u0000" } }),
      () => ln.ulabels.create({ name: "T\u0000cell" }),
      () => ln.features.create({ name: "temp\u0000", dtype: "float" }),
      () => ln.records.create({ name: "sample\u00001" }),
      () => ln.artifacts.save(file, { key: "ok.txt", description: "bad \u0000 text" }),
    ];
    for (const attempt of refusals) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/NUL byte/);
      expectNoInternals((error as Error).message);
    }
    expect(await snapshotTables(ln.db, TABLES)).toEqual(before);
  });

  it("over HTTP: a NUL in the path or query is 400 before any route", async () => {
    for (const path of [
      "/artifacts?key=raw%2Fa%00.csv",
      "/artifacts/by-key?key=raw%00.csv",
      "/artifacts/0123456789abcdef%00",
      "/ulabels?name=x%00",
      "/features/abc%00def0123",
    ]) {
      await expect400(await app.request(path, { headers: auth }), /NUL byte \(%00\)/);
    }
  });

  it("over HTTP: a NUL in a JSON body is 400, and nothing is created", async () => {
    const before = await snapshotTables(t.instance.db, TABLES);
    const post = (path: string, body: unknown) =>
      app.request(path, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    await expect400(await post("/ulabels", { name: "T\u0000cell" }), /NUL byte/);
    await expect400(await post("/features", { name: "t\u0000", dtype: "float" }), /NUL byte/);
    await expect400(
      await post("/artifacts/uploads", {
        name: "a.csv",
        key: "raw/a\u0000.csv",
        size: 1,
        hash: "AAAAAAAAAAAAAAAAAAAAAA",
        hash_type: "md5",
      }),
      /control characters/,
    );
    expect(await snapshotTables(t.instance.db, TABLES)).toEqual(before);
  });
});

describe("NUL bytes at the hub", () => {
  it("a slug with a NUL is 400, with a valid key or none", async () => {
    const { hub, close } = await openHub({ pgliteDir: join(tempDir(), "hub") });
    try {
      await hub.createAccount("alice");
      const { key } = await hub.createKey("alice");
      const app = createHubApp({ hub });
      for (const [path, token] of [
        ["/instances/alice%00/lab", key],
        ["/instances/alice/lab%00/artifacts", key],
        ["/instances/alice/lab%00", "lnk_not-a-key"],
      ]) {
        const res = await app.request(path as string, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = await res.text();
        expect(res.status, body).toBe(400);
        expect(JSON.parse(body).detail).toMatch(/NUL byte/);
      }
    } finally {
      await close();
    }
  });
});
