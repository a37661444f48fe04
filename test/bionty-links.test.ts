/**
 * Artifacts annotated with bionty records (`cat[bionty.CellType]`, `cat[bionty.CellType.
 * ontology_id]`, lists of them) on each database: link rows in `bionty_artifact<entity>` with
 * the feature, read back with the other values, queried like ULabel features, written by a
 * valid `save --schema`; values not in the registry, runs, and instances without the module
 * are refused and change nothing.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import type { Instance } from "../core/instance.js";
import { enableModules } from "../core/modules/index.js";
import { parseDtype } from "../core/registry/annotations/annotations.js";
import {
  BACKENDS,
  createInstance,
  snapshotTables,
  type TestInstance,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";

useTempHome();

const TABLES = [
  "bionty_artifactcelltype",
  "bionty_artifacttissue",
  "bionty_recordcelltype",
  "bionty_recordtissue",
  "lamindb_artifactulabel",
  "lamindb_artifactjsonvalue",
  "lamindb_jsonvalue",
  "lamindb_artifact",
];

describe("dtypes of module registries", () => {
  it("parse as module features, as lists too", () => {
    expect(parseDtype("cat[bionty.CellType]")).toEqual({
      kind: "module",
      list: false,
      spec: "bionty.CellType",
    });
    expect(parseDtype("list[cat[bionty.CellType.ontology_id]]")).toEqual({
      kind: "module",
      list: true,
      spec: "bionty.CellType.ontology_id",
    });
    expect(parseDtype("cat[bionty.Tissue.ontology_id|bionty.CellType]")).toBeUndefined();
  });
});

describe.each(BACKENDS)("bionty link tables on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  const uids: string[] = [];

  /** Every row of the annotation tables, to compare before and after a refused change. */
  const snapshot = () => snapshotTables(ln.db, TABLES);
  const links = (table: string) =>
    queryRows<{ artifact: string; value: string; feature: string | null }>(
      ln.db,
      sql`SELECT a.uid AS artifact, x.name AS value, f.name AS feature
        FROM ${sql.raw(`bionty_artifact${table}`)} l JOIN lamindb_artifact a ON a.id = l.artifact_id
        JOIN ${sql.raw(`bionty_${table}`)} x ON x.id = l.${sql.raw(`${table}_id`)}
        LEFT JOIN lamindb_feature f ON f.id = l.feature_id ORDER BY l.id`,
    );
  const ls = async (features: Record<string, unknown>) =>
    (await ln.artifacts.list({ features })).items.map((a) => a.uid).sort();

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir();
    await enableModules(ln, ["bionty"]);
    writeTree(work, {
      "a.csv": "a\n1\n",
      "b.csv": "b\n2\n",
      "c.csv": "c\n3\n",
      "cells.csv":
        "cell_type,cl_id,donor\nT cell,CL:0000084,d1\nlymphocyte,CL:0000542,d2\nT cell,CL:0000084,d3\n",
      "cells-bad.csv": "cell_type,cl_id\nT cel,CL:0000084\nT-lymphocyte,CL:9999999\n",
    });
    for (const f of ["a.csv", "b.csv", "c.csv"]) {
      uids.push((await ln.artifacts.save(join(work, f), { key: `raw/${f}` })).artifact.uid);
    }
    await ln.features.create({ name: "cell_type", dtype: "cat[bionty.CellType]" });
    await ln.features.create({ name: "cl_id", dtype: "cat[bionty.CellType.ontology_id]" });
    await ln.features.create({ name: "tissues", dtype: "list[cat[bionty.Tissue]]" });
    await ln.features.create({ name: "donor", dtype: "str" });
    await ln.features.create({ name: "label", dtype: "cat[ULabel]" });
    await ln.ulabels.create({ name: "batch 1" });
  });
  afterAll(async () => {
    await t.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it("add writes link rows with the feature; get returns them with the other values", async () => {
    const [a, b] = uids as [string, string];
    const got = await ln.artifacts.features(a).add({
      cell_type: "T cell",
      cl_id: "CL:0000542",
      tissues: ["lung", "liver"],
      donor: "d1",
      label: "batch 1",
    });
    expect(got.features).toEqual({
      cell_type: "T cell",
      cl_id: "CL:0000542",
      donor: "d1",
      label: "batch 1",
      tissues: ["liver", "lung"],
    });
    expect(await links("celltype")).toEqual([
      { artifact: a, value: "T cell", feature: "cell_type" },
      { artifact: a, value: "lymphocyte", feature: "cl_id" },
    ]);
    expect((await links("tissue")).map((l) => [l.value, l.feature])).toEqual([
      ["lung", "tissues"],
      ["liver", "tissues"],
    ]);
    // the same value again: no second row; values as text from a command line: comma lists
    await ln.artifacts.features(a).add({ cell_type: "T cell" });
    await ln.artifacts.features(b).add({ cell_type: "T cell,lymphocyte" }, { fromText: true });
    expect((await links("celltype")).filter((l) => l.artifact === a)).toHaveLength(2);
    expect((await ln.artifacts.features(b).get()).features).toEqual({
      cell_type: ["lymphocyte", "T cell"],
    });
  });

  it("set replaces and remove removes a feature's records, other features stay", async () => {
    const b = uids[1] as string;
    const set = await ln.artifacts.features(b).set({ cell_type: ["regulatory T cell"] });
    expect(set.features).toEqual({ cell_type: "regulatory T cell" });
    await ln.artifacts.features(b).add({ cl_id: "CL:0000084" });
    const removed = await ln.artifacts.features(b).remove("cell_type");
    expect(removed.features).toEqual({ cl_id: "CL:0000084" });
    expect((await links("celltype")).filter((l) => l.artifact === b)).toEqual([
      { artifact: b, value: "T cell", feature: "cl_id" },
    ]);
  });

  it("refuses values not in the registry, lists them, and writes nothing", async () => {
    const c = uids[2] as string;
    const script = join(work, "annotate.ts");
    writeTree(work, { "annotate.ts": "console.log(1)\n" });
    const run = await ln.track({ path: script, captureProcess: false });
    const before = await snapshot();
    const attempt = ln.artifacts
      .features(c)
      .add({ donor: "d9", cell_type: ["T cell", "T cel", "T-lymphocyte"] });
    await expect(attempt).rejects.toMatchObject({ kind: "validation" });
    await expect(attempt).rejects.toThrow(
      /feature 'cell_type': 2 values are not bionty.CellType.name: 'T cel' \(did you mean 'T cell'.*\), 'T-lymphocyte' \(synonym of 'T cell'\)/,
    );
    await expect(ln.artifacts.features(c).add({ cl_id: "T cell" })).rejects.toThrow(
      /not bionty.CellType.ontology_id: 'T cell'/,
    );
    await expect(ln.artifacts.features(c).set({ cl_id: ["CL:0000084", 3] })).rejects.toThrow(
      /give label names/,
    );
    // runs have no links to bionty records
    await expect(
      ln.annotations.of("run", run.run.uid).add({ cell_type: "T cell" }),
    ).rejects.toThrow(/runs cannot be annotated with it, only artifacts and records/);
    expect(await snapshot()).toBe(before);
    await ln.finish();
  });

  it("queries by module features like ULabel features: by name or by the dtype's field", async () => {
    const [a, b, c] = uids as [string, string, string];
    expect(await ls({ cell_type: "T cell" })).toEqual([a]);
    // a feature of ontology ids matches ids and names
    expect(await ls({ cl_id: "CL:0000084" })).toEqual([b]);
    expect(await ls({ cl_id: "T cell" })).toEqual([b]);
    expect(await ls({ cl_id__in: "CL:0000084,CL:0000542" })).toEqual([a, b].sort());
    expect(await ls({ cl_id__startswith: "CL:00005" })).toEqual([a]);
    expect(await ls({ tissues: "lung" })).toEqual([a]);
    expect(await ls({ tissues__isnull: true })).toEqual([b, c].sort());
    expect(await ls({ cell_type: "T cell", tissues: "liver" })).toEqual([a]);
    expect(await ls({ cell_type: "B cell" })).toEqual([]);
    await expect(ls({ cell_type__gt: "T" })).rejects.toThrow(/operator 'gt' does not apply/);
  });

  it("records hold bionty values in bionty_record<entity> (value_id), queried like artifacts", async () => {
    const record = (await ln.records.create({ name: "sample with cells" })).record.uid;
    const fm = ln.records.features(record);
    expect(
      (await fm.add({ cell_type: "T cell", cl_id: "CL:0000542", tissues: ["lung", "liver"] }))
        .features,
    ).toEqual({ cell_type: "T cell", cl_id: "CL:0000542", tissues: ["liver", "lung"] });
    const rows = await queryRows<{ value: string; feature: string }>(
      ln.db,
      sql`SELECT x.name AS value, f.name AS feature FROM bionty_recordcelltype l
        JOIN lamindb_record r ON r.id = l.record_id JOIN bionty_celltype x ON x.id = l.value_id
        JOIN lamindb_feature f ON f.id = l.feature_id WHERE r.uid = ${record} ORDER BY l.id`,
    );
    expect(rows).toEqual([
      { value: "T cell", feature: "cell_type" },
      { value: "lymphocyte", feature: "cl_id" },
    ]);
    const records = async (features: Record<string, unknown>) =>
      (await ln.records.list({ features })).items.map((r) => r.uid);
    expect(await records({ cl_id: "CL:0000542" })).toEqual([record]);
    expect(await records({ tissues__contains: "lun" })).toEqual([record]);
    const before = await snapshot();
    await expect(fm.add({ cell_type: "T cel" })).rejects.toThrow(/did you mean 'T cell'/);
    expect(await snapshot()).toBe(before);
    expect((await fm.remove("tissues")).features).toEqual({
      cell_type: "T cell",
      cl_id: "CL:0000542",
    });
  });

  it("save --schema links the values of cat[bionty.*] columns; invalid ones save nothing", async () => {
    await ln.schemas.create({ name: "cells", features: ["cell_type", "cl_id", "donor"] });
    const before = await snapshot();
    await expect(
      ln.artifacts.save(join(work, "cells-bad.csv"), { key: "cells-bad.csv", schema: "cells" }),
    ).rejects.toThrow(/does not match schema 'cells'/);
    expect(await snapshot()).toBe(before);
    const saved = await ln.artifacts.save(join(work, "cells.csv"), {
      key: "cells.csv",
      schema: "cells",
    });
    const got = await ln.artifacts.features(saved.artifact.uid).get();
    expect(got.features).toMatchObject({
      cell_type: ["lymphocyte", "T cell"],
      cl_id: ["lymphocyte", "T cell"].map((n) => (n === "T cell" ? "CL:0000084" : "CL:0000542")),
    });
    expect(await ls({ cell_type: "lymphocyte" })).toEqual([saved.artifact.uid]);
  });
});

describe.each(BACKENDS)("bionty features without the module on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir();
    writeTree(work, { "a.csv": "a\n1\n" });
  });
  afterAll(async () => {
    await t.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it("say how to enable bionty, and change nothing", async () => {
    const { artifact } = await ln.artifacts.save(join(work, "a.csv"), { key: "a.csv" });
    await ln.features.create({ name: "cell_type", dtype: "cat[bionty.CellType]" });
    const error = await ln.artifacts
      .features(artifact.uid)
      .add({ cell_type: "T cell" })
      .catch((e: unknown) => e as { message: string; hint?: string });
    expect(error).toMatchObject({
      message: expect.stringMatching(/module 'bionty' is not enabled/),
      hint: expect.stringMatching(/lamin module enable bionty/),
    });
    await expect(ln.artifacts.list({ features: { cell_type: "T cell" } })).rejects.toMatchObject({
      hint: expect.stringMatching(/lamin module enable bionty/),
    });
    expect((await ln.artifacts.features(artifact.uid).get()).features).toEqual({});
  });
});
