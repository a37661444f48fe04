/**
 * Database failures in the domain's terms, decided in one place for every driver (PGlite,
 * node-postgres, Neon) and every caller (registries, hub, migrations):
 * - the server is gone or restarting (refused, reset, terminated, SQLSTATE 08xxx, 57P0x, a
 *   closed PGlite): UnavailableError, so HTTP says 503 and the CLI exits 5;
 * - its disk is full (53100, ENOSPC from PGlite's files): InsufficientStorageError (507, exit 5);
 * - a value it cannot store (a NUL byte: 22021, 22P05): ValidationError (400, exit 2);
 * - a column or table it lacks (42703, 42P01: an instance of an earlier version, not yet
 *   migrated): UnavailableError naming `lamin migrate deploy`.
 * drizzle wraps every failed query in an error whose message holds the SQL and all of its
 * parameters (160 KB for a batch insert); messages made here never hold either, and errors
 * left as they are get a message without them.
 */
import { DrizzleQueryError } from "drizzle-orm/errors";
import { PgPreparedQuery } from "drizzle-orm/pg-core";
import {
  InsufficientStorageError,
  LaminError,
  UnavailableError,
  ValidationError,
} from "../errors.js";
import { ioError } from "../io-errors.js";
import { type Db, sqlState } from "./client.js";

/** Node's network errors: the server cannot be reached (or went away mid-conversation). */
const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** SQLSTATEs of a server that is going away or not taking connections. */
const GOING_AWAY = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down, in recovery)
  "57P05", // idle_session_timeout
  "53300", // too_many_connections
]);

/** What drivers say, without a code, when the connection ended or cannot be used. */
const GONE_MESSAGES = [
  /^Connection terminated/,
  /is not queryable/,
  /^timeout exceeded when trying to connect/,
  /^Cannot use a pool after calling end/,
  /^PGlite is closed/,
  /WebSocket (was )?closed|^WebSocket connection/i,
];

/** The driver's own message, one line and short: never SQL, never parameters. */
function reason(error: unknown): string {
  let e: unknown = error;
  // drizzle's wrapper has the SQL in its message; the driver's error is its cause
  while (e instanceof DrizzleQueryError && e.cause) e = e.cause;
  const text = e instanceof Error ? e.message : String((e as { message?: unknown })?.message ?? e);
  const line = text.split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

function causes(error: unknown): unknown[] {
  const out: unknown[] = [];
  let e: unknown = error;
  for (let i = 0; i < 5 && e && typeof e === "object"; i++) {
    out.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

/** The typed error for a database failure, or undefined when it is not one we classify. */
export function dbFault(error: unknown): LaminError | undefined {
  if (error instanceof LaminError) return error;
  // ours, met while taking a connection (a busy server: connection-budget.ts), wrapped by drizzle
  const ours = causes(error).find((e) => e instanceof LaminError);
  if (ours) return ours as LaminError;
  const state = sqlState(error);
  const options = { cause: error };
  if (state === "53100") {
    return new InsufficientStorageError(
      `the database's disk is full: ${reason(error)}`,
      "free space on the database's disk, then try again (nothing was changed)",
      options,
    );
  }
  if (state === "22021" || state === "22P05") {
    return new ValidationError(
      "a value holds a NUL byte (\\0) or a character the database cannot store",
      "remove NUL and other control characters from names, keys, descriptions and filter values",
      options,
    );
  }
  if (state === "22007" || state === "22008" || state === "22003") {
    return new ValidationError(
      `a value is out of range for the database: ${reason(error)}`,
      "check dates (YYYY-MM-DD, a real day) and numbers in what you sent",
      options,
    );
  }
  if (state === "42501" && /row-level security/.test(reason(error))) {
    // the space policies (space-policies.ts): a write into a space the caller may only read
    return new LaminError(
      "permission",
      "you may not write in that space",
      "ask an admin of the instance for the write role in the space (lamin collaborator space-add)",
      options,
    );
  }
  if (state === "42703" || state === "42P01") {
    // an instance made by an earlier version, used before `lamin migrate deploy`
    return new UnavailableError(
      `the instance's database lacks a column or table this version uses: ${reason(error)}`,
      "if the instance was made by an earlier version of lamindb-serverless, run `lamin migrate deploy` (on a hub: its operator)",
      options,
    );
  }
  const gone =
    (state !== undefined && (state.startsWith("08") || GOING_AWAY.has(state))) ||
    causes(error).some((e) => {
      const { code, message } = e as { code?: unknown; message?: unknown };
      if (typeof code === "string" && NETWORK.has(code)) return true;
      return typeof message === "string" && GONE_MESSAGES.some((re) => re.test(message));
    });
  if (gone) {
    return new UnavailableError(
      `the database is unavailable: ${reason(error)}`,
      "try again in a moment; if it persists, check that the database server runs",
      options,
    );
  }
  // PGlite's own files (Node's fs errors are storage's, classified where storage is written)
  const pgliteFs = causes(error).some((e) => (e as { name?: unknown }).name === "ErrnoError");
  const io = pgliteFs ? ioError(error, "the embedded database cannot write its files") : undefined;
  if (io) return io;
  if (causes(error).some((e) => /^Aborted\(/.test(String((e as Error)?.message ?? "")))) {
    // PGlite's WebAssembly stopped (a failed write of its own files is the usual cause)
    return new UnavailableError(
      "the embedded database stopped unexpectedly (PGlite aborted)",
      "check free space on the instance's disk, then run the command again",
      options,
    );
  }
  return undefined;
}

/** The error to throw instead of `error`: typed if classified, else without SQL in its message. */
export function asDbError(error: unknown): unknown {
  const typed = dbFault(error);
  if (typed) return typed;
  if (error instanceof DrizzleQueryError) {
    // keep the error (callers read its SQLSTATE through `cause`), drop the SQL from its message;
    // `query` and `params` stay on it for a debugger
    error.message = `the database refused a query: ${reason(error)}`;
  }
  return error;
}

let patched = false;

/**
 * Every query of every drizzle database runs through `PgPreparedQuery.queryWithCache`, which
 * is where drizzle wraps a driver's error: classify there, once for the whole process. What runs
 * outside it (taking a pooled connection, PGlite's own transactions) is classified by wrapping
 * `transaction`. Returns `db` for chaining.
 */
export function guardDb<T extends Db>(db: T): T {
  if (!patched) {
    const proto = PgPreparedQuery.prototype as unknown as {
      queryWithCache: (...args: unknown[]) => Promise<unknown>;
    };
    const original = proto.queryWithCache;
    proto.queryWithCache = async function (this: unknown, ...args: unknown[]) {
      try {
        return await original.apply(this, args);
      } catch (error) {
        throw asDbError(error);
      }
    };
    patched = true;
  }
  const transaction = db.transaction.bind(db);
  db.transaction = ((...args: Parameters<Db["transaction"]>) =>
    transaction(...args).catch((error: unknown) => {
      throw asDbError(error);
    })) as Db["transaction"];
  return db;
}
