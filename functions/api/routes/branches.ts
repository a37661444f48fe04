/**
 * Branches over HTTP (core/registry/branches.ts):
 * - GET /branches, POST /branches (create), GET /branches/{ref}, PATCH /branches/{ref} (status:
 *   a change request's draft, review or closed; description)
 * - GET /branches/{ref}/changes: the records on it (a change request's changes)
 * - POST /branches/{ref}/merge: merge it into `target` (default: the request's branch, main)
 * A request works on the branch its `lamin-branch` header names (app.ts): writes go there, reads
 * show it and main. Merging changes what everyone sees on the target: an admin's.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { BRANCH_STATUS } from "../../../core/registry/common/branch.js";
import type { ApiEnv } from "../env.js";
import { body, json, problems } from "../openapi.js";
import { problemHook } from "../problem.js";
import { requires } from "../roles.js";

const tags = ["branches"];
const STATUSES = Object.keys(BRANCH_STATUS) as [string, ...string[]];

const Branch = z
  .object({
    uid: z.string().openapi({ example: "aB3dE5fG7hJ9" }),
    name: z.string().openapi({ example: "my_branch" }),
    description: z.string().nullable(),
    status: z.enum(STATUSES),
    created_at: z.string(),
    created_by: z.string(),
    current: z.boolean().openapi({ description: "whether this request works on it" }),
  })
  .openapi("Branch", { description: "A branch: where records live (LaminDB's Branch)" });

const MergeResult = z
  .object({
    source: z.string(),
    target: z.string(),
    moved: z.record(z.string(), z.number().int()),
    demoted: z.number().int(),
  })
  .openapi("MergeResult");

const Ref = z
  .string()
  .min(1)
  .max(100)
  .openapi({ param: { name: "ref", in: "path" }, description: "name or uid", example: "main" });

const list = createRoute({
  method: "get",
  path: "/branches",
  middleware: requires("read"),
  tags,
  summary: "Every branch, the built-in ones (trash, archive, main) first",
  responses: { 200: json(z.array(Branch), "the branches"), ...problems(401) },
});

const create = createRoute({
  method: "post",
  path: "/branches",
  middleware: requires("write"),
  tags,
  summary: "Create a branch (a name is unique whatever its case)",
  request: {
    ...body(
      z.object({
        name: z.string().min(1).max(100),
        description: z.string().max(10_000).optional(),
      }),
    ),
  },
  responses: { 201: json(Branch, "the new branch"), ...problems(400, 401, 403, 409) },
});

const get = createRoute({
  method: "get",
  path: "/branches/{ref}",
  middleware: requires("read"),
  tags,
  summary: "A branch by name or uid",
  request: { params: z.object({ ref: Ref }) },
  responses: { 200: json(Branch, "the branch"), ...problems(401, 404) },
});

const update = createRoute({
  method: "patch",
  path: "/branches/{ref}",
  middleware: requires("write"),
  tags,
  summary: "Set a branch's status (draft, review, closed: a change request) or description",
  request: {
    params: z.object({ ref: Ref }),
    ...body(
      z.object({
        status: z.string().max(40).optional(),
        description: z.string().max(10_000).nullable().optional(),
      }),
    ),
  },
  responses: { 200: json(Branch, "the branch"), ...problems(400, 401, 403, 404, 409) },
});

const merge = createRoute({
  method: "post",
  path: "/branches/{ref}/merge",
  middleware: requires("admin"),
  tags,
  summary:
    "Merge a branch into the target (default: the request's branch): its records move there, one latest version per family; a key versioned on both sides is a conflict (409) and nothing changes",
  request: {
    params: z.object({ ref: Ref }),
    query: z.object({ target: z.string().min(1).max(100).optional() }),
  },
  responses: { 200: json(MergeResult, "what moved"), ...problems(400, 401, 403, 404, 409) },
});

const Change = z
  .object({
    registry: z.string().openapi({ example: "artifact" }),
    uid: z.string(),
    label: z.string().nullable().openapi({ description: "its key, name or description" }),
    created_by: z.string().nullable(),
  })
  .openapi("BranchChange", { description: "A record on a branch, not yet merged" });

const changes = createRoute({
  method: "get",
  path: "/branches/{ref}/changes",
  middleware: requires("read"),
  tags,
  summary: "The records a branch adds or changes (a change request's changes), per registry",
  request: {
    params: z.object({ ref: Ref }),
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
  },
  responses: { 200: json(z.array(Change), "the records on the branch"), ...problems(401, 404) },
});

export function branchRoutes() {
  return new OpenAPIHono<ApiEnv>({ defaultHook: problemHook })
    .openapi(list, async (c) => c.json(await c.var.instance.branches.list(), 200))
    .openapi(create, async (c) => {
      const { name, description } = c.req.valid("json");
      const branch = await c.var.instance.branches.create(
        name,
        description !== undefined ? { description } : {},
      );
      return c.json(branch, 201);
    })
    .openapi(get, async (c) =>
      c.json(await c.var.instance.branches.get(c.req.valid("param").ref), 200),
    )
    .openapi(update, async (c) => {
      const changes = c.req.valid("json");
      const branch = await c.var.instance.branches.update(c.req.valid("param").ref, {
        ...(changes.status !== undefined ? { status: changes.status } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
      });
      return c.json(branch, 200);
    })
    .openapi(changes, async (c) => {
      const { limit } = c.req.valid("query");
      return c.json(
        await c.var.instance.branches.changes(
          c.req.valid("param").ref,
          limit !== undefined ? { limit } : {},
        ),
        200,
      );
    })
    .openapi(merge, async (c) => {
      const { target } = c.req.valid("query");
      const result = await c.var.instance.branches.merge(
        c.req.valid("param").ref,
        target !== undefined ? { target } : {},
      );
      return c.json(result, 200);
    });
}
