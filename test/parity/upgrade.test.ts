/**
 * An instance made by main before LaminDB 2.9 parity (37425ca: migrations 0000..0006, bionty
 * 0000..0002, django_migrations with a serial key and our names under `lamindb`/`bionty`) is
 * upgraded in place by `lamin migrate deploy`: nothing is lost (every row and every value of its
 * columns), its schema becomes a new instance's, django_migrations what Python LaminDB expects,
 * and the SDK works on it. Its rows are test/fixtures/upgrade/main-37425ca.json, written by
 * scripts/upgrade-fixture.ts with that version's SDK (data in every registry); a build of today
 * cannot write the old schema (drizzle inserts name every column it knows).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, type Db, queryRows } from "../../core/db/client.js";
import {
  coreMigrations,
  LAMINDB_2_9_MIGRATIONS,
  readMigrationFolder,
} from "../../core/db/migrate.js";
import { openPglite } from "../../core/db/pglite.js";
import { dropDatabase, openPostgres } from "../../core/db/postgres.js";
import { newInstanceSettings } from "../../core/instance-store.js";
import { enableModules, getModule } from "../../core/modules/index.js";
import { saveInstanceSettings, setCurrentInstance } from "../../core/settings.js";
import { openInstance } from "../../core/setup.js";
import {
  BACKENDS,
  createInstance,
  lamin,
  postgresUrl,
  REPO,
  tempDir,
  useTempHome,
} from "../helpers.js";
import { dumpSchema, type Schema } from "./schema-dump.js";

type Row = Record<string, unknown>;
const FIXTURE = JSON.parse(
  readFileSync(join(REPO, "test/fixtures/upgrade/main-37425ca.json"), "utf8"),
) as { tables: Record<string, Row[]> };

/** django_migrations as main wrote it: our names under LaminDB's apps. */
const MAIN_HISTORY = FIXTURE.tables.django_migrations as { app: string; name: string }[];

/**
 * Columns LaminDB 2.9 no longer has, dropped by the upgrade, with why nothing is lost: bionty's
 * `feature_ref_is_name` was always true, `label_ref_is_name` says whether the feature's dtype
 * names the registry's name field (`cat[bionty.CellType]`) or another (`...CellType.ontology_id]`).
 */
const DROPPED: Record<string, string[]> = Object.fromEntries(
  Object.keys(FIXTURE.tables)
    .filter((t) => /^bionty_artifact[a-z]+$/.test(t))
    .map((t) => [t, ["label_ref_is_name", "feature_ref_is_name"]]),
);

/** The rows of every table, keyed by primary key (`storage_id/key` for lns_storage_object). */
async function snapshot(db: Db): Promise<Record<string, Map<string, Row>>> {
  const tables = await queryRows<{ name: string }>(
    db,
    sql`SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
  );
  const out: Record<string, Map<string, Row>> = {};
  for (const { name } of tables) {
    const rows = await queryRows<{ row: Row }>(
      db,
      sql`SELECT to_jsonb(t) AS row FROM ${sql.identifier(name)} t`,
    );
    out[name] = new Map(
      rows.map(({ row }) => [String(row.id ?? `${row.storage_id}/${row.key}`), row]),
    );
  }
  return out;
}

/**
 * Make the database main made: its history table, its migrations, then its rows (foreign keys
 * are checked by nobody while loading: rows point both ways, e.g. artifact.run and run.report).
 */
async function buildMainDatabase(db: Db, storage: { root: string; instanceUid: string }) {
  await db.execute(sql`CREATE TABLE django_migrations (
    id serial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL,
    applied timestamptz NOT NULL DEFAULT now(), UNIQUE (app, name))`);
  const applied = new Set(MAIN_HISTORY.map((h) => `${h.app}/${h.name}`));
  for (const [app, folder] of [
    ["lamindb", "instance"],
    ["bionty", "bionty"],
  ] as const) {
    const set = readMigrationFolder(app, join(REPO, "migrations", folder));
    for (const migration of set.migrations) {
      if (!applied.has(`${app}/${migration.name}`)) continue;
      for (const statement of migration.statements) await db.execute(sql.raw(statement));
    }
  }
  await db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL session_replication_role = replica`);
    for (const [table, rows] of Object.entries(FIXTURE.tables)) {
      // the instance moved: its storage row names this test's folder and instance
      const moved =
        table === "lamindb_storage"
          ? rows.map((r) => ({ ...r, root: storage.root, instance_uid: storage.instanceUid }))
          : rows;
      await tx.execute(
        sql`INSERT INTO ${sql.identifier(table)}
          SELECT * FROM jsonb_populate_recordset(NULL::${sql.identifier(table)}, ${JSON.stringify(moved)}::jsonb)`,
      );
    }
  });
  // explicit ids do not advance serial sequences
  await db.execute(sql`DO $$
    DECLARE t record;
    BEGIN
      FOR t IN SELECT table_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name = 'id' AND column_default LIKE 'nextval(%'
      LOOP
        EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), coalesce(max(id), 1)) FROM %I',
          t.table_name, t.table_name);
      END LOOP;
    END $$`);
}

type Status = {
  apps: {
    app: string;
    applied: string[];
    pending: string[];
    python?: { app: string; recorded: string[]; missing: string[] };
  }[];
};

const home = useTempHome();

describe.each(BACKENDS)("upgrading an instance made by main (37425ca) on %s", (backend) => {
  const work = tempDir("lamin-upgrade-");
  const root = join(work, "storage");
  const name = `upgrade-${backend}`;
  const url = backend === "postgres" ? postgresUrl() : undefined;
  const settings = newInstanceSettings({
    owner: "anonymous",
    name,
    storageRoot: root,
    db: url
      ? { kind: "postgres", url }
      : { kind: "pglite", dataDir: join(root, ".lamindb/pglite") },
  });
  const open = async (): Promise<Database> =>
    settings.db.kind === "postgres"
      ? openPostgres(settings.db.url, { createIfMissing: true })
      : openPglite((settings.db as { dataDir: string }).dataDir);
  const cli = async <T>(...args: string[]): Promise<T> => {
    const r = await lamin([...args, "--json"], { env: { LAMIN_HOME: home } });
    expect(r.code, `lamin ${args.join(" ")}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  let before: Record<string, Map<string, Row>>;
  let statusBefore: Status;

  beforeAll(async () => {
    mkdirSync(join(root, ".lamindb"), { recursive: true });
    writeFileSync(join(root, ".lamindb", "storage_uid.txt"), "upgrade test\n");
    const database = await open();
    try {
      await buildMainDatabase(database.db, { root, instanceUid: settings.uid });
      before = await snapshot(database.db);
    } finally {
      await database.close();
    }
    saveInstanceSettings(settings);
    setCurrentInstance(name);
  });
  afterAll(async () => {
    if (url) await dropDatabase(url).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  });

  it("holds main's rows in every table before the upgrade; dropped columns are derivable", () => {
    const dtypes = new Map(
      FIXTURE.tables.lamindb_feature?.map((f) => [f.id, String(f._dtype_str)]),
    );
    for (const table of Object.keys(DROPPED)) {
      for (const link of FIXTURE.tables[table] ?? []) {
        expect(link.feature_ref_is_name).toBe(true);
        const byField = /\.[a-z_]+\]$/.test(dtypes.get(link.feature_id) ?? "");
        expect(link.label_ref_is_name).toBe(!byField);
      }
    }
    for (const [table, rows] of Object.entries(FIXTURE.tables)) {
      expect(before[table]?.size, table).toBe(rows.length);
      expect(rows.length, `${table} has data`).toBeGreaterThan(0);
    }
  });

  it("before `deploy`, a command that needs the new schema says to run it (exit 5), changing nothing", async () => {
    const r = await lamin(["run", "ls"], { env: { LAMIN_HOME: home } });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/lacks a column or table/);
    expect(r.stderr).toMatch(/lamin migrate deploy/);
    expect(r.stderr).not.toMatch(/SELECT|report it/);
    const database = await open();
    try {
      expect(await snapshot(database.db)).toEqual(before);
    } finally {
      await database.close();
    }
  });

  it("`lamin migrate status` shows what is pending, then `deploy` applies it", async () => {
    statusBefore = await cli<Status>("migrate", "status");
    expect(statusBefore.apps).toEqual([
      {
        app: "lns",
        applied: coreMigrations()
          .migrations.slice(0, 7)
          .map((m) => m.name),
        pending: ["0007_lamindb_2_9_prepare", "0008_lamindb_2_9", "0009_lamindb_2_9_triggers"],
        python: { app: "lamindb", recorded: [], missing: LAMINDB_2_9_MIGRATIONS },
      },
      expect.objectContaining({
        app: "lns_bionty",
        pending: ["0003_lamindb_2_9_prepare", "0004_lamindb_2_9", "0005_parents_acyclic_2_9"],
        python: expect.objectContaining({ app: "bionty", recorded: [] }),
      }),
    ]);
    const deployed = await cli<{ applied: Record<string, string[]> }>("migrate", "deploy");
    expect(deployed.applied).toEqual({
      lns: ["0007_lamindb_2_9_prepare", "0008_lamindb_2_9", "0009_lamindb_2_9_triggers"],
      lamindb: LAMINDB_2_9_MIGRATIONS,
      lns_bionty: ["0003_lamindb_2_9_prepare", "0004_lamindb_2_9", "0005_parents_acyclic_2_9"],
      bionty: ["0064_squashed", "0065_lamindb_v2_2", "0065_squashed"],
    });
    const after = await cli<Status>("migrate", "status");
    for (const app of after.apps) {
      expect(app.pending, app.app).toEqual([]);
      expect(app.python?.missing, app.app).toEqual([]);
    }
    expect(await cli("migrate", "deploy")).toMatchObject({ applied: { lns: [], lns_bionty: [] } });
  });

  it("loses nothing: every row, every value of the columns it had", async () => {
    const database = await open();
    try {
      const after = await snapshot(database.db);
      for (const [table, rows] of Object.entries(before)) {
        if (table === "django_migrations") continue; // checked below
        const upgraded = after[table];
        expect(upgraded?.size, table).toBe(rows.size);
        const dropped = DROPPED[table] ?? [];
        for (const [key, row] of rows) {
          const now = upgraded?.get(key);
          const columns = Object.keys(row).filter((c) => !dropped.includes(c));
          const kept = Object.fromEntries(columns.map((c) => [c, now?.[c]]));
          expect(kept, `${table} ${key}`).toEqual(
            Object.fromEntries(columns.map((c) => [c, row[c]])),
          );
          for (const c of dropped) expect(now && c in now, `${table}.${c} is dropped`).toBe(false);
        }
      }
      // artifact feature values made before the upgrade: who linked them is their value's creator
      const links = [...(after.lamindb_artifactjsonvalue?.values() ?? [])];
      expect(links.every((l) => typeof l.created_by_id === "number")).toBe(true);
    } finally {
      await database.close();
    }
  });

  it("records ours under lns and lns_bionty, and what Python LaminDB expects", async () => {
    const database = await open();
    try {
      const history = await queryRows<{ id: number; app: string; name: string }>(
        database.db,
        sql`SELECT id::int AS id, app, name FROM django_migrations ORDER BY id`,
      );
      // main's rows moved, in place (same id and time)
      for (const old of MAIN_HISTORY as { id: number; app: string; name: string }[]) {
        expect(history.find((h) => h.id === old.id)).toEqual({
          id: old.id,
          app: old.app === "lamindb" ? "lns" : "lns_bionty",
          name: old.name,
        });
      }
      const names = (app: string) => history.filter((h) => h.app === app).map((h) => h.name);
      expect(names("lns")).toEqual(coreMigrations().migrations.map((m) => m.name));
      expect(names("lns_bionty")).toEqual(
        getModule("bionty")
          .migrations()
          .migrations.map((m) => m.name),
      );
      expect(names("lamindb")).toEqual(LAMINDB_2_9_MIGRATIONS);
      expect(names("bionty")).toEqual(["0064_squashed", "0065_lamindb_v2_2", "0065_squashed"]);
      expect(history).toHaveLength(10 + 6 + 20 + 3);
    } finally {
      await database.close();
    }
  });

  it("has the schema of a new instance", async () => {
    const fresh = await createInstance(backend);
    let want: Schema;
    try {
      await enableModules(fresh.instance, ["bionty"]);
      want = await dumpSchema(fresh.instance.db);
    } finally {
      await fresh.dispose();
    }
    const database = await open();
    try {
      expect(await dumpSchema(database.db)).toEqual(want);
    } finally {
      await database.close();
    }
  });

  it("works with the SDK afterwards: reads main's data, writes feature values", async () => {
    const ln = await openInstance(name);
    try {
      const keys = (await ln.artifacts.list()).items.map((a) => a.key);
      expect(keys).toContain("data/a.csv");
      // the first version of data/a.csv (the fixture annotated it, then saved a second version)
      const first = FIXTURE.tables.lamindb_artifact?.find((r) => r.description === "first");
      const a = await ln.artifacts.get(String(first?.uid));
      const got = await ln.artifacts.features(a.uid).get();
      expect(got.features).toMatchObject({ temperature: 37.5, n_cells: 1200, donor: "d1" });
      await ln.artifacts.features(a.uid).add({ temperature: 38 });
      expect((await ln.artifacts.features(a.uid).get()).features.temperature).toEqual(
        expect.arrayContaining([37.5, 38]),
      );
    } finally {
      await ln.close();
    }
  });
});
