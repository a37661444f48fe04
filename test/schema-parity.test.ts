/**
 * Schemas as LaminDB 2.9.1 writes them: the hash entries of `_validate_kwargs_calculate_hash`
 * (vectors computed by that very function: scripts/schema-hash-vectors.py), including `k=`
 * (index feature), `m=` (suffix) and `a=num` of composites, and the row values it stores:
 * `n_members` NULL without features, `coerce` NULL unless true, `_dtype_str` 'num' on composites.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { hashString } from "../core/hash.js";
import type { Instance } from "../core/instance.js";
import { type HashInput, schemaHash, schemaHashEntries } from "../core/registry/schemas/schemas.js";
import { BACKENDS, createInstance, REPO, type TestInstance, useTempHome } from "./helpers.js";

useTempHome();

interface Vector {
  name: string;
  input: {
    features: string[];
    optional?: string[];
    index?: string;
    itype?: string;
    flexible?: boolean;
    coerce?: boolean;
    suffix?: string;
    ordered_set?: boolean;
    maximal_set?: boolean;
    slots?: Record<string, string>;
    otype?: string;
  };
  entries: string[];
  hash: string;
  row: { n_members: number | null; coerce: boolean | null; _dtype_str: string | null };
}

const fixture = JSON.parse(
  readFileSync(join(REPO, "test", "fixtures", "schema-hash-vectors.json"), "utf8"),
) as { source: string; vectors: Vector[] };

/** The builder's input for a vector: the index feature is the first member, as LaminDB puts it. */
function hashInput(v: Vector["input"]): HashInput {
  const members = v.index ? [v.index, ...v.features] : v.features;
  const composite = v.slots !== undefined;
  return {
    ...(composite ? { dtype: "num" } : { itype: "Feature" }),
    minimalSet: true,
    orderedSet: v.ordered_set ?? false,
    maximalSet: v.maximal_set ?? false,
    flexible: v.flexible ?? members.length === 0,
    coerce: v.coerce ?? false,
    n: members.length || -1,
    featureUids: members,
    optionalUids: v.optional ?? [],
    ...(v.index ? { index: v.index } : {}),
    ...(v.suffix ? { suffix: v.suffix } : {}),
    ...(v.slots ? { slots: v.slots } : {}),
  };
}

describe("LaminDB's schema hash entries", () => {
  it("reproduces every vector of LaminDB's own hash function, k= and m= included", () => {
    expect(fixture.source).toMatch(/^lamindb fa34c885/);
    expect(fixture.vectors.length).toBeGreaterThanOrEqual(14);
    for (const v of fixture.vectors) {
      const entries = schemaHashEntries(hashInput(v.input));
      expect(entries, v.name).toEqual(v.entries);
      expect(schemaHash(entries), v.name).toBe(v.hash);
    }
    const names = fixture.vectors.flatMap((v) => v.entries.map((e) => e.slice(0, 2)));
    for (const code of ["a=", "k=", "m=", "g=", "f="]) expect(names).toContain(code);
  });
});

describe.each(BACKENDS)("schema rows as LaminDB writes them on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  const row = async (name: string) =>
    (
      await queryRows<{
        n_members: number | null;
        coerce: boolean | null;
        flexible: boolean;
        _dtype_str: string | null;
        hash: string;
      }>(
        ln.db,
        sql`SELECT n_members, coerce, flexible, _dtype_str, hash FROM lamindb_schema WHERE name = ${name}`,
      )
    )[0];
  const written = (name: string) => fixture.vectors.find((v) => v.name === name)?.row;

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    await ln.features.create({ name: "sample_id", dtype: "str" });
    await ln.features.create({ name: "n_cells", dtype: "int" });
  });
  afterAll(() => t.dispose());

  it("stores NULL where LaminDB does: n_members without features, coerce unless true", async () => {
    await ln.schemas.create({ name: "any_feature" });
    await ln.schemas.create({ name: "two", features: ["sample_id", "n_cells"] });
    await ln.schemas.create({
      name: "two_coerced",
      features: ["sample_id", "n_cells"],
      coerce: true,
    });
    expect(await row("any_feature")).toMatchObject({
      n_members: written("flexible_itype_feature")?.n_members,
      coerce: written("flexible_itype_feature")?.coerce,
      flexible: true,
      hash: "kMi7B_N88uu-YnbTLDU-DA",
    });
    expect(await row("two")).toMatchObject({
      n_members: 2,
      coerce: written("two_features")?.coerce,
    });
    expect(await row("two_coerced")).toMatchObject({ n_members: 2, coerce: true });
    // the public shape keeps its meaning: -1 members = any registered feature
    expect(await ln.schemas.get("any_feature")).toMatchObject({ n_members: -1, coerce: false });
  });

  it("hashes and stores composites as LaminDB (a=num, _dtype_str num), and finds older ones", async () => {
    const made = await ln.schemas.create({ name: "cells_any", components: { obs: "any_feature" } });
    const lamindb = schemaHash([
      "a=num",
      "c=True",
      "d=False",
      "e=False",
      `l=${hashString("obs=kMi7B_N88uu-YnbTLDU-DA")}`,
    ]);
    expect(made.record.hash).toBe(lamindb);
    expect(await row("cells_any")).toMatchObject({
      n_members: written("composite")?.n_members,
      coerce: written("composite")?.coerce,
      _dtype_str: written("composite")?._dtype_str,
      hash: lamindb,
    });
    // a composite made before (hashed without a=num) is the same schema, not a conflict
    const legacy = schemaHash([
      "c=True",
      "d=False",
      "e=False",
      `l=${hashString("obs=kMi7B_N88uu-YnbTLDU-DA")}`,
    ]);
    await ln.db.execute(sql`UPDATE lamindb_schema SET hash = ${legacy} WHERE name = 'cells_any'`);
    const again = await ln.schemas.create({
      name: "cells_any",
      components: { obs: "any_feature" },
    });
    expect(again).toMatchObject({ status: "existing", record: { uid: made.record.uid } });
  });
});
