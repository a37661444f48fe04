/**
 * An instance's modules and their registries, read-only (core/modules):
 * - GET /modules: the known modules, which are enabled, their registries
 * - GET /modules/migrations: what `lamin migrate status` says (applied, pending, Python's rows)
 * - GET /modules/search/{registry}?q=...: ranked search of a module registry (`bionty.CellType`)
 *   by name, synonym or identifier
 * - GET /modules/lookup?field=...&value=...&value=...: which values a `cat[bionty.X(.field)]`
 *   feature would accept, with synonyms and close spellings of the others
 * - GET /modules/records/{registry}?name=&uid=&limit=: records of a registry of one's own module
 *   (`mylab.Sample`), newest first; POST /modules/records/{registry}: create one from its
 *   declared fields (checked by the declaration, whatever the module: one route for all)
 * - PATCH /modules/records/{registry}/{uid} (write): change fields of one; DELETE (write) moves
 *   it to the trash, `?permanent=true` (admin) deletes it for good
 * - POST /modules/{name}/enable (admin): enable a module, or bring an enabled one to a newer
 *   declaration: one bundled with the server (bionty, pertdb) by name, any other from its
 *   declaration in the body (data: the server writes the SQL itself, core/modules/declared.ts),
 *   with `dry_run` answering the SQL without running it
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { ApiEnv } from "../env.js";
import { json, problems } from "../openapi.js";
import { problemHook } from "../problem.js";
import { requires } from "../roles.js";

const tags = ["modules"];

const ModuleInfo = z
  .object({
    name: z.string().openapi({ example: "bionty" }),
    description: z.string(),
    enabled: z.boolean(),
    package: z.boolean().openapi({
      description: "a module of its own package: GET /modules/records/{registry} lists its records",
    }),
    registries: z.array(z.string()).openapi({ example: ["bionty.CellType", "bionty.Gene"] }),
  })
  .openapi("ModuleInfo");

const ModuleHit = z
  .object({
    uid: z.string(),
    name: z.string().openapi({ example: "T cell" }),
    id: z.string().nullable().openapi({ example: "CL:0000084" }),
    synonyms: z.array(z.string()),
    match: z.enum(["name", "id", "synonym", "prefix", "contains", "fuzzy"]),
    score: z.number().openapi({ description: "0..1, 1 = exact" }),
  })
  .openapi("ModuleSearchHit");

const LookupResult = z
  .object({
    registry: z.string().openapi({ example: "bionty.CellType" }),
    field: z.string().openapi({ example: "name" }),
    found: z.array(
      z.object({ value: z.string(), uid: z.string(), name: z.string(), id: z.string().nullable() }),
    ),
    missing: z.array(
      z.object({
        value: z.string(),
        synonymOf: z.string().optional(),
        closeMatches: z.array(z.string()),
      }),
    ),
  })
  .openapi("ModuleLookup");

const migrationsRoute = createRoute({
  method: "get",
  path: "/modules/migrations",
  middleware: requires("read"),
  tags,
  summary: "Migrations per app (lns, lns_<module>): applied, pending, and Python LaminDB's rows",
  responses: { 200: json(z.array(z.record(z.string(), z.unknown())), "per app"), ...problems(401) },
});

const listRoute = createRoute({
  method: "get",
  path: "/modules",
  middleware: requires("read"),
  tags,
  summary: "The modules this server knows, and which the instance has enabled",
  responses: { 200: json(z.array(ModuleInfo), "modules"), ...problems(401) },
});

const searchRoute = createRoute({
  method: "get",
  path: "/modules/search/{registry}",
  middleware: requires("read"),
  tags,
  summary: "Ranked search of a module registry: exact name or id, synonyms, then similar",
  request: {
    params: z.object({
      registry: z
        .string()
        .min(1)
        .max(100)
        .openapi({ param: { name: "registry", in: "path" }, example: "bionty.CellType" }),
    }),
    query: z.object({
      q: z.string().min(1).max(1000).openapi({ example: "t cell" }),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
    }),
  },
  responses: {
    200: json(z.object({ registry: z.string(), hits: z.array(ModuleHit) }), "hits, best first"),
    ...problems(400, 401, 404),
  },
});

// `value` may come once or many times; hono gives a string for one, an array for several
const values = z.preprocess(
  (v) => (v === undefined || Array.isArray(v) ? v : [v]),
  z.array(z.string().min(1).max(1000)).min(1).max(1000),
);

const lookupRoute = createRoute({
  method: "get",
  path: "/modules/lookup",
  middleware: requires("read"),
  tags,
  summary: "Which values a cat[<module>.<Registry>(.field)] feature accepts",
  request: {
    query: z.object({
      field: z.string().min(1).max(200).openapi({ example: "bionty.CellType.ontology_id" }),
      value: values.openapi({ type: "array", items: { type: "string" }, example: ["CL:0000084"] }),
    }),
  },
  responses: { 200: json(LookupResult, "found and missing values"), ...problems(400, 401, 404) },
});

const registryParam = z.object({
  registry: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "registry", in: "path" }, example: "mylab.Sample" }),
});

const ModuleRecord = z.record(z.string(), z.unknown()).openapi("ModuleRecord", {
  description: "uid, the registry's declared fields (a ref as its record's uid), created_at",
  example: { uid: "lWqVg5dJeqsN", name: "S1", donor: "k5lIM81edKmF", weight: 1.5 },
});

const recordsRoute = createRoute({
  method: "get",
  path: "/modules/records/{registry}",
  middleware: requires("read"),
  tags,
  summary: "Records of a registry of one's own module, newest first",
  request: {
    params: registryParam,
    query: z.object({
      name: z.string().min(1).max(1000).optional(),
      uid: z
        .string()
        .regex(/^[A-Za-z0-9]{1,20}$/)
        .optional(),
      limit: z.coerce.number().int().min(1).max(10_000).optional(),
    }),
  },
  responses: { 200: json(z.array(ModuleRecord), "records"), ...problems(400, 401, 404) },
});

const createRecordRoute = createRoute({
  method: "post",
  path: "/modules/records/{registry}",
  middleware: requires("write"),
  tags,
  summary: "Create a record of a registry of one's own module from its declared fields",
  request: {
    params: registryParam,
    body: {
      content: {
        "application/json": {
          schema: z.record(z.string().max(63), z.unknown()).openapi({ example: { name: "S1" } }),
        },
      },
    },
  },
  responses: { 201: json(ModuleRecord, "the record"), ...problems(400, 401, 403, 404, 409) },
});

const recordParam = registryParam.extend({
  uid: z
    .string()
    .regex(/^[A-Za-z0-9]{1,20}$/)
    .openapi({ param: { name: "uid", in: "path" }, example: "lWqVg5dJeqsN" }),
});

const updateRecordRoute = createRoute({
  method: "patch",
  path: "/modules/records/{registry}/{uid}",
  middleware: requires("write"),
  tags,
  summary: "Change fields of a record of a registry of one's own module",
  request: {
    params: recordParam,
    body: {
      content: {
        "application/json": {
          schema: z.record(z.string().max(63), z.unknown()).openapi({ example: { weight: 2 } }),
        },
      },
    },
  },
  responses: { 200: json(ModuleRecord, "the record"), ...problems(400, 401, 403, 404, 409) },
});

const deleteRecordRoute = createRoute({
  method: "delete",
  path: "/modules/records/{registry}/{uid}",
  // for good: admin (as artifacts); to the trash: write
  middleware: requires((c) => (c.req.query("permanent") === "true" ? "admin" : "write")),
  tags,
  summary: "Move a record of a registry of one's own module to the trash, or delete it for good",
  request: {
    params: recordParam,
    query: z.object({ permanent: z.enum(["true", "false"]).optional() }),
  },
  responses: {
    200: json(
      z.object({ uid: z.string(), deleted: z.enum(["trash", "permanent"]) }),
      "what was done",
    ),
    ...problems(400, 401, 403, 404, 409),
  },
});

const ModuleChange = z
  .object({
    module: z.string().openapi({ example: "mylab" }),
    applied: z.array(z.string()).openapi({ example: ["0000_initial"] }),
    statements: z.array(z.string()).openapi({ description: "the SQL run (dry run: to run)" }),
    dry_run: z.boolean(),
  })
  .openapi("ModuleChange");

const enableRoute = createRoute({
  method: "post",
  path: "/modules/{name}/enable",
  middleware: requires("admin"),
  tags,
  summary: "Enable a module (bundled: by name; any other: from its declaration), or update it",
  request: {
    params: z.object({
      name: z
        .string()
        .min(1)
        .max(100)
        .openapi({ param: { name: "name", in: "path" }, example: "pertdb" }),
    }),
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z
            .object({
              declaration: z.record(z.string(), z.unknown()).optional().openapi({
                description:
                  "the module's declaration (its package's index.js default export), as JSON",
              }),
              migrations: z.array(z.string().max(64)).max(10_000).optional().openapi({
                description: "its package's migration names, recorded as applied with it",
              }),
              dry_run: z.boolean().optional(),
            })
            .openapi("ModuleEnable"),
        },
      },
    },
  },
  responses: {
    200: json(ModuleChange, "what was (would be) applied"),
    ...problems(400, 401, 403, 404, 409),
  },
});

export function moduleRoutes() {
  return (
    new OpenAPIHono<ApiEnv>({ defaultHook: problemHook })
      .openapi(listRoute, async (c) => c.json(await c.var.instance.modules.list(), 200))
      // read-only: `lamin migrate status` while a server holds the database
      .openapi(migrationsRoute, async (c) => {
        const { instanceMigrationStatus } = await import("../../../core/modules/index.js");
        const apps = await instanceMigrationStatus(c.var.instance);
        return c.json(apps as unknown as Record<string, unknown>[], 200);
      })
      .openapi(searchRoute, async (c) => {
        const { q, limit } = c.req.valid("query");
        const found = await c.var.instance.modules.search(c.req.valid("param").registry, q, {
          ...(limit !== undefined ? { limit } : {}),
        });
        return c.json(found, 200);
      })
      .openapi(lookupRoute, async (c) => {
        const { field, value } = c.req.valid("query");
        return c.json(await c.var.instance.modules.lookup(field, value), 200);
      })
      .openapi(recordsRoute, async (c) => {
        const { name, uid, limit } = c.req.valid("query");
        const records = await c.var.instance.modules.records(c.req.valid("param").registry, {
          ...(name !== undefined ? { name } : {}),
          ...(uid !== undefined ? { uid } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
        return c.json(records, 200);
      })
      .openapi(updateRecordRoute, async (c) => {
        const { registry, uid } = c.req.valid("param");
        return c.json(await c.var.instance.modules.update(registry, uid, c.req.valid("json")), 200);
      })
      .openapi(deleteRecordRoute, async (c) => {
        const { registry, uid } = c.req.valid("param");
        const permanent = c.req.valid("query").permanent === "true";
        return c.json(await c.var.instance.modules.delete(registry, uid, { permanent }), 200);
      })
      .openapi(enableRoute, async (c) => {
        const { changeModule } = await import("../../../core/modules/declared.js");
        const { forgetSpacePolicies } = await import("../../../core/db/space-policies.js");
        // the body is optional: a bundled module needs none
        const body = (c.req.header("content-type") ?? "").includes("json")
          ? c.req.valid("json")
          : {};
        const change = await changeModule(c.var.instance, c.req.valid("param").name, {
          ...(body.declaration !== undefined ? { declaration: body.declaration } : {}),
          ...(body.migrations !== undefined ? { migrations: body.migrations } : {}),
          ...(body.dry_run !== undefined ? { dryRun: body.dry_run } : {}),
        });
        const { dryRun, ...rest } = change;
        // new tables: restricted callers' policies must cover them from the next request on
        if (!dryRun && rest.applied.length > 0) forgetSpacePolicies(c.var.instance.database);
        return c.json({ ...rest, dry_run: dryRun }, 200);
      })
      .openapi(createRecordRoute, async (c) => {
        const record = await c.var.instance.modules.create(
          c.req.valid("param").registry,
          c.req.valid("json"),
        );
        return c.json(record, 201);
      })
  );
}
