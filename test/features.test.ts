/**
 * Features and labels (issue 8 item 4) on each database: dtypes, ulabel types and parents,
 * annotating artifacts and runs (JsonValue dedup by LaminDB's hash, link rows), querying by
 * feature values and labels, and bad inputs that leave every row as it was.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { ValidationError } from "../core/errors.js";
import type { Instance } from "../core/instance.js";
import { closeMatches, parseDtype } from "../core/registry/annotations/annotations.js";
import {
  BACKENDS,
  createInstance,
  REPO,
  snapshotTables,
  type TestInstance,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";

useTempHome();

const vectors = (
  JSON.parse(readFileSync(join("/work/shared/reference/hash_vectors.json"), "utf8")) as {
    vectors: { name: string; kind: string; hash: string }[];
  }
).vectors.filter((v) => v.kind === "jsonvalue");
void REPO;

const LINK_TABLES = [
  "lamindb_jsonvalue",
  "lamindb_artifactjsonvalue",
  "lamindb_artifactulabel",
  "lamindb_artifactproject",
  "lamindb_artifactrecord",
  "lamindb_runjsonvalue",
  "lamindb_runulabel",
  "lamindb_ulabel_parents",
  "lamindb_ulabel",
  "lamindb_feature",
];

describe.each(BACKENDS)("features and labels on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  const uids: string[] = [];

  /** Every row of the annotation tables, to compare before and after a refused change. */
  const snapshot = () => snapshotTables(ln.db, LINK_TABLES);

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir();
    writeTree(work, { "a.csv": "a\n1\n", "b.csv": "b\n2\n", "c.csv": "c\n3\n" });
    for (const f of ["a.csv", "b.csv", "c.csv"]) {
      uids.push((await ln.artifacts.save(join(work, f), { key: `raw/${f}` })).artifact.uid);
    }
    await ln.features.create({ name: "temperature", dtype: "float" });
    await ln.features.create({ name: "n_cells", dtype: "int" });
    await ln.features.create({ name: "donor", dtype: "str" });
    await ln.features.create({ name: "is_control", dtype: "bool" });
    await ln.features.create({ name: "collected", dtype: "date" });
    await ln.features.create({ name: "meta", dtype: "dict" });
    await ln.features.create({ name: "tags", dtype: "list[str]" });
    await ln.features.create({ name: "cell_type", dtype: "cat" });
    await ln.features.create({ name: "sample", dtype: "cat[Record]" });
    const types = await ln.ulabels.create({ name: "CellTypes", is_type: true });
    for (const name of ["T cell", "B cell", "CD4 T cell", "T-cell", "Monocyte"]) {
      await ln.ulabels.create({ name, type: types.record.uid });
    }
    await ln.ulabels.create({ name: "batch 1" });
    await ln.projects.create({ name: "Lung atlas" });
    await ln.records.create({ name: "sample_1" });
  });
  afterAll(async () => {
    await t?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("defines features with LaminDB dtypes: bare cat is cat[ULabel], unknown ones list the valid", async () => {
    const cat = await ln.features.get(
      (await ln.features.list({ filter: { name: "cell_type" } })).items[0]?.uid as string,
    );
    expect(cat.dtype).toBe("cat[ULabel]");
    const err = await ln.features.create({ name: "bad", dtype: "integer" }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/invalid dtype "integer".*valid dtypes: int, float, num, str/);
    expect(parseDtype("list[cat[ULabel[CellTypes]]]")).toEqual({
      kind: "cat",
      list: true,
      label: "ulabel",
      type: "CellTypes",
    });
    // module registries annotate through their link tables (test/bionty-links.test.ts)
    expect(parseDtype("cat[bionty.CellType]")).toMatchObject({ kind: "module" });
    // LaminDB 2.9's other registries are categorical too (test/record-values.test.ts)
    expect(parseDtype("cat[Transform]")).toMatchObject({ kind: "cat", label: "transform" });
    expect(parseDtype("cat[Run.uid]")).toMatchObject({ kind: "cat", label: "run" });
    expect(parseDtype("cat[Schema]")).toBeUndefined();
  });

  it("ulabels have types and parents; a cycle is refused and changes nothing", async () => {
    const immune = await ln.ulabels.create({ name: "Immune cell" });
    const lymph = await ln.ulabels.create({ name: "Lymphocyte", parents: ["Immune cell"] });
    const tcell = await ln.ulabels.create({
      name: "T cell",
      type: "CellTypes",
      parents: ["Lymphocyte"],
    });
    expect(tcell.status).toBe("existing");
    expect(tcell.record.type).not.toBeNull();
    expect((await ln.ulabels.parents(lymph.record.uid)).map((u) => u.name)).toEqual([
      "Immune cell",
    ]);
    const before = await snapshot();
    const cycle = await ln.ulabels.addParents("Immune cell", ["T cell"]).catch((e) => e);
    expect(cycle).toBeInstanceOf(ValidationError);
    expect(cycle.message).toMatch(/would create a cycle/);
    const self = await ln.ulabels
      .addParents(immune.record.uid, [immune.record.uid])
      .catch((e) => e);
    expect(self.message).toMatch(/own parent/);
    // a new label whose parent would be refused is not created either
    const none = await ln.ulabels.create({ name: "Orphan", parents: ["nope"] }).catch((e) => e);
    expect(none.kind).toBe("not-found");
    expect(await snapshot()).toBe(before);
  });

  it("annotates an artifact: JsonValues deduplicated by LaminDB's hash, labels linked with the feature", async () => {
    const a = ln.artifacts.features(uids[0] as string);
    const got = await a.add({
      temperature: 37.5,
      n_cells: 1,
      donor: "Control sample",
      is_control: true,
      meta: { b: 1, a: [1, 2] },
      cell_type: "T cell",
      sample: "sample_1",
    });
    expect(got.features).toEqual({
      temperature: 37.5,
      n_cells: 1,
      donor: "Control sample",
      is_control: true,
      meta: { a: [1, 2], b: 1 },
      cell_type: "T cell",
      sample: "sample_1",
    });
    // the stored hashes are LaminDB's (hash_vectors.json, kind jsonvalue)
    const hashes = await queryRows<{ hash: string }>(
      ln.db,
      sql`SELECT hash FROM lamindb_jsonvalue`,
    );
    for (const v of vectors)
      expect(
        hashes.map((h) => h.hash),
        v.name,
      ).toContain(v.hash);
    // the same value on another artifact reuses the JsonValue
    await ln.artifacts
      .features(uids[1] as string)
      .add({ temperature: 37.5, cell_type: ["B cell", "T cell"] });
    const [{ n }] = (await queryRows<{ n: number }>(
      ln.db,
      sql`SELECT count(*)::int AS n FROM lamindb_jsonvalue jv JOIN lamindb_feature f ON f.id = jv.feature_id WHERE f.name = 'temperature'`,
    )) as [{ n: number }];
    expect(n).toBe(1);
    const links = await queryRows<{ feature_id: number | null }>(
      ln.db,
      sql`SELECT feature_id FROM lamindb_artifactulabel`,
    );
    expect(links.length).toBe(3);
    expect(links.every((l) => l.feature_id !== null)).toBe(true);
    expect((await ln.artifacts.features(uids[1] as string).get()).features.cell_type).toEqual([
      "T cell",
      "B cell",
    ]);
    // labels without a feature
    const labelled = await ln.artifacts
      .features(uids[2] as string)
      .addLabels({ ulabels: ["batch 1"], projects: ["Lung atlas"] });
    expect(labelled).toMatchObject({
      ulabels: ["batch 1"],
      projects: ["Lung atlas"],
      features: {},
    });
  });

  it("float values hash like Python floats, and text is parsed per dtype", async () => {
    const got = await ln.artifacts.features(uids[2] as string).add(
      {
        temperature: "38",
        n_cells: "12",
        is_control: "false",
        collected: "2026-01-31",
        tags: "a,b",
      },
      { fromText: true },
    );
    expect(got.features).toMatchObject({
      temperature: 38,
      n_cells: 12,
      is_control: false,
      tags: ["a", "b"],
    });
    const [row] = await queryRows<{ hash: string }>(
      ln.db,
      sql`SELECT jv.hash FROM lamindb_jsonvalue jv JOIN lamindb_feature f ON f.id = jv.feature_id WHERE f.name = 'temperature' AND jv.value = '38'::jsonb`,
    );
    const { hashString } = await import("../core/hash.js");
    expect(row?.hash).toBe(hashString("38.0"));
  });

  it("bad inputs are refused with clear errors and change nothing", async () => {
    const before = await snapshot();
    const fm = ln.artifacts.features(uids[0] as string);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ temprature: 30 }, /unknown feature 'temprature'; did you mean 'temperature'/],
      [{ n_cells: 37.5 }, /n_cells' has dtype int: number 37.5 is not an integer/],
      [{ temperature: "abc" }, /temperature' has dtype float: the string "abc" is not a number/],
      [{ is_control: "yes" }, /is not true or false/],
      [{ collected: "31/01/2026" }, /is not a date/],
      [
        { cell_type: ["T cell", "T cel", "Macrophage"] },
        /2 values are not a ulabel.*'T cel'.*'Macrophage'.*close matches: 'T cel' → 'T cell'/,
      ],
      // good values before a bad one are not written either
      [{ donor: "new donor", temperature: 40, cell_type: "Nope" }, /'Nope'/],
    ];
    for (const [values, message] of cases) {
      const err = await fm.add(values).catch((e) => e);
      expect(err, JSON.stringify(values)).toBeInstanceOf(ValidationError);
      expect(err.message).toMatch(message);
    }
    const typed = await ln.features.create({ name: "typed_ct", dtype: "cat[ULabel[CellTypes]]" });
    expect(typed.status).toBe("created");
    const err = await fm.add({ typed_ct: "batch 1" }).catch((e) => e);
    expect(err.message).toMatch(/not a ulabel of type 'CellTypes'/);
    await ln.db.execute(sql`DELETE FROM lamindb_feature WHERE name = 'typed_ct'`);
    expect(await snapshot()).toBe(before);
  });

  it("queries artifacts by feature values and labels, composed with filters and paging", async () => {
    const keys = async (features: Record<string, unknown>, filter: Record<string, unknown> = {}) =>
      (await ln.artifacts.list({ features, filter })).items.map((a) => a.key).sort();
    expect(await keys({ temperature: 37.5 })).toEqual(["raw/a.csv", "raw/b.csv"]);
    expect(await keys({ temperature__gt: 37.5 })).toEqual(["raw/c.csv"]);
    expect(await keys({ temperature__gte: 37.5 })).toEqual(["raw/a.csv", "raw/b.csv", "raw/c.csv"]);
    expect(await keys({ temperature__lt: "38" })).toEqual(["raw/a.csv", "raw/b.csv"]);
    expect(await keys({ temperature: 38 })).toEqual(["raw/c.csv"]);
    expect(await keys({ n_cells__in: "1,12" })).toEqual(["raw/a.csv", "raw/c.csv"]);
    expect(await keys({ donor__contains: "ontrol" })).toEqual(["raw/a.csv"]);
    expect(await keys({ is_control: "false" })).toEqual(["raw/c.csv"]);
    expect(await keys({ collected__gte: "2026-01-01" })).toEqual(["raw/c.csv"]);
    expect(await keys({ tags: "b" })).toEqual(["raw/c.csv"]);
    expect(await keys({ meta: { a: [1, 2], b: 1 } })).toEqual(["raw/a.csv"]);
    expect(await keys({ cell_type: "T cell" })).toEqual(["raw/a.csv", "raw/b.csv"]);
    expect(await keys({ cell_type: "B cell", temperature: 37.5 })).toEqual(["raw/b.csv"]);
    expect(await keys({ cell_type__in: ["B cell", "Monocyte"] })).toEqual(["raw/b.csv"]);
    expect(await keys({ cell_type__startswith: "B" })).toEqual(["raw/b.csv"]);
    expect(await keys({ cell_type: "Nope" })).toEqual([]);
    expect(await keys({ cell_type__isnull: true })).toEqual(["raw/c.csv"]);
    expect(await keys({ sample: "sample_1" })).toEqual(["raw/a.csv"]);
    expect(await keys({}, { ulabels__name: "batch 1" })).toEqual(["raw/c.csv"]);
    expect(await keys({}, { projects__name__in: "Lung atlas,Other" })).toEqual(["raw/c.csv"]);
    expect(await keys({ temperature__gte: 37 }, { key__endswith: "b.csv" })).toEqual(["raw/b.csv"]);
    const first = await ln.artifacts.list({ features: { temperature__gte: 37 }, limit: 2 });
    expect(first.items.length).toBe(2);
    const second = await ln.artifacts.list({
      features: { temperature__gte: 37 },
      limit: 2,
      cursor: first.nextCursor as string,
    });
    expect(second.items.map((a) => a.key)).toEqual(["raw/a.csv"]);
    for (const [features, message] of [
      [{ temprature__gt: 1 }, /unknown feature 'temprature'; did you mean 'temperature'/],
      [{ is_control__gt: true }, /does not apply/],
      [{ temperature__gt: "warm" }, /is not a number/],
      [{ cell_type__gt: "A" }, /does not apply to categorical/],
    ] as const) {
      const err = await ln.artifacts.list({ features }).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.message).toMatch(message);
    }
  });

  it("sets and removes values; runs are annotated the same way", async () => {
    const fm = ln.artifacts.features(uids[1] as string);
    expect((await fm.set({ cell_type: "Monocyte" })).features.cell_type).toBe("Monocyte");
    expect((await fm.remove("temperature")).features).toEqual({ cell_type: "Monocyte" });
    const transform = await ln.transforms.create({
      key: "pipelines/x.py",
      source_code: "print(1)",
    });
    const run = await ln.runs.create({ transform: transform.record.uid });
    const r = ln.annotations.of("run", run.record.uid);
    expect((await r.add({ temperature: 37.5, cell_type: "T cell" })).features).toEqual({
      temperature: 37.5,
      cell_type: "T cell",
    });
    const [{ n }] = (await queryRows<{ n: number }>(
      ln.db,
      sql`SELECT (SELECT count(*) FROM lamindb_runjsonvalue) + (SELECT count(*) FROM lamindb_runulabel) AS n`,
    )) as [{ n: number }];
    expect(Number(n)).toBe(2);
  });

  it("suggests close matches", () => {
    expect(closeMatches("temprature", ["temperature", "donor", "tempo"])).toEqual(["temperature"]);
    expect(closeMatches("t cell", ["T cell", "B cell", "Monocyte"])).toEqual(["T cell", "B cell"]);
  });
});
