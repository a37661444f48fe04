/**
 * One budget of connections per database server, shared by every pool this process opens on
 * that server. A hub opens one small pool per instance, and each instance is a database of its
 * own: a Postgres connection is bound to one database, so connections cannot be shared between
 * instances, only counted. The budget keeps the count under a cap (LAMIN_HUB_MAX_CONNECTIONS,
 * by default half the server's max_connections): a pool that needs a connection beyond the cap
 * takes the slot of the least recently used idle connection of any pool, and when none is idle
 * it waits, in order of arrival, for a bounded time; then an UnavailableError (HTTP 503 with
 * retry-after) says the server is busy. A connection in use is never closed.
 */
import { UnavailableError } from "../errors.js";

/** What both drivers' Client offers (node-postgres, Neon's serverless driver). */
export interface DriverClient {
  connect(): Promise<unknown>;
  end(): Promise<void>;
  query(...args: unknown[]): Promise<unknown>;
  on(event: "error" | "end", listener: (error?: Error) => void): unknown;
}

/** A connection lent by a pool; `release()` gives it back (drizzle calls it after a transaction). */
export type LentClient = DriverClient & { release(error?: unknown): void };

interface Waiter {
  pool: CappedPool;
  resolve(client: LentClient): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

interface Idle {
  client: DriverClient;
  since: number;
  timer: ReturnType<typeof setTimeout>;
}

/** Every connection of the budget is in use, and stayed so for as long as a request may wait. */
export class ServerBusyError extends UnavailableError {}

export interface BudgetOptions {
  /**
   * Connections open at once, in all pools together. "half the server's": learnt from the first
   * connection (`SHOW max_connections`), with 2 until then.
   */
  max: number | "half the server's";
  /** How long a request waits for a connection before it is told the server is busy. */
  acquireTimeoutMs?: number;
  /** An idle connection is closed after this long, giving its slot back. */
  idleTimeoutMs?: number;
}

export class ConnectionBudget {
  private cap: number;
  /** Still to read the server's max_connections on the first connection opened. */
  private learnCap: boolean;
  readonly acquireTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Connections open, opening or closing: the server may still count a closing one. */
  private used = 0;
  /** Of `used`, connections being closed to hand their slot to a waiter. */
  private closing = 0;
  private peakUsed = 0;
  /** Connections opened since the start: beyond the first few, each is one a request waited for. */
  private opened = 0;
  private readonly waiters: Waiter[] = [];
  /** Pools in use (least recently used first: a Set keeps insertion order). */
  private readonly pools = new Set<CappedPool>();

  constructor(opts: BudgetOptions) {
    this.learnCap = opts.max === "half the server's";
    const max = opts.max === "half the server's" ? 2 : opts.max;
    if (!Number.isInteger(max) || max < 1) {
      throw new UnavailableError(
        `the connection cap is ${opts.max}`,
        "set LAMIN_HUB_MAX_CONNECTIONS to a whole number of at least 1",
      );
    }
    this.cap = max;
    this.acquireTimeoutMs = opts.acquireTimeoutMs ?? 10_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
  }

  /** Connections this budget allows at once. */
  get max(): number {
    return this.cap;
  }

  /**
   * @internal (CappedPool) On the budget's first connection, when its cap is half the server's:
   * read max_connections there (no connection of its own, no round trip before the first query).
   */
  async learn(client: DriverClient): Promise<void> {
    if (!this.learnCap) return;
    this.learnCap = false;
    try {
      const { rows } = (await client.query("SHOW max_connections")) as {
        rows: { max_connections?: string }[];
      };
      const n = Number(rows[0]?.max_connections);
      if (Number.isInteger(n) && n > 0) this.cap = Math.max(2, Math.floor(n / 2));
    } catch {
      // the provisional cap stays: small, never above what the server allows
    }
    this.pump();
  }

  /** For operators and tests: connections counted now, the most ever, opened in all, waiting. */
  stats(): { used: number; peak: number; opened: number; waiting: number; max: number } {
    return {
      used: this.used,
      peak: this.peakUsed,
      opened: this.opened,
      waiting: this.waiters.length,
      max: this.max,
    };
  }

  /**
   * A pool of at most `max` connections to one database of this server. `kept`: its idle
   * connections are never closed for another database's (the hub's own, which every request uses).
   */
  pool(makeClient: () => DriverClient, max: number, opts: { kept?: boolean } = {}): CappedPool {
    return new CappedPool(this, makeClient, Math.max(1, max), opts.kept ?? false);
  }

  /** @internal (CappedPool) A connection of `pool`: lent at once if idle, else queued. */
  wait(pool: CappedPool): Promise<LentClient> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        pool,
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = this.waiters.indexOf(waiter);
          if (at < 0) return;
          this.waiters.splice(at, 1);
          reject(
            new ServerBusyError(
              `all ${this.max} connections to the database server are in use`,
              "try again in a moment (the server is busy); the hub's operator may raise LAMIN_HUB_MAX_CONNECTIONS",
            ),
          );
        }, this.acquireTimeoutMs),
      };
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** @internal (CappedPool) `pool` was used: it goes last in the order of eviction. */
  touch(pool: CappedPool): void {
    this.pools.delete(pool);
    this.pools.add(pool);
  }

  /** @internal (CappedPool) A pool ended: its waiters are told. */
  forget(pool: CappedPool, error: Error): void {
    this.pools.delete(pool);
    for (const w of this.waiters.filter((w) => w.pool === pool)) this.serve(w, error);
  }

  /** @internal (CappedPool) A connection of the budget is closing; its slot is free once closed. */
  closed(done: Promise<unknown>, handover: boolean): void {
    if (handover) this.closing++;
    void done.finally(() => {
      this.used--;
      if (handover) this.closing--;
      this.pump();
    });
  }

  /**
   * Serve waiters, in order of arrival: first from idle connections of their own pool (no new
   * connection), then with a new connection where their pool may grow: a free slot, or the slot
   * of the least recently used idle connection, closed for it.
   */
  pump(): void {
    if (this.waiters.length === 0) return;
    for (const w of [...this.waiters]) {
      const client = w.pool.takeIdle();
      if (client) this.serve(w, client);
    }
    let freeing = this.closing; // slots on their way back, each promised to one waiter
    for (const w of [...this.waiters]) {
      if (!w.pool.canGrow()) continue;
      if (this.used < this.max) {
        this.used++;
        this.opened++;
        this.peakUsed = Math.max(this.peakUsed, this.used);
        this.serve(w, w.pool.grow());
      } else if (freeing > 0) {
        freeing--;
      } else if (!this.closeOldestIdle()) {
        break; // every connection is in use: wait for one to come back
      }
    }
  }

  private serve(w: Waiter, outcome: LentClient | Error | Promise<LentClient>): void {
    this.waiters.splice(this.waiters.indexOf(w), 1);
    clearTimeout(w.timer);
    if (outcome instanceof Error) w.reject(outcome);
    else Promise.resolve(outcome).then(w.resolve, w.reject);
  }

  /**
   * Close the connection idle for the longest, false if none is idle. By connection, not by
   * pool: a busy pool's (the hub's own) connections are idle for moments only, so they stay.
   */
  private closeOldestIdle(): boolean {
    let oldest: CappedPool | undefined;
    let since = Number.POSITIVE_INFINITY;
    for (const pool of this.pools) {
      const at = pool.oldestIdleSince();
      if (at < since) {
        since = at;
        oldest = pool;
      }
    }
    return oldest?.closeOneIdle() ?? false;
  }
}

/**
 * A pool of connections to one database whose connections count against a server's budget.
 * It answers what drizzle asks of a pg Pool (`query`, `connect` and `release`, `end`); drizzle
 * recognises a pool by "Pool" in its class name.
 */
export class CappedPool {
  /** Idle connections, most recently released last. */
  private readonly idle: Idle[] = [];
  /** Connections of this pool, open or opening. */
  private size = 0;
  private ended = false;

  constructor(
    private readonly budget: ConnectionBudget,
    private readonly makeClient: () => DriverClient,
    readonly max: number,
    private readonly kept = false,
  ) {}

  async query(...args: unknown[]): Promise<unknown> {
    const client = await this.connect();
    try {
      return await client.query(...args);
    } finally {
      client.release();
    }
  }

  connect(): Promise<LentClient> {
    if (this.ended) return Promise.reject(new Error("Cannot use a pool after calling end"));
    this.budget.touch(this);
    const client = this.takeIdle();
    return client ? Promise.resolve(client) : this.budget.wait(this);
  }

  /** Close idle connections now and the others when they come back; no new ones are opened. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.budget.forget(this, new Error("Cannot use a pool after calling end"));
    const closing: Promise<unknown>[] = [];
    while (this.idle.length > 0) closing.push(this.closeIdleAt(0, false));
    await Promise.all(closing);
  }

  /** @internal (ConnectionBudget) */
  takeIdle(): LentClient | undefined {
    const entry = this.idle.pop();
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    return this.lend(entry.client);
  }

  /** @internal (ConnectionBudget) */
  canGrow(): boolean {
    return !this.ended && this.size < this.max;
  }

  /** @internal (ConnectionBudget) Open a connection in a slot the budget counted already. */
  async grow(): Promise<LentClient> {
    this.size++;
    const client = this.makeClient();
    let broken = false;
    // a connection the server dropped must not crash the process: it is closed when it comes back
    client.on("error", () => {
      broken = true;
      this.dropIfIdle(client);
    });
    client.on("end", () => {
      broken = true;
      this.dropIfIdle(client);
    });
    (client as { broken?: () => boolean }).broken = () => broken;
    try {
      await client.connect();
      await this.budget.learn(client);
    } catch (error) {
      this.size--;
      this.budget.closed(ended(client), false);
      throw error;
    }
    return this.lend(client);
  }

  /** @internal (ConnectionBudget) When the oldest idle connection became idle (Infinity: none). */
  oldestIdleSince(): number {
    if (this.kept) return Number.POSITIVE_INFINITY;
    return this.idle[0]?.since ?? Number.POSITIVE_INFINITY;
  }

  /** @internal (ConnectionBudget) Close the oldest idle connection, handing its slot over. */
  closeOneIdle(): boolean {
    if (this.idle.length === 0) return false;
    void this.closeIdleAt(0, true);
    return true;
  }

  private closeIdleAt(index: number, handover: boolean): Promise<unknown> {
    const [entry] = this.idle.splice(index, 1);
    if (!entry) return Promise.resolve();
    clearTimeout(entry.timer);
    return this.close(entry.client, handover);
  }

  private close(client: DriverClient, handover: boolean): Promise<unknown> {
    this.size--;
    const done = ended(client);
    this.budget.closed(done, handover);
    return done;
  }

  private dropIfIdle(client: DriverClient): void {
    const at = this.idle.findIndex((e) => e.client === client);
    if (at >= 0) void this.closeIdleAt(at, false);
  }

  private lend(client: DriverClient): LentClient {
    let lent = true;
    return Object.assign(client, {
      release: () => {
        if (!lent) return; // a second release of the same loan is a no-op, never a double count
        lent = false;
        this.giveBack(client);
      },
    });
  }

  private giveBack(client: DriverClient): void {
    const broken = (client as { broken?: () => boolean }).broken?.() ?? false;
    if (this.ended || broken) {
      void this.close(client, false);
      return;
    }
    const entry: Idle = {
      client,
      since: performance.now(),
      timer: setTimeout(() => {
        const at = this.idle.indexOf(entry);
        if (at >= 0) void this.closeIdleAt(at, false);
      }, this.budget.idleTimeoutMs),
    };
    entry.timer.unref?.();
    this.idle.push(entry);
    this.budget.pump();
  }
}

/**
 * `client.end()`, settled within a few seconds whatever happens: the slot is counted until the
 * socket closed (the server has let the connection go by then), but never leaks.
 */
function ended(client: DriverClient): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5_000);
    timer.unref?.();
    client
      .end()
      .catch(() => {})
      .finally(() => {
        clearTimeout(timer);
        resolve();
      });
  });
}
