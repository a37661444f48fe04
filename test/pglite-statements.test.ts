/**
 * Kept (server-side prepared) statements on PGlite give what PGlite's own `query` gives: the same
 * rows and types in both row modes, the same errors, a usable connection after a failure, and
 * fresh results after the schema changes. Compared side by side with a plain PGlite.
 */
import { PGlite, types } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usePreparedStatements } from "../core/db/pglite-statements.js";

let kept: PGlite;
let plain: PGlite;

const SETUP = `
  CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL UNIQUE, n numeric, at timestamptz,
    flags boolean[], doc jsonb, day date, span interval, big bigint);
  INSERT INTO t (name, n, at, flags, doc, day, span, big) VALUES
    ('a', 1.5, '2026-01-02T03:04:05Z', '{true,false}', '{"k":[1,2]}', '2026-01-02', '1 day', 9007199254740993),
    ('b', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
`;

beforeAll(async () => {
  kept = usePreparedStatements(await PGlite.create());
  plain = await PGlite.create();
  for (const db of [kept, plain]) await db.exec(SETUP);
});

afterAll(async () => {
  await kept?.close();
  await plain?.close();
});

/** How many statements the kept connection has prepared on the server. */
async function preparedCount(): Promise<number> {
  const { rows } = await kept.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_prepared_statements",
  );
  return rows[0]?.n ?? -1;
}

describe("kept statements on PGlite", () => {
  const drizzleLike = {
    rowMode: "array" as const,
    parsers: { [types.TIMESTAMPTZ]: (v: string) => v, [types.DATE]: (v: string) => v },
  };
  const cases: [string, unknown[], Parameters<PGlite["query"]>[2]?][] = [
    ["SELECT * FROM t ORDER BY id", []],
    ["SELECT * FROM t WHERE name = $1", ["a"]],
    ["SELECT * FROM t WHERE id = ANY($1)", [[1, 2]]],
    ["SELECT * FROM t ORDER BY id", [], drizzleLike],
    ["SELECT doc->'k' AS k, $1::jsonb AS j FROM t WHERE id = 1", [{ x: [1, "y"] }]],
    ["SELECT $1::timestamptz AS ts, $2::text AS s, $3::int AS i", [new Date(0), null, 7]],
    ["SELECT name FROM t WHERE false", []],
    ["WITH x AS (SELECT 1 AS one) SELECT one FROM x", []],
  ];

  it("returns the same rows, fields and counts as PGlite's own query", async () => {
    for (const [text, params, options] of cases) {
      for (let round = 0; round < 3; round++) {
        // three rounds: the first prepares, later ones reuse the statement
        const got = await kept.query(text, params, options);
        const want = await plain.query(text, params, options);
        expect(got, `${text} (round ${round})`).toEqual(want);
      }
    }
  });

  it("counts changed rows as PGlite does, and keeps the connection usable", async () => {
    for (const db of [kept, plain]) {
      const inserted = await db.query("INSERT INTO t (name) VALUES ($1), ($2) RETURNING id", [
        "c",
        "d",
      ]);
      expect(inserted.affectedRows).toBe(2);
      const updated = await db.query("UPDATE t SET n = $1 WHERE name IN ('c', 'd')", [3]);
      expect(updated).toMatchObject({ affectedRows: 2, rows: [] });
      const deleted = await db.query("DELETE FROM t WHERE name IN ('c', 'd')");
      expect(deleted.affectedRows).toBe(2);
    }
  });

  it("fails as PGlite does (same SQLSTATE) and the next statement works", async () => {
    const failures = [
      ["INSERT INTO t (name) VALUES ($1)", ["a"]], // unique violation
      ["SELECT 1 / $1::int", [0]], // division by zero
      ["SELECT nope FROM t", []], // unknown column, at prepare time
    ] as const;
    for (const [text, params] of failures) {
      const codes: (string | undefined)[] = [];
      for (const db of [kept, plain]) {
        const error = await db.query(text, [...params]).catch((e: { code?: string }) => e);
        expect(error).toBeInstanceOf(Error);
        codes.push((error as { code?: string }).code);
        expect((error as { query?: string }).query).toBe(text);
      }
      expect(codes[0]).toBe(codes[1]);
      expect((await kept.query("SELECT count(*)::int AS n FROM t")).rows).toEqual([{ n: 2 }]);
    }
  });

  it("runs inside transactions, and a failure rolls the whole transaction back", async () => {
    const before = (await kept.query("SELECT count(*)::int AS n FROM t")).rows;
    await expect(
      kept.transaction(async (tx) => {
        await tx.query("INSERT INTO t (name) VALUES ($1)", ["tx1"]);
        const seen = await tx.query("SELECT name FROM t WHERE name = $1", ["tx1"]);
        expect(seen.rows).toEqual([{ name: "tx1" }]);
        await tx.query("INSERT INTO t (name) VALUES ($1)", ["a"]); // duplicate: aborts
      }),
    ).rejects.toMatchObject({ code: "23505" });
    expect((await kept.query("SELECT count(*)::int AS n FROM t")).rows).toEqual(before);

    await kept.transaction(async (tx) => {
      await tx.query("INSERT INTO t (name) VALUES ($1)", ["tx2"]);
    });
    expect((await kept.query("SELECT name FROM t WHERE name = $1", ["tx2"])).rows).toHaveLength(1);
    await kept.query("DELETE FROM t WHERE name = $1", ["tx2"]);
  });

  it("does not run a statement in the middle of another caller's transaction", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let inserted!: () => void;
    const insertedRow = new Promise<void>((r) => {
      inserted = r;
    });
    const tx = kept.transaction(async (t) => {
      await t.query("INSERT INTO t (name) VALUES ($1)", ["held"]);
      inserted();
      await held;
      await t.rollback();
    });
    await insertedRow;
    // issued while the transaction is open: must wait for it, so never sees its row
    const outside = kept.query("SELECT count(*)::int AS n FROM t WHERE name = $1", ["held"]);
    await new Promise((r) => setTimeout(r, 20));
    release();
    await tx;
    expect((await outside).rows).toEqual([{ n: 0 }]);
  });

  it("answers many statements issued at once, each with its own result", async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => kept.query<{ v: number }>("SELECT $1::int AS v", [i])),
    );
    expect(answers.map((a) => a.rows[0]?.v)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("sees a changed table after ALTER (no stale result shape)", async () => {
    const text = "SELECT * FROM t WHERE id = $1";
    expect(Object.keys((await kept.query(text, [1])).rows[0] as object)).not.toContain("extra");
    await kept.query("ALTER TABLE t ADD COLUMN extra text DEFAULT 'x'");
    expect((await kept.query(text, [1])).rows[0]).toMatchObject({ extra: "x" });
    await kept.exec("ALTER TABLE t DROP COLUMN extra");
    expect(Object.keys((await kept.query(text, [1])).rows[0] as object)).not.toContain("extra");
  });

  it("prepares again when the server forgot its statements (DEALLOCATE ALL)", async () => {
    await kept.query("SELECT name FROM t WHERE id = $1", [1]);
    await kept.query("DEALLOCATE ALL"); // through query: not a schema change, so only the retry helps
    expect(await preparedCount()).toBe(1); // only the count's own statement
    expect((await kept.query("SELECT name FROM t WHERE id = $1", [1])).rows).toEqual([
      { name: "a" },
    ]);
  });

  it("does not keep large statements (a batch's multi-row insert)", async () => {
    const before = await preparedCount();
    const values = Array.from({ length: 150 }, (_, i) => `($${i + 1})`).join(", ");
    const names = Array.from({ length: 150 }, (_, i) => `batch-${i}`);
    const inserted = await kept.query(`INSERT INTO t (name) VALUES ${values}`, names);
    expect(inserted.affectedRows).toBe(150);
    expect(await preparedCount()).toBe(before);
    await kept.query("DELETE FROM t WHERE name LIKE 'batch-%'");
  });

  it("keeps at most 256 statements, closing the least recently used", async () => {
    for (let i = 0; i < 400; i++) {
      const { rows } = await kept.query<{ v: number }>(`SELECT ${i} + $1::int AS v`, [1]);
      expect(rows[0]?.v).toBe(i + 1);
    }
    const count = await preparedCount();
    expect(count).toBeGreaterThan(200);
    expect(count).toBeLessThanOrEqual(257);
    // an evicted statement still runs (prepared again)
    expect((await kept.query<{ v: number }>("SELECT 0 + $1::int AS v", [5])).rows).toEqual([
      { v: 5 },
    ]);
  });
});
