/**
 * The versioned records, Transform and Collection: a key names a family, new content under the
 * key is its next version (uid stem + next suffix), and the head of the family is `is_latest`.
 */
import { type Column, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { ValidationError } from "../../errors.js";
import { newVersionedUid, stemOf, UID_LENGTHS } from "../../uid.js";
import { MAIN } from "../branch.js";
import type { Executor } from "../locks.js";
import type { FieldMap } from "../query.js";
import { familyTable, nextUid, refreshLatest } from "../versions.js";
import { base62, created, type Decision } from "./base.js";

type Kind = "transform" | "collection";

/** uid rules of a versioned registry: a full uid, or a stem for the latest version. */
export function versionedUids(name: string, kind: Kind) {
  const { stem, full } = UID_LENGTHS[kind];
  return {
    uid: new RegExp(`^${base62(stem)}(${base62(full - stem)})?$`),
    uidHint: `a ${name} uid has ${full} base62 characters (${stem} for the latest version of a family)`,
    stem,
  };
}

/** Filter fields of a versioned registry, besides `common` ones. */
export const versionFields = (table: {
  hash: Column;
  versionTag: Column;
  isLatest: Column;
}): FieldMap => ({
  hash: { column: table.hash, type: "string" },
  version_tag: { column: table.versionTag, type: "string" },
  is_latest: { column: table.isLatest, type: "boolean" },
});

interface VersionedRow {
  uid: string;
  versionTag: string | null;
  isLatest: boolean;
}

/** `version` (the tag if set, else the uid's suffix), `version_tag` and `is_latest`. */
export const versionOf = (r: VersionedRow, kind: Kind) => ({
  version: r.versionTag ?? r.uid.slice(UID_LENGTHS[kind].stem),
  version_tag: r.versionTag,
  is_latest: r.isLatest,
});

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
  head: { id: number; uid: string; versionTag: string | null } | undefined,
  versionTag: string | null,
  insert: (uid: string) => Promise<{ id: number }[]>,
): Promise<Decision> {
  if (!head) return created(await insert(newVersionedUid(kind)));
  if (versionTag !== null && versionTag === head.versionTag) {
    throw new ValidationError(
      `version tag '${versionTag}' is already used by ${head.uid}`,
      "pass another version_tag",
    );
  }
  const uid = await nextUid(tx, kind, head.uid);
  await tx.execute(sql`UPDATE ${familyTable(kind)} SET is_latest = false WHERE id = ${head.id}`);
  return { ...created(await insert(uid)), status: "new-version" };
}
