/** Ranked registry search (LaminDB's `.search`, laminspec §4.10) on each database. */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../core/errors.js";
import type { Instance } from "../core/instance.js";
import { BACKENDS, createInstance, type TestInstance, useTempHome } from "./helpers.js";

useTempHome();

describe.each(BACKENDS)("search on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    for (const name of [
      "CD4-positive T cell",
      "T cell",
      "t cells",
      "B cell",
      "T cell receptor",
      "Monocyte",
      "cytotoxic T cell",
      "T-cell",
    ]) {
      await ln.ulabels.create({ name });
    }
    await ln.features.create({ name: "temperature", dtype: "float" });
    await ln.features.create({ name: "cell_type", dtype: "cat" });
    await ln.db.execute(
      sql`UPDATE lamindb_feature SET synonyms = 'celltype|T cell type' WHERE name = 'cell_type'`,
    );
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("ranks exact (case-insensitive) matches first, then words, prefixes, contains", async () => {
    const hits = await ln.search("ulabel", "t cell");
    expect(hits[0]).toMatchObject({ name: "T cell" });
    expect(hits[0]?.score).toBeGreaterThanOrEqual(200);
    const names = hits.map((h) => h.name);
    // whole-word matches (10) before prefix-only (8) before contains
    expect(names.slice(1, 4).sort()).toEqual(
      ["CD4-positive T cell", "T cell receptor", "cytotoxic T cell"].sort(),
    );
    expect(names).toContain("t cells");
    // blanks, '-' and '_' count as one separator (beyond LaminDB): after LaminDB's own ranks
    expect(names.at(-1)).toBe("T-cell");
    expect(names).not.toContain("B cell");
    expect(names).not.toContain("Monocyte");
    const scores = hits.map((h) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("matches '|'-separated synonyms like exact names", async () => {
    const [hit] = await ln.search("features", "CellType");
    expect(hit).toMatchObject({ name: "cell_type" });
    expect(hit?.score).toBeGreaterThanOrEqual(200);
    expect(await ln.search("feature", "zzz")).toEqual([]);
  });

  it("treats the text literally and refuses bad input", async () => {
    expect(await ln.search("ulabel", "T.cell")).toEqual([]);
    expect(await ln.search("ulabel", "(")).toEqual([]);
    expect(await ln.search("ulabel", "%")).toEqual([]);
    expect((await ln.search("ulabel", "cell", { limit: 2 })).length).toBe(2);
    await expect(ln.search("nope", "x")).rejects.toBeInstanceOf(ValidationError);
    await expect(ln.search("ulabel", "  ")).rejects.toBeInstanceOf(ValidationError);
  });
});
