/**
 * The Artifact registry: files and folders with LaminDB hashes, deduplicated by content and
 * versioned by key.
 *
 * Saving writes the row first, flagged `_aux.so = 1` ("storage ongoing", LaminDB's flag), then the
 * bytes, then clears the flag. A crash in between leaves a flagged row that the next save of the
 * same content finds by hash and completes; a row never claims bytes that were never written.
 * Concurrency is settled in the database: unique indexes on (storage, key, hash) and advisory
 * transaction locks per key and per version family.
 */
import { type Stats, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { and, asc, desc, eq, getTableColumns, inArray, or, type SQL, sql } from "drizzle-orm";
import { queryRows, sqlState } from "../../db/client.js";
import { keptStatement } from "../../db/kept-statements.js";
import * as t from "../../db/schema.js";
import {
  ConflictError,
  IntegrityError,
  LaminError,
  NotFoundError,
  ValidationError,
} from "../../errors.js";
import {
  bytesToHash,
  type FileHash,
  type FolderHash,
  HASH_CHUNK,
  hashFile,
  hashFolder,
} from "../../hash.js";
import { normaliseSequencer } from "../../ingest/events.js";
import type { Instance } from "../../instance.js";
import { ioError, writeError } from "../../io-errors.js";
import { cacheDir } from "../../settings.js";
import { assertSavable } from "../../storage/roots.js";
import { canonicalSuffix, rawSuffix } from "../../suffix.js";
import { newVersionedUid, nextVersionedUid, UID_LENGTHS } from "../../uid.js";
import { mapLimit } from "../../util/concurrency.js";
import { FeatureManager, splitLabelLookups } from "../annotations/annotations.js";
import { ARCHIVE, MAIN, TRASH } from "../common/branch.js";
import { LOCK, lock } from "../common/locks.js";
import { familyUids, latestFirst, refreshLatest, uidMatches } from "../common/versions.js";
import {
  currentRun,
  recordArtifactInput,
  recordRecreated,
  recreatingRuns,
} from "../lineage/run-context.js";
import {
  type CursorKeys,
  exactKeys,
  keysetPage,
  type OrderBy,
  type Page,
  type PageOptions,
  type SortKey,
} from "../model/paging.js";
import {
  buildConditions,
  type FieldMap,
  type Filter,
  likeEscape,
  mentions,
} from "../model/query.js";
import { ALL_SPACE } from "../spaces.js";
import { keyProblem, storedKeyProblem } from "./keys.js";
import { assertLoadTarget } from "./load-target.js";
import { type Artifact, ArtifactModel, isOngoing, type PhysicalRow, physicalKey } from "./model.js";

export { MAX_LIMIT, ORDER_FIELDS, type OrderBy, type Page } from "../model/paging.js";

/** LaminDB's kind of the files a run writes about itself (its log, its environment). */
export const RUN_FILE_KIND = "__lamindb_run__";
/** Options of internal saves, which may use the reserved kind. */
const internalSaves = new WeakSet<object>();
/** Mark save options as internal (run reports): the reserved `__lamindb_run__` kind is allowed. */
export function internalSave<T extends object>(opts: T): T {
  internalSaves.add(opts);
  return opts;
}

const STEM = UID_LENGTHS.artifact.stem;

/** An artifact as the SDK returns it and the CLI and API print it (LaminDB's field names). */
export { type Artifact, type PhysicalRow, physicalKey } from "./model.js";

export type SaveStatus = "created" | "new-version" | "existing" | "restored" | "repaired";

export interface SaveResult {
  artifact: Artifact;
  status: SaveStatus;
  /** Something the user should know, e.g. that an existing artifact has another key. */
  note?: string;
}

export interface Progress {
  phase: "hash" | "copy";
  done: number;
  total: number;
  unit: "bytes" | "files";
}

export interface SaveOptions {
  key?: string;
  description?: string;
  kind?: string;
  versionTag?: string;
  onProgress?: (progress: Progress) => void;
  /** Validate against this schema (name or uid) first; link it and annotate (validate.ts). */
  schema?: string;
  /**
   * A folder: read files that symbolic links inside it point to outside it (LaminDB does). By
   * default such a link is refused: nothing outside the folder being saved is read unasked.
   * Links to files inside the folder are always followed (saved as regular files).
   */
  followLinks?: boolean;
  /**
   * The space to save it in, by name or uid (LaminDB's `space=`; default `all`). A restricted
   * principal may only save into a space it may write (the database refuses otherwise).
   */
  space?: string;
}

/** Save options with the space resolved to the id new rows carry. */
type Placed<O> = O & { spaceId?: number };

/** Artifacts' own orderings besides created_at, updated_at and id (the web UI's columns). */
export const ARTIFACT_SORT_FIELDS = ["key", "description", "size", "suffix"] as const;
export type ArtifactOrderBy =
  | OrderBy
  | (typeof ARTIFACT_SORT_FIELDS)[number]
  | `-${(typeof ARTIFACT_SORT_FIELDS)[number]}`;

export interface ListOptions extends Omit<PageOptions, "orderBy"> {
  /** Default `-created_at`; also key, description, size, suffix (NULLs first ascending). */
  orderBy?: ArtifactOrderBy;
  filter?: Filter;
  /** Include every version, not only the latest of each family. */
  allVersions?: boolean;
  /** List the trash instead of the main branch. */
  trash?: boolean;
  /** Feature-value lookups: `{ temperature__gt: 30, cell_type: "T cell" }` (see annotations.ts). */
  features?: Filter;
}

/** How to address one artifact: a uid (or 16-char stem: its latest version) or a key. */
export type ArtifactRef = { uid: string } | { key: string };

/** What callers use of the registry, in process or over HTTP (sdk/remote.ts). */
export type ArtifactsApi = Pick<
  Artifacts,
  "save" | "saveMany" | "list" | "get" | "versions" | "load" | "delete" | "restore" | "update"
>;

const FIELDS: FieldMap = ArtifactModel.spec.fields;
export const ARTIFACT_FILTER_FIELDS = Object.keys(FIELDS);

const selection = {
  row: t.artifact,
  ref_storage: t.storage.root,
  createdBy: t.user.handle,
  ref_run: t.run.uid,
  ...exactKeys(t.artifact),
};
/**
 * The columns a page of the list needs (the public shape, its cursor and its space): a narrower
 * row than `selection`, read and mapped 50 times per page. Its rows are cast to Selected.
 */
const UNLISTED = new Set([
  "storageId",
  "schemaId",
  "extraData",
  "createdById",
  "runId",
  "createdOnId",
  "isLocked",
]);
const listSelection = {
  ...selection,
  row: Object.fromEntries(
    Object.entries(getTableColumns(t.artifact)).filter(([name]) => !UNLISTED.has(name)),
  ),
};

type Selected = {
  row: t.ArtifactRow;
  ref_storage: string;
  createdBy: string;
  ref_run: string | null;
};

/** Orderings by nullable columns compare their values with NULL as '' or -1 (never NULL). */
const SORT_KEYS: Record<(typeof ARTIFACT_SORT_FIELDS)[number], SortKey<Selected & CursorKeys>> = {
  key: {
    expression: sql`coalesce(${t.artifact.key}, '')`,
    type: "text",
    value: (r) => r.row.key ?? "",
  },
  description: {
    expression: sql`coalesce(${t.artifact.description}, '')`,
    type: "text",
    value: (r) => r.row.description ?? "",
  },
  size: {
    expression: sql`coalesce(${t.artifact.size}, -1)`,
    type: "integer",
    value: (r) => r.row.size ?? -1,
  },
  suffix: { expression: sql`${t.artifact.suffix}`, type: "text", value: (r) => r.row.suffix },
};

interface Inspected {
  /** The local path, or the declared name of uploaded bytes. */
  path: string;
  /** Whether `path` is on this machine (false for uploads: the client writes the bytes). */
  local: boolean;
  isFolder: boolean;
  suffix: string;
  hash: FileHash | Omit<FolderHash, "files">;
}

/** What a client declares before uploading bytes (see `prepareUpload`). */
export interface UploadRequest extends Omit<SaveOptions, "onProgress" | "followLinks"> {
  /** The file or folder name, for its suffix (e.g. `counts.csv`, `images.zarr`). */
  name: string;
  size: number;
  hash: string;
  hash_type: "md5" | "sha1-fl" | "md5-d";
  /** Folders: how many files. */
  n_files?: number;
}

export interface UploadTicket {
  artifact: Artifact;
  /** `pending`: write the bytes to `upload.key`, then complete the upload. */
  status: SaveStatus | "pending";
  /** For a pending upload: what completing it makes, a new artifact or the next version. */
  outcome?: "created" | "new-version";
  upload: { key: string; isFolder: boolean } | undefined;
  note?: string;
}

function declared(req: UploadRequest): Inspected {
  const isFolder = req.hash_type === "md5-d";
  if (!Number.isSafeInteger(req.size) || req.size < 0) {
    throw new ValidationError(`invalid size ${req.size}`, "declare the size in bytes");
  }
  if (!/^[A-Za-z0-9_-]{22}$/.test(req.hash)) {
    throw new ValidationError(
      `'${req.hash}' is not a LaminDB hash`,
      "hash with lamindb-serverless's hashFile/hashFolder",
    );
  }
  if (isFolder && !(Number.isSafeInteger(req.n_files) && (req.n_files ?? 0) > 0)) {
    throw new ValidationError(
      "a folder upload needs n_files (at least 1)",
      "declare how many files the folder has",
    );
  }
  if (req.hash_type === "md5" && req.size > HASH_CHUNK) {
    throw new ValidationError(
      "hash_type md5 is for files up to 50 MiB",
      "larger files have hash_type sha1-fl",
    );
  }
  if (req.hash_type === "sha1-fl" && req.size <= HASH_CHUNK) {
    throw new ValidationError(
      "hash_type sha1-fl is for files above 50 MiB",
      "smaller files have hash_type md5",
    );
  }
  if (/[/\\]/.test(req.name) || req.name === "" || req.name === "." || req.name === "..") {
    throw new ValidationError(
      `invalid name '${req.name}'`,
      "give the file or folder name without a path",
    );
  }
  if (req.key !== undefined) validateKey(req.key, req.name, isFolder);
  if (req.key === undefined && !req.description) {
    throw new ValidationError(
      `give ${req.name} a key or a description`,
      `e.g. key raw/${req.name}`,
    );
  }
  if (req.kind !== undefined) validateKind(req.kind);
  const hash = isFolder
    ? { size: req.size, hash: req.hash, hashType: "md5-d" as const, nFiles: req.n_files as number }
    : { size: req.size, hash: req.hash, hashType: req.hash_type as "md5" | "sha1-fl" };
  return { path: req.name, local: false, isFolder, suffix: canonicalSuffix(req.name), hash };
}

export class Artifacts {
  constructor(private readonly instance: Instance) {}

  private get db() {
    return this.instance.db;
  }

  /** The statements of a plain save, built once (drizzle's SQL building is per call otherwise). */
  private saveQueries: ReturnType<typeof prepareSaveQueries> | undefined;
  private saveStatements() {
    this.saveQueries ??= prepareSaveQueries(this.db);
    return this.saveQueries;
  }

  /** The hottest read of the API, built once and planned once per connection. */
  private byUidQuery: ReturnType<typeof prepareByUid> | undefined;
  private byUid() {
    this.byUidQuery ??= prepareByUid(this.db);
    return this.byUidQuery;
  }

  /** A page's rows by id: one statement text for every list, so its plan is kept. */
  private byIdsQuery: ReturnType<typeof prepareByIds> | undefined;
  private byIds() {
    this.byIdsQuery ??= prepareByIds(this.db);
    return this.byIdsQuery;
  }

  private select() {
    return selectArtifacts(this.db);
  }

  // ---------------------------------------------------------------- save

  /**
   * Register a file or folder: hash it, dedup by content, version by key, copy into storage.
   * The common case costs three statements: look up, insert (flagged), clear the flag.
   */
  async save(path: string, opts: SaveOptions = {}): Promise<SaveResult> {
    if (opts.schema !== undefined) {
      const { saveWithSchema } = await import("../schemas/validate.js");
      return saveWithSchema(this.instance, path, { ...opts, schema: opts.schema }, (p, o) =>
        this.save(p, o),
      );
    }
    opts = await this.placed(opts);
    const input = await this.inspect(path, opts);
    const key = opts.key ?? null;
    const decision = await this.decide(input, opts, key);
    if ("existing" in decision) return this.reuse(decision.existing, input, key);
    const { row, status } = decision;
    try {
      await this.writeBytes(row, input, opts.onProgress);
    } catch (error) {
      await this.removeRows([row]).catch(() => {});
      throw this.writeFailed(error, `could not write ${input.path}`, "nothing was registered");
    }
    return { artifact: await this.ownRow(await this.clearOngoing(row)), status };
  }

  /**
   * Either the id of a row that already holds these bytes, or a new row flagged as ongoing
   * (a new artifact or the next version of `key`).
   */
  private async decide(
    input: Inspected,
    opts: SaveOptions,
    key: string | null,
  ): Promise<{ existing: number } | { row: t.ArtifactRow; status: "created" | "new-version" }> {
    const storageId = this.instance.storageRecord.id;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const candidates = await this.candidates(input.hash.hash, key);
      const found = pickExisting(candidates, key, storageId, input);
      if (found) return { existing: found.id };
      const head = key === null ? undefined : headOf(candidates, key, storageId, this.instance);
      const row = await this.insertPending(input, opts, key, head);
      if (row) return { row, status: head ? "new-version" : "created" };
      await backoff(attempt); // a concurrent save changed the key or family: look again
    }
    throw new ConflictError(
      `could not save ${input.path}: too many concurrent changes to the same key`,
      "try again",
    );
  }

  /** A row this instance just wrote, in the public shape. */
  private ownRow(row: t.ArtifactRow): Promise<Artifact> {
    const { storageRecord, user } = this.instance;
    return this.toArtifact({
      row,
      ref_storage: storageRecord.root,
      createdBy: user.handle,
      ref_run: this.runUidOf(row),
    });
  }

  /** The uid of the tracked run when it wrote `row` (rows written now have no other run). */
  private runUidOf(row: t.ArtifactRow): string | null {
    const run = currentRun(this.instance);
    return run && row.runId === run.id ? run.uid : null;
  }

  // ---------------------------------------------------------------- uploads

  /**
   * Start registering bytes that a client will write into storage itself (the HTTP upload
   * flow). The client declares name, size and LaminDB hash; the rules of `save` decide: the
   * same content returns the existing artifact, otherwise a row flagged as ongoing is created
   * and its bytes are expected at `uploadKey`. No state is kept outside the database.
   */
  async prepareUpload(req: UploadRequest): Promise<UploadTicket> {
    req = await this.placed(req);
    const input = declared(req);
    const key = req.key ?? null;
    const decision = await this.decide(input, req, key);
    if ("existing" in decision) {
      const found = await this.find({ id: decision.existing });
      if (!isOngoing(found.row))
        return { ...(await this.reuse(found.row.id, input, key)), upload: undefined };
      // someone else's upload of the same bytes is under way: it can be completed from here too
      return {
        artifact: await this.toArtifact(found),
        status: "pending",
        outcome: found.row.uid.endsWith("0000") ? "created" : "new-version",
        upload: this.uploadTarget(found.row),
      };
    }
    return {
      artifact: await this.ownRow(decision.row),
      status: "pending",
      outcome: decision.status,
      upload: this.uploadTarget(decision.row),
    };
  }

  /** What is expected of a pending upload, or undefined when `uid` is not one. */
  async uploadState(
    uid: string,
  ): Promise<{ key: string; isFolder: boolean; size: number } | undefined> {
    const { row } = await this.find({ uid });
    if (!isOngoing(row)) return undefined;
    return { ...this.uploadTarget(row), size: row.size ?? 0 };
  }

  /**
   * uids of the runs that saved this artifact again after it existed (LaminDB's
   * `artifact.recreating_runs`; deduplicated saves under a tracked run other than the creating
   * one). Its lineage stays with the creating run; `ln.runs.get(uid)` has the details.
   */
  async recreatingRuns(ref: ArtifactRef | string): Promise<string[]> {
    return recreatingRuns(this.instance, "artifact", (await this.row(ref)).id);
  }

  /** The stored row, for layers that address the bytes themselves. */
  async row(ref: ArtifactRef | string): Promise<t.ArtifactRow> {
    return (await this.find(typeof ref === "string" ? { uid: ref } : ref)).row;
  }

  /** Where the client writes: files go straight to their key; folders to a staging prefix. */
  uploadTarget(row: PhysicalRow): { key: string; isFolder: boolean } {
    const key = physicalKey(row);
    return row.overwriteVersions
      ? { key: `${key}.upload-${row.uid.slice(STEM)}`, isFolder: true }
      : { key, isFolder: false };
  }

  /**
   * Finish an upload: hash what storage holds, and only if it is what was declared, put it in
   * place and clear the flag. Otherwise the upload is removed and the client starts over
   * (`keepOnMismatch`: it stays pending, for callers that only complete what is complete, like
   * reconcile). Completing twice is harmless.
   */
  async completeUpload(uid: string, opts: { keepOnMismatch?: boolean } = {}): Promise<Artifact> {
    const found = await this.find({ uid });
    const { row } = found;
    if (!isOngoing(row)) return this.toArtifact(found);
    const target = this.uploadTarget(row);
    const { storage } = this.instance;
    const got = await storage.hashStored(target.key, target.isFolder).catch(() => undefined);
    const expected = `${row.hash} (${row.size} bytes${row.nFiles ? `, ${row.nFiles} files` : ""})`;
    const gotText = got
      ? `${got.hash} (${got.size} bytes${"nFiles" in got ? `, ${got.nFiles} files` : ""})`
      : "nothing";
    if (!got || got.hash !== row.hash || got.size !== row.size) {
      if (opts.keepOnMismatch) {
        throw new IntegrityError(
          `the uploaded bytes of ${row.uid} are ${gotText}, not the declared ${expected}`,
          "the upload stays pending: finish writing its bytes, or abort it",
        );
      }
      await this.discardUpload(row);
      throw new LaminError(
        "integrity",
        `the uploaded bytes of ${row.uid} are ${gotText}, not the declared ${expected}`,
        "upload again from the start: the artifact was not registered",
      );
    }
    if (target.isFolder) await storage.move(target.key, physicalKey(row));
    return this.toArtifact({ ...found, row: await this.clearOngoing(row) });
  }

  /**
   * Give up a pending upload (e.g. its bytes did not validate): its row and the bytes written
   * for it go, as on a hash mismatch. Only this upload: a folder's new version is staged apart
   * from the bytes its other versions share, which stay, and the previous version is the latest
   * again. A registered artifact is refused (ConflictError); delete it instead.
   */
  async abortUpload(uid: string): Promise<void> {
    const { row } = await this.find({ uid });
    if (!isOngoing(row)) {
      throw new ConflictError(
        `${row.uid} is not a pending upload`,
        `delete the artifact instead: lamin delete ${row.uid}`,
      );
    }
    await this.discardUpload(row);
  }

  /** Remove a pending upload's bytes (its own target) and row. */
  private async discardUpload(row: t.ArtifactRow): Promise<void> {
    await this.instance.storage.delete(this.uploadTarget(row).key);
    await this.removeRows([row]);
  }

  /**
   * Remove an upload (or interrupted save) that is still pending and began before `cutoff`: its
   * row first, under the family's lock and only if it is still pending and that old (a save
   * completing it meanwhile wins), then its bytes: its own upload target, and for the first
   * version of a folder the folder, which no other version shares. Returns whether it was removed.
   */
  async expireUpload(uid: string, cutoff: Date): Promise<boolean> {
    const stem = uid.slice(0, STEM);
    const removed = await this.db.transaction(async (tx) => {
      await lock(tx, LOCK.artifactFamily, stem);
      const gone = await tx
        .delete(t.artifact)
        .where(
          and(
            eq(t.artifact.uid, uid),
            sql`${t.artifact.aux}->>'so' = '1'`,
            sql`${t.artifact.createdAt} < ${cutoff.toISOString()}`,
          ),
        )
        .returning();
      if (gone.length === 0) return undefined;
      await refreshLatest(tx, "artifact", stem);
      const family = await familyUids(tx, "artifact", stem);
      return { row: gone[0] as t.ArtifactRow, alone: family.length === 0 };
    });
    if (!removed) return false;
    const { storage } = this.instance;
    await storage.delete(this.uploadTarget(removed.row).key);
    if (removed.row.overwriteVersions && removed.alone) {
      await storage.delete(physicalKey(removed.row));
    }
    return true;
  }

  /**
   * Change the description or the key of an artifact. A virtual key is a name: the bytes stay
   * where they are. A key registered in place is where the bytes are: they move with it (see
   * {@link moveInPlace}).
   */
  async update(
    ref: ArtifactRef | string,
    changes: { description?: string | null; key?: string; space?: string },
  ): Promise<Artifact> {
    const found = await this.find(typeof ref === "string" ? { uid: ref } : ref);
    const set: Partial<t.ArtifactRow> = {};
    // LaminDB: `artifact.space = space; artifact.save()` moves this version (not its family);
    // a restricted caller needs write in both spaces (the database checks)
    if (changes.space !== undefined) {
      const space = await this.instance.spaces.resolve(changes.space);
      if (space.id !== found.row.spaceId) set.spaceId = space.id;
    }
    if (changes.key !== undefined) {
      // a key that is where the bytes are must stay a storage key below the root
      validateKeySyntax(changes.key, !found.row.keyIsVirtual && !found.row.realKey);
      const want = rawSuffix(changes.key).toLowerCase();
      if (want !== found.row.suffix && !(found.row.overwriteVersions && want === "")) {
        throw new ValidationError(
          `the key '${changes.key}' ends in '${want || "(no suffix)"}' but the artifact's suffix is '${found.row.suffix || "(none)"}'`,
          `keep the suffix: e.g. '${changes.key.replace(/(\.[^/.]+)*$/, "")}${found.row.suffix}'`,
        );
      }
      set.key = changes.key;
    }
    if (changes.description !== undefined) {
      if (changes.description !== null && changes.description.length > 10_000) {
        throw new ValidationError("the description is longer than 10,000 characters", "shorten it");
      }
      set.description = changes.description;
    }
    if (Object.keys(set).length === 0) return this.toArtifact(found);
    const moves = set.key !== undefined && set.key !== found.row.key && isInPlace(found.row);
    try {
      if (moves) await this.moveInPlace(found.row, set.key as string);
      const [row] = await this.db
        .update(t.artifact)
        .set({ ...set, updatedAt: sql`now()` })
        .where(eq(t.artifact.id, found.row.id))
        .returning();
      return moves
        ? this.get(found.row.uid)
        : await this.toArtifact({ ...found, row: row ?? found.row });
    } catch (error) {
      if (sqlState(error) === "23505") {
        throw new ConflictError(
          `the key '${changes.key}' is already used by the latest version of another artifact`,
          "pick another key, or save this content as a new version of that key",
        );
      }
      throw error;
    }
  }

  /**
   * Move the bytes of an artifact registered in place (its key is where its bytes are) to
   * `newKey`, as LaminDB does: never onto anything already there (ConflictError), never through
   * a symbolic link (the storage refuses it). The versions at the old key move with it: their
   * bytes were overwritten there by the latest one, so only the latest can be moved. Rows and
   * bytes change together: the rows under the per-key locks that events and reconcile take, the
   * bytes before the commit (moved back if it fails).
   */
  private async moveInPlace(row: t.ArtifactRow, newKey: string): Promise<void> {
    const oldKey = row.key as string;
    const { storage, storageRecord } = this.instance;
    if (row.storageId !== storageRecord.id) {
      throw new ValidationError(
        `the bytes of ${row.uid} are in another storage location than this instance's`,
        "change its key where that storage is managed",
      );
    }
    if (row.branchId !== MAIN || !row.isLatest) {
      const latest = await this.db
        .select({ uid: t.artifact.uid })
        .from(t.artifact)
        .where(
          and(
            eq(t.artifact.storageId, row.storageId),
            eq(t.artifact.key, oldKey),
            eq(t.artifact.isLatest, true),
            eq(t.artifact.branchId, MAIN),
          ),
        );
      throw new ConflictError(
        row.branchId !== MAIN
          ? `${row.uid} is in the trash: its key is where its bytes were`
          : `${row.uid} is not the latest version at '${oldKey}': a newer version overwrote its bytes there`,
        row.branchId !== MAIN
          ? `restore it first: lamin restore ${row.uid}`
          : `change the key of the latest version${latest[0] ? `, ${latest[0].uid}` : ""}: the versions move with it`,
      );
    }
    const a = t.artifact;
    const o = t.storageObject;
    const storageId = row.storageId;
    let moved = false;
    try {
      await this.db.transaction(async (tx) => {
        for (const key of [oldKey, newKey].sort()) {
          await lock(tx, LOCK.storageObject, `${storageId}/${key}`);
        }
        await tx
          .update(a)
          .set({ key: newKey, updatedAt: sql`now()` })
          .where(
            and(
              eq(a.storageId, storageId),
              eq(a.key, oldKey),
              eq(a.keyIsVirtual, false),
              sql`${a.uid} LIKE ${`${row.uid.slice(0, STEM)}%`}`,
            ),
          );
        await storage.move(oldKey, newKey, { replace: false });
        moved = true;
        // S3 copies get their own ETag: what reconcile and later events compare with
        const etag = (await storage.head(newKey))?.etag ?? null;
        if (etag) {
          await tx
            .update(a)
            .set({
              aux: sql`coalesce(${a.aux}, '{}'::jsonb) || ${JSON.stringify({ etag })}::jsonb`,
            })
            .where(eq(a.id, row.id));
        }
        // events still to come for either key apply on top of this (S3 sends both)
        await tx
          .update(o)
          .set({ deleted: true, etag: null, artifactId: null, updatedAt: sql`now()` })
          .where(and(eq(o.storageId, storageId), eq(o.key, oldKey)));
        const state = { etag, deleted: false, artifactId: row.id, updatedAt: sql`now()` };
        await tx
          .insert(o)
          .values({ storageId, key: newKey, sequencer: normaliseSequencer("0"), ...state })
          .onConflictDoUpdate({ target: [o.storageId, o.key], set: state });
      });
    } catch (error) {
      if (moved) await storage.move(newKey, oldKey, { replace: false }).catch(() => {});
      throw error;
    }
  }

  /** `opts` with its space (name or uid) resolved: unknown names fail before anything is read. */
  private async placed<O extends { space?: string }>(opts: O): Promise<Placed<O>> {
    if (opts.space === undefined || (opts as Placed<O>).spaceId !== undefined) return opts;
    return { ...opts, spaceId: (await this.instance.spaces.resolve(opts.space)).id };
  }

  /** The columns of a new row, flagged as ongoing until its bytes are written. */
  private pendingValues(input: Inspected, opts: Placed<SaveOptions>, key: string | null) {
    const h = input.hash;
    return {
      spaceId: opts.spaceId ?? ALL_SPACE.id,
      key,
      description: opts.description ?? null,
      storageId: this.instance.storageRecord.id,
      suffix: input.suffix,
      kind: opts.kind ?? null,
      size: h.size,
      hash: h.hash,
      hashType: h.hashType,
      nFiles: "nFiles" in h ? h.nFiles : null,
      keyIsVirtual: true,
      overwriteVersions: input.isFolder,
      versionTag: opts.versionTag ?? null,
      branchId: this.instance.branch.id,
      createdOnId: this.instance.branch.id,
      createdById: this.instance.user.id,
      runId: currentRun(this.instance)?.id ?? null,
      aux: { so: 1 },
    };
  }

  /**
   * Save many paths, each as its own artifact, with the rules of `save`. New content under new
   * keys (the bulk of an import) goes in chunks: one lookup, one multi-row insert and one update
   * per chunk instead of three statements per file; everything else takes the path of `save`.
   * All paths are checked and hashed before anything is written.
   */
  async saveMany(
    items: readonly ({ path: string } & Omit<SaveOptions, "onProgress">)[],
    opts: { onProgress?: (progress: Progress) => void } = {},
  ): Promise<SaveResult[]> {
    items = await Promise.all(items.map((item) => this.placed(item)));
    const inputs = await mapLimit(items, 16, (item) => this.inspect(item.path, item));
    const results = new Array<SaveResult>(items.length);
    const slow: number[] = [];
    // Within the batch, a repeated hash or key depends on an earlier item: take those one by one.
    const seenHash = new Set<string>();
    const seenKey = new Set<string>();
    const fast: number[] = [];
    inputs.forEach((input, i) => {
      const key = items[i]?.key;
      if (seenHash.has(input.hash.hash) || (key !== undefined && seenKey.has(key))) slow.push(i);
      else fast.push(i);
      seenHash.add(input.hash.hash);
      if (key !== undefined) seenKey.add(key);
    });
    let done = 0;
    const report = () =>
      opts.onProgress?.({ phase: "copy", done: ++done, total: items.length, unit: "files" });
    const { storageRecord, user } = this.instance;
    for (let start = 0; start < fast.length; start += BATCH) {
      const chunk = fast.slice(start, start + BATCH);
      const a = t.artifact;
      const hashes = chunk.map((i) => inputs[i]?.hash.hash ?? "");
      const keys = chunk.flatMap((i) =>
        items[i]?.key === undefined ? [] : [items[i]?.key as string],
      );
      const taken = await this.db
        .select({ hash: a.hash, key: a.key })
        .from(a)
        .where(
          or(
            inArray(a.hash, hashes),
            keys.length
              ? and(
                  eq(a.storageId, storageRecord.id),
                  inArray(a.key, keys),
                  inArray(a.branchId, this.instance.visibleBranchIds),
                  eq(a.isLatest, true),
                )
              : undefined,
          ),
        );
      const takenHashes = new Set(taken.map((r) => r.hash));
      const takenKeys = new Set(taken.map((r) => r.key));
      const fresh = chunk.filter((i) => {
        const free =
          !takenHashes.has(inputs[i]?.hash.hash ?? "") && !takenKeys.has(items[i]?.key ?? null);
        if (!free) slow.push(i);
        return free;
      });
      if (fresh.length === 0) continue;
      const inserted = await this.db
        .insert(a)
        .values(
          fresh.map((i) => ({
            ...this.pendingValues(inputs[i] as Inspected, items[i] ?? {}, items[i]?.key ?? null),
            uid: newVersionedUid("artifact"),
          })),
        )
        .onConflictDoNothing()
        .returning();
      const byHash = new Map(inserted.map((row) => [row.hash, row]));
      const written: t.ArtifactRow[] = [];
      try {
        for (const i of fresh) {
          const row = byHash.get(inputs[i]?.hash.hash ?? null);
          if (!row) {
            slow.push(i); // a concurrent save took it: decide again one by one
            continue;
          }
          await this.writeBytes(row, inputs[i] as Inspected);
          written.push(row);
          report();
        }
      } catch (error) {
        const unwritten = inserted.filter((row) => !written.includes(row));
        await this.removeRows(unwritten).catch(() => {});
        await this.clearOngoingMany(written);
        throw this.writeFailed(
          error,
          "could not write the files",
          `${written.length} files were saved before the error; save again to add the rest (saved files are recognised)`,
        );
      }
      const completed = await this.clearOngoingMany(written);
      for (const i of fresh) {
        const row = completed.get(inputs[i]?.hash.hash ?? "");
        if (row) {
          results[i] = {
            artifact: await this.toArtifact({
              row,
              ref_storage: storageRecord.root,
              createdBy: user.handle,
              ref_run: this.runUidOf(row),
            }),
            status: "created",
          };
        }
      }
    }
    for (const i of slow.sort((x, y) => x - y)) {
      const item = items[i] as (typeof items)[number];
      results[i] = await this.save(item.path, item);
      report();
    }
    return results;
  }

  private async clearOngoingMany(
    rows: t.ArtifactRow[],
  ): Promise<Map<string | null, t.ArtifactRow>> {
    const out = new Map<string | null, t.ArtifactRow>();
    if (rows.length === 0) return out;
    const done = await this.db
      .update(t.artifact)
      .set({ aux: null, updatedAt: sql`now()` })
      .where(
        inArray(
          t.artifact.id,
          rows.map((r) => r.id),
        ),
      )
      .returning({ id: t.artifact.id, updatedAt: t.artifact.updatedAt });
    const when = new Map(done.map((d) => [d.id, d.updatedAt]));
    for (const row of rows)
      out.set(row.hash, { ...row, aux: null, updatedAt: when.get(row.id) ?? row.updatedAt });
    return out;
  }

  /** Rows that hold these bytes, plus the current head of `key`: one narrow query. */
  private candidates(hash: string, key: string | null): Promise<Candidate[]> {
    const q = this.saveStatements();
    return key === null
      ? q.candidatesByHash.execute({ hash })
      : q.candidatesByHashOrKey.execute({
          hash,
          key,
          storageId: this.instance.storageRecord.id,
          branchId: this.instance.branch.id,
        });
  }

  private async inspect(path: string, opts: SaveOptions): Promise<Inspected> {
    const abs = resolve(path);
    // synchronous: one system call, cheaper than a thread-pool round trip for each saved file
    const info = statOrMissing(abs);
    if (!info) {
      throw new ValidationError(`path does not exist: ${path}`, "check the path and try again");
    }
    await assertSavable(path, this.instance.settings);
    if (!info.isFile() && !info.isDirectory()) {
      throw new ValidationError(
        `not a regular file or folder: ${path}`,
        "save a regular file or a folder (devices, sockets and pipes cannot be saved)",
      );
    }
    const isFolder = info.isDirectory();
    const suffix = canonicalSuffix(basename(abs));
    if (opts.key !== undefined) validateKey(opts.key, abs, isFolder);
    if (opts.key === undefined && !opts.description) {
      throw new ValidationError(
        `give ${basename(abs)} a key or a description`,
        `e.g. --key ${isFolder ? "datasets/" : "raw/"}${basename(abs)}`,
      );
    }
    if (opts.kind !== undefined && !(opts.kind === RUN_FILE_KIND && internalSaves.has(opts))) {
      validateKind(opts.kind);
    }
    if (opts.versionTag !== undefined && opts.versionTag.length > 30) {
      throw new ValidationError(
        "version tag is longer than 30 characters",
        "use a short label like 1.0",
      );
    }
    const onProgress = opts.onProgress;
    const hash = isFolder
      ? await hashFolder(abs, {
          links: opts.followLinks ? "follow" : "inside",
          ...(onProgress
            ? {
                onProgress: (done) => onProgress({ phase: "hash", done, total: -1, unit: "bytes" }),
              }
            : {}),
        })
      : await hashFile(
          abs,
          onProgress
            ? // sha1-fl reads only the first and last 50 MiB: that is what runs to 100%
              (done) =>
                onProgress({ phase: "hash", done, total: bytesToHash(info.size), unit: "bytes" })
            : undefined,
        );
    return { path: abs, local: true, isFolder, suffix, hash };
  }

  /** Hand back an artifact that already holds these bytes, completing or restoring it if needed. */
  private async reuse(id: number, input: Inspected, key: string | null): Promise<SaveResult> {
    const found = await this.find({ id });
    let row = found.row;
    let status: SaveStatus = "existing";
    if (row.branchId === TRASH) {
      row = await this.setBranch(row, MAIN);
      status = "restored";
    }
    if (isOngoing(row) && input.local) {
      await this.writeBytes(row, input);
      row = await this.clearOngoing(row);
      status = status === "restored" ? status : "repaired";
    }
    // saved again under a run: its run when it had none, else a recreating run (LaminDB's rule)
    const run = currentRun(this.instance);
    const claimed = await recordRecreated(this.instance, "artifact", row.id);
    const artifact = await this.toArtifact(
      claimed && run
        ? { ...found, row: { ...row, runId: run.id }, ref_run: run.uid }
        : { ...found, row },
    );
    const note =
      status === "restored"
        ? `restored ${row.uid} from the trash: it holds the same content`
        : key !== null && row.key !== key
          ? `same content is already registered as ${row.uid}${row.key ? ` with key '${row.key}'` : ""}; returning it`
          : undefined;
    return { artifact, status, ...(note ? { note } : {}) };
  }

  /**
   * Insert the row, flagged as ongoing. A new version stays behind the head (`is_latest` false)
   * until its bytes are complete (clearOngoing moves `is_latest`): an interrupted save never
   * hides the previous version. Versions of one family are numbered under its lock; the unique
   * indexes (uid; one row per key and content) settle the rest. Returns undefined when a
   * concurrent save got there first.
   */
  private async insertPending(
    input: Inspected,
    opts: SaveOptions,
    key: string | null,
    head: Candidate | undefined,
  ): Promise<t.ArtifactRow | undefined> {
    const values = this.pendingValues(input, opts, key);
    if (!head) {
      const [row] = await this.saveStatements().insertFirst.execute({
        ...values,
        uid: newVersionedUid("artifact"),
      });
      return row;
    }
    if (opts.versionTag !== undefined && opts.versionTag === head.versionTag) {
      throw new ValidationError(
        `version tag '${opts.versionTag}' is already used by ${head.uid}`,
        "pass another --version-tag",
      );
    }
    const stem = head.uid.slice(0, STEM);
    return this.db.transaction(async (tx) => {
      await lock(tx, LOCK.artifactFamily, stem);
      // pending versions are not the head: the next number comes from the whole family
      const uid = nextVersionedUid("artifact", head.uid, await familyUids(tx, "artifact", stem));
      const [row] = await tx
        .insert(t.artifact)
        // the clock, not the transaction's start: versions are ordered as the lock orders them
        .values({ ...values, uid, isLatest: false, createdAt: sql`clock_timestamp()` })
        .onConflictDoNothing()
        .returning();
      return row;
    });
  }

  private async writeBytes(
    row: t.ArtifactRow,
    input: Inspected,
    onProgress?: (p: Progress) => void,
  ): Promise<void> {
    const key = physicalKey(row);
    const { storage } = this.instance;
    if (input.isFolder) {
      const files = (input.hash as FolderHash).files.map((f) => f.relPath);
      await storage.putFolder(input.path, files, key, (done) =>
        onProgress?.({ phase: "copy", done, total: files.length, unit: "files" }),
      );
    } else {
      await storage.putFile(input.path, key, (done) =>
        onProgress?.({ phase: "copy", done, total: input.hash.size, unit: "bytes" }),
      );
    }
  }

  /**
   * Bytes could not be written to storage: a full disk or a refused folder says so (typed, from
   * its errno); other failures are "unavailable", with the storage's own message.
   */
  private writeFailed(error: unknown, what: string, outcome: string): LaminError {
    const where = `${what} to storage ${this.instance.storage.root}`;
    const typed = ioError(error, where, outcome);
    if (typed) return typed;
    const kind = error instanceof LaminError ? error.kind : "unavailable";
    return new LaminError(
      kind,
      `${where}: ${(error as Error).message}`,
      `${error instanceof LaminError && error.hint ? error.hint : "check the storage, then save again"}; ${outcome}`,
      { cause: error },
    );
  }

  /**
   * The bytes are complete: clear the flag. A version that is not the head yet becomes it (if it
   * is the newest complete one) in the same transaction, so `is_latest` never points at
   * incomplete bytes while a complete version exists.
   */
  private async clearOngoing(row: t.ArtifactRow): Promise<t.ArtifactRow> {
    const clear = (db: Pick<Instance["db"], "update">) =>
      db
        .update(t.artifact)
        .set({ aux: null, updatedAt: sql`now()` })
        .where(eq(t.artifact.id, row.id))
        .returning({ updatedAt: t.artifact.updatedAt, isLatest: t.artifact.isLatest });
    const vanished = () =>
      new NotFoundError(`artifact ${row.uid} vanished while saving`, "save again");
    if (row.isLatest) {
      // a first version (the common case): it is the head already
      const [done] = await this.saveStatements().clearOngoing.execute({ id: row.id });
      if (!done) throw vanished();
      return { ...row, aux: null, updatedAt: done.updatedAt };
    }
    const stem = row.uid.slice(0, STEM);
    return this.db.transaction(async (tx) => {
      await lock(tx, LOCK.artifactFamily, stem);
      const [done] = await clear(tx);
      if (!done) throw vanished();
      await refreshLatest(tx, "artifact", stem);
      const [fresh] = await tx
        .select({ isLatest: t.artifact.isLatest })
        .from(t.artifact)
        .where(eq(t.artifact.id, row.id));
      return { ...row, aux: null, updatedAt: done.updatedAt, isLatest: fresh?.isLatest ?? false };
    });
  }

  // ---------------------------------------------------------------- read

  /** One artifact by uid (a 16-character stem gives the latest version) or by key. */
  async get(ref: ArtifactRef | string): Promise<Artifact> {
    return this.toArtifact(await this.find(typeof ref === "string" ? { uid: ref } : ref));
  }

  private async find(ref: ArtifactRef | { id: number }): Promise<Selected> {
    if ("id" in ref) {
      const [hit] = await this.select().where(eq(t.artifact.id, ref.id));
      if (!hit) throw new NotFoundError(`artifact ${ref.id} vanished`, "try again");
      return hit;
    }
    if ("uid" in ref) {
      const uid = ref.uid;
      if (!/^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/.test(uid)) {
        throw new ValidationError(
          `'${uid}' is not an artifact uid`,
          `an artifact uid has 20 base62 characters (16 for the latest version of a family)${
            // looks like a key: say how to give one
            /[/.]/.test(uid) ? `; to name it by key: --key ${uid}` : ""
          }`,
        );
      }
      const rows =
        uid.length === STEM
          ? await this.select()
              .where(uidMatches(t.artifact.uid, uid, STEM))
              .orderBy(...latestFirst(t.artifact))
              .limit(1)
          : await this.byUid().execute({ uid });
      const hit = rows[0];
      if (!hit)
        throw new NotFoundError(`no artifact with uid ${uid}`, "list artifacts with `lamin ls`");
      return hit;
    }
    validateKeySyntax(ref.key);
    const rows = await this.select()
      // the current branch and main (and the archive, which a key still finds)
      .where(
        and(
          eq(t.artifact.key, ref.key),
          inArray(t.artifact.branchId, [...this.instance.visibleBranchIds, ARCHIVE]),
        ),
      )
      .orderBy(...latestFirst(t.artifact))
      .limit(1);
    const hit = rows[0];
    if (!hit) {
      const trashed = await this.select()
        .where(and(eq(t.artifact.key, ref.key), eq(t.artifact.branchId, TRASH)))
        .limit(1);
      throw new NotFoundError(
        `no artifact with key '${ref.key}'`,
        trashed[0]
          ? `it is in the trash as ${trashed[0].row.uid}: \`lamin restore ${trashed[0].row.uid}\``
          : "list artifacts with `lamin ls`",
      );
    }
    return hit;
  }

  async list(opts: ListOptions = {}): Promise<Page<Artifact>> {
    const filter = opts.filter ?? {};
    // `ulabels__name=...` and feature lookups: EXISTS subqueries on the link tables
    const { fields, labels } = splitLabelLookups(filter);
    const conditions: SQL[] = buildConditions(FIELDS, fields, "artifact");
    if (opts.features || Object.keys(labels).length > 0) {
      conditions.push(
        ...(await this.instance.annotations.conditions("artifact", opts.features, labels)),
      );
    }
    if (opts.trash) conditions.push(eq(t.artifact.branchId, TRASH));
    else if (!mentions(filter, ["branch_id", "id", "uid", "hash"])) {
      conditions.push(inArray(t.artifact.branchId, this.instance.visibleBranchIds));
    }
    if (!opts.allVersions && !opts.trash && !mentions(filter, ["is_latest", "uid", "id"])) {
      conditions.push(eq(t.artifact.isLatest, true));
    }
    const prefix = filter.key__startswith;
    const sortAfterFilter = typeof prefix === "string" && (await this.fewWithKeyPrefix(prefix));
    // the page's ids come from the artifact table alone unless a filter names a joined table
    const joined = Object.keys(fields).some((k) => /^(storage|run|created_by)(__|$)/.test(k));
    return keysetPage(
      t.artifact,
      conditions,
      { ...opts, sortAfterFilter, sortKeys: SORT_KEYS },
      // Two steps: the page's ids from the artifact table alone (a narrow row, a plan over one
      // table), then their rows and joins by one prepared statement whose plan Postgres keeps.
      // Planning the joined query for every page cost as much as running it.
      async (where, orderBy, limit) => {
        const ids = (await pageIds(this.db, where, orderBy, limit, joined)).map((r) => r.id);
        if (ids.length === 0) return [];
        const rows = await this.byIds().execute({ ids });
        // back in the page's order; a row deleted between the two statements is left out
        const at = new Map(ids.map((id, i) => [id, i]));
        const page: (typeof rows)[number][] = new Array(ids.length);
        for (const r of rows) page[at.get(r.row.id) as number] = r;
        return page.filter((r) => r !== undefined);
      },
      (rows) => this.toArtifacts(rows),
    );
  }

  /**
   * Whether few artifacts have keys starting with `prefix` (a bounded count on the key index).
   * Files of one folder are saved together, so their rows cluster in time; walking the
   * created_at index to find them (the planner's guess) then reads tens of thousands of rows.
   */
  private async fewWithKeyPrefix(prefix: string): Promise<boolean> {
    // only a choice of plan, never of rows: a recent answer saves a round trip per page
    const known = this.fewByPrefix.get(prefix);
    if (known && performance.now() - known.at < PREFIX_PLAN_MS) return known.few;
    const few = await this.countFewWithKeyPrefix(prefix);
    this.fewByPrefix.delete(prefix);
    this.fewByPrefix.set(prefix, { few, at: performance.now() });
    if (this.fewByPrefix.size > PREFIX_PLANS) {
      this.fewByPrefix.delete(this.fewByPrefix.keys().next().value as string);
    }
    return few;
  }

  /** Recent answers of {@link fewWithKeyPrefix}, oldest first. */
  private readonly fewByPrefix = new Map<string, { few: boolean; at: number }>();

  private async countFewWithKeyPrefix(prefix: string): Promise<boolean> {
    const [row] = await queryRows<{ n: number }>(
      this.db,
      sql`SELECT count(*)::int AS n FROM (SELECT 1 FROM lamindb_artifact
        WHERE key LIKE ${`${likeEscape(prefix)}%`} LIMIT ${FEW_ROWS + 1}) AS s`,
    );
    return (row?.n ?? 0) <= FEW_ROWS;
  }

  /**
   * Feature values and labels of one artifact (LaminDB's `artifact.features`):
   * `await ln.artifacts.features(uid).add({ temperature: 37.5, cell_type: "T cell" })`.
   */
  features(ref: ArtifactRef | string): FeatureManager {
    return new FeatureManager(this.instance.annotations, "artifact", ref);
  }

  /** Every version of the artifact's family, newest first. */
  async versions(ref: ArtifactRef | string): Promise<Artifact[]> {
    const found = await this.find(typeof ref === "string" ? { uid: ref } : ref);
    const stem = found.row.uid.slice(0, STEM);
    const rows = await this.select()
      .where(sql`${t.artifact.uid} LIKE ${`${stem}%`}`)
      .orderBy(desc(t.artifact.createdAt), desc(t.artifact.id));
    return this.toArtifacts(rows);
  }

  /**
   * Copy the bytes out of storage and check them against the hash. `to` is a folder; by default
   * the cache folder. Returns the path of the copy.
   */
  async load(
    ref: ArtifactRef | string,
    opts: {
      to?: string;
      /** Replace a file of the same name in `to` that holds other content (default: refuse). */
      overwrite?: boolean;
      /** Record it as an input of the tracked run (default true; LaminDB's `is_run_input`). */
      isRunInput?: boolean;
    } = {},
  ): Promise<{ path: string; artifact: Artifact }> {
    const found = await this.find(typeof ref === "string" ? { uid: ref } : ref);
    const artifact = await this.toArtifact(found);
    const { row } = found;
    if (isOngoing(row)) {
      throw new IntegrityError(
        `the bytes of ${row.uid} were never completely written (an interrupted save)`,
        "save the same file again to complete it",
      );
    }
    const name = basename(row.key ?? `${row.uid}${row.suffix}`);
    const dest = opts.to
      ? join(resolve(opts.to), name)
      : join(cacheDir(), this.instance.settings.name, row.key ?? physicalKey(row));
    if (opts.to) {
      await assertLoadTarget(
        dest,
        { ...artifact, isLatest: artifact.is_latest, isFolder: row.overwriteVersions },
        opts.overwrite === true,
      );
    }
    const { storage } = this.instance;
    const key = physicalKey(row);
    if (!(await storage.exists(key))) {
      throw new IntegrityError(
        `the bytes of ${row.uid} are missing from storage (${storage.root}/${key})`,
        "restore them from a backup, or delete the artifact with --permanent",
      );
    }
    try {
      await rm(dest, { recursive: true, force: true });
      await mkdir(dirname(dest), { recursive: true });
      if (row.overwriteVersions) await storage.getFolder(key, dest);
      else await storage.getFile(key, dest);
    } catch (error) {
      throw (await writeError(error, dest)) ?? error;
    }
    const got = row.overwriteVersions ? await hashFolder(dest) : await hashFile(dest);
    if (got.hash !== row.hash || got.size !== row.size) {
      await rm(dest, { recursive: true, force: true });
      const overwritten = row.overwriteVersions && !row.isLatest;
      throw new IntegrityError(
        overwritten
          ? `the files of ${row.uid} were overwritten by a newer version of the folder`
          : `the bytes of ${row.uid} in storage do not match its hash (expected ${row.hash}, got ${got.hash})`,
        overwritten
          ? `load the latest version: lamin load ${row.uid.slice(0, STEM)}`
          : "the stored copy was changed outside LaminDB; restore it or save the file again",
      );
    }
    if (opts.isRunInput !== false) await recordArtifactInput(this.instance, row);
    return { path: dest, artifact };
  }

  // ---------------------------------------------------------------- change

  /** Move to the trash, or with `permanent` remove the row and (for managed keys) the bytes. */
  async delete(ref: ArtifactRef | string, opts: { permanent?: boolean } = {}): Promise<Artifact> {
    const found = await this.find(typeof ref === "string" ? { uid: ref } : ref);
    if (!opts.permanent) {
      if (found.row.branchId === TRASH) {
        throw new ConflictError(
          `${found.row.uid} is already in the trash`,
          `delete it for good with \`lamin delete ${found.row.uid} --permanent\``,
        );
      }
      const row = await this.setBranch(found.row, TRASH);
      return this.toArtifact({ ...found, row });
    }
    const row = found.row;
    const stem = row.uid.slice(0, STEM);
    // A folder's versions share one copy of the bytes: deleting the latest deletes them all.
    const removeFamily = row.overwriteVersions && row.isLatest;
    const removed = await this.db.transaction(async (tx) => {
      await lock(tx, LOCK.artifactFamily, stem);
      const where = removeFamily
        ? sql`${t.artifact.uid} LIKE ${`${stem}%`}`
        : eq(t.artifact.id, row.id);
      try {
        const gone = await tx.delete(t.artifact).where(where).returning();
        await refreshLatest(tx, "artifact", stem);
        return gone;
      } catch (error) {
        if (sqlState(error) === "23503") {
          throw new ConflictError(
            `${row.uid} is still used by other records (a run, collection or transform)`,
            "delete those first, or keep the artifact in the trash",
          );
        }
        throw error;
      }
    });
    await this.deleteBytes(removed, removeFamily);
    return this.toArtifact({ ...found, row: { ...row, branchId: TRASH } });
  }

  async restore(ref: ArtifactRef | string): Promise<Artifact> {
    const found = await this.find(typeof ref === "string" ? { uid: ref } : ref);
    if (found.row.branchId !== TRASH) {
      throw new ConflictError(
        `${found.row.uid} is not in the trash`,
        "list the trash with `lamin ls --trash`",
      );
    }
    const row = await this.setBranch(found.row, MAIN);
    return this.toArtifact({ ...found, row });
  }

  private async setBranch(row: t.ArtifactRow, branchId: number): Promise<t.ArtifactRow> {
    const stem = row.uid.slice(0, STEM);
    return this.db.transaction(async (tx) => {
      await lock(tx, LOCK.artifactFamily, stem);
      await tx
        .update(t.artifact)
        .set({ branchId, updatedAt: new Date() })
        .where(eq(t.artifact.id, row.id));
      await refreshLatest(tx, "artifact", stem);
      const [fresh] = await tx.select().from(t.artifact).where(eq(t.artifact.id, row.id));
      if (!fresh) throw new NotFoundError(`artifact ${row.uid} vanished`);
      return fresh;
    });
  }

  /** Remove freshly inserted rows whose bytes could not be written. */
  private async removeRows(rows: t.ArtifactRow[]): Promise<void> {
    for (const row of rows) {
      const stem = row.uid.slice(0, STEM);
      await this.db.transaction(async (tx) => {
        await tx.delete(t.artifact).where(eq(t.artifact.id, row.id));
        await refreshLatest(tx, "artifact", stem);
      });
    }
  }

  private async deleteBytes(rows: t.ArtifactRow[], wholeFamily: boolean): Promise<void> {
    const keys = new Set<string>();
    for (const row of rows) {
      if (row.realKey || !row.keyIsVirtual) continue; // not ours to delete
      if (row.overwriteVersions && !wholeFamily) continue; // shared with the other versions
      keys.add(physicalKey(row));
    }
    for (const key of keys) await this.instance.storage.delete(key);
  }

  // ---------------------------------------------------------------- shape

  private async toArtifact(s: Selected): Promise<Artifact> {
    const [artifact] = await this.toArtifacts([s]);
    return artifact as Artifact;
  }

  /** Rows in the public shape, with their space's name (read once per unknown space id). */
  private async toArtifacts(rows: Selected[]): Promise<Artifact[]> {
    const spaceOf = (s: Selected) => (s.row as unknown as t.ArtifactRow).spaceId;
    const names = await this.instance.spaceNames.of(this.db, rows.map(spaceOf));
    return rows.map((s) => ({
      ...(ArtifactModel.toPublic(s as never) as Artifact),
      // a caller sees the space of every record it sees (the same policy), so the name is known
      space: names.get(spaceOf(s)) ?? ALL_SPACE.name,
    }));
  }
}

/** The narrow row the save path decides with. */
interface Candidate {
  id: number;
  uid: string;
  key: string | null;
  hash: string | null;
  storageId: number;
  branchId: number;
  isLatest: boolean;
  versionTag: string | null;
}

/**
 * The version a save under `key` follows: the latest on the current branch, else on main
 * (LaminDB: a new version on a branch keeps main's latest as it is until the merge).
 */
function headOf(
  candidates: Candidate[],
  key: string,
  storageId: number,
  instance: Instance,
): Candidate | undefined {
  const heads = candidates.filter(
    (c) =>
      c.key === key &&
      c.storageId === storageId &&
      c.isLatest &&
      instance.visibleBranchIds.includes(c.branchId),
  );
  return heads.find((c) => c.branchId === instance.branch.id) ?? heads[0];
}

/**
 * Which existing row holds these bytes. Same content elsewhere counts (LaminDB dedups across
 * keys), except for empty files, which all share one hash. A trashed row only counts where it
 * would collide with the unique index, i.e. same storage and key.
 */
function pickExisting(
  candidates: Candidate[],
  key: string | null,
  storageId: number,
  input: Inspected,
): Candidate | undefined {
  const rows = candidates.filter((c) => c.hash === input.hash.hash);
  const live = rows.filter((r) => r.branchId !== TRASH);
  const sameKey = (r: Candidate) => r.storageId === storageId && r.key === key;
  const emptyFile = !input.isFolder && input.hash.size === 0;
  const byKey = live.find(sameKey);
  if (byKey) return byKey;
  if (!emptyFile && live[0]) return live[0];
  return rows.find((r) => r.branchId === TRASH && sameKey(r));
}

const MAX_ATTEMPTS = 20;
/** Rows per statement in `saveMany` (each row binds ~15 parameters; Postgres allows 65535). */
const BATCH = 500;

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)));
}

/** Whether the key is where the bytes are (registered in place by events, watcher, reconcile). */
function isInPlace(row: Pick<t.ArtifactRow, "key" | "keyIsVirtual" | "realKey">): boolean {
  return row.key !== null && !row.keyIsVirtual && !row.realKey;
}

function validateKeySyntax(key: string, stored = false): void {
  const problem = stored ? storedKeyProblem(key) : keyProblem(key);
  if (problem) {
    throw new ValidationError(
      `invalid key '${key.slice(0, 200)}': it ${problem}`,
      "use a relative path like 'project/raw/sample1.csv'",
    );
  }
}

function validateKey(key: string, path: string, isFolder: boolean): void {
  validateKeySyntax(key);
  const fileSuffix = rawSuffix(basename(path)).toLowerCase();
  const keySuffix = rawSuffix(basename(key)).toLowerCase();
  if (keySuffix !== fileSuffix && !(isFolder && keySuffix === "")) {
    throw new ValidationError(
      `the key '${key}' ends in '${keySuffix || "(no suffix)"}' but ${basename(path)} ends in '${fileSuffix || "(no suffix)"}'`,
      `give the key the same suffix, e.g. '${key.replace(/(\.[^/.]+)*$/, "")}${fileSuffix}'`,
    );
  }
}

function validateKind(kind: string): void {
  if (!/^[a-z][a-z0-9_-]{0,19}$/.test(kind) || kind.startsWith("__")) {
    throw new ValidationError(
      `invalid kind '${kind}'`,
      "use dataset, model, or another lower-case word of at most 20 characters",
    );
  }
}

/** What is at `path`, or undefined when nothing (or nothing reachable) is. */
function statOrMissing(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Rows a prefix may match for its list to be fetched through the key index and sorted. */
const FEW_ROWS = 5000;
/** How long a prefix's plan choice (few rows or many) is reused, and how many are kept. */
const PREFIX_PLAN_MS = 30_000;
const PREFIX_PLANS = 1000;

/** Artifacts with what their public shape needs from other tables. */
function selectArtifacts(db: Instance["db"], columns = selection) {
  return db
    .select(columns)
    .from(t.artifact)
    .innerJoin(t.storage, eq(t.artifact.storageId, t.storage.id))
    .innerJoin(t.user, eq(t.artifact.createdById, t.user.id))
    .leftJoin(t.run, eq(t.artifact.runId, t.run.id));
}

/**
 * The ids of one page; `joined` (filters on storage, creator or run) joins their tables, else
 * the artifact table alone is read (fewer relations to plan and scan for every list).
 */
function pageIds(
  db: Instance["db"],
  where: SQL | undefined,
  orderBy: SQL[],
  limit: number,
  joined: boolean,
) {
  if (!joined) {
    return db
      .select({ id: t.artifact.id })
      .from(t.artifact)
      .where(where)
      .orderBy(...orderBy)
      .limit(limit);
  }
  return db
    .select({ id: t.artifact.id })
    .from(t.artifact)
    .innerJoin(t.storage, eq(t.artifact.storageId, t.storage.id))
    .innerJoin(t.user, eq(t.artifact.createdById, t.user.id))
    .leftJoin(t.run, eq(t.artifact.runId, t.run.id))
    .where(where)
    .orderBy(...orderBy)
    .limit(limit);
}

/** Columns `decide` reads of the rows that hold some bytes or head some key. */
const candidateColumns = {
  id: t.artifact.id,
  uid: t.artifact.uid,
  key: t.artifact.key,
  hash: t.artifact.hash,
  storageId: t.artifact.storageId,
  branchId: t.artifact.branchId,
  isLatest: t.artifact.isLatest,
  versionTag: t.artifact.versionTag,
};

/**
 * A plain save's statements, prepared: the candidates (by hash; by hash or as the head of a
 * key), the insert of a first version flagged as ongoing, and the clearing of the flag.
 */
function prepareSaveQueries(db: Instance["db"]) {
  const a = t.artifact;
  const p = sql.placeholder;
  return {
    candidatesByHash: keptStatement(db, "lamin_artifact_candidates_by_hash", (db) =>
      db
        .select(candidateColumns)
        .from(a)
        .where(eq(a.hash, p("hash")))
        .orderBy(asc(a.id)),
    ),
    candidatesByHashOrKey: keptStatement(db, "lamin_artifact_candidates", (db) =>
      db
        .select(candidateColumns)
        .from(a)
        .where(
          or(
            eq(a.hash, p("hash")),
            and(
              eq(a.storageId, p("storageId")),
              eq(a.key, p("key")),
              // the heads a default query shows: the current branch's and main's
              or(eq(a.branchId, MAIN), eq(a.branchId, p("branchId"))),
              eq(a.isLatest, true),
            ),
          ),
        )
        .orderBy(asc(a.id)),
    ),
    insertFirst: keptStatement(db, "lamin_artifact_insert_first", (db) =>
      db
        .insert(a)
        .values({
          uid: p("uid"),
          key: p("key"),
          description: p("description"),
          storageId: p("storageId"),
          suffix: p("suffix"),
          kind: p("kind"),
          size: p("size"),
          hash: p("hash"),
          hashType: p("hashType"),
          nFiles: p("nFiles"),
          keyIsVirtual: p("keyIsVirtual"),
          overwriteVersions: p("overwriteVersions"),
          versionTag: p("versionTag"),
          branchId: p("branchId"),
          createdOnId: p("createdOnId"),
          spaceId: p("spaceId"),
          createdById: p("createdById"),
          runId: p("runId"),
          aux: sql`'{"so":1}'::jsonb`,
        })
        .onConflictDoNothing()
        .returning(),
    ),
    clearOngoing: keptStatement(db, "lamin_artifact_clear_ongoing", (db) =>
      db
        .update(a)
        .set({ aux: null, updatedAt: sql`now()` })
        .where(eq(a.id, p("id")))
        .returning({ updatedAt: a.updatedAt, isLatest: a.isLatest }),
    ),
  };
}

function prepareByIds(db: Instance["db"]) {
  return keptStatement(db, "lamin_artifacts_by_ids", (db) =>
    selectArtifacts(db, listSelection as unknown as typeof selection).where(
      sql`${t.artifact.id} = ANY(${sql.placeholder("ids")}::int[])`,
    ),
  );
}

function prepareByUid(db: Instance["db"]) {
  return keptStatement(db, "lamin_artifact_by_uid", (db) =>
    selectArtifacts(db)
      .where(eq(t.artifact.uid, sql.placeholder("uid")))
      .limit(1),
  );
}
