/** A Postgres server reached with node-postgres (`pg`). */
import { UnavailableError } from "../errors.js";
import { type Database, type Db, type PostgresTarget, parsePostgresUrl, redact } from "./client.js";
import * as tables from "./schema.js";

/** Connect to a Postgres server; `createIfMissing` creates the database first. */
export async function openPostgres(
  url: string,
  opts: { createIfMissing?: boolean; max?: number } = {},
): Promise<Database & { created: boolean }> {
  const [{ default: pg }, { drizzle }] = await Promise.all([
    import("pg"),
    import("drizzle-orm/node-postgres"),
  ]);
  const target = parsePostgresUrl(url);
  let created = false;
  if (opts.createIfMissing) created = await createDatabaseIfMissing(pg, target);
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 4 });
  // An idle connection dropped by the server must not crash the process; the next query
  // reconnects or reports the error where it can be handled.
  pool.on("error", () => {});
  try {
    const probe = await pool.connect();
    probe.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw cannotConnect(target, error);
  }
  const db = drizzle({ client: pool, schema: tables }) as unknown as Db;
  return { db, driver: "postgres", created, close: () => pool.end() };
}

async function createDatabaseIfMissing(
  pg: typeof import("pg").default,
  target: PostgresTarget,
): Promise<boolean> {
  const adminUrl = new URL(target.url);
  adminUrl.pathname = "/postgres";
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  try {
    await client.connect();
  } catch (error) {
    throw cannotConnect(target, error);
  }
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
      target.database,
    ]);
    if (exists.rowCount) return false;
    await client.query(`CREATE DATABASE "${target.database.replaceAll('"', '""')}"`);
    return true;
  } catch (error) {
    // Another process created it between our check and CREATE: that is fine.
    if ((error as { code?: string }).code === "42P04") return false;
    throw new UnavailableError(
      `could not create database '${target.database}': ${(error as Error).message}`,
      "create it yourself (createdb) or use a role with CREATEDB",
      { cause: error },
    );
  } finally {
    await client.end().catch(() => {});
  }
}

function cannotConnect(target: PostgresTarget, error: unknown): UnavailableError {
  return new UnavailableError(
    `cannot connect to Postgres at ${redact(target.url.toString())}: ${(error as Error).message}`,
    "check that the server runs and the URL, user and password are right",
    { cause: error },
  );
}

/** Drop a database created by a failed `init`, so nothing half-made stays behind. */
export async function dropDatabase(url: string): Promise<void> {
  const { default: pg } = await import("pg");
  const target = parsePostgresUrl(url);
  const adminUrl = new URL(target.url);
  adminUrl.pathname = "/postgres";
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  try {
    await client.query(
      `DROP DATABASE IF EXISTS "${target.database.replaceAll('"', '""')}" WITH (FORCE)`,
    );
  } finally {
    await client.end();
  }
}
