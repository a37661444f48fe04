/**
 * Records of a module of one's own (`mylab.Sample`): create them from their declared fields
 * (each value checked against its field, a ref given by the uid or name of its record) and list
 * them. Annotating with them, looking them up and searching them is what bionty's registries do
 * (index.ts); this is what a registry whose records come from its users adds.
 */
import { and, desc, eq, getTableName, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { type Db, queryRows, sqlState } from "../db/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { currentRun } from "../registry/lineage/run-context.js";
import { randomBase62 } from "../uid.js";
import {
  type FieldDeclaration,
  MODULE_UID_LENGTH,
  manyTable,
  type RegistryDeclaration,
  splitTarget,
  targetTable,
} from "./declare.js";
import { type ExternalModule, isExternal } from "./external.js";
import { type HasDb, instanceModules, type ModuleScope, resolveRegistry } from "./index.js";
import type { ModuleRegistry } from "./types.js";

export type ModuleRecord = Record<string, unknown> & { uid: string };

interface Resolved {
  module: ExternalModule;
  name: string;
  qualified: string;
  decl: RegistryDeclaration;
  table: PgTable;
  scope: ModuleScope;
}

/**
 * The table a ref or many field points to, and the column its records are named by: a registry
 * of the same module, or another module's (`bionty.Gene`; `bionty.Source`, a table of bionty's
 * that is no registry of its own, by `name`).
 */
function targetOf(r: Resolved, to: string): { label: string; table: string; nameColumn: string } {
  const other = splitTarget(to);
  let registry: ModuleRegistry | undefined;
  if (other) {
    const module = r.scope.get(other.module);
    registry = module?.registries.find((x) => x.name === other.registry);
  } else {
    registry = r.module.registries.find((x) => x.name === to);
  }
  const label = other ? to : `${r.module.name}.${to}`;
  const table = registry
    ? getTableName(registry.table)
    : targetTable(r.module.declaration.tablePrefix ?? r.module.name, to);
  const nameColumn = registry?.fields[registry.nameField]?.name ?? "name";
  return { label, table, nameColumn };
}

async function resolve(target: HasDb, registry: string): Promise<Resolved> {
  const scope = await instanceModules(target.db);
  const names = [...scope.keys()];
  const { module, registry: r, qualified } = resolveRegistry(registry, scope);
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
    scope,
  };
}

const col = (table: PgTable, name: string) => (table as unknown as Record<string, PgColumn>)[name];

/** ISO 8601 durations, as Postgres reads them into `interval` (weeks or the other units). */
const ISO_DURATION =
  /^P(?:\d{1,6}W|(?:\d{1,6}Y)?(?:\d{1,6}M)?(?:\d{1,6}D)?(?:T(?:\d{1,6}H)?(?:\d{1,6}M)?(?:\d{1,6}(?:\.\d{1,6})?S)?)?)$/;

/**
 * An interval as ISO 8601 on both backends: node-postgres gives an object of its parts,
 * PGlite Postgres's text (`1 day 02:30:00`, `1 year 2 mons`).
 */
export function isoDuration(value: unknown): string {
  const parts: Record<string, number> = {};
  if (typeof value === "object" && value !== null) {
    Object.assign(parts, value);
  } else {
    const text = String(value);
    for (const m of text.matchAll(/(-?\d+) (year|mon|day)s?/g)) parts[`${m[2]}s`] = Number(m[1]);
    const t = /(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(text);
    if (t) {
      const sign = t[1] === "-" ? -1 : 1;
      parts.hours = sign * Number(t[2]);
      parts.minutes = sign * Number(t[3]);
      parts.seconds = sign * Number(t[4]);
    }
  }
  const n = (k: string) => Number(parts[k] ?? 0);
  const seconds = n("seconds") + n("milliseconds") / 1000;
  const date = [
    [n("years"), "Y"],
    [n("months") + n("mons"), "M"],
    [n("days"), "D"],
  ] as const;
  const time = [
    [n("hours"), "H"],
    [n("minutes"), "M"],
    [Math.round(seconds * 1e6) / 1e6, "S"],
  ] as const;
  const fmt = (xs: readonly (readonly [number, string])[]) =>
    xs
      .filter(([v]) => v !== 0)
      .map(([v, u]) => `${v}${u}`)
      .join("");
  const d = fmt(date);
  const t = fmt(time);
  return d || t ? `P${d}${t ? `T${t}` : ""}` : "PT0S";
}

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
    case "duration":
      if (
        typeof value !== "string" ||
        !ISO_DURATION.test(value) ||
        value === "P" ||
        /T$/.test(value)
      ) {
        throw wrong("an ISO 8601 duration, e.g. PT2H30M or P1DT12H");
      }
      return value;
    case "ref":
      if (typeof value !== "string" || value.length > 255) throw wrong("a uid or name");
      return value;
    case "many": {
      // a list, or one comma-separated string from a command line
      const list = typeof value === "string" ? value.split(",").map((v) => v.trim()) : value;
      if (
        !Array.isArray(list) ||
        list.length > 1000 ||
        list.some((v) => typeof v !== "string" || v === "" || v.length > 255)
      ) {
        throw wrong("a list of uids or names");
      }
      return [...new Set(list as string[])];
    }
  }
}

/** The id of a ref's record, by uid or name field. */
async function refId(db: Db, r: Resolved, to: string, value: string): Promise<number> {
  const { label, table, nameColumn } = targetOf(r, to);
  const rows = await queryRows<{ id: number }>(
    db,
    sql`SELECT id FROM ${sql.identifier(table)}
      WHERE uid = ${value} OR ${sql.identifier(nameColumn)} = ${value} LIMIT 2`,
  );
  if (rows.length === 0) {
    throw new NotFoundError(
      `no ${label} with uid or ${nameColumn} '${value}'`,
      `create it first: lamin module create ${label} ${nameColumn}=${value}`,
    );
  }
  if (rows.length > 1) {
    throw new ConflictError(`more than one ${label} is named '${value}'`, "give its uid instead");
  }
  return Number(rows[0]?.id);
}

/** The public shape: uid, the declared fields (a ref as its record's uid), created_at, run. */
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
    const map = new Map<number, string>();
    if (ids.length) {
      const found = await queryRows<{ id: number; uid: string }>(
        db,
        sql`SELECT id, uid FROM ${sql.identifier(targetOf(r, f.to).table)}
          WHERE id IN (${sql.join(
            ids.map((i) => sql`${i}`),
            sql`, `,
          )})`,
      );
      for (const x of found) map.set(Number(x.id), x.uid);
    }
    uids.set(fname, map);
  }
  const many = new Map<string, Map<number, string[]>>();
  const ids = rows.map((row) => Number(row.id));
  for (const [fname, f] of Object.entries(r.decl.fields)) {
    if (f.type !== "many" || ids.length === 0) continue;
    const m = manyTable(r.module.declaration, r.name, fname, f.to);
    const target = targetOf(r, f.to).table;
    const linked = await queryRows<{ owner: number; uid: string }>(
      db,
      sql`SELECT l.${sql.identifier(m.from)} AS owner, t.uid FROM ${sql.identifier(m.name)} l
        JOIN ${sql.identifier(target)} t ON t.id = l.${sql.identifier(m.to)}
        WHERE l.${sql.identifier(m.from)} IN (${sql.join(
          ids.map((i) => sql`${i}`),
          sql`, `,
        )}) ORDER BY l.id`,
    );
    const byOwner = new Map<number, string[]>();
    for (const l of linked)
      byOwner.set(Number(l.owner), [...(byOwner.get(Number(l.owner)) ?? []), l.uid]);
    many.set(fname, byOwner);
  }
  // the run that made each record, by uid (lineage, as LaminDB's `record.run`)
  const runIds = [...new Set(rows.map((row) => row.run_id).filter((v) => v != null))];
  const runs = new Map<number, string>();
  if (runIds.length > 0) {
    const found = await queryRows<{ id: number; uid: string }>(
      db,
      sql`SELECT id, uid FROM lamindb_run WHERE id IN (${sql.join(
        runIds.map((i) => sql`${i}`),
        sql`, `,
      )})`,
    );
    for (const x of found) runs.set(Number(x.id), x.uid);
  }
  return rows.map((row) => {
    const out: ModuleRecord = { uid: String(row.uid) };
    for (const [fname, f] of Object.entries(r.decl.fields)) {
      if (f.type === "many") {
        out[fname] = many.get(fname)?.get(Number(row.id)) ?? [];
      } else if (f.type === "ref") {
        const id = row[`${fname}_id`];
        out[fname] = id == null ? null : (uids.get(fname)?.get(Number(id)) ?? null);
      } else if (f.type === "duration") {
        out[fname] = row[fname] == null ? null : isoDuration(row[fname]);
      } else {
        const v = row[fname];
        out[fname] = v instanceof Date ? v.toISOString() : (v ?? null);
      }
    }
    out.created_at = row.created_at instanceof Date ? row.created_at.toISOString() : row.created_at;
    out.run = row.run_id == null ? null : (runs.get(Number(row.run_id)) ?? null);
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
  const { row, links } = await fieldValues(target.db, r, values, false);
  const creator = userId ?? target.user?.id;
  if (creator === undefined) throw new ValidationError("no user to create the record as");
  const uid = randomBase62(MODULE_UID_LENGTH);
  // made by the run the caller tracks (lamin track), as artifacts are
  const run = currentRun(target)?.id ?? null;
  await unique(r, async () => {
    // the record and its many-to-many links, all or nothing
    await target.db.transaction(async (tx) => {
      const [made] = (await tx
        .insert(r.table)
        .values({ ...row, uid, created_by_id: creator, run_id: run } as never)
        .returning({ id: col(r.table, "id") as PgColumn })) as { id: number }[];
      await writeLinks(tx, Number(made?.id), links, false);
    });
  });
  return (await listModuleRecords(target, registry, { uid }))[0] as ModuleRecord;
}

type Links = { table: string; from: string; to: string; ids: number[] }[];

/**
 * Column values and many-to-many links from field values, each checked by its field; `partial`
 * (an update): only the fields given, and a required one may not become empty.
 */
async function fieldValues(
  db: Db,
  r: Resolved,
  values: Record<string, unknown>,
  partial: boolean,
): Promise<{ row: Record<string, unknown>; links: Links }> {
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
  const links: Links = [];
  for (const [fname, f] of Object.entries(r.decl.fields)) {
    if (partial && !Object.hasOwn(values, fname)) continue;
    const v = coerce(fname, f, values[fname], r.qualified);
    if (f.type === "many") {
      const m = manyTable(r.module.declaration, r.name, fname, f.to);
      if (v === null && !partial) continue;
      const ids: number[] = [];
      for (const ref of (v ?? []) as string[]) ids.push(await refId(db, r, f.to, ref));
      links.push({ table: m.name, from: m.from, to: m.to, ids });
      continue;
    }
    if (v === null) {
      if ("required" in f && f.required) {
        throw new ValidationError(`a ${r.qualified} needs a ${fname}`, `give ${fname}=...`);
      }
      if (partial) row[f.type === "ref" ? `${fname}_id` : fname] = null;
      continue;
    }
    row[f.type === "ref" ? `${fname}_id` : fname] =
      f.type === "ref" ? await refId(db, r, f.to, v as string) : v;
  }
  return { row, links };
}

/** Many-to-many links of record `id`; `replace`: the given sets replace what it had. */
async function writeLinks(tx: Db, id: number, links: Links, replace: boolean): Promise<void> {
  for (const l of links) {
    if (replace) {
      await tx.execute(
        sql`DELETE FROM ${sql.identifier(l.table)} WHERE ${sql.identifier(l.from)} = ${id}`,
      );
    }
    for (const to of l.ids) {
      await tx.execute(
        sql`INSERT INTO ${sql.identifier(l.table)} (${sql.identifier(l.from)}, ${sql.identifier(l.to)})
          VALUES (${id}, ${to}) ON CONFLICT DO NOTHING`,
      );
    }
  }
}

/** A unique field's value taken already: a ConflictError saying so. */
async function unique<T>(r: Resolved, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (sqlState(error) === "23505") {
      throw new ConflictError(
        `a ${r.qualified} with these unique values exists already`,
        `list them: lamin module records ${r.qualified}`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** The row id of a record by uid (in the trash too, with `trashed`). */
async function recordId(db: Db, r: Resolved, uid: string, trashed = false): Promise<number> {
  if (!/^[A-Za-z0-9]{1,20}$/.test(uid)) {
    throw new ValidationError(`invalid uid '${uid.slice(0, 40)}'`, "a uid is letters and digits");
  }
  const where = [eq(col(r.table, "uid") as PgColumn, uid)];
  if (!trashed) where.push(sql`${col(r.table, "branch_id")} <> -1`);
  const [row] = (await db
    .select({ id: col(r.table, "id") as PgColumn })
    .from(r.table)
    .where(and(...where))) as { id: number }[];
  if (!row) {
    throw new NotFoundError(
      `no ${r.qualified} with uid '${uid}'`,
      `list them: lamin module records ${r.qualified}`,
    );
  }
  return Number(row.id);
}

/**
 * Change fields of a record of a module registry (as create checks them; a `many` field's list
 * replaces its links). Nothing is written when a value is wrong.
 */
export async function updateModuleRecord(
  target: HasDb,
  registry: string,
  uid: string,
  values: Record<string, unknown>,
): Promise<ModuleRecord> {
  const r = await resolve(target, registry);
  const { row, links } = await fieldValues(target.db, r, values, true);
  if (Object.keys(row).length === 0 && links.length === 0) {
    throw new ValidationError(`nothing to change of the ${r.qualified}`, "give field=value pairs");
  }
  const id = await recordId(target.db, r, uid);
  await unique(r, () =>
    target.db.transaction(async (tx) => {
      if (Object.keys(row).length > 0) {
        await tx
          .update(r.table)
          .set({ ...row, updated_at: new Date() } as never)
          .where(eq(col(r.table, "id") as PgColumn, id));
      }
      await writeLinks(tx, id, links, true);
    }),
  );
  return (await listModuleRecords(target, registry, { uid }))[0] as ModuleRecord;
}

/**
 * Delete a record of a module registry: to the trash (as LaminDB's `delete()`), or for good with
 * `permanent` (refused while artifacts or records are annotated with it, or records point to it).
 */
export async function deleteModuleRecord(
  target: HasDb,
  registry: string,
  uid: string,
  opts: { permanent?: boolean } = {},
): Promise<{ uid: string; deleted: "trash" | "permanent" }> {
  const r = await resolve(target, registry);
  const id = await recordId(target.db, r, uid, opts.permanent === true);
  const byId = eq(col(r.table, "id") as PgColumn, id);
  if (!opts.permanent) {
    await target.db
      .update(r.table)
      .set({ branch_id: -1, updated_at: new Date() } as never)
      .where(byId);
    return { uid, deleted: "trash" };
  }
  try {
    await target.db.delete(r.table).where(byId);
  } catch (error) {
    if (sqlState(error) === "23503") {
      throw new ConflictError(
        `the ${r.qualified} ${uid} is still used (an annotation, or a record that points to it)`,
        "remove those first; nothing was deleted",
        { cause: error },
      );
    }
    throw error;
  }
  return { uid, deleted: "permanent" };
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
