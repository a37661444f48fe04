/**
 * Features, labels, annotation and search through the built `lamin` (run `node scripts/build.mjs`
 * first) and through the HTTP API's artifact list (`feature.<lookup>` query parameters).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../functions/api/app.js";
import { createInstance, expectRefusal, laminIn, tempDir, useTempHome } from "./helpers.js";

const home = useTempHome();
const work = tempDir("lamin-features-cli-");
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const { run, json } = laminIn(work);

describe("lamin feature / ulabel / project / annotate / search", () => {
  it("defines, annotates, queries and searches from the command line", async () => {
    expect((await run("init", "--storage", join(work, "store"))).code).toBe(0);
    writeFileSync(join(work, "a.csv"), "a\n1\n");
    const a = await json<{ uid: string }>("save", join(work, "a.csv"), "--key", "raw/a.csv");

    const temp = await json<{ dtype: string; status: string }>(
      "feature",
      "create",
      "temperature",
      "--dtype",
      "float",
    );
    expect(temp).toMatchObject({ dtype: "float", status: "created" });
    expect(await json("feature", "create", "cell_type", "--dtype", "cat")).toMatchObject({
      dtype: "cat[ULabel]",
    });
    await json("ulabel", "create", "Lymphocyte");
    expect(await json("ulabel", "create", "T-cell", "--parent", "Lymphocyte")).toMatchObject({
      name: "T-cell",
      is_type: false,
    });
    expectRefusal(await run("ulabel", "create", "Lymphocyte", "--parent", "T-cell"), 2, /cycle/);
    await json("project", "create", "P");

    const annotated = await json<{ features: Record<string, unknown>; projects: string[] }>(
      "annotate",
      a.uid,
      "--features",
      "temperature=37.5",
      "cell_type=T-cell",
      "--project",
      "P",
    );
    expect(annotated).toMatchObject({
      features: { temperature: 37.5, cell_type: "T-cell" },
      projects: ["P"],
    });
    expectRefusal(
      await run("annotate", a.uid, "--features", "temprature=1"),
      2,
      /did you mean 'temperature'/,
    );
    expectRefusal(
      await run("annotate", a.uid, "--features", "cell_type=T-cel"),
      2,
      /'T-cel'.*close matches.*'T-cell'/,
    );
    // by key: the latest version of the artifact; the same annotation read back
    const byKey = await json<{ uid: string; features: Record<string, unknown> }>(
      "annotate",
      "--key",
      "raw/a.csv",
    );
    expect(byKey).toMatchObject({ uid: a.uid, features: annotated.features });
    expectRefusal(await run("annotate", "--key", "raw/nope.csv"), 3, /raw\/nope.csv/);
    expectRefusal(await run("annotate", a.uid, "--key", "raw/a.csv"), 2, /not both/);
    expectRefusal(await run("annotate", "--features", "temperature=1"), 2, /which artifact/);
    expectRefusal(await run("annotate", "raw/a.csv"), 2, /to name it by key: --key raw\/a.csv/);
    expectRefusal(await run("annotate", "--run", "--key", "raw/a.csv"), 2, /run's uid/);

    const keys = async (...args: string[]) =>
      (await json<{ key: string }[]>("ls", ...args)).map((x) => x.key).sort();
    expect(
      await keys("--features", "temperature__gt=30", "cell_type=T-cell", "--project", "P"),
    ).toEqual(["raw/a.csv"]);
    expect(await keys("--features", "temperature__gt=40")).toEqual([]);

    const hits = await json<{ name: string; score: number }[]>("search", "ulabel", "t cell");
    expect(hits[0]?.name).toBe("T-cell");
    const help = await run("annotate", "--help");
    expect(help.stdout).toMatch(/--features/);
    expect(help.stdout).toMatch(/lamin ls --features temperature__gt=30/);
  }, 120_000);

  it("the API lists artifacts by feature values (feature.<lookup>) and labels", async () => {
    const t = await createInstance("pglite");
    try {
      const ln = t.instance;
      writeFileSync(join(work, "c.csv"), "c\n3\n");
      const { artifact } = await ln.artifacts.save(join(work, "c.csv"), { key: "raw/c.csv" });
      await ln.features.create({ name: "temperature", dtype: "float" });
      await ln.ulabels.create({ name: "batch 1" });
      await ln.artifacts.features(artifact.uid).add({ temperature: 40 });
      await ln.artifacts.features(artifact.uid).addLabels({ ulabels: ["batch 1"] });
      const app = createApp({ instance: () => ln, authorize: (token) => token === "tok" });
      const get = async (query: string) => {
        const res = await app.request(`/artifacts?${query}`, {
          headers: { authorization: "Bearer tok" },
        });
        return {
          status: res.status,
          body: (await res.json()) as { items?: { key: string }[]; detail?: string },
        };
      };
      expect((await get("feature.temperature__gt=30")).body.items?.map((i) => i.key)).toEqual([
        "raw/c.csv",
      ]);
      expect((await get("feature.temperature__gt=50")).body.items).toEqual([]);
      expect((await get("ulabels__name=batch%201")).body.items?.map((i) => i.key)).toEqual([
        "raw/c.csv",
      ]);
      const bad = await get("feature.nope=1");
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toMatch(/unknown feature 'nope'/);

      // annotate and read back over HTTP; a bad input (even after a remove) changes nothing
      const send = async (method: string, path: string, body?: unknown) => {
        const res = await app.request(path, {
          method,
          headers: { authorization: "Bearer tok", "content-type": "application/json" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const path = `/artifacts/${artifact.uid}/features`;
      expect((await send("GET", path)).body).toEqual({
        features: { temperature: 40 },
        ulabels: ["batch 1"],
        projects: [],
        records: [],
      });
      const refused = await send("POST", path, {
        remove: ["temperature"],
        features: { temperature: "hot" },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.detail).toMatch(/is not a number/);
      expect((await send("GET", path)).body.features).toEqual({ temperature: 40 });
      const replaced = await send("POST", path, {
        remove: ["temperature"],
        features: { temperature: 41.5 },
      });
      expect(replaced).toMatchObject({ status: 200, body: { features: { temperature: 41.5 } } });
      const hits = await send("GET", "/search/ulabels?q=batch");
      expect(hits.status).toBe(200);
      expect((hits.body as unknown as { name: string }[])[0]?.name).toBe("batch 1");
      expect((await send("GET", "/search/nope?q=x")).status).toBe(400);
    } finally {
      await t.dispose();
    }
  });
});
