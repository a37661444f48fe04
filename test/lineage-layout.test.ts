/**
 * The lineage picture (`lamin lineage --format svg`) and the web UI's graph share one layout
 * (core/lineage-layout.ts, dagre). An edge drawn behind a box it does not connect reads as a wrong
 * input: no edge of the SVG may cross an unrelated box.
 */
import { describe, expect, it } from "vitest";
import {
  layoutLineage,
  type PlacedNode,
  type Point,
  segmentCrossesBox,
} from "../core/lineage-layout.js";
import { type LineageGraph, toSvg } from "../core/registry/lineage/lineage.js";

/**
 * ds1 is read by the second run only, two layers to the right; the first run (and its output)
 * stand in the layers between, in ds1's row: a straight edge from ds1 runs behind them.
 */
const GRAPH: LineageGraph = {
  root: "ds1",
  direction: "both",
  depth: 5,
  nodes: [
    { id: "ds1", type: "artifact", label: "ds1.csv", depth: 1 },
    { id: "raw", type: "artifact", label: "raw.csv", depth: 2 },
    { id: "tPipe", type: "transform", label: "pipe.sh", depth: 2 },
    { id: "runPipe", type: "run", label: "pipe.sh (completed)", depth: 2 },
    { id: "mid", type: "artifact", label: "mid.parquet", depth: 1 },
    { id: "tJoin", type: "transform", label: "join.py", depth: 1 },
    { id: "runJoin", type: "run", label: "join.py (completed)", depth: 1 },
    { id: "out", type: "artifact", label: "out.parquet", depth: 0 },
  ],
  edges: [
    { from: "raw", to: "runPipe", kind: "input" },
    { from: "tPipe", to: "runPipe", kind: "transform" },
    { from: "runPipe", to: "mid", kind: "output" },
    { from: "mid", to: "runJoin", kind: "input" },
    { from: "ds1", to: "runJoin", kind: "input" },
    { from: "tJoin", to: "runJoin", kind: "transform" },
    { from: "runJoin", to: "out", kind: "output" },
  ],
};

/** The boxes and the edges' routes drawn by an SVG of toSvg (curves sampled into segments). */
function drawn(svg: string) {
  const boxes: PlacedNode[] = [];
  for (const m of svg.matchAll(/<g class="node \w+" id="([^"]+)"><(rect|polygon) ([^/]*)\/>/g)) {
    const attrs = m[3] as string;
    const num = (name: string) => Number(new RegExp(`${name}="(-?[\\d.]+)"`).exec(attrs)?.[1]);
    if (m[2] === "rect") {
      boxes.push({
        id: m[1] as string,
        x: num("x"),
        y: num("y"),
        width: num("width"),
        height: num("height"),
      });
    } else {
      const pts = (/points="([^"]+)"/.exec(attrs)?.[1] ?? "")
        .split(" ")
        .map((p) => p.split(",").map(Number));
      const xs = pts.map((p) => p[0] as number);
      const ys = pts.map((p) => p[1] as number);
      const [x, y] = [Math.min(...xs), Math.min(...ys)];
      boxes.push({
        id: m[1] as string,
        x,
        y,
        width: Math.max(...xs) - x,
        height: Math.max(...ys) - y,
      });
    }
  }
  const routes: { points: Point[] }[] = [];
  for (const m of svg.matchAll(/<path class="edge \w+" d="([^"]+)"/g)) {
    const nums = (m[1] as string).match(/-?[\d.]+/g)?.map(Number) ?? [];
    const points: Point[] = [];
    if ((m[1] as string).includes("C")) {
      // M x0,y0 C x1,y1 x2,y2 x3,y3: sample the cubic
      const [x0, y0, x1, y1, x2, y2, x3, y3] = nums as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      for (let i = 0; i <= 40; i++) {
        const t = i / 40;
        const u = 1 - t;
        points.push({
          x: u ** 3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t ** 3 * x3,
          y: u ** 3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t ** 3 * y3,
        });
      }
    } else {
      for (let i = 0; i + 1 < nums.length; i += 2)
        points.push({ x: nums[i] as number, y: nums[i + 1] as number });
    }
    routes.push({ points });
  }
  return { boxes, routes };
}

describe("lineage layout", () => {
  it("routes no edge of the SVG behind a box it does not connect", () => {
    const svg = toSvg(GRAPH);
    const { boxes, routes } = drawn(svg);
    expect(boxes).toHaveLength(GRAPH.nodes.length);
    expect(routes).toHaveLength(GRAPH.edges.length);
    const crossings: string[] = [];
    routes.forEach((route, i) => {
      const edge = GRAPH.edges[i] as (typeof GRAPH.edges)[number];
      for (const box of boxes) {
        if (box.id === edge.from || box.id === edge.to) continue;
        for (let k = 0; k + 1 < route.points.length; k++) {
          if (segmentCrossesBox(route.points[k] as Point, route.points[k + 1] as Point, box)) {
            crossings.push(`${edge.from} -> ${edge.to} behind ${box.id}`);
            break;
          }
        }
      }
    });
    expect(crossings).toEqual([]);
  });

  it("places every node once, inputs left of their run, and routes every edge", () => {
    const layout = layoutLineage(GRAPH);
    expect(layout.nodes.map((n) => n.id).sort()).toEqual(GRAPH.nodes.map((n) => n.id).sort());
    const at = new Map(layout.nodes.map((n) => [n.id, n]));
    for (const e of GRAPH.edges) {
      expect((at.get(e.from) as PlacedNode).x).toBeLessThan((at.get(e.to) as PlacedNode).x);
    }
    expect(layout.edges.every((e) => e.points.length >= 2)).toBe(true);
    // boxes never overlap
    for (const a of layout.nodes) {
      for (const b of layout.nodes) {
        if (a.id >= b.id) continue;
        const apart =
          a.x + a.width <= b.x ||
          b.x + b.width <= a.x ||
          a.y + a.height <= b.y ||
          b.y + b.height <= a.y;
        expect(apart, `${a.id} overlaps ${b.id}`).toBe(true);
      }
    }
  });

  it("ignores edges to nodes it was not given", () => {
    const layout = layoutLineage({
      nodes: [{ id: "a" }],
      edges: [{ from: "a", to: "zz", kind: "input" }],
    });
    expect(layout.nodes).toHaveLength(1);
    expect(layout.edges).toEqual([]);
  });
});
