/** Advisory transaction locks: creates that decide on existing rows serialize on a key or name. */
import { type SQL, sql } from "drizzle-orm";

/** Anything that runs SQL: the database or a transaction. */
export type Executor = { execute: (query: SQL) => Promise<unknown> };

/** Lock namespaces, one per kind of thing locked. */
export const LOCK = {
  artifactFamily: 2,
  transform: 3,
  collection: 4,
  collectionHash: 5,
  feature: 6,
  ulabel: 7,
  project: 8,
  storageObject: 9,
  schema: 10,
  block: 12,
  branch: 13,
} as const;

/** Serialize on `value` in `namespace` until the transaction ends. */
export async function lock(tx: Executor, namespace: number, value: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${namespace}, hashtext(${value}))`);
}
