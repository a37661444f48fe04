/**
 * Lineage on a graph of known shape, built by tracked runs:
 *
 *   A ─▶ run1 ─▶ C ─┐
 *                   ├▶ run2 ─▶ D ─▶ run3 ─▶ F ─┐
 *   B ──────────────┘        └▶ E ─────────────┴▶ run4 (collects E, F into K) ─▶ K, G
 *                                                  K ─▶ run5 ─▶ H
 *
 * Exact nodes and edges upstream and downstream of D at several depths, both directions, the
 * formats (text, mermaid, dot, svg), the API route, and bad input (unknown uid, depth < 1).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFoundError, ValidationError } from "../core/errors.js";
import type { Instance } from "../core/instance.js";
import {
  type LineageGraph,
  toDot,
  toMermaid,
  toSvg,
  toText,
} from "../core/registry/lineage/lineage.js";
import { openInstance } from "../core/setup.js";
import { createApp } from "../functions/api/app.js";
import {
  BACKENDS,
  createInstance,
  lamin,
  startLamin,
  stopChild,
  type TestInstance,
  tempDir,
  useTempHome,
} from "./helpers.js";

const home = useTempHome();

describe.each(BACKENDS)("lineage on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  const u: Record<string, string> = {}; // name -> uid

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir();
    const file = (name: string) => {
      const path = join(work, name);
      writeFileSync(path, `${name} ${backend}\n`);
      return path;
    };
    const save = async (name: string) => {
      const { artifact } = await ln.artifacts.save(file(`${name}.txt`), { key: `g/${name}.txt` });
      u[name] = artifact.uid;
    };
    const load = (name: string) => ln.artifacts.load(u[name] as string, { to: join(work, "dl") });
    const step = async (n: number, body: () => Promise<void>) => {
      const path = join(work, `step${n}.sh`);
      writeFileSync(path, `echo step ${n}\n`);
      const { run, transform } = await ln.track({ path, captureProcess: false });
      u[`run${n}`] = run.uid;
      u[`t${n}`] = transform.uid;
      await body();
      await ln.finish();
    };
    await save("A");
    await save("B");
    await step(1, async () => {
      await load("A");
      await save("C");
    });
    await step(2, async () => {
      await load("C");
      await load("B");
      await save("D");
      await save("E");
      await load("D"); // its own output: not an input
    });
    await step(3, async () => {
      await load("D");
      await save("F");
    });
    await step(4, async () => {
      const { record } = await ln.collections.create({
        key: "g/K",
        artifacts: [u.E as string, u.F as string],
      });
      u.K = record.uid;
      await save("G");
    });
    await step(5, async () => {
      await ln.collections.load(u.K as string, { to: join(work, "k") });
      await save("H");
    });
  });
  afterAll(async () => {
    await t?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The graph as sorted "type name" nodes and "from>to" edges, with names for uids. */
  const names = (g: LineageGraph) => {
    const byUid = new Map(Object.entries(u).map(([k, v]) => [v, k]));
    const n = (uid: string) => byUid.get(uid) ?? uid;
    return {
      nodes: g.nodes.map((x) => `${x.type} ${n(x.id)}`).sort(),
      edges: g.edges.map((e) => `${n(e.from)}>${n(e.to)}`).sort(),
    };
  };

  it("walks upstream one run deep, then to the sources", async () => {
    const one = names(await ln.lineage(u.D as string, { direction: "upstream", depth: 1 }));
    expect(one.nodes).toEqual(
      ["artifact B", "artifact C", "artifact D", "run run2", "transform t2"].sort(),
    );
    expect(one.edges).toEqual(["B>run2", "C>run2", "run2>D", "t2>run2"].sort());
    const all = names(await ln.lineage(u.D as string, { direction: "upstream", depth: 10 }));
    expect(all.nodes).toEqual(
      [
        "artifact A",
        "artifact B",
        "artifact C",
        "artifact D",
        "run run1",
        "run run2",
        "transform t1",
        "transform t2",
      ].sort(),
    );
    expect(all.edges).toEqual(
      ["A>run1", "run1>C", "B>run2", "C>run2", "run2>D", "t1>run1", "t2>run2"].sort(),
    );
    expect(await ln.lineage(u.D as string, { direction: "upstream", depth: 2 })).toEqual({
      ...(await ln.lineage(u.D as string, { direction: "upstream", depth: 10 })),
      depth: 2,
    });
  });

  it("walks downstream through artifacts and collections, bounded by depth", async () => {
    const one = names(await ln.lineage(u.D as string, { direction: "downstream", depth: 1 }));
    expect(one.nodes).toEqual(["artifact D", "artifact F", "run run3", "transform t3"].sort());
    expect(one.edges).toEqual(["D>run3", "run3>F", "t3>run3"].sort());
    const two = names(await ln.lineage(u.D as string, { direction: "downstream", depth: 2 }));
    expect(two.nodes).toEqual(
      [
        "artifact D",
        "artifact F",
        "artifact G",
        "collection K",
        "run run3",
        "run run4",
        "transform t3",
        "transform t4",
      ].sort(),
    );
    expect(two.edges).toEqual(
      ["D>run3", "run3>F", "t3>run3", "F>run4", "run4>K", "run4>G", "t4>run4"].sort(),
    );
    const three = names(await ln.lineage(u.D as string, { direction: "downstream", depth: 3 }));
    expect(three.edges).toEqual([...two.edges, "K>run5", "run5>H", "t5>run5"].sort());
    expect(three.nodes).toEqual([...two.nodes, "artifact H", "run run5", "transform t5"].sort());
  });

  it("combines both directions and reports depths", async () => {
    const g = await ln.lineage(u.D as string, { depth: 1 });
    expect(g).toMatchObject({ root: u.D, direction: "both", depth: 1 });
    expect(names(g).edges).toEqual(
      ["B>run2", "C>run2", "run2>D", "t2>run2", "D>run3", "run3>F", "t3>run3"].sort(),
    );
    const depth = new Map(g.nodes.map((n) => [n.id, n.depth]));
    expect(depth.get(u.D as string)).toBe(0);
    expect(depth.get(u.run2 as string)).toBe(1);
    expect(depth.get(u.F as string)).toBe(1);
    // a source artifact has nothing upstream; the last output nothing downstream
    expect(names(await ln.lineage(u.A as string, { direction: "upstream" })).nodes).toEqual([
      "artifact A",
    ]);
    expect(names(await ln.lineage(u.H as string, { direction: "downstream" })).edges).toEqual([]);
    // by key
    expect((await ln.lineage({ key: "g/D.txt" }, { depth: 1 })).root).toBe(u.D);
  });

  it("renders text, mermaid and dot", async () => {
    const g = await ln.lineage(u.D as string, { depth: 1 });
    const text = toText(g);
    expect(text.split("\n")[0]).toBe(`artifact ${u.D}  g/D.txt`);
    expect(text).toContain(`<- run ${u.run2}  step2.sh (completed)`);
    expect(text).toContain(`-> run ${u.run3}  step3.sh (completed)`);
    const mermaid = toMermaid(g);
    expect(mermaid.startsWith("flowchart LR\n")).toBe(true);
    expect(mermaid.match(/-->/g)?.length).toBe(5);
    expect(mermaid.match(/-.->/g)?.length).toBe(2);
    const dot = toDot(g);
    expect(dot.startsWith("digraph lineage {")).toBe(true);
    expect(dot.match(/ -> /g)?.length).toBe(7);
    const svg = toSvg(g);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<g class="node /g)?.length).toBe(g.nodes.length);
    expect(svg.match(/<path class="edge /g)?.length).toBe(7);
    expect(svg.match(/class="edge transform"[^>]*stroke-dasharray/g)?.length).toBe(2);
    for (const n of g.nodes) expect(svg).toContain(`id="${n.id}"`);
    // the start is drawn bold; data flows left to right: an input sits left of its run
    expect(svg).toMatch(new RegExp(`id="${u.D}">[^\\n]*stroke-width="3"`));
    const xOf = (id: string) =>
      Number(new RegExp(`id="${id}"><[a-z]+ (?:points="|x=")(\\d+)`).exec(svg)?.[1]);
    const runEdge = g.edges.find((e) => e.kind === "input" && e.to === u.run3);
    expect(runEdge).toBeTruthy();
    expect(xOf(runEdge?.from as string)).toBeLessThan(xOf(u.run3 as string));
  });

  it("refuses an unknown artifact and a bad depth", async () => {
    await expect(ln.lineage("0000000000000000zzzz")).rejects.toThrow(NotFoundError);
    await expect(ln.lineage({ key: "g/none.txt" })).rejects.toThrow(NotFoundError);
    await expect(ln.lineage(u.D as string, { depth: 0 })).rejects.toThrow(ValidationError);
    await expect(ln.lineage(u.D as string, { depth: 101 })).rejects.toThrow(ValidationError);
    await expect(ln.lineage(u.D as string, { depth: 1.5 })).rejects.toThrow(ValidationError);
    await expect(ln.lineage(u.D as string, { direction: "sideways" as never })).rejects.toThrow(
      ValidationError,
    );
  });

  it("prints lineage with the CLI, in process and through lamin serve", async () => {
    const expected = await ln.lineage(u.D as string, { direction: "downstream", depth: 3 });
    await t.instance.close(); // the embedded database is held by one process at a time
    const env = { LAMIN_HOME: home, LAMIN_INSTANCE: t.name };
    const cli = (args: string[]) => lamin(args, { env });
    try {
      const json = await cli([
        "lineage",
        "--key",
        "g/D.txt",
        "--downstream",
        "--depth",
        "3",
        "--json",
      ]);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(expected);
      const text = await cli(["lineage", u.D as string, "--depth", "1"]);
      expect(text.stdout).toContain(`<- run ${u.run2}  step2.sh (completed)`);
      const mermaid = await cli(["lineage", u.D as string, "--format", "mermaid"]);
      expect(mermaid.stdout.startsWith("flowchart LR")).toBe(true);
      const svg = await cli(["lineage", u.D as string, "--format", "svg"]);
      expect(svg.stdout.startsWith("<svg ")).toBe(true);
      const bad = await cli(["lineage", u.D as string, "--depth", "0"]);
      expect(bad.code).toBe(2);
      const unknown = await cli(["lineage", "0000000000000000zzzz"]);
      expect(unknown.code).toBe(3);
      if (backend === "pglite") {
        const { child } = await startLamin(["serve", "--port", "0", "--json"], env);
        try {
          const served = await cli([
            "lineage",
            "--key",
            "g/D.txt",
            "--downstream",
            "--depth",
            "3",
            "--json",
          ]);
          expect(served.code, served.stderr).toBe(0);
          expect(JSON.parse(served.stdout)).toEqual(expected);
        } finally {
          await stopChild(child);
        }
      }
    } finally {
      t.instance = await openInstance(t.name);
      ln = t.instance;
    }
  });

  it("answers GET /artifacts/{uid}/lineage", async () => {
    const app = createApp({ instance: () => ln, authorize: (token) => token === "tok" });
    const get = (path: string) => app.request(path, { headers: { authorization: "Bearer tok" } });
    const res = await get(`/artifacts/${u.D}/lineage?direction=upstream&depth=1`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as LineageGraph;
    expect(body).toEqual(await ln.lineage(u.D as string, { direction: "upstream", depth: 1 }));
    expect((await get(`/artifacts/${u.D}/lineage?depth=0`)).status).toBe(400);
    expect((await get("/artifacts/0000000000000000zzzz/lineage")).status).toBe(404);
  });
});
