/**
 * Records of a module of one's own (`mylab.Sample`): create them from their declared fields
 * (each value checked against its field, a ref given by the uid or name of its record) and list
 * them. Annotating with them, looking them up and searching them is what bionty's registries do
 * (index.ts); this is what a registry whose records come from its users adds.
 */
import { and, desc, eq, or, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Db } from "../db/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { randomBase62 } from "../uid.js";
import type { FieldDeclaration, RegistryDeclaration } from "./declare.js";
import { MODULE_UID_LENGTH } from "./declare.js";
import { type ExternalModule, isExternal } from "./external.js";
import { enabledModules, type HasDb, resolveRegistry } from "./index.js";

export type ModuleRecord = Record<string, unknown> & { uid: string };

interface Resolved {
  module: ExternalModule;
  name: string;
  qualified: string;
  decl: RegistryDeclaration;
  table: PgTable;
}

async function resolve(target: HasDb, registry: string): Promise<Resolved> {
  const names = await enabledModules(target.db);
  const { module, registry: r, qualified } = resolveRegistry(registry);
  if (!isExternal(module)) {
    throw new ValidationError(
      `${qualified} records come with its module`,
      "search them (lamin bionty search) instead of creating them",
    );
  }
  if (!names.includes(module.name)) {
    throw new NotFoundError(
      `module '${module.name}' is not enabled on this instance`,
      `enable it with \`lamin module enable ${module.origin}\``,
    );
  }
  return {
    module,
    name: r.name,
    qualified,
    decl: module.declaration.registries[r.name] as RegistryDeclaration,
    table: r.table,
  };
}

const col = (table: PgTable, name: string) => (table as unknown as Record<string, PgColumn>)[name];

/** A value as its field keeps it; strings from a command line are parsed. */
function coerce(name: string, f: FieldDeclaration, value: unknown, registry: string): unknown {
  if (value === null || value === undefined) return null;
  const wrong = (what: string) =>
    new ValidationError(
      `${registry}.${name} must be ${what}, got ${JSON.stringify(value).slice(0, 80)}`,
      `give ${name} as ${what}`,
    );
  switch (f.type) {
    case "string":
    case "text": {
      if (typeof value !== "string") throw wrong("a string");
      const max = f.type === "string" ? (f.max ?? 255) : 1_000_000;
      if (value.length > max) throw wrong(`at most ${max} characters`);
      return value;
    }
    case "integer": {
      const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== "number" || !Number.isSafeInteger(n) || Math.abs(n) > 2_147_483_647) {
        throw wrong("a whole number");
      }
      return n;
    }
    case "float": {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isFinite(n)) throw wrong("a number");
      return n;
    }
    case "boolean":
      if (value === true || value === "true") return true;
      if (value === false || value === "false") return false;
      throw wrong("true or false");
    case "date":
      if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
        throw wrong("a date YYYY-MM-DD");
      }
      return value;
    case "datetime": {
      const d = typeof value === "string" ? new Date(value) : undefined;
      if (!d || Number.isNaN(d.getTime())) throw wrong("an ISO date and time");
      return d;
    }
    case "json": {
      if (typeof value === "string") {
        try {
          return JSON.parse(value);
        } catch {
          throw wrong("JSON");
        }
      }
      return value;
    }
    case "ref":
      if (typeof value !== "string" || value.length > 255) throw wrong("a uid or name");
      return value;
  }
}

/** The id of a ref's record, by uid or name field. */
async function refId(db: Db, module: ExternalModule, to: string, value: string): Promise<number> {
  const target = module.registries.find((r) => r.name === to);
  if (!target) throw new ValidationError(`${module.name}.${to} is not a registry`);
  const t = target.table;
  const rows = (await db
    .select({ id: col(t, "id") as PgColumn })
    .from(t)
    .where(
      or(eq(col(t, "uid") as PgColumn, value), eq(col(t, target.nameField) as PgColumn, value)),
    )
    .limit(2)) as { id: number }[];
  if (rows.length === 0) {
    throw new NotFoundError(
      `no ${module.name}.${to} with uid or ${target.nameField} '${value}'`,
      `create it first: lamin module create ${module.name}.${to} ${target.nameField}=${value}`,
    );
  }
  if (rows.length > 1) {
    throw new ConflictError(
      `more than one ${module.name}.${to} is named '${value}'`,
      "give its uid instead",
    );
  }
  return Number(rows[0]?.id);
}

/** The public shape: uid, the declared fields (a ref as its record's uid), created_at. */
async function toPublic(
  db: Db,
  r: Resolved,
  rows: Record<string, unknown>[],
): Promise<ModuleRecord[]> {
  const refs = Object.entries(r.decl.fields).filter(([, f]) => f.type === "ref");
  const uids = new Map<string, Map<number, string>>();
  for (const [fname, f] of refs) {
    if (f.type !== "ref") continue;
    const ids = [...new Set(rows.map((row) => row[`${fname}_id`]).filter((v) => v != null))];
    const target = r.module.registries.find((x) => x.name === f.to);
    const map = new Map<number, string>();
    if (target && ids.length) {
      const found = (await db
        .select({
          id: col(target.table, "id") as PgColumn,
          uid: col(target.table, "uid") as PgColumn,
        })
        .from(target.table)
        .where(
          sql`${col(target.table, "id")} IN (${sql.join(
            ids.map((i) => sql`${i}`),
            sql`, `,
          )})`,
        )) as {
        id: number;
        uid: string;
      }[];
      for (const x of found) map.set(Number(x.id), x.uid);
    }
    uids.set(fname, map);
  }
  return rows.map((row) => {
    const out: ModuleRecord = { uid: String(row.uid) };
    for (const [fname, f] of Object.entries(r.decl.fields)) {
      if (f.type === "ref") {
        const id = row[`${fname}_id`];
        out[fname] = id == null ? null : (uids.get(fname)?.get(Number(id)) ?? null);
      } else {
        const v = row[fname];
        out[fname] = v instanceof Date ? v.toISOString() : (v ?? null);
      }
    }
    out.created_at = row.created_at instanceof Date ? row.created_at.toISOString() : row.created_at;
    return out;
  });
}

/**
 * Create a record of a module registry from field values (strings are parsed as the field's
 * type; refs by uid or name). Unknown fields, missing required ones and wrong values are one
 * ValidationError each; nothing is written then.
 */
export async function createModuleRecord(
  target: HasDb & { user?: { id: number } },
  registry: string,
  values: Record<string, unknown>,
  userId?: number,
): Promise<ModuleRecord> {
  const r = await resolve(target, registry);
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new ValidationError(`a ${r.qualified} is described by an object of field values`);
  }
  const unknown = Object.keys(values).filter((k) => !Object.hasOwn(r.decl.fields, k));
  if (unknown.length) {
    throw new ValidationError(
      `${r.qualified} has no field ${unknown.map((k) => `'${k}'`).join(", ")}`,
      `its fields: ${Object.keys(r.decl.fields).join(", ")}`,
    );
  }
  const row: Record<string, unknown> = {};
  for (const [fname, f] of Object.entries(r.decl.fields)) {
    const v = coerce(fname, f, values[fname], r.qualified);
    if (v === null) {
      if (f.required) {
        throw new ValidationError(`a ${r.qualified} needs a ${fname}`, `give ${fname}=...`);
      }
      continue;
    }
    row[f.type === "ref" ? `${fname}_id` : fname] =
      f.type === "ref" ? await refId(target.db, r.module, f.to, v as string) : v;
  }
  const creator = userId ?? target.user?.id;
  if (creator === undefined) throw new ValidationError("no user to create the record as");
  const uid = randomBase62(MODULE_UID_LENGTH);
  try {
    await target.db.insert(r.table).values({ ...row, uid, created_by_id: creator } as never);
  } catch (error) {
    const code =
      (error as { cause?: { code?: string }; code?: string }).cause?.code ??
      (error as { code?: string }).code;
    if (code === "23505") {
      throw new ConflictError(
        `a ${r.qualified} with these unique values exists already`,
        `list them: lamin module records ${r.qualified}`,
        { cause: error },
      );
    }
    throw error;
  }
  return (await listModuleRecords(target, registry, { uid }))[0] as ModuleRecord;
}

/** Records of a module registry, newest first; `uid` or `name` (its name field) narrow them. */
export async function listModuleRecords(
  target: HasDb,
  registry: string,
  opts: { uid?: string; name?: string; limit?: number } = {},
): Promise<ModuleRecord[]> {
  const r = await resolve(target, registry);
  const limit = opts.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new ValidationError(`invalid limit ${limit}`, "give 1 to 10000");
  }
  const nameField = r.decl.nameField ?? "name";
  const where: SQL[] = [sql`${col(r.table, "branch_id")} <> -1`];
  if (opts.uid !== undefined) where.push(eq(col(r.table, "uid") as PgColumn, opts.uid));
  if (opts.name !== undefined) where.push(eq(col(r.table, nameField) as PgColumn, opts.name));
  const rows = (await target.db
    .select()
    .from(r.table)
    .where(and(...where))
    .orderBy(desc(col(r.table, "id") as PgColumn))
    .limit(limit)) as Record<string, unknown>[];
  return toPublic(target.db, r, rows);
}
