/**
 * What the record registries share: the fields every record carries, list (keyset pages; the
 * trash is hidden unless the filter names branch_id, id, uid or hash), get by uid, and the frame
 * of a create: decided in a transaction under advisory locks on the key or name, so concurrent
 * creates of the same thing settle on one row.
 */
import {
  and,
  asc,
  type Column,
  desc,
  eq,
  type GetColumnData,
  inArray,
  ne,
  type SQL,
} from "drizzle-orm";
import type { PgColumn, PgTable, SelectedFields } from "drizzle-orm/pg-core";
import type { Db } from "../../db/client.js";
import * as t from "../../db/schema.js";
import { NotFoundError, ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import { branchName, TRASH } from "../common/branch.js";
import { lock } from "../common/locks.js";
import { latestFirst, uidMatches } from "../common/versions.js";
import {
  type CursorKeys,
  exactKeys,
  keysetPage,
  type Page,
  type PageOptions,
} from "../model/paging.js";
import { buildConditions, type FieldMap, type Filter, mentions } from "../model/query.js";

export const MAX_DESCRIPTION = 10_000;

// ------------------------------------------------------------------ public shapes

/** Every record carries these (LaminDB's field names; `created_by` is the user's handle). */
export interface Tracked {
  /** `main`, `trash` or `archive`. */
  branch: string;
  created_at: string;
  updated_at: string;
  created_by: string;
}

/** `created`/`new-version`: a new row; `existing`/`restored`: one that was already there. */
export type CreateStatus = "created" | "new-version" | "existing" | "restored";

export interface CreateResult<T> {
  record: T;
  status: CreateStatus;
  /** Something the caller should know, e.g. that the existing record has another key. */
  note?: string;
}

export interface RecordListOptions extends PageOptions {
  filter?: Filter;
}

// ------------------------------------------------------------------ rows and specs

interface BaseRow {
  id: number;
  uid: string;
  createdAt: Date;
  /** Absent in tables that record no updates (blocks): `created_at` stands in. */
  updatedAt?: Date;
  branchId: number;
}

/** A fetched row with its creator's handle and the exact keys of its timestamps. */
export interface Selected extends CursorKeys {
  row: BaseRow;
  createdBy: string;
}

export type Keyed<R extends BaseRow> = Omit<Selected, "row"> & { row: R };

/** The columns every record table has. */
type RecordTable = PgTable & {
  id: Column;
  createdAt: Column;
  updatedAt?: Column;
  branchId: Column;
  createdById: Column;
};

export interface Spec {
  /** Registry name in messages: `transform`. */
  name: string;
  /** And in the plural, as in the route: `transforms`. */
  plural: string;
  fields: FieldMap;
  table: {
    id: Column;
    uid: Column;
    createdAt: Column;
    updatedAt: Column;
    branchId: Column;
    isLatest?: Column;
  };
  uid: RegExp;
  uidHint: string;
  /** Versioned registries: a uid this long is a stem and addresses the latest version. */
  stem?: number;
}

export type Transaction = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** How a create was decided: which row answers, and how it came about. */
export interface Decision {
  id: number;
  status: CreateStatus;
  note?: string | undefined;
}

/** A query of a registry's rows, to narrow down, order and limit. */
interface Query<S> {
  where(where: SQL | undefined): {
    orderBy(...columns: SQL[]): { limit(limit: number): PromiseLike<S[]> };
  };
}

// ------------------------------------------------------------------ the registry

export abstract class RecordRegistry<S extends Selected, P> {
  constructor(protected readonly instance: Instance) {}

  protected abstract readonly spec: Spec;

  protected get db() {
    return this.instance.db;
  }

  /** Rows with their joins, as the public shape needs them (see `selectTracked`). */
  protected abstract select(): Query<S>;

  protected abstract toPublic(s: S): P;

  protected async fetch(where: SQL | undefined, orderBy: SQL[], limit: number): Promise<S[]> {
    return this.select()
      .where(where)
      .orderBy(...orderBy)
      .limit(limit);
  }

  protected async shape(rows: S[]): Promise<P[]> {
    return rows.map((r) => this.toPublic(r));
  }

  /** Filterable fields (lookups take operators: `name__startswith`, `created_at__gt`, ...). */
  get filterFields(): string[] {
    return Object.keys(this.spec.fields);
  }

  /** A page of records, newest first unless `orderBy` says otherwise; the trash is hidden. */
  async list(opts: RecordListOptions = {}): Promise<Page<P>> {
    return this.listWhere(opts, opts.filter ?? {}, []);
  }

  /**
   * A page of records matching `filter` (field lookups) and `extra` conditions (feature values,
   * labels: see Runs.list); the trash is hidden unless the filter names branch_id, id, uid or hash.
   */
  protected async listWhere(
    opts: RecordListOptions,
    filter: Filter,
    extra: SQL[],
  ): Promise<Page<P>> {
    const { table, fields, name } = this.spec;
    const conditions = [...buildConditions(fields, filter, name), ...extra];
    if (!mentions(opts.filter ?? {}, ["branch_id", "id", "uid", "hash"])) {
      conditions.push(inArray(table.branchId, this.instance.visibleBranchIds));
    }
    return keysetPage(
      table,
      conditions,
      opts,
      (where, orderBy, limit) => this.fetch(where, orderBy, limit),
      (rows) => this.shape(rows),
    );
  }

  /** One record by uid; for versioned registries a stem gives the latest version. */
  async get(uid: string): Promise<P> {
    return this.one(await this.find(uid));
  }

  protected async find(uid: string): Promise<S> {
    const { table, stem, name, plural } = this.spec;
    if (typeof uid !== "string" || !this.spec.uid.test(uid)) {
      throw new ValidationError(
        `'${String(uid).slice(0, 100)}' is not a ${name} uid`,
        this.spec.uidHint,
      );
    }
    const { isLatest } = table;
    const order = isLatest ? latestFirst({ ...table, isLatest }) : [desc(table.id)];
    const [hit] = await this.fetch(uidMatches(table.uid, uid, stem), order, 1);
    if (!hit) {
      throw new NotFoundError(
        `no ${name} with uid ${uid}`,
        `list ${plural} to find the uid (GET /${plural})`,
      );
    }
    return hit;
  }

  protected async byId(id: number): Promise<P> {
    const [hit] = await this.fetch(eq(this.spec.table.id, id), [], 1);
    if (!hit) throw new NotFoundError(`${this.spec.name} ${id} vanished`, "try again");
    return this.one(hit);
  }

  private async one(s: S): Promise<P> {
    return (await this.shape([s]))[0] as P;
  }

  /** The answer of a create: the record it decided on. */
  protected async result({ id, status, note }: Decision): Promise<CreateResult<P>> {
    return { record: await this.byId(id), status, ...(note ? { note } : {}) };
  }

  /**
   * Decide a create in a transaction that first takes the advisory `locks` ([namespace, value]),
   * then answer with the record that was decided on.
   */
  protected async decide(
    locks: [number, string][],
    decide: (tx: Transaction) => Promise<Decision>,
  ): Promise<CreateResult<P>> {
    const decided = await this.db.transaction(async (tx) => {
      for (const [namespace, value] of locks) await lock(tx, namespace, value);
      return decide(tx);
    });
    return this.result(decided);
  }
}

// ------------------------------------------------------------------ helpers

/** Rows of `table` with their creator's handle and exact timestamps (and `extra` fields). */
export function selectTracked<T extends RecordTable, E extends SelectedFields>(
  db: Db,
  table: T,
  extra?: E,
) {
  return db
    .select({
      row: table,
      createdBy: t.user.handle,
      ...exactKeys({ createdAt: table.createdAt, updatedAt: table.updatedAt ?? table.createdAt }),
      ...(extra as E),
    })
    .from(table as PgTable)
    .innerJoin(t.user, eq(table.createdById, t.user.id));
}

/**
 * The first live record named `name` that `where` also matches (LaminDB's exact-name match,
 * `search_names`), with the given fields.
 */
export async function firstNamed<F extends Record<string, PgColumn>>(
  tx: Transaction,
  table: PgTable & { id: Column; name: Column; branchId: Column },
  fields: F,
  name: string,
  ...where: SQL[]
): Promise<{ [K in keyof F]: GetColumnData<F[K]> } | undefined> {
  const [hit] = await tx
    .select(fields as SelectedFields)
    .from(table)
    .where(and(eq(table.name, name), ...where, ne(table.branchId, TRASH)))
    .orderBy(asc(table.id))
    .limit(1);
  return hit as { [K in keyof F]: GetColumnData<F[K]> } | undefined;
}

/** The row an insert returned, as a new record. */
export const created = (rows: { id: number }[]): Decision => ({
  id: (rows[0] as { id: number }).id,
  status: "created",
});

export function tracked(s: Selected): Tracked {
  return {
    branch: branchName(s.row.branchId),
    created_at: s.row.createdAt.toISOString(),
    updated_at: (s.row.updatedAt ?? s.row.createdAt).toISOString(),
    created_by: s.createdBy,
  };
}

/** Filter fields of every registry. */
export const common = (table: Spec["table"]): FieldMap => ({
  id: { column: table.id, type: "integer" },
  uid: { column: table.uid, type: "string" },
  branch_id: { column: table.branchId, type: "integer" },
  created_at: { column: table.createdAt, type: "date" },
  updated_at: { column: table.updatedAt, type: "date" },
  created_by__handle: { column: t.user.handle, type: "string" },
});

export const base62 = (n: number) => `[0-9A-Za-z]{${n}}`;

/** uid rules of a registry without versions. */
export const plainUids = (name: string, length: number) => ({
  uid: new RegExp(`^${base62(length)}$`),
  uidHint: `a ${name} uid has ${length} base62 characters`,
});
