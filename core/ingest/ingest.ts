/**
 * Registration driven by storage events: an object written to the instance's storage becomes
 * an artifact (or the next version of the one at its key), a deleted object moves its artifacts
 * to the trash, and bytes of an upload started through the API complete it.
 *
 * Events arrive late, twice and out of order. Each key's last applied sequencer is kept in
 * `lns_storage_object`; an event applies only if its sequencer is not older, decided under a
 * per-key advisory lock in the same transaction that writes the artifact rows. Hashing reads
 * are conditional on the event's ETag, so bytes that changed since the event are never
 * registered under it (the newer event will).
 */
import { basename } from "node:path";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import * as t from "../db/schema.js";
import { LaminError, NotFoundError } from "../errors.js";
import type { Instance } from "../instance.js";
import { storedKeyProblem } from "../registry/artifacts/keys.js";
import { MAIN, TRASH } from "../registry/common/branch.js";
import { LOCK, lock } from "../registry/common/locks.js";
import { familyUids, refreshLatest } from "../registry/common/versions.js";
import {
  AUTO_KEY_PREFIX,
  LinkedKeyError,
  StaleObjectError,
  type StoredHash,
} from "../storage/types.js";
import { canonicalSuffix } from "../suffix.js";
import { newVersionedUid, nextVersionedUid, UID_LENGTHS } from "../uid.js";
import { mapLimit } from "../util/concurrency.js";
import { normaliseSequencer, type StorageEvent } from "./events.js";

export type IngestAction =
  /** a new artifact */
  | "created"
  /** the next version of the artifact at the key */
  | "new-version"
  /** the artifact at the key already holds these bytes */
  | "existing"
  /** the same bytes came back at a key whose artifact was trashed */
  | "restored"
  /** a pending API/CLI upload, completed */
  | "completed"
  | "trashed"
  /** a newer event for the key was applied already, or the object changed since */
  | "stale"
  /** this very event was applied already */
  | "duplicate"
  /** not acted on, for the reason given (outside the storage root, invalid key, gone, ...) */
  | "skipped";

export interface IngestOutcome {
  action: IngestAction;
  /** Storage-relative key, or the object key when it is outside the storage root. */
  key: string;
  /** The artifact concerned, if any (for `trashed`, the first one). */
  uid?: string;
  reason?: string;
  /** Bytes read from storage to hash the object. */
  bytesRead?: number;
}

export type IngestResult =
  | { ok: true; event: StorageEvent; outcome: IngestOutcome }
  | { ok: false; event: StorageEvent; error: Error };

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** The lowest sequencer: what observations without one (reconcile) record, so events win. */
const OBSERVED = normaliseSequencer("0");
const STEM = UID_LENGTHS.artifact.stem;
const MANAGED_KEY = /^\.lamindb\/([A-Za-z0-9]{20})(\.[^/]*)?$/;

export class Ingestor {
  constructor(private readonly instance: Instance) {}

  private get db() {
    return this.instance.db;
  }

  private get storageId() {
    return this.instance.storageRecord.id;
  }

  /**
   * Apply events; those for one key in arrival order, different keys `concurrency` at a time.
   * An event that fails is reported, not thrown, so the rest of a batch goes on.
   */
  async applyAll(events: readonly StorageEvent[], concurrency = 16): Promise<IngestResult[]> {
    const byKey = new Map<string, number[]>();
    events.forEach((event, i) => {
      const id = `${event.bucket}\u0000${event.key}`;
      byKey.set(id, [...(byKey.get(id) ?? []), i]);
    });
    const results = new Array<IngestResult>(events.length);
    await mapLimit([...byKey.values()], concurrency, async (indexes) => {
      for (const i of indexes) {
        const event = events[i] as StorageEvent;
        try {
          results[i] = { ok: true, event, outcome: await this.apply(event) };
        } catch (error) {
          results[i] = { ok: false, event, error: error as Error };
        }
      }
    });
    return results;
  }

  /** Apply one event. Throws only for failures worth retrying (database, storage outages). */
  async apply(event: StorageEvent): Promise<IngestOutcome> {
    const key = this.relativeKey(event.bucket, event.key);
    if (typeof key !== "string") return { action: "skipped", key: event.key, reason: key.outside };
    if (key === ".lamindb" || key.startsWith(AUTO_KEY_PREFIX)) return this.managed(event, key);
    const problem = storedKeyProblem(key);
    if (problem) return { action: "skipped", key, reason: `invalid artifact key: it ${problem}` };
    return event.type === "created" ? this.created(event, key) : this.removed(event.sequencer, key);
  }

  /** The storage-relative key of an object, or why it is not in this instance's storage. */
  relativeKey(bucket: string, objectKey: string): string | { outside: string } {
    const root = this.instance.storageRecord.root;
    const m = /^[a-z0-9]+:\/\/([^/]+)\/?(.*)$/.exec(root);
    if (!m) {
      return bucket === "" ? objectKey : { outside: `bucket ${bucket} is not this storage` };
    }
    const [, ownBucket, prefix] = m as unknown as [string, string, string];
    if (bucket !== ownBucket) {
      return { outside: `bucket ${bucket} is not this instance's storage (${root})` };
    }
    if (prefix === "") return objectKey;
    if (!objectKey.startsWith(`${prefix}/`)) {
      return { outside: `outside the storage prefix ${prefix}/` };
    }
    return objectKey.slice(prefix.length + 1);
  }

  // ---------------------------------------------------------------- objects at their keys

  private async created(event: StorageEvent, key: string): Promise<IngestOutcome> {
    const known = await this.known(this.db, key);
    if (known && known.sequencer > event.sequencer) {
      return { action: "stale", key, reason: "a newer event for this key was applied" };
    }
    if (known && !known.deleted && known.artifactId !== null && event.etag === known.etag) {
      if (known.sequencer === event.sequencer) return { action: "duplicate", key };
      // Same bytes again (moto and some servers send two events per multipart upload): no need
      // to read them, only to remember that this later event was seen.
      if (await this.advance(key, event.sequencer, event.etag)) return { action: "existing", key };
    }
    let hashed: StoredHash;
    try {
      hashed = await this.instance.storage.hashObject(
        key,
        event.etag ? { ifEtag: event.etag } : {},
      );
    } catch (error) {
      if (error instanceof StaleObjectError) {
        return { action: "stale", key, reason: "the object changed after this event" };
      }
      if (error instanceof NotFoundError) {
        return { action: "skipped", key, reason: "the object was deleted before it was read" };
      }
      if (error instanceof LinkedKeyError) return this.linked(key, event.sequencer, error);
      throw error;
    }
    return this.register(key, hashed, event.sequencer, event.versionId);
  }

  /**
   * A key whose path is (or passes through) a symbolic link in local storage: never followed, so
   * no bytes are there. What was registered at the key is gone, as reconcile also finds; a key
   * where nothing was registered is skipped without a trace.
   */
  private async linked(
    key: string,
    sequencer: string,
    error: LinkedKeyError,
  ): Promise<IngestOutcome> {
    const known = await this.known(this.db, key);
    if (!known || known.deleted || known.artifactId === null) {
      return { action: "skipped", key, reason: error.message };
    }
    return { ...(await this.trash(key, sequencer)), reason: error.message };
  }

  /**
   * Make the artifact at `key` describe `hashed`, unless an event newer than `sequencer` was
   * applied meanwhile. `sequencer` undefined: an observation (reconcile) that always applies.
   */
  async register(
    key: string,
    hashed: StoredHash,
    sequencer: string | undefined,
    versionId?: string,
  ): Promise<IngestOutcome> {
    const outcome = await this.db.transaction(async (tx) => {
      await lock(tx, LOCK.storageObject, `${this.storageId}/${key}`);
      const known = await this.known(tx, key);
      if (sequencer !== undefined && known && known.sequencer > sequencer) return undefined;
      const at = await this.rowsAt(tx, key);
      const same = at.find((r) => r.hash === hashed.hash);
      let row: { id: number; uid: string };
      let action: IngestAction;
      if (same) {
        row = same;
        action = same.branchId === TRASH ? "restored" : "existing";
        if (!same.keyIsVirtual && (same.aux as { etag?: string } | null)?.etag !== hashed.etag) {
          // same bytes, new ETag (rewritten, or a local file touched): remember the new one
          await tx
            .update(t.artifact)
            .set({
              aux: sql`coalesce(${t.artifact.aux}, '{}'::jsonb) || ${JSON.stringify({ etag: hashed.etag })}::jsonb`,
            })
            .where(eq(t.artifact.id, same.id));
        }
        if (action === "restored") {
          await tx
            .update(t.artifact)
            .set({ branchId: MAIN, updatedAt: sql`now()` })
            .where(eq(t.artifact.id, same.id));
          await refreshLatest(tx, "artifact", same.uid.slice(0, STEM));
        }
      } else {
        // Continue the key's family, trashed or not: a re-upload after a delete is its next version.
        const head = at.find((r) => r.branchId === MAIN && r.isLatest) ?? at.at(-1);
        if (head?.branchId === MAIN && head.isLatest) {
          await tx.update(t.artifact).set({ isLatest: false }).where(eq(t.artifact.id, head.id));
        }
        const uid = head
          ? nextVersionedUid(
              "artifact",
              head.uid,
              await familyUids(tx, "artifact", head.uid.slice(0, STEM)),
            )
          : newVersionedUid("artifact");
        const [inserted] = await tx
          .insert(t.artifact)
          .values(this.values(key, uid, hashed, versionId))
          .returning({ id: t.artifact.id, uid: t.artifact.uid });
        row = inserted as { id: number; uid: string };
        action = head ? "new-version" : "created";
      }
      await this.record(tx, key, {
        sequencer: sequencer ?? known?.sequencer ?? OBSERVED,
        etag: hashed.etag,
        deleted: false,
        artifactId: row.id,
      });
      return { action, key, uid: row.uid, bytesRead: hashed.bytesRead } as IngestOutcome;
    });
    return (
      outcome ?? {
        action: "stale",
        key,
        reason: "a newer event for this key was applied while hashing",
        bytesRead: hashed.bytesRead,
      }
    );
  }

  private removed(sequencer: string, key: string): Promise<IngestOutcome> {
    return this.trash(key, sequencer);
  }

  /**
   * Move the artifacts whose bytes were at `key` to the trash (every version: an object
   * overwritten in place keeps no older bytes). `sequencer` undefined: an observation.
   */
  async trash(key: string, sequencer: string | undefined): Promise<IngestOutcome> {
    return this.db.transaction(async (tx) => {
      await lock(tx, LOCK.storageObject, `${this.storageId}/${key}`);
      const known = await this.known(tx, key);
      if (sequencer !== undefined && known && known.sequencer > sequencer) {
        return { action: "stale", key, reason: "a newer event for this key was applied" };
      }
      const trashed = await tx
        .update(t.artifact)
        .set({ branchId: TRASH, isLatest: false, updatedAt: sql`now()` })
        .where(
          and(
            eq(t.artifact.storageId, this.storageId),
            eq(t.artifact.key, key),
            eq(t.artifact.keyIsVirtual, false),
            eq(t.artifact.branchId, MAIN),
          ),
        )
        .returning({ uid: t.artifact.uid });
      for (const stem of new Set(trashed.map((r) => r.uid.slice(0, STEM)))) {
        await refreshLatest(tx, "artifact", stem);
      }
      await this.record(tx, key, {
        sequencer: sequencer ?? known?.sequencer ?? OBSERVED,
        etag: null,
        deleted: true,
        artifactId: null,
      });
      const first = trashed[0];
      if (!first) {
        return known?.deleted && known.sequencer === sequencer
          ? ({ action: "duplicate", key } as IngestOutcome)
          : ({ action: "skipped", key, reason: "no artifact is registered at this key" } as const);
      }
      return {
        action: "trashed",
        key,
        uid: first.uid,
        ...(trashed.length > 1 ? { reason: `${trashed.length} versions moved to the trash` } : {}),
      } as IngestOutcome;
    });
  }

  // ---------------------------------------------------------------- managed keys

  /** `.lamindb/<uid><suffix>`: the bytes of an upload started through the API or CLI. */
  private async managed(event: StorageEvent, key: string): Promise<IngestOutcome> {
    const uid = MANAGED_KEY.exec(key)?.[1];
    if (event.type === "removed") {
      return {
        action: "skipped",
        key,
        reason: uid
          ? "bytes of a managed artifact were deleted outside lamindb; `lamin reconcile` reports it"
          : "lamindb's own file",
      };
    }
    if (!uid) return { action: "skipped", key, reason: "lamindb's own file, not an artifact" };
    const artifacts = this.instance.artifacts;
    const artifact = await artifacts.get(uid).catch((error) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (!artifact) {
      return {
        action: "skipped",
        key,
        reason: `no artifact ${uid} awaits these bytes; \`lamin reconcile\` reports them`,
      };
    }
    if (artifact.upload_complete) return { action: "duplicate", key, uid };
    try {
      await artifacts.completeUpload(uid);
    } catch (error) {
      if (error instanceof LaminError && error.kind === "integrity") {
        return { action: "skipped", key, uid, reason: error.message };
      }
      throw error;
    }
    return { action: "completed", key, uid };
  }

  // ---------------------------------------------------------------- rows

  private async known(db: Db | Tx, key: string): Promise<t.StorageObjectRow | undefined> {
    const [row] = await db
      .select()
      .from(t.storageObject)
      .where(and(eq(t.storageObject.storageId, this.storageId), eq(t.storageObject.key, key)));
    return row;
  }

  /** Move the key's sequencer forward if it still describes these bytes; false otherwise. */
  private async advance(key: string, sequencer: string, etag: string): Promise<boolean> {
    const o = t.storageObject;
    const moved = await this.db
      .update(o)
      .set({ sequencer, updatedAt: sql`now()` })
      .where(
        and(
          eq(o.storageId, this.storageId),
          eq(o.key, key),
          eq(o.etag, etag),
          eq(o.deleted, false),
          sql`${o.sequencer} < ${sequencer}`,
        ),
      )
      .returning({ key: o.key });
    return moved.length > 0;
  }

  private rowsAt(tx: Tx, key: string) {
    const a = t.artifact;
    return tx
      .select({
        id: a.id,
        uid: a.uid,
        hash: a.hash,
        branchId: a.branchId,
        isLatest: a.isLatest,
        keyIsVirtual: a.keyIsVirtual,
        aux: a.aux,
      })
      .from(a)
      .where(and(eq(a.storageId, this.storageId), eq(a.key, key)))
      .orderBy(asc(a.createdAt), asc(a.id));
  }

  private async record(
    tx: Tx,
    key: string,
    state: Pick<t.StorageObjectRow, "sequencer" | "etag" | "deleted" | "artifactId">,
  ): Promise<void> {
    await tx
      .insert(t.storageObject)
      .values({ storageId: this.storageId, key, ...state })
      .onConflictDoUpdate({
        target: [t.storageObject.storageId, t.storageObject.key],
        set: { ...state, updatedAt: sql`now()` },
      });
  }

  private values(key: string, uid: string, hashed: StoredHash, versionId?: string) {
    return {
      uid,
      key,
      storageId: this.storageId,
      suffix: canonicalSuffix(basename(key)),
      size: hashed.size,
      hash: hashed.hash,
      hashType: hashed.hashType,
      keyIsVirtual: false,
      overwriteVersions: false,
      createdById: this.instance.user.id,
      // the raw ETag (and S3 version) beside LaminDB's hash: reconcile compares them
      aux: { etag: hashed.etag, ...(versionId ? { version_id: versionId } : {}) },
    };
  }
}
