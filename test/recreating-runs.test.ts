/**
 * LaminDB's `recreating_runs` on each database: saving an artifact that exists already (same
 * content) or making a collection of the same artifacts again under a tracked run records the
 * run, never the creating run itself and never twice; the creating run (lineage) stays; what a
 * run re-created is not also its input.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import type { Instance } from "../core/instance.js";
import {
  BACKENDS,
  createInstance,
  type TestInstance,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";

useTempHome();

describe.each(BACKENDS)("recreating runs on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;

  const track = async (name: string) => {
    const path = join(work, name);
    writeFileSync(path, `echo ${name}\n`);
    return (await ln.track({ path, captureProcess: false })).run.uid;
  };
  const inputs = (registry: "artifact" | "collection") =>
    queryRows<{ record: string; run: string }>(
      ln.db,
      sql`SELECT x.uid AS record, r.uid AS run FROM ${sql.raw(`lamindb_${registry}_input_of_runs`)} l
        JOIN ${sql.raw(`lamindb_${registry}`)} x ON x.id = l.${sql.raw(`${registry}_id`)}
        JOIN lamindb_run r ON r.id = l.run_id ORDER BY l.id`,
    );

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir();
    writeTree(work, { "a.csv": "a\n1\n", "b.csv": "b\n2\n" });
  });
  afterAll(async () => {
    await t.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it("an artifact saved again by another run records it; the creating run stays", async () => {
    const a = (await ln.artifacts.save(join(work, "a.csv"), { key: "a.csv" })).artifact;
    expect(a.run).toBeNull();

    const run1 = await track("one.sh");
    const b = (await ln.artifacts.save(join(work, "b.csv"), { key: "b.csv" })).artifact;
    expect(b.run).toBe(run1);
    // LaminDB's populate_recreating_run: an artifact without a run gets this one as its run
    const again = await ln.artifacts.save(join(work, "a.csv"), { key: "a.csv" });
    expect(again).toMatchObject({ status: "existing", artifact: { uid: a.uid, run: run1 } });
    // the creating run saving it again is not a recreating run
    await ln.artifacts.save(join(work, "b.csv"), { key: "b.csv" });
    await ln.finish();
    expect(await ln.artifacts.recreatingRuns(a.uid)).toEqual([]);
    expect((await ln.artifacts.get(a.uid)).run).toBe(run1);
    expect(await ln.artifacts.recreatingRuns(b.uid)).toEqual([]);

    const run2 = await track("two.sh");
    await ln.artifacts.save(join(work, "b.csv"), { key: "b.csv" });
    await ln.artifacts.save(join(work, "b.csv"), { key: "other/b.csv" }); // another key: same bytes
    await ln.artifacts.saveMany([{ path: join(work, "a.csv"), key: "a.csv" }]);
    // what this run re-created is not its input; what another run re-created is
    await ln.artifacts.load(b.uid);
    await ln.artifacts.load(a.uid);
    await ln.finish();
    expect(await ln.artifacts.recreatingRuns(b.uid)).toEqual([run2]);
    expect(await ln.artifacts.recreatingRuns({ key: "a.csv" })).toEqual([run2]);
    expect((await inputs("artifact")).filter((i) => i.run === run2)).toEqual([]);
    // lineage: the creating run is kept
    expect((await ln.artifacts.get(b.uid)).run).toBe(run1);
    expect((await ln.artifacts.get(a.uid)).run).toBe(run1);

    // without a tracked run nothing is recorded
    await ln.artifacts.save(join(work, "b.csv"), { key: "b.csv" });
    expect(await ln.artifacts.recreatingRuns(b.uid)).toEqual([run2]);
  });

  it("a run that read an artifact saving it again is not a recreating run (LaminDB: no cycle)", async () => {
    writeFileSync(join(work, "c.csv"), "c\n3\n");
    await track("maker.sh");
    const c = (await ln.artifacts.save(join(work, "c.csv"), { key: "c.csv" })).artifact;
    await ln.finish();
    const reader = await track("reader.sh");
    await ln.artifacts.load(c.uid);
    const again = await ln.artifacts.save(join(work, "c.csv"), { key: "c.csv" });
    await ln.finish();
    expect(again).toMatchObject({ status: "existing", artifact: { uid: c.uid } });
    expect(await ln.artifacts.recreatingRuns(c.uid)).toEqual([]);
    expect((await inputs("artifact")).filter((i) => i.record === c.uid)).toEqual([
      { record: c.uid, run: reader },
    ]);
  });

  it("a collection made without a run gets the run that makes it again", async () => {
    const members = (await ln.artifacts.list()).items.map((x) => x.uid).slice(0, 2);
    const made = await ln.collections.create({ key: "untracked", artifacts: members });
    const run = await track("collect.sh");
    await ln.collections.create({ key: "untracked", artifacts: members });
    await ln.finish();
    expect(await ln.collections.recreatingRuns(made.record.uid)).toEqual([]);
    const [row] = await queryRows<{ run: string }>(
      ln.db,
      sql`SELECT r.uid AS run FROM lamindb_collection c JOIN lamindb_run r ON r.id = c.run_id
        WHERE c.uid = ${made.record.uid}`,
    );
    expect(row?.run).toBe(run);
  });

  it("a collection made again by another run records it, once", async () => {
    const members = (await ln.artifacts.list()).items.map((x) => x.uid);
    const run3 = await track("three.sh");
    const made = await ln.collections.create({ key: "both", artifacts: members });
    expect(made.status).toBe("created");
    await ln.collections.create({ key: "both", artifacts: members });
    await ln.finish();
    expect(await ln.collections.recreatingRuns(made.record.uid)).toEqual([]);

    const run4 = await track("four.sh");
    const again = await ln.collections.create({ key: "both", artifacts: members });
    expect(again).toMatchObject({ status: "existing", record: { uid: made.record.uid } });
    await ln.collections.create({ key: "both", artifacts: [...members].reverse() });
    await ln.collections.load(made.record.uid);
    await ln.finish();
    expect(await ln.collections.recreatingRuns({ key: "both" })).toEqual([run4]);
    expect(await inputs("collection")).toEqual([]);
    // lineage: the creating run is kept
    const [row] = await queryRows<{ run: string }>(
      ln.db,
      sql`SELECT r.uid AS run FROM lamindb_collection c JOIN lamindb_run r ON r.id = c.run_id
        WHERE c.uid = ${made.record.uid}`,
    );
    expect(row?.run).toBe(run3);
  });

  it("schemas made during a run record it as their creating run, composites too", async () => {
    await ln.features.create({ name: "x", dtype: "int" });
    const run = await track("schemas.sh");
    await ln.schemas.create({ name: "xs", features: ["x"] });
    await ln.schemas.create({ name: "xc", components: { obs: "xs" } });
    await ln.finish();
    await ln.schemas.create({ name: "untracked", features: ["x"], maximalSet: true });
    const made = await queryRows<{ name: string; run: string | null }>(
      ln.db,
      sql`SELECT s.name, r.uid AS run FROM lamindb_schema s LEFT JOIN lamindb_run r ON r.id = s.run_id
        WHERE s.name IN ('xs', 'xc', 'untracked') ORDER BY s.id`,
    );
    expect(made).toEqual([
      { name: "xs", run },
      { name: "xc", run },
      { name: "untracked", run: null },
    ]);
  });

  it("refuses unknown records", async () => {
    await expect(ln.artifacts.recreatingRuns("aaaaaaaaaaaaaaaa0000")).rejects.toMatchObject({
      kind: "not-found",
    });
    await expect(ln.collections.recreatingRuns({ key: "nope" })).rejects.toMatchObject({
      kind: "not-found",
    });
  });
});
