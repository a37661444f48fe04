/**
 * Schemas and validation:
 * - GET /schemas, GET /schemas/{ref}, POST /schemas: list, get (name or uid), define
 * - POST /schemas/{ref}/validate: check a table that the client read from its own file
 *   (`readTable` in core/registry/validate.ts) and get the same ValidationReport as in process.
 *   The file stays on the client: only its columns travel, and only once; the registries it is
 *   checked against stay on the server. The body is capped (ApiOptions.maxTableBytes): a larger
 *   table gets a 413 that says to validate where the instance's database is.
 * Saving with a schema is the upload flow of routes/artifacts.ts with `schema` in the request.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { UnavailableError } from "../../../core/errors.js";
import { COMPOSITE } from "../../../core/registry/schemas.js";
import type { Table } from "../../../core/registry/validate.js";
import type { ApiEnv } from "../env.js";
import { body, json, problems } from "../openapi.js";
import { problemHook } from "../problem.js";
import { createdStatus, createHeaders } from "./status.js";

const tags = ["schemas"];

const SchemaRef = z.object({
  ref: z
    .string()
    .min(1)
    .max(150)
    .openapi({ param: { name: "ref", in: "path" }, example: "samples" }),
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
  })
  .openapi("ValidationReport");

const list = createRoute({
  method: "get",
  path: "/schemas",
  tags,
  summary: "List schemas (newest first)",
  request: {
    query: z.object({ limit: z.coerce.number().int().min(1).max(10_000).optional() }),
  },
  responses: { 200: json(z.array(Schema), "the schemas"), ...problems(400, 401) },
});

const get = createRoute({
  method: "get",
  path: "/schemas/{ref}",
  tags,
  summary: "One schema by name or uid",
  request: { params: SchemaRef },
  responses: { 200: json(Schema, "the schema"), ...problems(400, 401, 404) },
});

const create = createRoute({
  method: "post",
  path: "/schemas",
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
  path: "/schemas/{ref}/validate",
  tags,
  summary: "Validate a table (read by the client from its file) against a schema",
  description:
    "Every issue is in the report (`valid` false), with the status 200: the request was fine, the data is not. Nothing is written. Bodies larger than the server's limit get 413: validate where the instance's database is instead.",
  request: { params: SchemaRef, ...body(TableBody) },
  responses: {
    200: json(ValidationReport, "the report"),
    ...problems(400, 401, 404, 413),
  },
});

/**
 * A composite schema validates a folder of one table per slot, in process only for now: one
 * posted table would wrongly pass as a schema without features.
 */
export function refuseComposite(schema: {
  itype: string | null;
  name: string | null;
  uid: string;
}): void {
  if (schema.itype !== COMPOSITE) return;
  throw new UnavailableError(
    `schema '${schema.name ?? schema.uid}' is composite: validating its folder works where the instance's database is, not yet over HTTP`,
    "run lamin validate / lamin save --schema on the server (or stop `lamin serve` for it)",
  );
}

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
      refuseComposite(schema);
      const { checkTable } = await import("../../../core/registry/validate.js");
      const { report } = await checkTable(instance, tableOf(posted), schema, posted.file);
      return c.json(report, 200);
    });
}
