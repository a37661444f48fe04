/**
 * `lamin module list | enable` and `lamin bionty search | lookup`: modules and their registries.
 * Reads go wherever the instance is (in process, `lamin serve`, remote); enabling a module
 * changes the database schema, so it runs where the database is.
 */

import { existsSync } from "node:fs";
import { ValidationError } from "../../core/errors.js";
import {
  assertMigrationsCurrent,
  type ExternalModule,
  isPathSpec,
  loadModuleFolder,
  moduleFolder,
  rememberedModules,
  rememberModule,
  shippedModuleFolder,
} from "../../core/modules/external.js";
import {
  BUILTIN_MODULES,
  enableModules,
  getModule,
  parseModuleField,
  registerModule,
  resolveRegistry,
} from "../../core/modules/index.js";
import { resolveInstanceSettings } from "../../core/settings.js";
import { note, printJson, say, table } from "../output.js";
import { type Target, withTarget } from "../target.js";
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

/**
 * A module by what a user typed: a module of this build (bionty), a folder (./mylab), an npm
 * package name, or the name of a module whose folder this machine remembers. Modules of their
 * own packages are loaded, checked and made known to this process; returns the module's name.
 */
export async function loadModuleSpec(spec: string): Promise<string> {
  if (BUILTIN_MODULES.has(spec)) return spec;
  const remembered = rememberedModules()[spec];
  const dir =
    !isPathSpec(spec) && remembered && existsSync(remembered) ? remembered : moduleFolder(spec);
  const module = registerModule(await loadModuleFolder(dir));
  rememberModule(module.name, dir);
  return module.name;
}

/**
 * What a server is sent to enable (or update) a module: nothing for one bundled with it (bionty,
 * pertdb), else the declaration of the package on this machine and its migration names. The
 * package must be migrated (lamin migrate create) so that its migrations say what is sent.
 */
export async function changeRequest(
  spec: string,
): Promise<{ name: string; req: import("../../core/modules/declared.js").ModuleChangeRequest }> {
  if (BUILTIN_MODULES.has(spec) || (!isPathSpec(spec) && shippedModuleFolder(spec))) {
    return { name: spec, req: {} };
  }
  const module = getModule(await loadModuleSpec(spec)) as ExternalModule;
  assertMigrationsCurrent(module);
  return {
    name: module.name,
    req: {
      declaration: module.declaration,
      migrations: module.migrations().migrations.map((m) => m.name),
    },
  };
}

/** Enable modules on an instance reached over HTTP (a hub's): the server applies them. */
async function enableRemote(specs: string[], opts: Json) {
  const results = [];
  for (const spec of specs) {
    const { name, req } = await changeRequest(spec);
    results.push(await withTarget((ln) => ln.modules.change(name, req)));
  }
  if (opts.json) return printJson(results);
  for (const r of results) {
    say(
      r.applied.length === 0
        ? `${r.module}: already enabled, nothing to apply`
        : `${r.module}: applied ${r.applied.join(", ")}`,
    );
  }
}

export async function enable(names: string[], opts: Json) {
  const specs = names
    .flatMap((n) => n.split(","))
    .map((n) => n.trim())
    .filter(Boolean);
  if (resolveInstanceSettings().db.kind === "remote") return enableRemote(specs, opts);
  const wanted: string[] = [];
  for (const spec of specs) wanted.push(await loadModuleSpec(spec));
  for (const name of wanted) getModule(name);
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
      : "";
    say(`${r.module}: applied ${r.applied.join(", ")}${seeded ? `; seeded ${seeded}` : ""}`);
  }
}

/** `lamin module disable NAME [--force]`: drop its tables and its migration records. */
export async function disable(name: string, opts: Json & { force?: boolean }) {
  const { disableModule } = await import("../../core/modules/disable.js");
  const module = BUILTIN_MODULES.has(name) ? name : await loadRememberedModule(name);
  const result = await withInstanceDatabase((db) =>
    disableModule(db, module, { force: opts.force === true }),
  );
  if (opts.json) return printJson(result);
  const rows = Object.values(result.rows).reduce((a, b) => a + b, 0);
  say(
    `${result.module}: disabled; dropped ${result.tables.length} tables${rows ? ` with ${rows} rows` : ""}`,
  );
  if (result.features.length) {
    say(`features kept, unusable until it is enabled again: ${result.features.join(", ")}`);
  }
}

/**
 * A module named as an instance knows it: loaded from the folder this machine remembers, if
 * any (a path works too); otherwise the instance's own lookup says what is missing.
 */
async function loadRememberedModule(spec: string): Promise<string> {
  if (isPathSpec(spec) || rememberedModules()[spec]) return loadModuleSpec(spec);
  return spec;
}

export async function search(
  registry: string,
  query: string,
  opts: Json & { limit?: string },
  module = "bionty",
) {
  const limit = parseLimit(opts.limit);
  const qualified = registry.includes(".") ? registry : `${module}.${registry}`;
  // a wrong name fails before the database is opened (modules of their own packages load there)
  if (BUILTIN_MODULES.has(qualified.split(".")[0] ?? "")) resolveRegistry(qualified);
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
  // `mylab.Sample(.field)` names its module; `CellType(.field)` is the command's module's
  const qualified = /^[a-z][a-z0-9]*\.[A-Z]/.test(inner) ? inner : `${module}.${inner}`;
  // a wrong field of this build's modules fails before the database is opened
  if (BUILTIN_MODULES.has(qualified.split(".")[0] ?? "")) parseModuleField(qualified);
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

/** `lamin module new mylab [--dir D]`: a module package in its own folder. */
export async function newModule(name: string, opts: Json & { dir?: string }, version: string) {
  const { scaffoldModule } = await import("../../core/modules/scaffold.js");
  if (BUILTIN_MODULES.has(name)) {
    throw new ValidationError(
      `the module name '${name}' is taken by a module of this build`,
      "choose another name (a module's name prefixes its tables)",
    );
  }
  const files = scaffoldModule(name, opts.dir ?? name, version);
  if (opts.json) return printJson({ module: name, files });
  for (const f of files) say(`created ${f}`);
  const dir = opts.dir ?? name;
  say(
    `\nnext: edit ${dir}/index.js, then\n  lamin migrate create --module ${isPathSpec(dir) ? dir : `./${dir}`}\n  lamin module enable ${isPathSpec(dir) ? dir : `./${dir}`}`,
  );
}

/** On the current instance, with the run `lamin track` started: writes are its outputs. */
const withTracked = <T>(fn: (ln: Target) => Promise<T>): Promise<T> =>
  withTarget(async (ln) => {
    const { attachActiveRun } = await import("./tracking.js");
    await attachActiveRun(ln);
    return fn(ln);
  });

/** `name=S1 donor=D1` as field values (strings; each field parses its own). */
function fieldPairs(pairs: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf("=");
    if (i < 1) {
      throw new ValidationError(`invalid field value '${pair}'`, "give field=value, e.g. name=S1");
    }
    values[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return values;
}

/** `lamin module update mylab.Sample UID weight=2`: change fields of a record. */
export async function updateRecord(registry: string, uid: string, pairs: string[], opts: Json) {
  const values = fieldPairs(pairs);
  const record = await withTracked((ln) => ln.modules.update(registry, uid, values));
  if (opts.json) return printJson(record);
  say(`updated ${registry} ${record.uid}`);
}

/** `lamin module delete mylab.Sample UID [--permanent]`. */
export async function deleteRecord(
  registry: string,
  uid: string,
  opts: Json & { permanent?: boolean },
) {
  const done = await withTarget((ln) =>
    ln.modules.delete(registry, uid, { permanent: opts.permanent === true }),
  );
  if (opts.json) return printJson(done);
  say(
    done.deleted === "trash"
      ? `moved ${registry} ${uid} to the trash`
      : `deleted ${registry} ${uid} for good`,
  );
}

/** `lamin module create mylab.Sample name=S1 donor=D1`: a record of a module registry. */
export async function createRecord(registry: string, pairs: string[], opts: Json) {
  const values = fieldPairs(pairs);
  const record = await withTracked((ln) => ln.modules.create(registry, values));
  if (opts.json) return printJson(record);
  say(`created ${registry} ${record.uid}`);
}

/** `lamin module records mylab.Sample`: its records, newest first. */
export async function listRecords(
  registry: string,
  opts: Json & { limit?: string; name?: string },
) {
  const limit = parseLimit(opts.limit ?? "100");
  const records = await withTarget((ln) =>
    ln.modules.records(registry, {
      limit,
      ...(opts.name !== undefined ? { name: opts.name } : {}),
    }),
  );
  if (opts.json) return printJson(records);
  if (records.length === 0) return say(`no ${registry} records`);
  const columns = Object.keys(records[0] ?? {});
  say(
    table(
      columns,
      records.map((r) => columns.map((c) => formatValue(r[c]))),
    ),
  );
}

const formatValue = (v: unknown) =>
  v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

export async function modulesNeedLocalInit(): Promise<never> {
  throw new ValidationError(
    "--modules is not supported for instances on a hub yet",
    "create the instance, then run `lamin module enable NAME` where its database is",
  );
}
