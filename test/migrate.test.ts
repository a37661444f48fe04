/** The migrator: idempotent, all-or-nothing per set, safe when two processes run it at once. */
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { type Database, queryRows } from "../core/db/client.js";
import { coreMigrations, type MigrationSet, migrate, migrationStatus } from "../core/db/migrate.js";
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
      lamindb: core.migrations.map((m) => m.name),
    });
    expect(await migrate(database.db, [core])).toEqual({ lamindb: [] });
    const history = await queryRows<{ app: string; name: string }>(
      database.db,
      sql`SELECT app, name FROM django_migrations ORDER BY id`,
    );
    expect(history).toEqual(core.migrations.map((m) => ({ app: "lamindb", name: m.name })));
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
    expect((await migrationStatus(database.db, [core]))[0]?.pending).toEqual([]);
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
    expect([...(ra.lamindb ?? []), ...(rb.lamindb ?? [])].sort()).toEqual(
      core.migrations.map((m) => m.name).sort(),
    );
    const history = await queryRows(
      a.db,
      sql`SELECT name FROM django_migrations WHERE app = 'lamindb'`,
    );
    expect(history).toHaveLength(core.migrations.length);
  });
});
