/**
 * Features and labels of an artifact, a run or a record, and ranked search:
 * - GET /artifacts/{uid}/features, GET /runs/{uid}/features, GET /records/{uid}/features: its
 *   feature values and labels
 * - POST /artifacts/{uid}/features, POST /runs/{uid}/features, POST /records/{uid}/features: add
 *   values and labels (all checked first; nothing written on a bad input); `remove` lists
 *   features whose values are removed first; `from_text` parses values typed on a command line
 *   ("37.5") per dtype
 * - POST /{artifacts,runs,records}/{uid}/features/remove: remove values and labels (the web UI's)
 * - GET /search/{registry}?q=...: LaminDB's ranked search over names (core/registry/model/search.ts)
 * Querying by features is `GET /artifacts?feature.<lookup>=...` (routes/artifacts.ts),
 * `GET /runs?feature.<lookup>=...` and `GET /records?feature.<lookup>=...` (routes/registries.ts).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Owner } from "../../../core/registry/annotations/annotations.js";
import { SEARCH_REGISTRIES } from "../../../core/registry/model/search.js";
import type { ApiEnv } from "../env.js";
import { body, json, problems } from "../openapi.js";
import { problemHook } from "../problem.js";
import { requires } from "../roles.js";
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
    from_text: z.boolean().optional().openapi({
      description: 'values are text as typed on a command line: parse them per dtype ("37.5")',
    }),
  })
  .strict()
  .openapi("AnnotationAdd");

const AnnotationRemove = z
  .object({
    features: names.optional().openapi({ description: "features whose values are removed" }),
    ulabels: names.optional(),
    projects: names.optional(),
    records: names.optional(),
  })
  .strict()
  .openapi("AnnotationRemove");
const SearchHit = z
  .object({
    uid: z.string(),
    name: z.string().nullable(),
    score: z.number().int().openapi({ description: "LaminDB's rank: higher is better" }),
  })
  .openapi("SearchHit");

const tags = ["annotations"];

const RunUid = z
  .string()
  .regex(/^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/, "a run uid: 16 base62 characters")
  .openapi({ param: { name: "uid", in: "path" }, example: "Wbx3oq8cKTDk9nAb" });

const RecordUid = z
  .string()
  .regex(/^[0-9A-Za-z]{16}$/, "a record uid: 16 base62 characters")
  .openapi({ param: { name: "uid", in: "path" }, example: "Ny0gvDjRqHks1xPe" });

const OWNER_NAMES = { artifacts: "an artifact", runs: "a run", records: "a record" } as const;

/** GET and POST of `/{plural}/{uid}/features` for one owner. */
function featureRoutes<const P extends keyof typeof OWNER_NAMES>(plural: P, uid: typeof Uid) {
  const name = OWNER_NAMES[plural];
  return {
    get: createRoute({
      method: "get",
      path: `/${plural}/{uid}/features`,
      middleware: requires("read"),
      tags,
      summary: `The feature values and labels of ${name}`,
      request: { params: z.object({ uid }) },
      responses: { 200: json(Annotation, "its annotation"), ...problems(400, 401, 404) },
    }),
    add: createRoute({
      method: "post",
      path: `/${plural}/{uid}/features`,
      middleware: requires("write"),
      tags,
      summary: `Add feature values and labels to ${name} (checked in full before anything is written)`,
      request: { params: z.object({ uid }), ...body(AnnotationAdd) },
      responses: { 200: json(Annotation, "its annotation now"), ...problems(400, 401, 404, 413) },
    }),
    remove: createRoute({
      method: "post",
      path: `/${plural}/{uid}/features/remove`,
      middleware: requires("write"),
      tags,
      summary: `Remove feature values, and labels linked without a feature, from ${name}`,
      request: { params: z.object({ uid }), ...body(AnnotationRemove) },
      responses: { 200: json(Annotation, "its annotation now"), ...problems(400, 401, 404) },
    }),
  };
}

const artifactFeatures = featureRoutes("artifacts", Uid);
const runFeatures = featureRoutes("runs", RunUid);
const recordFeatures = featureRoutes("records", RecordUid);

const searchRoute = createRoute({
  method: "get",
  path: "/search/{registry}",
  middleware: requires("read"),
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

/** Handlers of one owner's feature routes. */
function handlers(owner: Owner) {
  return {
    get: async (c: Context<ApiEnv>, uid: string) =>
      c.json(await c.var.instance.annotations.get(owner, uid), 200),
    add: async (c: Context<ApiEnv>, uid: string, input: z.infer<typeof AnnotationAdd>) => {
      const { features, remove, from_text, ...labels } = input;
      const added = await c.var.instance.annotations.add(owner, uid, features ?? {}, labels, {
        ...(remove ? { removeFirst: remove } : {}),
        ...(from_text ? { fromText: true } : {}),
      });
      return c.json(added, 200);
    },
    remove: async (c: Context<ApiEnv>, uid: string, input: z.infer<typeof AnnotationRemove>) => {
      const { features, ...labels } = input;
      return c.json(
        await c.var.instance.annotations.remove(owner, uid, features ?? [], labels),
        200,
      );
    },
  };
}

export function annotationRoutes() {
  const artifact = handlers("artifact");
  const run = handlers("run");
  const record = handlers("record");
  return new OpenAPIHono<ApiEnv>({ defaultHook: problemHook })
    .openapi(artifactFeatures.get, (c) => artifact.get(c, c.req.valid("param").uid))
    .openapi(artifactFeatures.add, (c) =>
      artifact.add(c, c.req.valid("param").uid, c.req.valid("json")),
    )
    .openapi(artifactFeatures.remove, (c) =>
      artifact.remove(c, c.req.valid("param").uid, c.req.valid("json")),
    )
    .openapi(runFeatures.get, (c) => run.get(c, c.req.valid("param").uid))
    .openapi(runFeatures.add, (c) => run.add(c, c.req.valid("param").uid, c.req.valid("json")))
    .openapi(runFeatures.remove, (c) =>
      run.remove(c, c.req.valid("param").uid, c.req.valid("json")),
    )
    .openapi(recordFeatures.get, (c) => record.get(c, c.req.valid("param").uid))
    .openapi(recordFeatures.add, (c) =>
      record.add(c, c.req.valid("param").uid, c.req.valid("json")),
    )
    .openapi(recordFeatures.remove, (c) =>
      record.remove(c, c.req.valid("param").uid, c.req.valid("json")),
    )
    .openapi(searchRoute, async (c) => {
      const { q, limit } = c.req.valid("query");
      const hits = await c.var.instance.search(c.req.valid("param").registry, q, {
        ...(limit !== undefined ? { limit } : {}),
      });
      return c.json(hits, 200);
    });
}
