/**
 * The part of creating an instance that needs no local settings, shared by `lamin init` (setup.ts)
 * and the hub's provisioner, which also runs in AWS Lambda: so nothing here may import PGlite or
 * other local-only code (an embedded database is made by a function the caller passes in).
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { sql } from "drizzle-orm";
import { type Database, queryRows, redact } from "./db/client.js";
import { coreMigrations, migrate } from "./db/migrate.js";
import { dropDatabase, openPostgres } from "./db/postgres.js";
import * as t from "./db/schema.js";
import { ConflictError, ValidationError } from "./errors.js";
import type { InstanceSettings } from "./settings.js";
import { ObjectStore } from "./storage/object-store.js";
import { STORAGE_MARKER_KEY, type StorageBackend } from "./storage/types.js";
import { instanceIdFromSlug, instanceUidFromId, randomBase62 } from "./uid.js";

/**
 * Settings of a new instance. Its id is LaminDB's uuid5 of the slug, which a hub keeps unique;
 * an embedded instance in a local folder passes `unique: true` for a random id (any folder may be
 * called `mydir`).
 */
export function newInstanceSettings(
  fields: Omit<InstanceSettings, "id" | "uid" | "createdAt">,
  opts: { unique?: boolean } = {},
): InstanceSettings {
  const id = opts.unique
    ? randomUUID().replaceAll("-", "")
    : instanceIdFromSlug(`${fields.owner}/${fields.name}`);
  return { ...fields, id, uid: instanceUidFromId(id), createdAt: new Date().toISOString() };
}

/** What a storage marker says: the storage row's uid and the instance that wrote it. */
export interface StorageMarker {
  storageUid: string;
  owner: string;
  name: string;
  id: string;
  uid: string;
}

/** The marker of a storage root, or undefined when none (or one this code cannot read) is there. */
export async function readStorageMarker(
  storage: StorageBackend,
): Promise<StorageMarker | undefined> {
  const text = await storage.readText(STORAGE_MARKER_KEY);
  if (text === undefined) return undefined;
  const field = (key: string) => new RegExp(`^${key}=(.+)$`, "m").exec(text)?.[1]?.trim();
  const storageUid = text.split("\n")[0]?.trim();
  const [owner, name] = (field("instance_slug") ?? "").split("/");
  const id = field("instance_id");
  const uid = field("instance_uid");
  if (!storageUid || !owner || !name || !id || !uid) return undefined;
  return { storageUid, owner, name, id, uid };
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
  /** Make the embedded database of a `pglite` target (local only, so injected by setup.ts). */
  createPglite?: (dataDir: string) => Promise<Database>;
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
    if (markerWritten) await storage.delete(STORAGE_MARKER_KEY).catch(() => {});
  };
  try {
    onStep?.("database");
    if (db.kind === "pglite" && opts.createPglite) {
      database = await opts.createPglite(db.dataDir);
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

/**
 * Check that the bucket of object storage exists; what the settings and the storage row keep
 * about it. Undefined for a local folder.
 */
export async function describeBucket(storage: StorageBackend) {
  if (!(storage instanceof ObjectStore)) return undefined;
  const { region: bucketRegion } = await storage.checkBucket();
  const region = bucketRegion ?? storage.defaultRegion;
  return {
    region,
    settings: {
      ...(storage.endpoint ? { storageEndpoint: storage.endpoint } : {}),
      ...(region ? { storageRegion: region } : {}),
    },
  };
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
