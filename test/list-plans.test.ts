/**
 * Lists by key prefix reuse their plan choice (few matching rows or many) for a while, and read
 * the page's ids from the artifact table alone unless a filter names a joined table (issue 19).
 * Neither may change which rows a list answers.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInstance, type TestInstance, tempDir, useTempHome, writeTree } from "./helpers.js";

useTempHome();

describe("lists by key prefix", () => {
  let t: TestInstance;
  let work: string;
  beforeAll(async () => {
    t = await createInstance("pglite");
    work = tempDir();
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  const save = async (name: string) => {
    writeTree(work, { [name]: `content of ${name}\n` });
    return (await t.instance.artifacts.save(join(work, name), { key: `folder/${name}` })).artifact;
  };
  const keys = async (filter: Record<string, unknown>) =>
    (await t.instance.artifacts.list({ filter, limit: 50 })).items.map((a) => a.key);

  it("answers rows saved after the plan was chosen, and filters on joined tables", async () => {
    await save("a.csv");
    expect(await keys({ key__startswith: "folder/" })).toEqual(["folder/a.csv"]);
    const b = await save("b.csv");
    // the same prefix again: the plan is reused, the rows are read anew
    expect(await keys({ key__startswith: "folder/" })).toEqual(["folder/b.csv", "folder/a.csv"]);
    expect(await keys({ key__startswith: "folder/b" })).toEqual(["folder/b.csv"]);
    expect(await keys({ key__startswith: "folder/%" })).toEqual([]);
    // a filter on the storage table goes through its join
    expect(await keys({ key__startswith: "folder/", storage__root: t.root })).toEqual([
      "folder/b.csv",
      "folder/a.csv",
    ]);
    expect(await keys({ key__startswith: "folder/", storage__root: "/elsewhere" })).toEqual([]);
    await t.instance.artifacts.delete(b.uid);
    expect(await keys({ key__startswith: "folder/" })).toEqual(["folder/a.csv"]);
  });
});
