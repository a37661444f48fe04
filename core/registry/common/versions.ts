/**
 * Version families of artifacts, transforms, collections and blocks: the versions share a uid stem, the
 * 4-character suffix counts up, and `is_latest` marks the newest version on each branch.
 */
import { type Column, desc, eq, type SQL, sql } from "drizzle-orm";
import { nextVersionedUid, stemOf, type VersionedKind } from "../../uid.js";
import { TRASH } from "./branch.js";
import type { Executor } from "./locks.js";

const TABLES: Record<VersionedKind, SQL> = {
  artifact: sql.raw("lamindb_artifact"),
  transform: sql.raw("lamindb_transform"),
  collection: sql.raw("lamindb_collection"),
  block: sql.raw("lamindb_block"),
};

/** The table of a kind, for raw SQL. */
export const familyTable = (kind: VersionedKind): SQL => TABLES[kind];

/** The uids of every version of a family, trashed ones included. */
export async function familyUids(
  tx: Executor,
  kind: VersionedKind,
  stem: string,
): Promise<string[]> {
  const result = (await tx.execute(
    sql`SELECT uid FROM ${TABLES[kind]} WHERE uid LIKE ${`${stem}%`}`,
  )) as { rows: { uid: string }[] };
  return result.rows.map((r) => r.uid);
}

/** A uid for the next version after `headUid`: max suffix over the whole family, plus one. */
export async function nextUid(tx: Executor, kind: VersionedKind, headUid: string): Promise<string> {
  return nextVersionedUid(kind, headUid, await familyUids(tx, kind, stemOf(headUid, kind)));
}

/**
 * Make `is_latest` true for exactly the newest non-trashed version on each branch, preferring
 * complete versions: one whose save is still ongoing (`_aux.so = 1`: bytes not all written) is
 * the latest only while its family has no complete one. Demote first, then promote: the
 * one-latest-per-key index is checked row by row.
 */
export async function refreshLatest(
  tx: Executor,
  kind: VersionedKind,
  stem: string,
): Promise<void> {
  const table = TABLES[kind];
  const ranked = sql`SELECT id, (branch_id <> ${TRASH} AND row_number() OVER (
      PARTITION BY branch_id ORDER BY (_aux->>'so' IS NOT DISTINCT FROM '1'), created_at DESC,
      id DESC) = 1) AS should
    FROM ${table} WHERE uid LIKE ${`${stem}%`}`;
  await tx.execute(sql`UPDATE ${table} AS r SET is_latest = false FROM (${ranked}) AS s
    WHERE r.id = s.id AND r.is_latest AND NOT s.should`);
  await tx.execute(sql`UPDATE ${table} AS r SET is_latest = true FROM (${ranked}) AS s
    WHERE r.id = s.id AND NOT r.is_latest AND s.should`);
}

/** Where a uid matches; in a versioned registry a stem matches the family. */
export const uidMatches = (column: Column, uid: string, stem?: number): SQL =>
  stem !== undefined && uid.length === stem ? sql`${column} LIKE ${`${uid}%`}` : eq(column, uid);

/** The latest version first, then the newest. */
export const latestFirst = (table: { isLatest: Column; createdAt: Column; id: Column }) => [
  desc(table.isLatest),
  desc(table.createdAt),
  desc(table.id),
];
