/**
 * What reconcile leaves behind after interrupted work, in process on each database: a dry run
 * lists exactly the changes the real run then makes; partial bytes are never completed or
 * removed while they may still be written; a trashed artifact's bytes are its own (not
 * "unclaimed"); leftovers of interrupted writes go once old, except the only copy of a folder.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashFile } from "../../core/hash.js";
import { planReconcile, type ReconcileReport } from "../../core/ingest/reconcile.js";
import { BACKENDS, createInstance, type TestInstance, tempDir, useTempHome } from "../helpers.js";
import { backdate } from "./support.js";

useTempHome();

const HOURS_AGO = new Date(Date.now() - 2 * 3600_000);

/** The changes of a report without what the real run did: comparable with a dry run. */
function planned(report: ReconcileReport) {
  const { dryRun: _, ...rest } = report;
  return JSON.parse(
    JSON.stringify(rest, (k, v) => (k === "action" ? undefined : v)),
  ) as typeof rest;
}

describe.each(BACKENDS)("reconcile after interrupted work on %s", (backend) => {
  let t: TestInstance;
  let work: string;
  const file = (name: string, text: string) => {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    t = await createInstance(backend);
    work = tempDir("lamin-plan-");
  });
  afterAll(() => t?.dispose());

  it("does not call a trashed artifact's bytes unclaimed", async () => {
    const ln = t.instance;
    const { artifact } = await ln.artifacts.save(file("t.txt", "to the trash"), { key: "t.txt" });
    await ln.artifacts.delete(artifact.uid);
    const report = await ln.reconcile({ dryRun: true });
    expect(report.unclaimed).toEqual([]);
    expect(report.missingBytes).toEqual([]);
    await ln.artifacts.restore(artifact.uid);
    expect((await ln.artifacts.load(artifact.uid, { to: tempDir() })).artifact.uid).toBe(
      artifact.uid,
    );
  });

  it("waits for an upload whose bytes are partial, says so in both runs, and removes nothing", async () => {
    const ln = t.instance;
    const full = "the whole content of the upload, of which only a part arrived";
    const h = await hashFile(file("up.csv", full));
    const ticket = await ln.artifacts.prepareUpload({
      name: "up.csv",
      key: "up/partial.csv",
      size: h.size,
      hash: h.hash,
      hash_type: "md5",
    });
    const target = ticket.upload?.key as string;
    mkdirSync(join(t.root, ".lamindb"), { recursive: true });
    writeFileSync(join(t.root, target), full.slice(0, 20));

    const dry = await ln.reconcile({ dryRun: true });
    const done = await ln.reconcile();
    expect(planned(done)).toEqual(planned(dry));
    expect(done.completed).toEqual([]);
    expect(done.waiting).toEqual([
      expect.objectContaining({
        uid: ticket.artifact.uid,
        detail: expect.stringMatching(/20 of \d+ bytes written; removed after 24 h$/),
      }),
    ]);
    const still = await ln.artifacts.get(ticket.artifact.uid);
    expect(still.upload_complete).toBe(false);

    // the rest of the bytes arrive: now the plan completes it, and the run does
    writeFileSync(join(t.root, target), full);
    const dry2 = await ln.reconcile({ dryRun: true });
    expect(dry2.completed.map((c) => c.uid)).toEqual([ticket.artifact.uid]);
    const done2 = await ln.reconcile();
    expect(planned(done2)).toEqual(planned(dry2));
    expect(done2.completed.map((c) => c.action)).toEqual(["completed"]);
    expect((await ln.artifacts.get(ticket.artifact.uid)).upload_complete).toBe(true);
  });

  it("removes an abandoned folder upload's staging and old partial files, keeps a lone .old copy", async () => {
    const ln = t.instance;
    const managed = join(t.root, ".lamindb");
    // staging of a folder upload whose row is gone (aborted by a crash of the server)
    const staging = join(managed, "ABCDEFGHIJKLMNOP.zarr.upload-0000");
    mkdirSync(join(staging, "a"), { recursive: true });
    writeFileSync(join(staging, "a", "x.txt"), "staged");
    // a copy that never finished, and the aside copy of a replace that did
    writeFileSync(join(managed, "QRSTUVWXYZabcdef0000.csv.tmp-AbCdEfGh"), "half a fi");
    const { artifact } = await ln.artifacts.save(file("kept.csv", "a,b\n"), { key: "kept.csv" });
    writeFileSync(join(managed, `${artifact.uid}.csv.old-12345678`), "a,b\n");
    // the aside copy of a replace interrupted between its renames: the only copy left
    const lone = join(managed, "ghijklmnopqrstuv.zarr.old-87654321");
    mkdirSync(lone);
    writeFileSync(join(lone, "y.txt"), "the only copy");

    const young = await ln.reconcile({ dryRun: true });
    expect(young.partial).toEqual([]);
    expect(young.unclaimed).toEqual([]);
    for (const p of [staging, lone]) backdate(p, HOURS_AGO);
    backdate(join(managed, "QRSTUVWXYZabcdef0000.csv.tmp-AbCdEfGh"), HOURS_AGO);
    backdate(join(managed, `${artifact.uid}.csv.old-12345678`), HOURS_AGO);

    const dry = await ln.reconcile({ dryRun: true });
    const done = await ln.reconcile();
    expect(planned(done)).toEqual(planned(dry));
    expect(done.partial.map((c) => [c.key, c.action]).sort()).toEqual(
      [
        [".lamindb/ABCDEFGHIJKLMNOP.zarr.upload-0000", "removed"],
        [".lamindb/QRSTUVWXYZabcdef0000.csv.tmp-AbCdEfGh", "removed"],
        [`.lamindb/${artifact.uid}.csv.old-12345678`, "removed"],
      ].sort(),
    );
    expect(done.skipped).toEqual([
      {
        key: ".lamindb/ghijklmnopqrstuv.zarr.old-87654321",
        detail: expect.stringMatching(/rename it back to \.lamindb\/ghijklmnopqrstuv\.zarr$/),
      },
    ]);
    renameSync(lone, join(managed, "restored-by-hand"));
    const again = await ln.reconcile({ dryRun: true });
    expect([...again.partial, ...again.skipped]).toEqual([]);
    expect(again.unclaimed).toEqual([".lamindb/restored-by-hand/y.txt"]);
  });

  it("reads LAMIN_UPLOAD_EXPIRY, and refuses a value that is not a duration", async () => {
    const ln = t.instance;
    const before = process.env.LAMIN_UPLOAD_EXPIRY;
    try {
      process.env.LAMIN_UPLOAD_EXPIRY = "a day";
      await expect(planReconcile(ln)).rejects.toThrow(
        /LAMIN_UPLOAD_EXPIRY must be a duration like 24h, 90m, 2d or 3600 \(seconds\), got 'a day'/,
      );
      process.env.LAMIN_UPLOAD_EXPIRY = "90m";
      const h = await hashFile(file("never.csv", "never sent"));
      await ln.artifacts.prepareUpload({
        name: "never.csv",
        key: "up/never.csv",
        size: h.size,
        hash: h.hash,
        hash_type: "md5",
      });
      const { report } = await planReconcile(ln);
      expect(report.waiting.at(-1)?.detail).toMatch(/no bytes yet; removed after 90 min$/);
      const { report: later } = await planReconcile(ln, {
        now: new Date(Date.now() + 91 * 60_000),
      });
      expect(later.expired.map((c) => c.key)).toContain(report.waiting.at(-1)?.key);
    } finally {
      if (before === undefined) delete process.env.LAMIN_UPLOAD_EXPIRY;
      else process.env.LAMIN_UPLOAD_EXPIRY = before;
    }
  });
});
