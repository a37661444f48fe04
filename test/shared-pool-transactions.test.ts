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
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Database, queryRows, sqlState, transactionWith } from "../core/db/client.js";
import { ConnectionBudget } from "../core/db/connection-budget.js";
import { openPglite } from "../core/db/pglite.js";
import { openPostgres } from "../core/db/postgres.js";
import { artifact } from "../core/db/schema.js";
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

  it("a restricted read sends each statement behind its grants: one message, one answer, no BEGIN or COMMIT", async () => {
    const grants = { read: [spaces.all], write: [spaces.all] };
    await inSpaces(database, grants, keys); // the policies checked, once per database
    const { Client } = driver === "pg" ? pg : await import("@neondatabase/serverless");
    const Query = (Client as unknown as { Query: { prototype: object } }).Query;
    const query = Client.prototype.query as (...args: unknown[]) => Promise<unknown>;
    const sent: { submittable: { text?: string }; textWhenSent: string | undefined }[] = [];
    const spy = vi.spyOn(Client.prototype, "query").mockImplementation(function (
      this: unknown,
      ...args: unknown[]
    ) {
      const submittable = args[0] as { text?: string; submit?: unknown };
      sent.push({ submittable, textWhenSent: submittable.text });
      return query.apply(this, args) as never;
    });
    const answered = vi.spyOn(
      Query.prototype as { handleReadyForQuery(): void },
      "handleReadyForQuery",
    );
    try {
      expect(await inSpaces(database, grants, keys, { readOnly: true })).toEqual(["open.csv"]);
      expect(sent).toHaveLength(1);
      const [{ submittable, textWhenSent } = expect.unreachable()] = sent;
      expect(typeof (submittable as { submit?: unknown }).submit).toBe("function");
      // the grants go first, as parameters, then the statement: one Sync, one ReadyForQuery
      expect(textWhenSent).toMatch(/^SELECT set_config\('transaction_read_only', 'on', true\)/);
      expect(textWhenSent).toContain("set_config('lamin.spaces_read', $1, true)");
      expect(submittable.text).toMatch(/^select key from lamindb_artifact/i);
      expect(answered).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
      answered.mockRestore();
    }
  });

  it("a read's grants end with its statement: every connection goes back as the owner's", async () => {
    const grants = { read: [spaces.all], write: [spaces.all] };
    const who = sql`SELECT current_user AS who,
      coalesce(current_setting('lamin.spaces_read', true), '') AS read,
      current_setting('transaction_read_only') AS ro`;
    type Who = { who: string; read: string; ro: string };
    let kept: Database | undefined;
    const [inside] = await inSpaces(
      database,
      grants,
      (scoped) => {
        kept = scoped;
        return queryRows<Who>(scoped.db, who);
      },
      { readOnly: true },
    );
    expect(inside).toEqual({ who: "lamin_spaces", read: String(spaces.all), ro: "on" });
    // a transaction begun in a read (BEGIN and COMMIT go as they are): its statements too
    const [nested] = await inSpaces(
      database,
      grants,
      (scoped) => scoped.db.transaction((tx) => queryRows<Who>(tx as never, who)),
      { readOnly: true },
    );
    expect(nested).toEqual(inside);
    // a statement sent once the request has given its connection back: refused, not sent bare
    const late = await keys(kept as Database).catch((e: unknown) => e);
    expect(String(late)).toMatch(/after its request ended/);
    // each connection of the pool at once (4), as the owner's transactions take them
    const after = await Promise.all(
      [0, 1, 2, 3].map(() => database.db.transaction((tx) => queryRows<Who>(tx as never, who))),
    );
    for (const [row] of after) {
      expect(row?.who).not.toBe("lamin_spaces");
      expect(row?.read).toBe("");
      expect(row?.ro).toBe("off");
    }
  });

  it("a statement whose prelude fails never runs, and its connection still knows what it parsed", async () => {
    // one connection, so that each step runs where the last left off
    const single = await openPostgres(url, {
      driver,
      ...(pool === "a hub's shared budget" ? { shared: new ConnectionBudget({ max: 2 }) } : {}),
      max: 1,
    });
    try {
      const read = (divisor: string) =>
        transactionWith(
          single,
          {
            setup: "SELECT 1",
            readOnly: true,
            prelude: [{ name: "probe_prelude", text: "SELECT 1 / $1::int", values: [divisor] }],
          },
          // a named statement the connection has not parsed: the failed prelude skips its Parse
          (tx) => tx.select({ key: artifact.key }).from(artifact).prepare("probe_named").execute(),
        );
      expect(sqlState(await read("0").catch((e: unknown) => e))).toBe("22012");
      expect(await read("1")).toHaveLength(2);
      expect(await read("1")).toHaveLength(2);
      expect(sqlState(await read("0").catch((e: unknown) => e))).toBe("22012");
      expect(await read("1")).toHaveLength(2);
    } finally {
      await single.close();
    }
  });

  it("read-only transactions refuse writes, and each ends before the next begins", async () => {
    const grants = { read: [spaces.all], write: [spaces.all] };
    const refused = await inSpaces(
      database,
      grants,
      (scoped) => scoped.db.execute(sql`INSERT INTO tx_probe VALUES (7)`),
      { readOnly: true },
    ).catch((e: unknown) => e);
    expect(sqlState(refused)).toBe("25006"); // read_only_sql_transaction
    // each ends with its statement: were one left open, the next would join its transaction
    const starts: string[] = [];
    for (let i = 0; i < 12; i++) {
      const [row] = await inSpaces(
        database,
        grants,
        (scoped) =>
          queryRows<{ at: string }>(scoped.db, sql`SELECT now()::text AS at, pg_sleep(0.002)`),
        { readOnly: true },
      );
      starts.push(row?.at as string);
    }
    expect(new Set(starts).size).toBe(starts.length);
    const rows = await queryRows<{ n: number }>(
      database.db,
      sql`SELECT count(*)::int AS n FROM tx_probe`,
    );
    expect(rows[0]?.n).toBe(0);
  });

  it("a setup that fails after BEGIN rolls back, and the connection goes back clean", async () => {
    for (const readOnly of [false, true]) {
      const failed = await transactionWith(database, { setup: "SELECT 1/0", readOnly }, async () =>
        expect.unreachable("the transaction's work must not run"),
      ).catch((e: unknown) => e);
      expect(sqlState(failed)).toBe("22012"); // division_by_zero
    }
    // every connection of the pool, at once: none is left in the aborted transaction
    const clean = await Promise.all(
      [0, 1, 2, 3].map(() =>
        database.db.transaction(async (tx) =>
          queryRows<{ n: number }>(tx as never, sql`SELECT 1 AS n`),
        ),
      ),
    );
    expect(clean.map((r) => r[0]?.n)).toEqual([1, 1, 1, 1]);
  });

  it("a transaction begun with a setup nests by savepoints and commits what it kept", async () => {
    await transactionWith(database, { setup: "SELECT 1" }, async (tx) => {
      await tx.execute(sql`INSERT INTO tx_probe VALUES (1)`);
      await tx
        .transaction(async (inner) => {
          await inner.execute(sql`INSERT INTO tx_probe VALUES (2)`);
          throw new Error("inner fails");
        })
        .catch(() => {});
      await tx.execute(sql`INSERT INTO tx_probe VALUES (3)`);
    });
    const rows = await queryRows<{ n: number }>(database.db, sql`DELETE FROM tx_probe RETURNING n`);
    expect(rows.map((r) => r.n).sort()).toEqual([1, 3]);
  });
});

describe("transactions begun with a setup on PGlite (no round trips: one statement after the other)", () => {
  let database: Database;
  beforeAll(async () => {
    database = await openPglite(join(work, "pglite"));
    await database.db.execute(sql`CREATE TABLE tx_probe (n int)`);
  }, 60_000);
  afterAll(() => database?.close());

  it("runs the setup in the transaction, and a read-only one refuses writes", async () => {
    const seen = await transactionWith(
      database,
      { setup: "SELECT set_config('lamin.probe', 'set', true)", readOnly: true },
      (tx) => queryRows<{ v: string }>(tx, sql`SELECT current_setting('lamin.probe') AS v`),
    );
    expect(seen[0]?.v).toBe("set");
    const refused = await transactionWith(database, { setup: "SELECT 1", readOnly: true }, (tx) =>
      tx.execute(sql`INSERT INTO tx_probe VALUES (1)`),
    ).catch((e: unknown) => e);
    expect(sqlState(refused)).toBe("25006");
    const rows = await queryRows<{ n: number }>(
      database.db,
      sql`SELECT count(*)::int AS n FROM tx_probe`,
    );
    expect(rows[0]?.n).toBe(0);
  });
});
