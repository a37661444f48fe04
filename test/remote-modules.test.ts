/**
 * Module reads (`lamin module list`, `lamin bionty search | lookup`) give the same answers
 * through `lamin serve` as in process; enabling a module, a schema change, is refused through
 * the server with a hint to run it where the database is.
 */
import { describe, expect, it } from "vitest";
import { twins } from "./twins.js";

const { both, bothJson } = twins("lamin-remote-modules-", { init: ["--modules", "bionty"] });

describe("module reads in process and through `lamin serve`", () => {
  it("module list, bionty search and lookup answer alike; bad input fails alike", async () => {
    const listed = await bothJson<{ name: string; enabled: boolean }[]>(["module", "list"]);
    expect(listed.served).toContainEqual(
      expect.objectContaining({ name: "bionty", enabled: true }),
    );
    await both(["module", "list"]);

    const found = await bothJson<{ registry: string; hits: { name: string; match: string }[] }>([
      "bionty",
      "search",
      "celltype",
      "t cell",
    ]);
    expect(found.served.registry).toBe("bionty.CellType");
    expect(found.served.hits[0]).toMatchObject({ name: "T cell", match: "name" });
    await both(["bionty", "search", "celltype", "t cell", "--limit", "3"]);
    await both(["bionty", "search", "tissue", "brain"]);
    await both(["bionty", "search", "nope", "x"], 2);

    // one value and many: the query carries `value` once or repeated
    await both(["bionty", "lookup", "CellType.ontology_id", "CL:0000084"]);
    const looked = await bothJson<{ found: unknown[]; missing: { value: string }[] }>(
      ["bionty", "lookup", "cat[bionty.CellType]", "T cell", "T-cell", "B cell", "nonsense cell"],
      3,
    );
    expect(looked.served.found.length).toBeGreaterThan(0);
    expect(looked.served.missing.map((m) => m.value)).toContain("nonsense cell");
    await both(["bionty", "lookup", "CellType.nope", "x"], 2);
  }, 120_000);
});

describe("schema changes through a running server", () => {
  const { run } = twins("lamin-remote-modules-enable-");
  it("module enable and migrate deploy say to stop `lamin serve` first, without waiting", async () => {
    for (const args of [
      ["module", "enable", "bionty"],
      ["migrate", "deploy"],
    ]) {
      const r = await run("served", args);
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toMatch(/held by `lamin serve` \(process \d+\); a schema change needs/);
      expect(r.stderr).toMatch(/stop the server, run this command, then start the server again/);
      expect(r.stderr).not.toMatch(/waiting for process/);
    }
  }, 60_000);
});
