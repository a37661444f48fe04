/**
 * Named statements whose SQL is built once per process. drizzle builds a statement's SQL from its
 * query builder on every `prepare()`, and a request of a restricted caller (or on a branch) runs
 * over a Database of its own (a transaction, a view): its registries prepared every statement
 * again, 0.33 ms of CPU for the artifact-by-uid select alone. Here the first `prepare()` of a name
 * keeps what drizzle handed its session, and each later Database gets the same statement from its
 * own session (its own connection or transaction), with nothing built.
 */
import type { Db } from "./client.js";

/** What a drizzle session's `prepareQuery` takes: the same for every driver we use. */
interface Session {
  prepareQuery(...args: unknown[]): { joinsNotNullableMap?: unknown };
}

interface Kept {
  args: unknown[];
  /** Set by select and update builders after prepareQuery: which joined tables may be null. */
  joins: unknown;
}

const kept = new Map<string, Kept>();

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
  const known = kept.get(name);
  if (known) {
    const prepared = session.prepareQuery(...known.args);
    if (known.joins !== undefined) prepared.joinsNotNullableMap = known.joins;
    return prepared as P;
  }
  const builder = build(db) as unknown as { session: Session; prepare(name: string): P };
  const own = builder.session;
  let args: unknown[] | undefined;
  // listen to the one call the builder makes, then hand it on unchanged
  builder.session = Object.create(own, {
    prepareQuery: {
      value: (...a: unknown[]) => {
        args = a;
        return own.prepareQuery(...a);
      },
    },
  });
  try {
    const prepared = builder.prepare(name);
    if (args) {
      kept.set(name, {
        args,
        joins: (prepared as { joinsNotNullableMap?: unknown }).joinsNotNullableMap,
      });
    }
    return prepared;
  } finally {
    builder.session = own;
  }
}

function sessionOf(db: Db): Session {
  const session = (db as unknown as { _?: { session?: Session } })._?.session;
  if (!session) throw new Error("not a drizzle database: it has no session");
  return session;
}
