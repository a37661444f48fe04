/**
 * GET /artifacts/{uid}/lineage: the lineage graph of an artifact (runs, transforms, inputs and
 * outputs), upstream and/or downstream, `depth` runs deep (see core/registry/lineage/lineage.ts).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { MAX_LINEAGE_DEPTH } from "../../../core/registry/lineage/lineage.js";
import type { ApiEnv } from "../env.js";
import { json, problems } from "../openapi.js";
import { problemHook } from "../problem.js";
import { requires } from "../roles.js";
import { Uid } from "../schemas.js";

const Node = z
  .object({
    id: z.string().openapi({ example: "xdvTyeyFnBaKhERh0000" }),
    type: z.enum(["artifact", "collection", "run", "transform"]),
    label: z.string(),
    depth: z.number().int(),
    key: z.string().nullable().optional(),
    status: z.string().optional(),
    transform: z.string().optional(),
  })
  .openapi("LineageNode");
const Edge = z
  .object({
    from: z.string(),
    to: z.string(),
    kind: z.enum(["input", "output", "transform"]),
  })
  .openapi("LineageEdge");
const Graph = z
  .object({
    root: z.string(),
    direction: z.enum(["upstream", "downstream", "both"]),
    depth: z.number().int(),
    nodes: z.array(Node),
    edges: z.array(Edge),
  })
  .openapi("LineageGraph");

const lineage = createRoute({
  method: "get",
  path: "/artifacts/{uid}/lineage",
  middleware: requires("read"),
  tags: ["artifacts"],
  summary:
    "The lineage graph of an artifact: the runs that made and read it, their inputs and outputs",
  request: {
    params: z.object({ uid: Uid }),
    query: z.object({
      direction: z.enum(["upstream", "downstream", "both"]).optional().openapi({ example: "both" }),
      depth: z.coerce
        .number()
        .int()
        .min(1)
        .max(MAX_LINEAGE_DEPTH)
        .optional()
        .openapi({ description: "how many runs deep (default 5)", example: 5 }),
    }),
  },
  responses: { 200: json(Graph, "the graph"), ...problems(400, 401, 404) },
});

export function lineageRoutes() {
  return new OpenAPIHono<ApiEnv>({ defaultHook: problemHook }).openapi(lineage, async (c) => {
    const { direction, depth } = c.req.valid("query");
    const graph = await c.var.instance.lineage(c.req.valid("param").uid, {
      ...(direction !== undefined ? { direction } : {}),
      ...(depth !== undefined ? { depth } : {}),
    });
    return c.json(graph, 200);
  });
}
