/**
 * Deduplication ignores the trash, as LaminDB's `get_stat_or_artifact` does (lamindb 2.9.1,
 * models/artifact.py: every hash and key lookup filters `~Q(branch_id=-1)`): the same bytes
 * saved again after their artifact was trashed make a new artifact, and a key whose versions are
 * all trashed starts a new family. Only where LaminDB's unique constraint (storage, key, hash)
 * would refuse a new row (same key, or no key, and the same bytes) is the trashed artifact
 * returned, back on the main branch (sqlrecord.py: "returning artifact from trash").
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Instance } from "../core/instance.js";
import { createInstance, type TestInstance, tempDir, useTempHome } from "./helpers.js";

useTempHome();

describe("dedup and the trash", () => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  const file = (name: string, content: string) => {
    const path = join(work, name);
    writeFileSync(path, content);
    return path;
  };

  beforeAll(async () => {
    t = await createInstance("pglite");
    ln = t.instance;
    work = tempDir("lamin-trash-");
  });
  afterAll(() => t.dispose());

  it("the same bytes under another key after a delete make a new artifact", async () => {
    const path = file("a.csv", "a\n1\n");
    const first = (await ln.artifacts.save(path, { key: "one/a.csv" })).artifact;
    await ln.artifacts.delete(first.uid);
    const second = await ln.artifacts.save(path, { key: "two/a.csv" });
    expect(second.status).toBe("created");
    expect(second.artifact.uid).not.toBe(first.uid);
    expect((await ln.artifacts.get(first.uid)).branch).toBe("trash");
    // without a key too
    const plain = file("p.csv", "p\n1\n");
    const p1 = (await ln.artifacts.save(plain, { key: "keyed/p.csv" })).artifact;
    await ln.artifacts.delete(p1.uid);
    const p2 = await ln.artifacts.save(plain, { description: "no key" });
    expect(p2).toMatchObject({ status: "created", artifact: { key: null } });
    expect(p2.artifact.uid).not.toBe(p1.uid);
  });

  it("a key whose versions are all trashed starts a new family", async () => {
    const path = file("v.csv", "v1\n");
    const v1 = (await ln.artifacts.save(path, { key: "fam/v.csv" })).artifact;
    await ln.artifacts.delete(v1.uid);
    writeFileSync(path, "v2\n");
    const next = await ln.artifacts.save(path, { key: "fam/v.csv" });
    expect(next.status).toBe("created");
    expect(next.artifact.uid.slice(0, 16)).not.toBe(v1.uid.slice(0, 16));
    expect(next.artifact.uid.endsWith("0000")).toBe(true);
  });

  it("the same bytes under the same key return the trashed artifact on main (LaminDB's unique constraint)", async () => {
    const path = file("s.csv", "same\n");
    const first = (await ln.artifacts.save(path, { key: "same/s.csv" })).artifact;
    await ln.artifacts.delete(first.uid);
    const again = await ln.artifacts.save(path, { key: "same/s.csv" });
    expect(again).toMatchObject({
      status: "restored",
      artifact: { uid: first.uid, branch: "main" },
    });
  });
});
