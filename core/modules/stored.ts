/**
 * Declarations kept in the instance database (`lns_module`): for each module of its own package
 * enabled on an instance, its declaration (data, never code) and the SQL its migrations applied.
 * Any process that opens the database (a hub, a Lambda, a laptop without the package) loads the
 * module from there, and a hub can enable and migrate a module from a declaration sent to it,
 * writing the SQL itself from the declaration (ddl.ts) instead of running SQL it was sent.
 */
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.js";
import type { MigrationSet } from "../db/migrate.js";
import { checkDeclaration, type ModuleDeclaration, moduleOf } from "./declare.js";
import type { ExternalModule } from "./external.js";

/** One migration as applied to this instance. */
export interface AppliedMigration {
  name: string;
  statements: string[];
}

/** Where a module loaded from its stored declaration says it comes from. */
export const STORED_ORIGIN = "the instance database (lns_module)";

export const isStored = (m: { origin?: string }) => m.origin === STORED_ORIGIN;

/** A declaration's identity: the same JSON, the same module. */
export const declarationDigest = (decl: ModuleDeclaration) =>
  createHash("sha256").update(JSON.stringify(decl)).digest("hex");

async function hasTable(db: Db): Promise<boolean> {
  const [row] = await queryRows<{ t: string | null }>(
    db,
    sql`SELECT to_regclass('lns_module')::text AS t`,
  );
  return row?.t != null;
}

// json, not jsonb: the declaration's order (of registries, of fields) is kept as written

/** Module name → digest of its stored declaration (one small query; none before any is stored). */
export async function storedDigests(db: Db): Promise<Map<string, string>> {
  if (!(await hasTable(db))) return new Map();
  const rows = await queryRows<{ name: string; digest: string }>(
    db,
    sql`SELECT name, digest FROM lns_module`,
  );
  return new Map(rows.map((r) => [r.name, r.digest]));
}

/** Built modules by digest: a declaration is parsed and its tables built once per process. */
const built = new Map<string, ExternalModule>();
const BUILT_MAX = 256;

/** The module a stored declaration describes (cached by its digest). */
export async function storedModule(db: Db, name: string, digest: string): Promise<ExternalModule> {
  const cached = built.get(digest);
  if (cached && cached.name === name) return cached;
  const [row] = await queryRows<{ declaration: unknown; migrations: AppliedMigration[] }>(
    db,
    sql`SELECT declaration, migrations FROM lns_module WHERE name = ${name}`,
  );
  const decl = checkDeclaration(
    typeof row?.declaration === "string" ? JSON.parse(row.declaration) : row?.declaration,
    `the declaration of '${name}' stored in the instance`,
  );
  const applied = row?.migrations ?? [];
  const migrations = (): MigrationSet => ({
    app: `lns_${name}`,
    migrations: applied.map((m) => ({ name: m.name, statements: m.statements })),
  });
  const module = moduleOf(decl, migrations, STORED_ORIGIN) as ExternalModule;
  if (built.size >= BUILT_MAX) built.delete(built.keys().next().value as string);
  built.set(digest, module);
  return module;
}

/** The migrations recorded with a stored declaration (empty when none is stored). */
export async function storedMigrations(db: Db, name: string): Promise<AppliedMigration[]> {
  if (!(await hasTable(db))) return [];
  const [row] = await queryRows<{ migrations: AppliedMigration[] }>(
    db,
    sql`SELECT migrations FROM lns_module WHERE name = ${name}`,
  );
  return row?.migrations ?? [];
}

/**
 * Keep a module's declaration and the migrations just applied, inside the transaction that
 * applied them (so the two never disagree).
 */
export async function storeDeclaration(
  tx: Db,
  decl: ModuleDeclaration,
  applied: AppliedMigration[],
): Promise<void> {
  await tx.execute(sql`CREATE TABLE IF NOT EXISTS lns_module (
    name varchar(40) PRIMARY KEY,
    declaration json NOT NULL,
    digest char(64) NOT NULL,
    migrations jsonb NOT NULL DEFAULT '[]'::jsonb,
    updated_at timestamp with time zone NOT NULL DEFAULT statement_timestamp()
  )`);
  const before = await storedMigrations(tx, decl.name);
  const known = new Set(before.map((m) => m.name));
  const migrations = [...before, ...applied.filter((m) => !known.has(m.name))];
  await tx.execute(
    sql`INSERT INTO lns_module (name, declaration, digest, migrations)
      VALUES (${decl.name}, ${JSON.stringify(decl)}::json, ${declarationDigest(decl)},
        ${JSON.stringify(migrations)}::jsonb)
      ON CONFLICT (name) DO UPDATE SET declaration = excluded.declaration,
        digest = excluded.digest, migrations = excluded.migrations,
        updated_at = statement_timestamp()`,
  );
}

/** Forget a module's declaration (it was disabled). */
export async function forgetDeclaration(tx: Db, name: string): Promise<void> {
  if (await hasTable(tx)) await tx.execute(sql`DELETE FROM lns_module WHERE name = ${name}`);
}
