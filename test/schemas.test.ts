/**
 * Schemas and validation (issue 8 item 5) on each database: LaminDB's schema hash (the 4
 * vectors), defining schemas and refusing contradictory ones, validating CSV/TSV/Parquet/JSON
 * (every failure kind with its listed values and close matches), nothing saved on failure, a
 * valid save linking the schema and the values; and the CLI's exit codes and --json.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { hashString } from "../core/hash.js";
import { connect } from "../core/index.js";
import type { Instance } from "../core/instance.js";
import { enableModules } from "../core/modules/index.js";
import { schemaHash, schemaHashEntries } from "../core/registry/schemas/schemas.js";
import {
  type Issue,
  parseDelimited,
  SchemaValidationError,
  type ValidationReport,
} from "../core/registry/schemas/validate.js";
import {
  BACKENDS,
  createInstance,
  expectRefusal,
  laminIn,
  managedFiles,
  REPO,
  type TestInstance,
  tempDir,
  useTempHome,
} from "./helpers.js";

const home = useTempHome();
const FIXTURES = join(REPO, "test", "fixtures");

const vectors = (
  JSON.parse(readFileSync("/work/shared/reference/hash_vectors.json", "utf8")) as {
    vectors: { name: string; kind: string; entries: string[]; hash: string }[];
  }
).vectors.filter((v) => v.kind === "schema");

describe("LaminDB's schema hash", () => {
  it("reproduces the 4 schema vectors", () => {
    expect(vectors).toHaveLength(4);
    for (const v of vectors) expect(schemaHash(v.entries), v.name).toBe(v.hash);
    const byName = Object.fromEntries(vectors.map((v) => [v.name, v]));
    const flags = { minimalSet: true, orderedSet: false, maximalSet: false };
    // the entries themselves, as the builder makes them
    const obs = schemaHashEntries({ itype: "Feature", ...flags });
    expect(obs).toEqual(byName.schema_itype_Feature?.entries);
    const varT = schemaHashEntries({
      dtype: "num",
      itype: "bionty.Gene.ensembl_gene_id",
      ...flags,
    });
    expect(varT).toEqual(byName.schema_itype_gene_ensembl?.entries);
    const composite = schemaHashEntries({
      dtype: "num",
      ...flags,
      slots: { obs: schemaHash(obs), "var.T": schemaHash(varT) },
    });
    expect(schemaHash(composite)).toBe("aqGWHvyY49W_PHELUMiBMw");
    const two = schemaHashEntries({ ...flags, featureUids: ["Abc123XYZ000", "0aB9c8D7e6F5"] });
    expect(schemaHash(two)).toBe("lcuX94CFuXf_FzGxh3uNaA");
    // ordered sets hash the uids in their order
    const ordered = schemaHashEntries({
      ...flags,
      orderedSet: true,
      featureUids: ["Abc123XYZ000", "0aB9c8D7e6F5"],
    });
    expect(ordered).toContain(`j=${hashString("Abc123XYZ000:0aB9c8D7e6F5")}`);
  });

  it("parses CSV with quotes, doubled quotes, newlines in fields and CRLF", () => {
    expect(parseDelimited('a,b\r\n"x,1","say ""hi"""\n"two\nlines",\n\n', ",")).toEqual([
      ["a", "b"],
      ["x,1", 'say "hi"'],
      ["two\nlines", ""],
    ]);
  });
});

const issue = <K extends Issue["kind"]>(r: ValidationReport, kind: K, column?: string) =>
  r.issues.find(
    (i) => i.kind === kind && (column === undefined || ("column" in i && i.column === column)),
  ) as Extract<Issue, { kind: K }> | undefined;

describe.each(BACKENDS)("schemas and validation on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  const uidOf: Record<string, string> = {};

  const count = async (table: string) =>
    Number(
      (
        await queryRows<{ n: number }>(ln.db, sql`SELECT count(*)::int AS n FROM ${sql.raw(table)}`)
      )[0]?.n,
    );
  const file = (name: string, content: string) => {
    const path = join(work, name);
    writeFileSync(path, content);
    return path;
  };

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir("lamin-schemas-");
    await enableModules(ln, ["bionty"]);
    const defs: [string, string, boolean?][] = [
      ["sample_id", "str", false],
      ["n_cells", "int"],
      ["temperature", "float"],
      ["cell_type", "cat[ULabel]"],
      ["is_control", "bool"],
      ["collected", "date"],
      ["cl_id", "cat[bionty.CellType.ontology_id]"],
      ["cl_name", "cat[bionty.CellType]"],
    ];
    for (const [name, dtype, nullable] of defs) {
      const f = await ln.features.create({
        name,
        dtype,
        ...(nullable === false ? { nullable } : {}),
      });
      uidOf[name] = f.record.uid;
    }
    for (const name of ["T cell", "B cell", "Monocyte", "CD4 T cell"]) {
      await ln.ulabels.create({ name });
    }
  });
  afterAll(async () => {
    await t.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it("defines a schema: LaminDB's hash, n_members, members in order, the same one again", async () => {
    const r = await ln.schemas.create({
      name: "samples",
      features: ["sample_id", "n_cells", "temperature", "cell_type"],
    });
    expect(r.status).toBe("created");
    const uids = ["sample_id", "n_cells", "temperature", "cell_type"].map(
      (n) => uidOf[n] as string,
    );
    const entries = [
      "b=Feature",
      "c=True",
      "d=False",
      "e=False",
      "h=4",
      `j=${hashString([...uids].sort().join(":"))}`,
    ];
    expect(r.record).toMatchObject({
      name: "samples",
      itype: "Feature",
      n_members: 4,
      hash: schemaHash(entries),
      minimal_set: true,
      maximal_set: false,
      ordered_set: false,
      coerce: false,
    });
    expect(r.record.uid).toHaveLength(16);
    expect(r.record.features.map((f) => f.name)).toEqual([
      "sample_id",
      "n_cells",
      "temperature",
      "cell_type",
    ]);
    expect(r.record.features[0]).toMatchObject({ nullable: false, dtype: "str" });
    const links = await queryRows<{ n: number }>(
      ln.db,
      sql`SELECT count(*)::int AS n FROM lamindb_schemafeature l JOIN lamindb_schema s ON s.id = l.schema_id
        WHERE s.uid = ${r.record.uid}`,
    );
    expect(links[0]?.n).toBe(4);

    const again = await ln.schemas.create({
      name: "samples",
      features: ["sample_id", "n_cells", "temperature", "cell_type"],
    });
    expect(again).toMatchObject({ status: "existing", record: { uid: r.record.uid } });
    await expect(
      ln.schemas.create({ name: "samples", features: ["sample_id"], maximalSet: true }),
    ).rejects.toMatchObject({ kind: "conflict" });

    // a schema without features: LaminDB's known "any feature" schema
    const any = await ln.schemas.create({ name: "any" });
    expect(any.record).toMatchObject({
      uid: "0000000000000000",
      hash: "kMi7B_N88uu-YnbTLDU-DA",
      n_members: -1,
      flexible: true,
    });
    expect((await ln.schemas.list()).map((s) => s.name)).toEqual(["any", "samples"]);
  });

  it("refuses contradictory schemas and writes nothing", async () => {
    const before = [await count("lamindb_schema"), await count("lamindb_schemafeature")];
    await expect(
      ln.schemas.create({ name: "bad", features: ["sample_id", "temprature", "nope_xyz"] }),
    ).rejects.toThrow(
      /unknown features: 'temprature' \(did you mean 'temperature'\?\), 'nope_xyz'/,
    );
    await expect(
      ln.schemas.create({ name: "bad", features: ["n_cells", "sample_id", "n_cells"] }),
    ).rejects.toThrow(/lists feature 'n_cells' more than once/);
    await expect(
      ln.schemas.create({ name: "bad", features: ["n_cells", uidOf.n_cells as string] }),
    ).rejects.toThrow(/'n_cells' is listed more than once/);
    await expect(ln.schemas.create({ name: "bad", orderedSet: true })).rejects.toThrow(
      /no features, so it cannot be ordered/,
    );
    await expect(ln.schemas.create({ name: "bad", maximalSet: true })).rejects.toThrow(
      /no features, so it cannot be maximal/,
    );
    await expect(ln.schemas.create({ name: " ", features: ["n_cells"] })).rejects.toThrow(
      /needs a name/,
    );
    expect([await count("lamindb_schema"), await count("lamindb_schemafeature")]).toEqual(before);
    await expect(ln.schemas.get("sampels")).rejects.toThrow(
      /no schema 'sampels'; did you mean 'samples'/,
    );
  });

  it("validates CSV (quoted fields) and TSV; other formats are refused", async () => {
    const csv = file(
      "ok.csv",
      'sample_id,n_cells,temperature,cell_type,other\ns1,100,37.5,T cell,x\n"s,2",200,36,"B cell",\n',
    );
    const r = await ln.validate(csv, "samples");
    expect(r).toMatchObject({ valid: true, format: "csv", n_rows: 2, issues: [] });
    const tsv = file(
      "ok.tsv",
      "cell_type\tsample_id\tn_cells\ttemperature\nMonocyte\ts3\t7\t1e2\n",
    );
    expect(await ln.validate(tsv, "samples")).toMatchObject({ valid: true, format: "tsv" });
    // a schema without features checks the columns that are registered features, ignores others
    expect(await ln.validate(csv, "any")).toMatchObject({ valid: true });
    const any = await ln.validate(file("any.csv", "n_cells,whatever\n1.5,x\n"), "any");
    expect(any.issues).toEqual([
      {
        kind: "dtype",
        column: "n_cells",
        dtype: "int",
        count: 1,
        distinct: 1,
        values: [{ value: "1.5", count: 1 }],
      },
    ]);
    await expect(ln.validate(file("x.txt", "a"), "samples")).rejects.toThrow(
      /.txt files are not supported/,
    );
    await expect(ln.validate(file("x.csv", "a,b\n1\n"), "samples")).rejects.toThrow(
      /row 1 has 1 fields, the header has 2/,
    );
  });

  it("lists every offending column with its values, counts and close matches", async () => {
    const bad = Array.from({ length: 25 }, (_, i) => `x${i}`);
    const lines = [
      "sample_id,n_cells,temperatur,cell_type",
      "s1,abc,1,T cel",
      ",abc,1,T cel",
      "s3,3.5,1,Monocyte",
      "s4,4,1,b cell",
      ...bad.map((b, i) => `s${i + 5},${b},1,T cell`),
    ];
    const r = await ln.validate(file("bad.csv", `${lines.join("\n")}\n`), "samples");
    expect(r.valid).toBe(false);
    expect(issue(r, "missing-columns")).toEqual({
      kind: "missing-columns",
      columns: [{ name: "temperature", closeMatches: ["temperatur"] }],
    });
    expect(issue(r, "nulls", "sample_id")).toEqual({
      kind: "nulls",
      column: "sample_id",
      count: 1,
      rows: [2],
    });
    const n = issue(r, "dtype", "n_cells");
    expect(n).toMatchObject({ dtype: "int", count: 28, distinct: 27 });
    expect(n?.values).toHaveLength(20);
    expect(n?.values.slice(0, 3)).toEqual([
      { value: "abc", count: 2 },
      { value: "3.5", count: 1 },
      { value: "x0", count: 1 },
    ]);
    expect(issue(r, "not-in-registry", "cell_type")).toEqual({
      kind: "not-in-registry",
      column: "cell_type",
      dtype: "cat[ULabel]",
      count: 3,
      distinct: 2,
      values: [
        { value: "T cel", count: 2, closeMatches: ["T cell", "B cell", "CD4 T cell"] },
        { value: "b cell", count: 1, closeMatches: ["B cell", "T cell"] },
      ],
    });
    expect(r.issues).toHaveLength(4);
    const error = new SchemaValidationError(r);
    expect(error.kind).toBe("validation");
    expect(error.message).toContain("missing column: 'temperature' (did you mean 'temperatur'?)");
    expect(error.message).toContain(
      "column 'cell_type': 2 values are not in cat[ULabel]: 'T cel' ×2 → did you mean 'T cell', 'B cell', 'CD4 T cell'?; 'b cell' ×1",
    );
    expect(error.message).toContain("; ... (7 more)");
  });

  it("checks maximal and ordered sets, with close feature names for extra columns", async () => {
    await ln.schemas.create({
      name: "strict",
      features: ["sample_id", "n_cells"],
      maximalSet: true,
      orderedSet: true,
    });
    const r = await ln.validate(
      file("order.csv", "n_cells,sample_id,tempreature\n1,s1,2\n"),
      "strict",
    );
    expect(issue(r, "extra-columns")).toEqual({
      kind: "extra-columns",
      columns: [{ name: "tempreature", closeMatches: ["temperature"] }],
    });
    expect(issue(r, "column-order")).toEqual({
      kind: "column-order",
      expected: ["sample_id", "n_cells"],
      actual: ["n_cells", "sample_id", "tempreature"],
    });
    expect(r.issues).toHaveLength(2);
  });

  it("validates Parquet files", async () => {
    const ok = await ln.validate(join(FIXTURES, "schema-valid.parquet"), "samples");
    expect(ok).toMatchObject({ valid: true, format: "parquet", n_rows: 2 });
    const r = await ln.validate(join(FIXTURES, "schema-invalid.parquet"), "samples");
    expect(r.issues).toEqual([
      { kind: "missing-columns", columns: [{ name: "temperature", closeMatches: [] }] },
      { kind: "nulls", column: "sample_id", count: 1, rows: [2] },
      {
        kind: "not-in-registry",
        column: "cell_type",
        dtype: "cat[ULabel]",
        count: 1,
        distinct: 1,
        values: [{ value: "T cel", count: 1, closeMatches: ["T cell", "B cell", "CD4 T cell"] }],
      },
    ]);
  });

  it("validates JSON records, coercing with coerce, and bionty values with synonyms", async () => {
    await ln.schemas.create({ name: "obs", features: ["n_cells", "is_control", "collected"] });
    await ln.schemas.create({
      name: "obs_coerce",
      features: ["n_cells", "is_control", "collected"],
      coerce: true,
    });
    const records = file(
      "records.json",
      JSON.stringify([
        { n_cells: "37", is_control: "true", collected: "2026-01-31" },
        { n_cells: 5, is_control: false, collected: "2026-01-31T10:00:00Z" },
      ]),
    );
    const strict = await ln.validate(records, "obs");
    expect(strict.issues).toEqual([
      {
        kind: "dtype",
        column: "n_cells",
        dtype: "int",
        count: 1,
        distinct: 1,
        values: [{ value: "37", count: 1 }],
      },
      {
        kind: "dtype",
        column: "is_control",
        dtype: "bool",
        count: 1,
        distinct: 1,
        values: [{ value: "true", count: 1 }],
      },
      {
        kind: "dtype",
        column: "collected",
        dtype: "date",
        count: 1,
        distinct: 1,
        values: [{ value: "2026-01-31T10:00:00Z", count: 1 }],
      },
    ]);
    expect(await ln.validate(records, "obs_coerce")).toMatchObject({ valid: true, n_rows: 2 });

    await ln.schemas.create({ name: "bionty", features: ["cl_id", "cl_name"] });
    const b = await ln.validate(
      file(
        "bt.csv",
        "cl_id,cl_name\nCL:0000084,T cell\nCL:9999999,T-lymphocyte\nCL:0000084,B cel\n",
      ),
      "bionty",
    );
    expect(issue(b, "not-in-registry", "cl_id")?.values).toEqual([
      { value: "CL:9999999", count: 1, closeMatches: expect.any(Array) },
    ]);
    const names = issue(b, "not-in-registry", "cl_name")?.values;
    expect(names?.[0]).toEqual({
      value: "T-lymphocyte",
      count: 1,
      synonymOf: "T cell",
      closeMatches: expect.any(Array),
    });
    expect(names?.[1]).toMatchObject({ value: "B cel", count: 1 });
    expect(names?.[1]?.closeMatches?.[0]).toBe("B cell");
  });

  it("saves nothing on failure: no row, no bytes", async () => {
    const artifacts = await count("lamindb_artifact");
    const files = managedFiles(t.root);
    const bad = file("bad2.csv", "sample_id,n_cells,temperature,cell_type\ns1,1,2,Nope\n");
    const error = await ln.artifacts
      .save(bad, { key: "raw/bad2.csv", schema: "samples" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaValidationError);
    expect((error as SchemaValidationError).report.issues[0]).toMatchObject({
      kind: "not-in-registry",
      values: [{ value: "Nope", count: 1 }],
    });
    await expect(
      ln.artifacts.save(bad, { key: "raw/bad2.csv", schema: "nope" }),
    ).rejects.toMatchObject({ kind: "not-found" });
    expect(await count("lamindb_artifact")).toBe(artifacts);
    expect(managedFiles(t.root)).toEqual(files);
  });

  it("a valid save links the schema and annotates categorical values and JSON records", async () => {
    const path = file(
      "good.csv",
      "sample_id,n_cells,temperature,cell_type\ns1,1,37.5,T cell\ns2,2,36.6,B cell\ns3,3,36,T cell\n",
    );
    const { artifact } = await ln.artifacts.save(path, { key: "raw/good.csv", schema: "samples" });
    const [row] = await queryRows<{ uid: string }>(
      ln.db,
      sql`SELECT s.uid FROM lamindb_artifact a JOIN lamindb_schema s ON s.id = a.schema_id
        WHERE a.uid = ${artifact.uid}`,
    );
    expect(row?.uid).toBe((await ln.schemas.get("samples")).uid);
    const links = await queryRows<{ label: string; feature: string }>(
      ln.db,
      sql`SELECT u.name AS label, f.name AS feature FROM lamindb_artifactulabel l
        JOIN lamindb_artifact a ON a.id = l.artifact_id JOIN lamindb_ulabel u ON u.id = l.ulabel_id
        JOIN lamindb_feature f ON f.id = l.feature_id WHERE a.uid = ${artifact.uid} ORDER BY u.name`,
    );
    expect(links).toEqual([
      { label: "B cell", feature: "cell_type" },
      { label: "T cell", feature: "cell_type" },
    ]);

    const record = file(
      "sample.json",
      JSON.stringify({ sample_id: "s9", n_cells: "12", temperature: 37, cell_type: "Monocyte" }),
    );
    await ln.schemas.create({
      name: "samples_coerce",
      features: ["sample_id", "n_cells", "temperature", "cell_type"],
      coerce: true,
    });
    const saved = await ln.artifacts.save(record, {
      key: "raw/sample.json",
      schema: "samples_coerce",
    });
    expect((await ln.annotations.get("artifact", saved.artifact.uid)).features).toEqual({
      sample_id: "s9",
      n_cells: 12,
      temperature: 37,
      cell_type: "Monocyte",
    });
  });
});

describe("lamin schema / validate / save --schema", () => {
  const work = tempDir("lamin-schemas-cli-");
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  const { run, json: ok } = laminIn(work);

  it("defines schemas, validates and saves from the command line", async () => {
    expect((await run("init", "--storage", join(work, "store"))).code).toBe(0);
    await ok("feature", "create", "sample_id", "--dtype", "str", "--not-nullable");
    const sdk = await connect();
    try {
      await sdk.features.create({ name: "n_cells", dtype: "int" });
      await sdk.features.create({ name: "cell_type", dtype: "cat" });
      await sdk.ulabels.create({ name: "T cell" });
    } finally {
      await sdk.close();
    }
    const s = await ok<{ uid: string; n_members: number; maximal_set: boolean; status: string }>(
      "schema",
      "create",
      "samples",
      "--features",
      "sample_id,n_cells,cell_type",
      "--maximal",
    );
    expect(s).toMatchObject({ n_members: 3, maximal_set: true, status: "created" });
    expectRefusal(
      await run("schema", "create", "x", "--features", "sample_id,n_cels"),
      2,
      /did you mean 'n_cells'/,
    );
    expectRefusal(
      await run("schema", "create", "samples", "--features", "n_cells"),
      4,
      /already exists/,
    );
    expect((await run("schema", "list")).stdout).toMatch(
      /samples\s+sample_id,n_cells,cell_type\s+minimal,maximal/,
    );

    writeFileSync(join(work, "good.csv"), "sample_id,n_cells,cell_type\ns1,3,T cell\n");
    writeFileSync(join(work, "bad.csv"), "sample_id,n_cells,cell_type,batch\n,x,T cel,1\n");
    const valid = await ok<ValidationReport>("validate", "good.csv", "--schema", "samples");
    expect(valid).toMatchObject({ valid: true, n_rows: 1 });

    const bad = await run("validate", "bad.csv", "--schema", "samples", "--json");
    expectRefusal(bad, 2, /bad.csv does not match schema 'samples': 4 issues/);
    expect(bad.stderr).toContain(
      "column 'cell_type': 1 value is not in cat[ULabel]: 'T cel' ×1 → did you mean 'T cell'?",
    );
    expect(bad.stderr).toContain("column 'n_cells': 1 value is not int: 'x' ×1");
    const report = (JSON.parse(bad.stdout) as { error: { type: string; report: ValidationReport } })
      .error;
    expect(report.type).toBe("validation");
    expect(report.report.issues.map((i) => i.kind)).toEqual([
      "extra-columns",
      "nulls",
      "dtype",
      "not-in-registry",
    ]);
    expectRefusal(await run("validate", "good.csv", "--schema", "nope"), 3, /no schema 'nope'/);

    expectRefusal(
      await run("save", "bad.csv", "--key", "raw/bad.csv", "--schema", "samples"),
      2,
      /does not match/,
    );
    const saved = await ok<{ uid: string }>(
      "save",
      "good.csv",
      "--key",
      "raw/good.csv",
      "--schema",
      "samples",
    );
    const after = await connect();
    try {
      // the refused save left nothing: one artifact, the valid one, annotated
      expect((await after.artifacts.list()).items.map((x) => x.uid)).toEqual([saved.uid]);
      expect((await after.annotations.get("artifact", saved.uid)).features).toEqual({
        cell_type: "T cell",
      });
    } finally {
      await after.close();
    }
  });
});
