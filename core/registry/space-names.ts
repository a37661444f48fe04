/**
 * Space names by id, so that a record can say which space it is in without a join in the tuned
 * list queries. The spaces table is tiny: it is read whole when an id is unknown (and the names
 * of spaces this process creates are added as it creates them). One cache per instance, shared by
 * its views; a restricted view's read sees only its own spaces (row-level security) and only
 * adds to the cache, and a caller is only ever told the names of spaces whose records it can see.
 */
import type { Db } from "../db/client.js";
import * as t from "../db/schema.js";

export class SpaceNames {
  private readonly names = new Map<number, string>();

  /** Remember a space this process just created (or renamed). */
  learn(id: number, name: string): void {
    this.names.set(id, name);
  }

  /** The names of these space ids: the table is read (as the caller) only for unknown ids. */
  async of(db: Db, ids: Iterable<number>): Promise<Map<number, string>> {
    const missing = [...new Set(ids)].filter((id) => !this.names.has(id));
    if (missing.length > 0) {
      // the whole table (as far as the caller sees it): it is tiny, and the next unknown id
      // is likely a space made since
      const rows = await db.select({ id: t.space.id, name: t.space.name }).from(t.space);
      for (const row of rows) this.names.set(row.id, row.name);
    }
    return this.names;
  }
}
