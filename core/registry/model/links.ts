/**
 * The links of declared registries (`many` fields of core/registry/model/model.ts): naming the targets
 * (a uid, a stem for the latest version, or another declared column such as a name or a handle),
 * the columns a link row carries besides its ends (a role, a config, a feature), refusing cycles
 * in hierarchies, and reading the links of a page of records in one query per relation.
 */
import { and, asc, desc, eq, getTableName, inArray, ne, type SQL, sql } from "drizzle-orm";
import { alias, type PgColumn, type PgTable } from "drizzle-orm/pg-core";
import { queryRows } from "../../db/client.js";
import * as t from "../../db/schema.js";
import { NotFoundError, ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import { TRASH } from "../common/branch.js";
import { uidMatches } from "../common/versions.js";
import { currentRun } from "../lineage/run-context.js";
import { checkInput, type ManyField } from "./model.js";

type Db = Instance["db"];
type Runner = Pick<Db, "select" | "insert" | "delete" | "execute">;

/** A column of a table by property name (undefined when the table has none). */
const columnOf = (table: object, property: string) =>
  (table as Record<string, PgColumn | undefined>)[property];

/** The TypeScript property under which drizzle keeps `column` of `table`. */
function propertyOf(table: object, column: PgColumn): string {
  for (const [k, v] of Object.entries(table)) if (v === column) return k;
  throw new Error(`${column.name} is not a column of ${getTableName(table as PgTable)}`);
}

// ------------------------------------------------------------------ naming targets

/** The uid stem of versioned tables: a stem names the latest version of a family. */
const STEMS = new WeakMap<object, number>();

/** Say that `table`'s uids have a stem of `stem` characters (versioned registries). */
export function versionedTarget(table: object, stem: number): void {
  STEMS.set(table, stem);
}

/** How a relation's targets are named in messages: `parents` -> `parent`. */
const singular = (relation: string) =>
  relation
    .replace(/ies$/, "y")
    .replace(/(ch|sh|ss)es$/, "$1")
    .replace(/s$/, "");

/**
 * The ids of the live rows `refs` name, in order: each ref is tried against the `match` columns
 * in turn (a uid wins over a name; a stem of a versioned table names its latest version). A
 * missing one is an error naming it; the trash does not count.
 */
export async function resolveTargets(
  db: Pick<Db, "select">,
  f: Pick<ManyField<unknown>, "target" | "match">,
  refs: readonly string[],
  relation: string,
): Promise<number[]> {
  const target = f.target;
  const branch = columnOf(target, "branchId");
  const isLatest = columnOf(target, "isLatest");
  const stem = STEMS.get(target);
  const ids: number[] = [];
  for (const ref of refs) {
    let id: number | undefined;
    for (const property of f.match) {
      const column = columnOf(target, property) as PgColumn;
      const where: SQL = property === "uid" ? uidMatches(column, ref, stem) : eq(column, ref);
      const [hit] = await db
        .select({ id: target.id })
        .from(target as PgTable)
        .where(and(where, ...(branch ? [ne(branch, TRASH)] : [])))
        // a stem: the latest version; a name: the first row so named (LaminDB's exact match)
        .orderBy(
          ...(property === "uid"
            ? [...(isLatest ? [desc(isLatest)] : []), desc(target.id)]
            : [asc(target.id)]),
        )
        .limit(1);
      if (hit) {
        id = hit.id as number;
        break;
      }
    }
    if (id === undefined) {
      throw new NotFoundError(
        `no ${singular(relation)} with ${f.match.join(" or ")} ${ref.slice(0, 100)}`,
        `check the ${f.match.join(" or ")}${branch ? " (the trash does not count)" : ""}`,
      );
    }
    ids.push(id);
  }
  return ids;
}

// ------------------------------------------------------------------ link columns

/** The live feature a name or uid names (a uid wins). */
async function featureId(db: Pick<Db, "select">, ref: string): Promise<number> {
  const f = t.feature;
  const [hit] = await db
    .select({ id: f.id })
    .from(f)
    .where(and(sql`(${f.uid} = ${ref} OR ${f.name} = ${ref})`, ne(f.branchId, TRASH)))
    .orderBy(sql`${f.uid} = ${ref} DESC`, asc(f.id))
    .limit(1);
  if (!hit) {
    throw new NotFoundError(
      `no feature '${ref.slice(0, 100)}'`,
      "create it first (lamin feature create NAME --dtype DTYPE) or check its name",
    );
  }
  return hit.id;
}

/**
 * The link-column values of a change, checked: only the relation's columns, each by its input
 * (an added link needs its required ones), features resolved to ids. Keyed by link property.
 */
async function columnValues(
  db: Pick<Db, "select">,
  f: ManyField<unknown>,
  relation: string,
  given: Record<string, unknown>,
  change: "add" | "remove",
): Promise<Record<string, unknown>> {
  const columns = f.columns ?? {};
  const unknown = Object.keys(given).filter((k) => given[k] !== undefined && !(k in columns));
  if (unknown.length) {
    const known = Object.keys(columns);
    throw new ValidationError(
      `a link to ${relation} takes no ${unknown.map((k) => `'${k.slice(0, 50)}'`).join(", ")}`,
      known.length ? `a link to ${relation} takes ${known.join(", ")}` : "leave it out",
    );
  }
  const out: Record<string, unknown> = {};
  for (const [name, c] of Object.entries(columns)) {
    const value = given[name];
    // removing: an absent value removes the links whatever it is
    if (change === "remove" && (value === undefined || value === null)) continue;
    const checked = checkInput(name, c.input, value, `link to ${relation}`);
    out[propertyOf(f.link, c.column)] =
      c.feature && checked !== null ? await featureId(db, checked as string) : checked;
  }
  return out;
}

// ------------------------------------------------------------------ changing links

/** Refuse `relation` unless it is a writable link of `fields`, naming the ones there are. */
export function writableLink(
  fields: Record<string, { kind: string }>,
  relation: string,
  registry: string,
): ManyField<unknown> {
  const f = fields[relation] as ManyField<unknown> | undefined;
  if (!Object.hasOwn(fields, relation) || f?.kind !== "many" || !f.write) {
    const known = Object.entries(fields)
      .filter(([, x]) => x.kind === "many" && (x as ManyField<unknown>).write)
      .map(([k]) => k);
    throw new ValidationError(
      `a ${registry} has no relation '${String(relation).slice(0, 100)}' to change`,
      known.length
        ? `relations of a ${registry}: ${known.join(", ")}`
        : `a ${registry}'s links cannot be changed`,
    );
  }
  return f;
}

/** Check what a caller sends as targets: a list of strings, at most 10,000. */
export function checkTargets(targets: unknown, relation: string, example: string): string[] {
  if (!Array.isArray(targets) || targets.some((x) => typeof x !== "string")) {
    throw new ValidationError(`${relation} must be a list of uids`, `e.g. ["${example}"]`);
  }
  if (targets.length > 10_000) {
    throw new ValidationError(`at most 10,000 ${relation} at a time`, "send several requests");
  }
  return [...new Set(targets as string[])];
}

/**
 * Link the row `ownerId` to the rows `refs` name through `f` (in the caller's transaction).
 * Links that exist are kept; an acyclic relation refuses a link that would close a cycle.
 */
export async function addLinks(
  tx: Runner,
  instance: Instance,
  f: ManyField<unknown>,
  relation: string,
  ownerId: number,
  refs: readonly string[],
  values: Record<string, unknown> = {},
): Promise<void> {
  const columns = await columnValues(tx, f, relation, values, "add");
  const ids = await resolveTargets(tx, f, refs, relation);
  const link = f.link as unknown as Record<string, unknown>;
  for (const id of ids) {
    if (f.write?.acyclic) await refuseCycle(tx, f, ownerId, id, relation);
    await tx
      .insert(f.link)
      .values({
        [propertyOf(f.link, f.from)]: ownerId,
        [propertyOf(f.link, f.to)]: id,
        ...columns,
        ...("createdById" in link ? { createdById: instance.user.id } : {}),
        ...("runId" in link ? { runId: currentRun(instance)?.id ?? null } : {}),
      })
      .onConflictDoNothing();
  }
}

/** Remove the links of `ownerId` to the rows `refs` name (only those with the given values). */
export async function removeLinks(
  tx: Runner,
  f: ManyField<unknown>,
  relation: string,
  ownerId: number,
  refs: readonly string[],
  values: Record<string, unknown> = {},
): Promise<void> {
  const columns = await columnValues(tx, f, relation, values, "remove");
  const ids = await resolveTargets(tx, f, refs, relation);
  if (ids.length === 0) return;
  const link = f.link as unknown as Record<string, PgColumn>;
  await tx
    .delete(f.link)
    .where(
      and(
        eq(f.from, ownerId),
        inArray(f.to, ids),
        ...Object.entries(columns).map(([k, v]) =>
          v === null ? sql`${link[k]} IS NULL` : eq(link[k] as PgColumn, v),
        ),
      ),
    );
}

/**
 * Refuse linking `from` to `to` through a relation of a table to itself when `from` is `to` or
 * is already reachable from `to` (parents, predecessors: a hierarchy has no cycles).
 */
async function refuseCycle(
  tx: Pick<Db, "execute">,
  f: ManyField<unknown>,
  from: number,
  to: number,
  relation: string,
): Promise<void> {
  const table = sql.raw(`"${getTableName(f.link)}"`);
  const fromCol = sql.raw(`"${f.from.name}"`);
  const toCol = sql.raw(`"${f.to.name}"`);
  const rows = await queryRows<{ id: number }>(
    tx as Db,
    sql`WITH RECURSIVE up(id) AS (
      SELECT ${to}::bigint
      UNION SELECT l.${toCol} FROM ${table} l JOIN up ON l.${fromCol} = up.id
    ) SELECT id FROM up WHERE id = ${from} LIMIT 1`,
  );
  if (rows.length > 0) {
    throw new ValidationError(
      from === to
        ? `a record cannot be among its own ${relation}`
        : `this link would make a cycle: the ${singular(relation)} already comes after the record`,
      `${relation} form a hierarchy without cycles; pick another`,
    );
  }
}

// ------------------------------------------------------------------ reading links

/**
 * The links of `f` of the rows `ownerIds`, in link order, by owner: `via` values, or with link
 * columns one object per link (`{ handle: "alice", role: "owner" }`; a feature by its name).
 */
export async function readLinks(
  db: Pick<Db, "select">,
  f: ManyField<unknown>,
  ownerIds: readonly number[],
): Promise<Map<number, unknown[]>> {
  const columns = Object.entries(f.columns ?? {});
  const features = new Map(
    columns
      .filter(([, c]) => c.feature)
      .map(([name, c]) => [name, { c, table: alias(t.feature, `link_${name}`) }]),
  );
  const selected: Record<string, PgColumn> = {
    owner: f.from,
    value: columnOf(f.target, f.via) as PgColumn,
  };
  for (const [name, c] of columns) {
    selected[`c_${name}`] = features.get(name)?.table.name ?? c.column;
  }
  let query = db
    .select(selected)
    .from(f.link)
    .innerJoin(f.target as PgTable, eq(f.to, f.target.id))
    .$dynamic();
  for (const { c, table } of features.values()) {
    query = query.leftJoin(table, eq(c.column, table.id));
  }
  const links = await query.where(inArray(f.from, [...ownerIds])).orderBy(asc(f.link.id));
  const byOwner = new Map<number, unknown[]>();
  for (const l of links as Record<string, unknown>[]) {
    const entry = columns.length
      ? Object.fromEntries([
          [f.via, l.value],
          ...columns.map(([name]) => [name, l[`c_${name}`] ?? null]),
        ])
      : l.value;
    const list = byOwner.get(l.owner as number);
    if (list) list.push(entry);
    else byOwner.set(l.owner as number, [entry]);
  }
  return byOwner;
}
