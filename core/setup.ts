/**
 * Local instances: create them (`lamin init`), remember them in the settings folder, and open
 * them again by name, embedded (PGlite in the storage folder) or on a Postgres server.
 */
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join, resolve } from "node:path";
import { sql } from "drizzle-orm";
import { type Database, queryRows, redact } from "./db/client.js";
import { coreMigrations, migrate } from "./db/migrate.js";
import { openPglite } from "./db/pglite.js";
import { acquireLock, type Lock } from "./db/pglite-lock.js";
import { createMigratedPglite } from "./db/pglite-template.js";
import { dropDatabase, openPostgres } from "./db/postgres.js";
import * as t from "./db/schema.js";
import { ConflictError, NotFoundError, ValidationError } from "./errors.js";
import { ANONYMOUS, attachInstance, Instance, type OpenOptions } from "./instance.js";
import {
  type InstanceSettings,
  listInstanceSettings,
  loadInstanceSettings,
  resolveInstanceSettings,
  saveInstanceSettings,
  setCurrentInstance,
  templateDir,
  validateInstanceName,
} from "./settings.js";
import { LocalStorage } from "./storage/local.js";
import { STORAGE_MARKER_KEY } from "./storage/types.js";
import { instanceIdFromSlug, instanceUidFromId, randomBase62 } from "./uid.js";

/** Where an embedded instance keeps its database, below the storage root. */
export const PGLITE_DIR = ".lamindb/pglite";
const PGLITE_LOCK = ".lamindb/pglite.lock";

export interface InitOptions extends OpenOptions {
  storage: string;
  name?: string;
  /** A Postgres URL; omitted = embedded PGlite inside the storage folder. */
  db?: string;
}

/** Create an instance: database, schema, initial rows, storage marker, settings. */
export async function initInstance(opts: InitOptions): Promise<Instance> {
  const root = parseLocalRoot(opts.storage);
  const name = validateInstanceName(
    opts.name ?? (opts.db ? databaseName(opts.db) : basename(root).toLowerCase()),
  );
  const existing = loadInstanceSettings(name);
  if (existing) {
    throw new ConflictError(
      `an instance named '${name}' already exists (storage ${existing.storageRoot})`,
      `connect to it with \`lamin connect ${name}\`, or pick another name with --name`,
    );
  }
  const storage = new LocalStorage(root);
  const marker = await storage.readText(STORAGE_MARKER_KEY);
  if (marker !== undefined) {
    const slug = /instance_slug=(.*)/.exec(marker)?.[1] ?? "another instance";
    throw new ConflictError(
      `${root} is already managed by ${slug}`,
      "choose another storage folder, or connect to that instance",
    );
  }
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new ValidationError(
      `storage ${root} is a file, not a folder`,
      "pass a folder path to --storage",
    );
  }

  const owner = ANONYMOUS.handle;
  const id = instanceIdFromSlug(`${owner}/${name}`);
  const settings: InstanceSettings = {
    owner,
    name,
    id,
    uid: instanceUidFromId(id),
    storageRoot: root,
    db: opts.db
      ? { kind: "postgres", url: opts.db }
      : { kind: "pglite", dataDir: join(root, PGLITE_DIR) },
    createdAt: new Date().toISOString(),
  };

  // Everything made below is undone if a later step fails.
  const createdRoot = !existsSync(root);
  const createdMeta = !existsSync(join(root, ".lamindb"));
  let database: (Database & { created?: boolean }) | undefined;
  let lock: Lock | undefined;
  try {
    mkdirSync(join(root, ".lamindb"), { recursive: true });
    if (settings.db.kind === "pglite") {
      if (existsSync(settings.db.dataDir)) {
        throw new ConflictError(
          `${settings.db.dataDir} already holds a database`,
          "choose another storage folder",
        );
      }
      lock = await acquireLock(join(root, PGLITE_LOCK), { purpose: "lamin init" });
      database = await createMigratedPglite(settings.db.dataDir, [coreMigrations()], templateDir());
    } else {
      database = await openPostgres(settings.db.url, { createIfMissing: true, max: 2 });
      await assertEmptyDatabase(database, settings.db.url);
      await migrate(database.db, [coreMigrations()]);
    }
    const { storageRow, userRow } = await seed(database, settings);
    await storage.writeText(STORAGE_MARKER_KEY, markerText(storageRow.uid, settings));
    saveInstanceSettings(settings);
    setCurrentInstance(name);
    return new Instance(settings, database, storage, storageRow, userRow, lock);
  } catch (error) {
    await database?.close().catch(() => {});
    if (settings.db.kind === "postgres" && database?.created) {
      await dropDatabase(settings.db.url).catch(() => {});
    }
    if (settings.db.kind === "pglite" && database)
      rmSync(settings.db.dataDir, { recursive: true, force: true });
    lock?.release();
    if (createdRoot) rmSync(root, { recursive: true, force: true });
    else if (createdMeta) rmSync(join(root, ".lamindb"), { recursive: true, force: true });
    throw error;
  }
}

/** Open a known instance by name (default: the current one). */
export async function openInstance(name?: string, opts: OpenOptions = {}): Promise<Instance> {
  const settings = resolveInstanceSettings(name);
  const storage = new LocalStorage(settings.storageRoot);
  let lock: Lock | undefined;
  let database: Database | undefined;
  try {
    if (settings.db.kind === "pglite") {
      if (!existsSync(settings.db.dataDir)) {
        throw new NotFoundError(
          `the database of '${settings.name}' is missing at ${settings.db.dataDir}`,
          "was the storage folder moved or deleted? Re-create the instance with `lamin init`",
        );
      }
      lock = await acquireLock(join(settings.storageRoot, PGLITE_LOCK), {
        ...(opts.purpose ? { purpose: opts.purpose } : {}),
        ...(opts.onWait ? { onWait: opts.onWait } : {}),
      });
      database = await openPglite(settings.db.dataDir);
    } else if (settings.db.kind === "postgres") {
      database = await openPostgres(settings.db.url);
    } else {
      throw new ValidationError(
        `'${settings.name}' is a remote instance (${settings.db.url})`,
        "reach it through its API: the CLI and sdk/ do this for you",
      );
    }
    // attachInstance finds the storage and user rows (or says which are missing)
    return await attachInstance(settings, database, storage, lock);
  } catch (error) {
    await database?.close().catch(() => {});
    lock?.release();
    throw error;
  }
}

export function knownInstances(): InstanceSettings[] {
  return listInstanceSettings();
}

function parseLocalRoot(storage: string): string {
  if (!storage) throw new ValidationError("no storage given", "pass --storage ./mydir");
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(storage)?.[1]?.toLowerCase();
  if (scheme && scheme !== "file") {
    throw new ValidationError(
      `storage '${storage}' is not supported yet: only local folders are`,
      "pass a local folder, e.g. --storage ./mydir",
    );
  }
  return resolve(scheme === "file" ? new URL(storage).pathname : storage);
}

function databaseName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, "")).toLowerCase();
  } catch {
    return "";
  }
}

async function assertEmptyDatabase(database: Database, url: string): Promise<void> {
  const [row] = await queryRows<{ t: string | null }>(
    database.db,
    // to_regclass is NULL when the table does not exist
    sql`SELECT to_regclass('lamindb_storage')::text AS t`,
  );
  if (row?.t) {
    throw new ConflictError(
      `the database ${redact(url)} already holds a LaminDB instance`,
      "connect to it, or pass another database name in --db",
    );
  }
}

/** LaminDB's initial rows: user, space `all`, branches trash/archive/main, default storage. */
async function seed(database: Database, settings: InstanceSettings) {
  return database.db.transaction(async (tx) => {
    const [userRow] = await tx
      .insert(t.user)
      .values({ uid: ANONYMOUS.uid, handle: ANONYMOUS.handle, name: null })
      .returning();
    if (!userRow) throw new Error("user row not created");
    const by = userRow.id;
    await tx.insert(t.space).values({ id: 1, uid: "aaaaaaaaaaaa", name: "all", createdById: by });
    await tx.insert(t.branch).values([
      { id: -1, uid: "tttttttttttt", name: "trash", createdById: by },
      { id: 0, uid: "aaaaaaaaaaaa", name: "archive", createdById: by },
      { id: 1, uid: "mmmmmmmmmmmm", name: "main", createdById: by },
    ]);
    // explicit ids above do not advance the sequences
    await tx.execute(sql`SELECT setval(pg_get_serial_sequence('lamindb_branch', 'id'), 1)`);
    await tx.execute(sql`SELECT setval(pg_get_serial_sequence('lamindb_space', 'id'), 1)`);
    const [storageRow] = await tx
      .insert(t.storage)
      .values({
        uid: randomBase62(12),
        root: settings.storageRoot,
        type: "local",
        region: hostname(),
        instanceUid: settings.uid,
        createdById: by,
      })
      .returning();
    if (!storageRow) throw new Error("storage row not created");
    return { storageRow, userRow };
  });
}

function markerText(storageUid: string, settings: InstanceSettings): string {
  return [
    storageUid,
    "creation info:",
    `instance_slug=${settings.owner}/${settings.name}`,
    `instance_id=${settings.id}`,
    `instance_uid=${settings.uid}`,
    "",
  ].join("\n");
}
