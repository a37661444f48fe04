/**
 * Per-account instances of the hub: a database of their own (on the hub's Postgres server, or on
 * Neon), migrated and seeded with the owner as user, storage marked, then recorded in the hub.
 * Provisioning is all or nothing: a failed step undoes the steps before it.
 */
import { existsSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "../db/client.js";
import { ConflictError, LaminError, NotFoundError, ValidationError } from "../errors.js";
import {
  assertStorageUnmanaged,
  createInstanceStore,
  describeBucket,
  type InstanceStore,
  type InstanceStoreStep,
  newInstanceSettings,
} from "../instance-store.js";
import { LocalStorage } from "../storage/local.js";
import { openStorage } from "../storage/open.js";
import type { Hub, HubInstancePublic } from "./hub.js";
import { validateHandle, validateHubInstanceName } from "./names.js";
import { NeonProvisioner } from "./neon.js";
import { PostgresProvisioner } from "./postgres-provisioner.js";
import { assertFreshFolder, type StoragePolicy } from "./storage-policy.js";

export { NeonProvisioner, PostgresProvisioner };

/** Where instance databases come from; `create` returns a URL the hub can connect with. */
export interface DatabaseProvisioner {
  /** A new, empty database for `owner/name`; ConflictError when it exists and holds data. */
  create(owner: string, name: string): Promise<{ url: string }>;
  /** Remove a database made by `create`. */
  drop(url: string): Promise<void>;
  /** Embedded databases (`create` answers a `pglite:` URL): make one, migrated. */
  createPglite?(dataDir: string): Promise<Database>;
}

/** How the hub records an embedded (PGlite) instance database: `pglite:<absolute folder>`. */
export const pgliteUrl = (dataDir: string) => `pglite:${dataDir}`;

/** The folder of a `pglite:` database URL, or undefined for a server's URL. */
export const pgliteDirOf = (url: string) =>
  url.startsWith("pglite:") ? url.slice("pglite:".length) : undefined;

export type ProvisionStep = "create database" | InstanceStoreStep | "record in hub";

/** What a failed step says when its error is not ours to show (a driver's, with SQL in it). */
const STEP_FAILED: Record<ProvisionStep, string> = {
  "create database": "the instance's database could not be created",
  database: "the instance's database could not be opened",
  migrate: "the instance's database could not be migrated",
  seed: "the instance's first rows could not be written",
  "storage marker": "the storage could not be written",
  "record in hub": "the hub could not record the instance",
};

/**
 * Provisioning failed at `step`; nothing made before it is left behind. The message is for the
 * caller (over HTTP too): one short sentence, never SQL, parameters, URLs or passwords. The
 * cause stays attached for the hub's own log ({@link provisionLogEntry}).
 */
export class ProvisionError extends LaminError {
  constructor(
    readonly slug: string,
    readonly step: ProvisionStep,
    cause: unknown,
  ) {
    const inner = cause instanceof LaminError ? cause : undefined;
    super(
      inner?.kind ?? "unavailable",
      `provisioning '${slug}' failed at step '${step}': ${(inner && shortMessage(inner.message)) || STEP_FAILED[step]}`,
      inner?.hint ??
        "nothing was kept: try again; if it persists, tell the hub's operator (the hub's log names the cause)",
      { cause },
    );
  }
}

/**
 * A typed error's message as a caller may see it: its first line, before any driver text
 * ("Failed query: ..."), database URLs withheld, at most 200 characters. Empty when nothing is
 * left.
 */
function shortMessage(message: string): string {
  const first = (message.split("\n")[0] ?? "").split(/:?\s*Failed query:/)[0] ?? "";
  const withheld = first.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s@/]*@\S*/gi, "(a URL)");
  const noDatabase = withheld.replace(/\bpostgres(?:ql)?:\/\/\S*/gi, "(a database URL)");
  return noDatabase.length > 200 ? `${noDatabase.slice(0, 197)}...` : noDatabase.trim();
}

/**
 * What the hub's operator sees of a failed provisioning in its log: the step and every cause's
 * message, with the passwords of URLs masked.
 */
export function provisionLogEntry(error: ProvisionError): Record<string, unknown> {
  const causes: string[] = [];
  for (let e: unknown = error.cause; e && causes.length < 4; e = (e as Error).cause) {
    causes.push(String((e as Error).message ?? e).replace(/(:\/\/[^:/@\s]*:)[^@\s]*@/g, "$1****@"));
  }
  return { level: "error", action: "provision", instance: error.slug, step: error.step, causes };
}

export interface ProvisionInput {
  owner: string;
  name: string;
  /** An absolute folder or `s3://bucket/prefix` inside the policy's areas; absent: its default. */
  storageRoot?: string;
  /** Accepted only when it is the endpoint the operator configured for the root's area. */
  storageEndpoint?: string;
}

/**
 * Create `owner/name`: database, schema, owner as user, storage marker, hub record. The storage
 * goes where `policy` allows, and nothing is made before every check passed.
 */
export async function provisionInstance(
  hub: Hub,
  provisioner: DatabaseProvisioner,
  input: ProvisionInput,
  policy: StoragePolicy,
): Promise<HubInstancePublic> {
  const { owner, name } = input;
  validateHandle(owner);
  validateHubInstanceName(name);
  const slug = `${owner}/${name}`;
  const account = await hub.account(owner); // NotFoundError for an unknown owner
  // Everything that can be refused is checked before anything is created.
  if (await instanceExists(hub, owner, name)) {
    throw new ConflictError(`the instance '${slug}' exists`, "choose another name");
  }
  const placed = policy.place(owner, name, {
    root: input.storageRoot,
    endpoint: input.storageEndpoint,
  });
  if (await hub.instanceOverlapping(placed.root)) {
    throw new LaminError(
      "permission",
      `the storage '${placed.root}' overlaps another instance's storage`,
      "name a location outside every instance's storage",
    );
  }
  // the endpoint is the operator's (policy): the only place this hub sends storage requests
  const storage = openStorage(placed.root, placed.endpoint ? { endpoint: placed.endpoint } : {});
  if (storage.type === "local") assertFreshFolder(placed.root);
  const cloud = await describeBucket(storage);
  await assertStorageUnmanaged(storage);

  let step: ProvisionStep = "create database";
  let url: string | undefined;
  let store: InstanceStore | undefined;
  const folder = storage instanceof LocalStorage ? storage.root : undefined;
  const folderExisted = folder !== undefined && existsSync(folder);
  try {
    url = (await provisioner.create(owner, name)).url;
    const dataDir = pgliteDirOf(url);
    const settings = newInstanceSettings({
      owner,
      name,
      storageRoot: storage.root,
      ...cloud?.settings,
      db: dataDir ? { kind: "pglite", dataDir } : { kind: "postgres", url },
    });
    store = await createInstanceStore({
      settings,
      storage,
      user: { uid: account.uid, handle: account.handle },
      ...(cloud ? { region: cloud.region } : {}),
      databaseExists: true,
      ...(provisioner.createPglite
        ? { createPglite: (dir: string) => provisioner.createPglite?.(dir) as Promise<Database> }
        : {}),
      onStep: (s) => {
        step = s;
      },
    });
    step = "record in hub";
    const record = await hub.recordInstance({
      owner,
      name,
      storageRoot: storage.root,
      ...(cloud?.settings.storageEndpoint
        ? { storageEndpoint: cloud.settings.storageEndpoint }
        : {}),
      dbUrl: url,
    });
    await store.database.close();
    return record;
  } catch (error) {
    await store?.undo(); // closes the database and removes the marker it wrote
    if (url) await provisioner.drop(url).catch(() => {});
    // and the folders the marker went into, so that running it again finds the folder fresh
    if (folder) removeEmptyFolders(folder, folderExisted);
    throw new ProvisionError(slug, step, error);
  }
}

/**
 * Remove `owner/name`: its hub record (collaborators go with it), then its database. The bytes in
 * its storage, marker included, are left: they may be the only copy, and deleting them is for
 * the owner to decide.
 */
export async function deprovisionInstance(
  hub: Hub,
  provisioner: DatabaseProvisioner,
  owner: string,
  name: string,
): Promise<HubInstancePublic> {
  const { db_url, owner_id: _, ...record } = await hub.deleteInstance(owner, name);
  await provisioner.drop(db_url);
  return record;
}

/** Neon when NEON_API_KEY is set, else the Postgres server of DATABASE_URL. */
export function provisionerFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseProvisioner {
  if (env.NEON_API_KEY) {
    if (!env.NEON_PROJECT_ID) {
      throw new ValidationError(
        "NEON_API_KEY is set but NEON_PROJECT_ID is not",
        "set NEON_PROJECT_ID to the Neon project that holds the instance databases",
      );
    }
    return new NeonProvisioner({
      apiKey: env.NEON_API_KEY,
      projectId: env.NEON_PROJECT_ID,
      ...(env.NEON_API_URL ? { apiUrl: env.NEON_API_URL } : {}),
    });
  }
  if (env.DATABASE_URL) return new PostgresProvisioner(env.DATABASE_URL);
  throw new ValidationError(
    "no database server to create instance databases on",
    "set DATABASE_URL to a Postgres server (a role with CREATEDB), or NEON_API_KEY and NEON_PROJECT_ID",
  );
}

/** Remove `<root>/.lamindb` and (if it was made here) `root`, each only when empty. */
function removeEmptyFolders(root: string, rootExisted: boolean): void {
  for (const dir of [join(root, ".lamindb"), ...(rootExisted ? [] : [root])]) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty, or not there: either way not ours to remove
    }
  }
}

async function instanceExists(hub: Hub, owner: string, name: string): Promise<boolean> {
  try {
    await hub.instance(owner, name);
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}
