/**
 * Branches as LaminDB has them (lamindb 2.9: setup/_merge.py, setup/_switch.py, the Branch model
 * in models/sqlrecord.py, models/_is_versioned.py; summary in docs/branches.md), one test per rule.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import type { Instance } from "../core/instance.js";
import { BACKENDS, createInstance, type TestInstance, tempDir, useTempHome } from "./helpers.js";

useTempHome();

describe.each(BACKENDS)("branches (%s)", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  let n = 0;
  const file = (content: string) => {
    const path = join(work, `f${n++}.csv`);
    writeFileSync(path, content);
    return path;
  };
  const rows = (key: string) =>
    queryRows<{ uid: string; branch_id: number; is_latest: boolean; created_on_id: number }>(
      ln.db,
      sql`SELECT uid, branch_id, is_latest, created_on_id FROM lamindb_artifact
        WHERE key = ${key} ORDER BY id`,
    );
  const keys = async () => (await ln.artifacts.list({ limit: 1000 })).items.map((a) => a.key);

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir("lamin-branches-");
  });
  afterAll(() => t.dispose());

  it("lists the built-in branches main, trash and archive; main is current", async () => {
    const list = await ln.branches.list();
    expect(list.map((b) => b.name)).toEqual(["trash", "archive", "main"]);
    expect(list.find((b) => b.name === "main")?.current).toBe(true);
    expect(ln.branch.name).toBe("main");
  });

  it("a branch name is unique whatever its case; a bad name is refused", async () => {
    const b = await ln.branches.create("feature_x", { description: "try things" });
    expect(b).toMatchObject({ name: "feature_x", status: "standalone", current: false });
    expect(b.uid).toMatch(/^[0-9A-Za-z]{12}$/);
    await expect(ln.branches.create("Feature_X")).rejects.toMatchObject({ kind: "conflict" });
    await expect(ln.branches.create("MAIN")).rejects.toMatchObject({ kind: "conflict" });
    for (const bad of ["", " x", "a b", "x;drop table", "../up", "-rf", "a".repeat(101), "é"]) {
      await expect(ln.branches.create(bad)).rejects.toMatchObject({ kind: "validation" });
    }
    expect(await ln.branches.get("FEATURE_X")).toMatchObject({ uid: b.uid });
    expect(await ln.branches.get(b.uid)).toMatchObject({ name: "feature_x" });
    await expect(ln.branches.get("nope")).rejects.toMatchObject({ kind: "not-found" });
  });

  it("writes go to the current branch; reads show it and main; main does not see it", async () => {
    await ln.branches.create("writes");
    await ln.artifacts.save(file("main\n"), { key: "w/main.csv" });
    await ln.useBranch("writes");
    const saved = await ln.artifacts.save(file("on branch\n"), { key: "w/branch.csv" });
    expect(saved.status).toBe("created");
    const [row] = await rows("w/branch.csv");
    const branchId = (await ln.branches.resolve("writes")).id;
    expect(row).toMatchObject({ branch_id: branchId, created_on_id: branchId, is_latest: true });
    expect(await keys()).toEqual(expect.arrayContaining(["w/main.csv", "w/branch.csv"]));
    expect((await ln.artifacts.get({ key: "w/branch.csv" })).uid).toBe(saved.artifact.uid);
    // other registries too: a ulabel, a transform
    await ln.ulabels.create({ name: "branch-label" });
    await ln.useBranch("main");
    expect(await keys()).toContain("w/main.csv");
    expect(await keys()).not.toContain("w/branch.csv");
    await expect(ln.artifacts.get({ key: "w/branch.csv" })).rejects.toMatchObject({
      kind: "not-found",
    });
    // by uid a record is found wherever it lives (LaminDB: a uid filter names no branch)
    expect((await ln.artifacts.get(saved.artifact.uid)).key).toBe("w/branch.csv");
    const labels = await ln.ulabels.list({ limit: 1000 });
    expect(labels.items.map((l) => l.name)).not.toContain("branch-label");
  });

  it("a new version on a branch leaves main's latest as it is (is_latest is per branch)", async () => {
    await ln.artifacts.save(file("v1\n"), { key: "v/data.csv" });
    await ln.branches.create("versions");
    await ln.useBranch("versions");
    const v2 = await ln.artifacts.save(file("v2\n"), { key: "v/data.csv" });
    expect(v2.status).toBe("new-version");
    const [r1, r2] = await rows("v/data.csv");
    expect(r1).toMatchObject({ branch_id: 1, is_latest: true });
    expect(r2?.is_latest).toBe(true);
    expect(r2?.uid.slice(0, 16)).toBe(r1?.uid.slice(0, 16));
    // the branch reads its own version by key
    expect((await ln.artifacts.get({ key: "v/data.csv" })).uid).toBe(v2.artifact.uid);
    // a third version on the branch demotes the branch's second, not main's first
    const v3 = await ln.artifacts.save(file("v3\n"), { key: "v/data.csv" });
    const after = await rows("v/data.csv");
    expect(after.map((r) => r.is_latest)).toEqual([true, false, true]);
    await ln.useBranch("main");
    expect((await ln.artifacts.get({ key: "v/data.csv" })).uid).toBe(r1?.uid);
    // merge: rows move to main, one latest per family there (the newest)
    const result = await ln.branches.merge("versions");
    expect(result).toMatchObject({ source: "versions", target: "main", demoted: 1 });
    expect(result.moved.lamindb_artifact).toBe(2);
    const merged = await rows("v/data.csv");
    expect(merged.map((r) => r.branch_id)).toEqual([1, 1, 1]);
    expect(merged.map((r) => r.is_latest)).toEqual([false, false, true]);
    expect((await ln.artifacts.get({ key: "v/data.csv" })).uid).toBe(v3.artifact.uid);
    expect(await ln.branches.get("versions")).toMatchObject({ status: "merged" });
    // created_on keeps where a record was made
    expect(merged[2]?.created_on_id).toBe((await ln.branches.resolve("versions")).id);
  });

  it("merging moves every registry's rows; a merged branch is not merged again", async () => {
    await ln.branches.create("many");
    await ln.useBranch("many");
    await ln.artifacts.save(file("m\n"), { key: "m/a.csv" });
    await ln.ulabels.create({ name: "many-label" });
    await ln.transforms.create({ key: "many.py", source_code: "print(1)" } as never);
    await ln.useBranch("main");
    const result = await ln.branches.merge("many");
    expect(result.moved).toMatchObject({
      lamindb_artifact: 1,
      lamindb_ulabel: 1,
      lamindb_transform: 1,
    });
    expect(await keys()).toContain("m/a.csv");
    const labels = await ln.ulabels.list({ limit: 1000 });
    expect(labels.items.map((l) => l.name)).toContain("many-label");
    await expect(ln.branches.merge("many")).rejects.toMatchObject({ kind: "conflict" });
  });

  it("a key versioned on both sides is a conflict: reported, nothing changed", async () => {
    await ln.artifacts.save(file("c1\n"), { key: "c/data.csv" });
    await ln.branches.create("conflicting");
    await ln.useBranch("conflicting");
    await ln.artifacts.save(file("c2 branch\n"), { key: "c/data.csv" });
    await ln.artifacts.save(file("c other\n"), { key: "c/other.csv" });
    await ln.useBranch("main");
    await ln.artifacts.save(file("c2 main\n"), { key: "c/data.csv" });
    const before = await queryRows(
      ln.db,
      sql`SELECT id, branch_id, is_latest FROM lamindb_artifact ORDER BY id`,
    );
    const error = await ln.branches.merge("conflicting").catch((e: Error) => e);
    expect(error).toMatchObject({ kind: "conflict" });
    expect((error as Error).message).toContain("artifact 'c/data.csv'");
    expect((error as Error).message).not.toContain("c/other.csv");
    expect(
      await queryRows(
        ln.db,
        sql`SELECT id, branch_id, is_latest FROM lamindb_artifact ORDER BY id`,
      ),
    ).toEqual(before);
    expect(await ln.branches.get("conflicting")).toMatchObject({ status: "standalone" });
  });

  it("status: draft, review, closed; merged only by merging; built-ins have none", async () => {
    await ln.branches.create("cr");
    expect(await ln.branches.update("cr", { status: "draft" })).toMatchObject({
      status: "draft",
    });
    expect(await ln.branches.update("cr", { status: "review" })).toMatchObject({
      status: "review",
    });
    await expect(ln.branches.update("cr", { status: "merged" })).rejects.toMatchObject({
      kind: "validation",
    });
    await expect(ln.branches.update("cr", { status: "done" })).rejects.toMatchObject({
      kind: "validation",
    });
    await expect(ln.branches.update("main", { status: "draft" })).rejects.toMatchObject({
      kind: "validation",
    });
    await ln.branches.update("cr", { status: "closed" });
    await expect(ln.branches.merge("cr")).rejects.toMatchObject({ kind: "conflict" });
  });

  it("refuses merging a branch into itself, a built-in branch, or into the trash", async () => {
    await ln.branches.create("self");
    await ln.useBranch("self");
    await expect(ln.branches.merge("self")).rejects.toMatchObject({ kind: "validation" });
    await ln.useBranch("main");
    await expect(ln.branches.merge("trash")).rejects.toMatchObject({ kind: "validation" });
    await expect(ln.branches.merge("self", { target: "trash" })).rejects.toMatchObject({
      kind: "validation",
    });
    await expect(ln.useBranch("nope")).rejects.toMatchObject({ kind: "not-found" });
  });
});
