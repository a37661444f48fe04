/**
 * A Postgres server, reached with one of two drivers chosen from configuration:
 * - `pg` (node-postgres, TCP): laptops, servers, CI;
 * - `neon` (`@neondatabase/serverless`, Postgres over a WebSocket): AWS Lambda, where Neon's
 *   WebSocket endpoint suits short-lived, frozen-between-calls containers.
 * Both are pg-compatible (Pool, Client), so everything above this file is driver-agnostic.
 */
import { UnavailableError } from "../errors.js";
import {
  type Begin,
  type Database,
  type Db,
  type PostgresTarget,
  parsePostgresUrl,
  redact,
} from "./client.js";
import { ConnectionBudget, type DriverClient, ServerBusyError } from "./connection-budget.js";
import { asDbError, guardDb } from "./faults.js";
import {
  type DriverQueryClass,
  PrecededClient,
  type Prelude,
  type QueryClient,
} from "./prelude.js";

export type PostgresDriver = "pg" | "neon";

/** `LAMIN_DB_DRIVER` (pg | neon) decides; by default `neon` for Neon hosts, else `pg`. */
export function postgresDriverFor(url: string, env = process.env): PostgresDriver {
  const chosen = env.LAMIN_DB_DRIVER;
  if (chosen === "pg" || chosen === "neon") return chosen;
  if (chosen) {
    throw new UnavailableError(
      `LAMIN_DB_DRIVER is '${chosen}'`,
      "set it to 'pg' (node-postgres) or 'neon' (@neondatabase/serverless), or unset it",
    );
  }
  try {
    return new URL(url).hostname.endsWith(".neon.tech") ? "neon" : "pg";
  } catch {
    return "pg";
  }
}

/** What both drivers' Pool and Client offer, as far as this code uses them. */
interface Queryable {
  query(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}
interface PoolLike extends Queryable {
  connect(): Promise<Queryable & { release(error?: unknown): void }>;
  end(): Promise<void>;
  on(event: "error", listener: (error: Error) => void): unknown;
}
interface ClientLike extends Queryable {
  connect(): Promise<unknown>;
  end(): Promise<void>;
  on(event: "error" | "end", listener: (error?: Error) => void): unknown;
}

interface DriverModule {
  name: PostgresDriver;
  Pool: new (config: { connectionString: string; max: number }) => PoolLike;
  Client: new (config: {
    connectionString: string;
    connectionTimeoutMillis?: number;
    application_name?: string;
  }) => ClientLike;
  /** A drizzle database over a pool, or over one connection of it. */
  drizzle(client: Queryable): Db;
  /** drizzle's transaction over one connection's database, as its own `transaction` makes it. */
  Transaction: new (
    dialect: unknown,
    session: unknown,
    schema: undefined,
  ) => Db;
  /** The driver's own Query (`Client.Query`), for statements sent behind a prelude. */
  Query: DriverQueryClass;
}

async function loadDriver(driver: PostgresDriver): Promise<DriverModule> {
  if (driver === "neon") {
    const [{ configureNeon }, { drizzle, NeonTransaction }] = await Promise.all([
      import("./neon.js"),
      import("drizzle-orm/neon-serverless"),
    ]);
    const { Pool, Client } = await configureNeon();
    return {
      name: "neon",
      Pool: Pool as unknown as DriverModule["Pool"],
      Client: Client as unknown as DriverModule["Client"],
      drizzle: (client) => drizzle({ client: client as never }) as unknown as Db,
      Transaction: NeonTransaction as unknown as DriverModule["Transaction"],
      Query: (Client as unknown as { Query: DriverQueryClass }).Query,
    };
  }
  const [{ default: pg }, { drizzle, NodePgTransaction }] = await Promise.all([
    import("pg"),
    import("drizzle-orm/node-postgres"),
  ]);
  return {
    name: "pg",
    Pool: pg.Pool as unknown as DriverModule["Pool"],
    Client: pg.Client as unknown as DriverModule["Client"],
    drizzle: (client) => drizzle({ client: client as never }) as unknown as Db,
    Transaction: NodePgTransaction as unknown as DriverModule["Transaction"],
    Query: (pg.Client as unknown as { Query: DriverQueryClass }).Query,
  };
}

/**
 * Connect to a Postgres server; `createIfMissing` creates the database first. `shared`: the
 * pool's connections count against this process's budget for the server (serverBudget), or the
 * budget given, as a hub's instances do: many databases, one cap.
 */
export async function openPostgres(
  url: string,
  opts: {
    createIfMissing?: boolean;
    max?: number;
    driver?: PostgresDriver;
    shared?: true | ConnectionBudget;
    /** With `shared`: its idle connections are not closed for other databases' (the hub's own). */
    kept?: boolean;
  } = {},
): Promise<Database & { created: boolean }> {
  const target = parsePostgresUrl(url);
  const driver = await loadDriver(opts.driver ?? postgresDriverFor(url));
  let created = false;
  if (opts.createIfMissing) created = await createDatabaseIfMissing(driver, target);
  let pool: PoolLike;
  if (opts.shared) {
    const budget = opts.shared instanceof ConnectionBudget ? opts.shared : await serverBudget(url);
    const makeClient = () =>
      new driver.Client({
        connectionString: url,
        connectionTimeoutMillis: budget.acquireTimeoutMs,
        // who holds a connection, for pg_stat_activity
        application_name: `lamin hub ${process.pid}`,
      }) as unknown as DriverClient;
    pool = budget.pool(makeClient, opts.max ?? 4, {
      kept: opts.kept ?? false,
    }) as unknown as PoolLike;
  } else {
    pool = new driver.Pool({ connectionString: url, max: opts.max ?? 4 });
    // An idle connection dropped by the server must not crash the process; the next query
    // reconnects or reports the error where it can be handled.
    pool.on("error", () => {});
  }
  try {
    const probe = await pool.connect();
    probe.release();
  } catch (error) {
    await pool.end().catch(() => {});
    if (error instanceof ServerBusyError) throw error;
    throw cannotConnect(target, error);
  }
  const db = driver.drizzle(pool);
  const transactionWith = transactionsOnOneConnection(db, pool, driver);
  return {
    db: guardDb(db),
    driver: driver.name === "neon" ? "neon" : "postgres",
    created,
    transactionWith,
    close: () => pool.end(),
  };
}

/** A connection lent by a pool. */
type Lent = Awaited<ReturnType<PoolLike["connect"]>>;

/**
 * drizzle keeps a transaction on one connection only when it recognises the pool as one: Neon's
 * driver by `instanceof` its own Pool, node-postgres by a class name that a minified bundle
 * loses. A budget's pool is neither, and drizzle sent BEGIN, each statement and COMMIT through
 * it, each on whichever connection was free: no atomicity, connections handed back in an open
 * transaction, and a restricted request's role set on one connection while its query ran on
 * another, as the tables' owner. So every pool's transactions take one connection and run on a
 * drizzle database bound to it (made once per connection: connections outlive requests),
 * whatever drizzle would recognise.
 */
function transactionsOnOneConnection(
  db: Db,
  pool: PoolLike,
  driver: DriverModule,
): NonNullable<Database["transactionWith"]> {
  const bound = new WeakMap<object, Db>();
  const boundTo = (client: Queryable): Db => {
    let own = bound.get(client);
    if (!own) {
      own = driver.drizzle(client);
      bound.set(client, own);
    }
    return own;
  };
  db.transaction = (async (...args: Parameters<Db["transaction"]>) => {
    const client = await pool.connect();
    try {
      return await boundTo(client).transaction(...args);
    } finally {
      client.release();
    }
  }) as Db["transaction"];
  /** Per connection: a drizzle database whose statements go behind the preludes of its holder. */
  const preceded = new WeakMap<object, { db: Db; client: PrecededClient }>();
  const precededOn = (client: Lent) => {
    let own = preceded.get(client);
    if (!own) {
      const wrapped = new PrecededClient(client as unknown as QueryClient, driver.Query);
      own = { db: driver.drizzle(wrapped as unknown as Queryable), client: wrapped };
      preceded.set(client, own);
    }
    return own;
  };
  /**
   * A read-only "transaction" with a prelude begins nothing: each statement goes behind the
   * prelude, in its round trip and its implicit transaction (prelude.ts). A connection left in a
   * transaction (one `fn` began and did not end) is dropped, not handed to the next request.
   */
  const readBehind = async <T>(
    client: Lent,
    prelude: readonly Prelude[],
    fn: (tx: Db) => Promise<T>,
  ) => {
    const own = precededOn(client);
    own.client.ahead = prelude;
    let broken: unknown;
    try {
      return await fn(own.db);
    } catch (error) {
      throw asDbError(error);
    } finally {
      own.client.ahead = undefined;
      const status = (
        client as { getTransactionStatus?: () => string | null }
      ).getTransactionStatus?.();
      if (status === "T" || status === "E") broken = new Error("released inside a transaction");
      client.release(broken);
    }
  };
  /**
   * drizzle's transaction, with `begin.setup` sent in BEGIN's message (the simple protocol runs
   * both: one round trip, not two). Nested transactions are drizzle's savepoints, as in its own.
   */
  return async <T>(begin: Begin, fn: (tx: Db) => Promise<T>): Promise<T> => {
    let client: Lent;
    try {
      client = await pool.connect();
    } catch (error) {
      throw asDbError(error);
    }
    if (begin.readOnly && begin.prelude) return readBehind(client, begin.prelude, fn);
    try {
      const own = boundTo(client) as unknown as { dialect: unknown; session: unknown };
      const tx = new driver.Transaction(own.dialect, own.session, undefined);
      let result: T;
      try {
        await client.query(`BEGIN${begin.readOnly ? " READ ONLY" : ""}; ${begin.setup}`);
        result = await fn(tx);
      } catch (error) {
        // also when the setup failed after BEGIN: its transaction is open, and aborted
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      }
      await client.query("COMMIT");
      return result;
    } catch (error) {
      throw asDbError(error);
    } finally {
      client.release();
    }
  };
}

/** Budgets of this process, one per server (host and port), made on first use. */
const budgets = new Map<string, Promise<ConnectionBudget>>();

/**
 * The budget of connections this process shares among its pools on the server of `url`. Its
 * cap: LAMIN_HUB_MAX_CONNECTIONS, else half the server's max_connections (other clients need
 * some too). LAMIN_HUB_CONNECTION_WAIT_MS bounds the wait for a connection (default 10 s).
 */
export function serverBudget(url: string, env = process.env): Promise<ConnectionBudget> {
  const { url: parsed } = parsePostgresUrl(url);
  const key = `${parsed.hostname}:${parsed.port || "5432"}`;
  let budget = budgets.get(key);
  if (!budget) {
    budget = (async () => {
      const max = whole("LAMIN_HUB_MAX_CONNECTIONS", env) ?? "half the server's";
      const wait = whole("LAMIN_HUB_CONNECTION_WAIT_MS", env);
      return new ConnectionBudget({
        max,
        ...(wait !== undefined ? { acquireTimeoutMs: wait } : {}),
      });
    })();
    budgets.set(key, budget);
    budget.catch(() => budgets.delete(key)); // a failure is not remembered
  }
  return budget;
}

function whole(name: string, env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new UnavailableError(
      `${name} is '${raw}'`,
      `set ${name} to a whole number of at least 1, or unset it`,
    );
  }
  return n;
}

/**
 * Run `fn` on one connection of its own (for statements that cannot run in a transaction or a
 * pool, like CREATE DATABASE), with the driver configuration chooses.
 */
export async function withPostgresClient<T>(
  url: string,
  fn: (client: Queryable) => Promise<T>,
  opts: { driver?: PostgresDriver; onConnectError?: (error: unknown) => Error } = {},
): Promise<T> {
  const driver = await loadDriver(opts.driver ?? postgresDriverFor(url));
  const client = new driver.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw opts.onConnectError?.(error) ?? cannotConnect(parsePostgresUrl(url), error);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The same server's `postgres` database, where databases are created and dropped. */
function adminUrlOf(target: PostgresTarget): string {
  const adminUrl = new URL(target.url);
  adminUrl.pathname = "/postgres";
  return adminUrl.toString();
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function createDatabaseIfMissing(
  driver: DriverModule,
  target: PostgresTarget,
): Promise<boolean> {
  return withPostgresClient(
    adminUrlOf(target),
    async (client) => {
      try {
        const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
          target.database,
        ]);
        if (exists.rowCount) return false;
        await client.query(`CREATE DATABASE ${quoteIdentifier(target.database)}`);
        return true;
      } catch (error) {
        // Another process created it between our check and CREATE: that is fine.
        if ((error as { code?: string }).code === "42P04") return false;
        throw new UnavailableError(
          `could not create database '${target.database}': ${(error as Error).message}`,
          "create it yourself (createdb) or use a role with CREATEDB",
          { cause: error },
        );
      }
    },
    { driver: driver.name, onConnectError: (error) => cannotConnect(target, error) },
  );
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
  const target = parsePostgresUrl(url);
  await withPostgresClient(adminUrlOf(target), (client) =>
    client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(target.database)} WITH (FORCE)`),
  );
}
