/**
 * Artifacts ordered by key, description, size and suffix (the web UI's sortable columns), page by page with
 * the keyset cursor: every row once, in order, on each database; artifacts without a key first
 * (ascending); a cursor of another ordering refused.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken, tokenMatches } from "../core/auth.js";
import { ValidationError } from "../core/errors.js";
import type { Artifact, ArtifactOrderBy } from "../core/registry/artifacts/artifacts.js";
import { createApp } from "../functions/api/app.js";
import { BACKENDS, createInstance, type TestInstance, tempDir, useTempHome } from "./helpers.js";

useTempHome();

describe.each(BACKENDS)("artifacts ordered by key, size, suffix on %s", (backend) => {
  let t: TestInstance;
  const work = tempDir();

  beforeAll(async () => {
    t = await createInstance(backend);
    const files: [string | undefined, string, number][] = [
      ["b/two.csv", "two.csv", 30],
      ["a/one.txt", "one.txt", 5],
      ["c/three.parquet", "three.parquet", 30],
      [undefined, "nokey.json", 12],
      ["a/zero.csv", "zero.csv", 1],
      ["b/four.md", "four.md", 99],
      [undefined, "nokey2.csv", 7],
    ];
    for (const [key, name, size] of files) {
      const path = join(work, name);
      writeFileSync(path, name.padEnd(size, "x").slice(0, size));
      await t.instance.artifacts.save(path, key ? { key } : { description: name });
    }
  });
  afterAll(async () => {
    await t?.dispose();
  });

  /** Every artifact, by following the cursor through pages of 2. */
  const all = async (orderBy: ArtifactOrderBy) => {
    const seen: Artifact[] = [];
    let cursor: string | undefined;
    do {
      const page = await t.instance.artifacts.list({
        orderBy,
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return seen;
  };
  const value = (a: Artifact, field: "key" | "description" | "size" | "suffix") =>
    field === "size" ? (a.size ?? -1) : (a[field] ?? "");

  it.each(["key", "description", "size", "suffix"] as const)(
    "pages by %s, both ways, every row once",
    async (field) => {
      const everything = await all("-created_at");
      expect(everything).toHaveLength(7);
      for (const desc of [false, true]) {
        const got = await all(`${desc ? "-" : ""}${field}` as ArtifactOrderBy);
        expect(got.map((a) => a.uid).sort()).toEqual(everything.map((a) => a.uid).sort());
        const values = got.map((a) => value(a, field));
        const sorted = [...values].sort((x, y) =>
          typeof x === "number" && typeof y === "number" ? x - y : x < y ? -1 : x > y ? 1 : 0,
        );
        expect(values).toEqual(desc ? sorted.reverse() : sorted);
      }
    },
  );

  it("puts artifacts without a key first, by key ascending", async () => {
    const first = (await t.instance.artifacts.list({ orderBy: "key", limit: 2 })).items;
    expect(first.map((a) => a.key)).toEqual([null, null]);
  });

  it("refuses a cursor of another ordering, and an unknown ordering", async () => {
    const page = await t.instance.artifacts.list({ orderBy: "size", limit: 2 });
    await expect(
      t.instance.artifacts.list({ orderBy: "key", cursor: page.nextCursor as string }),
    ).rejects.toThrow(ValidationError);
    await expect(t.instance.artifacts.list({ orderBy: "hash" as never })).rejects.toMatchObject({
      message: "cannot order by 'hash'",
      hint: expect.stringContaining("created_at, updated_at, id, key, description, size, suffix"),
    });
  });

  it("orders over HTTP (order_by=size), and refuses an ordering it does not have", async () => {
    const token = "lnt_order-test";
    const app = createApp({
      instance: () => t.instance,
      authorize: (given) => given !== undefined && tokenMatches(given, hashToken(token)),
    });
    const auth = { authorization: `Bearer ${token}` };
    const res = await app.request("/artifacts?order_by=-size&limit=3", { headers: auth });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Artifact[] };
    expect(body.items.map((a) => a.size)).toEqual([99, 30, 30]);
    expect((await app.request("/artifacts?order_by=hash", { headers: auth })).status).toBe(400);
  });
});
