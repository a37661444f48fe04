/**
 * LaminDB 2.9's record values and the links of its other registries (issue 14 item 3), on each
 * database, in process, over HTTP (the API and the SDK's RemoteInstance) and through the built
 * CLI:
 * - a record's feature values (`record.features.add_values/get_values`): JSON values in
 *   `lamindb_recordjson` (one per record and feature), categorical ones in `lamindb_record<x>`;
 *   records queried by feature values; sheets (a type with a schema) take only the schema's
 *   features, every required one, and the index feature is the record's name;
 * - `cat[Artifact]`, `cat[Run]`, `cat[User]`, `cat[Reference]`, ... values of artifacts and runs
 *   in the tables LaminDB uses (`lamindb_artifactartifact`, `artifactrun`, `artifactuser`,
 *   `artifactreference`, `runartifact`), read back, queried and validated;
 * - record parents (no cycles) and records a tracked run read (`lamindb_record_input_of_runs`).
 * Every refused input leaves every row of these tables as it was.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors.js";
import type { Instance } from "../core/instance.js";
import { createApp } from "../functions/api/app.js";
import { RemoteInstance } from "../sdk/remote.js";
import {
  BACKENDS,
  createInstance,
  expectRefusal,
  laminIn,
  snapshotTables,
  type TestInstance,
  tempDir,
  useTempHome,
} from "./helpers.js";

useTempHome();

/** Every table a record value, a categorical link, a parent or a run input may be written to. */
const TABLES = [
  "lamindb_record",
  "lamindb_recordjson",
  "lamindb_recordrecord",
  "lamindb_recordulabel",
  "lamindb_recordartifact",
  "lamindb_recordrun",
  "lamindb_recordproject",
  "lamindb_recordcollection",
  "lamindb_recordtransform",
  "lamindb_recordreference",
  "lamindb_recorduser",
  "lamindb_record_parents",
  "lamindb_record_input_of_runs",
  "lamindb_artifactartifact",
  "lamindb_artifactrun",
  "lamindb_artifactuser",
  "lamindb_artifactreference",
  "lamindb_artifactrecord",
  "lamindb_runartifact",
  "lamindb_runrecord",
  "lamindb_collectionrecord",
  "lamindb_transformrecord",
  "lamindb_jsonvalue",
  "lamindb_artifactjsonvalue",
  "lamindb_runjsonvalue",
];

const TOKEN = "lnt_record-values-test-token-0123456789";

/** Link rows by feature, then value (code points: uids mix cases). */
const sorted = <T extends { feature: string | null; value: string }>(rows: T[]) =>
  [...rows].sort((a, b) =>
    `${a.feature}\u0000${a.value}` < `${b.feature}\u0000${b.value}` ? -1 : 1,
  );
const BASE = "http://api.test";

describe.each(BACKENDS)("record values and LaminDB 2.9's links on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  let app: ReturnType<typeof createApp>;
  let remote: RemoteInstance;
  /** uids of what the values point to. */
  const u: Record<string, string> = {};

  const snapshot = () => snapshotTables(ln.db, TABLES);
  const send = (method: string, path: string, body?: unknown) =>
    app.request(`${BASE}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  /** Rows of a link table of one owner, { feature, value uid }, in `sorted` order. */
  const linkRows = async (
    table: string,
    ownerCol: string,
    valueCol: string,
    target: string,
    uid: string,
  ) =>
    sorted(
      await queryRows<{ feature: string | null; value: string }>(
        ln.db,
        sql`SELECT f.name AS feature, x.uid AS value FROM ${sql.raw(table)} l
          JOIN ${sql.raw(target)} x ON x.id = l.${sql.raw(valueCol)}
          LEFT JOIN lamindb_feature f ON f.id = l.feature_id
          WHERE l.${sql.raw(ownerCol)} = (SELECT id FROM ${sql.raw(
            ownerCol === "record_id"
              ? "lamindb_record"
              : ownerCol === "run_id"
                ? "lamindb_run"
                : "lamindb_artifact",
          )} WHERE uid = ${uid})`,
      ),
    );
  const newRecord = async (name: string, type?: string) =>
    (await ln.records.create({ name, ...(type ? { type } : {}) })).record.uid;

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir();
    app = createApp({ instance: () => ln, authorize: (token) => token === TOKEN });
    remote = new RemoteInstance(BASE, {
      token: TOKEN,
      fetch: ((input: string | URL | Request, init?: RequestInit) =>
        app.request(input, init)) as typeof fetch,
    });
    const dtypes: [string, string][] = [
      ["feature_bool", "bool"],
      ["feature_str", "str"],
      ["feature_list_str", "list[str]"],
      ["feature_int", "int"],
      ["feature_list_int", "list[int]"],
      ["feature_float", "float"],
      ["feature_num", "num"],
      ["feature_url", "url"],
      ["feature_datetime", "datetime"],
      ["feature_date", "date"],
      ["feature_dict", "dict"],
      ["feature_type1", "cat[Record[RecordType1]]"],
      ["feature_type1s", "list[cat[Record[RecordType1]]]"],
      ["feature_ulabel", "cat[ULabel]"],
      ["feature_user", "cat[User]"],
      ["feature_project", "cat[Project]"],
      ["feature_artifact", "cat[Artifact]"],
      ["feature_collection", "cat[Collection]"],
      ["feature_run", "cat[Run.uid]"],
      ["feature_transform", "cat[Transform]"],
      ["feature_reference", "cat[Reference]"],
    ];
    // the type first: a dtype names it
    u.type1 = (await ln.records.create({ name: "RecordType1", is_type: true })).record.uid;
    for (const [name, dtype] of dtypes) await ln.features.create({ name, dtype });
    u.entity1 = await newRecord("entity1", "RecordType1");
    u.entity2 = await newRecord("entity2", "RecordType1");
    u.ulabel = (await ln.ulabels.create({ name: "test-ulabel" })).record.uid;
    u.project = (await ln.projects.create({ name: "test_project" })).record.uid;
    u.reference = (await ln.references.create({ name: "A paper" })).record.uid;
    const a = join(work, "a.csv");
    writeFileSync(a, "a\n1\n");
    u.artifact = (await ln.artifacts.save(a, { key: "test-artifact.csv" })).artifact.uid;
    const b = join(work, "b.csv");
    writeFileSync(b, "b\n2\n");
    u.artifact2 = (await ln.artifacts.save(b, { key: "value-artifact.csv" })).artifact.uid;
    u.collection = (
      await ln.collections.create({ key: "test-collection", artifacts: [u.artifact] })
    ).record.uid;
    u.transform = (
      await ln.transforms.create({ key: "test-transform.py", source_code: "x" })
    ).record.uid;
    u.run = (await ln.runs.create({ transform: u.transform, name: "test-run" })).record.uid;
    u.user = ln.user.handle;
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  // LaminDB's test_record_features_add_remove_values, with these values
  const values = () => ({
    feature_bool: true,
    feature_str: "00810702-0006", // could be read as a date: stays a string
    feature_list_str: ["a", "list", "of", "strings"],
    feature_int: 42,
    feature_list_int: [1, 2, 3],
    feature_float: 3.14,
    feature_num: 2.71,
    feature_url: "https://lamin.ai/docs",
    feature_datetime: "2024-01-01T12:00:00.000Z",
    feature_date: "2024-01-01",
    feature_dict: { key: "value" },
    feature_type1: "entity1",
    feature_type1s: ["entity1", "entity2"],
    feature_ulabel: "test-ulabel",
    feature_user: u.user,
    feature_project: "test_project",
    feature_artifact: "test-artifact.csv",
    feature_collection: "test-collection",
    feature_run: u.run,
    feature_transform: "test-transform.py",
    feature_reference: "A paper",
  });

  it("adds a record's values as LaminDB does, reads them back, and keeps them in its tables", async () => {
    const record = await newRecord("test_record");
    const got = await ln.records.features(record).add(values());
    expect(got.features).toEqual(values());
    expect(await ln.records.features(record).get()).toEqual(got);
    // one JSON value per simple feature, in lamindb_recordjson
    const json = await queryRows<{ feature: string; value: unknown }>(
      ln.db,
      sql`SELECT f.name AS feature, j.value FROM lamindb_recordjson j
        JOIN lamindb_feature f ON f.id = j.feature_id JOIN lamindb_record r ON r.id = j.record_id
        WHERE r.uid = ${record} ORDER BY f.name`,
    );
    expect(json.map((j) => j.feature)).toEqual([
      "feature_bool",
      "feature_date",
      "feature_datetime",
      "feature_dict",
      "feature_float",
      "feature_int",
      "feature_list_int",
      "feature_list_str",
      "feature_num",
      "feature_str",
      "feature_url",
    ]);
    expect(json.find((j) => j.feature === "feature_list_int")?.value).toEqual([1, 2, 3]);
    // categorical values: lamindb_record<registry>(record_id, feature_id, value_id)
    const link = (table: string, target: string) =>
      linkRows(table, "record_id", "value_id", target, record);
    expect(await link("lamindb_recordrecord", "lamindb_record")).toEqual(
      sorted([
        { feature: "feature_type1", value: u.entity1 as string },
        { feature: "feature_type1s", value: u.entity1 as string },
        { feature: "feature_type1s", value: u.entity2 as string },
      ]),
    );
    for (const [table, target, feature, value] of [
      ["lamindb_recordulabel", "lamindb_ulabel", "feature_ulabel", u.ulabel],
      ["lamindb_recorduser", "lamindb_user", "feature_user", ln.user.uid],
      ["lamindb_recordproject", "lamindb_project", "feature_project", u.project],
      ["lamindb_recordartifact", "lamindb_artifact", "feature_artifact", u.artifact],
      ["lamindb_recordcollection", "lamindb_collection", "feature_collection", u.collection],
      ["lamindb_recordrun", "lamindb_run", "feature_run", u.run],
      ["lamindb_recordtransform", "lamindb_transform", "feature_transform", u.transform],
      ["lamindb_recordreference", "lamindb_reference", "feature_reference", u.reference],
    ] as const) {
      expect(await link(table, target), table).toEqual([{ feature, value }]);
    }
    // values are given by uid (a stem: the latest version) too, and read back in the dtype's field
    const other = await newRecord("by uid");
    const byUid = await ln.records.features(other).add({
      feature_type1: u.entity2 as string,
      feature_artifact: (u.artifact as string).slice(0, 16),
    });
    expect(byUid.features).toEqual({
      feature_type1: "entity2",
      feature_artifact: "test-artifact.csv",
    });
  });

  it("queries records by feature values, as LaminDB's Record.filter does", async () => {
    const match = async (features: Record<string, unknown>) =>
      (await ln.records.list({ features: features as never })).items.map((r) => r.name).sort();
    expect(await match({ feature_str: "00810702-0006" })).toEqual(["test_record"]);
    expect(await match({ feature_int: 42 })).toEqual(["test_record"]);
    expect(await match({ feature_float: 3.14, feature_int: "42" })).toEqual(["test_record"]);
    expect(await match({ feature_type1: "entity1" })).toEqual(["test_record"]);
    expect(await match({ feature_type1__contains: "entity" })).toEqual(["by uid", "test_record"]);
    expect(await match({ feature_url: "https://lamin.ai/docs" })).toEqual(["test_record"]);
    expect(await match({ feature_date: "2024-01-01" })).toEqual(["test_record"]);
    expect(await match({ feature_datetime__lt: "2024-01-01T13:00:00Z" })).toEqual(["test_record"]);
    expect(await match({ feature_datetime__gt: "2024-01-01T13:00:00Z" })).toEqual([]);
    expect(await match({ feature_int__lt: 5 })).toEqual([]);
    expect(await match({ feature_int__gt: 21 })).toEqual(["test_record"]);
    expect(await match({ feature_num__lt: 5.0 })).toEqual(["test_record"]);
    expect(await match({ feature_date__gt: "2023-12-31" })).toEqual(["test_record"]);
    expect(await match({ feature_list_int: 2 })).toEqual(["test_record"]);
    expect(await match({ feature_user: u.user })).toEqual(["test_record"]);
    expect(await match({ feature_artifact: "test-artifact.csv" })).toEqual([
      "by uid",
      "test_record",
    ]);
    expect(await match({ feature_project: "nonexistent_project" })).toEqual([]);
    expect(await match({ feature_bool__isnull: true })).not.toContain("test_record");
    // composed with field lookups
    const page = await ln.records.list({
      filter: { name__startswith: "test" },
      features: { feature_int: 42 },
    });
    expect(page.items.map((r) => r.name)).toEqual(["test_record"]);
  });

  it("holds one JSON value per record and feature: another is refused, set replaces it", async () => {
    const record = await newRecord("one value");
    const fm = ln.records.features(record);
    await fm.add({ feature_int: 1, feature_type1: "entity1" });
    const before = await snapshot();
    const error = await fm.add({ feature_int: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/value for feature 'feature_int' already \(1\)/);
    expect(await snapshot()).toBe(before);
    // the same value again changes nothing
    await fm.add({ feature_int: 1 });
    expect(await snapshot()).toBe(before);
    // categorical values add up (LaminDB's add_values); set replaces the named features only
    expect((await fm.add({ feature_type1: "entity2" })).features.feature_type1).toEqual([
      "entity1",
      "entity2",
    ]);
    expect((await fm.set({ feature_int: 2 })).features).toEqual({
      feature_int: 2,
      feature_type1: ["entity1", "entity2"],
    });
    expect((await fm.remove("feature_type1", "feature_int")).features).toEqual({});
  });

  it("refuses bad values with a clear error and writes nothing", async () => {
    const record = await newRecord("bad values");
    const fm = ln.records.features(record);
    await fm.add({ feature_str: "kept" });
    const before = await snapshot();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ feature_int: 37.5 }, /feature_int' has dtype int: number 37.5 is not an integer/],
      [{ feature_date: "31/01/2026" }, /is not a date/],
      [{ feature_list_int: 3 }, /is not a list/],
      [{ feature_unknown: 1 }, /unknown feature 'feature_unknown'/],
      [
        { feature_float: 1.5, feature_type1: ["entity1", "entty2"] },
        /1 value is not a record of type 'RecordType1': 'entty2' \(close matches: 'entty2' → 'entity2'/,
      ],
      [{ feature_user: "nobody" }, /not a user: 'nobody'/],
      [{ feature_artifact: "no/such.csv" }, /not an artifact: 'no\/such.csv'/],
      [{ feature_run: "test-run" }, /not a run: 'test-run'/],
      [{ feature_ulabel: "" }, /give label names/],
    ];
    for (const [input, message] of cases) {
      const error = await fm.add(input).catch((e: unknown) => e);
      expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      expect((error as Error).message, JSON.stringify(input)).toMatch(message);
    }
    // records have no labels without a feature
    await expect(
      ln.annotations.add("record", record, {}, { ulabels: ["test-ulabel"] }),
    ).rejects.toThrow(/records have no ulabels without a feature/);
    await expect(ln.records.features("tooShort").add({ feature_int: 1 })).rejects.toThrow(
      /'tooShort' is not a record uid/,
    );
    await expect(
      ln.records.features("0000000000000000").add({ feature_int: 1 }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(ln.records.list({ features: { feature_int__contains: "4" } })).rejects.toThrow(
      /operator 'contains' does not apply/,
    );
    await expect(ln.records.list({ filter: { ulabels__name: "x" } })).rejects.toThrow();
    expect(await snapshot()).toBe(before);
  });

  it("a sheet takes only its schema's features, every required one, and its index is the name", async () => {
    await ln.schemas.create({
      name: "sample_schema",
      features: ["feature_type1", "feature_float"],
    });
    const sheet = (await ln.records.create({ name: "Sample Sheet", schema: "sample_schema" }))
      .record;
    expect(sheet).toMatchObject({
      is_type: true,
      schema: (await ln.schemas.get("sample_schema")).uid,
    });
    const row = await newRecord("Sample 1", "Sample Sheet");
    const before = await snapshot();
    await expect(ln.records.features(row).add({ feature_float: 0.6 })).rejects.toThrow(
      /needs every required feature of its schema 'sample_schema': 'feature_type1' is missing/,
    );
    await expect(
      ln.records
        .features(row)
        .add({ feature_float: 0.6, feature_type1: "entity1", feature_int: 1 }),
    ).rejects.toThrow(
      /feature 'feature_int' is not in the schema 'sample_schema' of sheet 'Sample Sheet'/,
    );
    expect(await snapshot()).toBe(before);
    expect(
      (await ln.records.features(row).add({ feature_float: 0.6, feature_type1: "entity1" }))
        .features,
    ).toEqual({ feature_float: 0.6, feature_type1: "entity1" });
    // LaminDB keeps optional members and the index in the schema's _aux (Python makes them)
    const [index, optional] = await queryRows<{ uid: string }>(
      ln.db,
      sql`SELECT uid FROM lamindb_feature WHERE name IN ('feature_str', 'feature_int') ORDER BY name DESC`,
    );
    const schemaId = sql`(SELECT id FROM lamindb_schema WHERE name = 'sample_schema')`;
    await ln.db.execute(
      sql`INSERT INTO lamindb_schemafeature (schema_id, feature_id)
        SELECT ${schemaId}, id FROM lamindb_feature WHERE name IN ('feature_str', 'feature_int')`,
    );
    await ln.db.execute(
      sql`UPDATE lamindb_schema SET _aux = ${JSON.stringify({
        af: { "1": [optional?.uid], "3": index?.uid },
      })}::jsonb WHERE id = ${schemaId}`,
    );
    const keyed = await newRecord("placeholder", "Sample Sheet");
    const got = await ln.records.features(keyed).add({
      feature_str: "S-001",
      feature_float: 1.5,
      feature_type1: "entity2",
    });
    expect(got.features).toEqual({
      feature_str: "S-001",
      feature_float: 1.5,
      feature_type1: "entity2",
    });
    expect((await ln.records.get(keyed)).name).toBe("S-001");
    const [stored] = await queryRows<{ n: number }>(
      ln.db,
      sql`SELECT count(*)::int AS n FROM lamindb_recordjson j JOIN lamindb_record r ON r.id = j.record_id
        JOIN lamindb_feature f ON f.id = j.feature_id WHERE r.uid = ${keyed} AND f.name = 'feature_str'`,
    );
    expect(stored?.n).toBe(0);
    // a schema without features (LaminDB's flexible one) constrains nothing
    await ln.schemas.create({ name: "anything" });
    await ln.records.create({ name: "Free Sheet", schema: "anything" });
    const free = await newRecord("free row", "Free Sheet");
    expect((await ln.records.features(free).add({ feature_int: 3 })).features).toEqual({
      feature_int: 3,
    });
    const tooLong = { feature_str: "x".repeat(151), feature_float: 1, feature_type1: "entity1" };
    await expect(ln.records.features(keyed).add(tooLong)).rejects.toThrow(
      /index of sheet 'Sample Sheet'/,
    );
  });

  it("annotates artifacts and runs with artifacts, runs, users and references where LaminDB does", async () => {
    const fa = ln.artifacts.features(u.artifact as string);
    const got = await fa.add({
      feature_artifact: ["test-artifact.csv", "value-artifact.csv"],
      feature_run: u.run,
      feature_user: u.user,
      feature_reference: "A paper",
    });
    expect(got.features).toMatchObject({
      feature_artifact: ["test-artifact.csv", "value-artifact.csv"],
      feature_run: u.run,
      feature_user: u.user,
      feature_reference: "A paper",
    });
    const of = (table: string, value: string, target: string) =>
      linkRows(table, "artifact_id", value, target, u.artifact as string);
    expect(await of("lamindb_artifactartifact", "value_id", "lamindb_artifact")).toEqual(
      sorted(
        [u.artifact, u.artifact2].map((value) => ({
          feature: "feature_artifact",
          value: value as string,
        })),
      ),
    );
    expect(await of("lamindb_artifactrun", "run_id", "lamindb_run")).toEqual([
      { feature: "feature_run", value: u.run },
    ]);
    expect(await of("lamindb_artifactuser", "user_id", "lamindb_user")).toEqual([
      { feature: "feature_user", value: ln.user.uid },
    ]);
    expect(await of("lamindb_artifactreference", "reference_id", "lamindb_reference")).toEqual([
      { feature: "feature_reference", value: u.reference },
    ]);
    const artifacts = async (features: Record<string, unknown>) =>
      (await ln.artifacts.list({ features: features as never })).items.map((a) => a.uid);
    expect(await artifacts({ feature_artifact: "value-artifact.csv" })).toEqual([u.artifact]);
    expect(await artifacts({ feature_user: u.user, feature_run: u.run })).toEqual([u.artifact]);
    expect(await artifacts({ feature_reference__startswith: "A pa" })).toEqual([u.artifact]);

    // a run's artifact values: lamindb_artifactrun, where LaminDB's FeatureManager keeps them
    // (the artifact's run values share the table, told apart by the feature); its records:
    // lamindb_runrecord
    await ln.features.create({ name: "run_sample", dtype: "cat[Record]" });
    const fr = ln.annotations.of("run", u.run as string);
    const artifactValues = ["test-artifact.csv", "value-artifact.csv"];
    expect(
      (await fr.add({ feature_artifact: artifactValues, run_sample: "entity1" })).features,
    ).toEqual({ feature_artifact: artifactValues, run_sample: "entity1" });
    const runArtifacts = () =>
      linkRows("lamindb_artifactrun", "run_id", "artifact_id", "lamindb_artifact", u.run as string);
    expect(await runArtifacts()).toEqual(
      sorted([
        { feature: "feature_artifact", value: u.artifact as string },
        { feature: "feature_artifact", value: u.artifact2 as string },
        { feature: "feature_run", value: u.artifact as string },
      ]),
    );
    expect(
      await linkRows("lamindb_runrecord", "run_id", "record_id", "lamindb_record", u.run as string),
    ).toEqual([{ feature: "run_sample", value: u.entity1 }]);
    // the artifact's values are its own: the run's rows of the shared table are not among them
    expect((await fa.get()).features.feature_run).toBe(u.run);
    expect((await fa.get()).features.feature_artifact).toEqual(artifactValues);
    const runs = await ln.runs.list({ features: { feature_artifact: "value-artifact.csv" } });
    expect(runs.items.map((r) => r.uid)).toEqual([u.run]);

    // what LaminDB keeps no link of is refused, not dropped
    const before = await snapshot();
    await expect(fa.add({ feature_collection: "test-collection" })).rejects.toThrow(
      /LaminDB keeps no Collection values of artifacts/,
    );
    await expect(fa.add({ feature_transform: "test-transform.py" })).rejects.toThrow(
      /LaminDB keeps no Transform values of artifacts/,
    );
    await expect(fr.add({ feature_user: u.user })).rejects.toThrow(
      /LaminDB keeps no User values of runs/,
    );
    await expect(ln.runs.list({ features: { feature_user: u.user } })).rejects.toThrow(
      /LaminDB keeps no User values of runs/,
    );
    expect(await snapshot()).toBe(before);
    expect((await fa.remove("feature_artifact", "feature_run")).features).toEqual({
      feature_user: u.user,
      feature_reference: "A paper",
    });
    // removing the artifact's run value leaves the run's artifact values
    expect((await fr.get()).features.feature_artifact).toEqual(artifactValues);
    expect((await fr.remove("feature_artifact")).features).toEqual({ run_sample: "entity1" });
    expect(await runArtifacts()).toEqual([]);
  });

  it("validates tables with such features, and a valid save links their values", async () => {
    await ln.features.create({ name: "sample_id", dtype: "str" });
    await ln.schemas.create({
      name: "provenance",
      features: ["sample_id", "feature_user", "feature_artifact"],
    });
    const bad = join(work, "bad.csv");
    writeFileSync(
      bad,
      `sample_id,feature_user,feature_artifact\ns1,${u.user},no-such.csv\ns2,nobody,test-artifact.csv\n`,
    );
    const report = await ln.validate(bad, "provenance");
    expect(report.valid).toBe(false);
    expect(report.issues).toEqual([
      expect.objectContaining({
        kind: "not-in-registry",
        column: "feature_user",
        values: [expect.objectContaining({ value: "nobody" })],
      }),
      expect.objectContaining({
        kind: "not-in-registry",
        column: "feature_artifact",
        values: [expect.objectContaining({ value: "no-such.csv" })],
      }),
    ]);
    const good = join(work, "good.csv");
    writeFileSync(
      good,
      `sample_id,feature_user,feature_artifact\ns1,${u.user},test-artifact.csv\n`,
    );
    const { artifact } = await ln.artifacts.save(good, {
      key: "provenance.csv",
      schema: "provenance",
    });
    expect(
      await linkRows(
        "lamindb_artifactuser",
        "artifact_id",
        "user_id",
        "lamindb_user",
        artifact.uid,
      ),
    ).toEqual([{ feature: "feature_user", value: ln.user.uid }]);
    expect(
      await linkRows(
        "lamindb_artifactartifact",
        "artifact_id",
        "value_id",
        "lamindb_artifact",
        artifact.uid,
      ),
    ).toEqual([{ feature: "feature_artifact", value: u.artifact }]);
  });

  it("record parents form a hierarchy without cycles", async () => {
    const root = await newRecord("T cell");
    const child = await newRecord("CD4 T cell");
    const grandchild = await newRecord("naive CD4 T cell");
    await ln.records.link(child, "parents", [root]);
    const linked = await ln.records.link(grandchild, "parents", [child]);
    expect(linked.parents).toEqual([child]);
    expect((await ln.records.get(root)).children).toEqual([child]);
    const before = await snapshot();
    await expect(ln.records.link(root, "parents", [grandchild])).rejects.toThrow(/cycle/);
    await expect(ln.records.link(root, "parents", [root])).rejects.toThrow(/own parents/);
    await expect(ln.records.link(root, "children", [child])).rejects.toThrow(
      /no relation 'children' to change/,
    );
    expect(await snapshot()).toBe(before);
    expect((await ln.records.unlink(grandchild, "parents", [child])).parents).toEqual([]);
  });

  it("records annotate collections and transforms (lamindb_collectionrecord, transformrecord)", async () => {
    const record = await newRecord("annotating");
    await ln.records.link(record, "collections", [u.collection as string]);
    const linked = await ln.records.link(record, "transforms", [
      (u.transform as string).slice(0, 12),
    ]);
    expect(linked).toMatchObject({ collections: [u.collection], transforms: [u.transform] });
    const rows = await queryRows<{ collection: string; feature: number | null; by: number }>(
      ln.db,
      sql`SELECT c.uid AS collection, l.feature_id AS feature, l.created_by_id AS by
        FROM lamindb_collectionrecord l JOIN lamindb_collection c ON c.id = l.collection_id
        JOIN lamindb_record r ON r.id = l.record_id WHERE r.uid = ${record}`,
    );
    expect(rows).toEqual([{ collection: u.collection, feature: null, by: ln.user.id }]);
    expect(
      (await ln.records.unlink(record, "transforms", [u.transform as string])).transforms,
    ).toEqual([]);
  });

  it("a sheet read while a run is tracked becomes the run's input, except what the run made", async () => {
    await ln.records.create({ name: "Donors", is_type: true });
    const d1 = await newRecord("donor 1", "Donors");
    const script = join(work, "read-donors.sh");
    writeFileSync(script, "echo read\n");
    const { run } = await ln.track({ path: script, captureProcess: false });
    try {
      const made = await newRecord("donor 2", "Donors");
      const sheet = await ln.records.sheet("Donors");
      expect(sheet.rows.map((r) => r.name)).toEqual(["donor 1", "donor 2"]);
      const inputs = await queryRows<{ uid: string }>(
        ln.db,
        sql`SELECT x.uid FROM lamindb_record_input_of_runs l JOIN lamindb_record x ON x.id = l.record_id
          JOIN lamindb_run r ON r.id = l.run_id WHERE r.uid = ${run.uid} ORDER BY x.id`,
      );
      expect(inputs.map((i) => i.uid)).toEqual([sheet.type, d1]);
      expect((await ln.records.get(d1)).input_of_runs).toEqual([run.uid]);
      expect((await ln.records.get(made)).input_of_runs).toEqual([]);
    } finally {
      await ln.finish();
    }
    // a client's tracked run says what it read; an unknown record is refused, nothing written
    const before = await snapshot();
    await expect(
      ln.runs.addInputs(u.run as string, { records: [u.entity1 as string, "0000000000000000"] }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await snapshot()).toBe(before);
    await ln.runs.addInputs(u.run as string, { records: [u.entity1 as string] });
    expect((await ln.records.get(u.entity1 as string)).input_of_runs).toEqual([u.run]);
  });

  it("over HTTP and through the SDK: values, queries, parents, sheets; bad input is a problem", async () => {
    const record = (await remote.records.create({ name: "remote record" })).record.uid;
    const added = await send("POST", `/records/${record}/features`, {
      features: { feature_int: "7", feature_type1: "entity1" },
      from_text: true,
    });
    expect(added.status).toBe(200);
    expect(await added.json()).toMatchObject({
      features: { feature_int: 7, feature_type1: "entity1" },
    });
    const fm = remote.records.features(record);
    expect((await fm.set({ feature_int: 8 })).features.feature_int).toBe(8);
    expect((await fm.get()).features).toEqual({ feature_int: 8, feature_type1: "entity1" });
    const listed = await send("GET", "/records?feature.feature_int__gt=7&name__startswith=remote");
    expect(((await listed.json()) as { items: { uid: string }[] }).items.map((r) => r.uid)).toEqual(
      [record],
    );
    expect(
      (await remote.records.list({ features: { feature_int: 8 } })).items.map((r) => r.uid),
    ).toEqual([record]);
    const parent = (await remote.records.create({ name: "remote parent" })).record.uid;
    expect((await remote.records.link(record, "parents", [parent])).parents).toEqual([parent]);
    const sheet = await remote.records.sheet("RecordType1");
    expect(sheet.rows.map((r) => r.name)).toEqual(["entity1", "entity2"]);
    const inputs = () => snapshotTables(ln.db, ["lamindb_record_input_of_runs"]);
    const read = await inputs();
    // a GET records nothing, whatever run a client names: a reader cannot write a run's inputs
    const first = await app.request(`${BASE}/records/${u.type1}/sheet?limit=1`, {
      headers: { authorization: `Bearer ${TOKEN}`, "lamin-run": u.run as string },
    });
    expect(await first.json()).toMatchObject({ rows: [{ name: "entity1" }], truncated: true });
    expect(await inputs()).toBe(read);
    // the SDK of a tracked run says what it read (POST /runs/{uid}/inputs)
    remote.useRun(u.run);
    try {
      await remote.records.sheet("RecordType1");
    } finally {
      remote.useRun(undefined);
    }
    expect((await ln.records.get(u.entity2 as string)).input_of_runs).toEqual([u.run]);

    const before = await snapshot();
    const refused = await send("POST", `/records/${record}/features`, {
      features: { feature_int: 1.5 },
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    const conflict = await send("POST", `/records/${record}/features`, {
      features: { feature_int: 9 },
    });
    expect(conflict.status).toBe(409);
    expect(
      (await send("POST", `/records/${record}/features`, { ulabels: ["test-ulabel"] })).status,
    ).toBe(400);
    expect((await send("GET", "/records/0000000000000000/features")).status).toBe(404);
    expect((await send("POST", `/records/${record}/links/parents`, { add: [record] })).status).toBe(
      400,
    );
    expect(
      (await send("POST", `/runs/${u.run}/inputs`, { records: ["0000000000000000"] })).status,
    ).toBe(404);
    expect((await send("GET", "/records/NoSuchType/sheet")).status).toBe(400);
    await expect(fm.add({ feature_int: "x" })).rejects.toMatchObject({ kind: "validation" });
    expect(await snapshot()).toBe(before);
  });
});

describe("lamin annotate --registry record, record list --features, record sheet, link record", () => {
  const work = tempDir("lamin-record-values-cli-");
  const { run, json } = laminIn(work);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("annotates records from the command line, lists them by values; bad input changes nothing", async () => {
    expect((await run("init", "--storage", join(work, "store"))).code).toBe(0);
    await json("feature", "create", "gc_content", "--dtype", "float");
    await json("feature", "create", "experiment", "--dtype", "cat[Record[Experiments]]");
    await json("record", "create", "Experiments", "--is-type");
    await json("record", "create", "Experiment 1", "--type", "Experiments");
    await json("schema", "create", "samples", "--features", "gc_content,experiment");
    const sheet = await json<{ uid: string; is_type: boolean }>(
      "record",
      "create",
      "Samples",
      "--schema",
      "samples",
    );
    expect(sheet.is_type).toBe(true);
    const sample = await json<{ uid: string }>("record", "create", "sample 1", "--type", "Samples");
    const annotated = await json<{ features: Record<string, unknown> }>(
      "annotate",
      sample.uid,
      "--registry",
      "record",
      "--features",
      "gc_content=0.5",
      "experiment=Experiment 1",
    );
    expect(annotated.features).toEqual({ gc_content: 0.5, experiment: "Experiment 1" });
    const listed = await json<{ uid: string }[]>(
      "record",
      "list",
      "--features",
      "gc_content__gt=0.4",
    );
    expect(listed.map((r) => r.uid)).toEqual([sample.uid]);
    const rows = await run("record", "sheet", "Samples");
    expect(rows.code).toBe(0);
    expect(rows.stdout).toMatch(/sample 1\s+0\.5\s+Experiment 1/);
    const parent = await json<{ uid: string }>("record", "create", "all samples");
    expect(
      (await json<{ parents: string[] }>("link", "record", sample.uid, "parents", parent.uid))
        .parents,
    ).toEqual([parent.uid]);

    // a sheet's record takes every required feature at once
    const annotateRecord = (...features: string[]) =>
      run("annotate", sample.uid, "--registry", "record", "--features", ...features);
    expectRefusal(await annotateRecord("gc_content=0.7"), 2, /'experiment' is missing/);
    expectRefusal(
      await annotateRecord("gc_content=high", "experiment=Experiment 1"),
      2,
      /gc_content' has dtype float/,
    );
    expectRefusal(
      await annotateRecord("gc_content=0.7", "experiment=Experiment 1"),
      4,
      /already \(0\.5\): a record holds one value per feature/,
    );
    expectRefusal(
      await run("annotate", "--key", "x.csv", "--registry", "record"),
      2,
      /give the record's uid/,
    );
    expectRefusal(await run("link", "record", parent.uid, "parents", sample.uid), 2, /cycle/);
    // nothing of it was written
    const text = await run("annotate", sample.uid, "--registry", "record");
    expect(text.stdout).toMatch(/^ {2}gc_content = 0\.5$/m);
    expect(text.stdout).toMatch(/^ {2}experiment = Experiment 1$/m);
    const after = await json<{ features: Record<string, unknown> }>(
      "annotate",
      sample.uid,
      "--registry",
      "record",
      "--remove",
      "gc_content",
      "--features",
      "gc_content=0.7",
      "experiment=Experiment 1",
    );
    expect(after.features).toEqual({ gc_content: 0.7, experiment: "Experiment 1" });
  });
});
