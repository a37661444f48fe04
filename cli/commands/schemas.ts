/** `lamin schema create | list`, `lamin validate FILE --schema NAME` on the current instance. */
import { LaminError, ValidationError } from "../../core/errors.js";
import type { Instance } from "../../core/instance.js";
import type { Schema } from "../../core/registry/schemas.js";
import { resolveInstanceSettings, runningServer } from "../../core/settings.js";
import { note, printJson, say, table } from "../output.js";

interface Json {
  json?: boolean;
}

async function withInstance<T>(fn: (ln: Instance) => Promise<T>): Promise<T> {
  const settings = resolveInstanceSettings();
  if (settings.db.kind === "remote" || runningServer(settings.name)) {
    throw new LaminError(
      "unavailable",
      `schemas and validation work on the instance's database directly, not yet through ${
        settings.db.kind === "remote" ? "a remote server" : "a running `lamin serve`"
      }`,
      settings.db.kind === "remote"
        ? "use the SDK on the server"
        : "stop `lamin serve` for this command, or use the SDK",
    );
  }
  const { openInstance } = await import("../../core/setup.js");
  const ln = await openInstance(settings.name, {
    onWait: (holder) => note(`waiting for process ${holder.pid}, which has the instance open ...`),
  });
  try {
    return await fn(ln);
  } finally {
    await ln.close();
  }
}

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
