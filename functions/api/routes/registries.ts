/**
 * /transforms, /runs, /features, /ulabels, /projects, /records, /collections: list (filters as
 * query parameters, cursor pages), get by uid, create, each derived from the registry's
 * declaration (functions/api/models.ts). A create answers 201 with a new record and 200 with the
 * existing one LaminDB's rules return (same key and source, same members, same name); its
 * `lamin-status` header names the outcome (routes/status.ts). Runs and records are also listed
 * by feature values (`feature.<lookup>=...`, as artifacts), a run can be finished, and the
 * records of a type are read as a sheet (`GET /records/{uid}/sheet`).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { ArtifactModel } from "../../../core/registry/artifacts/model.js";
import type { AnyRegistryModel } from "../../../core/registry/model/model.js";
import { BlockModel } from "../../../core/registry/records/blocks.js";
import { MAX_SHEET_ROWS, RecordModel } from "../../../core/registry/records/record.js";
import { ReferenceModel } from "../../../core/registry/records/references.js";
import {
  CollectionModel,
  FeatureModel,
  ProjectModel,
  RunModel,
  TransformModel,
  ULabelModel,
} from "../../../core/registry/records.js";
import type { ApiEnv } from "../env.js";
import { RegistryInfo, registryInfo, routesOf } from "../models.js";
import { body, json, listOptions, problems, splitFeatureParams, toPage } from "../openapi.js";
import { problemHook } from "../problem.js";
import { requires } from "../roles.js";
import { Artifact } from "../schemas.js";
import { createdStatus } from "./status.js";

const runs = routesOf(RunModel);
const collections = routesOf(CollectionModel);
const Run = runs.schemas.record;
const Collection = collections.schemas.record;

const runInputs = createRoute({
  method: "post",
  path: "/runs/{uid}/inputs",
  middleware: requires("write"),
  tags: ["runs"],
  summary: "Record artifacts, collections and records a run read (loads of a client's tracked run)",
  request: {
    params: runs.schemas.uid,
    ...body(
      z
        .object({
          artifacts: z
            .array(z.string().regex(/^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/))
            .max(10_000)
            .optional(),
          collections: z
            .array(z.string().regex(/^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/))
            .max(10_000)
            .optional(),
          records: z
            .array(z.string().regex(/^[0-9A-Za-z]{16}$/))
            .max(10_000)
            .optional(),
        })
        .strict()
        .openapi("RunInputs"),
    ),
  },
  responses: { 204: { description: "recorded" }, ...problems(400, 401, 404) },
});

const collectionByKey = createRoute({
  method: "get",
  path: "/collections/by-key",
  middleware: requires("read"),
  tags: ["collections"],
  summary: "The latest collection with a key",
  request: {
    query: z.object({
      key: z.string().min(1).max(255).openapi({ example: "datasets/batch-1" }),
    }),
  },
  responses: { 200: json(Collection, "the collection"), ...problems(400, 401, 404) },
});

const collectionMembers = createRoute({
  method: "get",
  path: "/collections/{uid}/members",
  middleware: requires("read"),
  tags: ["collections"],
  summary: "The member artifacts of a collection, in the order they were collected",
  request: {
    params: collections.schemas.uid,
  },
  responses: { 200: json(z.array(Artifact), "the members"), ...problems(400, 401, 404) },
});

const SheetRows = z
  .object({
    type: z.string().openapi({ description: "uid of the record type" }),
    name: z.string().nullable(),
    schema: z.string().nullable().openapi({ description: "uid of the type's schema (a sheet)" }),
    columns: z.array(z.string()),
    rows: z.array(
      z.object({
        uid: z.string(),
        name: z.string().nullable(),
        features: z.record(z.string(), z.unknown()),
      }),
    ),
    truncated: z.boolean(),
  })
  .openapi("SheetRows");

const recordSheet = createRoute({
  method: "get",
  path: "/records/{uid}/sheet",
  middleware: requires("read"),
  tags: ["records"],
  summary:
    "The records of a type with their feature values, as rows (LaminDB's record_type.to_dataframe())",
  request: {
    params: z.object({
      uid: z
        .string()
        .min(1)
        .max(150)
        .openapi({
          param: { name: "uid", in: "path" },
          description: "uid or name of the record type",
          example: "Ny0gvDjRqHks1xPe",
        }),
    }),
    query: z.object({
      limit: z.coerce.number().int().min(1).max(MAX_SHEET_ROWS).optional(),
    }),
  },
  responses: { 200: json(SheetRows, "the rows"), ...problems(400, 401, 404) },
});

const finishRun = createRoute({
  method: "post",
  path: "/runs/{uid}/finish",
  middleware: requires("write"),
  tags: ["runs"],
  summary: "End a run: its status (default completed) and finished_at (`lamin finish`)",
  request: {
    params: runs.schemas.uid,
    ...body(
      z
        .object({ status: z.enum(["completed", "errored", "aborted"]).optional() })
        .strict()
        .openapi("RunFinish"),
    ),
  },
  responses: { 200: json(Run, "the finished run"), ...problems(400, 401, 404) },
});

/** The registry of a model in an instance: `instance.projects` for projects. */
interface RegistryCalls {
  list(opts: object): Promise<{ items: unknown[]; nextCursor?: string }>;
  get(uid: string): Promise<unknown>;
  create(input: never): Promise<{ record: unknown; status: string }>;
  link(
    uid: string,
    relation: string,
    targets: string[],
    values: Record<string, unknown>,
  ): Promise<unknown>;
  unlink(
    uid: string,
    relation: string,
    targets: string[],
    values: Record<string, unknown>,
  ): Promise<unknown>;
  updateDescription(uid: string, description: string | null): Promise<unknown>;
}
const registryOf = (c: { var: ApiEnv["Variables"] }, model: AnyRegistryModel) =>
  (c.var.instance as unknown as Record<string, RegistryCalls>)[model.plural] as RegistryCalls;

/**
 * Mount list, create and get of `model`; `beforeGet` mounts routes whose paths `/{uid}` would
 * otherwise take (`/collections/by-key`). Runs take feature lookups in their list.
 */
function mount(
  app: OpenAPIHono<ApiEnv>,
  model: AnyRegistryModel,
  beforeGet?: (app: OpenAPIHono<ApiEnv>) => void,
) {
  const r = routesOf(model);
  const byFeatures = model === RunModel || model === RecordModel;
  app.openapi(r.list, async (c) => {
    const { query, features } = byFeatures
      ? splitFeatureParams(c.req.valid("query"))
      : { query: c.req.valid("query"), features: undefined };
    const page = await registryOf(c, model).list({
      ...listOptions(query),
      ...(features ? { features } : {}),
    });
    return c.json(toPage(page) as never, 200);
  });
  app.openapi(r.create, async (c) => {
    const result = await registryOf(c, model).create(c.req.valid("json") as never);
    return createdStatus(c, result as never) === 201
      ? c.json(result.record as never, 201)
      : c.json(result.record as never, 200);
  });
  beforeGet?.(app);
  if (r.links) {
    app.openapi(r.links, async (c) => {
      const { uid, relation } = c.req.valid("param");
      const { add = [], remove = [], ...values } = c.req.valid("json");
      const registry = registryOf(c, model);
      let record = await registry.get(uid);
      if (add.length) record = await registry.link(uid, relation, add, values);
      if (remove.length) record = await registry.unlink(uid, relation, remove, values);
      return c.json(record as never, 200);
    });
  }
  if (r.update) {
    app.openapi(r.update, async (c) => {
      const { description } = c.req.valid("json");
      const record = await registryOf(c, model).updateDescription(
        c.req.valid("param").uid,
        description,
      );
      return c.json(record as never, 200);
    });
  }
  app.openapi(r.get, async (c) =>
    c.json((await registryOf(c, model).get(c.req.valid("param").uid)) as never, 200),
  );
}

/** The declared registries with an API of their own, in the order the UI shows them. */
const MODELS: AnyRegistryModel[] = [
  TransformModel,
  RunModel,
  CollectionModel,
  FeatureModel,
  ULabelModel,
  RecordModel,
  ProjectModel,
  ReferenceModel,
  BlockModel,
];

const registries = createRoute({
  method: "get",
  path: "/registries",
  middleware: requires("read"),
  tags: ["registries"],
  summary: "The registries this API serves: fields, filters and search (what the web UI reads)",
  responses: { 200: json(z.array(RegistryInfo), "the registries"), ...problems(401) },
});

export function registryRoutes() {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: problemHook });
  // artifacts have routes of their own (routes/artifacts.ts) but are described like the others
  const described = [ArtifactModel, ...MODELS];
  const byTable = new Map<unknown, AnyRegistryModel>(described.map((m) => [m.table, m]));
  const info = described.map((m) => registryInfo(m, byTable));
  app.openapi(registries, (c) => c.json(info, 200));
  for (const model of MODELS) {
    if (model !== CollectionModel && model !== RecordModel) mount(app, model);
  }
  mount(app, RecordModel, (app) =>
    app.openapi(recordSheet, async (c) => {
      const { limit } = c.req.valid("query");
      const sheet = await c.var.instance.records.sheet(c.req.valid("param").uid, {
        ...(limit !== undefined ? { limit } : {}),
      });
      return c.json(sheet, 200);
    }),
  );
  mount(app, CollectionModel, (app) =>
    app.openapi(collectionByKey, async (c) =>
      c.json(await c.var.instance.collections.get({ key: c.req.valid("query").key }), 200),
    ),
  );
  return app
    .openapi(finishRun, async (c) => {
      const { endRun } = await import("../../../core/registry/lineage/tracking.js");
      const { status } = c.req.valid("json");
      const run = await endRun(c.var.instance, {
        runUid: c.req.valid("param").uid,
        ...(status ? { status } : {}),
      });
      return c.json(run, 200);
    })
    .openapi(runInputs, async (c) => {
      await c.var.instance.runs.addInputs(c.req.valid("param").uid, c.req.valid("json"));
      return c.body(null, 204);
    })
    .openapi(collectionMembers, async (c) =>
      c.json(await c.var.instance.collections.members(c.req.valid("param").uid), 200),
    );
}
