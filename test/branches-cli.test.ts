/**
 * LaminDB's branch commands as a user types them (lamin-cli: `lamin create branch`, `lamin switch
 * [-c]`, `lamin list branch`, `lamin merge`, `lamin update branch --status`), in process and
 * through a running `lamin serve` (the branch travels as the `lamin-branch` header).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { expectRefusal, laminIn, startLamin, stopChild, tempDir, useTempHome } from "./helpers.js";

useTempHome();

type Listed = { key: string; uid: string }[];
interface BranchJson {
  name: string;
  status: string;
  current: boolean;
}

describe("branch commands", () => {
  const dir = tempDir("lamin-branches-cli-");
  const { run, json } = laminIn(dir);
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  const keys = async () => (await json<Listed>("ls")).map((a) => a.key);

  beforeAll(async () => {
    expect((await run("init", "--storage", "./data")).code).toBe(0);
  });

  it("create, switch, save, list, merge as in LaminDB", async () => {
    write("a.csv", "a\n1\n");
    expect((await run("save", "a.csv", "--key", "a.csv")).code).toBe(0);
    const created = await json<BranchJson>("create", "branch", "dev");
    expect(created).toMatchObject({ name: "dev", current: false });
    expect((await run("switch", "dev")).stdout).toContain("switched to dev");
    write("a.csv", "a\n2\n");
    expect((await run("save", "a.csv", "--key", "a.csv")).stdout).toContain("new version");
    write("b.csv", "b\n");
    expect((await run("save", "b.csv", "--key", "b.csv")).code).toBe(0);
    expect(await keys()).toEqual(expect.arrayContaining(["a.csv", "b.csv"]));
    const branches = await json<BranchJson[]>("list", "branch");
    expect(branches.find((b) => b.current)?.name).toBe("dev");
    expect((await json<{ branch: string }>("info")).branch).toBe("dev");
    expect((await run("info")).stdout).toMatch(/^branch\s+dev$/m);

    expect((await run("switch", "main")).code).toBe(0);
    expect(await keys()).toEqual(["a.csv"]);
    expect(
      await json<BranchJson>("update", "branch", "--name", "dev", "--status", "review"),
    ).toMatchObject({ status: "review" });
    const merged = await run("merge", "dev");
    expect(merged.stdout).toContain("merged branch 'dev' into 'main': 2 records moved");
    expect((await keys()).sort()).toEqual(["a.csv", "b.csv"]);
    const all = await json<Listed>("ls", "--all-versions");
    expect(all.filter((a) => a.key === "a.csv")).toHaveLength(2);
    expect((await json<BranchJson>("switch", "-c", "next")).current).toBe(true);
    expect((await json<{ branch: string }>("info")).branch).toBe("next");
    await run("switch", "main");
  }, 300_000);

  it("refuses what LaminDB refuses, with a hint, and changes nothing", async () => {
    expectRefusal(await run("merge", "dev"), 4, /branch 'dev' is merged/);
    expectRefusal(await run("switch", "nope"), 3, /no branch 'nope'/);
    expectRefusal(await run("switch", "-c", "dev"), 4, /already exists/);
    expectRefusal(await run("create", "branch", "bad name"), 2, /not a branch name/);
    expectRefusal(await run("create", "branch"), 2, /specify a name/);
    expectRefusal(await run("update", "branch", "--status", "draft"), 2, /built-in branch/);
    expect((await json<{ branch: string }>("info")).branch).toBe("main");
  }, 300_000);

  it("through a running lamin serve: the branch goes along with every request", async () => {
    const { child } = await startLamin(["serve", "--port", "0", "--json"], {});
    try {
      expect((await run("switch", "-c", "served")).code).toBe(0);
      write("s.csv", "served\n");
      expect((await run("save", "s.csv", "--key", "s.csv")).code).toBe(0);
      expect(await keys()).toContain("s.csv");
      expect((await run("switch", "main")).code).toBe(0);
      expect(await keys()).not.toContain("s.csv");
      expect((await run("merge", "served")).code).toBe(0);
      expect(await keys()).toContain("s.csv");
    } finally {
      await stopChild(child);
    }
  }, 300_000);
});
