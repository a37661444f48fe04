/**
 * Lineage (LaminDB's `view_lineage`): the graph of artifacts and collections, the runs that read
 * and wrote them, and the transforms those runs executed.
 *
 * Data nodes (artifacts, collections) and runs alternate: an input edge goes from a data node to
 * a run that read it (`lamindb_artifact_input_of_runs`, `lamindb_collection_input_of_runs`), an
 * output edge from a run to what it created (`run_id` of the artifact or collection); a
 * transform edge goes from a transform to each of its runs (transforms are not walked through:
 * two runs of the same script are not each other's lineage).
 *
 * The walk from an artifact is a recursive CTE per direction over run ids, bounded by
 * `depth` = how many runs deep (depth 1 upstream: the run that created the artifact and that
 * run's inputs); then two statements fetch every node and edge the graph shows.
 */
import { sql } from "drizzle-orm";
import { queryRows } from "../../db/client.js";
import { ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import { edgePath, layoutLineage, type PlacedNode } from "../../lineage-layout.js";
import type { ArtifactRef } from "../artifacts/artifacts.js";
import { RUN_STATUS_CODES } from "../records/runs.js";

export type LineageDirection = "upstream" | "downstream" | "both";
export type LineageNodeType = "artifact" | "collection" | "run" | "transform";

export interface LineageNode {
  /** The record's uid (unique across the graph). */
  id: string;
  type: LineageNodeType;
  /** A short human label: key, description or uid; for runs the transform's key and status. */
  label: string;
  /** How many runs away from the start (0 for the start; transforms: their run's). */
  depth: number;
  /** Artifacts and collections: key; transforms: key. */
  key?: string | null;
  /** Runs: status (`started`, `completed`, `errored`, ...). */
  status?: string;
  /** Runs: uid of the transform. */
  transform?: string;
}

export interface LineageEdge {
  from: string;
  to: string;
  /** input: data → run that read it; output: run → data it created; transform: transform → run. */
  kind: "input" | "output" | "transform";
}

export interface LineageGraph {
  /** uid of the start artifact. */
  root: string;
  direction: LineageDirection;
  depth: number;
  nodes: LineageNode[];
  edges: LineageEdge[];
}

export interface LineageOptions {
  /** Default `both`. */
  direction?: LineageDirection;
  /** How many runs deep, 1..100 (default 5). */
  depth?: number;
}

export const MAX_LINEAGE_DEPTH = 100;
export const DEFAULT_LINEAGE_DEPTH = 5;
const DIRECTIONS: LineageDirection[] = ["upstream", "downstream", "both"];

const STATUS = new Map<number, string>(Object.entries(RUN_STATUS_CODES).map(([k, v]) => [v, k]));

/** Check lineage options; the defaults filled in. */
export function lineageOptions(opts: LineageOptions = {}): Required<LineageOptions> {
  const direction = opts.direction ?? "both";
  if (!DIRECTIONS.includes(direction)) {
    throw new ValidationError(
      `invalid direction ${JSON.stringify(direction)}`,
      "use upstream, downstream or both",
    );
  }
  const depth = opts.depth ?? DEFAULT_LINEAGE_DEPTH;
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_LINEAGE_DEPTH) {
    throw new ValidationError(
      `invalid depth ${JSON.stringify(depth)}`,
      `give a whole number of runs from 1 to ${MAX_LINEAGE_DEPTH}`,
    );
  }
  return { direction, depth };
}

/*
 * The walks below step from run to run through LATERAL subqueries correlated on the current run,
 * so that each step is a few index lookups (input tables by run_id, artifacts by id and by run_id)
 * instead of a join over every edge. UNION (not ALL) drops repeated (run, depth) pairs, so a
 * diamond-shaped graph does not multiply rows, and `depth` bounds cycles.
 */

/** The recursive CTE `up(run_id, depth)`: runs upstream of an artifact. */
const upstreamWalk = (artifactId: number, depth: number) => sql`up(run_id, depth) AS (
      SELECT a.run_id::bigint, 1 FROM lamindb_artifact a WHERE a.id = ${artifactId} AND a.run_id IS NOT NULL
    UNION
      SELECT f.producer, up.depth + 1 FROM up CROSS JOIN LATERAL (
          SELECT a.run_id::bigint AS producer FROM lamindb_artifact_input_of_runs i
            JOIN lamindb_artifact a ON a.id = i.artifact_id WHERE i.run_id = up.run_id
        UNION ALL
          SELECT c.run_id::bigint FROM lamindb_collection_input_of_runs ci
            JOIN lamindb_collection c ON c.id = ci.collection_id WHERE ci.run_id = up.run_id
        ) f
      WHERE up.depth < ${depth} AND f.producer IS NOT NULL
    )`;

/** The recursive CTE `down(run_id, depth)`: runs downstream of an artifact. */
const downstreamWalk = (artifactId: number, depth: number) => sql`down(run_id, depth) AS (
      SELECT i.run_id::bigint, 1 FROM lamindb_artifact_input_of_runs i WHERE i.artifact_id = ${artifactId}
    UNION
      SELECT f.consumer, down.depth + 1 FROM down CROSS JOIN LATERAL (
          SELECT i.run_id::bigint AS consumer FROM lamindb_artifact a
            JOIN lamindb_artifact_input_of_runs i ON i.artifact_id = a.id WHERE a.run_id = down.run_id
        UNION ALL
          SELECT ci.run_id::bigint FROM lamindb_collection c
            JOIN lamindb_collection_input_of_runs ci ON ci.collection_id = c.id WHERE c.run_id = down.run_id
        ) f
      WHERE down.depth < ${depth}
    )`;

// A walk the direction leaves out: same columns, no rows (the planner drops it).
const noWalk = (name: "up" | "down") =>
  sql`${sql.raw(name)}(run_id, depth) AS (SELECT NULL::bigint, NULL::int WHERE false)`;

/** The walks: run ids and depths per direction, each as one comma-separated text. */
function walkQuery(start: number, direction: LineageDirection, depth: number) {
  const up = direction === "downstream" ? noWalk("up") : upstreamWalk(start, depth);
  const down = direction === "upstream" ? noWalk("down") : downstreamWalk(start, depth);
  return sql`WITH RECURSIVE ${up}, ${down},
    u AS (SELECT run_id AS id, min(depth) AS depth FROM up GROUP BY run_id),
    d AS (SELECT run_id AS id, min(depth) AS depth FROM down GROUP BY run_id)
    SELECT (SELECT string_agg(id::text, ',') FROM u) AS "upIds",
      (SELECT string_agg(depth::text, ',') FROM u) AS "upDepths",
      (SELECT string_agg(id::text, ',') FROM d) AS "downIds",
      (SELECT string_agg(depth::text, ',') FROM d) AS "downDepths"`;
}

interface Walked {
  upIds: string | null;
  upDepths: string | null;
  downIds: string | null;
  downDepths: string | null;
}

/** Row kinds of runsQuery and downstreamQuery: each row is one edge, and the nodes it brings. */
const RUN = 1; // transform → run; the run and transform nodes
const UP_INPUT = 2; // input of an upstream run → the run; the input's node
const UP_OUTPUT = 3; // upstream run → the start or an upstream input (edge only)
const DOWN_OUTPUT = 4; // downstream run → what it created; that node
const DOWN_INPUT = 5; // the start or a downstream output → a downstream run that read it (edge only)
// constants go into the text, not as parameters (a parameter's type in a UNION is not inferred)
const lit = (n: number) => sql.raw(String(n));
// the walk's text back as an array parameter: one bind, whatever the count
const array = (csv: string | null, type: "bigint" | "int") =>
  sql`${`{${csv ?? ""}}`}::${sql.raw(type)}[]`;

/*
 * What the walks reached: the records and every edge with its endpoints' uids, sorted as the
 * graph's edges are. The rules (those of LaminDB's view_lineage):
 *   - every walked run, at its smaller depth, and its transform;
 *   - upstream: every input of an upstream run (at that run's depth), and the output edge from
 *     an upstream run to the start or to such an input;
 *   - downstream: everything a downstream run created (at that run's depth), and the input
 *     edges of downstream runs from the start or from those outputs.
 * Two statements, runs and upstream (runsQuery) and downstream (downstreamQuery), that a
 * Postgres pool runs at once on two connections; their sorted rows are merged in JS.
 * The run ids come in as arrays, so the planner knows how many there are: index lookups for a
 * few runs, hash joins for thousands (a recursive CTE's row estimate is a guess, and a wrong one
 * either way costs several times the walk). Shaping stays in JS: building JSON in Postgres cost
 * more than sending these few plain columns.
 * Rows sort in COLLATE "C" (set on the first branch, the union inherits it): byte order, which
 * for ASCII uids is the order of JS string comparison.
 */
function runsQuery(start: number, w: Walked) {
  return sql`WITH
  up_runs(id, depth) AS MATERIALIZED (
    SELECT * FROM unnest(${array(w.upIds, "bigint")}, ${array(w.upDepths, "int")})
  ),
  down_runs(id, depth) AS (
    SELECT * FROM unnest(${array(w.downIds, "bigint")}, ${array(w.downDepths, "int")})
  ),
  runs AS MATERIALIZED (
    SELECT w.id, w.depth, r.uid, r._status_code AS status, t.uid AS tuid, t.key AS tkey
    FROM (
      SELECT id, min(depth) AS depth
      FROM (SELECT * FROM up_runs UNION ALL SELECT * FROM down_runs) x GROUP BY id
    ) w
    JOIN lamindb_run r ON r.id = w.id JOIN lamindb_transform t ON t.id = r.transform_id
  ),
  up_inputs AS MATERIALIZED (
      SELECT i.run_id::bigint AS consumer, u.depth, 'artifact'::text AS type, a.uid, a.key,
        a.description, a.run_id::bigint AS run_id
      FROM up_runs u JOIN lamindb_artifact_input_of_runs i ON i.run_id = u.id
      JOIN lamindb_artifact a ON a.id = i.artifact_id
    UNION ALL
      SELECT i.run_id, u.depth, 'collection', c.uid, c.key, c.description, c.run_id
      FROM up_runs u JOIN lamindb_collection_input_of_runs i ON i.run_id = u.id
      JOIN lamindb_collection c ON c.id = i.collection_id
  )
    SELECT ${lit(RUN)}::int AS k, tuid COLLATE "C" AS f, uid COLLATE "C" AS t,
      depth::int AS depth, tkey AS key, NULL::text AS description, status::int AS status,
      NULL::text AS type
    FROM runs
  UNION ALL
    SELECT ${lit(UP_INPUT)}, i.uid, r.uid, i.depth, i.key, i.description, NULL, i.type
    FROM up_inputs i JOIN runs r ON r.id = i.consumer
  UNION ALL
    SELECT ${lit(UP_OUTPUT)}, r.uid, d.uid, NULL, NULL, NULL, NULL, NULL
    FROM (
        SELECT a.uid, a.run_id::bigint AS run_id FROM lamindb_artifact a WHERE a.id = ${start}
      UNION ALL
        SELECT uid, run_id FROM up_inputs
    ) d
    JOIN runs r ON r.id = d.run_id
    WHERE d.run_id IN (SELECT id FROM up_runs)
  ORDER BY f, t`;
}

function downstreamQuery(start: number, w: Walked) {
  return sql`WITH
  down_runs(id, depth) AS MATERIALIZED (
    SELECT * FROM unnest(${array(w.downIds, "bigint")}, ${array(w.downDepths, "int")})
  ),
  runs AS MATERIALIZED (SELECT d.id, r.uid FROM down_runs d JOIN lamindb_run r ON r.id = d.id),
  outputs AS MATERIALIZED (
      SELECT a.id, a.run_id::bigint AS run_id, d.depth, 'artifact'::text AS type, a.uid, a.key,
        a.description
      FROM down_runs d JOIN lamindb_artifact a ON a.run_id = d.id
    UNION ALL
      SELECT c.id, c.run_id, d.depth, 'collection', c.uid, c.key, c.description
      FROM down_runs d JOIN lamindb_collection c ON c.run_id = d.id
  )
    SELECT ${lit(DOWN_OUTPUT)}::int AS k, r.uid COLLATE "C" AS f, o.uid COLLATE "C" AS t,
      o.depth::int AS depth, o.key, o.description, NULL::int AS status, o.type
    FROM outputs o JOIN runs r ON r.id = o.run_id
  UNION ALL
    SELECT ${lit(DOWN_INPUT)}, o.uid, r.uid, NULL, NULL, NULL, NULL, NULL
    FROM (
        SELECT id, uid FROM outputs WHERE type = 'artifact'
      UNION ALL
        SELECT a.id, a.uid FROM lamindb_artifact a WHERE a.id = ${start}
    ) o
    JOIN lamindb_artifact_input_of_runs i ON i.artifact_id = o.id
    JOIN runs r ON r.id = i.run_id
  UNION ALL
    SELECT ${lit(DOWN_INPUT)}, o.uid, r.uid, NULL, NULL, NULL, NULL, NULL
    FROM outputs o JOIN lamindb_collection_input_of_runs i ON i.collection_id = o.id
    JOIN runs r ON r.id = i.run_id
    WHERE o.type = 'collection'
  ORDER BY f, t`;
}

interface GraphRow {
  k: number;
  f: string;
  t: string;
  depth: number | null;
  key: string | null;
  description: string | null;
  status: number | null;
  type: "artifact" | "collection" | null;
}

const EDGE_KIND: Record<number, LineageEdge["kind"]> = {
  [RUN]: "transform",
  [UP_INPUT]: "input",
  [UP_OUTPUT]: "output",
  [DOWN_OUTPUT]: "output",
  [DOWN_INPUT]: "input",
};
const TYPE_ORDER: Record<LineageNodeType, number> = {
  artifact: 0,
  collection: 1,
  run: 2,
  transform: 3,
};

/** The lineage graph of an artifact, upstream and/or downstream, `depth` runs deep. */
export async function lineage(
  instance: Instance,
  ref: ArtifactRef | string,
  options: LineageOptions = {},
): Promise<LineageGraph> {
  const { direction, depth } = lineageOptions(options);
  const start = await instance.artifacts.row(ref);
  const [walked] = await queryRows<Walked>(instance.db, walkQuery(start.id, direction, depth));
  const w = walked as Walked;
  const none: GraphRow[] = [];
  const [runRows, downRows] = await Promise.all([
    w.upIds || w.downIds ? queryRows<GraphRow>(instance.db, runsQuery(start.id, w)) : none,
    w.downIds ? queryRows<GraphRow>(instance.db, downstreamQuery(start.id, w)) : none,
  ]);

  // a uid met more than once keeps its smallest depth
  const nodes = new Map<string, LineageNode>();
  const addNode = (n: LineageNode) => {
    const had = nodes.get(n.id);
    if (!had || n.depth < had.depth) nodes.set(n.id, n);
  };
  const dataNode = (
    id: string,
    type: "artifact" | "collection",
    key: string | null,
    description: string | null,
    at: number,
  ): LineageNode => ({ id, type, label: key ?? description ?? id, depth: at, key });
  addNode(dataNode(start.uid, "artifact", start.key, start.description, 0));
  // a repeated edge is the one just before
  const edges: LineageEdge[] = [];
  let last: LineageEdge | undefined;
  // both lists come sorted by (from, to): merge them
  let i = 0;
  let j = 0;
  while (i < runRows.length || j < downRows.length) {
    const a = runRows[i];
    const b = downRows[j];
    const r = (
      !b || (a && (cmp(a.f, b.f) || cmp(a.t, b.t)) <= 0) ? runRows[i++] : downRows[j++]
    ) as GraphRow;
    const at = r.depth as number;
    if (r.k === RUN) {
      const status = STATUS.get(r.status as number) ?? "unknown";
      addNode({
        id: r.t,
        type: "run",
        label: `${r.key} (${status})`,
        depth: at,
        status,
        transform: r.f,
      });
      addNode({ id: r.f, type: "transform", label: r.key as string, depth: at, key: r.key });
    } else if (r.k === UP_INPUT) {
      addNode(dataNode(r.f, r.type as "artifact", r.key, r.description, at));
    } else if (r.k === DOWN_OUTPUT) {
      addNode(dataNode(r.t, r.type as "artifact", r.key, r.description, at));
    }
    if (last && last.from === r.f && last.to === r.t) continue;
    last = { from: r.f, to: r.t, kind: EDGE_KIND[r.k] as LineageEdge["kind"] };
    edges.push(last);
  }
  return {
    root: start.uid,
    direction,
    depth,
    nodes: [...nodes.values()].sort(
      (a, b) => a.depth - b.depth || TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || cmp(a.id, b.id),
    ),
    edges,
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

// ------------------------------------------------------------------ pictures and text

const nodeIds = (g: LineageGraph) => new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
const escapeLabel = (s: string) => s.replace(/["\\]/g, (c) => (c === '"' ? "'" : "/"));

/** Mermaid flowchart source (paste into a Markdown file or mermaid.live). */
export function toMermaid(g: LineageGraph): string {
  const ids = nodeIds(g);
  const shape: Record<LineageNodeType, [string, string]> = {
    artifact: ['["', '"]'],
    collection: ['[["', '"]]'],
    run: ['("', '")'],
    transform: ['[/"', '"/]'],
  };
  const lines = ["flowchart LR"];
  for (const n of g.nodes) {
    const [open, close] = shape[n.type];
    lines.push(`  ${ids.get(n.id)}${open}${n.type} ${escapeLabel(n.label)}<br/>${n.id}${close}`);
  }
  for (const e of g.edges) {
    lines.push(`  ${ids.get(e.from)} ${e.kind === "transform" ? "-.->" : "-->"} ${ids.get(e.to)}`);
  }
  lines.push(`  style ${ids.get(g.root)} stroke-width:3px`);
  return `${lines.join("\n")}\n`;
}

/** Graphviz DOT source (`dot -Tsvg`). */
export function toDot(g: LineageGraph): string {
  const ids = nodeIds(g);
  const shape: Record<LineageNodeType, string> = {
    artifact: "box",
    collection: "box3d",
    run: "ellipse",
    transform: "parallelogram",
  };
  const lines = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica"];'];
  for (const n of g.nodes) {
    const bold = n.id === g.root ? ", penwidth=3" : "";
    lines.push(
      `  ${ids.get(n.id)} [label="${n.type} ${escapeLabel(n.label)}\\n${n.id}", shape=${shape[n.type]}${bold}];`,
    );
  }
  for (const e of g.edges) {
    lines.push(
      `  ${ids.get(e.from)} -> ${ids.get(e.to)}${e.kind === "transform" ? " [style=dashed]" : ""};`,
    );
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/**
 * A picture of the graph as standalone SVG, laid out by the layout the web UI draws
 * (../lineage-layout.ts: dagre, left to right as data flows, edges routed around boxes):
 * artifacts as boxes, collections as double boxes, runs as rounded boxes, transforms as
 * parallelograms (linked to their runs by dashed edges); the start is drawn bold.
 */
export function toSvg(g: LineageGraph): string {
  const layout = layoutLineage(g);
  const { width, height } = layout;
  const xml = (t: string) =>
    t.replace(
      /[<>&"']/g,
      (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`,
    );
  const shape = (n: LineageNode, box: PlacedNode, stroke: string) => {
    const { x, y, width: w, height: h } = box;
    switch (n.type) {
      case "run":
        return `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="18" ${stroke}/>`;
      case "transform":
        return `<polygon points="${x + 12},${y} ${x + w},${y} ${x + w - 12},${y + h} ${x},${y + h}" ${stroke}/>`;
      case "collection":
        return `<rect x="${x + 4}" y="${y - 4}" width="${w}" height="${h}" ${stroke}/><rect x="${x}" y="${y}" width="${w}" height="${h}" ${stroke}/>`;
      default:
        return `<rect x="${x}" y="${y}" width="${w}" height="${h}" ${stroke}/>`;
    }
  };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
  ];
  for (const e of layout.edges) {
    const dash = e.kind === "transform" ? ' stroke-dasharray="4 3"' : "";
    parts.push(
      `<path class="edge ${e.kind}" d="${edgePath(e.points)}" fill="none" stroke="#555"${dash} marker-end="url(#arrow)"/>`,
    );
  }
  const fill: Record<LineageNodeType, string> = {
    artifact: "#eaf2fb",
    collection: "#e6f4ea",
    run: "#fdf3e1",
    transform: "#f1e8f8",
  };
  const placed = new Map(layout.nodes.map((p) => [p.id, p]));
  for (const n of g.nodes) {
    const box = placed.get(n.id) as PlacedNode;
    const { x, y } = box;
    const stroke = `fill="${fill[n.type]}" stroke="#333" stroke-width="${n.id === g.root ? 3 : 1}"`;
    const label = n.label.length > 30 ? `${n.label.slice(0, 29)}…` : n.label;
    parts.push(
      `<g class="node ${n.type}" id="${xml(n.id)}">${shape(n, box, stroke)}<text x="${x + 10}" y="${y + 18}">${xml(`${n.type} ${label}`)}</text><text x="${x + 10}" y="${y + 34}" fill="#666">${xml(n.id)}</text></g>`,
    );
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** An indented tree: upstream as `<-` lines, downstream as `->` lines, from the start. */
export function toText(g: LineageGraph): string {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const into = new Map<string, LineageEdge[]>();
  const outOf = new Map<string, LineageEdge[]>();
  const push = (m: Map<string, LineageEdge[]>, k: string, e: LineageEdge) => {
    const list = m.get(k);
    if (list) list.push(e);
    else m.set(k, [e]);
  };
  for (const e of g.edges) {
    if (e.kind === "transform") continue;
    push(into, e.to, e);
    push(outOf, e.from, e);
  }
  // siblings by type and label (uids last): the same lineage reads the same in any instance
  const node = (id: string) => byId.get(id) as LineageNode;
  const bySibling = (end: "from" | "to") => (a: LineageEdge, b: LineageEdge) => {
    const [x, y] = [node(a[end]), node(b[end])];
    return TYPE_ORDER[x.type] - TYPE_ORDER[y.type] || cmp(x.label, y.label) || cmp(x.id, y.id);
  };
  for (const list of into.values()) list.sort(bySibling("from"));
  for (const list of outOf.values()) list.sort(bySibling("to"));
  const show = (id: string) => {
    const n = byId.get(id) as LineageNode;
    return `${n.type} ${n.id}  ${n.label}`;
  };
  const root = byId.get(g.root) as LineageNode;
  const lines = [show(root.id)];
  const walk = (
    id: string,
    arrow: string,
    next: Map<string, LineageEdge[]>,
    end: "from" | "to",
    indent: string,
    seen: Set<string>,
  ) => {
    for (const e of next.get(id) ?? []) {
      const other = e[end];
      const again = seen.has(other);
      lines.push(`${indent}${arrow} ${show(other)}${again ? "  (see above)" : ""}`);
      if (again) continue;
      seen.add(other);
      walk(other, arrow, next, end, `${indent}   `, seen);
    }
  };
  if (g.direction !== "downstream") {
    lines.push("upstream:");
    const before = lines.length;
    walk(root.id, "<-", into, "from", "  ", new Set([root.id]));
    if (lines.length === before) lines.push("  (nothing: no run created it)");
  }
  if (g.direction !== "upstream") {
    lines.push("downstream:");
    const before = lines.length;
    walk(root.id, "->", outOf, "to", "  ", new Set([root.id]));
    if (lines.length === before) lines.push("  (nothing: no run read it)");
  }
  return `${lines.join("\n")}\n`;
}
