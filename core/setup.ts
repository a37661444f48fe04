/**
 * Local instances: create them (`lamin init`), remember them in the settings folder, and open
 * them again by name, embedded (PGlite in the storage folder, or on this machine for cloud
 * storage) or on a Postgres server.
 */
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
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
  laminHome,
  listInstanceSettings,
  loadInstanceSettings,
  resolveInstanceSettings,
  saveInstanceSettings,
  setCurrentInstance,
  storageOptions,
  templateDir,
  validateInstanceName,
} from "./settings.js";
import { openStorage } from "./storage/open.js";
import { S3Storage } from "./storage/s3.js";
import { STORAGE_MARKER_KEY, type StorageBackend } from "./storage/types.js";
import { instanceIdFromSlug, instanceUidFromId, randomBase62 } from "./uid.js";

/** Where an embedded instance keeps its database, below a local storage root. */
export const PGLITE_DIR = ".lamindb/pglite";

/** The lock file that guards an embedded database, beside its folder. */
const pgliteLock = (dataDir: string) => `${dataDir}.lock`;

export interface InitOptions extends OpenOptions {
  /** A local folder, or `s3://bucket/prefix`. */
  storage: string;
  name?: string;
  /** A Postgres URL; omitted = embedded PGlite (see `pgliteDir`). */
  db?: string;
  /** S3-compatible endpoint URL for `s3://` storage (default: AWS_ENDPOINT_URL_S3, or AWS). */
  endpoint?: string;
  region?: string;
  /**
   * Folder of the embedded database. Default: `<storage>/.lamindb/pglite` for a local folder;
   * `<LAMIN_HOME>/pglite/<name>` on this machine for cloud storage.
   */
  pgliteDir?: string;
}

/** Create an instance: database, schema, initial rows, storage marker, settings. */
export async function initInstance(opts: InitOptions): Promise<Instance> {
  if (!opts.storage) throw new ValidationError("no storage given", "pass --storage ./mydir");
  const storage = openStorage(opts.storage, {
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.region ? { region: opts.region } : {}),
  });
  const { root } = storage;
  const local = storage.type === "local";
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
  // before anything is created: the bucket must be there (and tells its region)
  const cloud = storage instanceof S3Storage ? await describeBucket(storage) : undefined;
  const marker = await storage.readText(STORAGE_MARKER_KEY);
  if (marker !== undefined) {
    const slug = /instance_slug=(.*)/.exec(marker)?.[1] ?? "another instance";
    throw new ConflictError(
      `${root} is already managed by ${slug}`,
      `choose another storage ${local ? "folder" : "location"}, or connect to that instance`,
    );
  }
  if (local && existsSync(root) && !statSync(root).isDirectory()) {
    throw new ValidationError(
      `storage ${root} is a file, not a folder`,
      "pass a folder path to --storage",
    );
  }

  const owner = ANONYMOUS.handle;
  const id = instanceIdFromSlug(`${owner}/${name}`);
  const dataDir = opts.pgliteDir
    ? resolve(opts.pgliteDir)
    : local
      ? join(root, PGLITE_DIR)
      : join(laminHome(), "pglite", name);
  const settings: InstanceSettings = {
    owner,
    name,
    id,
    uid: instanceUidFromId(id),
    storageRoot: root,
    ...cloud?.settings,
    db: opts.db ? { kind: "postgres", url: opts.db } : { kind: "pglite", dataDir },
    createdAt: new Date().toISOString(),
  };

  // Everything made below is undone if a later step fails.
  const createdRoot = local && !existsSync(root);
  const createdMeta = local && !existsSync(join(root, ".lamindb"));
  let database: (Database & { created?: boolean }) | undefined;
  let lock: Lock | undefined;
  let markerWritten = false;
  try {
    if (local) mkdirSync(join(root, ".lamindb"), { recursive: true });
    if (settings.db.kind === "pglite") {
      if (existsSync(settings.db.dataDir)) {
        throw new ConflictError(
          `${settings.db.dataDir} already holds a database`,
          local ? "choose another storage folder" : "remove that folder, or pick another --name",
        );
      }
      mkdirSync(dirname(settings.db.dataDir), { recursive: true });
      lock = await acquireLock(pgliteLock(settings.db.dataDir), { purpose: "lamin init" });
      database = await createMigratedPglite(settings.db.dataDir, [coreMigrations()], templateDir());
    } else {
      database = await openPostgres(settings.db.url, { createIfMissing: true, max: 2 });
      await assertEmptyDatabase(database, settings.db.url);
      await migrate(database.db, [coreMigrations()]);
    }
    const { storageRow, userRow } = await seed(database, settings, storage, cloud?.region);
    markerWritten = true; // set first: a write that failed late may still have landed
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
    if (markerWritten) await storage.delete(STORAGE_MARKER_KEY).catch(() => {});
    if (createdRoot) rmSync(root, { recursive: true, force: true });
    else if (createdMeta) rmSync(join(root, ".lamindb"), { recursive: true, force: true });
    throw error;
  }
}

/** Check that the bucket exists; what the settings and the storage row keep about it. */
async function describeBucket(storage: S3Storage) {
  const { region: bucketRegion } = await storage.checkBucket();
  const region = bucketRegion ?? storage.region;
  return {
    region,
    settings: {
      ...(storage.endpoint ? { storageEndpoint: storage.endpoint } : {}),
      storageRegion: region,
    },
  };
}

/** Open a known instance by name (default: the current one). */
export async function openInstance(name?: string, opts: OpenOptions = {}): Promise<Instance> {
  const settings = resolveInstanceSettings(name);
  const storage = openStorage(settings.storageRoot, storageOptions(settings));
  let lock: Lock | undefined;
  let database: Database | undefined;
  try {
    if (settings.db.kind === "pglite") {
      if (!existsSync(settings.db.dataDir)) {
        throw new NotFoundError(
          `the database of '${settings.name}' is missing at ${settings.db.dataDir}`,
          "was it moved or deleted? Re-create the instance with `lamin init`",
        );
      }
      lock = await acquireLock(pgliteLock(settings.db.dataDir), {
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
async function seed(
  database: Database,
  settings: InstanceSettings,
  storage: StorageBackend,
  region: string | undefined,
) {
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
        type: storage.type,
        // LaminDB keeps the host of a local folder in `region`
        region: region ?? hostname(),
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
