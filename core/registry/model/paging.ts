/**
 * Keyset paging, shared by every registry: pages ordered by created_at, updated_at or id (or a
 * registry's own sort keys: artifacts by key, size, suffix), with id as the tie-breaker, at most
 * MAX_LIMIT rows each, and an opaque cursor that names the ordering and the position after the
 * last row.
 */
import { and, asc, type Column, desc, type SQL, sql } from "drizzle-orm";
import { ValidationError } from "../../errors.js";

export const ORDER_FIELDS = ["created_at", "updated_at", "id"] as const;
export type OrderBy = (typeof ORDER_FIELDS)[number] | `-${(typeof ORDER_FIELDS)[number]}`;

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export const MAX_LIMIT = 10_000;

export interface PageOptions {
  orderBy?: OrderBy;
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/**
 * A registry's own ordering besides ORDER_FIELDS (artifacts by key, size, suffix): an
 * expression that is never NULL (so that rows compare as tuples) and its value in a fetched row.
 */
export interface SortKey<R> {
  expression: SQL;
  type: "text" | "integer";
  value(row: R): string | number;
}

interface FetchOptions<R = unknown> extends Omit<PageOptions, "orderBy"> {
  orderBy?: string;
  /** Orderings of this registry beyond ORDER_FIELDS, by name. */
  sortKeys?: Record<string, SortKey<R>>;
  /**
   * The filter is selective: fetch the matching rows through its index and sort them, rather than
   * walking the order's index and discarding rows (the planner's choice when it cannot tell).
   */
  sortAfterFilter?: boolean;
}

/** The columns a registry's rows are ordered by. */
export interface OrderColumns {
  id: Column;
  createdAt: Column;
  updatedAt: Column;
}

/** What every fetched row carries for the cursor: its id and its exact timestamps. */
export interface CursorKeys {
  row: { id: number };
  createdUs: string;
  updatedUs: string;
}

/**
 * Timestamps as the database holds them (microseconds; `extract` is exact numeric since
 * Postgres 14), to select with the rows. A JS Date keeps milliseconds only: a cursor made from it
 * would repeat or skip rows written within the same millisecond (a multi-row insert gives them
 * all one timestamp).
 */
export const exactKeys = (table: { createdAt: Column; updatedAt: Column }) => ({
  createdUs: sql<string>`(extract(epoch from ${table.createdAt}) * 1000000)::bigint::text`,
  updatedUs: sql<string>`(extract(epoch from ${table.updatedAt}) * 1000000)::bigint::text`,
});

/**
 * One page: checks limit, ordering and cursor, adds the cursor's condition to `conditions`,
 * fetches one row more than the limit (to know whether another page follows) and shapes the rows.
 */
export async function keysetPage<R extends CursorKeys, T>(
  table: OrderColumns,
  conditions: SQL[],
  opts: FetchOptions<R>,
  fetch: (where: SQL | undefined, orderBy: SQL[], limit: number) => Promise<R[]>,
  shape: (rows: R[]) => T[] | Promise<T[]>,
): Promise<Page<T>> {
  const limit = opts.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ValidationError(
      `limit must be an integer from 1 to ${MAX_LIMIT}`,
      "page through larger results with the cursor",
    );
  }
  const orderBy = opts.orderBy ?? "-created_at";
  const descending = orderBy.startsWith("-");
  const field = orderBy.replace(/^-/, "");
  const own = Object.hasOwn(opts.sortKeys ?? {}, field) ? opts.sortKeys?.[field] : undefined;
  if (!(ORDER_FIELDS as readonly string[]).includes(field) && !own) {
    const fields = [...ORDER_FIELDS, ...Object.keys(opts.sortKeys ?? {})];
    throw new ValidationError(
      `cannot order by '${orderBy}'`,
      `order by one of ${fields.join(", ")} (prefix '-' for descending)`,
    );
  }
  const column =
    own?.expression ??
    (field === "id" ? table.id : field === "updated_at" ? table.updatedAt : table.createdAt);
  const where = [...conditions];
  if (opts.cursor) {
    const [value, id] = decodeCursor(opts.cursor, field, own?.type);
    const v =
      field === "id" || own
        ? sql`${value}`
        : sql`(timestamptz 'epoch' + ${value}::bigint * interval '1 microsecond')`;
    where.push(
      descending
        ? sql`(${column}, ${table.id}) < (${v}, ${id})`
        : sql`(${column}, ${table.id}) > (${v}, ${id})`,
    );
  }
  const dir = descending ? desc : asc;
  // `+ 0` keeps the order but hides it from the planner: no index can serve it, so it sorts
  // (an expression of a registry's own ordering is no index's already)
  const sortKey = (c: Column | SQL, zero: SQL) =>
    opts.sortAfterFilter && !own ? sql`(${c} + ${zero})` : c;
  const zero = field === "id" ? sql`0` : sql`interval '0 s'`;
  const rows = await fetch(
    and(...where),
    [dir(sortKey(column, zero)), dir(sortKey(table.id, sql`0`))],
    limit + 1,
  );
  const items = rows.slice(0, limit);
  const page: Page<T> = { items: await shape(items) };
  const last = items.at(-1);
  if (rows.length > limit && last) {
    const value = own
      ? own.value(last)
      : field === "id"
        ? last.row.id
        : field === "updated_at"
          ? last.updatedUs
          : last.createdUs;
    page.nextCursor = encodeCursor(field, value, last.row.id);
  }
  return page;
}

function encodeCursor(field: string, value: string | number, id: number): string {
  return Buffer.from(JSON.stringify([field, value, id])).toString("base64url");
}

function decodeCursor(
  cursor: string,
  field: string,
  type?: SortKey<unknown>["type"],
): [string | number, number] {
  try {
    const [f, value, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [
      string,
      string | number,
      number,
    ];
    if (
      f === field &&
      Number.isSafeInteger(id) &&
      (type === "text"
        ? typeof value === "string" && value.length <= 4096
        : field === "id" || type === "integer"
          ? Number.isSafeInteger(value)
          : typeof value === "string" && /^-?[0-9]{1,19}$/.test(value))
    ) {
      return [value, id];
    }
  } catch {}
  throw new ValidationError(
    "invalid cursor",
    "pass the nextCursor of the previous page with the same ordering",
  );
}
