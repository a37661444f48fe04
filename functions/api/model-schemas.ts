/**
 * The zod shapes of a registry's declaration (core/registry/model/model.ts): its record and its
 * inputs. Apart from the routes (models.ts), so that the API's own shapes (schemas.ts) can use
 * them too without a cycle.
 */
import { z } from "@hono/zod-openapi";
import type { AnyRegistryModel, Field, Input } from "../../core/registry/model/model.js";

const tracked = {
  branch: z.string().openapi({ example: "main" }),
  created_at: z.string(),
  updated_at: z.string(),
  created_by: z.string().openapi({ example: "anonymous" }),
};

export const documented = <T extends z.ZodType>(
  schema: T,
  f: { doc?: unknown; example?: unknown },
) =>
  f.doc !== undefined || f.example !== undefined
    ? schema.openapi({
        ...(f.doc !== undefined ? { description: String(f.doc) } : {}),
        ...(f.example !== undefined ? { example: f.example } : {}),
      })
    : schema;

function valueSchema(f: Field): z.ZodType {
  if (f.kind === "many") {
    if (!f.columns) return z.array(z.string());
    // one object per link: the target's `via` value and the link's columns
    return z.array(
      z.object({
        [f.via]: z.string(),
        ...Object.fromEntries(
          Object.entries(f.columns).map(([k, c]) => [
            k,
            c.feature ? z.string().nullable() : inputSchema(c.input).nullable(),
          ]),
        ),
      }),
    );
  }
  const base =
    f.type === "integer"
      ? z.number().int()
      : f.type === "number"
        ? z.number()
        : f.type === "boolean"
          ? z.boolean()
          : f.type === "json"
            ? z.unknown()
            : z.string();
  return f.nullable && f.type !== "json" ? base.nullable() : base;
}

export function inputSchema(i: Input): z.ZodType {
  switch (i.type) {
    case "string": {
      let s = z.string().max(i.max);
      if (i.required) s = s.min(1);
      if (i.pattern) s = s.regex(i.pattern.regex, i.pattern.hint);
      return s;
    }
    case "boolean":
      return z.boolean();
    case "integer":
      return z.number().int();
    case "enum":
      return z.enum(i.values as [string, ...string[]]);
    case "json":
      return z.record(z.string(), z.unknown());
    case "list": {
      const list = z.array(inputSchema(i.of)).max(i.max);
      return i.required ? list.min(1) : list;
    }
  }
}

const records = new WeakMap<AnyRegistryModel, z.ZodType>();

/** The public shape of a registry's records, one schema per model (its OpenAPI component). */
export function recordSchema(model: AnyRegistryModel) {
  let schema = records.get(model);
  if (!schema) {
    schema = z
      .object({
        ...Object.fromEntries(
          Object.entries(model.fields).map(([k, f]) => [k, documented(valueSchema(f), f)]),
        ),
        ...tracked,
      })
      .openapi(model.title, { description: model.doc });
    records.set(model, schema);
  }
  return schema as z.ZodObject<Record<string, z.ZodType>>;
}
