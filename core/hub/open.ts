/**
 * Open a hub database where it lives: a Postgres URL (created if missing), or an embedded PGlite
 * folder for a hub on this machine. Deployed functions use `hubOn` with their own connection.
 */
import { type HubOptions, hubOn, type OpenHub } from "./hub.js";

export async function openHub(
  target: string | { pgliteDir: string },
  opts: HubOptions = {},
): Promise<OpenHub> {
  if (typeof target === "string") {
    const { openPostgres } = await import("../db/postgres.js");
    // the hub's own connections count against the same cap as its instances' (same server),
    // and are kept: every request through the hub needs them
    return hubOn(
      await openPostgres(target, { createIfMissing: true, shared: true, kept: true }),
      opts,
    );
  }
  const [{ openPglite }, { acquireLock }] = await Promise.all([
    import("../db/pglite.js"),
    import("../db/pglite-lock.js"),
  ]);
  // one process per PGlite folder, as for instances
  const lock = await acquireLock(`${target.pgliteDir}.lock`, { purpose: "lamin hub" });
  const release = () => lock.release();
  let database: Awaited<ReturnType<typeof openPglite>>;
  try {
    database = await openPglite(target.pgliteDir);
  } catch (error) {
    release();
    throw error;
  }
  return hubOn(database, opts, release); // releases the lock itself if migrating fails
}
