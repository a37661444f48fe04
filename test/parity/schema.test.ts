/**
 * An instance made here (with bionty) has LaminDB 2.9's schema: every table, column, type,
 * length, nullability, default, unique constraint, check and trigger of
 * test/fixtures/lamindb-2.9/schema.json (derived from LaminDB's migrations), apart from the
 * differences listed below with their reasons. Its django_migrations holds what Python LaminDB
 * (2.9.1 and 2.10) must find applied. Writes LaminDB allows succeed, writes it refuses are
 * refused: checked with SQL, as Python's Django writes.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, sqlState } from "../../core/db/client.js";
import { coreMigrations, LAMINDB_2_9_MIGRATIONS } from "../../core/db/migrate.js";
import { enableModules, getModule } from "../../core/modules/index.js";
import { BACKENDS, createInstance, type TestInstance, tempDir, useTempHome } from "../helpers.js";
import { dumpSchema, normalizeFixture, readFixture, schemaDiff } from "./schema-dump.js";

// instances made here are remembered in a settings folder of the test's own, not the user's
useTempHome();

/**
 * Every way the schema here differs from LaminDB's, as `schemaDiff` words it, with the reason.
 * Each must occur (a stale entry fails), and no other difference may.
 */
const DIFFERENCES: { pattern: RegExp; reason: string }[] = [
  {
    pattern: /^extra table lns_storage_object$/,
    reason:
      "ours, namespaced lns_: the last storage event applied per object key (S3 sequencers make replayed and late events harmless)",
  },
  {
    pattern: /^[a-z_]+\.[a-z_]+: on delete cascade in the database here, in Python in LaminDB$/,
    reason:
      "where LaminDB's model deletes in cascade, Django does it in Python and its foreign keys do nothing; here the database does it, so deletes from TypeScript or SQL leave nothing dangling (Python finds the same rows gone)",
  },
  {
    pattern: /^[a-z_]+\.[a-z_]+: foreign key not deferrable here, deferred in LaminDB$/,
    reason:
      "drizzle cannot declare DEFERRABLE, and the TypeScript code turns a foreign key violation into a clear error at the statement that causes it, which a check deferred to COMMIT would not raise; Python LaminDB writes referenced rows first",
  },
  {
    pattern: /^[a-z_]+\.[a-z_]+: default [a-z0-9]+ here, in Python in LaminDB$/,
    reason:
      "a database default equal to LaminDB's Python default (is_latest true, kind pipeline, array_rank 0, ...): TypeScript inserts rely on it, Python always writes the value",
  },
  {
    pattern: /^lamindb_artifact\.suffix: default {2}here, none in LaminDB$/,
    reason: "an artifact without suffix has '' (as LaminDB writes it); Python always writes it",
  },
  {
    pattern:
      /^lamindb_feature\.(coerce: default false|nullable: default true) here, none in LaminDB$/,
    reason:
      "this build writes true/false where LaminDB's Python default is None; the columns take NULL as LaminDB's do (tested below)",
  },
  {
    pattern:
      /^django_migrations(\.applied: default now here, none in LaminDB|: extra unique django_migrations_app_name_key \(app, name\))$/,
    reason:
      "our migrator's: it writes rows without a time and never records a migration twice (Django always gives the time and checks first)",
  },
  {
    pattern:
      /^lamindb_artifact: extra unique lamindb_artifact_latest_key \(storage_id, key\) WHERE key is not null and is_latest and branch_id = 1$/,
    reason:
      "ours: one latest version per key on the main branch, so that two concurrent saves of a key cannot both become the latest",
  },
  {
    pattern:
      /^bionty_[a-z]+_parents: extra trigger bionty_[a-z]+_parents_acyclic BEFORE INSERT OR UPDATE bionty_refuse_parent_cycle\(\)$/,
    reason:
      "ours: ontology parents form a hierarchy, a link that makes a cycle is refused (ontologies are DAGs: Python never writes one)",
  },
  {
    pattern:
      /^(extra column lamindb_run(ulabel|project)\.feature_id|lamindb_run(ulabel|project): (extra foreign key feature_id -> lamindb_feature\(id\)|missing unique lamindb_run(ulabel|project)_run_id_[a-z]+_id_[0-9a-f]{8}_uniq \(run_id, [a-z]+_id\)|extra unique lamindb_run(ulabel|project)_with(out)?_feature .*))$/,
    reason:
      "run annotations with categorical features keep their feature here (LaminDB 2.9's run links have none); Python writes no feature, and for such rows the _without_feature unique is LaminDB's unique (run, label)",
  },
];

describe("the LaminDB 2.9 fixture", () => {
  it("names its source and holds lamindb's and bionty's 142 tables", () => {
    const fixture = readFixture();
    expect(fixture.source.lamindb).toMatch(/^760fdf9163d1/);
    expect(fixture.source.bionty).toMatch(/^18e0b60c/);
    expect(Object.keys(fixture.tables)).toHaveLength(142);
    expect(Object.keys(fixture.tables).filter((t) => t.startsWith("bionty_"))).toHaveLength(56);
  });
});

describe.each(BACKENDS)("schema of a new instance with bionty on %s", (backend) => {
  let t: TestInstance;
  let userId: number;
  const work = tempDir();
  const db = () => t.instance.db;
  const rows = <T>(query: SQL) => queryRows<T>(db(), query);
  const count = async (table: string) =>
    Number(
      (await rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM ${sql.raw(table)}`))[0]?.n,
    );
  /** A write that must be refused with `state`; the table must hold what it held before. */
  async function refused(table: string, query: SQL, state: string, message?: RegExp) {
    const before = await count(table);
    const error = await db()
      .execute(query)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error, `${table}: expected a refusal`).toBeDefined();
    expect(sqlState(error)).toBe(state);
    // drizzle wraps the driver's error: the constraint's name is in the cause
    if (message) expect(String((error as { cause?: Error }).cause?.message)).toMatch(message);
    expect(await count(table)).toBe(before);
  }
  const insertId = async (query: SQL) =>
    Number((await rows<{ id: number }>(sql`${query} RETURNING id`))[0]?.id);

  beforeAll(async () => {
    t = await createInstance(backend);
    await enableModules(t.instance, ["bionty"]);
    userId = t.instance.user.id;
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it("has LaminDB 2.9's tables, columns and constraints; the differences are the listed ones", async () => {
    const diff = schemaDiff(normalizeFixture(readFixture().tables), await dumpSchema(db()));
    const unexplained = diff.filter((line) => !DIFFERENCES.some((d) => d.pattern.test(line)));
    expect(unexplained).toEqual([]);
    const stale = DIFFERENCES.filter((d) => !diff.some((line) => d.pattern.test(line)));
    expect(stale.map((d) => d.pattern.source)).toEqual([]);
  });

  it("records what Python LaminDB expects: its migrations applied, ours under our apps", async () => {
    const history = await rows<{ app: string; name: string }>(
      sql`SELECT app, name FROM django_migrations ORDER BY id`,
    );
    const names = (app: string) => history.filter((h) => h.app === app).map((h) => h.name);
    expect(names("lns")).toEqual(coreMigrations().migrations.map((m) => m.name));
    expect(names("lns_bionty")).toEqual(
      getModule("bionty")
        .migrations()
        .migrations.map((m) => m.name),
    );
    // Django marks a squashed migration applied only when all it replaces are recorded
    expect(names("lamindb")).toEqual(LAMINDB_2_9_MIGRATIONS);
    expect(names("bionty")).toEqual(["0064_squashed", "0065_lamindb_v2_2", "0065_squashed"]);
    expect(new Set(history.map((h) => h.app))).toEqual(
      new Set(["lns", "lns_bionty", "lamindb", "bionty"]),
    );
  });

  it("takes a feature with coerce and nullable NULL, as Python writes it", async () => {
    await db().execute(
      sql`INSERT INTO lamindb_feature (uid, name, _dtype_str, coerce, nullable, created_by_id)
        VALUES ('pyFeature001', 'py_written', 'float', NULL, NULL, ${userId})`,
    );
    const feature = await t.instance.features.get("pyFeature001");
    expect(feature).toMatchObject({ name: "py_written", dtype: "float" });
    const [row] = await rows<{ coerce: boolean | null; nullable: boolean | null }>(
      sql`SELECT coerce, nullable FROM lamindb_feature WHERE uid = 'pyFeature001'`,
    );
    expect(row).toEqual({ coerce: null, nullable: null });
  });

  it("refuses a feature without dtype unless it is a type, and a type that is not a type", async () => {
    await refused(
      "lamindb_feature",
      sql`INSERT INTO lamindb_feature (uid, name, created_by_id) VALUES ('noDtype00001', 'x', ${userId})`,
      "23514",
      /feature_dtype_str_not_null_when_is_type_false/,
    );
    const typeId = await insertId(
      sql`INSERT INTO lamindb_feature (uid, name, is_type, created_by_id)
        VALUES ('featType0001', 'Measurements', true, ${userId})`,
    );
    const plainId = await insertId(
      sql`INSERT INTO lamindb_feature (uid, name, _dtype_str, type_id, created_by_id)
        VALUES ('featPlain001', 'weight', 'float', ${typeId}, ${userId})`,
    );
    await refused(
      "lamindb_feature",
      sql`INSERT INTO lamindb_feature (uid, name, _dtype_str, type_id, created_by_id)
        VALUES ('featBadType1', 'height', 'float', ${plainId}, ${userId})`,
      "23514",
      /feature_type_is_valid_fk/,
    );
  });

  it("refuses type cycles and self-types (LaminDB's triggers); the rows stay as they were", async () => {
    const a = await insertId(
      sql`INSERT INTO lamindb_record (uid, name, is_type, created_by_id)
        VALUES ('recTypeA00000001', 'A', true, ${userId})`,
    );
    const b = await insertId(
      sql`INSERT INTO lamindb_record (uid, name, is_type, type_id, created_by_id)
        VALUES ('recTypeB00000001', 'B', true, ${a}, ${userId})`,
    );
    await refused(
      "lamindb_record",
      sql`UPDATE lamindb_record SET type_id = ${b} WHERE id = ${a}`,
      "P0001",
      /would create a cycle/,
    );
    await refused(
      "lamindb_record",
      sql`UPDATE lamindb_record SET type_id = id WHERE id = ${b}`,
      "P0001",
      /record cannot be its own type/,
    );
    const types = await rows<{ id: number; type_id: number | null }>(
      sql`SELECT id, type_id FROM lamindb_record WHERE id IN (${a}, ${b}) ORDER BY id`,
    );
    expect(types).toEqual([
      { id: a, type_id: null },
      { id: b, type_id: a },
    ]);
    const label = await insertId(
      sql`INSERT INTO lamindb_ulabel (uid, name, is_type, created_by_id)
        VALUES ('ulType01', 'Batch', true, ${userId})`,
    );
    await refused(
      "lamindb_ulabel",
      sql`UPDATE lamindb_ulabel SET type_id = id WHERE id = ${label}`,
      "P0001",
      /ulabel cannot be its own type/,
    );
  });

  it("keeps a renamed feature's old names in synonyms and _aux.renamed", async () => {
    await db().execute(
      sql`INSERT INTO lamindb_feature (uid, name, _dtype_str, created_by_id)
        VALUES ('renamedFeat1', 'temperature', 'float', ${userId})`,
    );
    const rename = (name: string) =>
      db().execute(sql`UPDATE lamindb_feature SET name = ${name} WHERE uid = 'renamedFeat1'`);
    await rename("celsius");
    await rename("temp_c");
    // LaminDB's trigger skips an old name already contained in the synonyms (a substring test)
    await rename("celsius_2");
    const [row] = await rows<{ name: string; synonyms: string; aux: { renamed: object } }>(
      sql`SELECT name, synonyms, _aux AS aux FROM lamindb_feature WHERE uid = 'renamedFeat1'`,
    );
    expect(row?.name).toBe("celsius_2");
    expect(row?.synonyms).toBe("temperature|celsius|temp_c");
    // renames are keyed by the second: the last of one second is kept
    expect(Object.values(row?.aux.renamed ?? {})).toContain("temp_c");
  });

  it("refuses a branch or space name that differs from another only in case", async () => {
    for (const [table, name] of [
      ["lamindb_branch", "MAIN"],
      ["lamindb_branch", "Trash"],
      ["lamindb_space", "ALL"],
    ] as const) {
      await refused(
        table,
        sql`INSERT INTO ${sql.raw(table)} (uid, name, created_by_id)
          VALUES (${`${name.toLowerCase()}Case`.padEnd(12, "x").slice(0, 12)}, ${name}, ${userId})`,
        "23505",
        /unique_(branch|space)_name_lower/,
      );
    }
    await db().execute(
      sql`INSERT INTO lamindb_branch (uid, name, created_by_id) VALUES ('draftBranch1', 'draft', ${userId})`,
    );
    expect(await count("lamindb_branch")).toBe(4);
  });

  it("link tables are unique as LaminDB's, no more and no less", async () => {
    const file = join(work, "t.csv");
    writeFileSync(file, "a,b\n1,2\n");
    const { artifact } = await t.instance.artifacts.save(file, { key: "t.csv" });
    const [{ id: artifactId } = { id: 0 }] = await rows<{ id: number }>(
      sql`SELECT id FROM lamindb_artifact WHERE uid = ${artifact.uid}`,
    );
    const schemaId = await insertId(
      sql`INSERT INTO lamindb_schema (uid, name, created_by_id) VALUES ('schemaForLinks00', 'cols', ${userId})`,
    );
    // one schema may validate two slots of an artifact (LaminDB: unique (artifact, slot, schema))
    for (const slot of ["obs", "var"]) {
      await db().execute(
        sql`INSERT INTO lamindb_artifactschema (artifact_id, schema_id, slot, created_by_id)
          VALUES (${artifactId}, ${schemaId}, ${slot}, ${userId})`,
      );
    }
    await refused(
      "lamindb_artifactschema",
      sql`INSERT INTO lamindb_artifactschema (artifact_id, schema_id, slot, created_by_id)
        VALUES (${artifactId}, ${schemaId}, 'obs', ${userId})`,
      "23505",
    );
    // a composite may use one component in two slots
    const composite = await insertId(
      sql`INSERT INTO lamindb_schema (uid, name, created_by_id) VALUES ('compositeSchema1', 'both', ${userId})`,
    );
    for (const slot of ["obs", "var"]) {
      await db().execute(
        sql`INSERT INTO lamindb_schemacomponent (composite_id, component_id, slot, created_by_id)
          VALUES (${composite}, ${schemaId}, ${slot}, ${userId})`,
      );
    }
    // a label once without a feature, once per feature
    const ulabel = await insertId(
      sql`INSERT INTO lamindb_ulabel (uid, name, created_by_id) VALUES ('linkLab1', 'L', ${userId})`,
    );
    const feature = await insertId(
      sql`INSERT INTO lamindb_feature (uid, name, _dtype_str, created_by_id)
        VALUES ('linkFeature1', 'lab', 'cat[ULabel]', ${userId})`,
    );
    const link = (featureId: number | null) =>
      sql`INSERT INTO lamindb_artifactulabel (artifact_id, ulabel_id, feature_id, created_by_id)
        VALUES (${artifactId}, ${ulabel}, ${featureId}, ${userId})`;
    await db().execute(link(null));
    await db().execute(link(feature));
    await refused("lamindb_artifactulabel", link(null), "23505", /unique_artifactulabel_null/);
    await refused("lamindb_artifactulabel", link(feature), "23505", /unique_artifactulabel"/);
    // bionty's unique (artifact, celltype, feature): NULL features are distinct, as in LaminDB
    const [cell] = await rows<{ id: number }>(sql`SELECT id FROM bionty_celltype LIMIT 1`);
    const cellLink = (featureId: number | null) =>
      sql`INSERT INTO bionty_artifactcelltype (artifact_id, celltype_id, feature_id, created_by_id)
        VALUES (${artifactId}, ${cell?.id}, ${featureId}, ${userId})`;
    await db().execute(cellLink(null));
    await db().execute(cellLink(null));
    await db().execute(cellLink(feature));
    await refused("bionty_artifactcelltype", cellLink(feature), "23505");
    // a record's value for a feature: once per (record, feature, value)
    const record = await insertId(
      sql`INSERT INTO lamindb_record (uid, name, created_by_id) VALUES ('recordValues0001', 'r', ${userId})`,
    );
    const value = sql`INSERT INTO lamindb_recordulabel (record_id, feature_id, value_id)
      VALUES (${record}, ${feature}, ${ulabel})`;
    await db().execute(value);
    await refused("lamindb_recordulabel", value, "23505");
  });

  it("jsonvalue: a value is required, a hash is not", async () => {
    const feature = await insertId(
      sql`INSERT INTO lamindb_feature (uid, name, _dtype_str, created_by_id)
        VALUES ('jsonFeature1', 'score', 'float', ${userId})`,
    );
    await refused(
      "lamindb_jsonvalue",
      sql`INSERT INTO lamindb_jsonvalue (feature_id, value, hash, created_by_id)
        VALUES (${feature}, NULL, 'h', ${userId})`,
      "23502",
    );
    await db().execute(
      sql`INSERT INTO lamindb_jsonvalue (feature_id, value, hash, created_by_id)
        VALUES (${feature}, '1.5'::jsonb, NULL, ${userId})`,
    );
    expect(await count("lamindb_jsonvalue")).toBe(1);
  });
});
