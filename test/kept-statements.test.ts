/**
 * A kept statement is built once per process and then bound to whichever Database asks for it:
 * a transaction reads through its own connection (its uncommitted rows), left joins still map to
 * null, and the builder is not called again.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../core/db/client.js";
import { keptStatement } from "../core/db/kept-statements.js";
import * as t from "../core/db/schema.js";
import { randomBase62 } from "../core/uid.js";
import { BACKENDS, createInstance, type TestInstance, tempDir, writeTree } from "./helpers.js";

describe.each(BACKENDS)("kept statements on %s", (backend) => {
  let ti: TestInstance;
  let uid: string;
  beforeAll(async () => {
    ti = await createInstance(backend);
    const dir = writeTree(tempDir(), { "a.txt": "kept" });
    uid = (await ti.instance.artifacts.save(`${dir}/a.txt`, { key: "kept/a.txt" })).artifact.uid;
  });
  afterAll(async () => ti?.dispose());

  /** A select by uid with a left join (the artifact has no run), counting its builds. */
  const byUid = () => {
    const name = `lamin_test_${randomBase62(8).toLowerCase()}`;
    let builds = 0;
    const on = (db: Db) =>
      keptStatement(db, name, (db) => {
        builds++;
        return db
          .select({ key: t.artifact.key, run: { uid: t.run.uid } })
          .from(t.artifact)
          .leftJoin(t.run, eq(t.run.id, t.artifact.runId))
          .where(eq(t.artifact.uid, sql.placeholder("uid")));
      });
    return { on, builds: () => builds };
  };

  it("is built once, and a second Database gets it with joins mapped as drizzle maps them", async () => {
    const q = byUid();
    const db = ti.instance.db;
    expect(await q.on(db).execute({ uid })).toEqual([{ key: "kept/a.txt", run: null }]);
    const inTx = await db.transaction(async (tx) => q.on(tx as unknown as Db).execute({ uid }));
    expect(inTx).toEqual([{ key: "kept/a.txt", run: null }]);
    expect(q.builds()).toBe(1);
  });

  it("runs on the Database it is bound to: a transaction sees its own uncommitted rows", async () => {
    const q = byUid();
    const db = ti.instance.db;
    await q.on(db).execute({ uid }); // kept from the instance's own database first
    const rollback = new Error("rollback");
    const seen: unknown[] = [];
    await expect(
      db.transaction(async (tx) => {
        await tx.update(t.artifact).set({ key: "kept/moved.txt" }).where(eq(t.artifact.uid, uid));
        seen.push(await q.on(tx as unknown as Db).execute({ uid }));
        // another connection does not see the transaction's change (Postgres has a pool)
        if (backend === "postgres") seen.push(await q.on(db).execute({ uid }));
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(seen[0]).toEqual([{ key: "kept/moved.txt", run: null }]);
    if (backend === "postgres") expect(seen[1]).toEqual([{ key: "kept/a.txt", run: null }]);
    expect(await q.on(db).execute({ uid })).toEqual([{ key: "kept/a.txt", run: null }]);
    expect(q.builds()).toBe(1);
  });
});
