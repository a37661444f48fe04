/**
 * `lamin reconcile`: compare what storage holds with what the registry says, and repair what
 * events missed. Objects nobody registered are registered, artifacts whose object vanished go to
 * the trash, objects whose size or ETag changed get a new version, and uploads whose bytes
 * arrived are completed. What it cannot repair (a managed artifact whose bytes are gone, bytes
 * under `.lamindb/` that no artifact claims) is reported. Running it twice changes nothing more.
 */
import { and, eq, isNotNull } from "drizzle-orm";
import * as t from "../db/schema.js";
import { NotFoundError } from "../errors.js";
import type { Instance } from "../instance.js";
import { physicalKey } from "../registry/artifacts.js";
import { MAIN } from "../registry/branch.js";
import { storedKeyProblem } from "../registry/keys.js";
import { AUTO_KEY_PREFIX, type ObjectInfo, StaleObjectError } from "../storage/types.js";
import { mapLimit } from "../util/concurrency.js";
import { type IngestOutcome, Ingestor } from "./ingest.js";

export interface ReconcileReport {
  dryRun: boolean;
  /** Objects in storage that no artifact described. */
  registered: Change[];
  /** Objects whose size or ETag differ from their artifact's. */
  changed: Change[];
  /** Artifacts whose object is gone. */
  trashed: Change[];
  /** Pending uploads whose bytes are in storage. */
  completed: Change[];
  /** Pending uploads still without bytes (in progress, or abandoned: delete them to clean up). */
  waiting: Change[];
  /** Managed artifacts whose bytes are missing: not repairable here. */
  missingBytes: Change[];
  /** Objects under `.lamindb/` that no artifact claims. */
  unclaimed: string[];
  /** Objects that cannot be artifacts, with the reason. */
  skipped: Change[];
  unchanged: number;
}

export interface Change {
  key: string;
  uid?: string;
  /** What the repair did (absent in a dry run). */
  action?: IngestOutcome["action"];
  detail?: string;
}

/** Bookkeeping of lamindb itself below `.lamindb/`, never artifacts. */
const OWN_FILES = /^\.lamindb\/(pglite(\/|\.lock$)|storage_uid\.txt$)|\.upload-[A-Za-z0-9]+(\/|$)/;

export async function reconcile(
  instance: Instance,
  opts: { dryRun?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<ReconcileReport> {
  const dryRun = opts.dryRun ?? false;
  const report: ReconcileReport = {
    dryRun,
    registered: [],
    changed: [],
    trashed: [],
    completed: [],
    waiting: [],
    missingBytes: [],
    unclaimed: [],
    skipped: [],
    unchanged: 0,
  };
  const objects = new Map<string, ObjectInfo>();
  for await (const o of instance.storage.listObjects("")) objects.set(o.key, o);

  const rows = await instance.db
    .select({
      uid: t.artifact.uid,
      key: t.artifact.key,
      realKey: t.artifact.realKey,
      keyIsVirtual: t.artifact.keyIsVirtual,
      overwriteVersions: t.artifact.overwriteVersions,
      suffix: t.artifact.suffix,
      size: t.artifact.size,
      isLatest: t.artifact.isLatest,
      aux: t.artifact.aux,
      createdAt: t.artifact.createdAt,
    })
    .from(t.artifact)
    .where(and(eq(t.artifact.storageId, instance.storageRecord.id), eq(t.artifact.branchId, MAIN)));

  // What events recorded per key: the ETag whose bytes an artifact describes.
  const seen = new Map<string, string>();
  for (const o of await instance.db
    .select({ key: t.storageObject.key, etag: t.storageObject.etag })
    .from(t.storageObject)
    .where(
      and(
        eq(t.storageObject.storageId, instance.storageRecord.id),
        eq(t.storageObject.deleted, false),
        isNotNull(t.storageObject.artifactId),
      ),
    )) {
    if (o.etag) seen.set(o.key, o.etag);
  }

  // Managed bytes: every artifact stored below `.lamindb/` claims its key (folders: a prefix).
  const claimed = new Set<string>();
  const folders = new Set<string>();
  for (const key of objects.keys()) {
    const root = folderRoot(key);
    if (root) folders.add(root);
  }
  const inPlace = new Map<string, (typeof rows)[number]>();
  const pending: (typeof rows)[number][] = [];
  for (const row of rows) {
    const where = physicalKey(row);
    if (!where.startsWith(AUTO_KEY_PREFIX)) {
      if (row.isLatest && row.key !== null) inPlace.set(row.key, row);
      continue;
    }
    claimed.add(where);
    const present = row.overwriteVersions ? folders.has(where) : objects.has(where);
    // folder uploads are staged elsewhere and completed by their client
    if ((row.aux as { so?: number } | null)?.so === 1) {
      if (!row.overwriteVersions) pending.push(row);
    } else if (!present) {
      report.missingBytes.push({ key: where, uid: row.uid, detail: "no bytes in storage" });
    }
  }
  const isClaimed = (key: string) => claimed.has(key) || claimed.has(folderRoot(key) ?? "");
  const ingestor = new Ingestor(instance);
  const work: (() => Promise<void>)[] = [];

  for (const row of pending) {
    const where = physicalKey(row);
    if (!objects.has(where)) {
      const since = row.createdAt.toISOString();
      report.waiting.push({ key: where, uid: row.uid, detail: `waiting for bytes since ${since}` });
      continue;
    }
    const change: Change = { key: where, uid: row.uid };
    report.completed.push(change);
    if (!dryRun) {
      work.push(async () => {
        await instance.artifacts.completeUpload(row.uid).then(
          () => {
            change.action = "completed";
          },
          (error: Error) => {
            change.action = "skipped";
            change.detail = error.message;
          },
        );
      });
    }
  }

  for (const [key, object] of objects) {
    if (key === ".lamindb" || key.startsWith(AUTO_KEY_PREFIX)) {
      if (!OWN_FILES.test(key) && !isClaimed(key)) report.unclaimed.push(key);
      continue;
    }
    const problem = storedKeyProblem(key);
    if (problem) {
      report.skipped.push({ key, detail: `invalid artifact key: it ${problem}` });
      continue;
    }
    const row = inPlace.get(key);
    const etag = (row?.aux as { etag?: string } | null)?.etag;
    if (seen.get(key) === object.etag || (row?.size === object.size && etag === object.etag)) {
      report.unchanged++;
      continue;
    }
    const change: Change = {
      key,
      ...(row
        ? {
            uid: row.uid,
            detail: `was ${row.size} bytes (ETag ${etag ?? "unknown"}), now ${object.size} bytes (ETag ${object.etag})`,
          }
        : {}),
    };
    (row ? report.changed : report.registered).push(change);
    if (!dryRun) work.push(() => registerObject(ingestor, instance, object, change));
  }

  for (const [key, row] of inPlace) {
    if (objects.has(key)) continue;
    const change: Change = { key, uid: row.uid };
    report.trashed.push(change);
    if (!dryRun) {
      work.push(async () => {
        change.action = (await ingestor.trash(key, undefined)).action;
      });
    }
  }

  let done = 0;
  await mapLimit(work, 8, async (job) => {
    await job();
    opts.onProgress?.(++done, work.length);
  });
  return report;
}

async function registerObject(
  ingestor: Ingestor,
  instance: Instance,
  object: ObjectInfo,
  change: Change,
): Promise<void> {
  try {
    const hashed = await instance.storage.hashObject(object.key, { ifEtag: object.etag });
    const outcome = await ingestor.register(object.key, hashed, undefined, object.versionId);
    change.action = outcome.action;
    change.uid = outcome.uid ?? change.uid;
  } catch (error) {
    if (!(error instanceof StaleObjectError || error instanceof NotFoundError)) throw error;
    change.action = "skipped";
    change.detail = "the object changed while reconciling; run reconcile again";
  }
}

/** `.lamindb/<stem><suffix>` for a file inside a managed folder artifact. */
function folderRoot(key: string): string | undefined {
  const parts = key.split("/");
  return parts.length > 2 && parts[0] === ".lamindb" ? `${parts[0]}/${parts[1]}` : undefined;
}
