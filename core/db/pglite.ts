/** The embedded database: PGlite (Postgres compiled to WebAssembly) in a local folder. */
import { readFile, statfs } from "node:fs/promises";
import type { PGliteOptions } from "@electric-sql/pglite";
import { InsufficientStorageError, UnavailableError } from "../errors.js";
import type { Database, Db } from "./client.js";
import { dbFault, guardDb } from "./faults.js";
import { usePreparedStatements } from "./pglite-statements.js";
import { pgliteSettings } from "./pglite-tuning.js";

export interface PgliteDatabase extends Database {
  /** The whole data folder as a tarball, to seed new databases from (`loadDataDir`). */
  dump(): Promise<Blob>;
}

/**
 * Open (or create) an embedded PGlite database in `dataDir`; `seed` creates it from a dump
 * instead of running initdb. Callers guard the folder with a lock.
 */
export async function openPglite(dataDir: string, seed?: Blob): Promise<PgliteDatabase> {
  // Off the main thread while PGlite's JavaScript loads. Starting it earlier still, as the CLI's
  // first step for `ls` (before commander and the command's modules load), was measured (issue
  // 20, second shift): peak memory +5 MiB (127 vs 122 MiB, the 9 MB of bytes live while the
  // modules load), and no wall or CPU gain that a loaded machine could show. Not kept.
  const compiling = pgliteWasm();
  const { PGlite } = await import("@electric-sql/pglite");
  // Postgres zeroes its shared buffers at start: 128 MB (the default) took ~0.6-1 s of every open,
  // 32 MB takes ~0.25 s and an instance's working set fits; a CLI command takes less
  // (pglite-tuning.ts).
  const startParams = [...PGlite.defaultStartParams, ...pgliteSettings()];
  const pgliteWasmModule = await compiling;
  // Start opening before loading the driver: the two overlap.
  const opening = PGlite.create(dataDir, {
    startParams,
    ...(pgliteWasmModule ? { pgliteWasmModule } : {}),
    ...(seed ? { loadDataDir: seed } : {}),
  });
  const { drizzle } = await import("drizzle-orm/pglite");
  const client = await opening.catch(async (error: unknown) => {
    throw await cannotStart(dataDir, error);
  });
  // LAMIN_PGLITE_PREPARED=0 turns kept statements off (benchmarks compare the two)
  if (process.env.LAMIN_PGLITE_PREPARED !== "0") usePreparedStatements(client);
  const db = guardDb(drizzle({ client }) as unknown as Db);
  return {
    db,
    driver: "pglite",
    close: () => client.close(),
    dump: () => client.dumpDataDir("gzip"),
  };
}

type WasmModule = NonNullable<PGliteOptions["pgliteWasmModule"]>;
/** Node's WebAssembly: ES2023's lib declares its types but not the global itself. */
const { WebAssembly: wasm } = globalThis as unknown as {
  WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> };
};
let compiled: Promise<WasmModule | undefined> | undefined;

/**
 * PGlite's WebAssembly (9 MB), compiled once per process from the file beside its entry point.
 * Left to PGlite, the file's bytes stay referenced until Postgres has started, and the peak
 * memory of a short command holds both them and Postgres's pages; compiled here, the bytes are
 * garbage before Postgres starts (~3 MiB lower peak for `lamin ls`). Undefined when the file is
 * not where this version of PGlite keeps it: PGlite then loads it itself, as before.
 */
function pgliteWasm(): Promise<WasmModule | undefined> {
  compiled ??= (async () => {
    try {
      const url = new URL("pglite.wasm", import.meta.resolve("@electric-sql/pglite"));
      return await wasm.compile(await readFile(url));
    } catch {
      return undefined;
    }
  })();
  return compiled;
}

/** Postgres needs room for a new WAL segment (16 MiB) and more to start and recover. */
const ROOM_TO_START = 64 * 1024 * 1024;

/**
 * Why PGlite did not start, in words: it answers "failed to initialize properly" (its log, with
 * the reason, is not ours to read) or throws a bare file-system error object.
 */
async function cannotStart(dataDir: string, error: unknown): Promise<Error> {
  const typed = dbFault(error);
  if (typed && typed.kind !== "unavailable") return typed;
  const free = await statfs(dataDir)
    .then((s) => s.bavail * s.bsize)
    .catch(() => undefined);
  if (free !== undefined && free < ROOM_TO_START) {
    return new InsufficientStorageError(
      `the embedded database in ${dataDir} cannot start: its disk is full (${Math.floor(free / 1024 / 1024)} MiB free)`,
      "free at least 64 MiB on that disk, then run the command again (no data was lost)",
      { cause: error },
    );
  }
  return new UnavailableError(
    `the embedded database in ${dataDir} cannot start: ${error instanceof Error ? error.message : "PGlite failed"}`,
    "run the command again; if it keeps failing, its files may be damaged: restore the folder from a backup",
    { cause: error },
  );
}
