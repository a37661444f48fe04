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
 * The walk from an artifact is one recursive query per direction over run ids, bounded by
 * `depth` = how many runs deep (depth 1 upstream: the run that created the artifact and that
 * run's inputs); then three flat queries fetch what the graph shows.
 */
import { sql } from "drizzle-orm";
import { queryRows } from "../db/client.js";
import { ValidationError } from "../errors.js";
import type { Instance } from "../instance.js";
import type { ArtifactRef } from "./artifacts.js";
import { RUN_STATUS_CODES } from "./records/runs.js";

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

interface DataRow {
  type: "artifact" | "collection";
  id: number;
  uid: string;
  key: string | null;
  description: string | null;
  runId: number | null;
}

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

/** Runs upstream of an artifact, with their distance in runs (recursive SQL). */
export function upstreamRunsQuery(artifactId: number, depth: number) {
  return sql`WITH RECURSIVE up(run_id, depth) AS (
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
    )
    SELECT run_id AS id, min(depth)::int AS depth FROM up GROUP BY run_id`;
}

/** Runs downstream of an artifact, with their distance in runs (recursive SQL). */
export function downstreamRunsQuery(artifactId: number, depth: number) {
  return sql`WITH RECURSIVE down(run_id, depth) AS (
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
    )
    SELECT run_id AS id, min(depth)::int AS depth FROM down GROUP BY run_id`;
}

/** The lineage graph of an artifact, upstream and/or downstream, `depth` runs deep. */
export async function lineage(
  instance: Instance,
  ref: ArtifactRef | string,
  options: LineageOptions = {},
): Promise<LineageGraph> {
  const { direction, depth } = lineageOptions(options);
  const start = await instance.artifacts.row(ref);
  const db = instance.db;
  const rootNode: DataRow = {
    type: "artifact",
    id: start.id,
    uid: start.uid,
    key: start.key,
    description: start.description,
    runId: start.runId,
  };
  type Walked = { id: number | string; depth: number }[];
  const none = Promise.resolve([] as Walked);
  // independent queries go out together (a Postgres pool runs them in parallel)
  const [up, down] = await Promise.all([
    direction === "downstream"
      ? none
      : queryRows<Walked[number]>(db, upstreamRunsQuery(start.id, depth)),
    direction === "upstream"
      ? none
      : queryRows<Walked[number]>(db, downstreamRunsQuery(start.id, depth)),
  ]);
  const upRuns = new Map(up.map((r) => [Number(r.id), r.depth]));
  const downRuns = new Map(down.map((r) => [Number(r.id), r.depth]));
  const runIds = [...new Set([...upRuns.keys(), ...downRuns.keys()])];
  const runDepth = (id: number) =>
    Math.min(upRuns.get(id) ?? Infinity, downRuns.get(id) ?? Infinity);

  const [runs, inputs, outputs] = await Promise.all([
    runIds.length ? fetchRuns(instance, runIds) : [],
    runIds.length ? fetchInputs(instance, runIds) : [],
    downRuns.size ? fetchOutputs(instance, [...downRuns.keys()]) : [],
  ]);

  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  const addNode = (n: LineageNode) => {
    const had = nodes.get(n.id);
    if (!had || n.depth < had.depth) nodes.set(n.id, n);
  };
  const addEdge = (from: string, to: string, kind: LineageEdge["kind"]) =>
    edges.set(`${from}>${to}`, { from, to, kind });
  const dataNode = (d: DataRow, at: number): LineageNode => ({
    id: d.uid,
    type: d.type,
    label: d.key ?? d.description ?? d.uid,
    depth: at,
    key: d.key,
  });
  const runUid = new Map(runs.map((r) => [r.id, r.uid]));

  addNode(dataNode(rootNode, 0));
  for (const r of runs) {
    const at = runDepth(r.id);
    const status = STATUS.get(r.statusCode) ?? "unknown";
    addNode({
      id: r.uid,
      type: "run",
      label: `${r.transformKey} (${status})`,
      depth: at,
      status,
      transform: r.transformUid,
    });
    addNode({
      id: r.transformUid,
      type: "transform",
      label: r.transformKey,
      depth: at,
      key: r.transformKey,
    });
    addEdge(r.transformUid, r.uid, "transform");
  }
  // upstream: every input of an upstream run; outputs only along the walk
  const upData: DataRow[] = [rootNode];
  for (const i of inputs) {
    const at = upRuns.get(i.consumer);
    if (at === undefined) continue;
    addNode(dataNode(i, at));
    addEdge(i.uid, runUid.get(i.consumer) as string, "input");
    upData.push(i);
  }
  for (const d of upData) {
    if (d.runId !== null && upRuns.has(d.runId)) {
      addEdge(runUid.get(d.runId) as string, d.uid, "output");
    }
  }
  // downstream: every output of a downstream run; inputs only along the walk
  if (direction !== "upstream") {
    const downData = new Set<string>([rootNode.uid]);
    for (const o of outputs) {
      if (o.runId === null) continue;
      addNode(dataNode(o, downRuns.get(o.runId) ?? 0));
      addEdge(runUid.get(o.runId) as string, o.uid, "output");
      downData.add(o.uid);
    }
    for (const i of inputs) {
      if (downRuns.has(i.consumer) && downData.has(i.uid)) {
        addEdge(i.uid, runUid.get(i.consumer) as string, "input");
      }
    }
  }
  const order: Record<LineageNodeType, number> = {
    artifact: 0,
    collection: 1,
    run: 2,
    transform: 3,
  };
  return {
    root: start.uid,
    direction,
    depth,
    nodes: [...nodes.values()].sort(
      (a, b) => a.depth - b.depth || order[a.type] - order[b.type] || cmp(a.id, b.id),
    ),
    edges: [...edges.values()].sort((a, b) => cmp(a.from, b.from) || cmp(a.to, b.to)),
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Run ids as one array parameter (one bind, whatever the count). */
const idArray = (ids: number[]) => sql`${`{${ids.join(",")}}`}::bigint[]`;

interface RunRow {
  id: number;
  uid: string;
  statusCode: number;
  transformUid: string;
  transformKey: string;
}

async function fetchRuns(instance: Instance, ids: number[]): Promise<RunRow[]> {
  const rows = await queryRows<RunRow & { id: string | number }>(
    instance.db,
    sql`SELECT r.id, r.uid, r._status_code AS "statusCode", t.uid AS "transformUid",
        t.key AS "transformKey"
      FROM lamindb_run r JOIN lamindb_transform t ON t.id = r.transform_id
      WHERE r.id = ANY(${idArray(ids)})`,
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

type RawData = Omit<DataRow, "runId" | "type"> & { runId: number | string | null };
const toData = (type: DataRow["type"]) => (r: RawData) => ({
  ...r,
  runId: r.runId === null ? null : Number(r.runId),
  type,
});

/** Inputs of the runs: (run id, data node). */
async function fetchInputs(
  instance: Instance,
  runIds: number[],
): Promise<(DataRow & { consumer: number })[]> {
  type Raw = RawData & { consumer: number | string };
  const [arts, cols] = await Promise.all([
    queryRows<Raw>(
      instance.db,
      sql`SELECT i.run_id AS consumer, a.id, a.uid, a.key, a.description, a.run_id AS "runId"
        FROM lamindb_artifact_input_of_runs i JOIN lamindb_artifact a ON a.id = i.artifact_id
        WHERE i.run_id = ANY(${idArray(runIds)})`,
    ),
    queryRows<Raw>(
      instance.db,
      sql`SELECT i.run_id AS consumer, c.id, c.uid, c.key, c.description, c.run_id AS "runId"
        FROM lamindb_collection_input_of_runs i JOIN lamindb_collection c ON c.id = i.collection_id
        WHERE i.run_id = ANY(${idArray(runIds)})`,
    ),
  ]);
  const withConsumer = (type: DataRow["type"]) => (r: Raw) => ({
    ...toData(type)(r),
    consumer: Number(r.consumer),
  });
  return [...arts.map(withConsumer("artifact")), ...cols.map(withConsumer("collection"))];
}

/** What the runs created: artifacts and collections with their run_id among `runIds`. */
async function fetchOutputs(instance: Instance, runIds: number[]): Promise<DataRow[]> {
  const [arts, cols] = await Promise.all([
    queryRows<RawData>(
      instance.db,
      sql`SELECT a.id, a.uid, a.key, a.description, a.run_id AS "runId" FROM lamindb_artifact a
        WHERE a.run_id = ANY(${idArray(runIds)})`,
    ),
    queryRows<RawData>(
      instance.db,
      sql`SELECT c.id, c.uid, c.key, c.description, c.run_id AS "runId" FROM lamindb_collection c
        WHERE c.run_id = ANY(${idArray(runIds)})`,
    ),
  ]);
  return [...arts.map(toData("artifact")), ...cols.map(toData("collection"))];
}

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
 * A picture of the graph as standalone SVG, laid out here (no Graphviz needed): nodes in
 * columns by their longest path from a source, left to right as data flows; artifacts as
 * boxes, collections as double boxes, runs as rounded boxes, transforms as parallelograms
 * (linked to their runs by dashed edges); the start is drawn bold.
 */
export function toSvg(g: LineageGraph): string {
  const W = 230; // column pitch
  const H = 64; // row pitch
  const BOX = { w: 190, h: 44 };
  const rank = new Map(g.nodes.map((n) => [n.id, 0]));
  // longest-path layering; a lineage graph is acyclic, the bound only guards bad input
  for (let pass = 0; pass < g.nodes.length; pass++) {
    let moved = false;
    for (const e of g.edges) {
      const next = (rank.get(e.from) ?? 0) + 1;
      if (next > (rank.get(e.to) ?? 0)) {
        rank.set(e.to, next);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const columns = new Map<number, LineageNode[]>();
  for (const n of g.nodes) {
    const r = rank.get(n.id) ?? 0;
    columns.set(r, [...(columns.get(r) ?? []), n]);
  }
  const at = new Map<string, { x: number; y: number }>();
  for (const [r, nodes] of columns) {
    nodes.forEach((n, i) => {
      at.set(n.id, { x: 20 + r * W, y: 20 + i * H });
    });
  }
  const width = 40 + Math.max(0, ...columns.keys()) * W + BOX.w;
  const height = 40 + (Math.max(1, ...[...columns.values()].map((c) => c.length)) - 1) * H + BOX.h;
  const xml = (t: string) =>
    t.replace(
      /[<>&"']/g,
      (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`,
    );
  const shape = (n: LineageNode, x: number, y: number, stroke: string) => {
    const { w, h } = BOX;
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
  for (const e of g.edges) {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) continue;
    const [x1, y1, x2, y2] = [a.x + BOX.w, a.y + BOX.h / 2, b.x, b.y + BOX.h / 2];
    const dash = e.kind === "transform" ? ' stroke-dasharray="4 3"' : "";
    parts.push(
      `<path class="edge ${e.kind}" d="M${x1},${y1} C${x1 + 30},${y1} ${x2 - 30},${y2} ${x2},${y2}" fill="none" stroke="#555"${dash} marker-end="url(#arrow)"/>`,
    );
  }
  const fill: Record<LineageNodeType, string> = {
    artifact: "#eaf2fb",
    collection: "#e6f4ea",
    run: "#fdf3e1",
    transform: "#f1e8f8",
  };
  for (const n of g.nodes) {
    const { x, y } = at.get(n.id) as { x: number; y: number };
    const stroke = `fill="${fill[n.type]}" stroke="#333" stroke-width="${n.id === g.root ? 3 : 1}"`;
    const label = n.label.length > 30 ? `${n.label.slice(0, 29)}…` : n.label;
    parts.push(
      `<g class="node ${n.type}" id="${xml(n.id)}">${shape(n, x, y, stroke)}<text x="${x + 10}" y="${y + 18}">${xml(`${n.type} ${label}`)}</text><text x="${x + 10}" y="${y + 34}" fill="#666">${xml(n.id)}</text></g>`,
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
  for (const e of g.edges) {
    if (e.kind === "transform") continue;
    into.set(e.to, [...(into.get(e.to) ?? []), e]);
    outOf.set(e.from, [...(outOf.get(e.from) ?? []), e]);
  }
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
