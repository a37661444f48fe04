/**
 * Instance databases of a laptop hub (`lamin hub serve` with its database on PGlite and no
 * Postgres server or Neon configured): one PGlite folder per instance below the hub's folder,
 * opened by the hub process itself, which serves them. Local only: the deployed functions never
 * import this (test/bundle.test.ts), so PGlite stays out of their bundles.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { coreMigrations } from "../db/migrate.js";
import { openPglite } from "../db/pglite.js";
import { acquireLock, pgliteLockPath } from "../db/pglite-lock.js";
import { createMigratedPglite } from "../db/pglite-template.js";
import { ConflictError } from "../errors.js";
import type { Instance } from "../instance.js";
import { templateDir } from "../settings.js";
import { instanceIdFromSlug } from "../uid.js";
import type { HubInstanceRecord } from "./hub.js";
import { openRecordedInstance } from "./instances.js";
import { type DatabaseProvisioner, pgliteDirOf, pgliteUrl } from "./provision.js";

export class PgliteProvisioner implements DatabaseProvisioner {
  /** `dir`: the folder that holds the instances' databases (`<hub dir>/instances`). */
  constructor(private readonly dir: string) {}

  async create(owner: string, name: string): Promise<{ url: string }> {
    // the slug's id keeps `a-b/c` and `a/b-c` apart, as the Postgres provisioner's names do
    const id = instanceIdFromSlug(`${owner}/${name}`).slice(0, 8);
    const dataDir = join(this.dir, `${owner}--${name}--${id}`);
    if (existsSync(dataDir)) {
      throw new ConflictError(
        `a database for '${owner}/${name}' exists already in ${this.dir}`,
        "remove that folder if it is a leftover, or choose another name",
      );
    }
    return { url: pgliteUrl(dataDir) };
  }

  async createPglite(dataDir: string) {
    mkdirSync(this.dir, { recursive: true });
    return createMigratedPglite(dataDir, [coreMigrations()], templateDir());
  }

  async drop(url: string): Promise<void> {
    const dataDir = pgliteDirOf(url);
    if (!dataDir) return;
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(pgliteLockPath(dataDir), { force: true });
  }
}

/**
 * Open an instance recorded with a `pglite:` database: this process takes the folder's lock for
 * as long as the hub keeps it open (another process waits, as for any embedded instance).
 */
export async function openEmbeddedRecord(record: HubInstanceRecord): Promise<Instance> {
  const dataDir = pgliteDirOf(record.db_url);
  if (!dataDir) return openRecordedInstance(record);
  const lock = await acquireLock(pgliteLockPath(dataDir), { purpose: "lamin hub serve" });
  try {
    return await openRecordedInstance(record, { database: () => openPglite(dataDir), lock });
  } catch (error) {
    lock.release();
    throw error;
  }
}
