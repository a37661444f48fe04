/** The embedded database: PGlite (Postgres compiled to WebAssembly) in a local folder. */
import type { Database, Db } from "./client.js";
import * as tables from "./schema.js";

const PGLITE_SHARED_BUFFERS = "32MB";

export interface PgliteDatabase extends Database {
  /** The whole data folder as a tarball, to seed new databases from (`loadDataDir`). */
  dump(): Promise<Blob>;
}

/**
 * Open (or create) an embedded PGlite database in `dataDir`; `seed` creates it from a dump
 * instead of running initdb. Callers guard the folder with a lock.
 */
export async function openPglite(dataDir: string, seed?: Blob): Promise<PgliteDatabase> {
  const { PGlite } = await import("@electric-sql/pglite");
  // Postgres zeroes its shared buffers at start: 128 MB (the default) took ~0.6-1 s of every open,
  // 32 MB takes ~0.25 s, and an embedded instance's working set fits.
  const startParams = [
    ...PGlite.defaultStartParams,
    "-c",
    `shared_buffers=${PGLITE_SHARED_BUFFERS}`,
  ];
  // Start opening before loading the driver: the two overlap.
  const opening = PGlite.create(dataDir, { startParams, ...(seed ? { loadDataDir: seed } : {}) });
  const { drizzle } = await import("drizzle-orm/pglite");
  const client = await opening;
  const db = drizzle({ client, schema: tables }) as unknown as Db;
  return {
    db,
    driver: "pglite",
    close: () => client.close(),
    dump: () => client.dumpDataDir("gzip"),
  };
}
