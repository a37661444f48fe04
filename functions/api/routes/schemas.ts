/**
 * Schemas and validation:
 * - GET /schemas, GET /schemas/{ref}, POST /schemas: list, get (name or uid), define
 * - POST /schemas/{ref}/validate: check a table that the client read from its own file
 *   (`readTable` in core/registry/schemas/validate.ts), or for a composite schema the slot tables it read
 *   from its folder (`readSlotTables`), and get the same ValidationReport as in process.
 *   The file stays on the client: only its columns travel, and only once; the registries it is
 *   checked against stay on the server. The body is capped (ApiOptions.maxTableBytes): a larger
 *   table gets a 413 that says to validate where the instance's database is.
 * Saving with a schema is the upload flow of routes/artifacts.ts with `schema` in the request.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { ValidationError } from "../../../core/errors.js";
import { COMPOSITE } from "../../../core/registry/schemas/schemas.js";
import type { Table } from "../../../core/registry/schemas/validate.js";
import type { ApiEnv } from "../env.js";
import { body, json, problems } from "../openapi.js";
import { problemHook } from "../problem.js";
import { requires } from "../roles.js";
import { createdStatus, createHeaders } from "./status.js";

const tags = ["schemas"];

const SchemaRef = z.object({
  ref: z
    .string()
    .min(1)
    .max(150)
    .openapi({
      param: { name: "ref", in: "path" },
      example: "samples",
      description: "a name or uid; a name with '/' goes as several segments, each URL-encoded",
    }),
});

const SchemaMember = z.object({
  uid: z.string(),
  name: z.string(),
  dtype: z.string().nullable(),
  nullable: z.boolean(),
  coerce: z.boolean(),
});

export const Schema = z
  .object({
    uid: z.string().openapi({ example: "0DIhXUdd1wbYq0pr" }),
    name: z.string().nullable().openapi({ example: "samples" }),
    description: z.string().nullable(),
    itype: z.string().nullable(),
    n_members: z.number().int(),
    hash: z.string().nullable(),
    minimal_set: z.boolean(),
    ordered_set: z.boolean(),
    maximal_set: z.boolean(),
    coerce: z.boolean(),
    flexible: z.boolean(),
    features: z.array(SchemaMember),
    components: z
      .array(
        z.object({
          slot: z.string(),
          uid: z.string(),
          name: z.string().nullable(),
          hash: z.string().nullable(),
        }),
      )
      .optional()
      .openapi({ description: "composite schemas: slot → component schema" }),
    created_at: z.string(),
    created_by: z.string(),
  })
  .passthrough()
  .openapi("Schema");

const SchemaCreate = z
  .object({
    name: z.string().min(1).max(150).openapi({ example: "samples" }),
    features: z
      .array(z.string().min(1).max(150))
      .max(10_000)
      .optional()
      .openapi({ example: ["sample_id", "n_cells"] }),
    description: z.string().max(10_000).nullable().optional(),
    minimal_set: z.boolean().optional().openapi({ description: "every feature is required" }),
    maximal_set: z.boolean().optional().openapi({ description: "no other columns" }),
    ordered_set: z.boolean().optional().openapi({ description: "columns in this order" }),
    coerce: z.boolean().optional().openapi({ description: 'convert values first ("37" -> 37)' }),
    flexible: z
      .boolean()
      .optional()
      .openapi({ description: "also validate other columns that are registered features" }),
    components: z
      .record(z.string().min(1).max(100), z.string().min(1).max(150))
      .optional()
      .openapi({
        description: "a composite schema: slot → component schema (name or uid)",
        example: { obs: "cells", "var.T": "genes" },
      }),
  })
  .strict()
  .openapi("SchemaCreate");

/** A table as `readTable` reads it; `values` has one list per column, one value per row. */
const TableBody = z
  .object({
    file: z.string().min(1).max(4096).openapi({ example: "samples.csv" }),
    format: z.enum(["csv", "tsv", "parquet", "json"]),
    columns: z.array(z.string().max(1024)).max(100_000),
    values: z.record(z.string(), z.array(z.unknown())),
    n_rows: z.number().int().min(0),
    text: z.boolean().openapi({ description: "values are text as written (CSV, TSV)" }),
    single: z.boolean().openapi({ description: "a JSON object: one record" }),
  })
  .strict()
  .openapi("Table");

/** Why a slot of a composite has no table, as the client's read of its folder found. */
const SlotFileIssue = z
  .object({
    kind: z.literal("slot-file"),
    slot: z.string().min(1).max(100),
    problem: z.enum(["missing", "several", "unreadable"]),
    files: z.array(z.string().max(4096)).max(1000),
    message: z.string().max(10_000).optional(),
  })
  .strict()
  .openapi("SlotFileIssue");

/** A folder read for a composite schema (`readSlotTables`): each slot's table, or its issue. */
const FolderBody = z
  .object({
    file: z.string().min(1).max(4096).openapi({ example: "dataset" }),
    slots: z.record(z.string().min(1).max(100), z.union([TableBody, SlotFileIssue])),
  })
  .strict()
  .openapi("SlotTables");

const Issue = z.object({ kind: z.string() }).passthrough().openapi("ValidationIssue");
export const ValidationReport = z
  .object({
    valid: z.boolean(),
    schema: z.object({ uid: z.string(), name: z.string().nullable() }),
    file: z.string(),
    format: z.string(),
    n_rows: z.number().int(),
    columns: z.array(z.string()),
    issues: z.array(Issue),
    slots: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "composite schemas: the report of each slot's table" }),
  })
  .openapi("ValidationReport");

const list = createRoute({
  method: "get",
  path: "/schemas",
  middleware: requires("read"),
  tags,
  summary: "List schemas (newest first)",
  request: {
    query: z.object({ limit: z.coerce.number().int().min(1).max(10_000).optional() }),
  },
  responses: { 200: json(z.array(Schema), "the schemas"), ...problems(400, 401) },
});

const get = createRoute({
  method: "get",
  path: "/schemas/{ref{.+}}",
  middleware: requires("read"),
  tags,
  summary: "One schema by name or uid",
  request: { params: SchemaRef },
  responses: { 200: json(Schema, "the schema"), ...problems(400, 401, 404) },
});

const create = createRoute({
  method: "post",
  path: "/schemas",
  middleware: requires("write"),
  tags,
  summary:
    "Define a schema of features (the same name and definition: the existing one; another definition: 409)",
  request: body(SchemaCreate),
  responses: {
    201: { ...json(Schema, "a new schema"), headers: createHeaders },
    200: { ...json(Schema, "the existing schema"), headers: createHeaders },
    ...problems(400, 401, 409, 413),
  },
});

const validate = createRoute({
  method: "post",
  path: "/schemas/{ref{.+}}/validate",
  middleware: requires("read"),
  tags,
  summary:
    "Validate a table (read by the client from its file), or a folder's slot tables for a composite schema",
  description:
    "Every issue is in the report (`valid` false), with the status 200: the request was fine, the data is not. Nothing is written. A composite schema takes `{ file, slots }`, one table (or the slot-file issue the client found) per slot; a slot not given is missing. Bodies larger than the server's limit (all slots together) get 413: validate where the instance's database is instead.",
  request: { params: SchemaRef, ...body(z.union([TableBody, FolderBody])) },
  responses: {
    200: json(ValidationReport, "the report"),
    ...problems(400, 401, 404, 413),
  },
});

/** A value as read from the file: dates travel as `{ "$date": ISO }` (sdk/remote-registries.ts). */
const revive = (v: unknown): unknown => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
  const keys = Object.keys(v);
  const date = (v as { $date?: unknown }).$date;
  return keys.length === 1 && typeof date === "string" ? new Date(date) : v;
};

/** A posted table as `checkTable` takes it. */
export function tableOf(t: z.infer<typeof TableBody>): Table {
  return {
    format: t.format,
    columns: t.columns,
    values: new Map(t.columns.map((c) => [c, (t.values[c] ?? []).map(revive)])),
    nRows: t.n_rows,
    text: t.text,
    single: t.single,
  };
}

export function schemaRoutes() {
  return new OpenAPIHono<ApiEnv>({ defaultHook: problemHook })
    .openapi(list, async (c) => {
      const { limit } = c.req.valid("query");
      return c.json(await c.var.instance.schemas.list(limit !== undefined ? { limit } : {}), 200);
    })
    .openapi(get, async (c) =>
      c.json(await c.var.instance.schemas.get(c.req.valid("param").ref), 200),
    )
    .openapi(create, async (c) => {
      const { minimal_set, maximal_set, ordered_set, ...rest } = c.req.valid("json");
      const r = await c.var.instance.schemas.create({
        ...rest,
        ...(minimal_set !== undefined ? { minimalSet: minimal_set } : {}),
        ...(maximal_set !== undefined ? { maximalSet: maximal_set } : {}),
        ...(ordered_set !== undefined ? { orderedSet: ordered_set } : {}),
      });
      return createdStatus(c, r) === 201 ? c.json(r.record, 201) : c.json(r.record, 200);
    })
    .openapi(validate, async (c) => {
      const { instance } = c.var;
      const posted = c.req.valid("json");
      const schema = await instance.schemas.get(c.req.valid("param").ref);
      const composite = schema.itype === COMPOSITE;
      if (composite !== "slots" in posted) {
        const name = schema.name ?? schema.uid;
        // one posted table would pass a composite as a schema without features, and vice versa
        throw new ValidationError(
          composite
            ? `schema '${name}' is composite: it validates a folder, ${posted.file} is a file`
            : `schema '${name}' validates one table, not a folder's slots`,
          composite
            ? "post { file, slots: { slot: table } } (readSlotTables)"
            : "post the table (readTable)",
        );
      }
      const { checkTable, checkTables } = await import(
        "../../../core/registry/schemas/validate.js"
      );
      if ("slots" in posted) {
        const slots = Object.fromEntries(
          Object.entries(posted.slots).map(([slot, t]) => [
            slot,
            "kind" in t ? t : { file: t.file, table: tableOf(t) },
          ]),
        );
        const { report } = await checkTables(instance, slots, schema, posted.file);
        return c.json(report, 200);
      }
      const { report } = await checkTable(instance, tableOf(posted), schema, posted.file);
      return c.json(report, 200);
    });
}
