/**
 * `lamin reconcile`: compare what storage holds with what the registry says, and repair what
 * events missed. Objects nobody registered are registered, artifacts whose object vanished go to
 * the trash, objects whose size or ETag changed get a new version, uploads whose bytes are
 * complete are completed, uploads pending for longer than the expiry are removed with their
 * bytes, and partial files of interrupted writes are removed once nothing has written them for
 * an hour. What it cannot repair (a managed artifact whose bytes are gone, bytes under
 * `.lamindb/` that no artifact claims) is reported. Running it twice changes nothing more.
 *
 * One function plans; a dry run prints the plan, a real run carries it out, so the two say the
 * same. Every decision that depends on bytes (is this upload complete?) is taken while planning.
 * A step whose object changed between planning and doing is skipped, with the reason.
 */
import { and, eq, isNotNull } from "drizzle-orm";
import * as t from "../db/schema.js";
import { IntegrityError, NotFoundError, ValidationError } from "../errors.js";
import type { Instance } from "../instance.js";
import { physicalKey } from "../registry/artifacts/artifacts.js";
import { storedKeyProblem } from "../registry/artifacts/keys.js";
import { MAIN } from "../registry/common/branch.js";
import {
  AUTO_KEY_PREFIX,
  LinkedKeyError,
  type ObjectInfo,
  StaleObjectError,
} from "../storage/types.js";
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
  /** Pending uploads whose bytes are in storage, complete and as declared. */
  completed: Change[];
  /** Pending uploads without (all) their bytes yet, younger than the expiry: left alone. */
  waiting: Change[];
  /** Pending uploads older than the expiry: removed with whatever bytes they had. */
  expired: Change[];
  /** Partial files of interrupted writes (`.tmp-*`, `.old-*`, abandoned upload staging), removed. */
  partial: Change[];
  /** Managed artifacts whose bytes are missing: not repairable here. */
  missingBytes: Change[];
  /** Objects under `.lamindb/` that no artifact claims. */
  unclaimed: string[];
  /** Objects that cannot be artifacts, or are being written, with the reason. */
  skipped: Change[];
  unchanged: number;
}

export type ReconcileAction = IngestOutcome["action"] | "expired" | "removed";

export interface Change {
  key: string;
  uid?: string;
  /** What the repair did (absent in a dry run). */
  action?: ReconcileAction;
  detail?: string;
}

export interface ReconcileOptions {
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** How long an upload may stay pending before it is removed (default: uploadExpiryMs()). */
  uploadExpiryMs?: number;
  /** How long a partial file must be untouched before it is removed (default 1 h). */
  partialAgeMs?: number;
  /** The time to judge ages against (tests). */
  now?: Date;
}

/** A repair found while planning: carried out by a real run, only printed by a dry run. */
interface Step {
  change: Change;
  apply: () => Promise<void>;
}

export interface ReconcilePlan {
  report: ReconcileReport;
  steps: Step[];
}

/** Default of `LAMIN_UPLOAD_EXPIRY`: a day. */
const DEFAULT_UPLOAD_EXPIRY = "24h";
/** A partial file written within this time may belong to a write in progress. */
const PARTIAL_AGE_MS = 60 * 60 * 1000;

/** Bookkeeping of lamindb itself below `.lamindb/`, never artifacts. */
const OWN_FILES = /^\.lamindb\/(pglite(\/|\.lock$)|storage_uid\.txt$)/;
/** A partial write (LocalStorage's temporary names): `<dest>.tmp-<8>` or `<dest>.old-<8>`. */
const PARTIAL = /^(\.lamindb\/(?:[^/]+\/)*?[^/]+\.(tmp|old)-[A-Za-z0-9]{8})(\/|$)/;
/** Where a folder upload is staged (Artifacts.uploadTarget): `.lamindb/<stem><suffix>.upload-<4>`. */
const STAGING = /^(\.lamindb\/[^/]+\.upload-[A-Za-z0-9]{4})(\/|$)/;

const UNITS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration like `24h`, `90m`, `2d`, `30s` or a number of seconds, in milliseconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(text);
  if (!m) {
    throw new ValidationError(
      `${what} must be a duration like 24h, 90m, 2d or 3600 (seconds), got '${text}'`,
      `e.g. ${what}=12h`,
    );
  }
  return Math.round(Number(m[1]) * UNITS[(m[2] || "s") as keyof typeof UNITS]);
}

/** How long an upload may stay pending: `LAMIN_UPLOAD_EXPIRY` (e.g. 24h, the default). */
export function uploadExpiryMs(env: NodeJS.ProcessEnv = process.env): number {
  return parseDuration(env.LAMIN_UPLOAD_EXPIRY || DEFAULT_UPLOAD_EXPIRY, "LAMIN_UPLOAD_EXPIRY");
}

/** A duration in words, for reports: "24 h", "90 min", "30 s". */
function span(ms: number): string {
  if (ms % UNITS.h === 0) return `${ms / UNITS.h} h`;
  if (ms % UNITS.m === 0) return `${ms / UNITS.m} min`;
  return `${Math.round(ms / 1000)} s`;
}

export async function reconcile(
  instance: Instance,
  opts: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const plan = await planReconcile(instance, opts);
  if (opts.dryRun) return plan.report;
  return applyReconcile(plan, opts.onProgress);
}

/** Carry out a plan: each step records what it did in its change. */
export async function applyReconcile(
  plan: ReconcilePlan,
  onProgress?: (done: number, total: number) => void,
): Promise<ReconcileReport> {
  let done = 0;
  await mapLimit(plan.steps, 8, async (step) => {
    await step.apply();
    onProgress?.(++done, plan.steps.length);
  });
  return { ...plan.report, dryRun: false };
}

/** What reconcile would do, and how: read-only. */
export async function planReconcile(
  instance: Instance,
  opts: ReconcileOptions = {},
): Promise<ReconcilePlan> {
  const now = opts.now ?? new Date();
  const expiry = opts.uploadExpiryMs ?? uploadExpiryMs();
  const cutoff = new Date(now.getTime() - expiry);
  const partialAge = opts.partialAgeMs ?? PARTIAL_AGE_MS;
  const report: ReconcileReport = {
    dryRun: true,
    registered: [],
    changed: [],
    trashed: [],
    completed: [],
    waiting: [],
    expired: [],
    partial: [],
    missingBytes: [],
    unclaimed: [],
    skipped: [],
    unchanged: 0,
  };
  const steps: Step[] = [];
  const plan = (list: Change[], change: Change, apply?: (change: Change) => Promise<void>) => {
    list.push(change);
    if (apply) steps.push({ change, apply: () => apply(change) });
  };

  const objects = new Map<string, ObjectInfo>();
  for await (const o of instance.storage.listObjects("")) objects.set(o.key, o);

  // every branch: a trashed artifact's bytes are still its own (restore brings it back)
  const rows = await instance.db
    .select({
      uid: t.artifact.uid,
      key: t.artifact.key,
      realKey: t.artifact.realKey,
      keyIsVirtual: t.artifact.keyIsVirtual,
      overwriteVersions: t.artifact.overwriteVersions,
      suffix: t.artifact.suffix,
      size: t.artifact.size,
      hash: t.artifact.hash,
      isLatest: t.artifact.isLatest,
      branchId: t.artifact.branchId,
      aux: t.artifact.aux,
      createdAt: t.artifact.createdAt,
    })
    .from(t.artifact)
    .where(eq(t.artifact.storageId, instance.storageRecord.id));

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
  const { artifacts } = instance;
  for (const row of rows) {
    const where = physicalKey(row);
    const live = row.branchId === MAIN;
    if (!where.startsWith(AUTO_KEY_PREFIX)) {
      if (live && row.isLatest && row.key !== null) inPlace.set(row.key, row);
      continue;
    }
    claimed.add(where);
    if (!live) continue;
    if ((row.aux as { so?: number } | null)?.so === 1) {
      pending.push(row);
      claimed.add(artifacts.uploadTarget(row).key);
    } else if (!(row.overwriteVersions ? folders.has(where) : objects.has(where))) {
      report.missingBytes.push({ key: where, uid: row.uid, detail: "no bytes in storage" });
    }
  }
  const isClaimed = (key: string) => claimed.has(key) || claimed.has(folderRoot(key) ?? "");

  const ingestor = new Ingestor(instance);

  // ---- pending uploads: complete, wait, or expire
  const expire = async (change: Change) => {
    const gone = await artifacts.expireUpload(change.uid as string, cutoff);
    change.action = gone ? "expired" : "skipped";
    if (!gone) change.detail = "it is no longer pending (completed meanwhile)";
  };
  for (const row of pending) {
    const target = artifacts.uploadTarget(row).key;
    const since = `pending since ${row.createdAt.toISOString()}`;
    const expired = row.createdAt < cutoff;
    const verdict = row.overwriteVersions
      ? "a folder, completed by saving or uploading it again"
      : await bytesVerdict(instance, objects.get(target), row);
    if (verdict === undefined) {
      plan(report.completed, { key: target, uid: row.uid }, async (change) => {
        try {
          await artifacts.completeUpload(row.uid, { keepOnMismatch: true });
          change.action = "completed";
        } catch (error) {
          if (!(error instanceof IntegrityError || error instanceof NotFoundError)) throw error;
          change.action = "skipped";
          change.detail = "its bytes changed since they were checked; run reconcile again";
        }
      });
    } else if (expired) {
      const detail = `${since}, longer than LAMIN_UPLOAD_EXPIRY (${span(expiry)}); ${verdict}`;
      plan(report.expired, { key: target, uid: row.uid, detail }, expire);
    } else {
      report.waiting.push({
        key: target,
        uid: row.uid,
        detail: `${since}; ${verdict}; removed after ${span(expiry)}`,
      });
    }
  }

  // ---- partial files of interrupted writes, and abandoned upload staging
  const partials = new Map<string, { size: number; newest: number; old: boolean }>();
  const isPartial = (key: string): string | undefined => {
    if (OWN_FILES.test(key)) return undefined;
    const m = PARTIAL.exec(key);
    if (m) return m[1];
    const staged = STAGING.exec(key)?.[1];
    return staged && !claimed.has(staged) ? staged : undefined;
  };
  for (const [key, o] of objects) {
    const root = isPartial(key);
    if (!root) continue;
    const p = partials.get(root) ?? { size: 0, newest: 0, old: root.includes(".old-") };
    p.size += o.size;
    p.newest = Math.max(p.newest, o.lastModified?.getTime() ?? now.getTime());
    partials.set(root, p);
  }
  for (const [root, p] of partials) {
    const written = new Date(p.newest).toISOString();
    if (now.getTime() - p.newest < partialAge) {
      report.skipped.push({
        key: root,
        detail: `partial file written ${written}: a write may be in progress (removed once untouched for ${span(partialAge)})`,
      });
      continue;
    }
    const dest = root.replace(/\.old-[A-Za-z0-9]{8}$/, "");
    if (p.old && !objects.has(dest) && !folders.has(dest)) {
      // a replace interrupted between its two renames: these are the only bytes of `dest`
      report.skipped.push({
        key: root,
        detail: `the previous bytes of ${dest}, which is missing: rename it back to ${dest}`,
      });
      continue;
    }
    const detail = `${p.size} bytes, last written ${written}`;
    plan(report.partial, { key: root, detail }, async (change) => {
      await instance.storage.delete(root);
      change.action = "removed";
    });
  }

  // ---- objects: register, version, or report
  for (const [key, object] of objects) {
    if (key === ".lamindb" || key.startsWith(AUTO_KEY_PREFIX)) {
      if (!(OWN_FILES.test(key) || isClaimed(key) || isPartial(key))) report.unclaimed.push(key);
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
    plan(row ? report.changed : report.registered, change, (c) =>
      registerObject(ingestor, instance, object, c),
    );
  }

  for (const [key, row] of inPlace) {
    if (objects.has(key)) continue;
    plan(report.trashed, { key, uid: row.uid }, async (change) => {
      change.action = (await ingestor.trash(key, undefined)).action;
    });
  }

  return { report, steps };
}

/**
 * Why the bytes of a pending file upload are not (yet) what it declared, or undefined when they
 * are: sizes first (from the listing), the hash only when the size is right.
 */
async function bytesVerdict(
  instance: Instance,
  object: ObjectInfo | undefined,
  row: { size: number | null; hash: string | null },
): Promise<string | undefined> {
  if (!object) return "no bytes yet";
  if (object.size !== row.size) return `${object.size} of ${row.size} bytes written`;
  try {
    const got = await instance.storage.hashObject(object.key, { ifEtag: object.etag });
    return got.hash === row.hash ? undefined : "its bytes do not match the declared hash";
  } catch (error) {
    if (error instanceof StaleObjectError || error instanceof NotFoundError) {
      return "its bytes are being written";
    }
    throw error;
  }
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
    change.action = "skipped";
    if (error instanceof LinkedKeyError) {
      change.detail = error.message; // a link swapped in since the listing
    } else if (error instanceof StaleObjectError || error instanceof NotFoundError) {
      change.detail = "the object changed while reconciling; run reconcile again";
    } else {
      throw error;
    }
  }
}

/** `.lamindb/<stem><suffix>` for a file inside a managed folder artifact. */
function folderRoot(key: string): string | undefined {
  const parts = key.split("/");
  return parts.length > 2 && parts[0] === ".lamindb" ? `${parts[0]}/${parts[1]}` : undefined;
}
