/**
 * Named statements whose SQL is built once per process. drizzle builds a statement's SQL from its
 * query builder on every `prepare()`, and a request of a restricted caller (or on a branch) runs
 * over a Database of its own (a transaction, a view): its registries prepared every statement
 * again, 0.33 ms of CPU for the artifact-by-uid select alone. Here the first `prepare()` of a name
 * keeps what drizzle handed its session, and each later Database gets the same statement from its
 * own session (its own connection or transaction), with nothing built.
 *
 * Their rows are mapped by a mapper compiled once per statement (drizzle's `customResultMapper`):
 * drizzle's own walks every cell through type checks (`is`) and path lookups, 0.45 ms of a page
 * of 50 artifacts, as much as node-postgres takes to read it. Same result, nulls of left joins
 * included.
 */
import { Column, getTableName, is, SQL, Subquery } from "drizzle-orm";
import type { Db } from "./client.js";

/** What a drizzle session's `prepareQuery` takes: the same for every driver we use. */
interface Session {
  prepareQuery(...args: unknown[]): { joinsNotNullableMap?: unknown };
}

interface Kept {
  /** prepareQuery's arguments, the compiled mapper in place of none. */
  args: unknown[];
  /** Set by select and update builders after prepareQuery: which joined tables may be null. */
  joins: unknown;
}

const kept = new Map<string, Kept>();

/** prepareQuery(query, fields, name, ...): where the statement's name goes (pg, Neon, PGlite). */
const NAME_ARG = 2;

/** Databases that run their statements as the restricted role under row-level security. */
const restricted = new WeakSet<object>();

/**
 * Statements of `db` (a restricted caller's transaction, see inSpaces) take names of their own.
 * Under row-level security Postgres plans a named statement for the role that runs it, and plans
 * it again whenever its connection runs it as another role: the owner's and a read
 * collaborator's requests taking turns on one connection replanned the artifact select every
 * time, 0.56 ms of Postgres CPU per request against 0.08 with a name for each role.
 */
export function nameStatementsForRestrictedRole(db: Db): void {
  restricted.add(db);
}

/**
 * The statement `name` on `db`: built by `build` the first time this process asks for that name,
 * then only re-bound. A name must always stand for the same statement (as Postgres requires).
 */
export function keptStatement<P>(
  db: Db,
  name: string,
  build: (db: Db) => { prepare(name: string): P },
): P {
  const session = sessionOf(db);
  const named = restricted.has(db) ? `${name}:rls` : name;
  const known = kept.get(name);
  if (known) {
    const args = [...known.args];
    args[NAME_ARG] = named;
    const prepared = session.prepareQuery(...args);
    if (known.joins !== undefined) prepared.joinsNotNullableMap = known.joins;
    return prepared as P;
  }
  const builder = build(db) as unknown as { session: Session; prepare(name: string): P };
  const own = builder.session;
  let args: unknown[] | undefined;
  /** The builder sets the nullable joins on the statement after prepareQuery: read then. */
  const joins: { map?: Record<string, boolean> } = {};
  // take the one call the builder makes, and hand it on with our mapper
  builder.session = Object.create(own, {
    prepareQuery: {
      value: (...a: unknown[]) => {
        const [, fields, , , customResultMapper] = a;
        if (Array.isArray(fields) && customResultMapper === undefined) {
          a[4] = compileMapper(fields as SelectedField[], joins);
        }
        args = a;
        return own.prepareQuery(...a);
      },
    },
  });
  try {
    const prepared = builder.prepare(named);
    joins.map = (prepared as { joinsNotNullableMap?: Record<string, boolean> }).joinsNotNullableMap;
    if (args) kept.set(name, { args, joins: joins.map });
    return prepared;
  } finally {
    builder.session = own;
  }
}

/** A selected column or expression at its place in the result (drizzle's orderSelectedFields). */
interface SelectedField {
  path: string[];
  field: unknown;
}

interface Decoder {
  mapFromDriverValue(value: unknown): unknown;
}

interface Slot {
  path: string[];
  /** undefined: the driver's value as it is (text, integers, booleans, json). */
  decode: ((value: unknown) => unknown) | undefined;
  /** For a column of a joined table's object (`{ run: { uid } }`): that table's name. */
  table: string | undefined;
}

const identity = Column.prototype.mapFromDriverValue;
/** drizzle's decoder of an SQL expression without `mapWith` (passes the value through). */
const NOOP = decoderOf(new SQL([]));

function decoderOf(field: unknown): Decoder {
  // an expression's decoder (set by mapWith) is internal to drizzle's types, not to its objects
  const decoderOfSql = (expression: unknown) => (expression as { decoder: Decoder }).decoder;
  if (is(field, Column)) return field;
  if (is(field, SQL)) return decoderOfSql(field);
  if (is(field, Subquery)) return decoderOfSql(field._.sql);
  return decoderOfSql((field as SQL.Aliased).sql);
}

/**
 * drizzle's mapResultRow with its per-cell decisions made once: which decoder, whether it is the
 * identity, and which joined table a nested object comes from. An object of a left-joined table
 * whose first column is null is null when that table may be missing (as drizzle decides).
 */
function compileMapper(fields: SelectedField[], joins: { map?: Record<string, boolean> }) {
  const slots: Slot[] = fields.map(({ path, field }) => {
    const decoder = decoderOf(field);
    const plain = decoder.mapFromDriverValue === identity || decoder === NOOP;
    return {
      path,
      decode: plain ? undefined : (v: unknown) => decoder.mapFromDriverValue(v),
      table: is(field, Column) && path.length === 2 ? getTableName(field.table) : undefined,
    };
  });
  const nested = slots.some((s) => s.path.length > 1);
  return (rows: unknown[][]) => {
    const map = joins.map;
    return rows.map((row) => {
      const out: Record<string, unknown> = {};
      let nullify: Record<string, string | false> | undefined;
      for (let i = 0; i < slots.length; i++) {
        const { path, decode, table } = slots[i] as Slot;
        const raw = row[i];
        const value = raw === null ? null : decode ? decode(raw) : raw;
        if (!nested || path.length === 1) {
          out[path[0] as string] = value;
          continue;
        }
        let node = out;
        for (let k = 0; k < path.length - 1; k++) {
          const key = path[k] as string;
          node[key] ??= {};
          node = node[key] as Record<string, unknown>;
        }
        node[path[path.length - 1] as string] = value;
        if (map && table !== undefined) {
          nullify ??= {};
          const object = path[0] as string;
          if (!(object in nullify)) nullify[object] = value === null ? table : false;
          else if (typeof nullify[object] === "string" && nullify[object] !== table) {
            nullify[object] = false;
          }
        }
      }
      if (map && nullify) {
        for (const [object, table] of Object.entries(nullify)) {
          if (typeof table === "string" && !map[table]) out[object] = null;
        }
      }
      return out;
    });
  };
}

function sessionOf(db: Db): Session {
  const session = (db as unknown as { _?: { session?: Session } })._?.session;
  if (!session) throw new Error("not a drizzle database: it has no session");
  return session;
}
