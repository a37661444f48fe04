/**
 * LaminDB's space commands as a new user types them: `lamin create space`, `lamin list space`,
 * `lamin save FILE --space NAME`, and the refusals (a taken name, a bad name, an unknown space).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { openInstance } from "../core/setup.js";
import { expectRefusal, laminIn, tempDir, useTempHome } from "./helpers.js";

useTempHome();
const LONG = 300_000;

describe("lamin create|list space, save --space", () => {
  const dir = tempDir("lamin-spaces-cli-");
  const { run, json } = laminIn(dir);

  beforeAll(async () => {
    expect((await run("init", "--storage", "./data")).code).toBe(0);
  }, LONG);

  it(
    "creates and lists spaces, saves into one; refusals are clear and save nothing",
    async () => {
      const made = await json<{ name: string; uid: string }>(
        "create",
        "space",
        "lab-a",
        "--description",
        "lab A",
      );
      expect(made.name).toBe("lab-a");
      const listed = await run("list", "space");
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/all\s+aaaaaaaaaaaa/);
      expect(listed.stdout).toMatch(/lab-a\s+\w{12}\s+\S+\s+lab A/);
      writeFileSync(join(dir, "a.csv"), "a\n1\n");
      const saved = await json<{ key: string; uid: string }>(
        "save",
        "a.csv",
        "--key",
        "a.csv",
        "--space",
        "LAB-A",
      );
      expect(saved.key).toBe("a.csv");
      expectRefusal(await run("create", "space", "Lab-A"), 4, /space 'Lab-A' already exists/);
      expectRefusal(await run("create", "space", "a/b"), 2, /is not a space name/);
      writeFileSync(join(dir, "b.csv"), "b\n1\n");
      expectRefusal(
        await run("save", "b.csv", "--key", "b.csv", "--space", "nope"),
        3,
        /no space 'nope'; the spaces you can use: all, lab-a/,
      );
      const keys = (await json<{ key: string }[]>("ls")).map((a) => a.key);
      expect(keys).toEqual(["a.csv"]);
      expect((await run("create", "space", "--help")).stdout).toContain("lamin create space");
    },
    LONG,
  );

  it(
    "switch --space: later saves go to that space until switched back to all; update --space moves one",
    async () => {
      const switched = await run("switch", "--space", "LAB-A");
      expect(switched.code, switched.stderr).toBe(0);
      expect((await json<{ space: string }>("settings")).space).toBe("lab-a");
      writeFileSync(join(dir, "c.csv"), "c\n1\n");
      expect((await run("save", "c.csv", "--key", "c.csv")).code).toBe(0);
      expectRefusal(
        await run("switch", "--space", "nope"),
        3,
        /no space 'nope'; the spaces you can use: all, lab-a/,
      );
      expectRefusal(await run("switch", "-c", "--space", "x"), 2, /-c creates branches/);
      expect((await json<{ space: string }>("settings")).space).toBe("lab-a");
      expect((await run("switch", "--space", "all")).code).toBe(0);
      expect((await json<{ space: string }>("settings")).space).toBe("all");
      writeFileSync(join(dir, "d.csv"), "d\n1\n");
      expect((await run("save", "d.csv", "--key", "d.csv")).code).toBe(0);
      writeFileSync(join(dir, "e.csv"), "e\n1\n");
      expect((await run("save", "e.csv", "--key", "e.csv")).code).toBe(0);
      const moved = await run("update", "artifact", "--key", "e.csv", "--space", "lab-a");
      expect(moved.code, moved.stderr).toBe(0);
      expect(moved.stdout).toContain("moved to space lab-a");
      expectRefusal(
        await run("update", "branch", "--space", "lab-a"),
        2,
        /--space moves an artifact/,
      );
      const ln = await openInstance();
      try {
        const rows = await queryRows<{ key: string; space: string }>(
          ln.db,
          sql`SELECT a.key, s.name AS space FROM lamindb_artifact a
            JOIN lamindb_space s ON s.id = a.space_id ORDER BY a.key`,
        );
        expect(rows).toEqual([
          { key: "a.csv", space: "lab-a" },
          { key: "c.csv", space: "lab-a" },
          { key: "d.csv", space: "all" },
          { key: "e.csv", space: "lab-a" },
        ]);
      } finally {
        await ln.close();
      }
    },
    LONG,
  );
});
