/**
 * Disabling a module of its own package: its tables are dropped and its rows in
 * `django_migrations` deleted, in one transaction, so the instance is as before `enable`.
 * Whatever would be lost (records in its tables, annotations in its link tables, features whose
 * dtype names it) is listed first, and nothing changes unless the caller says `force`.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.js";
import { ConflictError, ValidationError } from "../errors.js";
import { tablesOf } from "./declare.js";
import { isExternal, snapshotTables } from "./external.js";
import {
  BUILTIN_MODULES,
  getModule,
  type HasDb,
  instanceModules,
  recordedModules,
} from "./index.js";
import { forgetDeclaration, isStored } from "./stored.js";

export interface DisableResult {
  module: string;
  /** The tables dropped (or, refused, that would have been). */
  tables: string[];
  /** Rows per table that were (would be) deleted with it. */
  rows: Record<string, number>;
  /** Features whose dtype names the module: kept, unusable until it is enabled again. */
  features: string[];
}

/** What disabling `name` drops; throws when it cannot be disabled at all. */
async function disablePlan(db: Db, name: string): Promise<DisableResult> {
  if (BUILTIN_MODULES.has(name)) {
    throw new ValidationError(
      `'${name}' is compiled into this build and cannot be disabled`,
      "only modules of their own packages (lamin module enable ./folder) can be disabled",
    );
  }
  if (!(await recordedModules(db)).includes(name)) {
    throw new ValidationError(
      `module '${name}' is not enabled on this instance`,
      "lamin module list shows the modules it has",
    );
  }
  // the declaration the database keeps (else its package) says which tables are its own (a
  // missing package throws its own clear error)
  const module = getModule(name, await instanceModules(db));
  if (!isExternal(module)) throw new ValidationError(`'${name}' cannot be disabled`);
  // the tables its migrations made, and those its declarations name (a pending migration's)
  const names = [
    ...new Set([
      ...(isStored(module) ? [] : snapshotTables(module.origin).map((t) => t.name)),
      ...tablesOf(module.declaration).map((t) => t.name),
    ]),
  ];
  const existing = await queryRows<{ name: string }>(
    db,
    sql`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()
      AND tablename IN (${sql.join(
        names.map((n) => sql`${n}`),
        sql`, `,
      )}) ORDER BY tablename`,
  );
  const rows: Record<string, number> = {};
  for (const { name: table } of existing) {
    const [count] = await queryRows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)}`,
    );
    if (count && count.n > 0) rows[table] = count.n;
  }
  // `cat[mylab.Sample]`, `cat[ULabel|mylab.Sample.name]`: a registry of the module in a dtype
  const pattern = `(\\[|\\|)${name}\\.`;
  const features = await queryRows<{ name: string }>(
    db,
    sql`SELECT name FROM lamindb_feature WHERE _dtype_str ~ ${pattern} ORDER BY name`,
  );
  return {
    module: name,
    tables: existing.map((t) => t.name),
    rows,
    features: features.map((f) => f.name),
  };
}

/**
 * Disable a module: refused (nothing changed) when it holds records or features use it, unless
 * `force`; otherwise its tables and its migration records go in one transaction.
 */
export async function disableModule(
  target: HasDb,
  name: string,
  opts: { force?: boolean } = {},
): Promise<DisableResult> {
  const plan = await disablePlan(target.db, name);
  const lost = [
    ...Object.entries(plan.rows).map(([table, n]) => `${n} rows in ${table}`),
    ...plan.features.map((f) => `feature '${f}' (its dtype names ${name})`),
  ];
  if (lost.length > 0 && !opts.force) {
    throw new ConflictError(
      `disabling '${name}' would lose ${lost.join(", ")}; nothing was changed`,
      "pass --force to drop its tables with their rows (features stay, unusable until it is enabled again)",
    );
  }
  await target.db.transaction(async (tx) => {
    if (plan.tables.length > 0) {
      // one statement: Postgres drops tables that reference each other together
      await tx.execute(
        sql`DROP TABLE ${sql.join(
          plan.tables.map((t) => sql.identifier(t)),
          sql`, `,
        )}`,
      );
    }
    await tx.execute(
      sql`DELETE FROM django_migrations WHERE app = ${`lns_${name}`} OR app = ${name}`,
    );
    await forgetDeclaration(tx, name);
  });
  return plan;
}
