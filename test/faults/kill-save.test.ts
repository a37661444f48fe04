/**
 * kill -9 of `lamin save` while it copies a large file or a folder into storage (an embedded
 * instance): what was acknowledged stays, once and with its bytes; the interrupted version is
 * shown as incomplete and never hides the previous one; reconcile says what it will do, does
 * exactly that, removes the partial copy once it is old, and the pending row once it expired.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReconcileReport } from "../../core/ingest/reconcile.js";
import type { Artifact } from "../../core/registry/artifacts/artifacts.js";
import {
  createInstance,
  lamin,
  managedFiles,
  type TestInstance,
  tempDir,
  useTempHome,
  writeTree,
} from "../helpers.js";
import {
  backdate,
  bigFile,
  expectTypedFailure,
  killHard,
  namesMatching,
  sizeOf,
  spawnLamin,
  waitFor,
} from "./support.js";

useTempHome();

let t: TestInstance;
let work: string;
const env = () => ({ LAMIN_INSTANCE: t.name });
const cli = (args: string[], extra: Record<string, string> = {}) =>
  lamin(args, { cwd: work, env: { ...env(), ...extra } });
async function json<T>(args: string[], extra: Record<string, string> = {}): Promise<T> {
  const r = await cli([...args, "--json"], extra);
  expect(r.code, `lamin ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}
const md5 = (path: string) => createHash("md5").update(readFileSync(path)).digest("hex");
const managed = () => join(t.root, ".lamindb");
const TMP = /\.tmp-[A-Za-z0-9]{8}$/;

beforeAll(async () => {
  t = await createInstance("pglite");
  await t.instance.close(); // each command opens it, as a user's would
  work = tempDir("lamin-faults-");
});
afterAll(async () => {
  await t?.dispose();
  rmSync(work, { recursive: true, force: true });
});

/** What a real run did, in the shape of a dry run: the changes without their outcomes. */
function asPlanned(report: ReconcileReport): ReconcileReport {
  const strip = (v: unknown) =>
    Array.isArray(v)
      ? v.map((c) => {
          if (typeof c !== "object" || c === null) return c;
          const { action: _, ...rest } = c as { action?: string };
          return rest;
        })
      : v;
  return Object.fromEntries(
    Object.entries({ ...report, dryRun: true }).map(([k, v]) => [k, strip(v)]),
  ) as unknown as ReconcileReport;
}

/** A dry run, then the real run: they must list the same changes, and every step must succeed. */
async function reconcileTwice(extra: Record<string, string> = {}) {
  const planned = await json<ReconcileReport>(["reconcile", "--dry-run"], extra);
  const done = await json<ReconcileReport>(["reconcile"], extra);
  expect(asPlanned(done)).toEqual(planned);
  const skipped = Object.values(done)
    .filter(Array.isArray)
    .flat()
    .filter((c) => typeof c === "object" && c.action === "skipped");
  expect(skipped).toEqual([]);
  return { planned, done };
}

describe("kill -9 of lamin save", () => {
  it("of a new version of a large file keeps the previous version the latest one", async () => {
    const v1Path = join(work, "v1.bin");
    writeFileSync(v1Path, "the first version, acknowledged");
    const v1 = await json<Artifact & { status: string }>(["save", v1Path, "--key", "data/big.bin"]);
    expect(v1.status).toBe("created");

    const big = bigFile(join(work, "big.bin"), 256);
    const save = spawnLamin(["save", big, "--key", "data/big.bin", "--json"], {
      cwd: work,
      env: env(),
    });
    // the row of the new version is written before the copy starts: kill it mid-copy
    const tmp = await waitFor(
      "the copy into storage",
      () => namesMatching(managed(), TMP).find((n) => sizeOf(join(managed(), n)) > 0),
      { running: save },
    );
    await killHard(save);
    expect(save.stdout()).toBe(""); // nothing was acknowledged

    // the latest version is still the acknowledged one, complete, and loads
    const latest = await json<Artifact[]>(["ls", "--key-prefix", "data/"]);
    expect(latest.map((a) => [a.uid, a.upload_complete, a.is_latest])).toEqual([
      [v1.uid, true, true],
    ]);
    const out = mkdtempSync(join(work, "out-"));
    const loaded = await json<{ local_path: string }>([
      "load",
      "--key",
      "data/big.bin",
      "--to",
      out,
    ]);
    expect(readFileSync(loaded.local_path, "utf8")).toBe("the first version, acknowledged");

    // the interrupted version is there, behind it, and marked as incomplete in words
    const all = await json<Artifact[]>(["ls", "--key-prefix", "data/", "--all-versions"]);
    const broken = all.find((a) => a.uid !== v1.uid);
    expect(broken).toMatchObject({ upload_complete: false, is_latest: false, size: 256 << 20 });
    const text = await cli(["ls", "--key-prefix", "data/", "--all-versions"]);
    const line = text.stdout.split("\n").find((l) => l.startsWith(broken?.uid ?? "?"));
    expect(line).toMatch(/data\/big\.bin\s+\(incomplete\)$/);
    expect(text.stdout).toMatch(/^\(incomplete\): its save or upload did not finish/m);
    expect((await cli(["ls", "--key-prefix", "data/"])).stdout).not.toMatch(/incomplete/);

    // a partial copy being written is left alone; once untouched for an hour it is removed,
    // and the dry run said so
    const young = await json<ReconcileReport>(["reconcile", "--dry-run"]);
    expect(young.partial).toEqual([]);
    expect(young.skipped.map((c) => c.key)).toContain(`.lamindb/${tmp}`);
    expect(young.waiting.map((c) => c.uid)).toEqual([broken?.uid]);
    expect(young.unclaimed).toEqual([]);
    backdate(join(managed(), tmp), new Date(Date.now() - 2 * 3600_000));
    const { done } = await reconcileTwice();
    expect(done.partial).toEqual([
      expect.objectContaining({ key: `.lamindb/${tmp}`, action: "removed" }),
    ]);
    expect(namesMatching(managed(), TMP)).toEqual([]);
    expect(done.waiting.map((c) => c.uid)).toEqual([broken?.uid]);

    // after LAMIN_UPLOAD_EXPIRY the pending version is removed; the acknowledged one stays
    const expiry = { LAMIN_UPLOAD_EXPIRY: "1s" };
    const gone = await reconcileTwice(expiry);
    expect(gone.done.expired.map((c) => [c.uid, c.action])).toEqual([[broken?.uid, "expired"]]);
    const left = await json<Artifact[]>(["ls", "--key-prefix", "data/", "--all-versions"]);
    expect(left.map((a) => a.uid)).toEqual([v1.uid]);
    expect(managedFiles(t.root)).toEqual([`${v1.uid}${v1.suffix}`]);
    const again = await json<ReconcileReport>(["reconcile", "--dry-run"], expiry);
    expect([...again.expired, ...again.partial, ...again.waiting, ...again.skipped]).toEqual([]);
  });

  it("of a folder leaves its first version shown as incomplete, which saving again completes", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) files[`d${i % 30}/f${i}.txt`] = `file ${i} `.repeat(200);
    const folder = writeTree(join(work, "cells.zarr"), files);
    const save = spawnLamin(["save", folder, "--key", "data/cells.zarr"], {
      cwd: work,
      env: env(),
    });
    // files are being copied into the partial folder (not only its folders made)
    await waitFor(
      "the folder copy",
      () =>
        namesMatching(managed(), TMP).some(
          (name) => namesMatching(join(managed(), name, "d0"), /\.txt$/).length > 0,
        ),
      { running: save },
    );
    await killHard(save);
    expect(save.stdout()).toBe("");

    const [half, ...more] = await json<Artifact[]>(["ls", "--key-prefix", "data/cells"]);
    expect(more).toEqual([]);
    expect(half).toMatchObject({ upload_complete: false, is_latest: true, n_files: 3000 });
    const text = await cli(["ls", "--key-prefix", "data/cells"]);
    expect(text.stdout).toMatch(/data\/cells\.zarr\s+\(incomplete\)$/m);
    expectTypedFailure(
      await cli(["load", "--key", "data/cells.zarr"]),
      6,
      /never completely written \(an interrupted save\)/,
    );

    const repaired = await json<Artifact & { status: string }>([
      "save",
      folder,
      "--key",
      "data/cells.zarr",
    ]);
    expect(repaired).toMatchObject({ uid: half?.uid, status: "repaired", upload_complete: true });
    const out = mkdtempSync(join(work, "out-"));
    const loaded = await json<{ local_path: string }>([
      "load",
      "--key",
      "data/cells.zarr",
      "--to",
      out,
    ]);
    expect(md5(join(loaded.local_path, "d7/f2917.txt"))).toBe(md5(join(folder, "d7", "f2917.txt")));
    const all = await json<Artifact[]>(["ls", "--key-prefix", "data/cells", "--all-versions"]);
    expect(all.map((a) => a.uid)).toEqual([half?.uid]);

    // the killed copy's partial folder: removed once old, as planned
    for (const name of namesMatching(managed(), TMP)) {
      backdate(join(managed(), name), new Date(Date.now() - 2 * 3600_000));
    }
    const { done } = await reconcileTwice();
    expect(done.partial.map((c) => c.action)).toEqual(["removed"]);
    expect(namesMatching(managed(), TMP)).toEqual([]);
    expect(done.unclaimed).toEqual([]);
  });
});
