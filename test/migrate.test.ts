/**
 * The migrator: idempotent, all-or-nothing per set, safe when two processes run it at once;
 * records our migrations under our app names (moving rows an earlier build recorded under
 * LaminDB's) and, once the schema is LaminDB 2.9's, the migrations Python LaminDB expects.
 */
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { type Database, queryRows } from "../core/db/client.js";
import {
  coreMigrations,
  LAMINDB_2_9_MIGRATIONS,
  type MigrationSet,
  migrate,
  migrationStatus,
} from "../core/db/migrate.js";
import { openPglite } from "../core/db/pglite.js";
import { dropDatabase, openPostgres } from "../core/db/postgres.js";
import { BACKENDS, postgresUrl } from "./helpers.js";

const opened: { database: Database; url?: string }[] = [];
afterAll(async () => {
  for (const { database } of opened) await database.close().catch(() => {});
  for (const { url } of opened) if (url) await dropDatabase(url).catch(() => {});
});

async function freshDatabase(backend: "pglite" | "postgres"): Promise<Database> {
  if (backend === "pglite") {
    const database = await openPglite("memory://");
    opened.push({ database });
    return database;
  }
  const url = postgresUrl();
  const database = await openPostgres(url, { createIfMissing: true });
  opened.push({ database, url });
  return database;
}

const tableExists = async (database: Database, name: string) =>
  (
    await queryRows<{ t: string | null }>(database.db, sql`SELECT to_regclass(${name})::text AS t`)
  )[0]?.t != null;

describe.each(BACKENDS)("migrations on %s", (backend) => {
  it("applies the core schema once and records it in django_migrations", async () => {
    const database = await freshDatabase(backend);
    const core = coreMigrations();
    expect((await migrationStatus(database.db, [core]))[0]?.pending).toEqual(
      core.migrations.map((m) => m.name),
    );
    expect(await migrate(database.db, [core])).toEqual({
      lns: core.migrations.map((m) => m.name),
      lamindb: LAMINDB_2_9_MIGRATIONS,
    });
    expect(await migrate(database.db, [core])).toEqual({ lns: [] });
    const history = await queryRows<{ app: string; name: string }>(
      database.db,
      sql`SELECT app, name FROM django_migrations ORDER BY id`,
    );
    expect(history).toEqual([
      ...core.migrations.map((m) => ({ app: "lns", name: m.name })),
      ...LAMINDB_2_9_MIGRATIONS.map((name) => ({ app: "lamindb", name })),
    ]);
    for (const table of [
      "lamindb_artifact",
      "lamindb_storage",
      "lamindb_transform",
      "lamindb_run",
      "lamindb_collection",
      "lamindb_collectionartifact",
      "lamindb_feature",
      "lamindb_schema",
      "lamindb_schemafeature",
      "lamindb_ulabel",
      "lamindb_artifactulabel",
      "lamindb_record",
      "lamindb_project",
      "lamindb_artifactproject",
      "lamindb_jsonvalue",
      "lamindb_artifactjsonvalue",
      "lamindb_artifact_input_of_runs",
      "lamindb_user",
      "lamindb_space",
      "lamindb_branch",
    ]) {
      expect(await tableExists(database, table), table).toBe(true);
    }
    expect((await migrationStatus(database.db, [core]))[0]).toMatchObject({
      pending: [],
      python: { app: "lamindb", recorded: LAMINDB_2_9_MIGRATIONS, missing: [] },
    });
  });

  it("moves rows of an earlier build to its app, converts the history table, keeps others", async () => {
    const database = await freshDatabase(backend);
    // django_migrations as builds before LaminDB 2.9 parity made it (a serial key)
    await database.db.execute(sql`CREATE TABLE django_migrations (
      id serial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL,
      applied timestamptz NOT NULL DEFAULT now(), UNIQUE (app, name))`);
    await database.db.execute(sql`INSERT INTO django_migrations (app, name)
      VALUES ('toy', '0000_initial'), ('toy', '0100_someone_elses'), ('other', '0000_initial')`);
    const toy: MigrationSet = {
      app: "lns_toy",
      legacyApp: "toy",
      python: { app: "toy_py", after: "0001_second", names: ["0001_squashed"] },
      migrations: [
        { name: "0000_initial", statements: ["CREATE TABLE toy_first (id int)"] },
        { name: "0001_second", statements: ["CREATE TABLE toy_second (id int)"] },
      ],
    };
    expect((await migrationStatus(database.db, [toy]))[0]).toEqual({
      app: "lns_toy",
      applied: ["0000_initial"],
      pending: ["0001_second"],
      python: { app: "toy_py", recorded: [], missing: ["0001_squashed"] },
    });
    expect(await migrate(database.db, [toy])).toEqual({
      lns_toy: ["0001_second"],
      toy_py: ["0001_squashed"],
    });
    // 0000_initial was applied before: not again
    expect(await tableExists(database, "toy_first")).toBe(false);
    expect(await tableExists(database, "toy_second")).toBe(true);
    const rows = await queryRows<{ id: number; app: string; name: string }>(
      database.db,
      sql`SELECT id::int AS id, app, name FROM django_migrations ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 1, app: "lns_toy", name: "0000_initial" },
      { id: 2, app: "toy", name: "0100_someone_elses" },
      { id: 3, app: "other", name: "0000_initial" },
      { id: 4, app: "lns_toy", name: "0001_second" },
      { id: 5, app: "toy_py", name: "0001_squashed" },
    ]);
    const [id] = await queryRows<{ type: string; identity: string }>(
      database.db,
      sql`SELECT data_type AS type, is_identity AS identity FROM information_schema.columns
        WHERE table_name = 'django_migrations' AND column_name = 'id'`,
    );
    expect(id).toEqual({ type: "bigint", identity: "YES" });
    expect(await migrate(database.db, [toy])).toEqual({ lns_toy: [] });
  });

  it("records a module's rows for Python only once the rows they depend on are there", async () => {
    const database = await freshDatabase(backend);
    const core: MigrationSet = {
      app: "lns_core",
      python: { app: "core_py", after: "0000_core", names: ["0001_core_squashed"] },
      migrations: [{ name: "0000_core", statements: ["CREATE TABLE dep_core (id int)"] }],
    };
    const module: MigrationSet = {
      app: "lns_mod",
      python: {
        app: "mod_py",
        after: "0000_mod",
        names: ["0001_mod_squashed"],
        requires: { app: "core_py", name: "0001_core_squashed" },
      },
      migrations: [{ name: "0000_mod", statements: ["CREATE TABLE dep_mod (id int)"] }],
    };
    // a module enabled before the core is migrated: Python would find mod_py before core_py
    expect(await migrate(database.db, [module])).toEqual({ lns_mod: ["0000_mod"] });
    expect((await migrationStatus(database.db, [module]))[0]?.python?.missing).toEqual([
      "0001_mod_squashed",
    ]);
    expect(await migrate(database.db, [core, module])).toEqual({
      lns_core: ["0000_core"],
      core_py: ["0001_core_squashed"],
      lns_mod: [],
      mod_py: ["0001_mod_squashed"],
    });
  });

  it("changes nothing when a migration fails halfway", async () => {
    const database = await freshDatabase(backend);
    const broken: MigrationSet = {
      app: "broken_module",
      migrations: [
        { name: "0000_ok", statements: ["CREATE TABLE broken_module_ok (id int)"] },
        {
          name: "0001_bad",
          statements: [
            "CREATE TABLE broken_module_half (id int)",
            "ALTER TABLE nope ADD COLUMN x int",
          ],
        },
      ],
    };
    const err = await migrate(database.db, [broken]).catch((e) => e);
    expect(err.message).toMatch(/migration broken_module\/0001_bad failed/);
    expect(err.hint).toMatch(/nothing was changed/);
    expect(await tableExists(database, "broken_module_ok")).toBe(false);
    expect(await tableExists(database, "broken_module_half")).toBe(false);
    const [status] = await migrationStatus(database.db, [broken]);
    expect(status).toEqual({ app: "broken_module", applied: [], pending: ["0000_ok", "0001_bad"] });
  });
});

describe.runIf(BACKENDS.includes("postgres"))("migrations run by two processes at once", () => {
  it("apply the schema exactly once", async () => {
    const url = postgresUrl();
    const a = await openPostgres(url, { createIfMissing: true });
    const b = await openPostgres(url);
    opened.push({ database: a, url }, { database: b });
    const core = coreMigrations();
    const [ra, rb] = await Promise.all([migrate(a.db, [core]), migrate(b.db, [core])]);
    expect([...(ra.lns ?? []), ...(rb.lns ?? [])].sort()).toEqual(
      core.migrations.map((m) => m.name).sort(),
    );
    const history = await queryRows(
      a.db,
      sql`SELECT name FROM django_migrations WHERE app = 'lns'`,
    );
    expect(history).toHaveLength(core.migrations.length);
    const python = await queryRows(
      a.db,
      sql`SELECT name FROM django_migrations WHERE app = 'lamindb'`,
    );
    expect(python).toHaveLength(LAMINDB_2_9_MIGRATIONS.length);
  });
});
