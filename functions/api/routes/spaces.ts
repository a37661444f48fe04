/**
 * Spaces over HTTP (core/registry/spaces.ts): GET /spaces lists the spaces the caller may see,
 * POST /spaces creates one (admin: a space decides who sees records). Who is a member of which
 * space is the hub's (functions/hub/app.ts); the database shows each caller only its spaces.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { ApiEnv } from "../env.js";
import { body, json, problems } from "../openapi.js";
import { problemHook } from "../problem.js";
import { requires } from "../roles.js";

const tags = ["spaces"];

const Space = z
  .object({
    uid: z.string().openapi({ example: "aaaaaaaaaaaa" }),
    name: z.string().openapi({ example: "all" }),
    description: z.string().nullable(),
    created_at: z.string(),
    created_by: z.string().nullable(),
  })
  .openapi("Space", { description: "A space: who may see the records in it (LaminDB's Space)" });

const list = createRoute({
  method: "get",
  path: "/spaces",
  middleware: requires("read"),
  tags,
  summary: "The spaces the caller may see, `all` first",
  responses: { 200: json(z.array(Space), "the spaces"), ...problems(401) },
});

const create = createRoute({
  method: "post",
  path: "/spaces",
  middleware: requires("admin"),
  tags,
  summary: "Create a space (a name is unique whatever its case)",
  request: {
    ...body(
      z.object({
        name: z.string().min(1).max(100),
        description: z.string().max(10_000).optional(),
      }),
    ),
  },
  responses: { 201: json(Space, "the new space"), ...problems(400, 401, 403, 409) },
});

export function spaceRoutes() {
  return new OpenAPIHono<ApiEnv>({ defaultHook: problemHook })
    .openapi(list, async (c) => c.json(await c.var.instance.spaces.list(), 200))
    .openapi(create, async (c) => {
      const { name, description } = c.req.valid("json");
      const space = await c.var.instance.spaces.create(
        name,
        description !== undefined ? { description } : {},
      );
      return c.json(space, 201);
    });
}
