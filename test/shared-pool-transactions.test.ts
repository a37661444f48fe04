/**
 * A hub's instances share one budget of connections (core/db/connection-budget.ts); their pools
 * are the budget's, not the driver's. A transaction on such a pool, as on the driver's own, must
 * hold one connection from BEGIN to COMMIT, over both drivers: node-postgres, and Neon's (through
 * a local WebSocket-to-TCP proxy, as on Lambda). If its statements went through the pool one by one, each
 * on whichever connection is free, a restricted request's role and grants would be set on one
 * connection while its query ran on another as the tables' owner: every space visible.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, queryRows } from "../core/db/client.js";
import { ConnectionBudget } from "../core/db/connection-budget.js";
import { openPostgres } from "../core/db/postgres.js";
import { inSpaces } from "../core/db/space-policies.js";
import { initInstance } from "../core/setup.js";
import { postgresUrl, tempDir, useTempHome } from "./helpers.js";
import { startWsProxy, type WsProxy } from "./servers/ws-proxy.js";

useTempHome();

const url = postgresUrl();
let proxy: WsProxy;
const work = tempDir("lamin-shared-tx-");
let spaces: { all: number; secret: number };

beforeAll(async () => {
  proxy = await startWsProxy();
  process.env.LAMIN_NEON_WS_PROXY = proxy.address;
  const instance = await initInstance({
    storage: join(work, "storage"),
    name: "shared-tx",
    db: url,
  });
  await instance.spaces.create("secret");
  for (const [key, space] of [
    ["open.csv", "all"],
    ["hidden.csv", "secret"],
  ] as const) {
    writeFileSync(join(work, key), `${key}\n`);
    await instance.artifacts.save(join(work, key), { key, space });
  }
  spaces = {
    all: (await instance.spaces.resolve("all")).id,
    secret: (await instance.spaces.resolve("secret")).id,
  };
  await instance.db.execute(sql`CREATE TABLE tx_probe (n int)`);
  await instance.close();
}, 120_000);

afterAll(async () => {
  const admin = new pg.Client({ connectionString: postgresUrl("postgres") });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`);
  await admin.end();
  await proxy?.close();
  delete process.env.LAMIN_NEON_WS_PROXY;
});

const keys = async (database: Database) =>
  (
    await queryRows<{ key: string }>(
      database.db,
      sql`SELECT key FROM lamindb_artifact ORDER BY key`,
    )
  ).map((r) => r.key);

describe.each([
  ["pg", "a hub's shared budget"],
  ["neon", "a hub's shared budget"],
  ["pg", "the driver's own pool"],
  ["neon", "the driver's own pool"],
] as const)("transactions over the %s driver on %s", (driver, pool) => {
  let database: Database;
  beforeAll(async () => {
    database = await openPostgres(url, {
      driver,
      ...(pool === "a hub's shared budget" ? { shared: new ConnectionBudget({ max: 8 }) } : {}),
      max: 4,
    });
  });
  afterAll(() => database?.close());

  it("a transaction holds one connection from BEGIN to COMMIT, whatever else runs", async () => {
    const backendAndTx = sql`SELECT pg_backend_pid() AS pid, txid_current()::text AS tx`;
    const seen = await Promise.all(
      [0, 1].map(() =>
        database.db.transaction(async (tx) => {
          const first = (
            await queryRows<{ pid: number; tx: string }>(tx as never, backendAndTx)
          )[0];
          // others run meanwhile, on the same pool (of 4: two held by these transactions)
          await Promise.all([keys(database), keys(database)]);
          const second = (
            await queryRows<{ pid: number; tx: string }>(tx as never, backendAndTx)
          )[0];
          return { first, second };
        }),
      ),
    );
    for (const { first, second } of seen) expect(second).toEqual(first);
    // and no connection went back to the pool inside a transaction
    const open = await queryRows<{ n: number }>(
      database.db,
      sql`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    expect(open[0]?.n).toBe(0);
  });

  it("a failed transaction leaves nothing behind", async () => {
    await expect(
      database.db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO tx_probe VALUES (1)`);
        await Promise.all([keys(database), keys(database)]);
        await tx.execute(sql`INSERT INTO tx_probe VALUES (2)`);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow(/changed my mind/);
    const rows = await queryRows<{ n: number }>(
      database.db,
      sql`SELECT count(*)::int AS n FROM tx_probe`,
    );
    expect(rows[0]?.n).toBe(0);
  });

  it("a restricted request sees only its spaces while the owner's queries run beside it", async () => {
    const grants = { read: [spaces.all], write: [spaces.all] };
    const [restricted, owner] = await inSpaces(database, grants, async (scoped) =>
      // the owner's query first: it takes the most recently idle connection of the pool
      Promise.all([keys(database), keys(scoped)]).then(([o, r]) => [r, o] as const),
    );
    expect(restricted).toEqual(["open.csv"]);
    expect(owner).toEqual(["hidden.csv", "open.csv"]);
    // and the other way round
    const [restrictedFirst, ownerSecond] = await inSpaces(database, grants, async (scoped) =>
      Promise.all([keys(scoped), keys(database)]),
    );
    expect(restrictedFirst).toEqual(["open.csv"]);
    expect(ownerSecond).toEqual(["hidden.csv", "open.csv"]);
  });
});
