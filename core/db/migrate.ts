/**
 * One migrator for every driver. It applies drizzle-kit's SQL migrations (journal + `.sql` files,
 * split at `--> statement-breakpoint`) and records them in `django_migrations`, the table LaminDB
 * keeps its own history in. Each migration set (core, then modules) runs in one transaction under
 * an advisory lock: concurrent migrators wait, and a migration failing halfway changes nothing.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { LaminError } from "../errors.js";
import { type Db, queryRows } from "./client.js";

export interface Migration {
  name: string;
  statements: string[];
}

export interface MigrationSet {
  /** `app` column of django_migrations: `lamindb` for the core, the module name otherwise. */
  app: string;
  migrations: Migration[];
  /**
   * Runs in the same transaction after this call applied at least one of the set's migrations
   * (e.g. a module seeding its registries): if it fails, the migrations are undone too.
   */
  afterApply?: (tx: Db, applied: string[]) => Promise<void>;
}

const MIGRATION_LOCK = 7_348_211; // arbitrary, constant across processes

/** Read a drizzle-kit migrations folder (`meta/_journal.json` + `<tag>.sql`). */
export function readMigrationFolder(app: string, folder: string): MigrationSet {
  const journalPath = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as {
    entries: { idx: number; tag: string }[];
  };
  const migrations = [...journal.entries]
    .sort((a, b) => a.idx - b.idx)
    .map(({ tag }) => ({
      name: tag,
      statements: readFileSync(join(folder, `${tag}.sql`), "utf8")
        .split("--> statement-breakpoint")
        .map((s) => s.trim())
        .filter(Boolean),
    }));
  return { app, migrations };
}

/** The project's `migrations/` folder, found from wherever this module was loaded or bundled. */
export function migrationsRoot(): string {
  const fromEnv = process.env.LAMIN_MIGRATIONS_DIR;
  if (fromEnv) return fromEnv;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "migrations");
    if (existsSync(join(candidate, "instance", "meta", "_journal.json"))) return candidate;
    dir = dirname(dir);
  }
  throw new LaminError(
    "unavailable",
    "cannot find the migrations folder",
    "set LAMIN_MIGRATIONS_DIR to the package's migrations/ folder",
  );
}

/** The core's migrations, from `root` (default: {@link migrationsRoot}). */
export function coreMigrations(root = migrationsRoot()): MigrationSet {
  return readMigrationFolder("lamindb", join(root, "instance"));
}

/** A module's migrations (`migrations/<module>/`), recorded under the module's name as app. */
export function moduleMigrations(module: string, root = migrationsRoot()): MigrationSet {
  return readMigrationFolder(module, join(root, module));
}

/** The hub's own database (core/hub/schema.ts); recorded under its own app name. */
export function hubMigrations(): MigrationSet {
  return readMigrationFolder("lamin_hub", join(migrationsRoot(), "hub"));
}

export interface MigrationStatus {
  app: string;
  applied: string[];
  pending: string[];
}

async function ensureHistoryTable(db: Db): Promise<void> {
  await db.execute(sql`CREATE TABLE IF NOT EXISTS django_migrations (
    id serial PRIMARY KEY,
    app varchar(255) NOT NULL,
    name varchar(255) NOT NULL,
    applied timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app, name)
  )`);
}

async function appliedNames(db: Db, app: string): Promise<Set<string>> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`SELECT name FROM django_migrations WHERE app = ${app}`,
  );
  return new Set(rows.map((r) => r.name));
}

export async function migrationStatus(db: Db, sets: MigrationSet[]): Promise<MigrationStatus[]> {
  const [table] = await queryRows<{ t: string | null }>(
    db,
    sql`SELECT to_regclass('django_migrations')::text AS t`,
  );
  const hasHistory = table?.t != null;
  const out: MigrationStatus[] = [];
  for (const set of sets) {
    const done = hasHistory ? await appliedNames(db, set.app) : new Set<string>();
    out.push({
      app: set.app,
      applied: set.migrations.filter((m) => done.has(m.name)).map((m) => m.name),
      pending: set.migrations.filter((m) => !done.has(m.name)).map((m) => m.name),
    });
  }
  return out;
}

/** Apply what is pending; returns the names applied per app. */
export async function migrate(db: Db, sets: MigrationSet[]): Promise<Record<string, string[]>> {
  const appliedNow: Record<string, string[]> = {};
  for (const set of sets) {
    appliedNow[set.app] = await db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      // created under the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide
      await ensureHistoryTable(tx);
      const done = await appliedNames(tx, set.app);
      const names: string[] = [];
      for (const migration of set.migrations) {
        if (done.has(migration.name)) continue;
        for (const statement of migration.statements) {
          try {
            await tx.execute(sql.raw(statement));
          } catch (error) {
            throw new LaminError(
              "unavailable",
              `migration ${set.app}/${migration.name} failed: ${(error as Error).message}`,
              "nothing was changed; fix the migration or the database and run it again",
              { cause: error },
            );
          }
        }
        await tx.execute(
          sql`INSERT INTO django_migrations (app, name) VALUES (${set.app}, ${migration.name})`,
        );
        names.push(migration.name);
      }
      if (names.length > 0 && set.afterApply) await set.afterApply(tx, names);
      return names;
    });
  }
  return appliedNow;
}
