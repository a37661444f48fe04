/**
 * Modules in their own packages: a folder (or an npm package) whose `index.js` default-exports a
 * ModuleDeclaration, with its SQL migrations in `migrations/` (drizzle-kit's journal layout, so
 * the one migrator reads them) and the tables they reach in `migrations/meta/snapshot.json`.
 *
 * The package is plain ESM JavaScript typed with JSDoc: Node loads it as it is, from any folder,
 * with no build step and no runtime import of this package (Node 20 runs no TypeScript, and a
 * compiler would be one more thing a module's author and every server must have).
 *
 * Which package a module enabled on an instance comes from is remembered per machine
 * (`$LAMIN_HOME/modules.json`, written by `lamin module enable` and `lamin migrate create`); a
 * module not remembered is looked up as an npm package of its name from the working folder.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { MigrationSet } from "../db/migrate.js";
import { readMigrationFolder } from "../db/migrate.js";
import { LaminError, NotFoundError, ValidationError } from "../errors.js";
import { laminHome } from "../settings.js";
import { diffTables } from "./ddl.js";
import {
  checkDeclaration,
  type ModuleDeclaration,
  moduleOf,
  type TableSpec,
  tablesOf,
} from "./declare.js";
import type { LaminModule } from "./types.js";

export type ExternalModule = LaminModule & {
  declaration: ModuleDeclaration;
  /** The package's folder. */
  origin: string;
};

export const isExternal = (m: LaminModule): m is ExternalModule => "declaration" in m;

/** Whether `spec` names a folder (`./mylab`, `/abs/mylab`, `~/mylab`) rather than a package. */
export const isPathSpec = (spec: string) =>
  spec.startsWith(".") || isAbsolute(spec) || spec.startsWith("~");

const NPM_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/**
 * The folder of a module package shipped with this package (`modules/<name>`, e.g. pertdb),
 * found from wherever this code was loaded or bundled; undefined when there is none.
 */
export function shippedModuleFolder(name: string): string | undefined {
  if (!/^[a-z][a-z0-9]{1,39}$/.test(name)) return undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "modules", name);
    if (existsSync(join(candidate, "package.json")) && existsSync(join(dir, "migrations"))) {
      return candidate;
    }
    dir = dirname(dir);
  }
  return undefined;
}

/** The names of the module packages shipped with this package (pertdb). */
export function shippedModuleNames(): string[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "modules")) && existsSync(join(dir, "migrations"))) {
      return readdirSync(join(dir, "modules")).filter((n) => shippedModuleFolder(n) !== undefined);
    }
    dir = dirname(dir);
  }
  return [];
}

/**
 * The folder of a module package given by path, by the name of a module shipped with this
 * package (pertdb), or by npm package name (resolved from `cwd`).
 */
export function moduleFolder(spec: string, cwd = process.cwd()): string {
  if (isPathSpec(spec)) {
    const dir = resolve(cwd, spec.replace(/^~(?=$|\/)/, process.env.HOME ?? "~"));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new NotFoundError(
        `no module package at ${dir}`,
        "pass the folder `lamin module new` made (it holds package.json and index.js)",
      );
    }
    return dir;
  }
  if (!NPM_NAME.test(spec)) {
    throw new ValidationError(
      `'${spec}' is neither a folder nor an npm package name`,
      "pass a path (./mylab) or the name of an installed package (mylab)",
    );
  }
  const shipped = shippedModuleFolder(spec);
  if (shipped) return shipped;
  try {
    const pkg = createRequire(join(cwd, "noop.js")).resolve(`${spec}/package.json`);
    return resolve(pkg, "..");
  } catch {
    throw new NotFoundError(
      `cannot find the module package '${spec}' from ${cwd}`,
      `install it (npm install ${spec}) or pass its folder, e.g. lamin module enable ./${spec.replace(/^@[^/]+\//, "")}`,
    );
  }
}

function readPackageJson(dir: string): Record<string, unknown> {
  const path = join(dir, "package.json");
  if (!existsSync(path)) {
    throw new NotFoundError(
      `${dir} has no package.json: it is not a module package`,
      "create one with `lamin module new NAME`",
    );
  }
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new ValidationError(`${path} is not valid JSON`, "fix the file", { cause: error });
  }
}

/** The file a package's `import` loads: exports["."] (its import/default), else main, index.js. */
function entryOf(pkg: Record<string, unknown>): string {
  const exp = pkg.exports;
  const dot =
    typeof exp === "string"
      ? exp
      : exp && typeof exp === "object"
        ? (exp as Record<string, unknown>)["."]
        : undefined;
  if (typeof dot === "string") return dot;
  if (dot && typeof dot === "object") {
    const d = dot as Record<string, unknown>;
    for (const key of ["import", "default"])
      if (typeof d[key] === "string") return d[key] as string;
  }
  return typeof pkg.main === "string" ? pkg.main : "index.js";
}

/** The module's migrations: `migrations/` of its package, recorded under `lns_<name>`. */
function migrationsOf(name: string, dir: string): () => MigrationSet {
  return () => {
    const folder = join(dir, "migrations");
    if (!existsSync(join(folder, "meta", "_journal.json")))
      return { app: `lns_${name}`, migrations: [] };
    return readMigrationFolder(`lns_${name}`, folder);
  };
}

/** Load a module package from its folder: its declaration, checked, as a module of the core. */
export async function loadModuleFolder(dir: string): Promise<ExternalModule> {
  const pkg = readPackageJson(dir);
  const entry = join(dir, entryOf(pkg));
  if (!existsSync(entry)) {
    throw new NotFoundError(
      `the module package ${dir} has no ${entryOf(pkg)}`,
      "its package.json main (or exports) names the file that declares its registries",
    );
  }
  let loaded: Record<string, unknown>;
  try {
    // the file's time in the URL: a process that loads an edited module again gets the edit
    loaded = await import(`${pathToFileURL(entry).href}?t=${statSync(entry).mtimeMs}`);
  } catch (error) {
    throw new ValidationError(
      `cannot load the module package ${dir}: ${(error as Error).message}`,
      `fix ${entry} (node ${entry} shows the error)`,
      { cause: error },
    );
  }
  const decl = checkDeclaration(loaded.default ?? loaded.module, entry);
  return moduleOf(decl, migrationsOf(decl.name, dir), dir) as ExternalModule;
}

// ------------------------------------------------------------------ where modules come from

const sourcesFile = () => join(laminHome(), "modules.json");

/** Module name → package folder, as remembered on this machine. */
export function rememberedModules(): Record<string, string> {
  try {
    const parsed = JSON.parse(readFileSync(sourcesFile(), "utf8")) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export function rememberModule(name: string, dir: string): void {
  const all = { ...rememberedModules(), [name]: dir };
  mkdirSync(laminHome(), { recursive: true });
  writeFileSync(sourcesFile(), `${JSON.stringify(all, null, 2)}\n`);
}

/**
 * The package of a module enabled on an instance, by name: the folder remembered for it, else
 * an installed npm package of that name. Throws a NotFoundError that says what to do.
 */
export async function loadEnabledModule(name: string): Promise<ExternalModule> {
  const remembered = rememberedModules()[name];
  let dir: string;
  if (remembered && existsSync(remembered)) dir = remembered;
  else {
    try {
      dir = moduleFolder(name);
    } catch (error) {
      throw new NotFoundError(
        `module '${name}' is enabled on this instance, but its package is not on this machine${remembered ? ` (it was at ${remembered})` : ""}`,
        `install it (npm install ${name}) or point to its folder: lamin module enable ./path/to/${name}`,
        { cause: error },
      );
    }
  }
  const module = await loadModuleFolder(dir);
  if (module.name !== name) {
    throw new ValidationError(
      `the package at ${dir} declares the module '${module.name}', not '${name}'`,
      `point to the package of '${name}': lamin module enable ./path/to/${name}`,
    );
  }
  return module;
}

// ------------------------------------------------------------------ writing migrations

interface Journal {
  version: string;
  dialect: string;
  entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[];
}

interface Snapshot {
  module: string;
  tables: TableSpec[];
}

const journalPath = (dir: string) => join(dir, "migrations", "meta", "_journal.json");
const snapshotPath = (dir: string) => join(dir, "migrations", "meta", "snapshot.json");

function readJournal(dir: string): Journal {
  if (!existsSync(journalPath(dir))) return { version: "7", dialect: "postgresql", entries: [] };
  return JSON.parse(readFileSync(journalPath(dir), "utf8")) as Journal;
}

/** The tables the module's migrations reach (empty before its first migration). */
export function snapshotTables(dir: string): TableSpec[] {
  const journal = readJournal(dir);
  if (!existsSync(snapshotPath(dir))) {
    if (journal.entries.length > 0) {
      throw new LaminError(
        "validation",
        `${dir}/migrations has migrations but no meta/snapshot.json`,
        "restore meta/snapshot.json from version control (it says what the migrations made)",
      );
    }
    return [];
  }
  return (JSON.parse(readFileSync(snapshotPath(dir), "utf8")) as Snapshot).tables;
}

/** The SQL that would bring the module's last migration to its declarations now. */
export function pendingDeclarationChanges(module: ExternalModule): string[] {
  return diffTables(snapshotTables(module.origin), tablesOf(module.declaration));
}

/**
 * Refuse to apply a module whose declarations changed since its last migration: its tables
 * would not be what its registries read.
 */
export function assertMigrationsCurrent(module: ExternalModule): void {
  if (readJournal(module.origin).entries.length === 0) {
    throw new ValidationError(
      `module '${module.name}' has no migrations yet`,
      `write them first: lamin migrate create --module ${module.origin}`,
    );
  }
  if (pendingDeclarationChanges(module).length > 0) {
    throw new ValidationError(
      `the declarations of module '${module.name}' changed since its last migration`,
      `write a migration for them first: lamin migrate create --module ${module.origin}`,
    );
  }
}

const MIGRATION_NAME = /^[a-z0-9][a-z0-9_]{0,62}$/;

/**
 * Write the migration from the module's last snapshot to its declarations now:
 * `migrations/NNNN_<name>.sql`, the journal entry and the new snapshot. Undefined when nothing
 * changed.
 */
export function createModuleMigration(
  module: ExternalModule,
  name?: string,
): { file: string; statements: string[] } | undefined {
  const dir = module.origin;
  const journal = readJournal(dir);
  const tag = name ?? (journal.entries.length === 0 ? "initial" : "update");
  if (!MIGRATION_NAME.test(tag)) {
    throw new ValidationError(
      `invalid migration name '${tag}'`,
      "use lower-case letters, digits and '_', e.g. add_sample_weight",
    );
  }
  const before = snapshotTables(dir);
  const after = tablesOf(module.declaration);
  const statements = diffTables(before, after);
  if (statements.length === 0) return undefined;
  const idx = journal.entries.length;
  const full = `${String(idx).padStart(4, "0")}_${tag}`;
  mkdirSync(join(dir, "migrations", "meta"), { recursive: true });
  const file = join(dir, "migrations", `${full}.sql`);
  writeFileSync(file, `${statements.join(";\n--> statement-breakpoint\n")};\n`);
  journal.entries.push({ idx, version: "7", when: Date.now(), tag: full, breakpoints: true });
  writeFileSync(journalPath(dir), `${JSON.stringify(journal, null, 2)}\n`);
  const snapshot: Snapshot = { module: module.name, tables: after };
  writeFileSync(snapshotPath(dir), `${JSON.stringify(snapshot, null, 2)}\n`);
  return { file, statements };
}
