/**
 * Server-side prepared statements for PGlite, as postgres.js and JDBC keep them for Postgres.
 *
 * PGlite's `query` parses, plans and describes every statement again, in six passes through
 * Postgres's main loop. Here each statement text is parsed once under a name; later runs send
 * Bind, Describe, Execute and Sync in one pass, and Postgres reuses the parse tree and, where it
 * pays, the plan. A single-row lookup or insert costs a third to a fifth as much (issue 19).
 *
 * Results and errors are the ones PGlite's `query` gives: the same parsers and serializers, the
 * same `DatabaseError`. Only row statements (SELECT, INSERT, UPDATE, DELETE, WITH, VALUES) are
 * kept; any other statement runs as before, and schema changes (CREATE, ALTER, DROP, DO, ...)
 * forget every kept statement, so none can outlive the shape of a table it read. The cache is
 * bounded (least recently used statements are closed), and batches' large statements are not
 * kept.
 */
import type { PGlite, QueryOptions, Results, Transaction } from "@electric-sql/pglite";
import { parse, protocol, types } from "@electric-sql/pglite";

/** Statements kept per database: enough for every shape the registries use. */
const CAPACITY = 256;

const ROW_STATEMENT = /^\s*(select|insert|update|delete|with|values)\b/i;
const SCHEMA_CHANGE =
  /^\s*(create|alter|drop|do|comment|truncate|reindex|cluster|grant|revoke|security|import)\b/i;

/**
 * Large statements (multi-row inserts of a batch: thousands of values) are run once per shape of
 * batch and their parse trees are large: they are not kept.
 */
const MAX_KEPT_PARAMS = 100;
const MAX_KEPT_LENGTH = 16 * 1024;

const keepable = (text: string, params: unknown[]) =>
  params.length <= MAX_KEPT_PARAMS && text.length <= MAX_KEPT_LENGTH && ROW_STATEMENT.test(text);

/** SQLSTATEs of a kept statement gone stale: "does not exist" (26000), "cached plan must not
 * change result type" (0A000). */
const STALE = new Set(["26000", "0A000"]);

type Query = <T>(text: string, params?: unknown[], options?: QueryOptions) => Promise<Results<T>>;

interface Field {
  name: string;
  dataTypeID: number;
}

interface Prepared {
  name: string;
  /** Parameter type oids, from Postgres's description of the statement. */
  types: number[];
  /** The columns it returns (none for a plain INSERT, UPDATE, DELETE). */
  fields: Field[];
}

type Message =
  | { name: "rowDescription"; fields: Field[] }
  | { name: "dataRow"; fields: (string | null)[] }
  | { name: "commandComplete"; text: string }
  | { name: string };

const serialize = protocol.serialize;

/** One buffer of protocol messages. */
function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Make `client.query` (and `query` inside `client.transaction`) use named prepared statements.
 * Patches the instance in place, so drizzle and PGlite's own helpers (`sql`) go through it.
 * Returns the client.
 */
export function usePreparedStatements(client: PGlite): PGlite {
  const statements = new Map<string, Prepared>();
  /** Names evicted from the cache, closed in the next buffer sent. */
  let closing: string[] = [];
  let next = 0;
  const plainQuery = client.query.bind(client) as Query;
  const plainTransaction = client.transaction.bind(client);

  const forget = (text: string) => {
    const prepared = statements.get(text);
    if (!prepared) return;
    statements.delete(text);
    closing.push(prepared.name);
  };

  const forgetAll = () => {
    closing.push(...[...statements.values()].map((s) => s.name));
    statements.clear();
  };

  const closeMessages = (): Uint8Array[] => {
    const messages = closing.map((name) => serialize.close({ type: "S", name }));
    closing = [];
    return messages;
  };

  /** Parse `text` under a new name (closing evicted statements in the same pass). */
  const prepare = async (text: string): Promise<Prepared> => {
    const name = `lamin_${next++}`;
    const { messages } = await client.execProtocol(
      concat([
        ...closeMessages(),
        serialize.parse({ name, text }),
        serialize.describe({ type: "S", name }),
        serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const description = messages.find((m) => m.name === "rowDescription") as
      | { fields: Field[] }
      | undefined;
    const prepared: Prepared = {
      name,
      types: parse.parseDescribeStatementResults(messages),
      fields: (description?.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
    };
    if (statements.size >= CAPACITY) forget(statements.keys().next().value as string);
    statements.set(text, prepared);
    return prepared;
  };

  /** Run a kept statement (preparing it first if new); the caller holds PGlite's query lock. */
  const run = async <T>(
    text: string,
    params: unknown[],
    options: QueryOptions | undefined,
  ): Promise<Results<T>> => {
    let prepared = statements.get(text);
    if (prepared) {
      // least recently used last out: move to the end
      statements.delete(text);
      statements.set(text, prepared);
    } else {
      prepared = await prepare(text);
    }
    const { name, types: paramTypes } = prepared;
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const oid = paramTypes[i] as number;
      const serializer = options?.serializers?.[oid] ?? client.serializers[oid];
      return serializer ? serializer(value) : String(value);
    });
    const { messages } = await client.execProtocol(
      concat([
        ...closeMessages(),
        serialize.bind({ statement: name, values }),
        serialize.execute({}),
        serialize.sync(),
      ]),
      { syncToFs: false },
    );
    return toResults<T>(messages as Message[], prepared.fields, client.parsers, options);
  };

  /** The query of a connection (`base`) or of a transaction, with kept statements. */
  const querying =
    (base: Query, locked: <R>(fn: () => Promise<R>) => Promise<R>, inTransaction: boolean) =>
    async <T>(text: string, params: unknown[] = [], options?: QueryOptions) => {
      if (!keepable(text, params) || options?.paramTypes || options?.blob) {
        try {
          return await base<T>(text, params, options);
        } finally {
          if (SCHEMA_CHANGE.test(text)) forgetAll();
        }
      }
      await client._checkReady();
      try {
        let result: Results<T>;
        try {
          result = await locked(() => run<T>(text, params, options));
        } catch (error) {
          // a kept statement Postgres no longer has, or whose result shape changed: outside a
          // transaction nothing was done, so prepare it again and run it once more
          if (inTransaction || !STALE.has((error as { code?: string }).code ?? "")) throw error;
          forget(text);
          result = await locked(() => run<T>(text, params, options));
        }
        if (!inTransaction) await client.syncToFs();
        return result;
      } catch (error) {
        // as PGlite's own query: the statement and its values stay on the error for a debugger
        if (error && typeof error === "object") Object.assign(error, { query: text, params });
        throw error;
      }
    };

  client.query = querying(
    plainQuery,
    (fn) => client._runExclusiveTransaction(() => client._runExclusiveQuery(fn)),
    false,
  ) as PGlite["query"];
  client.transaction = (<T>(callback: (tx: Transaction) => Promise<T>) =>
    plainTransaction((tx) => {
      const txQuery = tx.query.bind(tx) as Query;
      const kept = querying(txQuery, (fn) => client._runExclusiveQuery(fn), true);
      const wrapped = Object.create(tx, {
        query: {
          value: <R>(text: string, params?: unknown[], options?: QueryOptions) => {
            if (tx.closed) return txQuery<R>(text, params, options); // PGlite's own refusal
            return kept<R>(text, params, options);
          },
        },
      }) as Transaction;
      return callback(wrapped);
    })) as PGlite["transaction"];
  const plainExec = client.exec.bind(client);
  client.exec = (async (...args: Parameters<PGlite["exec"]>) => {
    try {
      return await plainExec(...args);
    } finally {
      forgetAll(); // a script may change the schema
    }
  }) as PGlite["exec"];
  return client;
}

/**
 * The results of one executed statement, as PGlite's `parseResults` gives them. Its version
 * copies every parser of the database into a new object for each query that brings its own
 * (drizzle always does), which took a quarter of a single save's time in JavaScript; here a
 * value's parser is looked up where it is needed.
 */
function toResults<T>(
  messages: Message[],
  fields: Field[],
  parsers: PGlite["parsers"],
  options: QueryOptions | undefined,
): Results<T> {
  const own = options?.parsers;
  const parsersOf = fields.map(
    ({ dataTypeID: oid }) => own?.[oid] ?? parsers[oid] ?? types.parsers[oid],
  );
  const asArray = options?.rowMode === "array";
  const rows: unknown[] = [];
  for (const message of messages) {
    if (message.name === "dataRow") {
      const values = (message as { fields: (string | null)[] }).fields.map((value, i) => {
        if (value === null) return null;
        const parser = parsersOf[i];
        return parser ? parser(value, fields[i]?.dataTypeID) : value;
      });
      rows.push(asArray ? values : Object.fromEntries(values.map((v, i) => [fields[i]?.name, v])));
    } else if (message.name === "commandComplete") {
      const words = (message as { text: string }).text.split(" ");
      const command = words[0] as string;
      const count = Number.parseInt(words[words.length - 1] as string, 10);
      const changes = ["INSERT", "UPDATE", "DELETE", "COPY", "MERGE"].includes(command);
      return {
        rows: rows as Results<T>["rows"],
        fields,
        command,
        affectedRows: changes ? count : 0,
        ...(Number.isNaN(count) ? {} : { rowCount: count }),
      };
    }
  }
  return { affectedRows: 0, rows: [], fields: [] };
}
