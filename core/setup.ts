/**
 * Local instances: create them (`lamin init`), remember them in the settings folder, and open
 * them again by name, embedded (PGlite in the storage folder, or on this machine for cloud
 * storage) or on a Postgres server.
 */
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Database } from "./db/client.js";
import { coreMigrations } from "./db/migrate.js";
import { openPglite } from "./db/pglite.js";
import { acquireLock, type Lock, pgliteLockPath } from "./db/pglite-lock.js";
import { createMigratedPglite } from "./db/pglite-template.js";
import { openPostgres } from "./db/postgres.js";
import { ConflictError, NotFoundError, ValidationError } from "./errors.js";
import { ANONYMOUS, attachInstance, Instance, type OpenOptions } from "./instance.js";
import {
  assertStorageUnmanaged,
  createInstanceStore,
  describeBucket,
  type InstanceStore,
  newInstanceSettings,
  readStorageMarker,
} from "./instance-store.js";
import { ioError } from "./io-errors.js";
import { enableModules, parseModuleNames } from "./modules/index.js";
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
import { assertRootFree } from "./storage/roots.js";

/** Where an embedded instance keeps its database, below a local storage root. */
export const PGLITE_DIR = ".lamindb/pglite";

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
  /** Modules to enable, e.g. `["bionty"]` (their migrations are applied and data seeded). */
  modules?: string[];
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
  const modules = parseModuleNames(opts.modules); // unknown names fail before anything is made
  // a folder that holds an embedded instance already (another machine's, or settings that were
  // lost): take it back as it is rather than refuse it
  if (local && !opts.db && !opts.pgliteDir && !modules.length) {
    const found = await adoptLocalInstance(root, opts.name ? { name: opts.name } : {});
    if (found?.adopted) return openInstance(found.settings.name, opts);
    if (found) {
      throw new ConflictError(
        `${root} is already managed by ${found.settings.owner}/${found.settings.name}`,
        `connect to it with \`lamin connect ${found.settings.name}\``,
      );
    }
  }
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
  // before anything is created: the bucket must be there (and tells its region); a folder must
  // not hold or lie inside another instance's storage, or hold the settings folder
  const cloud = await describeBucket(storage);
  if (local) await assertRootFree(root, listInstanceSettings(), laminHome());
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
  const settings = newInstanceSettings(
    {
      owner,
      name,
      storageRoot: root,
      ...cloud?.settings,
      db: opts.db ? { kind: "postgres", url: opts.db } : { kind: "pglite", dataDir },
    },
    // an embedded instance in a folder is known by its folder, and any folder may be `mydir`: a
    // random id; on Postgres or in a bucket the slug names it (a deployed function finds it so)
    { unique: local && !opts.db },
  );

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
      lock = await acquireLock(pgliteLockPath(settings.db.dataDir), { purpose: "lamin init" });
    }
    store = await createInstanceStore({
      settings,
      storage,
      user: ANONYMOUS,
      ...(cloud ? { region: cloud.region } : {}),
      createPglite: (dataDir) => createMigratedPglite(dataDir, [coreMigrations()], templateDir()),
    });
    if (modules.length) {
      await enableModules({ db: store.database.db, user: store.userRow }, modules);
    }
    saveInstanceSettings(settings);
    setCurrentInstance(name);
    return new Instance(settings, store.database, storage, store.storageRow, store.userRow, lock);
  } catch (error) {
    await store?.undo();
    // the database folder did not exist before (checked above, under the lock)
    if (lock && settings.db.kind === "pglite") {
      rmSync(settings.db.dataDir, { recursive: true, force: true });
    }
    lock?.release();
    if (createdRoot) rmSync(root, { recursive: true, force: true });
    else if (createdMeta) rmSync(join(root, ".lamindb"), { recursive: true, force: true });
    throw error;
  }
}

/**
 * Remember the embedded instance whose storage folder is `root` (its marker and its database
 * `.lamindb/pglite` are there), under the name of its marker or `name`, and make it current.
 * Undefined when the folder holds no such instance; an instance known here already is returned
 * as it is (`adopted: false`, and not made current).
 */
export async function adoptLocalInstance(
  root: string,
  opts: { name?: string } = {},
): Promise<{ settings: InstanceSettings; adopted: boolean } | undefined> {
  const storage = openStorage(root);
  if (storage.type !== "local") return undefined;
  const dataDir = join(storage.root, PGLITE_DIR);
  const marker = existsSync(dataDir) ? await readStorageMarker(storage) : undefined;
  if (!marker) return undefined;
  const same = knownInstances().find((s) => s.uid === marker.uid && s.storageRoot === storage.root);
  if (same) return { settings: same, adopted: false };
  const name = validateInstanceName(opts.name ?? marker.name);
  const existing = loadInstanceSettings(name);
  if (existing) {
    throw new ConflictError(
      `${storage.root} holds instance ${marker.owner}/${marker.name}, but another instance is known here as '${name}' (storage ${existing.storageRoot})`,
      "pass --name to remember this one under another name",
    );
  }
  const settings: InstanceSettings = {
    owner: marker.owner,
    name,
    id: marker.id,
    uid: marker.uid,
    storageRoot: storage.root,
    db: { kind: "pglite", dataDir },
    createdAt: new Date().toISOString(),
  };
  saveInstanceSettings(settings);
  setCurrentInstance(name);
  return { settings, adopted: true };
}

/** Open a known instance by name (default: the current one). */
export async function openInstance(name?: string, opts: OpenOptions = {}): Promise<Instance> {
  const settings = resolveInstanceSettings(name);
  const storage = openStorage(settings.storageRoot, storageOptions(settings));
  const { database, lock } = await openDatabase(settings, opts);
  try {
    // attachInstance finds the storage and user rows (or says which are missing)
    const instance = await attachInstance(settings, database, storage, lock);
    if (settings.branch && settings.branch !== "main" && !opts.ignoreSavedBranch) {
      await instance.useBranch(settings.branch).catch((error: unknown) => {
        throw new NotFoundError(
          `the current branch '${settings.branch}' of '${settings.name}' is gone`,
          "switch to another: lamin switch main",
          { cause: error },
        );
      });
    }
    return instance;
  } catch (error) {
    await database.close().catch(() => {});
    lock?.release();
    throw error;
  }
}

/** An instance's database alone, for work that must not read its registries first. */
export interface InstanceDatabase {
  settings: InstanceSettings;
  readonly db: Database["db"];
  close(): Promise<void>;
}

/**
 * Open a known instance's database without reading its registries: `lamin migrate` must work
 * while the core schema is behind what this build's registries expect.
 */
export async function openInstanceDatabase(
  name?: string,
  opts: OpenOptions = {},
): Promise<InstanceDatabase> {
  const settings = resolveInstanceSettings(name);
  const { database, lock } = await openDatabase(settings, opts);
  return {
    settings,
    db: database.db,
    async close() {
      try {
        await database.close();
      } finally {
        lock?.release();
      }
    },
  };
}

async function openDatabase(
  settings: InstanceSettings,
  opts: OpenOptions,
): Promise<{ database: Database; lock?: Lock }> {
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
      const dataDir = settings.db.dataDir;
      lock = await acquireLock(pgliteLockPath(dataDir), {
        ...(opts.purpose ? { purpose: opts.purpose } : {}),
        ...(opts.onWait ? { onWait: opts.onWait } : {}),
      }).catch((error: unknown) => {
        throw ioError(error, `the embedded database in ${dataDir} cannot start`) ?? error;
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
    return lock ? { database, lock } : { database };
  } catch (error) {
    await database?.close().catch(() => {});
    lock?.release();
    throw error;
  }
}

export function knownInstances(): InstanceSettings[] {
  return listInstanceSettings();
}

/** The instance name a database URL gives by default (its database name, lower-cased). */
export function databaseName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, "")).toLowerCase();
  } catch {
    return "";
  }
}
