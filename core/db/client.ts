/**
 * What every database driver yields: the same drizzle `Db` over the same schema, so registries
 * never know whether they run on PGlite, node-postgres or Neon. Drivers live beside this file
 * (pglite.ts, postgres.ts) so that a bundle takes only the one it uses.
 */
import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { ValidationError } from "../errors.js";
import type { Prelude } from "./prelude.js";

/**
 * Without drizzle's relational queries (`db.query.<table>`, never used here): with the schema
 * given, drizzle built its relations on every connection (2.3 ms) and a query builder per table
 * on every transaction.
 */
export type Db = PgDatabase<PgQueryResultHKT>;

/** Rows of a raw query; every driver we use answers `{ rows }`. */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

export interface Database {
  readonly db: Db;
  readonly driver: "pglite" | "postgres" | "neon";
  /**
   * The spaces this connection may read and write, when it is a restricted request's
   * transaction (space-policies.ts); absent: every space.
   */
  readonly spaces?: { read: readonly number[]; write: readonly number[] };
  /**
   * A transaction whose BEGIN and `begin.setup` take one round trip (postgres.ts); absent, as on
   * PGlite (no round trips): `transactionWith` runs them one after the other.
   */
  readonly transactionWith?: <T>(begin: Begin, fn: (tx: Db) => Promise<T>) => Promise<T>;
  close(): Promise<void>;
}

/** How a transaction begins (transactionWith). */
export interface Begin {
  /** One statement without parameters, run first in the transaction. */
  setup: string;
  /** BEGIN READ ONLY: a write fails. */
  readOnly?: boolean;
  /**
   * `setup` as named statements with parameters. With `readOnly`, over a network (postgres.ts),
   * nothing is begun: each statement goes behind these in its own round trip and implicit
   * transaction (prelude.ts), so that a read costs one round trip, not BEGIN, the read, COMMIT.
   */
  prelude?: readonly Prelude[];
}

/** `fn` in a transaction of `database` that starts with `begin.setup` (see Database). */
export function transactionWith<T>(
  database: Database,
  begin: Begin,
  fn: (tx: Db) => Promise<T>,
): Promise<T> {
  if (database.transactionWith) return database.transactionWith(begin, fn);
  return database.db.transaction(
    async (tx) => {
      await tx.execute(sql.raw(begin.setup));
      return fn(tx as unknown as Db);
    },
    begin.readOnly ? { accessMode: "read only" } : undefined,
  );
}

export interface PostgresTarget {
  url: URL;
  database: string;
}

export function parsePostgresUrl(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(
      `not a database URL: ${redact(url)}`,
      "use the form postgresql://user:password@host:5432/dbname",
    );
  }
  if (parsed.protocol !== "postgresql:" && parsed.protocol !== "postgres:") {
    throw new ValidationError(
      `unsupported database URL scheme '${parsed.protocol.replace(/:$/, "")}'`,
      "use postgresql://user:password@host:5432/dbname",
    );
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (!database) {
    throw new ValidationError(
      `the database URL names no database: ${redact(url)}`,
      "append the database name, e.g. postgresql://postgres@127.0.0.1:5432/mylab",
    );
  }
  return { url: parsed, database };
}

/** A URL safe to print: the password is masked. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]+):[^@/]+@/, "://$1:****@");
  }
}

/** The SQLSTATE of a driver error, wherever drizzle wrapped it. */
export function sqlState(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
