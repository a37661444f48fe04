/**
 * The lineage graph, laid out by the same module as `lamin lineage --format svg`
 * (core/lineage-layout.ts): drag to pan, wheel or buttons to zoom, click (or Enter on) a node to
 * open it. Nodes are links in the tab order.
 */
import { useRef, useState } from "preact/hooks";
import { edgePath, layoutLineage } from "../../../core/lineage-layout";
import type { LineageGraph, LineageNode } from "../api";
import { navigate } from "../nav";
import { usePlace } from "../place";

const FILL: Record<LineageNode["type"], string> = {
  artifact: "#eaf2fb",
  collection: "#e6f4ea",
  run: "#fdf3e1",
  transform: "#f1e8f8",
};

export function LineageView({ graph }: { graph: LineageGraph }) {
  const place = usePlace();
  const layout = layoutLineage(graph);
  const [view, setView] = useState({ x: 0, y: 0, k: 1 });
  const drag = useRef<{ x: number; y: number; moved: boolean } | undefined>(undefined);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const href = (n: LineageNode) =>
    n.type === "artifact"
      ? `${place.ui}/artifacts/${n.id}`
      : `${place.ui}/registries/${n.type === "run" ? "runs" : n.type === "transform" ? "transforms" : "collections"}/${n.id}`;
  const zoom = (factor: number) =>
    setView((v) => ({ ...v, k: Math.min(4, Math.max(0.25, v.k * factor)) }));
  const height = Math.min(520, Math.max(160, layout.height));
  return (
    <figure class="lineage">
      <div class="row">
        <button type="button" class="small" onClick={() => zoom(1.25)} aria-label="zoom in">
          +
        </button>
        <button type="button" class="small" onClick={() => zoom(0.8)} aria-label="zoom out">
          −
        </button>
        <button type="button" class="small" onClick={() => setView({ x: 0, y: 0, k: 1 })}>
          reset view
        </button>
        <span class="muted small-text">drag to pan; click a node to open it</span>
      </div>
      <svg
        class="lineage-canvas"
        aria-label="lineage graph"
        width="100%"
        height={height}
        viewBox={`0 0 ${Math.max(layout.width, 400)} ${height}`}
        onPointerDown={(e) => {
          drag.current = { x: e.clientX, y: e.clientY, moved: false };
        }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (!d || e.buttons !== 1) return;
          const [dx, dy] = [e.clientX - d.x, e.clientY - d.y];
          if (Math.abs(dx) + Math.abs(dy) < 3 && !d.moved) return;
          d.moved = true;
          drag.current = { x: e.clientX, y: e.clientY, moved: true };
          setView((v) => ({ ...v, x: v.x + dx, y: v.y + dy }));
        }}
        onPointerUp={() => {
          setTimeout(() => {
            drag.current = undefined;
          }, 0);
        }}
        onWheel={(e) => {
          e.preventDefault();
          zoom(e.deltaY < 0 ? 1.1 : 0.9);
        }}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="#555" />
          </marker>
        </defs>
        <g transform={`translate(${view.x},${view.y}) scale(${view.k})`}>
          {layout.edges.map((e) => (
            <path
              key={`${e.from}-${e.to}`}
              class={`edge ${e.kind}`}
              d={edgePath(e.points)}
              fill="none"
              stroke="#555"
              stroke-dasharray={e.kind === "transform" ? "4 3" : undefined}
              marker-end="url(#arrow)"
            />
          ))}
          {layout.nodes.map((p) => {
            const n = byId.get(p.id) as LineageNode;
            const open = () => {
              if (!drag.current?.moved) navigate(href(n));
            };
            const label = n.label.length > 28 ? `${n.label.slice(0, 27)}…` : n.label;
            return (
              // biome-ignore lint/a11y/useSemanticElements: an SVG node cannot be an <a> with routing and keyboard both
              <g
                key={p.id}
                class={`node ${n.type}`}
                data-id={n.id}
                role="link"
                // lower case: an SVG element's attribute, which its DOM property is not
                tabindex={0}
                aria-label={`${n.type} ${n.label}`}
                onClick={open}
                onKeyDown={(e) => {
                  if (e.key === "Enter" || e.key === " ") {
                    e.preventDefault();
                    navigate(href(n));
                  }
                }}
              >
                <rect
                  x={p.x}
                  y={p.y}
                  width={p.width}
                  height={p.height}
                  rx={n.type === "run" ? 18 : 3}
                  fill={FILL[n.type]}
                  stroke="#333"
                  stroke-width={n.id === graph.root ? 3 : 1}
                />
                <text x={p.x + 10} y={p.y + 18}>
                  {n.type} {label}
                </text>
                <text x={p.x + 10} y={p.y + 34} class="muted-text">
                  {n.id}
                </text>
              </g>
            );
          })}
        </g>
      </svg>
    </figure>
  );
}
