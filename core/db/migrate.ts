/**
 * One migrator for every driver. It applies drizzle-kit's SQL migrations (journal + `.sql` files,
 * split at `--> statement-breakpoint`) and records them in `django_migrations`, the table LaminDB
 * keeps its own history in, under our own app names (`lns` for the core, `lns_<module>` for a
 * module). Once a set has brought the schema to a state of LaminDB's, the rows Python LaminDB
 * expects for that state are recorded too (under `lamindb`, `bionty`), so that its
 * `lamin migrate deploy` finds nothing to do. Each migration set (core, then modules) runs in one
 * transaction under an advisory lock: concurrent migrators wait, and a migration failing halfway
 * changes nothing.
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

/**
 * The migrations Python's Django loader must find applied for a schema state of LaminDB's: its
 * squashed migrations and every migration they replace (Django marks a squashed migration applied
 * only when all it replaces are recorded, and records each of them when it applies one).
 */
export interface PythonRecords {
  /** `app` of the rows: `lamindb`, `bionty`. */
  app: string;
  /** Recorded once this migration of the set is applied (the schema is that state from then on). */
  after: string;
  names: string[];
  /**
   * A row these depend on (Django's `dependencies`): without it Python would find this app's
   * migrations applied before one they depend on and refuse the history as inconsistent. A module
   * enabled on an instance whose core is not migrated yet waits for `lamin migrate deploy`.
   */
  requires?: { app: string; name: string };
}

export interface MigrationSet {
  /** `app` column of django_migrations: `lns` for the core, `lns_<module>` for a module. */
  app: string;
  /**
   * The app this set's migrations were recorded under before (`lamindb`, `bionty`): rows there
   * with this set's migration names are this set's, and are moved to `app` on the next migrate.
   */
  legacyApp?: string;
  /** What Python LaminDB expects recorded once this set reached a state of its schema. */
  python?: PythonRecords;
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

/**
 * LaminDB 2.9.1's migrations (lamindb 760fdf9163d1 / tag 2.9.1 fa34c885): 2.9.1 squashes
 * 0177..0190 into `0190_squashed`, 2.10 squashes 0177..0193 into `0193_squashed`; with all of
 * them recorded, both find every migration applied (and their `check_replacements` nothing to add).
 */
export const LAMINDB_2_9_MIGRATIONS = [
  "0177_squashed",
  "0177_alter_artifactblock_artifact_and_more",
  "0178_v2_2",
  "0179_v2_2_part_2",
  "0180_v2_2_part_3",
  "0181_v2_2_part_4",
  "0182_v2_2_part_5",
  "0183_v2_2_part_6",
  "0184_alter_transformrecord_feature",
  "0185_alter_runrecord_feature",
  "0186_v2_4",
  "0187_v2_4_part_2",
  "0188_remove_record_prevent_record_type_cycle_and_more",
  "0189_v2_6",
  "0190_v2_6_1",
  "0190_squashed",
  "0191_artifactschema_unique_slot_schema",
  "0192_v2_9",
  "0193_v2_9_part_2",
  "0193_squashed",
];

/** The core's migrations, from `root` (default: {@link migrationsRoot}). */
export function coreMigrations(root = migrationsRoot()): MigrationSet {
  return {
    ...readMigrationFolder("lns", join(root, "instance")),
    legacyApp: "lamindb",
    python: { app: "lamindb", after: "0009_lamindb_2_9_triggers", names: LAMINDB_2_9_MIGRATIONS },
  };
}

/** A module's migrations (`migrations/<module>/`), recorded under `lns_<module>`. */
export function moduleMigrations(
  module: string,
  root = migrationsRoot(),
  python?: PythonRecords,
): MigrationSet {
  return {
    ...readMigrationFolder(`lns_${module}`, join(root, module)),
    legacyApp: module,
    ...(python ? { python } : {}),
  };
}

/** The hub's own database (core/hub/schema.ts); recorded under its own app name. */
export function hubMigrations(): MigrationSet {
  return readMigrationFolder("lamin_hub", join(migrationsRoot(), "hub"));
}

export interface MigrationStatus {
  app: string;
  applied: string[];
  pending: string[];
  /** Python LaminDB's rows for this set: recorded, and those it would still miss. */
  python?: { app: string; recorded: string[]; missing: string[] };
}

/**
 * django_migrations as Django 5 makes it (a bigint identity key), plus a unique (app, name) of
 * ours. Tables made by earlier builds (a serial key) are converted in place.
 */
async function ensureHistoryTable(db: Db): Promise<void> {
  await db.execute(sql`CREATE TABLE IF NOT EXISTS django_migrations (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    app varchar(255) NOT NULL,
    name varchar(255) NOT NULL,
    applied timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app, name)
  )`);
  // pg_attribute, not information_schema: this runs on every migrate, also when it does nothing
  const [id] = await queryRows<{ identity: string }>(
    db,
    sql`SELECT attidentity AS identity FROM pg_attribute
      WHERE attrelid = 'django_migrations'::regclass AND attname = 'id'`,
  );
  if (id && id.identity === "") {
    await db.execute(sql`DO $$
    DECLARE
      seq text := pg_get_serial_sequence('django_migrations', 'id');
      seq_last bigint;
      seq_called boolean;
    BEGIN
      EXECUTE format('SELECT last_value, is_called FROM %s', seq) INTO seq_last, seq_called;
      ALTER TABLE django_migrations ALTER COLUMN id DROP DEFAULT;
      EXECUTE format('DROP SEQUENCE %s', seq);
      ALTER TABLE django_migrations ALTER COLUMN id SET DATA TYPE bigint;
      ALTER TABLE django_migrations ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;
      PERFORM setval(pg_get_serial_sequence('django_migrations', 'id'), seq_last, seq_called);
    END
    $$`);
  }
}

interface History {
  /** The set's migrations recorded, under its app or (not yet moved) its legacy app. */
  applied: Set<string>;
  /** Some of them are still under the legacy app. */
  legacy: boolean;
  /** Python LaminDB's names recorded under the set's `python.app`. */
  python: Set<string>;
  /** The row `python.requires` names is recorded (or none is required). */
  requiresMet: boolean;
}

/** What django_migrations says of a set, in one query. */
async function history(db: Db, set: MigrationSet): Promise<History> {
  const requires = set.python?.requires;
  const apps = [set.app, set.legacyApp, set.python?.app, requires?.app].filter(
    (a): a is string => !!a,
  );
  const rows = await queryRows<{ app: string; name: string }>(
    db,
    sql`SELECT app, name FROM django_migrations WHERE app IN (${sql.join(
      apps.map((a) => sql`${a}`),
      sql`, `,
    )})`,
  );
  const ours = new Set(set.migrations.map((m) => m.name));
  const out: History = {
    applied: new Set(),
    legacy: false,
    python: new Set(),
    requiresMet: !requires,
  };
  for (const { app, name } of rows) {
    if (app === set.app) out.applied.add(name);
    if (app === set.legacyApp && ours.has(name)) {
      out.applied.add(name);
      out.legacy = true;
    }
    if (app === set.python?.app) out.python.add(name);
    if (app === requires?.app && name === requires.name) out.requiresMet = true;
  }
  return out;
}

/** Move this set's rows from its legacy app to its app (names it does not have stay). */
async function moveLegacyRows(tx: Db, set: MigrationSet): Promise<void> {
  if (!set.legacyApp || set.migrations.length === 0) return;
  const names = sql.join(
    set.migrations.map((m) => sql`${m.name}`),
    sql`, `,
  );
  await tx.execute(
    sql`UPDATE django_migrations SET app = ${set.app}
      WHERE app = ${set.legacyApp} AND name IN (${names})`,
  );
}

/** Record what Python LaminDB expects, once the set's schema is that state (idempotent). */
async function recordPython(tx: Db, set: MigrationSet, found: History): Promise<string[]> {
  const python = set.python;
  if (!python || !found.applied.has(python.after) || !found.requiresMet) return [];
  const missing = python.names.filter((n) => !found.python.has(n));
  for (const name of missing) {
    await tx.execute(
      sql`INSERT INTO django_migrations (app, name) VALUES (${python.app}, ${name})`,
    );
  }
  return missing;
}

export async function migrationStatus(db: Db, sets: MigrationSet[]): Promise<MigrationStatus[]> {
  const [table] = await queryRows<{ t: string | null }>(
    db,
    sql`SELECT to_regclass('django_migrations')::text AS t`,
  );
  const out: MigrationStatus[] = [];
  for (const set of sets) {
    const found =
      table?.t != null
        ? await history(db, set)
        : {
            applied: new Set<string>(),
            legacy: false,
            python: new Set<string>(),
            requiresMet: false,
          };
    const status: MigrationStatus = {
      app: set.app,
      applied: set.migrations.filter((m) => found.applied.has(m.name)).map((m) => m.name),
      pending: set.migrations.filter((m) => !found.applied.has(m.name)).map((m) => m.name),
    };
    if (set.python) {
      status.python = {
        app: set.python.app,
        recorded: set.python.names.filter((n) => found.python.has(n)),
        missing: set.python.names.filter((n) => !found.python.has(n)),
      };
    }
    out.push(status);
  }
  return out;
}

/**
 * Apply what is pending; returns the names applied per app, and the rows recorded for Python
 * LaminDB under theirs (`lamindb`, `bionty`) when any were.
 */
export async function migrate(db: Db, sets: MigrationSet[]): Promise<Record<string, string[]>> {
  const appliedNow: Record<string, string[]> = {};
  for (const set of sets) {
    appliedNow[set.app] = await db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      // created under the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide
      await ensureHistoryTable(tx);
      const found = await history(tx, set);
      if (found.legacy) await moveLegacyRows(tx, set);
      const done = found.applied;
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
        done.add(migration.name);
      }
      const recorded = await recordPython(tx, set, found);
      if (set.python && recorded.length > 0) appliedNow[set.python.app] = recorded;
      if (names.length > 0 && set.afterApply) await set.afterApply(tx, names);
      return names;
    });
  }
  return appliedNow;
}
