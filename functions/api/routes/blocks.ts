/**
 * Blocks over HTTP (core/registry/records/blocks.ts, core/registry/blocks/record-blocks.ts):
 * - /blocks (list, get, create: the generic routes of the Block model, routes/registries.ts) and
 *   DELETE /blocks/{uid}: to the trash; `permanent=true` (an admin's) deletes it for good
 * - /blocks/{registry}/{uid}: the readmes and comments of one record of any registry with
 *   blocks (`/blocks/artifacts/{uid}`), newest first; POST adds one
 * - /blocks/{registry}/{uid}/{block}: PATCH edits (a readme's next version, a comment in place),
 *   DELETE deletes (for good: these blocks have no trash)
 * A block is only reached through the record it belongs to. The record's blocks live under
 * /blocks rather than /{registry}/{uid}/blocks: a schema's name may hold '/', and GET
 * /schemas/{name} takes every path below it.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { BLOCK_KINDS, BLOCK_REGISTRIES } from "../../../core/registry/blocks/record-blocks.js";
import { BlockModel } from "../../../core/registry/records/blocks.js";
import type { ApiEnv } from "../env.js";
import { routesOf } from "../models.js";
import { body, json, listOptions, problems, toPage } from "../openapi.js";
import { problemHook } from "../problem.js";
import { requires } from "../roles.js";
import { page, pagingParams } from "../schemas.js";
import { createdStatus, createHeaders } from "./status.js";

const tags = ["blocks"];
const Block = routesOf(BlockModel).schemas.record;

const RecordBlock = z
  .object({
    uid: z.string().openapi({ example: "aB3dE5fG7hJ9kL1m0000" }),
    registry: z.string().openapi({ example: "artifact" }),
    record: z.string().openapi({ description: "uid of the record the block belongs to" }),
    kind: z.enum(BLOCK_KINDS),
    content: z.string().openapi({ description: "markdown" }),
    hash: z.string().nullable(),
    version: z.string(),
    version_tag: z.string().nullable(),
    is_latest: z.boolean(),
    line_number: z.number().int().nullable(),
    branch: z.string(),
    created_at: z.string(),
    created_by: z.string(),
  })
  .openapi("RecordBlock", { description: "A readme or a comment of a record" });

const recordParams = z.object({
  registry: z
    .enum(BLOCK_REGISTRIES as [string, ...string[]])
    .openapi({ param: { name: "registry", in: "path" }, example: "artifacts" }),
  uid: z
    .string()
    .min(1)
    .max(255)
    .openapi({
      param: { name: "uid", in: "path" },
      description: "the record's uid (a stem: the latest version; a space or branch: its name too)",
      example: "xdvTyeyFnBaKhERh0000",
    }),
});
const blockParams = recordParams.extend({
  block: z
    .string()
    .regex(/^[0-9A-Za-z]{20}$/, "a block uid: 20 base62 characters")
    .openapi({ param: { name: "block", in: "path" }, example: "aB3dE5fG7hJ9kL1m0000" }),
});

const content = z.string().openapi({ description: "markdown", example: "# About\n" });
const versionTag = z.string().max(30).nullable().optional();

const listBlocks = createRoute({
  method: "get",
  path: "/blocks/{registry}/{uid}",
  middleware: requires("read"),
  tags,
  summary: "The blocks of a record, newest first: its latest readme and its comments",
  request: {
    params: recordParams,
    query: z.object({
      ...pagingParams,
      kind: z.enum(BLOCK_KINDS).optional(),
      all_versions: z.enum(["true", "false"]).optional(),
    }),
  },
  responses: {
    200: json(page(RecordBlock, "RecordBlockPage"), "a page of blocks"),
    ...problems(400, 401, 404),
  },
});

const addBlock = createRoute({
  method: "post",
  path: "/blocks/{registry}/{uid}",
  middleware: requires("write"),
  tags,
  summary: "Add a readme (the next version of the record's readme) or a comment to a record",
  request: {
    params: recordParams,
    ...body(
      z
        .object({
          kind: z.enum(BLOCK_KINDS),
          content: content.nullable().optional(),
          version_tag: versionTag,
          line_number: z
            .number()
            .int()
            .nullable()
            .optional()
            .openapi({ description: "transforms: a line of the source code" }),
        })
        .strict()
        .openapi("RecordBlockCreate"),
    ),
  },
  responses: {
    201: { ...json(RecordBlock, "a new block"), headers: createHeaders },
    200: { ...json(RecordBlock, "the readme that had no content yet"), headers: createHeaders },
    ...problems(400, 401, 404, 413),
  },
});

const editBlock = createRoute({
  method: "patch",
  path: "/blocks/{registry}/{uid}/{block}",
  middleware: requires("write"),
  tags,
  summary: "Edit a block of a record: a readme gets its next version, a comment changes in place",
  request: {
    params: blockParams,
    ...body(z.object({ content, version_tag: versionTag }).strict().openapi("RecordBlockEdit")),
  },
  responses: {
    201: { ...json(RecordBlock, "the readme's new version"), headers: createHeaders },
    200: { ...json(RecordBlock, "the comment, changed"), headers: createHeaders },
    ...problems(400, 401, 404, 413),
  },
});

const deleteBlock = createRoute({
  method: "delete",
  path: "/blocks/{registry}/{uid}/{block}",
  middleware: requires("write"),
  tags,
  summary: "Delete a block of a record for good (its readme's previous version becomes the latest)",
  request: { params: blockParams },
  responses: { 200: json(RecordBlock, "the block as it was"), ...problems(400, 401, 404) },
});

/** Trashing is a write; deleting for good (any `permanent` but a lone "false") is an admin's. */
const permanentNeedsAdmin = (c: Context) =>
  (c.req.queries("permanent") ?? []).some((v) => v !== "false")
    ? ("admin" as const)
    : ("write" as const);

const removeBlock = createRoute({
  method: "delete",
  path: "/blocks/{uid}",
  middleware: requires(permanentNeedsAdmin),
  tags,
  summary:
    "Move a block to the trash (its previous version becomes the latest); permanent=true deletes it",
  request: {
    params: routesOf(BlockModel).schemas.uid,
    query: z.object({ permanent: z.enum(["true", "false"]).optional() }),
  },
  responses: { 200: json(Block, "the block as it was"), ...problems(400, 401, 403, 404, 409) },
});

export function blockRoutes() {
  return new OpenAPIHono<ApiEnv>({ defaultHook: problemHook })
    .openapi(removeBlock, async (c) => {
      const permanent = c.req.valid("query").permanent === "true";
      return c.json(
        (await c.var.instance.blocks.delete(c.req.valid("param").uid, { permanent })) as never,
        200,
      );
    })
    .openapi(listBlocks, async (c) => {
      const { registry, uid } = c.req.valid("param");
      const { kind, all_versions, ...paging } = c.req.valid("query");
      const page = await c.var.instance.ablocks.list(registry, uid, {
        ...listOptions(paging),
        ...(kind ? { kind } : {}),
        ...(all_versions === "true" ? { allVersions: true } : {}),
      });
      return c.json(toPage(page), 200);
    })
    .openapi(addBlock, async (c) => {
      const { registry, uid } = c.req.valid("param");
      const result = await c.var.instance.ablocks.add(registry, uid, c.req.valid("json"));
      return createdStatus(c, result) === 201
        ? c.json(result.record, 201)
        : c.json(result.record, 200);
    })
    .openapi(editBlock, async (c) => {
      const { registry, uid, block } = c.req.valid("param");
      const result = await c.var.instance.ablocks.edit(registry, uid, block, c.req.valid("json"));
      return createdStatus(c, result) === 201
        ? c.json(result.record, 201)
        : c.json(result.record, 200);
    })
    .openapi(deleteBlock, async (c) => {
      const { registry, uid, block } = c.req.valid("param");
      return c.json(await c.var.instance.ablocks.delete(registry, uid, block), 200);
    });
}
