/**
 * `lamin schema create | list`, `lamin validate FILE --schema NAME` on the current instance, in
 * process or through its server (the file is read here, its columns are checked there).
 */
import { ValidationError } from "../../core/errors.js";
import type { Schema } from "../../core/registry/schemas/schemas.js";
import { printJson, say, table } from "../output.js";
import { withTarget as withInstance } from "../target.js";

interface Json {
  json?: boolean;
}

const flags = (s: Schema) =>
  [
    s.minimal_set ? "minimal" : "",
    s.maximal_set ? "maximal" : "",
    s.ordered_set ? "ordered" : "",
    s.coerce ? "coerce" : "",
    s.flexible && s.features.length ? "flexible" : "",
  ]
    .filter(Boolean)
    .join(",");

export async function schemaCreate(
  name: string,
  opts: Json & {
    features?: string;
    maximal?: boolean;
    ordered?: boolean;
    coerce?: boolean;
    minimal?: boolean;
    flexible?: boolean;
    component?: string[];
    description?: string;
  },
) {
  const components = parseComponents(opts.component ?? []);
  const given = opts.features?.trim() ?? "";
  const features = given === "" ? [] : given.split(",").map((f) => f.trim());
  if (features.some((f) => f === "")) {
    throw new ValidationError(
      `--features has an empty name: '${opts.features}'`,
      "e.g. --features a,b,c",
    );
  }
  const r = await withInstance((ln) =>
    ln.schemas.create({
      name,
      features,
      minimalSet: opts.minimal !== false,
      maximalSet: opts.maximal === true,
      orderedSet: opts.ordered === true,
      coerce: opts.coerce === true,
      ...(opts.flexible ? { flexible: true } : {}),
      ...(components ? { components } : {}),
      ...(opts.description !== undefined ? { description: opts.description } : {}),
    }),
  );
  if (opts.json) return printJson({ ...r.record, status: r.status });
  const s = r.record;
  if (s.components?.length) {
    return say(
      `${r.status === "existing" ? "exists:" : "created"} composite schema ${s.name} (${s.components.map((c) => `${c.slot}=${c.name ?? c.uid}`).join(", ")}) -> ${s.uid}, hash ${s.hash}`,
    );
  }
  say(
    `${r.status === "existing" ? "exists:" : "created"} schema ${s.name} (${s.features.map((f) => f.name).join(", ") || "any feature"}; ${flags(s)}) -> ${s.uid}, hash ${s.hash}`,
  );
}

/** `--component obs=cells --component var.T=genes` → `{ obs: "cells", "var.T": "genes" }`. */
function parseComponents(pairs: string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    const slot = at < 0 ? "" : pair.slice(0, at).trim();
    const schema = at < 0 ? "" : pair.slice(at + 1).trim();
    if (!slot || !schema) {
      throw new ValidationError(
        `--component takes slot=schema, got '${pair}'`,
        "e.g. --component obs=cells --component var.T=genes",
      );
    }
    if (Object.hasOwn(out, slot)) {
      throw new ValidationError(`slot '${slot}' is given twice`, "give each slot once");
    }
    out[slot] = schema;
  }
  return out;
}

export async function schemaList(opts: Json & { limit: string }) {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError(
      `--limit must be a positive whole number, got '${opts.limit}'`,
      "e.g. --limit 50",
    );
  }
  const items = await withInstance((ln) => ln.schemas.list({ limit }));
  if (opts.json) return printJson(items);
  if (items.length === 0) return say("no schemas");
  say(
    table(
      ["uid", "name", "features", "flags"],
      items.map((s) => [
        s.uid,
        s.name ?? "",
        s.features.map((f) => f.name).join(",") ||
          s.components?.map((c) => `${c.slot}=${c.name ?? c.uid}`).join(",") ||
          "(any)",
        flags(s),
      ]),
    ),
  );
}

export async function validateCommand(file: string, opts: Json & { schema: string }) {
  const report = await withInstance((ln) => ln.validate(file, opts.schema));
  if (!report.valid) {
    const { SchemaValidationError } = await import("../../core/registry/schemas/validate.js");
    throw new SchemaValidationError(
      report,
      "fix the data (or the labels: lamin ulabel create NAME), then validate again",
    );
  }
  if (opts.json) return printJson(report);
  say(
    `valid: ${file} matches schema '${report.schema.name ?? report.schema.uid}' (${report.n_rows} row${report.n_rows === 1 ? "" : "s"}, ${report.slots ? `${Object.keys(report.slots).length} slots` : `${report.columns.length} columns`})`,
  );
}
