/**
 * /transforms, /runs, /features, /ulabels, /projects, /records, /collections: list (filters as
 * query parameters, cursor pages), get by uid, create. A create answers 201 with a new record and
 * 200 with the existing one LaminDB's rules return (same key and source, same members, same
 * name); its `lamin-status` header names the outcome (routes/status.ts). Runs are also listed by
 * feature values (`feature.<lookup>=...`, as artifacts), and a run can be finished.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  RUN_STATUSES,
  type RunStatus,
  TRANSFORM_KINDS,
  type TransformKind,
} from "../../../core/registry/records.js";
import type { ApiEnv } from "../env.js";
import { body, json, listOptions, problems, splitFeatureParams, toPage } from "../openapi.js";
import { problemHook } from "../problem.js";
import { requires } from "../roles.js";
import { Artifact, page, pagingParams } from "../schemas.js";
import { createdStatus, createHeaders } from "./status.js";

const uidParam = (length: string, pattern: RegExp, example: string) =>
  z.object({
    uid: z
      .string()
      .regex(pattern, `a uid: ${length} base62 characters`)
      .openapi({ param: { name: "uid", in: "path" }, example }),
  });

/** Query of a list: paging parameters; every other parameter is a filter lookup. */
const RegistryListQuery = z.object(pagingParams).catchall(z.string().max(4096)).openapi({
  description:
    "filters: any field__operator=value (see the README's query language); the trash is hidden unless the filter names branch_id, id, uid or hash; runs also take feature.<name>[__operator]=value for feature values and ulabels__name=... for labels",
});

const tracked = {
  branch: z.string().openapi({ example: "main" }),
  created_at: z.string(),
  updated_at: z.string(),
  created_by: z.string().openapi({ example: "anonymous" }),
};
const description = z.string().max(10_000).nullable().optional();

// ------------------------------------------------------------------ shapes

const Transform = z
  .object({
    uid: z.string().openapi({ example: "Kp3sY1DqvT7a0000" }),
    key: z.string().openapi({ example: "pipelines/rnaseq.py" }),
    description: z.string().nullable(),
    kind: z.string().openapi({ example: "pipeline" }),
    source_code: z.string().nullable(),
    hash: z.string().nullable(),
    version: z.string(),
    version_tag: z.string().nullable(),
    is_latest: z.boolean(),
    ...tracked,
  })
  .openapi("Transform");
const TransformCreate = z
  .object({
    uid: z
      .string()
      .regex(/^[0-9A-Za-z]{12}([0-9A-Za-z]{4})?$/, "a 12-character uid stem (or a full uid)")
      .optional()
      .openapi({ description: "pin the transform family across renames (ln.track's uid)" }),
    key: z.string().min(1).max(1024).openapi({ example: "pipelines/rnaseq.py" }),
    description,
    kind: z.enum(TRANSFORM_KINDS).optional().openapi({ example: "pipeline" }),
    source_code: z.string().nullable().optional(),
    version_tag: z.string().max(30).nullable().optional(),
  })
  .strict()
  .openapi("TransformCreate");

const Run = z
  .object({
    uid: z.string().openapi({ example: "Wbx3oq8cKTDk9nAb" }),
    name: z.string().nullable(),
    description: z.string().nullable(),
    transform: z.string().openapi({ description: "uid of the transform" }),
    status: z.enum([...RUN_STATUSES, "unknown"]),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    params: z.record(z.string(), z.unknown()).nullable(),
    ...tracked,
  })
  .openapi("Run");
const RunCreate = z
  .object({
    transform: z
      .string()
      .regex(/^[0-9A-Za-z]{12}([0-9A-Za-z]{4})?$/, "a transform uid (16, or a 12-character stem)")
      .openapi({ example: "Kp3sY1DqvT7a0000" }),
    name: z.string().max(150).nullable().optional(),
    description,
    params: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .openapi({ example: { learning_rate: 0.01 } }),
    status: z.enum(RUN_STATUSES).optional().openapi({ example: "started" }),
    extra_data: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .openapi({ description: "e.g. the environment of a tracked script (lamin track)" }),
  })
  .strict()
  .openapi("RunCreate");

const Feature = z
  .object({
    uid: z.string().openapi({ example: "8GPjkwXGNfpL" }),
    name: z.string().openapi({ example: "temperature" }),
    dtype: z.string().nullable().openapi({ example: "float" }),
    unit: z.string().nullable(),
    description: z.string().nullable(),
    ...tracked,
  })
  .openapi("Feature");
const FeatureCreate = z
  .object({
    name: z.string().min(1).max(150).openapi({ example: "temperature" }),
    dtype: z.string().min(1).max(255).openapi({ example: "float" }),
    unit: z.string().max(30).nullable().optional(),
    description,
    nullable: z
      .boolean()
      .optional()
      .openapi({ description: "whether values may be missing in validated data (default true)" }),
  })
  .strict()
  .openapi("FeatureCreate");

const ULabel = z
  .object({
    uid: z.string().openapi({ example: "Mb8pXJ4Z" }),
    name: z.string().openapi({ example: "T cell" }),
    description: z.string().nullable(),
    is_type: z.boolean(),
    type: z.string().nullable().openapi({ description: "uid of the ULabel type" }),
    ...tracked,
  })
  .openapi("ULabel");
const ULabelCreate = z
  .object({
    name: z.string().min(1).max(150).openapi({ example: "T cell" }),
    description,
    is_type: z.boolean().optional(),
    type: z
      .string()
      .min(1)
      .max(150)
      .nullable()
      .optional()
      .openapi({ description: "uid or name of a ULabel that is a type" }),
    parents: z
      .array(z.string().min(1).max(150))
      .max(100)
      .optional()
      .openapi({ description: "uids or names of parent labels; a cycle is refused" }),
  })
  .strict()
  .openapi("ULabelCreate");

const Project = z
  .object({
    uid: z.string().openapi({ example: "t3ePz0hUl2kR" }),
    name: z.string().openapi({ example: "Lung atlas" }),
    abbr: z.string().nullable(),
    url: z.string().nullable(),
    description: z.string().nullable(),
    ...tracked,
  })
  .openapi("Project");
const ProjectCreate = z
  .object({
    name: z.string().min(1).max(255).openapi({ example: "Lung atlas" }),
    abbr: z.string().max(32).nullable().optional(),
    url: z.string().max(255).nullable().optional().openapi({ example: "https://example.org" }),
    description,
  })
  .strict()
  .openapi("ProjectCreate");

const LnRecord = z
  .object({
    uid: z.string().openapi({ example: "Ny0gvDjRqHks1xPe" }),
    name: z.string().nullable().openapi({ example: "sample 1" }),
    description: z.string().nullable(),
    is_type: z.boolean(),
    type: z.string().nullable().openapi({ description: "uid of the Record type" }),
    ...tracked,
  })
  .openapi("Record");
const RecordCreate = z
  .object({
    name: z.string().min(1).max(150).openapi({ example: "sample 1" }),
    description,
    is_type: z.boolean().optional(),
    type: z
      .string()
      .min(1)
      .max(150)
      .nullable()
      .optional()
      .openapi({ description: "uid or name of a Record that is a type" }),
  })
  .strict()
  .openapi("RecordCreate");

const Collection = z
  .object({
    uid: z.string().openapi({ example: "gF0qmv3yWbHB4nT90000" }),
    key: z.string().openapi({ example: "datasets/batch-1" }),
    description: z.string().nullable(),
    hash: z.string().nullable(),
    version: z.string(),
    version_tag: z.string().nullable(),
    is_latest: z.boolean(),
    artifacts: z.array(z.string()).openapi({ description: "uids of the member artifacts" }),
    ...tracked,
  })
  .openapi("Collection");
const CollectionCreate = z
  .object({
    key: z.string().min(1).max(255).openapi({ example: "datasets/batch-1" }),
    description,
    artifacts: z
      .array(
        z
          .string()
          .regex(
            /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/,
            "an artifact uid (20, or a 16-character stem)",
          ),
      )
      .min(1)
      .max(10_000),
    version_tag: z.string().max(30).nullable().optional(),
  })
  .strict()
  .openapi("CollectionCreate");

// ------------------------------------------------------------------ routes

/** list, get and create of one registry, typed for the chain below. */
function routesOf<
  const P extends string,
  R extends z.ZodType,
  C extends z.ZodType,
  U extends z.ZodObject<{ uid: z.ZodString }>,
>(plural: P, name: string, record: R, create: C, uid: U, pageName: string) {
  const tags = [plural];
  return {
    list: createRoute({
      method: "get",
      path: `/${plural}`,
      middleware: requires("read"),
      tags,
      summary: `List ${plural} (newest first) with filters and a cursor`,
      request: { query: RegistryListQuery },
      responses: {
        200: json(page(record, pageName), `a page of ${plural}`),
        ...problems(400, 401),
      },
    }),
    get: createRoute({
      method: "get",
      path: `/${plural}/{uid}`,
      middleware: requires("read"),
      tags,
      summary: `One ${name} by uid`,
      request: { params: uid },
      responses: { 200: json(record, `the ${name}`), ...problems(400, 401, 404) },
    }),
    create: createRoute({
      method: "post",
      path: `/${plural}`,
      middleware: requires("write"),
      tags,
      summary: `Create a ${name}, or get the existing one LaminDB's rules return`,
      request: body(create),
      responses: {
        201: { ...json(record, `a new ${name}`), headers: createHeaders },
        200: { ...json(record, `the existing ${name}`), headers: createHeaders },
        ...problems(400, 401, 409, 413),
      },
    }),
  };
}

const transforms = routesOf(
  "transforms",
  "transform",
  Transform,
  TransformCreate,
  uidParam("16 (or a 12-character stem)", /^[0-9A-Za-z]{12}([0-9A-Za-z]{4})?$/, "Kp3sY1DqvT7a0000"),
  "TransformPage",
);
const runs = routesOf(
  "runs",
  "run",
  Run,
  RunCreate,
  uidParam("16", /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/, "Wbx3oq8cKTDk9nAb"),
  "RunPage",
);
const features = routesOf(
  "features",
  "feature",
  Feature,
  FeatureCreate,
  uidParam("12", /^[0-9A-Za-z]{12}$/, "8GPjkwXGNfpL"),
  "FeaturePage",
);
const ulabels = routesOf(
  "ulabels",
  "ulabel",
  ULabel,
  ULabelCreate,
  uidParam("8", /^[0-9A-Za-z]{8}$/, "Mb8pXJ4Z"),
  "ULabelPage",
);
const projects = routesOf(
  "projects",
  "project",
  Project,
  ProjectCreate,
  uidParam("12", /^[0-9A-Za-z]{12}$/, "t3ePz0hUl2kR"),
  "ProjectPage",
);
const records = routesOf(
  "records",
  "record",
  LnRecord,
  RecordCreate,
  uidParam("16", /^[0-9A-Za-z]{16}$/, "Ny0gvDjRqHks1xPe"),
  "RecordPage",
);
const collections = routesOf(
  "collections",
  "collection",
  Collection,
  CollectionCreate,
  uidParam(
    "20 (or a 16-character stem)",
    /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/,
    "gF0qmv3yWbHB4nT90000",
  ),
  "CollectionPage",
);

const runInputs = createRoute({
  method: "post",
  path: "/runs/{uid}/inputs",
  middleware: requires("write"),
  tags: ["runs"],
  summary: "Record artifacts and collections a run read (loads of a client's tracked run)",
  request: {
    params: uidParam("16", /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/, "Wbx3oq8cKTDk9nAb"),
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
    params: uidParam(
      "20 (or a 16-character stem)",
      /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/,
      "gF0qmv3yWbHB4nT90000",
    ),
  },
  responses: { 200: json(z.array(Artifact), "the members"), ...problems(400, 401, 404) },
});

const finishRun = createRoute({
  method: "post",
  path: "/runs/{uid}/finish",
  middleware: requires("write"),
  tags: ["runs"],
  summary: "End a run: its status (default completed) and finished_at (`lamin finish`)",
  request: {
    params: uidParam("16", /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/, "Wbx3oq8cKTDk9nAb"),
    ...body(
      z
        .object({ status: z.enum(["completed", "errored", "aborted"]).optional() })
        .strict()
        .openapi("RunFinish"),
    ),
  },
  responses: { 200: json(Run, "the finished run"), ...problems(400, 401, 404) },
});

export function registryRoutes() {
  return (
    new OpenAPIHono<ApiEnv>({ defaultHook: problemHook })
      // transforms
      .openapi(transforms.list, async (c) =>
        c.json(
          toPage(await c.var.instance.transforms.list(listOptions(c.req.valid("query")))),
          200,
        ),
      )
      .openapi(transforms.get, async (c) =>
        c.json(await c.var.instance.transforms.get(c.req.valid("param").uid), 200),
      )
      .openapi(transforms.create, async (c) => {
        const input = c.req.valid("json");
        const r = await c.var.instance.transforms.create({
          ...input,
          ...(input.kind !== undefined ? { kind: input.kind as TransformKind } : {}),
        });
        return createdStatus(c, r) === 201 ? c.json(r.record, 201) : c.json(r.record, 200);
      })
      // runs
      .openapi(runs.list, async (c) => {
        const { query, features } = splitFeatureParams(c.req.valid("query"));
        const page = await c.var.instance.runs.list({
          ...listOptions(query),
          ...(features ? { features } : {}),
        });
        return c.json(toPage(page), 200);
      })
      .openapi(runs.get, async (c) =>
        c.json(await c.var.instance.runs.get(c.req.valid("param").uid), 200),
      )
      .openapi(runs.create, async (c) => {
        const input = c.req.valid("json");
        const r = await c.var.instance.runs.create({
          ...input,
          ...(input.status !== undefined ? { status: input.status as RunStatus } : {}),
        });
        return createdStatus(c, r) === 201 ? c.json(r.record, 201) : c.json(r.record, 200);
      })
      // features
      .openapi(features.list, async (c) =>
        c.json(toPage(await c.var.instance.features.list(listOptions(c.req.valid("query")))), 200),
      )
      .openapi(features.get, async (c) =>
        c.json(await c.var.instance.features.get(c.req.valid("param").uid), 200),
      )
      .openapi(features.create, async (c) => {
        const r = await c.var.instance.features.create(c.req.valid("json"));
        return createdStatus(c, r) === 201 ? c.json(r.record, 201) : c.json(r.record, 200);
      })
      // ulabels
      .openapi(ulabels.list, async (c) =>
        c.json(toPage(await c.var.instance.ulabels.list(listOptions(c.req.valid("query")))), 200),
      )
      .openapi(ulabels.get, async (c) =>
        c.json(await c.var.instance.ulabels.get(c.req.valid("param").uid), 200),
      )
      .openapi(ulabels.create, async (c) => {
        const r = await c.var.instance.ulabels.create(c.req.valid("json"));
        return createdStatus(c, r) === 201 ? c.json(r.record, 201) : c.json(r.record, 200);
      })
      // projects
      .openapi(projects.list, async (c) =>
        c.json(toPage(await c.var.instance.projects.list(listOptions(c.req.valid("query")))), 200),
      )
      .openapi(projects.get, async (c) =>
        c.json(await c.var.instance.projects.get(c.req.valid("param").uid), 200),
      )
      .openapi(projects.create, async (c) => {
        const r = await c.var.instance.projects.create(c.req.valid("json"));
        return createdStatus(c, r) === 201 ? c.json(r.record, 201) : c.json(r.record, 200);
      })
      .openapi(finishRun, async (c) => {
        const { endRun } = await import("../../../core/registry/tracking.js");
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
      // records
      .openapi(records.list, async (c) =>
        c.json(toPage(await c.var.instance.records.list(listOptions(c.req.valid("query")))), 200),
      )
      .openapi(records.get, async (c) =>
        c.json(await c.var.instance.records.get(c.req.valid("param").uid), 200),
      )
      .openapi(records.create, async (c) => {
        const r = await c.var.instance.records.create(c.req.valid("json"));
        return createdStatus(c, r) === 201 ? c.json(r.record, 201) : c.json(r.record, 200);
      })
      // collections
      .openapi(collections.list, async (c) =>
        c.json(
          toPage(await c.var.instance.collections.list(listOptions(c.req.valid("query")))),
          200,
        ),
      )
      // before /collections/{uid}, which would take "by-key" for a uid
      .openapi(collectionByKey, async (c) =>
        c.json(await c.var.instance.collections.get({ key: c.req.valid("query").key }), 200),
      )
      .openapi(collections.get, async (c) =>
        c.json(await c.var.instance.collections.get(c.req.valid("param").uid), 200),
      )
      .openapi(collections.create, async (c) => {
        const r = await c.var.instance.collections.create(c.req.valid("json"));
        return createdStatus(c, r) === 201 ? c.json(r.record, 201) : c.json(r.record, 200);
      })
      .openapi(collectionMembers, async (c) =>
        c.json(await c.var.instance.collections.members(c.req.valid("param").uid), 200),
      )
  );
}
