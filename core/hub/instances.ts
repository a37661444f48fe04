/**
 * The instances a hub records, opened for use: each from its own database and storage, and a
 * pool that keeps the most recently used ones open. Shared by the hub's HTTP app and the
 * deployed ingest and reconcile functions (so it knows nothing of HTTP).
 */
import type { Database } from "../db/client.js";
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
      database = await openPostgres(record.db_url, { max: 4 });
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
    // the message of a connection error names the server: say nothing of it
    throw new LaminError(
      "unavailable",
      `the database of '${record.owner}/${record.name}' cannot be reached`,
      "try again later; if it persists, tell the hub's operator",
    );
  }
}

/** Each instance opened once, keyed by its id; concurrent first requests share one opening. */
export class InstancePool {
  /** Open instances, least recently used first (a Map keeps insertion order). */
  private readonly open = new Map<string, Promise<Instance>>();

  /**
   * `maxOpen` bounds the instances open at once: each holds its own connections (up to 4), and
   * a database server allows only so many (Postgres: 100 by default). Beyond it, the least
   * recently used instance is closed; it reopens on its next request.
   */
  constructor(
    private readonly opener: (
      record: HubInstanceRecord,
    ) => Promise<Instance> = openRecordedInstance,
    private readonly maxOpen = Number(process.env.LAMIN_HUB_MAX_OPEN_INSTANCES ?? 16),
  ) {}

  get(record: HubInstanceRecord): Promise<Instance> {
    let pending = this.open.get(record.id);
    if (pending) {
      this.open.delete(record.id); // most recently used goes last
      this.open.set(record.id, pending);
    } else {
      while (this.open.size >= Math.max(1, this.maxOpen)) {
        const oldest = this.open.keys().next().value as string;
        void this.evict(oldest);
      }
      pending = this.opener(record);
      this.open.set(record.id, pending);
      // a failed opening is not cached: the next request tries again
      pending.catch(() => {
        if (this.open.get(record.id) === pending) this.open.delete(record.id);
      });
    }
    return pending;
  }

  async evict(id: string): Promise<void> {
    const pending = this.open.get(id);
    this.open.delete(id);
    const instance = await pending?.catch(() => undefined);
    await instance?.close().catch(() => {});
  }

  get size(): number {
    return this.open.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.keys()].map((id) => this.evict(id)));
  }
}
