/**
 * Where each box and edge of a lineage graph goes, by dagre (a layered layout that routes edges
 * between the boxes of each layer, never through one): one layout for `lamin lineage --format
 * svg` (registry/lineage/lineage.ts) and the web UI's interactive graph (web/), so both draw the same
 * picture. Data flows left to right. This module imports nothing but dagre: the UI bundles it.
 */
import dagre from "@dagrejs/dagre";

/** What a layout needs of a lineage graph (core/registry/lineage/lineage.ts's LineageGraph fits). */
export interface LayoutGraph {
  nodes: readonly { id: string }[];
  edges: readonly { from: string; to: string; kind: string }[];
}

export interface Point {
  x: number;
  y: number;
}

export interface PlacedNode {
  id: string;
  /** Top-left corner and size. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  kind: string;
  /** The route from the source's border to the target's, in order. */
  points: Point[];
}

export interface LineageLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

export const NODE_SIZE = { width: 190, height: 44 };
const MARGIN = 20;

/** Lay out `g`: boxes of NODE_SIZE, in layers left to right, edges routed around boxes. */
export function layoutLineage(g: LayoutGraph): LineageLayout {
  const graph = new dagre.graphlib.Graph({ multigraph: false });
  graph.setGraph({
    rankdir: "LR",
    nodesep: 24,
    ranksep: 60,
    edgesep: 16,
    marginx: MARGIN,
    marginy: MARGIN,
  });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const n of g.nodes) graph.setNode(n.id, { ...NODE_SIZE });
  const known = new Set(g.nodes.map((n) => n.id));
  const edges = g.edges.filter((e) => known.has(e.from) && known.has(e.to) && e.from !== e.to);
  for (const e of edges) graph.setEdge(e.from, e.to);
  dagre.layout(graph);
  const round = (v: number) => Math.round(v);
  const nodes = g.nodes.map((n) => {
    const placed = graph.node(n.id);
    return {
      id: n.id,
      x: round(placed.x - NODE_SIZE.width / 2),
      y: round(placed.y - NODE_SIZE.height / 2),
      width: NODE_SIZE.width,
      height: NODE_SIZE.height,
    };
  });
  const info = graph.graph();
  return {
    width: round(info.width ?? 0),
    height: round(info.height ?? 0),
    nodes,
    edges: edges.map((e) => ({
      from: e.from,
      to: e.to,
      kind: e.kind,
      points: ((graph.edge(e.from, e.to)?.points ?? []) as Point[]).map((p) => ({
        x: round(p.x),
        y: round(p.y),
      })),
    })),
  };
}

/** SVG path data through an edge's points (straight segments, as routed). */
export function edgePath(points: readonly Point[]): string {
  return points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x},${p.y}`).join(" ");
}

/**
 * Whether the segment from `a` to `b` crosses the inside of `box` (shrunk by `inset`, so that
 * an edge ending on a border does not count): a check that no edge runs behind an unrelated box.
 */
export function segmentCrossesBox(a: Point, b: Point, box: PlacedNode, inset = 1): boolean {
  const [x0, y0, x1, y1] = [
    box.x + inset,
    box.y + inset,
    box.x + box.width - inset,
    box.y + box.height - inset,
  ];
  // Liang-Barsky clipping of the segment against the rectangle
  let t0 = 0;
  let t1 = 1;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  for (const [p, q] of [
    [-dx, a.x - x0],
    [dx, x1 - a.x],
    [-dy, a.y - y0],
    [dy, y1 - a.y],
  ] as const) {
    if (p === 0) {
      if (q < 0) return false;
    } else {
      const t = q / p;
      if (p < 0) t0 = Math.max(t0, t);
      else t1 = Math.min(t1, t);
      if (t0 > t1) return false;
    }
  }
  return true;
}
