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
  await assertStorageUnmanaged(storage);
  if (local && existsSync(root) && !statSync(root).isDirectory()) {
    throw new ValidationError(
      `storage ${root} is a file, not a folder`,
      "pass a folder path to --storage",
    );
  }

  const owner = ANONYMOUS.handle;
  const dataDir = opts.pgliteDir
    ? resolve(opts.pgliteDir)
    : local
      ? join(root, PGLITE_DIR)
      : join(laminHome(), "pglite", name);
  const settings = newInstanceSettings({
    owner,
    name,
    storageRoot: root,
    ...cloud?.settings,
    db: opts.db ? { kind: "postgres", url: opts.db } : { kind: "pglite", dataDir },
  });

  // Everything made below is undone if a later step fails.
  const createdRoot = local && !existsSync(root);
  const createdMeta = local && !existsSync(join(root, ".lamindb"));
  let store: InstanceStore | undefined;
  let lock: Lock | undefined;
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
    }
    store = await createInstanceStore({
      settings,
      storage,
      user: ANONYMOUS,
      ...(cloud ? { region: cloud.region } : {}),
    });
    saveInstanceSettings(settings);
    setCurrentInstance(name);
    return new Instance(settings, store.database, storage, store.storageRow, store.userRow, lock);
  } catch (error) {
    await store?.undo();
    lock?.release();
    if (createdRoot) rmSync(root, { recursive: true, force: true });
    else if (createdMeta) rmSync(join(root, ".lamindb"), { recursive: true, force: true });
    throw error;
  }
}

/** An instance's identity from its slug: LaminDB derives the id and uid from `owner/name`. */
export function newInstanceSettings(
  fields: Omit<InstanceSettings, "id" | "uid" | "createdAt">,
): InstanceSettings {
  const id = instanceIdFromSlug(`${fields.owner}/${fields.name}`);
  return { ...fields, id, uid: instanceUidFromId(id), createdAt: new Date().toISOString() };
}

/** A storage root belongs to one instance: its marker says which. */
export async function assertStorageUnmanaged(storage: StorageBackend): Promise<void> {
  const marker = await storage.readText(STORAGE_MARKER_KEY);
  if (marker !== undefined) {
    const slug = /instance_slug=(.*)/.exec(marker)?.[1] ?? "another instance";
    throw new ConflictError(
      `${storage.root} is already managed by ${slug}`,
      `choose another storage ${storage.type === "local" ? "folder" : "location"}, or connect to that instance`,
    );
  }
}

/** The first user of a new instance: LaminDB's 8-character base62 uid and a handle. */
export interface InstanceUser {
  uid: string;
  handle: string;
}

/** The steps of {@link createInstanceStore}, in order, for callers that report which failed. */
export type InstanceStoreStep = "database" | "migrate" | "seed" | "storage marker";

/** An instance's database, open and seeded, with its storage marked. */
export interface InstanceStore {
  database: Database;
  storageRow: t.StorageRow;
  userRow: t.UserRow;
  /** Close and remove what was made: a database created here, the marker. Never throws. */
  undo(): Promise<void>;
}

/**
 * The part of creating an instance that needs no local settings, shared by `lamin init` and the
 * hub's provisioner: create (if missing) and migrate the database, seed it with `user`, write
 * the storage marker. A pglite target needs its lock held by the caller. On failure, what was
 * made here is undone before the error is rethrown; `onStep` tells which step was running.
 */
export async function createInstanceStore(opts: {
  settings: InstanceSettings;
  storage: StorageBackend;
  user: InstanceUser;
  /** Region of cloud storage (else the host name is kept, as LaminDB does for local folders). */
  region?: string;
  /** The database was made by the caller (a provisioner): connect to it, never create it. */
  databaseExists?: boolean;
  onStep?: (step: InstanceStoreStep) => void;
}): Promise<InstanceStore> {
  const { settings, storage, onStep } = opts;
  if (!/^[0-9A-Za-z]{8}$/.test(opts.user.uid)) {
    throw new ValidationError(`invalid user uid '${opts.user.uid}'`, "use 8 base62 characters");
  }
  const db = settings.db;
  let database: (Database & { created?: boolean }) | undefined;
  let markerWritten = false;
  const undo = async () => {
    await database?.close().catch(() => {});
    if (db.kind === "postgres" && database?.created) await dropDatabase(db.url).catch(() => {});
    if (db.kind === "pglite" && database) rmSync(db.dataDir, { recursive: true, force: true });
    if (markerWritten) await storage.delete(STORAGE_MARKER_KEY).catch(() => {});
  };
  try {
    onStep?.("database");
    if (db.kind === "pglite") {
      database = await createMigratedPglite(db.dataDir, [coreMigrations()], templateDir());
    } else if (db.kind === "postgres") {
      database = await openPostgres(db.url, { createIfMissing: !opts.databaseExists, max: 2 });
      await assertEmptyDatabase(database, db.url);
      onStep?.("migrate");
      await migrate(database.db, [coreMigrations()]);
    } else {
      throw new ValidationError(`cannot create the database of a ${db.kind} instance here`);
    }
    onStep?.("seed");
    const { storageRow, userRow } = await seed(database, settings, storage, opts.region, opts.user);
    onStep?.("storage marker");
    markerWritten = true; // set first: a write that failed late may still have landed
    await storage.writeText(STORAGE_MARKER_KEY, markerText(storageRow.uid, settings));
    return { database, storageRow, userRow, undo };
  } catch (error) {
    await undo();
    throw error;
  }
}

/** Check that the bucket exists; what the settings and the storage row keep about it. */
export async function describeBucket(storage: S3Storage) {
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

/** LaminDB's initial rows: the owner user, space `all`, branches trash/archive/main, default storage. */
async function seed(
  database: Database,
  settings: InstanceSettings,
  storage: StorageBackend,
  region: string | undefined,
  user: InstanceUser,
) {
  return database.db.transaction(async (tx) => {
    const [userRow] = await tx
      .insert(t.user)
      .values({ uid: user.uid, handle: user.handle, name: null })
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
