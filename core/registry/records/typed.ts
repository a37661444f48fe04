/**
 * LaminDB's `HasType` registries (ULabel, Record): a row is named under a type, and a row can
 * itself be a type of rows. One way to resolve a type reference and to get-or-create by
 * (name, type) for all of them, with the same errors.
 */
import { eq, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { ConflictError, ValidationError } from "../../errors.js";
import { TRASH } from "../common/branch.js";
import { type Decision, firstNamed, type Transaction } from "./base.js";

export type TypedTable = PgTable & {
  id: PgColumn;
  uid: PgColumn;
  name: PgColumn;
  isType: PgColumn;
  typeId: PgColumn;
  branchId: PgColumn;
};

type Runner = Pick<Transaction, "select">;

/**
 * The id of the type `ref` names: a uid, else the name of a live type (uids win: a row may be
 * named like a uid). Null when no type is given.
 */
export async function typeIdOf(
  db: Runner,
  table: TypedTable,
  registry: string,
  ref: string | null,
): Promise<number | null> {
  if (ref === null) return null;
  const [type] = (await db
    .select({ id: table.id, isType: table.isType, branchId: table.branchId })
    .from(table)
    .where(
      sql`(${table.uid} = ${ref} OR (${table.name} = ${ref} AND ${table.isType} AND ${table.branchId} <> ${TRASH}))`,
    )
    .orderBy(sql`${table.uid} = ${ref} DESC`, table.id)
    .limit(1)) as { id: number; isType: boolean; branchId: number }[];
  if (!type || type.branchId === TRASH || !type.isType) {
    throw new ValidationError(
      !type
        ? `no ${registry} with uid ${ref}, and no ${registry} type named '${ref}'`
        : type.branchId === TRASH
          ? `${registry} ${ref} is in the trash`
          : `${registry} ${ref} is not a type`,
      `pass the uid or name of a ${registry} created with is_type: true`,
    );
  }
  return type.id;
}

/**
 * The live row named `name` under the type `typeId`, else a new one from `insert`. An existing
 * row that disagrees on being a type is a conflict: the caller meant something else.
 */
export async function namedUnderType(
  tx: Transaction,
  table: TypedTable,
  registry: string,
  want: { name: string; isType: boolean; typeId: number | null },
  insert: () => Promise<{ id: number }[]>,
): Promise<Decision> {
  const ofType: SQL =
    want.typeId === null ? sql`${table.typeId} IS NULL` : eq(table.typeId, want.typeId);
  const existing = (await firstNamed(
    tx,
    table,
    { id: table.id, uid: table.uid, isType: table.isType },
    want.name,
    ofType,
  )) as { id: number; uid: string; isType: boolean } | undefined;
  if (existing) {
    if (existing.isType !== want.isType) {
      throw new ConflictError(
        `${registry} '${want.name}' already exists (${existing.uid}) and ${existing.isType ? "is" : "is not"} a type`,
        `use the existing ${registry}, or give the new one another name`,
      );
    }
    return { id: existing.id, status: "existing" };
  }
  const [row] = await insert();
  return { id: (row as { id: number }).id, status: "created" };
}
