/**
 * Flexible and composite schemas, and the schemas an artifact was validated with, on each
 * database: `flexible` hashed (f= only off its default), stored and honoured; composite schemas
 * (LaminDB's slots: itype Composite, `lamindb_schemacomponent`, `l=` in the hash) validating a
 * folder of one table file per slot, every slot's issues together; `lamindb_artifactschema`
 * rows for a valid save (slot `columns` for a table, one per slot for a folder); contradictions
 * refused with nothing written; and the CLI's --component and --flexible.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { hashString } from "../core/hash.js";
import { connect } from "../core/index.js";
import type { Instance } from "../core/instance.js";
import { schemaHash } from "../core/registry/schemas/schemas.js";
import { SchemaValidationError } from "../core/registry/schemas/validate.js";
import {
  BACKENDS,
  createInstance,
  expectRefusal,
  laminIn,
  snapshotTables,
  type TestInstance,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";

const home = useTempHome();

const TABLES = [
  "lamindb_schema",
  "lamindb_schemafeature",
  "lamindb_schemacomponent",
  "lamindb_artifact",
  "lamindb_artifactschema",
  "lamindb_artifactulabel",
];

describe.each(BACKENDS)("flexible and composite schemas on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  const uidOf: Record<string, string> = {};

  /** Every row of the annotation tables, to compare before and after a refused change. */
  const snapshot = () => snapshotTables(ln.db, TABLES);
  const artifactSchemas = (uid: string) =>
    queryRows<{ slot: string; schema: string }>(
      ln.db,
      sql`SELECT l.slot, s.name AS schema FROM lamindb_artifactschema l
        JOIN lamindb_schema s ON s.id = l.schema_id JOIN lamindb_artifact a ON a.id = l.artifact_id
        WHERE a.uid = ${uid} ORDER BY l.id`,
    );
  const dir = (name: string, files: Record<string, string>) => {
    const path = join(work, name);
    mkdirSync(path, { recursive: true });
    return writeTree(path, files);
  };

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir("lamin-composite-");
    const defs: [string, string, boolean?][] = [
      ["sample_id", "str", false],
      ["n_cells", "int"],
      ["label", "cat[ULabel]"],
      ["gene", "str", false],
      ["n_counts", "int"],
    ];
    for (const [name, dtype, nullable] of defs) {
      const f = await ln.features.create({
        name,
        dtype,
        ...(nullable === false ? { nullable } : {}),
      });
      uidOf[name] = f.record.uid;
    }
    for (const name of ["T cell", "B cell"]) await ln.ulabels.create({ name });
  });
  afterAll(async () => {
    await t.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it("flexible is an option: hashed only off its default, stored, and refused with maximal", async () => {
    const flex = await ln.schemas.create({ name: "flex", features: ["sample_id"], flexible: true });
    const j = `j=${hashString(uidOf.sample_id as string)}`;
    expect(flex.record).toMatchObject({ flexible: true, n_members: 1 });
    expect(flex.record.hash).toBe(
      schemaHash(["b=Feature", "c=True", "d=False", "e=False", "f=True", "h=1", j]),
    );
    const rigid = await ln.schemas.create({ name: "rigid", features: ["sample_id"] });
    expect(rigid.record).toMatchObject({ flexible: false });
    expect(rigid.record.hash).toBe(
      schemaHash(["b=Feature", "c=True", "d=False", "e=False", "h=1", j]),
    );
    // without features, flexible is the default; not flexible is hashed
    const none = await ln.schemas.create({ name: "no-columns", flexible: false });
    expect(none.record.hash).toBe(
      schemaHash(["b=Feature", "c=True", "d=False", "e=False", "f=False"]),
    );
    expect((await ln.schemas.create({ name: "any" })).record.uid).toBe("0000000000000000");

    const before = await snapshot();
    await expect(
      ln.schemas.create({ name: "bad", features: ["sample_id"], flexible: true, maximalSet: true }),
    ).rejects.toThrow(/cannot be both flexible and maximal/);
    await expect(
      ln.schemas.create({ name: "bad", features: ["sample_id"], flexible: "yes" as never }),
    ).rejects.toThrow(/flexible must be true or false/);
    await expect(ln.schemas.create({ name: "flex", features: ["sample_id"] })).rejects.toThrow(
      /already exists/,
    );
    expect(await snapshot()).toBe(before);
  });

  it("a flexible schema validates other registered columns, never unregistered ones", async () => {
    const path = join(work, "flex.csv");
    writeFileSync(path, "sample_id,n_cells,label,whatever\ns1,1.5,T cel,x\n");
    const flexible = await ln.validate(path, "flex");
    expect(flexible.issues.map((i) => [i.kind, "column" in i ? i.column : ""])).toEqual([
      ["dtype", "n_cells"],
      ["not-in-registry", "label"],
    ]);
    // not flexible: only the members are checked
    expect(await ln.validate(path, "rigid")).toMatchObject({ valid: true });
    // a flexible schema's members stay required
    writeFileSync(join(work, "no-id.csv"), "n_cells\n3\n");
    expect((await ln.validate(join(work, "no-id.csv"), "flex")).issues).toEqual([
      { kind: "missing-columns", columns: [{ name: "sample_id", closeMatches: [] }] },
    ]);
  });

  it("a valid save of a table links its schema under slot 'columns'; again with another replaces it", async () => {
    const path = join(work, "cells.csv");
    writeFileSync(path, "sample_id,n_cells,label\ns1,3,T cell\ns2,4,B cell\n");
    const saved = await ln.artifacts.save(path, { key: "cells.csv", schema: "flex" });
    const uid = saved.artifact.uid;
    expect(await artifactSchemas(uid)).toEqual([{ slot: "columns", schema: "flex" }]);
    const got = await ln.artifacts.features(uid).get();
    expect(got.schemas).toEqual([{ slot: "columns", uid: expect.any(String), name: "flex" }]);
    expect(got.features).toEqual({ label: ["T cell", "B cell"] });
    await ln.artifacts.save(path, { key: "cells.csv", schema: "rigid" });
    expect(await artifactSchemas(uid)).toEqual([{ slot: "columns", schema: "rigid" }]);
    // artifacts saved without a schema have none
    writeFileSync(join(work, "plain.csv"), "a\n1\n");
    const plain = await ln.artifacts.save(join(work, "plain.csv"), { key: "plain.csv" });
    expect((await ln.artifacts.features(plain.artifact.uid).get()).schemas).toBeUndefined();
  });

  it("defines composite schemas: slots, LaminDB's slots hash, the same one again", async () => {
    const cells = (await ln.schemas.create({ name: "cells", features: ["sample_id", "label"] }))
      .record;
    const genes = (await ln.schemas.create({ name: "genes", features: ["gene", "n_counts"] }))
      .record;
    const r = await ln.schemas.create({
      name: "cells_genes",
      components: { obs: "cells", "var.T": genes.uid },
    });
    expect(r.status).toBe("created");
    const slots = hashString([`obs=${cells.hash}`, `var.T=${genes.hash}`].sort().join(":"));
    expect(r.record).toMatchObject({
      itype: "Composite",
      features: [],
      // LaminDB's composite hash: dtype "num" (a=), flags, slots (l=)
      hash: schemaHash(["a=num", "c=True", "d=False", "e=False", `l=${slots}`]),
      components: [
        { slot: "obs", uid: cells.uid, name: "cells", hash: cells.hash },
        { slot: "var.T", uid: genes.uid, name: "genes", hash: genes.hash },
      ],
    });
    const rows = await queryRows<{ slot: string; component: string }>(
      ln.db,
      sql`SELECT c.slot, s.name AS component FROM lamindb_schemacomponent c
        JOIN lamindb_schema s ON s.id = c.component_id ORDER BY c.id`,
    );
    expect(rows).toEqual([
      { slot: "obs", component: "cells" },
      { slot: "var.T", component: "genes" },
    ]);
    const again = await ln.schemas.create({
      name: "cells_genes",
      components: { "var.T": "genes", obs: "cells" },
    });
    expect(again).toMatchObject({ status: "existing", record: { uid: r.record.uid } });
    expect((await ln.schemas.get("cells_genes")).components).toHaveLength(2);
  });

  it("refuses contradictory composites and unknown components, writing nothing", async () => {
    const before = await snapshot();
    const create = (components: unknown, extra: object = {}) =>
      ln.schemas.create({
        name: "bad",
        components: components as Record<string, string>,
        ...extra,
      });
    await expect(create({ obs: "cells" }, { features: ["gene"] })).rejects.toThrow(
      /has components, so it cannot also have features/,
    );
    await expect(create({ obs: "cells" }, { flexible: true })).rejects.toThrow(
      /cannot also have flexible/,
    );
    await expect(create({ obs: "cels" })).rejects.toThrow(/no schema 'cels'; did you mean 'cells'/);
    await expect(create({ obs: "cells", var: "cells" })).rejects.toThrow(
      /slots 'obs' and 'var' name the same schema/,
    );
    await expect(create({ obs: "cells_genes" })).rejects.toThrow(/is composite itself/);
    await expect(create({ "../obs": "cells" })).rejects.toThrow(/is not a slot name/);
    await expect(create({ obs: "" })).rejects.toThrow(/slot 'obs' names no schema/);
    await expect(create({})).rejects.toThrow(/components is empty/);
    await expect(create(["cells"])).rejects.toThrow(/components must be an object/);
    await expect(
      ln.schemas.create({ name: "cells_genes", components: { obs: "cells" } }),
    ).rejects.toMatchObject({ kind: "conflict" });
    expect(await snapshot()).toBe(before);
  });

  it("validates a folder slot by slot, every slot's issues together", async () => {
    const good = dir("good", {
      "obs.csv": "sample_id,label\ns1,T cell\ns2,B cell\n",
      "var.T.tsv": "gene\tn_counts\nCD4\t10\n",
      "notes.txt": "ignored",
    });
    const ok = await ln.validate(good, "cells_genes");
    expect(ok).toMatchObject({ valid: true, format: "folder", n_rows: 3, issues: [] });
    expect(Object.keys(ok.slots ?? {})).toEqual(["obs", "var.T"]);
    expect(ok.slots?.["var.T"]).toMatchObject({ valid: true, file: "var.T.tsv", format: "tsv" });

    const bad = dir("bad", {
      "obs.parquet.txt": "not a table",
      "obs.json": '[{"sample_id": "s1", "label": "T cel"}]',
      "var.T.csv": "gene,n_counts\n,abc\n",
    });
    const r = await ln.validate(bad, "cells_genes");
    expect(r.valid).toBe(false);
    expect(r.issues).toEqual([]);
    expect(r.slots?.obs?.issues.map((i) => i.kind)).toEqual(["not-in-registry"]);
    expect(r.slots?.["var.T"]?.issues.map((i) => i.kind)).toEqual(["nulls", "dtype"]);
    const message = new SchemaValidationError(r).message;
    expect(message).toMatch(/does not match schema 'cells_genes': 3 issues/);
    expect(message).toContain(
      "slot 'obs' (obs.json): column 'label': 1 value is not in cat[ULabel]",
    );
    expect(message).toContain("slot 'var.T' (var.T.csv): column 'n_counts': 1 value is not int");

    const missing = dir("missing", {
      "obs.csv": "sample_id,label\ns1,T cell\n",
      "obs.json": "{}",
      "var.csv": "gene\nx\n",
    });
    const m = await ln.validate(missing, "cells_genes");
    expect(m.issues).toEqual([
      { kind: "slot-file", slot: "obs", problem: "several", files: ["obs.csv", "obs.json"] },
      { kind: "slot-file", slot: "var.T", problem: "missing", files: [] },
    ]);
    expect(new SchemaValidationError(m).message).toContain(
      "slot 'var.T': no table file var.T.csv, var.T.tsv, var.T.parquet, var.T.json in the folder",
    );
    const unreadable = dir("unreadable", {
      "obs.csv": "a,b\n1\n",
      "var.T.csv": "gene,n_counts\nx,1\n",
    });
    expect((await ln.validate(unreadable, "cells_genes")).issues).toEqual([
      expect.objectContaining({
        slot: "obs",
        problem: "unreadable",
        message: expect.stringMatching(/row 1 has 1 fields/),
      }),
    ]);
    await expect(ln.validate(join(good, "obs.csv"), "cells_genes")).rejects.toThrow(
      /is composite: it validates a folder/,
    );
  });

  it("a valid save of a folder links one schema per slot and the labels of every slot", async () => {
    const before = await snapshot();
    await expect(
      ln.artifacts.save(join(work, "bad"), { key: "datasets/bad", schema: "cells_genes" }),
    ).rejects.toThrow(/does not match schema 'cells_genes'/);
    expect(await snapshot()).toBe(before);
    const saved = await ln.artifacts.save(join(work, "good"), {
      key: "datasets/good",
      schema: "cells_genes",
    });
    const uid = saved.artifact.uid;
    expect(await artifactSchemas(uid)).toEqual([
      { slot: "obs", schema: "cells" },
      { slot: "var.T", schema: "genes" },
    ]);
    const [row] = await queryRows<{ schema: string }>(
      ln.db,
      sql`SELECT s.name AS schema FROM lamindb_artifact a JOIN lamindb_schema s ON s.id = a.schema_id
        WHERE a.uid = ${uid}`,
    );
    expect(row?.schema).toBe("cells_genes");
    const got = await ln.artifacts.features(uid).get();
    expect(got.features).toEqual({ label: ["T cell", "B cell"] });
    expect(got.schemas?.map((s) => `${s.slot}=${s.name}`)).toEqual(["obs=cells", "var.T=genes"]);
  });
});

describe("lamin schema create --component / --flexible", () => {
  const work = tempDir("lamin-composite-cli-");
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  const { run, json: ok } = laminIn(work);

  it("defines flexible and composite schemas and saves a folder with one", async () => {
    expect((await run("init", "--storage", join(work, "store"))).code).toBe(0);
    await ok("feature", "create", "sample_id", "--dtype", "str");
    await ok("feature", "create", "gene", "--dtype", "str");
    const flex = await ok<{ flexible: boolean }>(
      "schema",
      "create",
      "cells",
      "--features",
      "sample_id",
      "--flexible",
    );
    expect(flex.flexible).toBe(true);
    await ok("schema", "create", "genes", "--features", "gene");
    const composite = await ok<{ itype: string; components: { slot: string; name: string }[] }>(
      "schema",
      "create",
      "cells_genes",
      "--component",
      "obs=cells",
      "--component",
      "var.T=genes",
    );
    expect(composite.itype).toBe("Composite");
    expect(composite.components.map((c) => `${c.slot}=${c.name}`)).toEqual([
      "obs=cells",
      "var.T=genes",
    ]);
    expectRefusal(
      await run("schema", "create", "x", "--component", "obs"),
      2,
      /--component takes slot=schema/,
    );
    expectRefusal(
      await run("schema", "create", "x", "--component", "obs=cells", "--component", "obs=genes"),
      2,
      /slot 'obs' is given twice/,
    );
    expectRefusal(
      await run("schema", "create", "x", "--component", "obs=cells", "--features", "gene"),
      2,
      /cannot also have features/,
    );
    const text = await run(
      "schema",
      "create",
      "cells_genes",
      "--component",
      "obs=cells",
      "--component",
      "var.T=genes",
    );
    expect(text.stdout).toMatch(/exists: composite schema cells_genes \(obs=cells, var.T=genes\)/);

    const list = (await run("schema", "list")).stdout;
    expect(list).toMatch(/cells_genes\s+obs=cells,var\.T=genes\s+minimal/);
    expect(list).toMatch(/cells\s+sample_id\s+minimal,flexible/);

    writeTree(join(work, "d1"), { "obs.csv": "sample_id\ns1\n", "var.T.csv": "gene\nCD4\n" });
    const valid = await run("validate", "d1", "--schema", "cells_genes");
    expect(valid.stdout).toMatch(/valid: d1 matches schema 'cells_genes' \(2 rows, 2 slots\)/);
    const saved = await ok<{ uid: string }>(
      "save",
      "d1",
      "--key",
      "datasets/d1",
      "--schema",
      "cells_genes",
    );
    const sdk = await connect();
    try {
      const got = await sdk.annotations.get("artifact", saved.uid);
      expect(got.schemas?.map((s) => s.slot)).toEqual(["obs", "var.T"]);
    } finally {
      await sdk.close();
    }
  });
});
