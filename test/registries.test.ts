/**
 * Transforms, runs, features, ulabels, projects and collections on each database, through the
 * HTTP app: create, get, list with filters, bad inputs (problem+json), and LaminDB's rules
 * (transform hash and versions, collection hash, dedup and versions, name matches).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { ValidationError } from "../core/errors.js";
import { hashSet, hashString } from "../core/hash.js";
import type { Instance } from "../core/instance.js";
import { isValidDtype } from "../core/registry/records.js";
import { createApp } from "../functions/api/app.js";
import {
  BACKENDS,
  createInstance,
  type TestInstance,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";

useTempHome();

type Json = Record<string, unknown>;
const PROBLEM = "application/problem+json";
const REGISTRIES = ["transforms", "runs", "features", "ulabels", "projects", "collections"];

describe.each(BACKENDS)("registries on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let app: ReturnType<typeof createApp>;
  let work: string;

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    app = createApp({ instance: () => ln, authorize: (token) => token === "tok" });
    work = tempDir();
  });
  afterAll(async () => {
    await t?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const send = (
    method: string,
    path: string,
    body?: unknown,
    opts: { token?: string | null; raw?: string } = {},
  ) => {
    const headers: Record<string, string> = {};
    const token = opts.token === undefined ? "tok" : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    if (payload !== undefined) headers["content-type"] = "application/json";
    return app.request(path, {
      method,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
    });
  };

  /** A JSON answer with this status; its body. */
  const ok = async (res: Response, status: number): Promise<Json> => {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    return JSON.parse(text) as Json;
  };

  /** A problem+json answer with this status; its body. */
  const problem = async (res: Response, status: number, detail?: RegExp): Promise<Json> => {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    expect(res.headers.get("content-type")).toBe(PROBLEM);
    const body = JSON.parse(text) as Json;
    expect(body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
    expect(body.type).toMatch(/^urn:lamindb-serverless:problem:/);
    expect(JSON.stringify(body)).not.toMatch(/\n\s+at /); // no stack traces
    if (detail) expect(body.detail).toMatch(detail);
    return body;
  };

  const items = (page: Json) => page.items as Json[];
  const uids = (page: Json) => items(page).map((i) => i.uid);

  const artifact = async (name: string, content: string, key?: string) =>
    (
      await ln.artifacts.save(writeTree(work, { [name]: content }) && join(work, name), {
        key: key ?? `members/${name}`,
      })
    ).artifact;

  // ---------------------------------------------------------------- transforms

  describe("transforms", () => {
    it("creates with hash = hash_string(source_code), gets, and returns the same key+source", async () => {
      const source = "import lamindb as ln\nln.track()\n";
      const created = await ok(
        await send("POST", "/transforms", {
          key: "pipelines/clean.py",
          description: "cleans data",
          kind: "script",
          source_code: source,
        }),
        201,
      );
      expect(created).toMatchObject({
        key: "pipelines/clean.py",
        description: "cleans data",
        kind: "script",
        source_code: source,
        hash: hashString(source),
        version: "0000",
        version_tag: null,
        is_latest: true,
        branch: "main",
        created_by: "anonymous",
      });
      expect(created.uid).toMatch(/^[0-9A-Za-z]{12}0000$/);
      expect(new Date(created.created_at as string).getTime()).not.toBeNaN();
      expect(await ok(await send("GET", `/transforms/${created.uid}`), 200)).toEqual(created);
      // same key and source: the existing transform, 200
      const again = await ok(
        await send("POST", "/transforms", { key: "pipelines/clean.py", source_code: source }),
        200,
      );
      expect(again.uid).toBe(created.uid);
      const [row] = await queryRows<{ n: number }>(
        ln.db,
        sql`SELECT count(*)::int AS n FROM lamindb_transform WHERE key = 'pipelines/clean.py'`,
      );
      expect(row?.n).toBe(1);
    });

    it("makes the next version when a key gets new source, and moves is_latest", async () => {
      const v0 = (await ln.transforms.create({ key: "pipelines/train.py", source_code: "v0" }))
        .record;
      const res = await send("POST", "/transforms", {
        key: "pipelines/train.py",
        source_code: "v1",
        version_tag: "1.0",
      });
      const v1 = await ok(res, 201);
      expect(v1.uid).toBe(`${v0.uid.slice(0, 12)}0001`);
      expect(v1).toMatchObject({ version: "1.0", version_tag: "1.0", hash: hashString("v1") });
      expect((await ln.transforms.get(v0.uid)).is_latest).toBe(false);
      // a stem gets the latest version
      expect((await ok(await send("GET", `/transforms/${v0.uid.slice(0, 12)}`), 200)).uid).toBe(
        v1.uid,
      );
      // going back to the first source returns the first version (unique key + hash)
      const back = await ln.transforms.create({ key: "pipelines/train.py", source_code: "v0" });
      expect(back).toMatchObject({ status: "existing", record: { uid: v0.uid } });
      await problem(
        await send("POST", "/transforms", {
          key: "pipelines/train.py",
          source_code: "v2",
          version_tag: "1.0",
        }),
        400,
        /version tag '1.0' is already used/,
      );
      const all = await ok(await send("GET", "/transforms?key=pipelines/train.py"), 200);
      expect(uids(all)).toEqual([v1.uid, v0.uid]);
      const latest = await ok(
        await send("GET", "/transforms?key=pipelines/train.py&is_latest=true"),
        200,
      );
      expect(uids(latest)).toEqual([v1.uid]);
      const byHash = await ok(await send("GET", `/transforms?hash=${hashString("v0")}`), 200);
      expect(uids(byHash)).toEqual([v0.uid]);
    });

    it("reuses a latest version without source code and gives it the source", async () => {
      const bare = await ok(await send("POST", "/transforms", { key: "notebooks/explore" }), 201);
      expect(bare).toMatchObject({ source_code: null, hash: null, kind: "pipeline" });
      const same = await ok(await send("POST", "/transforms", { key: "notebooks/explore" }), 200);
      expect(same.uid).toBe(bare.uid);
      const filled = await ln.transforms.create({ key: "notebooks/explore", source_code: "x = 1" });
      expect(filled.status).toBe("existing");
      expect(filled.note).toMatch(/no source code yet/);
      expect(filled.record).toMatchObject({ uid: bare.uid, hash: hashString("x = 1") });
    });

    it("rejects bad transforms with a ValidationError and a hint", async () => {
      const cases: [unknown, RegExp][] = [
        [{ key: "" }, /needs a key/],
        [{ key: "a/../b.py" }, /'\.\.'/],
        [{ key: "a\\b.py" }, /backslash/],
        [{ key: "x.py", kind: "banana" }, /invalid transform kind/],
        [{ key: 5 }, /key must be a string/],
        [{ key: "x.py", source_code: 1 }, /source_code must be a string/],
      ];
      for (const [input, message] of cases) {
        const err = await ln.transforms.create(input as never).catch((e) => e);
        expect(err, JSON.stringify(input)).toBeInstanceOf(ValidationError);
        expect((err as Error).message).toMatch(message);
        expect((err as ValidationError).hint).toBeTruthy();
      }
      await problem(await send("POST", "/transforms", { key: "a/../b.py" }), 400, /'\.\.'/);
      await problem(await send("POST", "/transforms", { key: "x.py", kind: "banana" }), 400);
      // LaminDB's check_key accepts an absolute-looking key: a transform's key is a name
      expect((await ln.transforms.create({ key: "/abs.py" })).status).toBe("created");
    });
  });

  // ---------------------------------------------------------------- runs

  describe("runs", () => {
    it("starts a run of a transform, gets it and lists runs by transform and status", async () => {
      const tr = (await ln.transforms.create({ key: "pipelines/run-me.py", source_code: "r" }))
        .record;
      const run = await ok(
        await send("POST", "/runs", {
          transform: tr.uid,
          name: "first",
          params: { learning_rate: 0.01, layers: [64, 32], nested: { a: "b" } },
        }),
        201,
      );
      expect(run).toMatchObject({
        name: "first",
        transform: tr.uid,
        status: "started",
        finished_at: null,
        params: { learning_rate: 0.01, layers: [64, 32], nested: { a: "b" } },
        created_by: "anonymous",
        branch: "main",
      });
      expect(run.uid).toMatch(/^[0-9A-Za-z]{16}$/);
      expect(new Date(run.started_at as string).getTime()).not.toBeNaN();
      const [row] = await queryRows<{ _status_code: number }>(
        ln.db,
        sql`SELECT _status_code FROM lamindb_run WHERE uid = ${run.uid as string}`,
      );
      expect(row?._status_code).toBe(-1);
      expect(await ok(await send("GET", `/runs/${run.uid}`), 200)).toEqual(run);
      // a stem of the transform works too; a finished status gets finished_at
      const done = await ok(
        await send("POST", "/runs", { transform: tr.uid.slice(0, 12), status: "completed" }),
        201,
      );
      expect(done).toMatchObject({ status: "completed", transform: tr.uid, params: null });
      expect(done.finished_at).toEqual(expect.any(String));
      const byTransform = await ok(await send("GET", `/runs?transform__uid=${tr.uid}`), 200);
      expect(uids(byTransform)).toEqual([done.uid, run.uid]);
      const started = await ok(
        await send("GET", `/runs?transform__key=pipelines/run-me.py&status=started`),
        200,
      );
      expect(uids(started)).toEqual([run.uid]);
      const byCode = await ok(
        await send("GET", `/runs?transform__uid=${tr.uid}&_status_code__gte=0`),
        200,
      );
      expect(uids(byCode)).toEqual([done.uid]);
    });

    it("rejects runs without a valid transform, bad params and unknown statuses", async () => {
      const tr = (await ln.transforms.create({ key: "pipelines/other.py" })).record;
      await problem(await send("POST", "/runs", { name: "orphan" }), 400, /transform/);
      await problem(
        await send("POST", "/runs", { transform: "AAAAAAAAAAAA0000" }),
        400,
        /no transform with uid AAAAAAAAAAAA0000/,
      );
      await problem(await send("POST", "/runs", { transform: tr.uid, params: [1, 2] }), 400);
      await problem(await send("POST", "/runs", { transform: tr.uid, params: "x" }), 400);
      await problem(await send("POST", "/runs", { transform: tr.uid, status: "done" }), 400);
      const err = await ln.runs
        .create({ transform: tr.uid, status: "toString" as never })
        .catch((e) => e);
      expect(err).toBeInstanceOf(ValidationError);
      const arr = await ln.runs.create({ transform: tr.uid, params: [1] as never }).catch((e) => e);
      expect(arr).toBeInstanceOf(ValidationError);
    });
  });

  // ---------------------------------------------------------------- features

  describe("features", () => {
    it("creates, gets, lists by dtype, returns the same name, and refuses another dtype", async () => {
      const f = await ok(
        await send("POST", "/features", {
          name: "temperature",
          dtype: "float",
          unit: "°C",
          description: "incubation temperature",
        }),
        201,
      );
      expect(f).toMatchObject({
        name: "temperature",
        dtype: "float",
        unit: "°C",
        description: "incubation temperature",
        created_by: "anonymous",
      });
      expect(f.uid).toMatch(/^[0-9A-Za-z]{12}$/);
      expect(await ok(await send("GET", `/features/${f.uid}`), 200)).toEqual(f);
      const same = await ok(
        await send("POST", "/features", { name: "temperature", dtype: "float" }),
        200,
      );
      expect(same.uid).toBe(f.uid);
      await problem(
        await send("POST", "/features", { name: "temperature", dtype: "int" }),
        409,
        /already exists .* with dtype 'float'/,
      );
      const cell = await ok(
        await send("POST", "/features", { name: "cell_type", dtype: "cat[bionty.CellType]" }),
        201,
      );
      const floats = await ok(await send("GET", "/features?dtype=float"), 200);
      expect(uids(floats)).toEqual([f.uid]);
      const cats = await ok(await send("GET", "/features?dtype__startswith=cat["), 200);
      expect(uids(cats)).toEqual([cell.uid]);
      const [row] = await queryRows<{ _dtype_str: string }>(
        ln.db,
        sql`SELECT _dtype_str FROM lamindb_feature WHERE uid = ${f.uid as string}`,
      );
      expect(row?._dtype_str).toBe("float");
    });

    it("validates LaminDB dtype strings", async () => {
      const valid = [
        "int",
        "float",
        "num",
        "str",
        "bool",
        "date",
        "datetime",
        "dict",
        "path",
        "url",
        "cat",
        "cat[ULabel]",
        "cat[Record]",
        "cat[Artifact]",
        "cat[ULabel[Mb8pXJ4Z]]",
        "cat[bionty.CellType]",
        "cat[bionty.CellType.ontology_id]",
        "cat[bionty.Tissue.ontology_id|bionty.CellType.ontology_id]",
        "cat[bionty.Disease[source__uid='4a3ejKuf']]",
        "list[str]",
        "list[float]",
        "list[cat[ULabel]]",
        "list[cat[bionty.CellType]]",
      ];
      const invalid = [
        "",
        "integer",
        "Int",
        "string",
        "cat[]",
        "cat[foo]",
        "cat[ULabel",
        "cat[ULabel]]",
        "list[]",
        "list[list[int]]",
        "list[banana]",
        "float; DROP TABLE lamindb_feature",
      ];
      for (const d of valid) expect(isValidDtype(d), d).toBe(true);
      for (const d of invalid) expect(isValidDtype(d), d).toBe(false);
      for (const [i, dtype] of ["integer", "cat[foo]", "list[list[int]]"].entries()) {
        const body = await problem(
          await send("POST", "/features", { name: `bad_${i}`, dtype }),
          400,
          /invalid dtype/,
        );
        expect(body.hint).toMatch(/cat\[ULabel\]/);
      }
      await problem(await send("POST", "/features", { name: "no_dtype" }), 400, /dtype/);
      const listed = await ok(await send("GET", "/features?name__startswith=bad_"), 200);
      expect(items(listed)).toEqual([]);
    });
  });

  // ---------------------------------------------------------------- ulabels

  describe("ulabels", () => {
    it("creates types and labels of a type, gets them and lists by type", async () => {
      const type = await ok(
        await send("POST", "/ulabels", { name: "CellLine", is_type: true }),
        201,
      );
      expect(type).toMatchObject({ name: "CellLine", is_type: true, type: null });
      expect(type.uid).toMatch(/^[0-9A-Za-z]{8}$/);
      const hek = await ok(
        await send("POST", "/ulabels", { name: "HEK293", type: type.uid, description: "kidney" }),
        201,
      );
      expect(hek).toMatchObject({ name: "HEK293", is_type: false, type: type.uid });
      expect(await ok(await send("GET", `/ulabels/${hek.uid}`), 200)).toEqual(hek);
      const hela = (await ln.ulabels.create({ name: "HeLa", type: type.uid as string })).record;
      const ofType = await ok(await send("GET", `/ulabels?type__uid=${type.uid}`), 200);
      expect(uids(ofType)).toEqual([hela.uid, hek.uid]);
      const byName = await ok(await send("GET", "/ulabels?type__name=CellLine&name=HeLa"), 200);
      expect(uids(byName)).toEqual([hela.uid]);
      const types = await ok(await send("GET", "/ulabels?is_type=true"), 200);
      expect(uids(types)).toContain(type.uid);
      expect(uids(types)).not.toContain(hek.uid);
      // same name and type: the existing label; the same name without the type is another label
      const again = await ok(
        await send("POST", "/ulabels", { name: "HEK293", type: type.uid }),
        200,
      );
      expect(again.uid).toBe(hek.uid);
      const untyped = await ok(await send("POST", "/ulabels", { name: "HEK293" }), 201);
      expect(untyped.uid).not.toBe(hek.uid);
      await problem(
        await send("POST", "/ulabels", { name: "HEK293", is_type: true }),
        409,
        /is not a type/,
      );
    });

    it("refuses a type that is not a type, or does not exist", async () => {
      const plain = (await ln.ulabels.create({ name: "plain-label" })).record;
      await problem(
        await send("POST", "/ulabels", { name: "child", type: plain.uid }),
        400,
        /is not a type/,
      );
      await problem(
        await send("POST", "/ulabels", { name: "child", type: "ZZZZZZZZ" }),
        400,
        /no ulabel with uid ZZZZZZZZ/,
      );
      await problem(await send("POST", "/ulabels", { name: "child", type: "short" }), 400);
      await problem(await send("POST", "/ulabels", { name: "child", is_type: "yes" }), 400);
      await problem(await send("POST", "/ulabels", { name: "   " }), 400, /needs a name/);
    });
  });

  // ---------------------------------------------------------------- projects

  describe("records", () => {
    // Records share ULabel's type handling (records/typed.ts): the same rules, the same errors.
    it("creates types and records of a type, and refuses what ulabels refuse", async () => {
      const type = await ln.records.create({ name: "Sample", is_type: true });
      expect(type.status).toBe("created");
      expect(type.record).toMatchObject({ name: "Sample", is_type: true, type: null });
      const byName = await ln.records.create({ name: "s1", type: "Sample" });
      expect(byName.record).toMatchObject({ name: "s1", is_type: false, type: type.record.uid });
      const byUid = await ln.records.create({ name: "s1", type: type.record.uid });
      expect(byUid).toMatchObject({ status: "existing", record: { uid: byName.record.uid } });
      const untyped = await ln.records.create({ name: "s1" });
      expect(untyped.record.uid).not.toBe(byName.record.uid);

      const count = async () => (await ln.records.list({ limit: 100 })).items.length;
      const before = await count();
      await expect(
        ln.records.create({ name: "s1", type: "Sample", is_type: true }),
      ).rejects.toThrow(/record 's1' already exists .* is not a type/);
      await expect(ln.records.create({ name: "s2", type: "s1" })).rejects.toThrow(
        /no record with uid s1, and no record type named 's1'/,
      );
      await expect(ln.records.create({ name: "s2", type: byName.record.uid })).rejects.toThrow(
        /is not a type/,
      );
      await expect(
        ln.records.create({ name: "s2", is_type: "yes" as unknown as boolean }),
      ).rejects.toThrow(/is_type must be true or false/);
      expect(await count()).toBe(before);
    });
  });

  describe("projects", () => {
    it("creates, gets, lists by abbr, and returns the same name", async () => {
      const p = await ok(
        await send("POST", "/projects", {
          name: "Lung atlas",
          abbr: "LA",
          url: "https://example.org/lung",
          description: "single-cell atlas",
        }),
        201,
      );
      expect(p).toMatchObject({
        name: "Lung atlas",
        abbr: "LA",
        url: "https://example.org/lung",
        description: "single-cell atlas",
        branch: "main",
        created_by: "anonymous",
      });
      expect(p.uid).toMatch(/^[0-9A-Za-z]{12}$/);
      expect(await ok(await send("GET", `/projects/${p.uid}`), 200)).toEqual(p);
      expect((await ok(await send("POST", "/projects", { name: "Lung atlas" }), 200)).uid).toBe(
        p.uid,
      );
      const byAbbr = await ok(await send("GET", "/projects?abbr=LA"), 200);
      expect(uids(byAbbr)).toEqual([p.uid]);
      const byName = await ok(await send("GET", "/projects?name__icontains=LUNG"), 200);
      expect(uids(byName)).toEqual([p.uid]);
      await problem(
        await send("POST", "/projects", { name: "Bad url", url: "javascript:alert(1)" }),
        400,
        /invalid url/,
      );
      await problem(await send("POST", "/projects", { name: "x".repeat(256) }), 400);
    });

    it("pages with a cursor in both orders", async () => {
      const made: string[] = [];
      for (let i = 0; i < 5; i++)
        made.push((await ln.projects.create({ name: `paged-${i}` })).record.uid);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const q = `/projects?name__startswith=paged-&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
        const page = await ok(await send("GET", q), 200);
        seen.push(...(uids(page) as string[]));
        cursor = page.next_cursor as string | undefined;
      } while (cursor);
      expect(seen).toEqual([...made].reverse());
      const asc = await ok(
        await send("GET", "/projects?name__startswith=paged-&order_by=created_at&limit=3"),
        200,
      );
      expect(uids(asc)).toEqual(made.slice(0, 3));
      const next = await ok(
        await send(
          "GET",
          `/projects?name__startswith=paged-&order_by=created_at&limit=3&cursor=${asc.next_cursor}`,
        ),
        200,
      );
      expect(uids(next)).toEqual(made.slice(3));
      expect(next.next_cursor).toBeUndefined();
      // rows that share a timestamp with sub-millisecond digits (one transaction writes several)
      await ln.db.execute(sql`UPDATE lamindb_project
        SET created_at = '2030-01-01 00:00:00.123456+00', updated_at = '2030-01-01 00:00:00.123456+00'
        WHERE name LIKE 'paged-%'`);
      for (const order of ["created_at", "-created_at", "updated_at", "-updated_at", "id", "-id"]) {
        for (const limit of [1, 2]) {
          const got: string[] = [];
          let after: string | undefined;
          do {
            const q = `/projects?name__startswith=paged-&order_by=${order}&limit=${limit}${after ? `&cursor=${after}` : ""}`;
            const page = await ok(await send("GET", q), 200);
            got.push(...(uids(page) as string[]));
            after = page.next_cursor as string | undefined;
          } while (after && got.length <= made.length);
          const expected = order.startsWith("-") ? [...made].reverse() : made;
          expect(got, `${order} by ${limit}`).toEqual(expected);
        }
      }
      await problem(await send("GET", "/projects?cursor=garbage"), 400, /invalid cursor/);
      await problem(await send("GET", "/projects?order_by=name"), 400);
      await problem(await send("GET", "/projects?limit=0"), 400);
    });
  });

  // ---------------------------------------------------------------- collections

  describe("collections", () => {
    it("creates with hash = hash_set(member hashes), keeps member order, and gets", async () => {
      const a = await artifact("c1.txt", "one");
      const b = await artifact("c2.txt", "two");
      const col = await ok(
        await send("POST", "/collections", {
          key: "datasets/pair",
          description: "two files",
          artifacts: [b.uid, a.uid],
        }),
        201,
      );
      expect(col).toMatchObject({
        key: "datasets/pair",
        description: "two files",
        hash: hashSet([a.hash as string, b.hash as string]),
        version: "0000",
        is_latest: true,
        artifacts: [b.uid, a.uid],
        created_by: "anonymous",
      });
      expect(col.uid).toMatch(/^[0-9A-Za-z]{16}0000$/);
      expect(await ok(await send("GET", `/collections/${col.uid}`), 200)).toEqual(col);
      const links = await queryRows<{ uid: string }>(
        ln.db,
        sql`SELECT a.uid FROM lamindb_collectionartifact ca
            JOIN lamindb_artifact a ON a.id = ca.artifact_id
            JOIN lamindb_collection c ON c.id = ca.collection_id
            WHERE c.uid = ${col.uid as string} ORDER BY ca.id`,
      );
      expect(links.map((l) => l.uid)).toEqual([b.uid, a.uid]);
    });

    it("returns the existing collection for the same members, and versions a key", async () => {
      const a = await artifact("v1.txt", "v-one");
      const b = await artifact("v2.txt", "v-two");
      const c = await artifact("v3.txt", "v-three");
      const v0 = await ok(
        await send("POST", "/collections", { key: "datasets/growing", artifacts: [a.uid, b.uid] }),
        201,
      );
      // same members in another order, with a 16-character stem: same hash, the same collection
      const same = await ok(
        await send("POST", "/collections", {
          key: "datasets/growing",
          artifacts: [b.uid, a.uid.slice(0, 16)],
        }),
        200,
      );
      expect(same.uid).toBe(v0.uid);
      // same members under another key: LaminDB returns the existing collection too
      const other = await ln.collections.create({
        key: "datasets/elsewhere",
        artifacts: [a.uid, b.uid],
      });
      expect(other).toMatchObject({ status: "existing", record: { uid: v0.uid } });
      expect(other.note).toMatch(/datasets\/growing/);
      // new members under the key: the next version
      const v1 = await ok(
        await send("POST", "/collections", {
          key: "datasets/growing",
          artifacts: [a.uid, b.uid, c.uid],
          version_tag: "2",
        }),
        201,
      );
      expect(v1).toMatchObject({
        uid: `${(v0.uid as string).slice(0, 16)}0001`,
        version: "2",
        is_latest: true,
        hash: hashSet([a.hash, b.hash, c.hash] as string[]),
        artifacts: [a.uid, b.uid, c.uid],
      });
      expect((await ln.collections.get(v0.uid as string)).is_latest).toBe(false);
      expect(
        (await ok(await send("GET", `/collections/${(v0.uid as string).slice(0, 16)}`), 200)).uid,
      ).toBe(v1.uid);
      const versions = await ok(await send("GET", "/collections?key=datasets/growing"), 200);
      expect(uids(versions)).toEqual([v1.uid, v0.uid]);
      expect(items(versions)[1]?.artifacts).toEqual([a.uid, b.uid]);
      const latest = await ok(
        await send("GET", "/collections?key=datasets/growing&is_latest=true"),
        200,
      );
      expect(uids(latest)).toEqual([v1.uid]);
      const [count] = await queryRows<{ n: number }>(
        ln.db,
        sql`SELECT count(*)::int AS n FROM lamindb_collection WHERE key LIKE 'datasets/%'`,
      );
      // pair, growing v0 and v1 (the existing ones were returned, not copied)
      expect(count?.n).toBe(3);
    });

    it("brings a trashed collection back when the same members are collected under its key", async () => {
      const a = await artifact("t1.txt", "trash-one");
      const v0 = (await ln.collections.create({ key: "datasets/trashy", artifacts: [a.uid] }))
        .record;
      await ln.db.execute(sql`UPDATE lamindb_collection SET branch_id = -1, is_latest = false
        WHERE uid = ${v0.uid}`);
      expect(uids(await ok(await send("GET", "/collections?key=datasets/trashy"), 200))).toEqual(
        [],
      );
      const inTrash = await ok(
        await send("GET", "/collections?key=datasets/trashy&branch_id=-1"),
        200,
      );
      expect(items(inTrash)[0]).toMatchObject({ uid: v0.uid, branch: "trash" });
      const back = await ok(
        await send("POST", "/collections", { key: "datasets/trashy", artifacts: [a.uid] }),
        200,
      );
      expect(back).toMatchObject({ uid: v0.uid, branch: "main", is_latest: true });
    });

    it("refuses members that are missing, in the trash or not completely uploaded", async () => {
      const ok1 = await artifact("m-ok.txt", "fine");
      const trashed = await artifact("m-trash.txt", "trashed");
      await ln.artifacts.delete(trashed.uid);
      const pending = await ln.artifacts.prepareUpload({
        name: "pending.txt",
        size: 3,
        hash: "AAAAAAAAAAAAAAAAAAAAAA",
        hash_type: "md5",
        key: "members/pending.txt",
      });
      expect(pending.status).toBe("pending");
      const before = await queryRows(ln.db, sql`SELECT id FROM lamindb_collection ORDER BY id`);
      const cases: [unknown, RegExp | undefined][] = [
        [
          { key: "bad/missing", artifacts: [ok1.uid, "AAAAAAAAAAAAAAAAAAAA"] },
          /no artifact with uid AAAAAAAAAAAAAAAAAAAA/,
        ],
        [{ key: "bad/trash", artifacts: [trashed.uid] }, /in the trash/],
        [{ key: "bad/pending", artifacts: [pending.artifact.uid] }, /never completely written/],
        [{ key: "bad/empty", artifacts: [] }, undefined],
        [{ key: "bad/notuid", artifacts: ["../../etc/passwd"] }, undefined],
        [{ key: "bad/type", artifacts: "x" }, undefined],
        [{ key: "../up", artifacts: [ok1.uid] }, /'\.\.'/],
        [{ artifacts: [ok1.uid] }, undefined],
      ];
      for (const [body, detail] of cases) {
        const p = await problem(await send("POST", "/collections", body), 400, detail);
        expect(p.type).toBe("urn:lamindb-serverless:problem:validation");
      }
      expect(await queryRows(ln.db, sql`SELECT id FROM lamindb_collection ORDER BY id`)).toEqual(
        before,
      );
    });
  });

  // ---------------------------------------------------------------- every registry

  describe("every registry", () => {
    it("rejects unknown fields, operators and ill-typed filters with 400 problem+json", async () => {
      for (const r of REGISTRIES) {
        await problem(await send("GET", `/${r}?nope=1`), 400, /unknown field 'nope'/);
        await problem(await send("GET", `/${r}?uid__regex=x`), 400, /unknown operator/);
        await problem(await send("GET", `/${r}?created_at__gt=yesterday`), 400, /date/);
        await problem(await send("GET", `/${r}?id__contains=1`), 400, /does not apply/);
        await problem(
          await send("GET", `/${r}?${encodeURIComponent("uid; DROP TABLE lamindb_user; --")}=x`),
          400,
        );
      }
    });

    it("treats SQL-injection strings in values as values", async () => {
      const evil = "x' OR '1'='1";
      const q = encodeURIComponent(evil);
      for (const [r, field] of [
        ["transforms", "key"],
        ["runs", "name"],
        ["features", "name"],
        ["ulabels", "name"],
        ["projects", "name"],
        ["collections", "key"],
      ] as const) {
        expect(items(await ok(await send("GET", `/${r}?${field}=${q}`), 200))).toEqual([]);
        expect(items(await ok(await send("GET", `/${r}?${field}__startswith=${q}`), 200))).toEqual(
          [],
        );
      }
      // stored as they are, and found as they are
      const label = await ok(await send("POST", "/ulabels", { name: evil }), 201);
      expect(label.name).toBe(evil);
      expect(uids(await ok(await send("GET", `/ulabels?name=${q}`), 200))).toEqual([label.uid]);
      const tr = await ok(
        await send("POST", "/transforms", { key: "x'); DROP TABLE lamindb_run; --" }),
        201,
      );
      expect(tr.key).toBe("x'); DROP TABLE lamindb_run; --");
      expect(items(await ok(await send("GET", "/runs"), 200)).length).toBeGreaterThan(0);
    });

    it("answers 404 for unknown uids and 400 for malformed ones", async () => {
      const unknown: Record<string, string> = {
        transforms: "AAAAAAAAAAAAAAAA",
        runs: "AAAAAAAAAAAAAAAA",
        features: "AAAAAAAAAAAA",
        ulabels: "AAAAAAAA",
        projects: "AAAAAAAAAAAA",
        collections: "AAAAAAAAAAAAAAAAAAAA",
      };
      for (const [r, uid] of Object.entries(unknown)) {
        const body = await problem(await send("GET", `/${r}/${uid}`), 404, /no .* with uid/);
        expect(body.hint).toMatch(new RegExp(`GET /${r}`));
        await problem(await send("GET", `/${r}/not-a-uid!`), 400);
        await problem(await send("GET", `/${r}/${encodeURIComponent("../../etc/passwd")}`), 400);
      }
      await expect(ln.features.get("nope")).rejects.toBeInstanceOf(ValidationError);
    });

    it("needs a token", async () => {
      for (const r of REGISTRIES) {
        const none = await send("GET", `/${r}`, undefined, { token: null });
        await problem(none, 401, /needs an access token/);
        expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
        await problem(await send("POST", `/${r}`, { name: "x" }, { token: "wrong" }), 401);
      }
    });

    it("rejects malformed JSON, wrong types and unknown body fields with 400", async () => {
      for (const r of REGISTRIES) {
        await problem(await send("POST", `/${r}`, undefined, { raw: '{"name": "x",' }), 400);
        await problem(await send("POST", `/${r}`, undefined, { raw: "[1, 2]" }), 400);
        await problem(
          await send("POST", `/${r}`, { name: 1, key: 1, dtype: 1, transform: 1 }),
          400,
        );
      }
      const wrong: [string, unknown][] = [
        ["transforms", { key: "k.py", kind: 3 }],
        ["transforms", { key: "k.py", unknown_field: 1 }],
        ["runs", { transform: ["x"] }],
        ["features", { name: "f", dtype: "float", unit: 5 }],
        ["ulabels", { name: "u", is_type: "true" }],
        ["projects", { name: "p", abbr: "x".repeat(33) }],
        ["collections", { key: "k", artifacts: [1, 2] }],
      ];
      for (const [r, body] of wrong) await problem(await send("POST", `/${r}`, body), 400);
      const big = "x".repeat(1024 * 1024 + 10);
      await problem(await send("POST", "/transforms", { key: "big.py", source_code: big }), 413);
    });

    it("PATCH sets or clears a description; bad bodies change nothing", async () => {
      const made: [string, Json][] = [
        ["transforms", await ok(await send("POST", "/transforms", { key: "patch.py" }), 201)],
        ["projects", await ok(await send("POST", "/projects", { name: "patched" }), 201)],
        ["features", await ok(await send("POST", "/features", { name: "p", dtype: "int" }), 201)],
      ];
      for (const [r, rec] of made) {
        const path = `/${r}/${rec.uid}`;
        const set = await ok(await send("PATCH", path, { description: `about ${r}` }), 200);
        expect(set).toMatchObject({ uid: rec.uid, description: `about ${r}` });
        expect(Date.parse(set.updated_at as string)).toBeGreaterThanOrEqual(
          Date.parse(rec.updated_at as string),
        );
        // other fields are not PATCHable, a description is text, and it has a limit
        await problem(await send("PATCH", path, { description: "x", key: "k", name: "n" }), 400);
        await problem(await send("PATCH", path, { description: 5 }), 400);
        await problem(await send("PATCH", path, {}), 400);
        await problem(await send("PATCH", path, { description: "x".repeat(10_001) }), 400);
        await problem(await send("PATCH", path, { description: "x" }, { token: null }), 401);
        expect((await ok(await send("GET", path), 200)).description).toBe(`about ${r}`);
        const cleared = await ok(await send("PATCH", path, { description: null }), 200);
        expect(cleared.description).toBeNull();
      }
      await problem(
        await send("PATCH", "/transforms/AAAAAAAAAAAAAAAA", { description: "x" }),
        404,
        /no transform with uid/,
      );
      // a stem addresses the latest version
      const transform = made[0]?.[1] as Json;
      const stem = (transform.uid as string).slice(0, 12);
      const viaStem = await ok(
        await send("PATCH", `/transforms/${stem}`, { description: "v" }),
        200,
      );
      expect(viaStem.uid).toBe(transform.uid);
    });

    it("hides the trash unless the filter asks for it", async () => {
      const gone = (await ln.projects.create({ name: "trashed project" })).record;
      await ln.db.execute(sql`UPDATE lamindb_project SET branch_id = -1 WHERE uid = ${gone.uid}`);
      expect(uids(await ok(await send("GET", "/projects?name=trashed project"), 200))).toEqual([]);
      expect(
        uids(await ok(await send("GET", "/projects?name=trashed project&branch_id=-1"), 200)),
      ).toEqual([gone.uid]);
      expect(uids(await ok(await send("GET", `/projects?uid=${gone.uid}`), 200))).toEqual([
        gone.uid,
      ]);
      expect((await ok(await send("GET", `/projects/${gone.uid}`), 200)).branch).toBe("trash");
      // a trashed name does not count: creating it again makes a new project
      const fresh = await ok(await send("POST", "/projects", { name: "trashed project" }), 201);
      expect(fresh.uid).not.toBe(gone.uid);
    });

    it("records who created every row and filters by created_by__handle", async () => {
      for (const table of [
        "lamindb_transform",
        "lamindb_run",
        "lamindb_feature",
        "lamindb_ulabel",
        "lamindb_project",
        "lamindb_collection",
        "lamindb_collectionartifact",
      ]) {
        const rows = await queryRows<{ created_by_id: number; n: number }>(
          ln.db,
          sql`SELECT created_by_id, count(*)::int AS n FROM ${sql.raw(table)} GROUP BY created_by_id`,
        );
        expect(rows, table).toEqual([{ created_by_id: ln.user.id, n: expect.any(Number) }]);
      }
      for (const r of REGISTRIES) {
        const mine = await ok(await send("GET", `/${r}?created_by__handle=anonymous&limit=1`), 200);
        expect(items(mine)).toHaveLength(1);
        const theirs = await ok(await send("GET", `/${r}?created_by__handle=someone-else`), 200);
        expect(items(theirs)).toEqual([]);
      }
    });

    it("documents every route and shape in the OpenAPI document", async () => {
      const doc = (await (await app.request("/openapi.json")).json()) as {
        paths: Record<string, Record<string, unknown>>;
        components: { schemas: Record<string, unknown> };
      };
      for (const r of REGISTRIES) {
        expect(Object.keys(doc.paths[`/${r}`] ?? {}).sort(), r).toEqual(["get", "post"]);
        // every one of these has a description, which PATCH changes
        expect(Object.keys(doc.paths[`/${r}/{uid}`] ?? {}).sort(), r).toEqual(["get", "patch"]);
      }
      for (const name of [
        "Transform",
        "TransformCreate",
        "Run",
        "RunCreate",
        "Feature",
        "FeatureCreate",
        "ULabel",
        "ULabelCreate",
        "Project",
        "ProjectCreate",
        "Collection",
        "CollectionCreate",
        "CollectionPage",
      ]) {
        expect(doc.components.schemas[name], name).toBeDefined();
      }
    });
  });
});
