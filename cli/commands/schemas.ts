/** `lamin schema create | list`, `lamin validate FILE --schema NAME` on the current instance. */
import { ValidationError } from "../../core/errors.js";
import type { Instance } from "../../core/instance.js";
import type { Schema } from "../../core/registry/schemas.js";
import { printJson, say, table } from "../output.js";
import { withInstanceInProcess } from "./in-process.js";

interface Json {
  json?: boolean;
}

const withInstance = <T>(fn: (ln: Instance) => Promise<T>): Promise<T> =>
  withInstanceInProcess("schemas and validation", "use the SDK on the server", fn);

const flags = (s: Schema) =>
  [
    s.minimal_set ? "minimal" : "",
    s.maximal_set ? "maximal" : "",
    s.ordered_set ? "ordered" : "",
    s.coerce ? "coerce" : "",
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
    description?: string;
  },
) {
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
      ...(opts.description !== undefined ? { description: opts.description } : {}),
    }),
  );
  if (opts.json) return printJson({ ...r.record, status: r.status });
  const s = r.record;
  say(
    `${r.status === "existing" ? "exists:" : "created"} schema ${s.name} (${s.features.map((f) => f.name).join(", ") || "any feature"}; ${flags(s)}) -> ${s.uid}, hash ${s.hash}`,
  );
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
        s.features.map((f) => f.name).join(",") || "(any)",
        flags(s),
      ]),
    ),
  );
}

export async function validateCommand(file: string, opts: Json & { schema: string }) {
  const report = await withInstance((ln) => ln.validate(file, opts.schema));
  if (!report.valid) {
    const { SchemaValidationError } = await import("../../core/registry/validate.js");
    throw new SchemaValidationError(report);
  }
  if (opts.json) return printJson(report);
  say(
    `valid: ${file} matches schema '${report.schema.name ?? report.schema.uid}' (${report.n_rows} row${report.n_rows === 1 ? "" : "s"}, ${report.columns.length} columns)`,
  );
}
