/**
 * What every database driver yields: the same drizzle `Db` over the same schema, so registries
 * never know whether they run on PGlite, node-postgres or Neon. Drivers live beside this file
 * (pglite.ts, postgres.ts) so that a bundle takes only the one it uses.
 */
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { ValidationError } from "../errors.js";
import type * as tables from "./schema.js";

export type Tables = typeof tables;
export type Db = PgDatabase<PgQueryResultHKT, Tables>;

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
  close(): Promise<void>;
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
