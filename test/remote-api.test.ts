/**
 * The routes and SDK calls that make features, labels, schemas, validation, collections and run
 * tracking work over HTTP, on each database: the SDK's RemoteInstance talks to the API app in
 * this process (its `fetch` is `app.request`), so every call crosses the real HTTP layer (zod,
 * problem+json, the typed client) without a server. Bad input changes nothing.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { queryRows } from "../core/db/client.js";
import { NotFoundError } from "../core/errors.js";
import { hashFile, hashFolder } from "../core/hash.js";
import type { Instance } from "../core/instance.js";
import type { Artifact } from "../core/registry/artifacts/artifacts.js";
import { createApp } from "../functions/api/app.js";
import { RemoteInstance } from "../sdk/remote.js";
import {
  BACKENDS,
  createInstance,
  type TestInstance,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";

useTempHome();
const TOKEN = "lnt_remote-api-test-token-0123456789";
const BASE = "http://api.test";

// an error the API did not expect is logged and answered 500: none may happen here
const logged = vi.spyOn(console, "error");
afterEach(() => {
  expect(logged).not.toHaveBeenCalled();
});

describe.each(BACKENDS)("features, schemas and runs over HTTP on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  let app: ReturnType<typeof createApp>;
  let remote: RemoteInstance;

  const call = (
    method: string,
    path: string,
    json?: unknown,
    headers: Record<string, string> = {},
  ) =>
    app.request(`${BASE}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(json !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });

  const file = (name: string, text: string) => {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  };

  const artifactCount = async () =>
    (await queryRows<{ n: number }>(ln.db, sql`SELECT count(*)::int AS n FROM lamindb_artifact`))[0]
      ?.n;

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir();
    app = createApp({
      instance: () => ln,
      authorize: (token) => token === TOKEN,
      maxTableBytes: 64 * 1024,
    });
    remote = new RemoteInstance(BASE, {
      token: TOKEN,
      fetch: ((input: string | URL | Request, init?: RequestInit) =>
        app.request(input, init)) as typeof fetch,
    });
    await ln.features.create({ name: "temperature", dtype: "float" });
    await ln.features.create({ name: "cell_type", dtype: "cat[ULabel]" });
    await ln.ulabels.create({ name: "T-cell" });
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it("creates records with LaminDB's outcome in lamin-status, and lists them", async () => {
    const first = await remote.features.create({ name: "n_cells", dtype: "int", nullable: false });
    expect(first).toMatchObject({ status: "created", record: { name: "n_cells", dtype: "int" } });
    expect(await remote.features.create({ name: "n_cells", dtype: "int" })).toMatchObject({
      status: "existing",
      record: { uid: first.record.uid },
    });
    await expect(remote.features.create({ name: "n_cells", dtype: "float" })).rejects.toMatchObject(
      { kind: "conflict" },
    );
    const res = await call("POST", "/records", { name: "r1" });
    expect(res.status).toBe(201);
    expect(res.headers.get("lamin-status")).toBe("created");
    expect((await remote.records.create({ name: "r1" })).status).toBe("existing");
    expect((await remote.records.list()).items.map((r) => r.name)).toEqual(["r1"]);
    expect((await remote.ulabels.list({ filter: { name: "T-cell" } })).items).toHaveLength(1);
    expect(await remote.search("ulabel", "t cell")).toEqual(await ln.search("ulabel", "t cell"));
  });

  it("annotates artifacts and runs (from_text), refusing bad values without writing", async () => {
    const { artifact } = await ln.artifacts.save(file("a.txt", "a"), { key: "a.txt" });
    const added = await remote.annotations.add(
      "artifact",
      { key: "a.txt" },
      { temperature: "37.5", cell_type: "T-cell" },
      { ulabels: ["T-cell"] },
      { fromText: true },
    );
    expect(added).toEqual(await ln.annotations.get("artifact", artifact.uid));
    expect(added.features).toEqual({ temperature: 37.5, cell_type: "T-cell" });
    for (const bad of [{ temperature: "hot" }, { cell_type: "B-cell" }, { nope: 1 }]) {
      await expect(
        remote.annotations.add("artifact", artifact.uid, bad, {}, { fromText: true }),
      ).rejects.toMatchObject({ kind: "validation" });
    }
    expect(await remote.annotations.get("artifact", artifact.uid)).toEqual(added);

    const transform = await remote.transforms.create({ key: "pipe.sh", kind: "script" });
    const hot = (await remote.runs.create({ transform: transform.record.uid })).record;
    const cold = (await remote.runs.create({ transform: transform.record.uid })).record;
    await remote.annotations.add("run", hot.uid, { temperature: 40 }, { projects: [] });
    await remote.annotations.add("run", cold.uid, { temperature: 20 });
    expect((await remote.annotations.get("run", hot.uid)).features).toEqual({ temperature: 40 });
    await expect(remote.annotations.get("run", "0000000000000000")).rejects.toMatchObject({
      kind: "not-found",
    });
    // runs by features: the SDK in process and over HTTP, and the raw route
    const uidsOf = (p: { items: { uid: string }[] }) => p.items.map((r) => r.uid);
    expect(uidsOf(await ln.runs.list({ features: { temperature__gt: 30 } }))).toEqual([hot.uid]);
    expect(uidsOf(await remote.runs.list({ features: { temperature__gt: 30 } }))).toEqual([
      hot.uid,
    ]);
    expect(uidsOf(await remote.runs.list({ features: { temperature__lt: 30 } }))).toEqual([
      cold.uid,
    ]);
    const page = await call("GET", "/runs?feature.temperature__gte=20&transform__key=pipe.sh");
    expect(uidsOf((await page.json()) as { items: { uid: string }[] })).toEqual([
      cold.uid,
      hot.uid,
    ]);
    await expect(remote.runs.list({ features: { nope: 1 } })).rejects.toMatchObject({
      kind: "validation",
    });
  });

  it("defines schemas and validates a local file on the server: the in-process report", async () => {
    const created = await remote.schemas.create({
      name: "cells",
      features: ["temperature", "cell_type"],
      maximalSet: true,
    });
    expect(created.status).toBe("created");
    expect(created.record).toEqual(await ln.schemas.get("cells"));
    expect(
      (
        await remote.schemas.create({
          name: "cells",
          features: ["temperature", "cell_type"],
          maximalSet: true,
        })
      ).status,
    ).toBe("existing");
    expect(await remote.schemas.list()).toEqual(await ln.schemas.list());
    await expect(remote.schemas.get("nope")).rejects.toMatchObject({ kind: "not-found" });

    const good = file("good.csv", "temperature,cell_type\n37.5,T-cell\n");
    const bad = file("bad.csv", "temperature,cell_type,extra\nhot,B-cell,1\n,T-cell,2\n");
    const json = file("one.json", '{"temperature": 36.6, "cell_type": "T-cell"}');
    for (const path of [good, bad, json]) {
      expect(await remote.validate(path, "cells")).toEqual(await ln.validate(path, "cells"));
    }
    expect((await remote.validate(bad, "cells")).valid).toBe(false);
    await expect(remote.validate(good, "nope")).rejects.toMatchObject({ kind: "not-found" });
    await expect(remote.validate(join(work, "missing.csv"), "cells")).rejects.toMatchObject({
      kind: "validation",
    });

    // a composite schema validates a folder: its slot tables are read here, checked there
    await remote.schemas.create({ name: "counts", features: ["n_cells"] });
    const combo = await remote.schemas.create({
      name: "combo",
      components: { obs: "cells", "var.T": "counts" },
    });
    expect(combo.record.components?.map((c) => `${c.slot}=${c.name}`)).toEqual([
      "obs=cells",
      "var.T=counts",
    ]);
    const folders = {
      good: { "obs.csv": "temperature,cell_type\n37.5,T-cell\n", "var.T.json": '{"n_cells": 3}' },
      bad: { "obs.parquet": "not parquet", "var.T.csv": "n_cells\nmany\n", "x.txt": "" },
      missing: { "obs.csv": "temperature\n1\n", "obs.tsv": "temperature\n1\n" },
    };
    for (const [name, files] of Object.entries(folders)) {
      const path = writeTree(join(work, name), files);
      const r = await remote.validate(path, "combo");
      expect(r).toEqual(await ln.validate(path, "combo"));
      expect(r.valid).toBe(name === "good");
    }
    // a file for a composite, a folder for a table's schema: refused as in process
    for (const [path, schema] of [
      [good, "combo"],
      [join(work, "good"), "cells"],
    ] as const) {
      const inProcess = await ln.validate(path, schema).catch((e: unknown) => e);
      expect(inProcess).toMatchObject({ kind: "validation" });
      await expect(remote.validate(path, schema)).rejects.toThrow((inProcess as Error).message);
    }
    // what a client posts is checked at the edge: the shape of the schema, its slots
    const table = {
      file: "a.csv",
      format: "csv",
      columns: ["n_cells"],
      values: { n_cells: ["1"] },
      n_rows: 1,
      text: true,
      single: false,
    };
    for (const [schema, posted, detail] of [
      ["combo", table, /is composite: it validates a folder, a.csv is a file/],
      ["cells", { file: "d", slots: {} }, /validates one table, not a folder's slots/],
      ["combo", { file: "d", slots: { nope: table } }, /has no slot 'nope'/],
    ] as const) {
      const res = await call("POST", `/schemas/${schema}/validate`, posted);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(detail);
    }
    // a slot the client does not send is missing, never valid
    const partial = await call("POST", "/schemas/combo/validate", {
      file: "d",
      slots: { "var.T": table },
    });
    expect(await partial.json()).toMatchObject({
      valid: false,
      issues: [{ kind: "slot-file", slot: "obs", problem: "missing", files: [] }],
      slots: { "var.T": { valid: true } },
    });

    // too large: 413 that says what to do (this app allows 64 KiB)
    const rows = (n: number) => `temperature,cell_type\n${"37.5,T-cell\n".repeat(n)}`;
    const big = file("big.csv", rows(10_000));
    // a folder: the cap is over all its slots together (each of these is below it)
    const bigDir = writeTree(join(work, "big"), {
      "obs.csv": rows(3_000),
      "var.T.csv": rows(3_000),
    });
    for (const [path, schema] of [
      [big, "cells"],
      [bigDir, "combo"],
    ] as const) {
      const error = await remote.validate(path, schema).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: "too-large" });
      expect((error as Error).message).toMatch(
        /too large to validate over HTTP \(at most 0\.1 MiB of JSON\)/,
      );
      expect((error as { hint?: string }).hint).toMatch(
        /validate where the instance's database is/,
      );
    }
    expect(await remote.validate(join(bigDir, "obs.csv"), "cells")).toMatchObject({ valid: true });
  });

  it("saves with a schema: invalid bytes are never registered, valid ones are linked", async () => {
    const before = await artifactCount();
    const bad = file("cells-bad.csv", "temperature,cell_type\nhot,B-cell\n");
    const refused = await remote.artifacts
      .save(bad, { key: "cells.csv", schema: "cells" })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: "validation", report: { valid: false } });
    await expect(
      remote.artifacts.save(bad, { key: "cells.csv", schema: "nope" }),
    ).rejects.toMatchObject({ kind: "not-found" });
    expect(await artifactCount()).toBe(before);

    // a client that skips the check and uploads anyway: the server validates the stored bytes
    const h = await hashFile(bad);
    const ticket = (await (
      await call("POST", "/artifacts/uploads", {
        name: "cells-bad.csv",
        size: h.size,
        hash: h.hash,
        hash_type: h.hashType,
        key: "cells.csv",
        schema: "cells",
      })
    ).json()) as { upload: { url: string; complete_url: string }; artifact: Artifact };
    expect(ticket.upload.complete_url).toMatch(/\/complete\?schema=cells$/);
    const put = await app.request(`${BASE}${ticket.upload.url}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: readFileSync(bad),
    });
    expect(put.status).toBe(204);
    const completed = await call("POST", ticket.upload.complete_url);
    expect(completed.status).toBe(400);
    const problem = (await completed.json()) as { detail: string; report: { file: string } };
    expect(problem.detail).toMatch(/does not match schema 'cells'/);
    expect(problem.report.file).toBe("cells.csv"); // never a path of the server
    expect(await artifactCount()).toBe(before);
    await expect(ln.artifacts.get({ key: "cells.csv" })).rejects.toMatchObject({
      kind: "not-found",
    });

    const good = file("cells.csv", "temperature,cell_type\n36.6,T-cell\n");
    const saved = await remote.artifacts.save(good, { key: "cells.csv", schema: "cells" });
    expect(saved.status).toBe("created");
    const linked = await queryRows<{ name: string }>(
      ln.db,
      sql`SELECT s.name FROM lamindb_artifact a JOIN lamindb_schema s ON s.id = a.schema_id
        WHERE a.uid = ${saved.artifact.uid}`,
    );
    expect(linked).toEqual([{ name: "cells" }]);
    expect((await ln.annotations.get("artifact", saved.artifact.uid)).features).toEqual({
      cell_type: "T-cell",
    });
    const again = await remote.artifacts.save(good, { key: "cells.csv", schema: "cells" });
    expect(again).toMatchObject({ status: "existing", artifact: { uid: saved.artifact.uid } });
  });

  it("saves a folder with a composite schema: one schema per slot; a bad upload keeps the other versions", async () => {
    const slotsOf = (uid: string) =>
      queryRows<{ slot: string; name: string }>(
        ln.db,
        sql`SELECT l.slot, s.name FROM lamindb_artifactschema l JOIN lamindb_schema s
          ON s.id = l.schema_id JOIN lamindb_artifact a ON a.id = l.artifact_id
          WHERE a.uid = ${uid} ORDER BY l.id`,
      );
    const before = (await artifactCount()) as number;
    const refused = await remote.artifacts
      .save(join(work, "bad"), { key: "ds/combo", schema: "combo" })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: "validation", report: { valid: false } });
    await expect(
      remote.artifacts.save(join(work, "good", "obs.csv"), { key: "ds/obs.csv", schema: "combo" }),
    ).rejects.toThrow(/is composite: it validates a folder/);
    expect(await artifactCount()).toBe(before);

    const v1 = await remote.artifacts.save(join(work, "good"), {
      key: "ds/combo",
      schema: "combo",
    });
    expect(v1.status).toBe("created");
    expect(await slotsOf(v1.artifact.uid)).toEqual([
      { slot: "obs", name: "cells" },
      { slot: "var.T", name: "counts" },
    ]);
    // every slot's values, as in process (a JSON record's values too)
    expect((await ln.annotations.get("artifact", v1.artifact.uid)).features).toEqual({
      cell_type: "T-cell",
      n_cells: 3,
    });

    // a client that skips the check: the server reads the uploaded slot files, refuses them and
    // aborts only this upload (v1, whose files the folder's versions share, stays)
    const badDir = writeTree(join(work, "bad-v2"), {
      "obs.csv": "temperature,cell_type\n37.5,B-cell\n",
      "var.T.json": "{not json",
      "big/obs.csv": "not a slot: below the top",
    });
    const h = await hashFolder(badDir);
    const ticket = (await (
      await call("POST", "/artifacts/uploads", {
        name: "bad-v2",
        size: h.size,
        hash: h.hash,
        hash_type: h.hashType,
        n_files: h.nFiles,
        key: "ds/combo",
        schema: "combo",
      })
    ).json()) as { upload: { file_url_template: string; complete_url: string } };
    for (const f of h.files) {
      const put = await app.request(
        `${BASE}${ticket.upload.file_url_template.replace("{path}", encodeURIComponent(f.relPath))}`,
        {
          method: "PUT",
          headers: { authorization: `Bearer ${TOKEN}` },
          body: readFileSync(join(badDir, f.relPath)),
        },
      );
      expect(put.status).toBe(204);
    }
    const completed = await call("POST", ticket.upload.complete_url);
    expect(completed.status).toBe(400);
    const problem = (await completed.json()) as { detail: string; report: { file: string } };
    expect(problem.detail).toMatch(/slot 'obs' \(obs.csv\): column 'cell_type'/);
    expect(problem.detail).toMatch(/slot 'var.T': combo\/var.T.json is not valid JSON/);
    expect(JSON.stringify(problem)).not.toContain(tmpdir());
    expect(problem.report.file).toBe("combo"); // the key's name, never a path of the server
    expect(await artifactCount()).toBe(before + 1);
    const versions = await ln.artifacts.versions(v1.artifact.uid);
    expect(versions.map((v) => [v.uid, v.is_latest])).toEqual([[v1.artifact.uid, true]]);
    const loaded = await ln.artifacts.load(v1.artifact.uid, { to: join(work, "back") });
    expect(readFileSync(join(loaded.path, "obs.csv"), "utf8")).toContain("T-cell");
    // a registered artifact is no upload to abort
    await expect(ln.artifacts.abortUpload(v1.artifact.uid)).rejects.toMatchObject({
      kind: "conflict",
    });
    expect(await artifactCount()).toBe(before + 1);
    // a file's next version, aborted: the previous one is the latest again, bytes and all
    const head = await ln.artifacts.get({ key: "cells.csv" });
    const next = file("cells-v2.csv", "temperature,cell_type\n1.5,T-cell\n");
    const h2 = await hashFile(next);
    const pending = await ln.artifacts.prepareUpload({
      name: "cells-v2.csv",
      size: h2.size,
      hash: h2.hash,
      hash_type: h2.hashType,
      key: "cells.csv",
    });
    expect(pending).toMatchObject({ status: "pending", outcome: "new-version" });
    await ln.artifacts.abortUpload(pending.artifact.uid);
    await expect(ln.artifacts.get(pending.artifact.uid)).rejects.toMatchObject({
      kind: "not-found",
    });
    expect(await ln.artifacts.get({ key: "cells.csv" })).toMatchObject({
      uid: head.uid,
      is_latest: true,
    });
    expect((await ln.artifacts.load(head.uid, { to: join(work, "back") })).artifact.uid).toBe(
      head.uid,
    );
    expect(await artifactCount()).toBe(before + 1);
  });

  it("collections over HTTP: by key, members, load (verified), unknown ones", async () => {
    const a = (await ln.artifacts.save(file("c1.txt", "1"), { key: "c/1.txt" })).artifact;
    const b = (await ln.artifacts.save(file("c2.txt", "2"), { key: "c/2.txt" })).artifact;
    const made = await remote.collections.create({ key: "ds/c", artifacts: [a.uid, b.uid] });
    expect(made.status).toBe("created");
    expect(
      (await remote.collections.create({ key: "ds/c", artifacts: [a.uid, b.uid] })).status,
    ).toBe("existing");
    expect(await remote.collections.get({ key: "ds/c" })).toEqual(
      await ln.collections.get({ key: "ds/c" }),
    );
    expect((await remote.collections.members({ key: "ds/c" })).map((m) => m.uid)).toEqual([
      a.uid,
      b.uid,
    ]);
    const loaded = await remote.collections.load(made.record.uid, { to: join(work, "out") });
    expect(loaded.files.map((f) => readFileSync(f.path, "utf8"))).toEqual(["1", "2"]);
    // a description changed over HTTP is what the instance has, and null clears it
    const described = await remote.collections.updateDescription(made.record.uid, "two files");
    expect(described.description).toBe("two files");
    expect((await ln.collections.get(made.record.uid)).description).toBe("two files");
    expect((await remote.collections.updateDescription(made.record.uid, null)).description).toBe(
      null,
    );
    // the error classes of in-process code, not only their kinds
    await expect(remote.collections.get({ key: "ds/none" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      remote.collections.create({ key: "ds/d", artifacts: ["0000000000000000"] }),
    ).rejects.toMatchObject({ kind: "validation" });
  });

  it("tracks a run over HTTP: saves get its run_id, loads become inputs, finish ends it", async () => {
    const input = (await ln.artifacts.save(file("in.txt", "in"), { key: "run/in.txt" })).artifact;
    const transform = await remote.transforms.create({
      key: "track.sh",
      kind: "script",
      source_code: "echo 1\n",
    });
    const run = (
      await remote.runs.create({
        transform: transform.record.uid,
        extra_data: { environment: { node: process.version } },
      })
    ).record;
    const [stored] = await queryRows<{ extra_data: unknown }>(
      ln.db,
      sql`SELECT extra_data FROM lamindb_run WHERE uid = ${run.uid}`,
    );
    expect(stored?.extra_data).toEqual({ environment: { node: process.version } });
    await expect(
      remote.runs.create({
        transform: transform.record.uid,
        extra_data: [1] as unknown as Record<string, unknown>,
      }),
    ).rejects.toMatchObject({ kind: "validation" });
    remote.useRun(run.uid);
    try {
      await remote.artifacts.load(input.uid, { to: join(work, "run-in") });
      const out = await remote.artifacts.save(file("out.txt", "out"), { key: "run/out.txt" });
      expect(out.artifact.run).toBe(run.uid);
      const finished = await remote.runs.finish(run.uid, "completed");
      expect(finished).toMatchObject({ uid: run.uid, status: "completed" });
      expect(finished.finished_at).not.toBeNull();
    } finally {
      remote.useRun(undefined);
    }
    const graph = await ln.lineage({ key: "run/out.txt" }, { direction: "upstream" });
    expect(JSON.stringify(graph)).toContain(input.uid);
    // a run that is not there: nothing is attributed (as in process), and inputs say not found
    const res = await call("POST", `/runs/${"0".repeat(16)}/inputs`, { artifacts: [input.uid] });
    expect(res.status).toBe(404);
    await expect(remote.runs.finish("0000000000000000")).rejects.toMatchObject({
      kind: "not-found",
    });
  });

  it("documents every new route in /openapi.json", async () => {
    const doc = (await (await call("GET", "/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(ops).toEqual(
      expect.arrayContaining([
        "GET /runs/{uid}/features",
        "POST /runs/{uid}/features",
        "POST /runs/{uid}/finish",
        "POST /runs/{uid}/inputs",
        "GET /records",
        "POST /records",
        "GET /records/{uid}",
        "GET /collections/by-key",
        "GET /schemas",
        "POST /schemas",
        "GET /schemas/{ref}",
        "POST /schemas/{ref}/validate",
      ]),
    );
  });
});
