/**
 * A kept statement is built once per process and then bound to whichever Database asks for it:
 * a transaction reads through its own connection (its uncommitted rows), left joins still map to
 * null, and the builder is not called again. Its rows, mapped by the statement's compiled mapper,
 * are what drizzle's own mapping gives.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../core/db/client.js";
import { queryRows } from "../core/db/client.js";
import { keptStatement } from "../core/db/kept-statements.js";
import * as t from "../core/db/schema.js";
import { inSpaces } from "../core/db/space-policies.js";
import { randomBase62 } from "../core/uid.js";
import { BACKENDS, createInstance, type TestInstance, tempDir, writeTree } from "./helpers.js";

describe.each(BACKENDS)("kept statements on %s", (backend) => {
  let ti: TestInstance;
  let uid: string;
  /** An artifact saved by a tracked run: its left join finds a row. */
  let ranUid: string;
  beforeAll(async () => {
    ti = await createInstance(backend);
    const dir = writeTree(tempDir(), { "a.txt": "kept", "b.txt": "by a run" });
    uid = (await ti.instance.artifacts.save(`${dir}/a.txt`, { key: "kept/a.txt" })).artifact.uid;
    const script = join(dir, "make.sh");
    writeFileSync(script, "echo make\n");
    await ti.instance.track({ path: script, captureProcess: false });
    ranUid = (await ti.instance.artifacts.save(`${dir}/b.txt`, { key: "kept/b.txt" })).artifact.uid;
    await ti.instance.finish();
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
    return { on, name, builds: () => builds };
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

  it("maps rows as drizzle does: decoders, expressions, nested objects, null joins", async () => {
    const db = ti.instance.db;
    const selection = {
      key: t.artifact.key,
      createdAt: t.artifact.createdAt,
      size: t.artifact.size,
      aux: t.artifact.aux,
      twice: sql<number>`${t.artifact.id} * 2`.mapWith(Number),
      label: sql<string>`'x' || ${t.artifact.suffix}`,
      run: { uid: t.run.uid, startedAt: t.run.startedAt },
      storage: { root: t.storage.root },
    };
    const query = (db: Db) =>
      db
        .select(selection)
        .from(t.artifact)
        .innerJoin(t.storage, eq(t.storage.id, t.artifact.storageId))
        .leftJoin(t.run, eq(t.run.id, t.artifact.runId));
    const uids = [uid, ranUid];
    const name = `lamin_test_${randomBase62(8).toLowerCase()}`;
    const kept = keptStatement(db, name, (db) =>
      query(db)
        .where(sql`${t.artifact.uid} = ANY(${sql.placeholder("uids")}::text[])`)
        .orderBy(t.artifact.id),
    );
    const ours = await kept.execute({ uids });
    const drizzles = await query(db).where(inArray(t.artifact.uid, uids)).orderBy(t.artifact.id);
    expect(ours).toEqual(drizzles);
    expect(ours[0]?.run).toBeNull();
    expect(ours[1]?.run?.uid).toMatch(/^\w{16}$/);
    expect(ours[0]?.createdAt).toBeInstanceOf(Date);
    expect(typeof ours[0]?.twice).toBe("number");
    // bound again to another Database: the same
    const again = await db.transaction(async (tx) =>
      keptStatement(tx as unknown as Db, name, (): { prepare(): typeof kept } => {
        throw new Error("built twice");
      }).execute({ uids }),
    );
    expect(again).toEqual(drizzles);
  });

  it("has a name of its own in a restricted caller's transaction, so that each role keeps its plan", async () => {
    const q = byUid();
    const database = ti.instance.database;
    const names = async (db: Db) =>
      (
        await queryRows<{ name: string }>(
          db,
          sql`SELECT name FROM pg_prepared_statements WHERE name LIKE 'lamin_test_%' ORDER BY name`,
        )
      ).map((r) => r.name);
    // the owner's request and a read collaborator's take turns on one connection
    const seen = await database.db.transaction(async (tx) => {
      await q.on(tx as unknown as Db).execute({ uid });
      return names(tx as unknown as Db);
    });
    const restricted = await inSpaces(database, { read: [1], write: [] }, async (scoped) => ({
      rows: await q.on(scoped.db).execute({ uid }),
      names: await names(scoped.db),
    }));
    expect(restricted.rows).toEqual([{ key: "kept/a.txt", run: null }]);
    if (backend === "postgres") {
      // PGlite's driver names no statements: nothing to replan there
      expect(seen).toContain(q.name);
      expect(restricted.names).toContain(`${q.name}:rls`);
    }
    expect(q.builds()).toBe(1);
  });
});
