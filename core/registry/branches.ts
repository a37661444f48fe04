/**
 * Branches (LaminDB's `Branch`, `lamin switch`, `lamin merge`): logical branching. Every record
 * carries the `branch_id` it lives on; a session writes to its current branch and reads it plus
 * `main`; merging moves the source branch's rows onto the target and leaves one `is_latest`
 * per version family there (lamindb/setup/_merge.py, models/_is_versioned.py). See docs/branches.md.
 */
import { eq, sql } from "drizzle-orm";
import { queryRows, sqlState } from "../db/client.js";
import * as t from "../db/schema.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { Instance } from "../instance.js";
import { UID_LENGTHS } from "../uid.js";
import {
  ARCHIVE,
  BRANCH_STATUS,
  type BranchStatus,
  branchStatusOf,
  type CurrentBranch,
  MAIN,
  TRASH,
} from "./common/branch.js";
import { LOCK, lock } from "./common/locks.js";
import { insertNamed } from "./common/named.js";

export interface Branch {
  uid: string;
  name: string;
  description: string | null;
  status: BranchStatus;
  created_at: string;
  created_by: string;
  /** Whether this session writes to it. */
  current: boolean;
}

export interface MergeResult {
  source: string;
  target: string;
  /** Rows moved, per table (only tables with rows on the source branch). */
  moved: Record<string, number>;
  /** Versions on the target that stopped being the latest (a newer one came from the source). */
  demoted: number;
}

/** A record a branch adds or changes (see `changes`). */
export interface BranchChange {
  /** The table without its `lamindb_` prefix: artifact, transform, ulabel, bionty_celltype ... */
  registry: string;
  uid: string;
  /** Its key, name or description. */
  label: string | null;
  created_by: string | null;
}

/** Keys of versioned registries: the same key on both sides of a merge is a conflict. */
const KEYED = [
  { table: "lamindb_artifact", same: "AND g.storage_id = s.storage_id", what: "artifact" },
  { table: "lamindb_transform", same: "", what: "transform" },
  { table: "lamindb_collection", same: "", what: "collection" },
] as const;

/** Tables whose rows do not live on branches although they carry `branch_id` (LaminDB's rule). */
const UNBRANCHED = new Set(["lamindb_storage", "bionty_source"]);

const NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;
const STATUSES = Object.keys(BRANCH_STATUS) as BranchStatus[];

export function validateBranchName(name: string): string {
  if (typeof name !== "string" || !NAME.test(name) || name.includes("//")) {
    throw new ValidationError(
      `'${String(name).slice(0, 120)}' is not a branch name`,
      "use 1-100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit, e.g. my_branch",
    );
  }
  return name;
}

export function validateBranchStatus(status: string): BranchStatus {
  if (!STATUSES.includes(status as BranchStatus)) {
    throw new ValidationError(
      `'${String(status).slice(0, 40)}' is not a branch status`,
      `use one of ${STATUSES.join(", ")}`,
    );
  }
  return status as BranchStatus;
}

const b = t.branch;
type Row = typeof b.$inferSelect;

export class Branches {
  constructor(private readonly instance: Instance) {}

  private get db() {
    return this.instance.db;
  }

  /** Every branch, the built-in ones first (LaminDB: `lamin list branch`). */
  async list(): Promise<Branch[]> {
    const rows = await this.db
      .select({ row: b, by: t.user.handle })
      .from(b)
      .innerJoin(t.user, eq(t.user.id, b.createdById))
      .orderBy(b.id);
    return rows.map((r) => this.toPublic(r.row, r.by));
  }

  /** A branch by name (case-insensitive, as its unique index) or uid. */
  async get(ref: string): Promise<Branch> {
    const { row, by } = await this.find(ref);
    return this.toPublic(row, by);
  }

  /** The branch row a name or uid names, for the instance's own use. */
  async resolve(ref: string): Promise<CurrentBranch> {
    const { row } = await this.find(ref);
    return { id: row.id, uid: row.uid, name: row.name };
  }

  private async find(ref: string): Promise<{ row: Row; by: string }> {
    if (typeof ref !== "string" || ref.length === 0 || ref.length > 100) {
      throw new ValidationError("name a branch by its name or uid", "e.g. lamin switch main");
    }
    const [hit] = await this.db
      .select({ row: b, by: t.user.handle })
      .from(b)
      .innerJoin(t.user, eq(t.user.id, b.createdById))
      .where(sql`lower(${b.name}) = lower(${ref}) OR ${b.uid} = ${ref}`)
      .orderBy(sql`${b.uid} = ${ref} DESC`)
      .limit(1);
    if (!hit) {
      throw new NotFoundError(
        `no branch '${ref}'`,
        "list branches with `lamin list branch`; create one with `lamin create branch NAME`",
      );
    }
    return hit;
  }

  /** A new branch (LaminDB: a name already taken, in any case, is refused). */
  async create(name: string, opts: { description?: string } = {}): Promise<Branch> {
    validateBranchName(name);
    const row = await insertNamed(this.instance, b, UID_LENGTHS.branch, name, opts.description);
    if (!row) {
      throw new ConflictError(
        `branch '${name}' already exists`,
        `switch to it with \`lamin switch ${name}\` (omit -c)`,
      );
    }
    return this.toPublic(row, this.instance.user.handle);
  }

  /** Set a branch's status (a change request: draft, review; or closed) or description. */
  async update(
    ref: string,
    changes: { status?: string; description?: string | null },
  ): Promise<Branch> {
    const status = changes.status === undefined ? undefined : validateBranchStatus(changes.status);
    const { row, by } = await this.find(ref);
    if (row.id <= MAIN) {
      throw new ValidationError(
        `'${row.name}' is a built-in branch: its status does not change`,
        "create a branch for a change request: lamin switch -c my_branch",
      );
    }
    if (status === "merged") {
      throw new ValidationError(
        "a branch becomes merged by merging it",
        `lamin switch main && lamin merge ${row.name}`,
      );
    }
    if (branchStatusOf(row.statusCode) === "merged") {
      throw new ConflictError(
        `branch '${row.name}' is merged: it no longer changes`,
        "start a new branch: lamin switch -c NAME",
      );
    }
    const [done] = await this.db
      .update(b)
      .set({
        ...(status !== undefined ? { statusCode: BRANCH_STATUS[status] } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
      })
      .where(eq(b.id, row.id))
      .returning();
    return this.toPublic(done ?? row, by);
  }

  /**
   * Merge `source` into `target` (default: the current branch). One transaction: refuse on a
   * conflict (a key with new versions on both sides since the source branch was made) and change
   * nothing; otherwise demote the target's versions that the source's newer ones replace (per
   * version family, newest `created_at` wins, as LaminDB's reconcile), move every row of the
   * source onto the target, and mark the source merged.
   */
  async merge(sourceRef: string, opts: { target?: string } = {}): Promise<MergeResult> {
    const source = await this.find(sourceRef);
    const target = opts.target
      ? (await this.find(opts.target)).row
      : await this.find(this.instance.branch.uid).then((f) => f.row);
    if (source.row.id === target.id) {
      throw new ValidationError(
        `'${source.row.name}' is the target branch itself`,
        "switch to the branch to merge into (lamin switch main), then merge",
      );
    }
    if (source.row.id <= MAIN) {
      throw new ValidationError(
        `'${source.row.name}' is a built-in branch and cannot be merged`,
        "restore records from the trash with `lamin restore`",
      );
    }
    if (target.id === TRASH || target.id === ARCHIVE) {
      throw new ValidationError(
        `cannot merge into '${target.name}'`,
        "merge into main or another branch",
      );
    }
    const status = branchStatusOf(source.row.statusCode);
    if (status === "merged" || status === "closed") {
      throw new ConflictError(
        `branch '${source.row.name}' is ${status}`,
        status === "closed"
          ? `reopen it first: lamin update branch --name ${source.row.name} --status draft`
          : "its records moved when it was merged; start a new branch: lamin switch -c NAME",
      );
    }
    const src = source.row.id;
    const tgt = target.id;
    const merged = this.db.transaction(async (tx) => {
      await lock(tx, LOCK.branch, String(src));
      await lock(tx, LOCK.branch, String(tgt));
      const conflicts: string[] = [];
      for (const k of KEYED) {
        const rows = await queryRows<{ key: string }>(
          tx as never,
          sql`SELECT DISTINCT s.key FROM ${sql.raw(k.table)} s JOIN ${sql.raw(k.table)} g
            ON g.key = s.key ${sql.raw(k.same)}
            WHERE s.branch_id = ${src} AND g.branch_id = ${tgt} AND s.key IS NOT NULL
              AND g.created_at > ${source.row.createdAt}
            ORDER BY s.key LIMIT 20`,
        );
        conflicts.push(...rows.map((r) => `${k.what} '${r.key}'`));
      }
      if (conflicts.length > 0) {
        throw new ConflictError(
          `cannot merge '${source.row.name}' into '${target.name}': versioned on both since the branch was made: ${conflicts.join(", ")}`,
          `nothing was changed; keep one side (delete the other version, or save it again on '${target.name}' after merging), then merge again`,
        );
      }
      const tables = await queryRows<{ table: string; versioned: boolean }>(
        tx as never,
        sql`SELECT c.table_name AS "table",
              bool_or(v.column_name IS NOT NULL) AS versioned
            FROM information_schema.columns c
            JOIN information_schema.columns o ON o.table_schema = c.table_schema
              AND o.table_name = c.table_name AND o.column_name = 'created_on_id'
            LEFT JOIN information_schema.columns v ON v.table_schema = c.table_schema
              AND v.table_name = c.table_name AND v.column_name = 'is_latest'
            WHERE c.table_schema = current_schema() AND c.column_name = 'branch_id'
            GROUP BY c.table_name ORDER BY c.table_name`,
      );
      let demoted = 0;
      const moved: Record<string, number> = {};
      for (const { table, versioned } of tables) {
        if (UNBRANCHED.has(table)) continue;
        const tbl = sql.raw(`"${table.replace(/"/g, '""')}"`);
        if (versioned) {
          // one latest per family across both sides, before the move: the one-latest-per-key
          // index on main is checked row by row
          const stem = sql`left(uid, length(uid) - 4)`;
          const d = await queryRows<{ id: number }>(
            tx as never,
            sql`UPDATE ${tbl} SET is_latest = false WHERE id IN (
              SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY ${stem}
                ORDER BY created_at DESC, id DESC) AS rn
                FROM ${tbl} WHERE branch_id IN (${src}, ${tgt}) AND is_latest
                  AND ${stem} IN (SELECT ${stem} FROM ${tbl} WHERE branch_id = ${src} AND is_latest)
              ) r WHERE rn > 1) RETURNING id`,
          );
          demoted += d.length;
        }
        const m = await queryRows<{ n: number }>(
          tx as never,
          sql`WITH m AS (UPDATE ${tbl} SET branch_id = ${tgt} WHERE branch_id = ${src} RETURNING 1)
            SELECT count(*)::int AS n FROM m`,
        );
        const n = m[0]?.n ?? 0;
        if (n > 0) moved[table] = n;
      }
      await tx.update(b).set({ statusCode: BRANCH_STATUS.merged }).where(eq(b.id, src));
      return { source: source.row.name, target: target.name, moved, demoted };
    });
    return merged.catch((error: unknown) => {
      // a uniqueness the checks above did not foresee (e.g. the same content under one key
      // saved on both sides): still a conflict, and the transaction changed nothing
      if (sqlState(error) !== "23505") throw error;
      throw new ConflictError(
        `cannot merge '${source.row.name}' into '${target.name}': a record exists on both sides (${(error as Error).message.slice(0, 200)})`,
        "nothing was changed; delete one side's record, then merge again",
        { cause: error },
      );
    });
  }

  /**
   * The change a branch makes (a change request's "files changed"): the records on it now, per
   * table, newest first, at most `limit` per table. A merged branch has none left: its records
   * are on the target (their `created_on` still names it).
   */
  async changes(ref: string, opts: { limit?: number } = {}): Promise<BranchChange[]> {
    const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 100), 1), 1000);
    const { row } = await this.find(ref);
    const tables = await queryRows<{ table: string; label: string | null }>(
      this.db,
      sql`SELECT c.table_name AS "table", (SELECT l.column_name FROM information_schema.columns l
            WHERE l.table_schema = c.table_schema AND l.table_name = c.table_name
              AND l.column_name IN ('key', 'name', 'description')
            ORDER BY array_position(ARRAY['key', 'name', 'description'], l.column_name::text)
            LIMIT 1) AS label
          FROM information_schema.columns c
          JOIN information_schema.columns o ON o.table_schema = c.table_schema
            AND o.table_name = c.table_name AND o.column_name = 'created_on_id'
          JOIN information_schema.columns u ON u.table_schema = c.table_schema
            AND u.table_name = c.table_name AND u.column_name = 'uid'
          WHERE c.table_schema = current_schema() AND c.column_name = 'branch_id'
          ORDER BY c.table_name`,
    );
    const out: BranchChange[] = [];
    for (const { table, label } of tables) {
      if (UNBRANCHED.has(table)) continue;
      const tbl = sql.raw(`"${table.replace(/"/g, '""')}"`);
      const labelSql = label ? sql.raw(`r."${label}"::text`) : sql`NULL`;
      const rows = await queryRows<{ uid: string; label: string | null; by: string | null }>(
        this.db,
        sql`SELECT r.uid, ${labelSql} AS label, u.handle AS by FROM ${tbl} r
          LEFT JOIN lamindb_user u ON u.id = r.created_by_id
          WHERE r.branch_id = ${row.id} ORDER BY r.id DESC LIMIT ${limit}`,
      );
      for (const r of rows) {
        out.push({
          registry: table.replace(/^lamindb_/, ""),
          uid: r.uid,
          label: r.label,
          created_by: r.by,
        });
      }
    }
    return out;
  }

  private toPublic(row: Row, by: string): Branch {
    return {
      uid: row.uid,
      name: row.name,
      description: row.description,
      status: branchStatusOf(row.statusCode),
      created_at: row.createdAt.toISOString(),
      created_by: by,
      current: row.id === this.instance.branch.id,
    };
  }
}
