/**
 * The OpenAPI side of a registry's declaration (core/registry/model/model.ts): the record's response
 * schema, the create body, the uid parameter and the list, get and create routes, all derived
 * from the one declaration, so a new registry gets its API by being declared.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AnyRegistryModel, Field } from "../../core/registry/model/model.js";
import { MAX_DESCRIPTION } from "../../core/registry/records/base.js";
import { documented, inputSchema, recordSchema } from "./model-schemas.js";
import { body, json, problems } from "./openapi.js";
import { requires } from "./roles.js";
import { createHeaders } from "./routes/status.js";
import { page, pagingParams } from "./schemas.js";

/** The zod schemas of a registry: its record, its create body, its uid parameter, its page. */
export function schemasOf(model: AnyRegistryModel) {
  const record = recordSchema(model);
  const create = z
    .object(
      Object.fromEntries(
        Object.entries(model.inputs).map(([k, i]) => {
          const schema = documented(inputSchema(i), i);
          return [k, i.required ? schema : schema.nullable().optional()];
        }),
      ),
    )
    .strict()
    .openapi(`${model.title}Create`);
  const { length, stem } = model.uid;
  const uid = z.object({
    uid: z
      .string()
      .regex(
        model.spec.uid,
        `a uid: ${length} base62 characters${stem !== undefined ? ` (or a ${stem}-character stem)` : ""}`,
      )
      .openapi({ param: { name: "uid", in: "path" }, example: model.uid.example }),
  });
  return { record, create, uid, page: page(record, `${model.title}Page`) };
}

/** Query of a list: paging parameters; every other parameter is a filter lookup. */
export const RegistryListQuery = z.object(pagingParams).catchall(z.string().max(4096)).openapi({
  description:
    "filters: any field__operator=value (see the README's query language); the trash is hidden unless the filter names branch_id, id, uid or hash; runs and records also take feature.<name>[__operator]=value for feature values, runs ulabels__name=... for labels",
});

const routes = new WeakMap<AnyRegistryModel, ReturnType<typeof buildRoutes>>();

/**
 * list, get and create of a registry, with the role each needs; one set per model, so its
 * OpenAPI components are registered once.
 */
export function routesOf(model: AnyRegistryModel) {
  let built = routes.get(model);
  if (!built) {
    built = buildRoutes(model);
    routes.set(model, built);
  }
  return built;
}

function buildRoutes(model: AnyRegistryModel) {
  const { plural, name } = model;
  const schemas = schemasOf(model);
  const tags = [plural];
  const writable = Object.entries(model.fields).filter(
    (e): e is [string, Extract<Field, { kind: "many" }>] => e[1].kind === "many" && !!e[1].write,
  );
  const relations = writable.map(([k]) => k);
  // the link columns of every relation (each relation checks its own in core)
  const linkColumns = Object.fromEntries(
    writable.flatMap(([relation, f]) =>
      Object.entries(f.columns ?? {}).map(([k, c]) => [
        k,
        documented(inputSchema(c.input), {
          doc: `${relation}: ${c.input.doc ?? (c.feature ? "name or uid of a feature" : k)}`,
        })
          .nullable()
          .optional(),
      ]),
    ),
  );
  const links = relations.length
    ? createRoute({
        method: "post",
        path: `/${plural}/{uid}/links/{relation}`,
        middleware: requires("write"),
        tags,
        summary: `Add and remove links of a ${name} (${relations.join(", ")})`,
        request: {
          params: schemas.uid.extend({
            relation: z
              .enum(relations as [string, ...string[]])
              .openapi({ param: { name: "relation", in: "path" }, example: relations[0] }),
          }),
          ...body(
            z
              .object({
                add: z.array(z.string().min(1).max(255)).max(10_000).optional(),
                remove: z.array(z.string().min(1).max(255)).max(10_000).optional(),
                ...linkColumns,
              })
              .strict()
              .openapi(`${model.title}Links`, {
                description:
                  "uids to link and to unlink (a stem: the latest version), and the link's columns where the relation has them (a user's role, a record's feature, a predecessor's config)",
              }),
          ),
        },
        responses: {
          200: json(schemas.record, `the ${name} with its links`),
          ...problems(400, 401, 404),
        },
      })
    : undefined;
  // LaminDB's `lamin update transform|collection|project --description`: the one field every
  // registry with a description lets its writers change in place
  const update =
    "description" in model.fields
      ? createRoute({
          method: "patch",
          path: `/${plural}/{uid}`,
          middleware: requires("write"),
          tags,
          summary: `Change the description of a ${name} (null clears it)`,
          request: {
            params: schemas.uid,
            ...body(
              z
                .object({ description: z.string().max(MAX_DESCRIPTION).nullable() })
                .strict()
                .openapi(`${model.title}Update`),
            ),
          },
          responses: {
            200: json(schemas.record, `the ${name}`),
            ...problems(400, 401, 404),
          },
        })
      : undefined;
  return {
    schemas,
    links,
    update,
    list: createRoute({
      method: "get",
      path: `/${plural}`,
      middleware: requires("read"),
      tags,
      summary: `List ${plural} (newest first) with filters and a cursor`,
      request: { query: RegistryListQuery },
      responses: {
        200: json(schemas.page, `a page of ${plural}`),
        ...problems(400, 401),
      },
    }),
    get: createRoute({
      method: "get",
      path: `/${plural}/{uid}`,
      middleware: requires("read"),
      tags,
      summary: `One ${name} by uid`,
      request: { params: schemas.uid },
      responses: { 200: json(schemas.record, `the ${name}`), ...problems(400, 401, 404) },
    }),
    create: createRoute({
      method: "post",
      path: `/${plural}`,
      middleware: requires("write"),
      tags,
      summary: `Create a ${name}, or get the existing one LaminDB's rules return`,
      request: body(schemas.create),
      responses: {
        201: { ...json(schemas.record, `a new ${name}`), headers: createHeaders },
        200: { ...json(schemas.record, `the existing ${name}`), headers: createHeaders },
        ...problems(400, 401, 409, 413),
      },
    }),
  };
}

/** What a client (the web UI) needs to know of a registry to list, filter and show it. */
export const RegistryInfo = z
  .object({
    name: z.string().openapi({ example: "project" }),
    plural: z.string().openapi({ example: "projects" }),
    title: z.string().openapi({ example: "Project" }),
    doc: z.string(),
    uid: z.object({ length: z.number().int(), stem: z.number().int().optional() }),
    fields: z.record(
      z.string(),
      z.object({
        type: z.enum(["string", "integer", "number", "boolean", "date", "json", "list"]),
        nullable: z.boolean(),
        doc: z.string().optional(),
        /** Another registry's uid (a ref), or a list of them (a link). */
        ref: z.string().optional(),
      }),
    ),
    filters: z.array(z.string()).openapi({ description: "lookups the list takes (field__op=...)" }),
    search: z.array(z.string()),
  })
  .openapi("RegistryInfo");

/** A model as RegistryInfo; refs name the registry whose table they point to. */
export function registryInfo(
  model: AnyRegistryModel,
  byTable: Map<unknown, AnyRegistryModel>,
): z.infer<typeof RegistryInfo> {
  return {
    name: model.name,
    plural: model.plural,
    title: model.title,
    doc: model.doc,
    uid: {
      length: model.uid.length,
      ...(model.uid.stem !== undefined ? { stem: model.uid.stem } : {}),
    },
    fields: Object.fromEntries(
      Object.entries(model.fields).map(([k, f]) => {
        const target = f.kind === "ref" || f.kind === "many" ? byTable.get(f.target) : undefined;
        return [
          k,
          {
            type: f.kind === "many" ? ("list" as const) : f.type,
            nullable: f.nullable,
            ...(f.doc !== undefined ? { doc: String(f.doc) } : {}),
            ...(target ? { ref: target.plural } : {}),
          },
        ];
      }),
    ),
    filters: Object.keys(model.spec.fields),
    search: model.search,
  };
}
