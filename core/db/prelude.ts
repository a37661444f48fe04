/**
 * Statements that go ahead of another in the same message, answered in the same round trip
 * (Postgres's extended protocol: Parse/Bind/Execute of each, one Sync at the end).
 *
 * Everything before one Sync runs in one transaction, an implicit one when no BEGIN is open, and
 * when a statement fails the server skips the rest up to the Sync. So a prelude that sets local
 * settings (`set_config(..., true)`: a role, the grants of a restricted caller, read-only) holds for
 * exactly the statement behind it, then ends with that transaction: nothing is left on the
 * connection for whoever uses it next, and a statement whose prelude failed never runs. A read of a
 * restricted caller thus costs one round trip, as the owner's, not BEGIN with the grants, the
 * read, then COMMIT.
 *
 * It plugs into both drivers (node-postgres, Neon's fork of it) as a "submittable", their public
 * way of sending a custom query (as pg-cursor does), and answers as their own Query does.
 */

/** A named statement with its parameters: parsed once per connection, then only bound. */
export interface Prelude {
  name: string;
  text: string;
  values: string[];
}

/** The parts of a driver's connection this uses (pg's Connection; Neon's is the same code). */
interface Wire {
  parsedStatements: Record<string, string>;
  /** node-postgres ≥ 8.14: statements whose Parse was sent and not yet answered. */
  submittedNamedStatements?: Record<string, string>;
  stream: { cork?(): void; uncork?(): void };
  parse(message: { text: string; name: string }): void;
  bind(message: { portal: string; statement: string; values: string[] }): void;
  execute(message: { portal: string }): void;
}

/** The driver's own Query (`Client.Query`): it sends the statement and reads its answer. */
export interface DriverQuery {
  name?: string;
  text?: string;
  callback?: (error: Error | null, result?: unknown) => void;
  _result?: { _types?: unknown };
  prepare(wire: Wire): void;
  handleRowDescription(message: unknown): void;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown, wire: Wire): void;
  handleEmptyQuery(wire: Wire): void;
  handleError(error: Error, wire: Wire): void;
  handleReadyForQuery(wire: Wire): void;
  handlePortalSuspended(wire: Wire): void;
  handleCopyInResponse(wire: Wire): void;
  handleCopyData(message: unknown, wire: Wire): void;
}

export type DriverQueryClass = new (config: unknown, values?: unknown) => DriverQuery;

const known = (wire: Wire, name: string) =>
  wire.parsedStatements[name] !== undefined || wire.submittedNamedStatements?.[name] !== undefined;

/**
 * `query` sent behind `preludes`, in one message. The driver's client reads the statement's name
 * and text off this object when a Parse is answered (to remember what the connection has
 * parsed), so both follow the step being answered.
 */
export class Preluded {
  /** Preludes answered so far: the answers before `query`'s are read here and dropped. */
  private answered = 0;

  constructor(
    private readonly preludes: readonly Prelude[],
    private readonly query: DriverQuery,
  ) {}

  private get inPrelude(): boolean {
    return this.answered < this.preludes.length;
  }

  get name(): string | undefined {
    return this.inPrelude ? this.preludes[this.answered]?.name : this.query.name;
  }

  get text(): string | undefined {
    return this.inPrelude ? this.preludes[this.answered]?.text : this.query.text;
  }

  get callback() {
    return this.query.callback;
  }

  submit(wire: Wire): null {
    wire.stream.cork?.();
    try {
      for (const { name, text, values } of this.preludes) {
        if (!known(wire, name)) {
          wire.parse({ text, name });
          if (wire.submittedNamedStatements) wire.submittedNamedStatements[name] = text;
        }
        wire.bind({ portal: "", statement: name, values });
        wire.execute({ portal: "" });
      }
      // its Parse (unless parsed before), Bind, Describe, Execute and the Sync
      this.query.prepare(wire);
    } finally {
      wire.stream.uncork?.();
    }
    return null;
  }

  handleRowDescription(message: unknown): void {
    if (!this.inPrelude) this.query.handleRowDescription(message);
  }

  handleDataRow(message: unknown): void {
    if (!this.inPrelude) this.query.handleDataRow(message);
  }

  handleCommandComplete(message: unknown, wire: Wire): void {
    if (this.inPrelude) this.answered++;
    else this.query.handleCommandComplete(message, wire);
  }

  handleEmptyQuery(wire: Wire): void {
    if (this.inPrelude) this.answered++;
    else this.query.handleEmptyQuery(wire);
  }

  handleError(error: Error, wire: Wire): void {
    // the server skipped every Parse after the failed step: none of them is on the connection
    const skipped = [...this.preludes.slice(this.answered + 1), this.query];
    for (const { name } of skipped) {
      if (name && wire.parsedStatements[name] === undefined) {
        delete wire.submittedNamedStatements?.[name];
      }
    }
    this.query.handleError(error, wire);
  }

  handleReadyForQuery(wire: Wire): void {
    this.query.handleReadyForQuery(wire);
  }

  handlePortalSuspended(wire: Wire): void {
    this.query.handlePortalSuspended(wire);
  }

  handleCopyInResponse(wire: Wire): void {
    this.query.handleCopyInResponse(wire);
  }

  handleCopyData(message: unknown, wire: Wire): void {
    this.query.handleCopyData(message, wire);
  }
}

/** What drizzle calls on a client: `query(config, values)`, a promise of the result. */
export interface QueryClient {
  query(config: unknown, values?: unknown): Promise<unknown>;
}

/**
 * A statement that begins or ends a transaction (or a savepoint), alone in its text: sent as it
 * is, with no prelude. Anything else in the text, or any other statement, goes behind one.
 */
const TRANSACTION_CONTROL =
  /^\s*(begin|start\s+transaction|commit|end|rollback|abort|savepoint|release)\b[^;]*;?\s*$/i;

/**
 * A client for drizzle over one connection that sends the preludes of the request holding the
 * connection (`ahead`) ahead of every statement but those that begin or end a transaction (a
 * prelude of a transaction's local settings, sent again inside it, changes nothing). Between
 * requests `ahead` is undefined, and a statement is refused: nothing runs without its prelude.
 */
export class PrecededClient implements QueryClient {
  ahead: readonly Prelude[] | undefined;

  constructor(
    private readonly client: QueryClient,
    private readonly Query: DriverQueryClass,
  ) {}

  query(config: unknown, values?: unknown): Promise<unknown> {
    const text = typeof config === "string" ? config : (config as { text?: string }).text;
    if (text !== undefined && TRANSACTION_CONTROL.test(text)) {
      return this.client.query(config, values);
    }
    const ahead = this.ahead;
    if (!ahead) return Promise.reject(new Error("a statement after its request ended: not sent"));
    return new Promise((resolve, reject) => {
      const query = new this.Query(config, values);
      query.callback = (error, result) => (error ? reject(error) : resolve(result));
      // the client's type parsers, as its own query() gives a Query without its own
      const types = (this.client as { _types?: unknown })._types;
      if (query._result && !query._result._types && types) query._result._types = types;
      this.client.query(new Preluded(ahead, query));
    });
  }
}
