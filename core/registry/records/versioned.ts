/**
 * The versioned records, Transform and Collection: a key names a family, new content under the
 * key is its next version (uid stem + next suffix), and the head of the family is `is_latest`.
 */
import { sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { ValidationError } from "../../errors.js";
import { newVersionedUid, stemOf, UID_LENGTHS } from "../../uid.js";
import { MAIN } from "../common/branch.js";
import type { Executor } from "../common/locks.js";
import { familyTable, nextUid, refreshLatest } from "../common/versions.js";
import { field } from "../model/model.js";
import { created, type Decision } from "./base.js";

type Kind = "transform" | "collection" | "block";

/**
 * The public fields of a versioned registry: `version` (the tag if set, else the uid's suffix),
 * `version_tag` and `is_latest`.
 */
export function versionFields<
  T extends { uid: PgColumn; versionTag: PgColumn; isLatest: PgColumn },
>(table: T, kind: Kind | "artifact") {
  const { stem } = UID_LENGTHS[kind];
  return {
    version: field.computed(
      "string",
      (r) => (r.versionTag as string | null) ?? (r.uid as string).slice(stem),
      { doc: "the version tag if set, else the uid's 4-character suffix", example: "0000" },
    ),
    version_tag: field.column(table.versionTag as T["versionTag"]),
    is_latest: field.column(table.isLatest as T["isLatest"]),
  };
}

type FamilyColumn = "id" | "uid" | "hash" | "branchId" | "isLatest" | "versionTag";

/** The columns a create decides with. */
export const familyColumns = <T extends Record<FamilyColumn, PgColumn>>(
  table: T,
): Pick<T, FamilyColumn> => ({
  id: table.id,
  uid: table.uid,
  hash: table.hash,
  branchId: table.branchId,
  isLatest: table.isLatest,
  versionTag: table.versionTag,
});

/** Whether a row is the head of its family on main, the one a new version follows. */
export const isHead = (r: { branchId: number; isLatest: boolean }) =>
  r.branchId === MAIN && r.isLatest;

/**
 * The row a new version follows in a session: the latest on its current branch, else main's
 * (LaminDB: a new version on a branch leaves main's latest as it is until the merge).
 */
export const headIn = <R extends { branchId: number; isLatest: boolean }>(
  rows: readonly R[],
  session: { branch: { id: number } },
): R | undefined =>
  rows.find((r) => r.isLatest && r.branchId === session.branch.id) ?? rows.find(isHead);

/** Bring a row back from the trash; `is_latest` follows for its family. */
export async function restoreVersion(
  tx: Executor,
  kind: Kind,
  row: { id: number; uid: string },
): Promise<void> {
  await tx.execute(
    sql`UPDATE ${familyTable(kind)} SET branch_id = ${MAIN}, updated_at = now() WHERE id = ${row.id}`,
  );
  await refreshLatest(tx, kind, stemOf(row.uid, kind));
}

/**
 * Insert a new row with `insert`: the next version after `head` (demoted in the same
 * transaction), or without a head the first version of a new family.
 */
export async function insertVersion(
  tx: Executor,
  kind: Kind,
  head: { id: number; uid: string; versionTag: string | null; branchId?: number } | undefined,
  versionTag: string | null,
  insert: (uid: string) => Promise<{ id: number }[]>,
  branchId: number = MAIN,
): Promise<Decision> {
  if (!head) return created(await insert(newVersionedUid(kind)));
  if (versionTag !== null && versionTag === head.versionTag) {
    throw new ValidationError(
      `version tag '${versionTag}' is already used by ${head.uid}`,
      "pass another version_tag",
    );
  }
  const uid = await nextUid(tx, kind, head.uid);
  // `is_latest` is per branch: a version on another branch leaves the head where it is
  if ((head.branchId ?? MAIN) === branchId) {
    await tx.execute(sql`UPDATE ${familyTable(kind)} SET is_latest = false WHERE id = ${head.id}`);
  }
  return { ...created(await insert(uid)), status: "new-version" };
}
