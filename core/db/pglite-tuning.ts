/**
 * How much memory PGlite's Postgres takes at start, per process. Postgres zeroes its shared
 * buffers when it starts, and the pages it zeroes stay resident: 32 MB keeps a server's (or an
 * SDK script's) working set in memory; a `lamin` command opens the database, asks a few queries
 * and exits, and its pages are in the OS's cache anyway (PGlite reads its files through Node).
 * With 1 MB (128 pages) `lamin ls` starts ~0.1 s of CPU sooner and peaks ~31 MiB lower.
 * Only memory changes: durability (WAL, checkpoints) does not depend on it.
 *
 * This module imports nothing, so the CLI can choose before it loads any database code.
 */

/** Servers and SDK processes: an instance's working set fits. */
export const LONG_LIVED_SHARED_BUFFERS = "32MB";
/** A command that opens the database once and exits. */
export const SHORT_COMMAND_SHARED_BUFFERS = "1MB";

let sharedBuffers = LONG_LIVED_SHARED_BUFFERS;

/** Called by the CLI for every command but `serve`, `dev` and `hub serve`. */
export function tunePgliteForShortCommand(): void {
  sharedBuffers = SHORT_COMMAND_SHARED_BUFFERS;
}

/**
 * Postgres sizes its shared memory for max_connections backends (100 by default), though PGlite
 * runs one: 10 keeps 3 MB fewer pages resident. Its lock table, sized from the same number,
 * still holds thousands of locks, far more than a migration takes in one transaction.
 */
const SHORT_COMMAND_CONNECTIONS = "10";

/** The `-c` settings added to PGlite's own start parameters. */
export function pgliteSettings(): string[] {
  const settings = ["-c", `shared_buffers=${sharedBuffers}`];
  if (sharedBuffers === SHORT_COMMAND_SHARED_BUFFERS) {
    settings.push("-c", `max_connections=${SHORT_COMMAND_CONNECTIONS}`);
  }
  return settings;
}
