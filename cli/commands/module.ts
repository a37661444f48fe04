/**
 * `lamin module list | enable` and `lamin bionty search | lookup`: modules and their registries.
 * Reads go wherever the instance is (in process, `lamin serve`, remote); enabling a module
 * changes the database schema, so it runs where the database is.
 */

import { ValidationError } from "../../core/errors.js";
import {
  enableModules,
  parseModuleField,
  parseModuleNames,
  resolveRegistry,
} from "../../core/modules/index.js";
import { note, printJson, say, table } from "../output.js";
import { withTarget } from "../target.js";
import { withInstanceDatabase } from "./migrate.js";

interface Json {
  json?: boolean;
}

export async function list(opts: Json) {
  const modules = await withTarget((ln) => ln.modules.list());
  if (opts.json) return printJson(modules);
  say(
    table(
      ["module", "enabled", "registries"],
      modules.map((m) => [m.name, m.enabled ? "yes" : "no", m.registries.join(", ")]),
    ),
  );
  if (!modules.some((m) => m.enabled)) say("\nenable one with: lamin module enable bionty");
}

export async function enable(names: string[], opts: Json) {
  const wanted = parseModuleNames(names);
  if (!opts.json) note(`enabling ${wanted.join(", ")} ...`);
  const results = await withInstanceDatabase((db, owner) => enableModules(db, wanted, { owner }));
  if (opts.json) return printJson(results);
  for (const r of results) {
    if (r.applied.length === 0) {
      say(`${r.module}: already enabled, nothing to apply`);
      continue;
    }
    const seeded = r.seeded
      ? Object.entries(r.seeded.inserted)
          .map(([k, n]) => `${n} ${k}`)
          .join(", ")
      : "nothing";
    say(`${r.module}: applied ${r.applied.join(", ")}; seeded ${seeded}`);
  }
}

export async function search(
  registry: string,
  query: string,
  opts: Json & { limit?: string },
  module = "bionty",
) {
  const limit = parseLimit(opts.limit);
  const qualified = registry.includes(".") ? registry : `${module}.${registry}`;
  resolveRegistry(qualified); // a wrong name fails before the database is opened
  const { registry: name, hits } = await withTarget((ln) =>
    ln.modules.search(qualified, query, { limit }),
  );
  if (opts.json) return printJson({ registry: name, hits });
  if (hits.length === 0) return say(`no ${name} matches '${query}'`);
  say(
    table(
      ["uid", "name", "id", "match", "synonyms"],
      hits.map((h) => [h.uid, h.name, h.id ?? "", h.match, h.synonyms.join("|")]),
    ),
  );
}

export async function lookup(field: string, values: string[], opts: Json, module = "bionty") {
  const inner = field.replace(/^cat\[(.*)\]$/, "$1");
  const qualified = inner.startsWith(`${module}.`) ? inner : `${module}.${inner}`;
  parseModuleField(qualified); // a wrong field fails before the database is opened
  const result = await withTarget((ln) => ln.modules.lookup(qualified, values));
  if (opts.json) printJson(result);
  else {
    for (const f of result.found) say(`found    ${f.value}  (${f.name}, ${f.id ?? f.uid})`);
    for (const m of result.missing) {
      const hints = [
        ...(m.synonymOf ? [`synonym of '${m.synonymOf}'`] : []),
        ...(m.closeMatches.length ? [`close: ${m.closeMatches.join(", ")}`] : []),
      ];
      say(`missing  ${m.value}${hints.length ? `  (${hints.join("; ")})` : ""}`);
    }
  }
  // like a validation: scripts can rely on the exit code
  if (result.missing.length) process.exitCode = 3;
}

function parseLimit(value: string | undefined): number {
  const n = Number(value ?? "20");
  if (!Number.isInteger(n) || n < 1) {
    throw new ValidationError(`invalid --limit '${value}'`, "pass a positive whole number");
  }
  return n;
}

export async function modulesNeedLocalInit(): Promise<never> {
  throw new ValidationError(
    "--modules is not supported for instances on a hub yet",
    "create the instance, then run `lamin module enable NAME` where its database is",
  );
}
