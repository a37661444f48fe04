/**
 * Features and labels of an artifact, and ranked search:
 * - GET /artifacts/{uid}/features: its feature values and labels
 * - POST /artifacts/{uid}/features: add values and labels (all checked first; nothing written on
 *   a bad input); `remove` lists features whose values are removed first
 * - GET /search/{registry}?q=...: LaminDB's ranked search over names (core/registry/search.ts)
 * Querying artifacts by features is `GET /artifacts?feature.<lookup>=...` (routes/artifacts.ts).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { SEARCH_REGISTRIES } from "../../../core/registry/search.js";
import type { ApiEnv } from "../env.js";
import { body, json, problems } from "../openapi.js";
import { problemHook } from "../problem.js";
import { Uid } from "../schemas.js";

const names = z.array(z.string().min(1).max(255)).max(1000);

const Annotation = z
  .object({
    features: z
      .record(z.string(), z.unknown())
      .openapi({ example: { temperature: 37.5, cell_type: "T cell" } }),
    ulabels: z.array(z.string()),
    projects: z.array(z.string()),
    records: z.array(z.string()),
  })
  .openapi("Annotation");

const AnnotationAdd = z
  .object({
    features: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ example: { temperature: 37.5, cell_type: "T cell" } }),
    ulabels: names.optional(),
    projects: names.optional(),
    records: names.optional(),
    remove: names.optional().openapi({ description: "features whose values are removed first" }),
  })
  .strict()
  .openapi("AnnotationAdd");

const SearchHit = z
  .object({
    uid: z.string(),
    name: z.string().nullable(),
    score: z.number().int().openapi({ description: "LaminDB's rank: higher is better" }),
  })
  .openapi("SearchHit");

const tags = ["annotations"];

const getFeatures = createRoute({
  method: "get",
  path: "/artifacts/{uid}/features",
  tags,
  summary: "The feature values and labels of an artifact",
  request: { params: z.object({ uid: Uid }) },
  responses: { 200: json(Annotation, "its annotation"), ...problems(400, 401, 404) },
});

const addFeatures = createRoute({
  method: "post",
  path: "/artifacts/{uid}/features",
  tags,
  summary:
    "Add feature values and labels to an artifact (checked in full before anything is written)",
  request: { params: z.object({ uid: Uid }), ...body(AnnotationAdd) },
  responses: { 200: json(Annotation, "its annotation now"), ...problems(400, 401, 404, 413) },
});

const searchRoute = createRoute({
  method: "get",
  path: "/search/{registry}",
  tags,
  summary: "Ranked search by name: exact and synonym matches first (LaminDB's .search)",
  request: {
    params: z.object({
      registry: z
        .string()
        .openapi({ param: { name: "registry", in: "path" }, example: SEARCH_REGISTRIES[0] }),
    }),
    query: z.object({
      q: z.string().min(1).max(1000).openapi({ example: "t cell" }),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
    }),
  },
  responses: { 200: json(z.array(SearchHit), "hits, best first"), ...problems(400, 401) },
});

export function annotationRoutes() {
  return new OpenAPIHono<ApiEnv>({ defaultHook: problemHook })
    .openapi(getFeatures, async (c) =>
      c.json(await c.var.instance.annotations.get("artifact", c.req.valid("param").uid), 200),
    )
    .openapi(addFeatures, async (c) => {
      const uid = c.req.valid("param").uid;
      const { features, remove, ...labels } = c.req.valid("json");
      const added = await c.var.instance.annotations.add("artifact", uid, features ?? {}, labels, {
        ...(remove ? { removeFirst: remove } : {}),
      });
      return c.json(added, 200);
    })
    .openapi(searchRoute, async (c) => {
      const { q, limit } = c.req.valid("query");
      const hits = await c.var.instance.search(c.req.valid("param").registry, q, {
        ...(limit !== undefined ? { limit } : {}),
      });
      return c.json(hits, 200);
    });
}
