/**
 * Enabling and migrating modules where no package code may run (the hub, a Lambda): a module
 * of this build (bionty) or shipped with it (pertdb) by name; any other from its declaration,
 * sent as data. The SQL for a declaration is written here, from the difference between the
 * declaration the instance keeps (stored.ts) and the one sent (ddl.ts): a caller never sends
 * SQL, and a declaration cannot name a table outside its own prefix.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.js";
import { type MigrationSet, migrate, migrationStatus } from "../db/migrate.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { diffTables } from "./ddl.js";
import {
  checkDeclaration,
  checkModuleName,
  type ModuleDeclaration,
  prefixOf,
  seedRecords,
  tablesOf,
} from "./declare.js";
import {
  isExternal,
  loadModuleFolder,
  shippedModuleFolder,
  shippedModuleNames,
} from "./external.js";
import {
  assertNamesFree,
  assertRequiredModules,
  BUILTIN_MODULES,
  enableModules,
  getModule,
  type HasDb,
  instanceModules,
  MODULES,
  recordedModules,
  registerModule,
} from "./index.js";
import { isStored, storeDeclaration } from "./stored.js";

export interface ModuleChange {
  module: string;
  /** Migrations recorded now (on a dry run: that would be). */
  applied: string[];
  /** The SQL run (on a dry run: that would be). */
  statements: string[];
  dryRun: boolean;
}

export interface ModuleChangeRequest {
  /** A module's declaration (what its package's index.js exports), for a module not bundled. */
  declaration?: unknown;
  /**
   * The names of its package's migrations (`0001_add_tissue`): those not recorded yet are
   * recorded for the change, so that its package, later, finds them applied.
   */
  migrations?: string[];
  dryRun?: boolean;
}

const MIGRATION_TAG = /^\d{4}_[a-z0-9][a-z0-9_]{0,57}$/;

/** A module of this build or shipped with it (pertdb), loaded; undefined for any other name. */
async function bundledModule(name: string) {
  if (BUILTIN_MODULES.has(name)) return getModule(name);
  const folder = shippedModuleFolder(name);
  if (!folder) return undefined;
  const loaded = Object.hasOwn(MODULES, name) ? MODULES[name] : undefined;
  if (loaded && isExternal(loaded) && loaded.origin === folder) return loaded;
  return registerModule(await loadModuleFolder(folder));
}

/**
 * Enable a module, or bring an enabled one to a newer declaration: a bundled module by name, any
 * other from `req.declaration`. Refused before anything changes when the name is not a module
 * name, names a bundled module while sending a declaration, or its tables would be another's.
 */
export async function changeModule(
  target: HasDb & { user?: { id: number } },
  name: string,
  req: ModuleChangeRequest = {},
): Promise<ModuleChange> {
  checkModuleName(name);
  const bundled = await bundledModule(name);
  if (req.declaration === undefined) {
    if (!bundled) {
      throw new NotFoundError(
        `module '${name}' is not bundled with this server`,
        `send its declaration: lamin module enable ./path/to/${name} (its package folder)`,
      );
    }
    const set = bundled.migrations();
    const [status] = await migrationStatus(target.db, [set]);
    const pending = set.migrations.filter((m) => status?.pending.includes(m.name));
    const statements = pending.flatMap((m) => m.statements);
    if (req.dryRun || pending.length === 0) {
      return {
        module: name,
        applied: pending.map((m) => m.name),
        statements,
        dryRun: req.dryRun === true,
      };
    }
    const [result] = await enableModules(target, [name]);
    return { module: name, applied: result?.applied ?? [], statements, dryRun: false };
  }
  if (bundled) {
    throw new ValidationError(
      `'${name}' is a module bundled with this server`,
      `enable it by name, without a declaration: lamin module enable ${name}`,
    );
  }
  const decl = checkDeclaration(req.declaration, "the declaration sent");
  if (decl.name !== name) {
    throw new ValidationError(
      `the declaration sent is of module '${decl.name}', not '${name}'`,
      `send it for ${decl.name}`,
    );
  }
  const tags = req.migrations ?? [];
  for (const tag of tags) {
    if (typeof tag !== "string" || !MIGRATION_TAG.test(tag)) {
      throw new ValidationError(
        `invalid migration name ${JSON.stringify(tag)}`,
        "migration names are as in the package's migrations folder, e.g. 0001_add_tissue",
      );
    }
  }
  return applyDeclaration(target.db, decl, tags, req.dryRun === true, target.user?.id);
}

async function applyDeclaration(
  db: Db,
  decl: ModuleDeclaration,
  tags: string[],
  dryRun: boolean,
  userId?: number,
): Promise<ModuleChange> {
  const scope = await instanceModules(db);
  const current = scope.get(decl.name);
  if (current && !(isExternal(current) && isStored(current))) {
    throw new ConflictError(
      `module '${decl.name}' was enabled from its package before instances kept declarations`,
      "run lamin migrate deploy once where its package is (with the instance's database)",
    );
  }
  await assertPrefixFree(db, decl);
  await assertRequiredModules(db, decl, new Set());
  const before = current && isExternal(current) ? tablesOf(current.declaration) : [];
  const after = tablesOf(decl);
  const statements = diffTables(before, after);
  const had = new Set(before.map((t) => t.name));
  // tables it would create must not exist: another's, or left by hand
  await assertNamesFree(
    db,
    decl.name,
    after.filter((t) => !had.has(t.name)).map((t) => t.name),
  );
  const app = `lns_${decl.name}`;
  const recorded = new Set(
    (
      await queryRows<{ name: string }>(
        db,
        sql`SELECT name FROM django_migrations WHERE app = ${app}`,
      ).catch(() => [])
    ).map((r) => r.name),
  );
  const names = tags.filter((t) => !recorded.has(t));
  if (statements.length > 0 && names.length === 0) {
    names.push(`${String(recorded.size).padStart(4, "0")}_${current ? "update" : "initial"}`);
  }
  if (dryRun || names.length === 0) {
    return { module: decl.name, applied: dryRun ? names : [], statements, dryRun };
  }
  // the SQL from the kept declaration to this one, recorded under the last of the new names
  const set: MigrationSet = {
    app,
    migrations: names.map((name, i) => ({
      name,
      statements: i === names.length - 1 ? statements : [],
    })),
    afterApply: async (tx, applied) => {
      await storeDeclaration(
        tx,
        decl,
        applied.map((name) => ({
          name,
          statements: name === names[names.length - 1] ? statements : [],
        })),
      );
      // its seed, as a package's enable inserts it (by the caller, else the first user)
      const by =
        userId ??
        (
          await queryRows<{ id: number }>(tx, sql`SELECT id FROM lamindb_user ORDER BY id LIMIT 1`)
        )[0]?.id;
      if (by !== undefined) await seedRecords(tx, decl, Number(by));
    },
  };
  const applied = await migrate(db, [set]);
  return { module: decl.name, applied: applied[app] ?? [], statements, dryRun: false };
}

/**
 * A module's tables are `<prefix>_*`: no other module (enabled here, of this build, or shipped
 * with it) may have the same prefix.
 */
async function assertPrefixFree(db: Db, decl: ModuleDeclaration): Promise<void> {
  const prefix = prefixOf(decl);
  const others: { name: string; prefix: string }[] = [...BUILTIN_MODULES].map((n) => ({
    name: n,
    prefix: n,
  }));
  for (const name of await recordedModules(db)) others.push({ name, prefix: name });
  for (const m of (await instanceModules(db)).values()) {
    if (isExternal(m)) others.push({ name: m.name, prefix: prefixOf(m.declaration) });
  }
  for (const name of shippedModuleNames()) {
    const shipped = await bundledModule(name).catch(() => undefined);
    if (shipped && isExternal(shipped)) {
      others.push({ name, prefix: name }, { name, prefix: prefixOf(shipped.declaration) });
    }
  }
  const clash = others.find(
    (o) => o.name !== decl.name && (o.prefix === prefix || o.prefix === decl.name),
  );
  if (clash) {
    throw new ConflictError(
      `module '${decl.name}' would make tables ${prefix}_*, as module '${clash.name}' does`,
      "rename the module (or its tablePrefix); nothing was changed",
    );
  }
}
