/**
 * Modules: packages of extra registries with their own schema and migrations (LaminDB's
 * `--modules bionty`). A module is enabled on an instance once its migrations are recorded in
 * `django_migrations` under the module's name as app: the database itself says which modules
 * it has, whichever machine or process opens it.
 */
import { and, eq, getTableName, inArray, or, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { type Db, queryRows, sqlState } from "../db/client.js";
import {
  coreMigrations,
  type MigrationSet,
  type MigrationStatus,
  migrate,
  migrationStatus,
} from "../db/migrate.js";
import { user } from "../db/schema.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { bionty } from "./bionty/index.js";
import { type ModuleDeclaration, requiredModules, tablesOf } from "./declare.js";
import {
  assertMigrationsCurrent,
  type ExternalModule,
  isExternal,
  loadEnabledModule,
} from "./external.js";
import {
  createModuleRecord,
  deleteModuleRecord,
  listModuleRecords,
  updateModuleRecord,
} from "./records.js";
import {
  type AppliedMigration,
  isStored,
  storeDeclaration,
  storedDigests,
  storedModule,
} from "./stored.js";
import type { LaminModule, LinkTable, ModuleRegistry, SeedReport } from "./types.js";

export { biontyUid } from "./bionty/index.js";
export type { LaminModule, LinkTable, ModuleRegistry, SeedReport } from "./types.js";

/**
 * Every module this process knows, by name: those of this build, and modules of their own
 * packages once loaded (registerModule; enabledModules loads those an instance has).
 */
export const MODULES: Record<string, LaminModule> = { bionty };
/** The modules compiled into this build: their names are taken. */
export const BUILTIN_MODULES: ReadonlySet<string> = new Set(Object.keys(MODULES));

/** Modules an instance has whose package could not be loaded here, with why. */
const unavailable = new Map<string, Error>();

/**
 * Make a module of its own package known to this process. A name of this build's modules, or of
 * another package loaded already, is refused: a module never shadows another.
 */
export function registerModule(module: LaminModule): LaminModule {
  if (BUILTIN_MODULES.has(module.name)) {
    throw new ValidationError(
      `the module name '${module.name}' is taken by a module of this build`,
      "rename your module (its name prefixes its tables)",
    );
  }
  const known = Object.hasOwn(MODULES, module.name) ? MODULES[module.name] : undefined;
  if (known && isExternal(known) && isExternal(module) && known.origin !== module.origin) {
    throw new ValidationError(
      `two packages declare the module '${module.name}': ${known.origin} and ${module.origin}`,
      "rename one of them (a module's name prefixes its tables)",
    );
  }
  MODULES[module.name] = module;
  unavailable.delete(module.name);
  return module;
}

/** Anything with an open database: an Instance, or `{ db }` in a server or a test. */
export interface HasDb {
  readonly db: Db;
}

/**
 * The modules of one instance by name: this build's, those declared in its database
 * (stored.ts), and packages loaded in this process. Two instances served by one process may
 * have different versions of a module of the same name: each request resolves in its own.
 */
export type ModuleScope = ReadonlyMap<string, LaminModule>;

export function getModule(name: string, scope?: ModuleScope): LaminModule {
  const scoped = scope?.get(name);
  if (scoped) return scoped;
  const module = Object.hasOwn(MODULES, name) ? MODULES[name] : undefined;
  const missing = unavailable.get(name);
  if (!module && missing) throw missing;
  if (!module) {
    throw new ValidationError(
      `unknown module '${name}'`,
      `known modules: ${Object.keys(MODULES).join(", ")}`,
    );
  }
  return module;
}

/** Split and check `--modules bionty,other` (unknown names fail before anything is made). */
export function parseModuleNames(value: string | string[] | undefined): string[] {
  const names = (Array.isArray(value) ? value : [value ?? ""])
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  for (const name of names) getModule(name);
  return [...new Set(names)];
}

/**
 * Names of the modules enabled on this database: those with migrations of ours recorded in
 * django_migrations, under `lns_<module>` (or, before `lamin migrate deploy` moved them, under
 * the module's name: our first migration is `0000_initial`, a name Django never gives).
 */
export async function enabledModules(db: Db): Promise<string[]> {
  return [...(await instanceModules(db)).keys()];
}

/**
 * The modules enabled on this database, loaded: this build's; a module of its own package from
 * the declaration the database keeps (what its tables are, whatever package this machine has);
 * one enabled before declarations were kept, from its package, as before.
 */
export async function instanceModules(db: Db): Promise<ModuleScope> {
  const out = new Map<string, LaminModule>();
  for (const { module: name, digest } of await recordedWithDigests(db)) {
    if (BUILTIN_MODULES.has(name)) out.set(name, MODULES[name] as LaminModule);
    else if (digest) out.set(name, await storedModule(db, name, digest));
    else if (await loadPackage(name)) out.set(name, MODULES[name] as LaminModule);
  }
  return out;
}

/**
 * The package of a module, loaded into this process once (remembered folder, shipped module,
 * installed npm package); false when there is none here, with the reason kept for errors.
 */
async function loadPackage(name: string): Promise<boolean> {
  if (Object.hasOwn(MODULES, name)) return true;
  if (unavailable.has(name) || !/^[a-z][a-z0-9]{1,39}$/.test(name)) return false;
  try {
    registerModule(await loadEnabledModule(name));
    return true;
  } catch (error) {
    unavailable.set(name, error as Error);
    return false;
  }
}

/** Every module name django_migrations records, whether or not its package is here. */
export async function recordedModules(db: Db): Promise<string[]> {
  return (await recordedWithDigests(db)).map((r) => r.module);
}

/**
 * The recorded modules with the digest of the declaration the database keeps for each (null:
 * none kept): two queries, as many as reading the names alone takes.
 */
async function recordedWithDigests(db: Db): Promise<{ module: string; digest: string | null }[]> {
  const [tables] = await queryRows<{ t: string | null; m: string | null }>(
    db,
    sql`SELECT to_regclass('django_migrations')::text AS t, to_regclass('lns_module')::text AS m`,
  );
  if (tables?.t == null) return [];
  const digest =
    tables.m == null
      ? sql`NULL::text`
      : sql`(SELECT digest FROM lns_module s WHERE s.name = r.module)`;
  return queryRows<{ module: string; digest: string | null }>(
    db,
    sql`SELECT r.module, ${digest} AS digest FROM (
        SELECT DISTINCT CASE WHEN app LIKE 'lns\_%' THEN substr(app, 5) ELSE app END AS module
        FROM django_migrations
        WHERE app LIKE 'lns\_%' OR (app NOT IN ('lns', 'lamindb') AND name = '0000_initial')
      ) r ORDER BY 1`,
  );
}

/**
 * A module's migration set; the first time it applies anything, it seeds the module's data, and
 * a module of its own package keeps its declaration and the SQL applied in the database.
 */
function moduleSet(
  module: LaminModule,
  userId: (tx: Db) => Promise<number>,
  seeds: SeedLog,
  root?: string,
): MigrationSet {
  const set = module.migrations(root);
  return {
    ...set,
    // inside the migration's transaction: PGlite has one connection, which the transaction holds
    afterApply: async (tx, names) => {
      seeds[module.name] = await module.seed(tx, await userId(tx));
      if (isExternal(module) && !isStored(module)) {
        await storeDeclaration(tx, module.declaration, appliedOf(set, names));
      }
    },
  };
}

const appliedOf = (set: MigrationSet, names: readonly string[]): AppliedMigration[] =>
  set.migrations
    .filter((m) => names.includes(m.name))
    .map((m) => ({ name: m.name, statements: m.statements }));

/**
 * Packages whose declaration the database does not keep yet (enabled before it kept them):
 * kept now, with every migration of theirs as applied. One it keeps is never replaced here: it
 * changes only with the migrations that change the tables (a package older than what a hub
 * deployed must not take it back).
 */
async function storeMissingDeclarations(db: Db, modules: LaminModule[]): Promise<void> {
  const stored = await storedDigests(db);
  const recorded = new Set(await recordedModules(db));
  for (const m of modules) {
    if (!isExternal(m) || isStored(m) || !recorded.has(m.name)) continue;
    if (stored.has(m.name)) continue;
    const set = m.migrations();
    await db.transaction((tx) =>
      storeDeclaration(
        tx,
        m.declaration,
        appliedOf(
          set,
          set.migrations.map((x) => x.name),
        ),
      ),
    );
  }
}

type SeedLog = Record<string, SeedReport>;

/** The id of the user a seed is created by: the instance owner, else the first user. */
async function userIdOf(db: Db, handle?: string): Promise<number> {
  const rows = await db
    .select({ id: user.id })
    .from(user)
    .where(handle ? eq(user.handle, handle) : undefined)
    .orderBy(user.id)
    .limit(1);
  const id = rows[0]?.id;
  if (id === undefined) {
    throw new NotFoundError(
      `no user${handle ? ` '${handle}'` : ""} in the instance database`,
      "the database was changed by hand or belongs to another instance",
    );
  }
  return id;
}

/** The migration sets of an instance: the core and every enabled module, in that order. */
export async function instanceMigrationSets(
  db: Db,
  opts: MigrationOptions & { seeds?: SeedLog } = {},
): Promise<MigrationSet[]> {
  const seeds = opts.seeds ?? {};
  const userId = (tx: Db) => userIdOf(tx, opts.owner);
  const root = opts.migrationsDir;
  const modules = await migratingModules(db, opts.packages === true);
  return [coreMigrations(root), ...modules.map((module) => moduleSet(module, userId, seeds, root))];
}

/**
 * The module behind each migration set of an instance: a package's new migrations when
 * `packages` and this machine has it (the CLI), else what the database keeps (nothing pending:
 * a server runs no package code; a declaration sent to it is applied by declared.ts).
 */
async function migratingModules(db: Db, packages: boolean): Promise<LaminModule[]> {
  const scope = await instanceModules(db);
  const out: LaminModule[] = [];
  for (const name of await recordedModules(db)) {
    let module = scope.get(name);
    if (packages && module && isStored(module as ExternalModule) && (await loadPackage(name))) {
      module = MODULES[name];
    }
    if (!module) throw unavailable.get(name) ?? new NotFoundError(`module '${name}' is missing`);
    if (isExternal(module) && !isStored(module)) assertMigrationsCurrent(module);
    out.push(module);
  }
  return out;
}

export interface MigrationOptions {
  /**
   * Take modules' new migrations from their packages on this machine (the CLI); servers leave
   * it off and run no package code.
   */
  packages?: boolean;
  /** Handle of the user seeded rows are created by (default: the first user). */
  owner?: string;
  /** The migrations/ folder to read (default: LAMIN_MIGRATIONS_DIR, else the package's). */
  migrationsDir?: string;
}

export interface EnableResult {
  module: string;
  /** Migrations applied now (empty when the module was enabled already). */
  applied: string[];
  /** What was seeded (absent when nothing was applied). */
  seeded?: SeedReport;
}

/**
 * Enable modules: apply their migrations and seed their data, each module in one transaction
 * (a failure leaves it as it was). Enabling an enabled module applies what is pending, if any.
 */
export async function enableModules(
  target: HasDb & { user?: { id: number } },
  names: string[],
  opts: { owner?: string } = {},
): Promise<EnableResult[]> {
  const modules = names.map((name) => getModule(name));
  const enabled = new Set(await recordedModules(target.db));
  for (const m of modules) {
    if (!isExternal(m)) continue;
    if (isStored(m)) {
      throw new ValidationError(
        `module '${m.name}' has no package here`,
        "send its declaration: lamin module enable ./path/to/its/package",
      );
    }
    assertMigrationsCurrent(m);
    if (!enabled.has(m.name)) await assertTablesFree(target.db, m);
    const before = new Set([...enabled, ...names.slice(0, names.indexOf(m.name))]);
    await assertRequiredModules(target.db, m.declaration, before);
  }
  const seeds: SeedLog = {};
  const userId = async (tx: Db) => target.user?.id ?? userIdOf(tx, opts.owner);
  const sets = modules.map((m) => moduleSet(m, userId, seeds));
  const applied = await migrate(target.db, sets);
  await storeMissingDeclarations(target.db, modules);
  return modules.map((m, i) => ({
    module: m.name,
    applied: applied[sets[i]?.app ?? ""] ?? [],
    ...(seeds[m.name] ? { seeded: seeds[m.name] } : {}),
  }));
}

/**
 * Before a module of its own package is first enabled: none of its tables may exist (they would
 * be another's, or left by hand), so nothing is changed when one does.
 */
async function assertTablesFree(db: Db, module: LaminModule): Promise<void> {
  if (!isExternal(module)) return;
  await assertNamesFree(
    db,
    module.name,
    tablesOf(module.declaration).map((t) => t.name),
  );
}

/**
 * The modules a declaration's refs point into (`bionty.Gene`) are enabled, or come before it in
 * `enabled`, and have those tables: refused before anything changes otherwise.
 */
export async function assertRequiredModules(
  db: Db,
  decl: ModuleDeclaration,
  enabled: Set<string>,
): Promise<void> {
  const recorded = new Set(await recordedModules(db));
  for (const [dep, tables] of requiredModules(decl)) {
    if (!enabled.has(dep) && !recorded.has(dep)) {
      throw new ValidationError(
        `module '${decl.name}' links to module '${dep}' (${[...tables].join(", ")}), which is not enabled on this instance`,
        `enable ${dep} first: lamin module enable ${dep} (then ${decl.name})`,
      );
    }
    if (!recorded.has(dep)) continue; // enabled in the same call, before it
    for (const table of tables) {
      const rows = await queryRows<{ t: string | null }>(
        db,
        sql`SELECT to_regclass(${`public.${table}`})::text AS t`,
      );
      if (!rows[0]?.t) {
        throw new ValidationError(
          `module '${decl.name}' links to the table ${table}, which module '${dep}' does not have`,
          `point its refs at registries of ${dep}`,
        );
      }
    }
  }
}

/** None of `names` may exist: they would be another's, or left by hand. */
export async function assertNamesFree(db: Db, module: string, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const rows = await queryRows<{ name: string }>(
    db,
    sql`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()
      AND tablename IN (${sql.join(
        names.map((n) => sql`${n}`),
        sql`, `,
      )})`,
  );
  if (rows.length > 0) {
    throw new ConflictError(
      `module '${module}' would create ${rows.map((r) => r.name).join(", ")}, which exist already on this instance`,
      "rename the module or its registries; nothing was changed",
    );
  }
}

export interface ModuleInfo {
  name: string;
  description: string;
  enabled: boolean;
  /** A module of its own package: its records are read and made through the generic routes. */
  package: boolean;
  registries: string[];
}

export async function listModules(target: HasDb): Promise<ModuleInfo[]> {
  const scope = await instanceModules(target.db);
  const enabled = new Set(scope.keys());
  const known: ModuleInfo[] = [
    ...Object.values(MODULES).filter((m) => !isExternal(m)),
    // a module of its own package shows where it is enabled, as that instance has it
    ...[...scope.values()].filter((m) => isExternal(m)),
  ].map((m) => ({
    name: m.name,
    description: m.description,
    enabled: enabled.has(m.name),
    package: isExternal(m),
    registries: m.registries.map((r) => `${m.name}.${r.name}`),
  }));
  const recorded = new Set(await recordedModules(target.db));
  const missing = [...unavailable.entries()]
    .filter(([name]) => recorded.has(name) && !Object.hasOwn(MODULES, name))
    .map(([name, error]) => ({
      name,
      description: error.message,
      enabled: true,
      package: true,
      registries: [],
    }));
  return [...known, ...missing];
}

/** Applied and pending migrations of the core and of every enabled module. */
export async function instanceMigrationStatus(
  target: HasDb,
  opts: MigrationOptions = {},
): Promise<MigrationStatus[]> {
  return migrationStatus(target.db, await instanceMigrationSets(target.db, opts));
}

/** What `lamin migrate deploy` would apply, with its SQL (`--dry-run`): nothing is changed. */
export async function pendingMigrations(
  target: HasDb,
  opts: MigrationOptions = {},
): Promise<{ app: string; name: string; statements: string[] }[]> {
  const sets = await instanceMigrationSets(target.db, opts);
  const status = await migrationStatus(target.db, sets);
  return sets.flatMap((set, i) => {
    const pending = new Set(status[i]?.pending ?? []);
    return set.migrations
      .filter((m) => pending.has(m.name))
      .map((m) => ({ app: set.app, name: m.name, statements: m.statements }));
  });
}

/** Apply what is pending for the core and every enabled module (`lamin migrate deploy`). */
export async function deployMigrations(
  target: HasDb,
  opts: MigrationOptions = {},
): Promise<{ applied: Record<string, string[]>; seeded: SeedLog }> {
  const seeds: SeedLog = {};
  const sets = await instanceMigrationSets(target.db, { ...opts, seeds });
  // a module upgraded to point into another (pertdb 0001 into bionty): that one enabled first
  for (const m of await migratingModules(target.db, opts.packages === true)) {
    if (isExternal(m)) await assertRequiredModules(target.db, m.declaration, new Set());
  }
  const applied = await migrate(target.db, sets);
  if (opts.packages) {
    await storeMissingDeclarations(target.db, await migratingModules(target.db, true));
  }
  return { applied, seeded: seeds };
}

// ---- registries: resolve, search, look up ----

export interface ResolvedRegistry {
  module: LaminModule;
  registry: ModuleRegistry;
  /** `bionty.CellType` */
  qualified: string;
}

const normalize = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

/** `bionty.CellType`, `CellType`, `celltype` or `cell_type` → the registry (module must be known). */
export function resolveRegistry(name: string, scope?: ModuleScope): ResolvedRegistry {
  const parts = name.split(".");
  const moduleName = parts.length > 1 ? parts[0] : undefined;
  const wanted = normalize(parts.slice(moduleName ? 1 : 0).join("."));
  // an unqualified name: the instance's modules first, then any this process knows (one not
  // enabled is then refused with how to enable it)
  const candidates = moduleName
    ? [getModule(moduleName, scope)]
    : [...(scope?.values() ?? []), ...Object.values(MODULES).filter((m) => !scope?.has(m.name))];
  for (const module of candidates) {
    const registry = module.registries.find((r) => normalize(r.name) === wanted);
    if (registry) return { module, registry, qualified: `${module.name}.${registry.name}` };
  }
  const known = candidates.flatMap((m) => m.registries.map((r) => `${m.name}.${r.name}`));
  throw new ValidationError(`unknown registry '${name}'`, `known registries: ${known.join(", ")}`);
}

async function assertEnabled(db: Db, module: LaminModule, scope?: ModuleScope): Promise<void> {
  const names = scope ? [...scope.keys()] : await enabledModules(db);
  if (!names.includes(module.name)) {
    throw new NotFoundError(
      `module '${module.name}' is not enabled on this instance`,
      `enable it with \`lamin module enable ${module.name}\``,
    );
  }
}

export interface SearchHit {
  uid: string;
  /** The registry's name field (`name`, or `symbol` for genes). */
  name: string;
  /** The registry's identifier (`ontology_id`, `ensembl_gene_id`, `uniprotkb_id`). */
  id: string | null;
  synonyms: string[];
  /** What matched: `name`, `id`, `synonym` (exact), `prefix`, `contains`, or `fuzzy`. */
  match: "name" | "id" | "synonym" | "prefix" | "contains" | "fuzzy";
  /** 0..1, 1 = exact. */
  score: number;
}

interface Candidate {
  uid: string;
  name: string | null;
  id: string | null;
  synonyms: string | null;
}

/** Character trigrams of a padded, normalized string (as pg_trgm does, over the whole string). */
function trigrams(s: string): Set<string> {
  const p = `  ${s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim()} `;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= p.length; i++) out.add(p.slice(i, i + 3));
  return out;
}

export function similarity(a: string, b: string): number {
  const ta = trigrams(a);
  const tb = trigrams(b);
  if (ta.size === 0 || tb.size === 0) return 0;
  let shared = 0;
  for (const t of ta) if (tb.has(t)) shared++;
  return shared / (ta.size + tb.size - shared);
}

const RANK = { name: 0, id: 0, synonym: 1, prefix: 2, contains: 3, fuzzy: 4 } as const;

/** Rank one row against a query: exact name/id, exact synonym, prefix, substring, similarity. */
function rank(query: string, row: Candidate): SearchHit | undefined {
  const q = query.trim().toLowerCase();
  const qn = normalize(q);
  const name = row.name ?? "";
  const synonyms = row.synonyms ? row.synonyms.split("|").filter(Boolean) : [];
  const hit = (match: SearchHit["match"], score: number): SearchHit => ({
    uid: row.uid,
    name,
    id: row.id,
    synonyms,
    match,
    score: Math.round(score * 1000) / 1000,
  });
  if (name.toLowerCase() === q || normalize(name) === qn) return hit("name", 1);
  if (row.id && row.id.toLowerCase() === q) return hit("id", 1);
  if (synonyms.some((s) => s.toLowerCase() === q || normalize(s) === qn)) return hit("synonym", 1);
  const texts = [name, ...synonyms];
  const best = Math.max(...texts.map((t) => similarity(q, t)));
  if (texts.some((t) => t.toLowerCase().startsWith(q))) return hit("prefix", best);
  if (texts.some((t) => t.toLowerCase().includes(q)) || row.id?.toLowerCase().includes(q)) {
    return hit("contains", best);
  }
  return best >= 0.3 ? hit("fuzzy", best) : undefined;
}

/** Rows that may match: any word of the query (or its first 3 letters) in name, synonyms, id. */
async function candidates(db: Db, registry: ModuleRegistry, query: string): Promise<Candidate[]> {
  const nameCol = registry.fields[registry.nameField] as PgColumn;
  const idCol = registry.fields[registry.idField] as PgColumn;
  // registries of one's own modules may have no synonyms
  const synCol: PgColumn | SQL =
    (registry.table as unknown as { synonyms?: PgColumn }).synonyms ?? sql`NULL::text`;
  const uidCol = registry.fields.uid as PgColumn;
  const words = query
    .toLowerCase()
    .split(/[^a-z0-9:]+/)
    .filter((w) => w.length >= 2);
  const patterns = new Set<string>([query.trim().toLowerCase()]);
  for (const w of words) {
    patterns.add(w);
    if (w.length >= 4) patterns.add(w.slice(0, 3));
  }
  const likes: SQL[] = [];
  for (const p of patterns) {
    const like = `%${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    likes.push(sql`lower(${nameCol}) LIKE ${like}`, sql`lower(${synCol}) LIKE ${like}`);
    likes.push(sql`lower(${idCol}) LIKE ${like}`);
  }
  return (await db
    .select({ uid: uidCol, name: nameCol, id: idCol, synonyms: synCol })
    .from(registry.table)
    .where(and(or(...likes), sql`branch_id <> -1`))
    .limit(5000)) as unknown as Candidate[];
}

/**
 * Search a module registry by name, synonym or identifier: exact name or id first, then exact
 * synonyms, then prefixes, substrings and similar spellings (ties: most similar, then shortest).
 */
export async function searchRegistry(
  target: HasDb,
  registryName: string,
  query: string,
  opts: { limit?: number } = {},
): Promise<{ registry: string; hits: SearchHit[] }> {
  const scope = await instanceModules(target.db);
  const { module, registry, qualified } = resolveRegistry(registryName, scope);
  if (!query.trim()) throw new ValidationError("empty search query", "pass some text to search");
  await assertEnabled(target.db, module, scope);
  const hits = (await candidates(target.db, registry, query))
    .map((row) => rank(query, row))
    .filter((h): h is SearchHit => h !== undefined)
    .sort(
      (a, b) =>
        RANK[a.match] - RANK[b.match] ||
        b.score - a.score ||
        a.name.length - b.name.length ||
        a.name.localeCompare(b.name),
    );
  return { registry: qualified, hits: hits.slice(0, opts.limit ?? 20) };
}

export interface LookupResult {
  /** `bionty.CellType` */
  registry: string;
  /** The field values were compared with, e.g. `ontology_id` (default: the name field). */
  field: string;
  /** Values that exist, with the record they name. */
  found: { value: string; uid: string; name: string; id: string | null }[];
  /** Values that do not exist, with what they might have meant. */
  missing: {
    value: string;
    /** The field value of a record that lists this value as a synonym (name field only). */
    synonymOf?: string;
    /** Up to 3 field values spelled similarly, best first. */
    closeMatches: string[];
  }[];
}

/** `cat[bionty.CellType.ontology_id]`, `bionty.CellType.ontology_id` or `bionty.CellType`. */
export function parseModuleField(
  spec: string,
  scope?: ModuleScope,
): ResolvedRegistry & { field: string } {
  let s = spec.trim();
  const cat = /^cat\[(.*)\]$/.exec(s);
  if (cat?.[1]) s = cat[1];
  if (/[[\]|]/.test(s)) {
    throw new ValidationError(
      `cannot look up values for '${spec}'`,
      "pass one registry, optionally with a field: cat[bionty.CellType] or bionty.CellType.ontology_id",
    );
  }
  const parts = s.split(".");
  if (parts.length < 2 || parts.length > 3) {
    throw new ValidationError(
      `'${spec}' names no module registry`,
      "use module.Registry[.field], e.g. bionty.CellType.ontology_id",
    );
  }
  const resolved = resolveRegistry(`${parts[0]}.${parts[1]}`, scope);
  const field = parts[2] ?? resolved.registry.nameField;
  if (!Object.hasOwn(resolved.registry.fields, field)) {
    throw new ValidationError(
      `${resolved.qualified} has no field '${field}'`,
      `fields: ${Object.keys(resolved.registry.fields).join(", ")}`,
    );
  }
  return { ...resolved, field };
}

/**
 * Validate values against a module registry field, as a categorical feature of dtype
 * `cat[bionty.CellType]` or `cat[bionty.CellType.ontology_id]` does: exact (case-sensitive)
 * matches are `found`; the others are `missing`, with the standard name when the value is a
 * synonym, and close spellings. Duplicates are reported once, in first-seen order.
 */
export async function lookupModuleValues(
  target: HasDb,
  field: string,
  values: readonly string[],
): Promise<LookupResult> {
  return (await lookup(target, field, values)).result;
}

/** lookupModuleValues, with the row ids of the values found. */
async function lookup(
  target: HasDb,
  field: string,
  values: readonly string[],
): Promise<{ result: LookupResult; ids: Map<string, number> }> {
  const scope = await instanceModules(target.db);
  const { module, registry, qualified, field: fieldName } = parseModuleField(field, scope);
  await assertEnabled(target.db, module, scope);
  const column = registry.fields[fieldName] as PgColumn;
  const nameCol = registry.fields[registry.nameField] as PgColumn;
  const idCol = registry.fields[registry.idField] as PgColumn;
  const uidCol = registry.fields.uid as PgColumn;
  const pk = (registry.table as unknown as { id: PgColumn }).id;
  const unique = [...new Set(values.map(String))];
  const result: LookupResult = { registry: qualified, field: fieldName, found: [], missing: [] };
  const ids = new Map<string, number>();
  if (unique.length === 0) return { result, ids };
  const rows = (await target.db
    .select({ value: column, uid: uidCol, name: nameCol, id: idCol, pk })
    .from(registry.table)
    .where(inArray(column, unique))) as unknown as {
    value: string;
    uid: string;
    name: string;
    id: string | null;
    pk: number;
  }[];
  const byValue = new Map(rows.map((r) => [String(r.value), r]));
  for (const value of unique) {
    const row = byValue.get(value);
    if (row) {
      result.found.push({ value, uid: row.uid, name: row.name, id: row.id });
      ids.set(value, Number(row.pk));
      continue;
    }
    const pool = await candidates(target.db, registry, value);
    const fieldValue = (c: Candidate) =>
      fieldName === registry.nameField ? c.name : fieldName === registry.idField ? c.id : null;
    const synonym = pool.find((c) =>
      (c.synonyms ?? "").split("|").some((s) => s.toLowerCase() === value.toLowerCase()),
    );
    const close = pool
      .map((c) => ({ v: fieldValue(c), s: similarity(value, fieldValue(c) ?? "") }))
      .filter((x): x is { v: string; s: number } => !!x.v && x.s >= 0.25)
      .sort((a, b) => b.s - a.s)
      .map((x) => x.v);
    const synonymOf = synonym ? (fieldValue(synonym) ?? undefined) : undefined;
    result.missing.push({
      value,
      ...(synonymOf ? { synonymOf } : {}),
      closeMatches: [...new Set(close)].slice(0, 3),
    });
  }
  return { result, ids };
}

// ---- artifacts annotated with module records ----

/** What module records can annotate: artifacts (`bionty_artifact<entity>`) and records. */
export type ModuleOwner = "artifact" | "record";

/**
 * Where an artifact (or a record) annotated with a module registry's records links them, as
 * names for SQL: the core writes `bionty_artifactcelltype` (`bionty_recordcelltype`) rows from
 * this without importing module tables. The owner's column is `<owner>_id`.
 */
export interface ModuleLinkTarget {
  /** `bionty.CellType` */
  registry: string;
  /** The field values are given in, e.g. `ontology_id`. */
  field: string;
  /** The registry's table and the columns of its field and of its name field. */
  table: string;
  fieldColumn: string;
  nameColumn: string;
  link: LinkTable;
}

function linkTargetOf(
  resolved: ResolvedRegistry,
  field: string,
  owner: ModuleOwner,
): ModuleLinkTarget {
  const { registry, qualified } = resolved;
  const link = owner === "artifact" ? registry.artifactLink : registry.recordLink;
  if (!link) {
    throw new ValidationError(
      `${owner}s cannot be annotated with ${qualified} records`,
      `use a registry with ${owner} links, e.g. bionty.CellType`,
    );
  }
  return {
    registry: qualified,
    field,
    table: getTableName(registry.table),
    fieldColumn: (registry.fields[field] as PgColumn).name,
    nameColumn: (registry.fields[registry.nameField] as PgColumn).name,
    link,
  };
}

/**
 * The link target of a `cat[bionty.CellType(.field)]` dtype for an owner; the module must be
 * enabled (else an error that says `lamin module enable <module>`).
 */
export async function moduleLinkTarget(
  target: HasDb,
  spec: string,
  owner: ModuleOwner,
): Promise<ModuleLinkTarget> {
  const scope = await instanceModules(target.db);
  const resolved = parseModuleField(spec, scope);
  const link = linkTargetOf(resolved, resolved.field, owner);
  await assertEnabled(target.db, resolved.module, scope);
  return link;
}

/** Values of a module field with their row ids, and those not in the registry (as lookup). */
export async function resolveModuleValues(
  target: HasDb,
  spec: string,
  values: readonly string[],
  owner: ModuleOwner,
): Promise<{
  link: ModuleLinkTarget;
  ids: Map<string, number>;
  missing: LookupResult["missing"];
}> {
  const resolved = parseModuleField(spec, await instanceModules(target.db));
  const link = linkTargetOf(resolved, resolved.field, owner);
  const { result, ids } = await lookup(target, spec, values);
  return { link, ids, missing: result.missing };
}

/** An owner's link tables of the modules enabled on this database (to read annotations). */
export async function enabledModuleLinks(db: Db, owner: ModuleOwner): Promise<ModuleLinkTarget[]> {
  const out: ModuleLinkTarget[] = [];
  for (const module of (await instanceModules(db)).values()) {
    for (const registry of module.registries) {
      if (!(owner === "artifact" ? registry.artifactLink : registry.recordLink)) continue;
      const resolved = { module, registry, qualified: `${module.name}.${registry.name}` };
      out.push(linkTargetOf(resolved, registry.nameField, owner));
    }
  }
  return out;
}

/**
 * Link a record to a parent in a hierarchical registry, both given by identifier
 * (`ontology_id`). A link that would make a cycle is refused.
 */
export async function addParent(
  target: HasDb,
  registryName: string,
  child: string,
  parent: string,
): Promise<{ added: boolean }> {
  const scope = await instanceModules(target.db);
  const { module, registry, qualified } = resolveRegistry(registryName, scope);
  if (!registry.parents) {
    throw new ValidationError(
      `${qualified} has no parents`,
      "parents exist on ontology registries",
    );
  }
  await assertEnabled(target.db, module, scope);
  const idCol = registry.fields[registry.idField] as PgColumn;
  const pk = (registry.table as unknown as { id: PgColumn }).id;
  const rows = (await target.db
    .select({ key: idCol, id: pk })
    .from(registry.table)
    .where(inArray(idCol, [child, parent]))) as unknown as { key: string; id: number }[];
  const ids = new Map(rows.map((r) => [r.key, r.id]));
  for (const v of [child, parent]) {
    if (!ids.has(v)) throw new NotFoundError(`no ${qualified} with ${registry.idField} '${v}'`);
  }
  const { table, fromId, toId } = registry.parents;
  try {
    const existing = await target.db
      .select({ id: fromId })
      .from(table)
      .where(and(eq(fromId, ids.get(child) as number), eq(toId, ids.get(parent) as number)));
    if (existing.length) return { added: false };
    await target.db.execute(
      sql`INSERT INTO ${table} (${sql.identifier(fromId.name)}, ${sql.identifier(toId.name)}) VALUES (${ids.get(child)}, ${ids.get(parent)})`,
    );
    return { added: true };
  } catch (error) {
    if (sqlState(error) === "23514") {
      throw new ValidationError(
        `cyclic parents: ${parent} is already below ${child} in ${qualified}`,
        "parents must form a hierarchy without cycles",
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * What can be done with an instance's modules (not their schema), the same in process and over
 * HTTP (sdk/remote.ts): read them, and create records of registries of one's own modules.
 */
export interface ModuleReads {
  /** Records of a module registry of one's own (`mylab.Sample`), newest first. */
  records(
    registry: string,
    opts?: { name?: string; limit?: number },
  ): Promise<import("./records.js").ModuleRecord[]>;
  /** Create a record of a module registry of one's own from its field values. */
  create(
    registry: string,
    values: Record<string, unknown>,
  ): Promise<import("./records.js").ModuleRecord>;
  /** Change fields of a record of a module registry of one's own. */
  update(
    registry: string,
    uid: string,
    values: Record<string, unknown>,
  ): Promise<import("./records.js").ModuleRecord>;
  /** Delete one: to the trash, or for good with `permanent`. */
  delete(
    registry: string,
    uid: string,
    opts?: { permanent?: boolean },
  ): Promise<{ uid: string; deleted: "trash" | "permanent" }>;
  list(): Promise<ModuleInfo[]>;
  search(
    registry: string,
    query: string,
    opts?: { limit?: number },
  ): Promise<{ registry: string; hits: SearchHit[] }>;
  lookup(field: string, values: readonly string[]): Promise<LookupResult>;
  /**
   * Enable a module, or bring it to a newer declaration (declared.ts): a bundled one by name,
   * any other from its declaration. Needs the admin role.
   */
  change(
    name: string,
    req?: import("./declared.js").ModuleChangeRequest,
  ): Promise<import("./declared.js").ModuleChange>;
}

export function moduleReads(target: HasDb & { user?: { id: number } }): ModuleReads {
  return {
    records: (registry, opts) => listModuleRecords(target, registry, opts),
    create: (registry, values) => createModuleRecord(target, registry, values),
    update: (registry, uid, values) => updateModuleRecord(target, registry, uid, values),
    delete: (registry, uid, opts) => deleteModuleRecord(target, registry, uid, opts),
    list: () => listModules(target),
    search: (registry, query, opts) => searchRegistry(target, registry, query, opts),
    lookup: (field, values) => lookupModuleValues(target, field, values),
    change: async (name, req) => (await import("./declared.js")).changeModule(target, name, req),
  };
}
