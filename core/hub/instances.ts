/**
 * The instances a hub records, opened for use: each from its own database and storage, and a
 * pool that keeps the most recently used ones open. Shared by the hub's HTTP app and the
 * deployed ingest and reconcile functions (so it knows nothing of HTTP).
 */
import type { Database } from "../db/client.js";
import { ServerBusyError } from "../db/connection-budget.js";
import * as schema from "../db/schema.js";
import { LaminError } from "../errors.js";
import { ANONYMOUS, Instance } from "../instance.js";
import type { InstanceSettings } from "../settings.js";
import { openStorage } from "../storage/open.js";
import { instanceUidFromId } from "../uid.js";
import type { HubInstanceRecord } from "./hub.js";

/**
 * Open an instance database recorded in the hub; errors never carry its URL. `embedded` opens
 * a `pglite:` database instead (core/hub/pglite-provisioner.ts), with the lock it holds.
 */
export async function openRecordedInstance(
  record: HubInstanceRecord,
  embedded?: { database: () => Promise<Database>; lock: { release(): void } },
): Promise<Instance> {
  let database: Database | undefined;
  try {
    if (embedded) database = await embedded.database();
    else {
      const { openPostgres } = await import("../db/postgres.js");
      // a small pool whose connections count against the hub's cap for the server
      database = await openPostgres(record.db_url, {
        max: envWhole("LAMIN_HUB_INSTANCE_CONNECTIONS", 4),
        shared: true,
      });
    }
    const storage = openStorage(record.storage_root, {
      ...(record.storage_endpoint ? { endpoint: record.storage_endpoint } : {}),
    });
    // The rows are found in the database itself: an instance made by `lamin init` and adopted
    // by the hub has its own uid and user ("anonymous"); one provisioned by the hub, the owner.
    const storageRows = await database.db.select().from(schema.storage).orderBy(schema.storage.id);
    const storageRow =
      storageRows.find((s) => s.root === record.storage_root) ??
      storageRows.find((s) => s.instanceUid === instanceUidFromId(record.id)) ??
      storageRows[0];
    const users = await database.db.select().from(schema.user).orderBy(schema.user.id);
    const userRow =
      users.find((u) => u.handle === record.owner) ??
      users.find((u) => u.handle === ANONYMOUS.handle) ??
      users[0];
    if (!storageRow || !userRow) {
      throw new LaminError(
        "integrity",
        `the database of '${record.owner}/${record.name}' has no storage or user row`,
      );
    }
    const settings: InstanceSettings = {
      owner: record.owner,
      name: record.name,
      id: record.id,
      uid: storageRow.instanceUid ?? instanceUidFromId(record.id),
      storageRoot: record.storage_root,
      ...(record.storage_endpoint ? { storageEndpoint: record.storage_endpoint } : {}),
      db: { kind: "postgres", url: record.db_url },
      createdAt: record.created_at.toISOString(),
    };
    return new Instance(settings, database, storage, storageRow, userRow, embedded?.lock);
  } catch (error) {
    await database?.close().catch(() => {});
    if (error instanceof LaminError && error.kind === "integrity") throw error;
    if (error instanceof ServerBusyError) throw error; // names no server: the caller may retry
    // the message of a connection error names the server: say nothing of it
    throw new LaminError(
      "unavailable",
      `the database of '${record.owner}/${record.name}' cannot be reached`,
      "try again later; if it persists, tell the hub's operator",
    );
  }
}

/** An open instance lent to one request: it stays open until `release()`. */
export interface InstanceLease {
  instance: Instance;
  release(): void;
}

export interface InstancePoolOptions {
  /**
   * Instances open at once (LAMIN_HUB_MAX_OPEN_INSTANCES, default 1000). An instance on a
   * database server holds no connection while idle (connection-budget.ts caps those): this
   * bounds memory only.
   */
  maxOpen?: number;
  /**
   * Embedded (PGlite) instances open at once (LAMIN_HUB_MAX_OPEN_EMBEDDED, default 8): each
   * holds a whole database engine in this process's memory.
   */
  maxOpenEmbedded?: number;
  /** How long a request waits for room when every open instance is in use (default 10 s). */
  waitMs?: number;
}

interface Entry {
  id: string;
  embedded: boolean;
  opening: Promise<Instance>;
  /** Requests holding a lease: an instance is closed only at 0. */
  users: number;
  idle: (() => void)[];
}

const isEmbedded = (record: HubInstanceRecord) => record.db_url?.startsWith("pglite:") ?? false;

function envWhole(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new LaminError(
      "validation",
      `${name} is '${raw}'`,
      `set ${name} to a whole number of at least 1, or unset it`,
    );
  }
  return n;
}

/**
 * Each instance opened once, keyed by its id; concurrent first requests share one opening.
 * Beyond a cap, the least recently used instance that no request holds is closed (it reopens on
 * its next request); when every open instance is in use, a request waits for one to be given
 * back, for a bounded time, then is told the hub is busy (UnavailableError: HTTP 503).
 */
export class InstancePool {
  /** Open instances, least recently used first (a Map keeps insertion order). */
  private readonly open = new Map<string, Entry>();
  /** Instances being closed: reopening one waits for its close (a PGlite folder's lock). */
  private readonly closing = new Map<string, Promise<void>>();
  /** Requests waiting for room, woken whenever an instance is given back or closed. */
  private wakers: (() => void)[] = [];
  private readonly maxOpen: number;
  private readonly maxOpenEmbedded: number;
  private readonly waitMs: number;

  constructor(
    private readonly opener: (
      record: HubInstanceRecord,
    ) => Promise<Instance> = openRecordedInstance,
    opts: InstancePoolOptions | number = {},
  ) {
    const o = typeof opts === "number" ? { maxOpen: opts } : opts;
    this.maxOpen = o.maxOpen ?? envWhole("LAMIN_HUB_MAX_OPEN_INSTANCES", 1000);
    this.maxOpenEmbedded = Math.min(
      this.maxOpen,
      o.maxOpenEmbedded ?? envWhole("LAMIN_HUB_MAX_OPEN_EMBEDDED", 8),
    );
    this.waitMs = o.waitMs ?? 10_000;
  }

  /** The instance of `record`, held open for the caller until it releases the lease. */
  async acquire(record: HubInstanceRecord): Promise<InstanceLease> {
    const entry = await this.enter(record);
    let instance: Instance;
    try {
      instance = await entry.opening;
    } catch (error) {
      this.leave(entry);
      throw error;
    }
    let held = true;
    return {
      instance,
      release: () => {
        if (!held) return;
        held = false;
        this.leave(entry);
      },
    };
  }

  /**
   * The instance of `record`, without a lease: for a caller that serves one event at a time
   * (the ingest and reconcile functions). A later opening may close it once it is the least
   * recently used: concurrent callers use `acquire`.
   */
  async get(record: HubInstanceRecord): Promise<Instance> {
    const lease = await this.acquire(record);
    lease.release();
    return lease.instance;
  }

  /** Forget an instance (deleted): closed once the requests holding it are done. */
  async evict(id: string): Promise<void> {
    const entry = this.open.get(id);
    if (!entry) return this.closing.get(id);
    this.open.delete(id);
    await this.closeWhenIdle(entry);
  }

  get size(): number {
    return this.open.size;
  }

  /** Whether the instance of this id is open (or opening). */
  has(id: string): boolean {
    return this.open.has(id);
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.keys()].map((id) => this.evict(id)));
    await Promise.all([...this.closing.values()]);
  }

  /** The entry of `record` with one more user: found, or opened where there is room. */
  private async enter(record: HubInstanceRecord): Promise<Entry> {
    const deadline = Date.now() + this.waitMs;
    const embedded = isEmbedded(record);
    for (;;) {
      const found = this.open.get(record.id);
      if (found) {
        this.open.delete(record.id); // most recently used goes last
        this.open.set(record.id, found);
        found.users++;
        return found;
      }
      const closing = this.closing.get(record.id);
      if (closing) {
        await closing;
        continue;
      }
      if (this.makeRoom(embedded)) {
        const entry: Entry = {
          id: record.id,
          embedded,
          opening: this.opener(record),
          users: 1,
          idle: [],
        };
        this.open.set(record.id, entry);
        // a failed opening is not kept: the next request tries again
        entry.opening.catch(() => {
          if (this.open.get(record.id) === entry) this.open.delete(record.id);
          this.wake();
        });
        return entry;
      }
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.waitForRoom(left))) {
        throw new LaminError(
          "unavailable",
          `every instance the hub keeps open (${embedded ? this.maxOpenEmbedded : this.maxOpen}${embedded ? " embedded" : ""}) is in use`,
          "try again in a moment; the hub's operator may raise LAMIN_HUB_MAX_OPEN_INSTANCES or LAMIN_HUB_MAX_OPEN_EMBEDDED",
        );
      }
    }
  }

  /** True if one more instance of this kind may open, closing the least recently used idle one if needed. */
  private makeRoom(embedded: boolean): boolean {
    const count = (only: boolean) =>
      only ? [...this.open.values()].filter((e) => e.embedded).length : this.open.size;
    for (;;) {
      const full =
        this.open.size >= this.maxOpen || (embedded && count(true) >= this.maxOpenEmbedded);
      if (!full) return true;
      // the cap that is reached decides which kind goes: any kind for the total, else embedded
      const onlyEmbedded = this.open.size < this.maxOpen;
      let victim: Entry | undefined;
      for (const e of this.open.values()) {
        if (e.users === 0 && (!onlyEmbedded || e.embedded)) {
          victim = e;
          break;
        }
      }
      if (!victim) return false;
      this.open.delete(victim.id);
      void this.closeWhenIdle(victim);
    }
  }

  /**
   * Close `entry` once no request holds it. A forgotten instance (deleted, or the hub closing)
   * waits for its holders only so long (`waitMs`): an answer whose body nobody reads holds its
   * lease forever, and must not keep the hub from stopping.
   */
  private closeWhenIdle(entry: Entry): Promise<void> {
    const idle =
      entry.users === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.waitMs);
            timer.unref?.();
            entry.idle.push(() => {
              clearTimeout(timer);
              resolve();
            });
          });
    const done = idle
      .then(() => entry.opening)
      .then(
        (instance) => instance.close(),
        () => {},
      )
      .catch(() => {})
      .finally(() => {
        if (this.closing.get(entry.id) === done) this.closing.delete(entry.id);
        this.wake();
      });
    this.closing.set(entry.id, done);
    return done;
  }

  private leave(entry: Entry): void {
    entry.users--;
    if (entry.users > 0) return;
    for (const resolve of entry.idle.splice(0)) resolve();
    this.wake();
  }

  private wake(): void {
    for (const wake of this.wakers.splice(0)) wake();
  }

  /** Resolves true when something was given back, false after `ms`. */
  private waitForRoom(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakers = this.wakers.filter((w) => w !== wake);
        resolve(false);
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.wakers.push(wake);
    });
  }
}
