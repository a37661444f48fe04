/**
 * What S3 and GCS storage share: a root `<scheme>://bucket/prefix`, keys mapped to object names
 * below it, and everything about folders, moves and deletes built on a few object operations
 * each store implements (head, list, put, copy, delete in batches). A folder is the objects
 * below `key/`; it exists through them.
 */
import { join, resolve, sep } from "node:path";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { type FileHash, type FolderEntry, type FolderHash, folderHashOf } from "../hash.js";
import { mapLimit } from "../util/concurrency.js";
import { checkObjectKey } from "./object-keys.js";
import type {
  ByteRange,
  MoveOptions,
  ObjectInfo,
  ProgressFn,
  StorageBackend,
  StorageType,
  StoredHash,
} from "./types.js";

/** Files of a folder moved at once (each large one has uploads of its own in flight). */
export const FILE_CONCURRENCY = 8;
/** Object names handed to {@link ObjectStore.deleteObjects} at once (S3's DeleteObjects limit). */
const DELETE_BATCH = 1000;

export abstract class ObjectStore implements StorageBackend {
  abstract readonly type: StorageType;
  /** `<scheme>://bucket` or `<scheme>://bucket/prefix`, as stored in `lamindb_storage.root`. */
  abstract readonly root: string;
  abstract readonly bucket: string;
  /** Name prefix of the root inside the bucket, "" or without surrounding slashes. */
  abstract readonly prefix: string;
  /** The endpoint the instance's settings keep (undefined: the provider's own, or its default). */
  abstract readonly endpoint: string | undefined;
  /** Bytes of object bodies read so far, counted as the streams are consumed. */
  bytesRead = 0;

  /**
   * Check that the bucket exists and can be reached with these credentials; returns its region
   * when the server says (AWS and GCS do).
   */
  abstract checkBucket(): Promise<{ region: string | undefined }>;
  /** The region to record when the server does not say. */
  get defaultRegion(): string | undefined {
    return undefined;
  }

  // ---------------------------------------------------------------- what each store does

  abstract head(key: string): Promise<ObjectInfo | undefined>;
  abstract hashObject(key: string, opts?: { ifEtag?: string }): Promise<StoredHash>;
  abstract openRead(
    key: string,
    range?: ByteRange,
  ): Promise<{ size: number; stream: AsyncIterable<Uint8Array> }>;
  abstract getFile(key: string, dest: string): Promise<void>;
  abstract readText(key: string): Promise<string | undefined>;
  abstract listObjects(prefix: string): AsyncIterable<ObjectInfo>;
  abstract putFile(src: string, key: string, onProgress?: ProgressFn): Promise<void>;
  abstract putStream(
    key: string,
    body: AsyncIterable<Uint8Array>,
    maxBytes: number,
  ): Promise<number>;
  abstract writeText(key: string, text: string): Promise<void>;
  /** Copy one object (`size` bytes) from `from` to `to`, replacing what is there. */
  protected abstract copyObject(from: string, to: string, size: number): Promise<void>;
  /** Remove these objects (full names, at most 1000); missing ones are not an error. */
  protected abstract deleteObjects(key: string, objectNames: string[]): Promise<void>;

  // ---------------------------------------------------------------- keys

  /** The object name of a storage key. */
  protected objectKey(key: string): string {
    checkObjectKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  /** The storage key of an object name listed below the root. */
  protected storageKey(objectKey: string): string {
    return this.prefix ? objectKey.slice(this.prefix.length + 1) : objectKey;
  }

  /** The name prefix that lists the objects whose keys start with `prefix` ("": all). */
  protected listPrefix(prefix: string): string {
    if (prefix) checkObjectKey(prefix.replace(/\/$/, ""));
    return this.prefix ? `${this.prefix}/${prefix}` : prefix;
  }

  localPath(_key: string): string | undefined {
    return undefined;
  }

  // ---------------------------------------------------------------- folders

  async hashStored(key: string, isFolder: boolean): Promise<FileHash | FolderHash> {
    if (!isFolder) return this.hashObject(key);
    const files = await this.listFiles(key);
    const entries: FolderEntry[] = await mapLimit(files, FILE_CONCURRENCY, async (f) => {
      const h = await this.hashObject(`${key}/${f.path}`);
      return { relPath: f.path, size: h.size, hash: h.hash };
    });
    return folderHashOf(entries);
  }

  async getFolder(key: string, destDir: string): Promise<void> {
    const root = resolve(destDir);
    const files = await this.listFiles(key);
    await mapLimit(files, FILE_CONCURRENCY, async (f) => {
      const dest = resolve(root, ...f.path.split("/"));
      if (!dest.startsWith(root + sep)) {
        throw new ValidationError(
          `object ${this.root}/${key}/${f.path} would land outside ${root}`,
          "rename the object: its key has '..' segments",
        );
      }
      await this.getFile(`${key}/${f.path}`, dest);
    });
  }

  async exists(key: string): Promise<boolean> {
    if (await this.head(key)) return true;
    return this.hasObjectsBelow(key);
  }

  async listFiles(key: string): Promise<{ path: string; size: number }[]> {
    const files: { path: string; size: number }[] = [];
    for await (const o of this.listObjects(`${key}/`)) {
      files.push({ path: o.key.slice(key.length + 1), size: o.size });
    }
    // like a missing local folder: a folder exists only through its objects
    if (files.length === 0) {
      throw new NotFoundError(
        `no objects below ${this.root}/${key}/`,
        "it was deleted or never written",
      );
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  protected async hasObjectsBelow(key: string): Promise<boolean> {
    // the first page answers (no page size of 1: s3rver fails any listing that would need a
    // continuation token)
    for await (const _ of this.listObjects(`${key}/`)) return true;
    return false;
  }

  async putFolder(
    srcDir: string,
    relPaths: readonly string[],
    key: string,
    onProgress?: ProgressFn,
  ): Promise<void> {
    let done = 0;
    await mapLimit(relPaths, FILE_CONCURRENCY, async (rel) => {
      await this.putFile(join(srcDir, ...rel.split("/")), `${key}/${rel}`);
      onProgress?.(++done);
    });
    await this.deleteBelow(key, new Set(relPaths));
  }

  async move(from: string, to: string, opts: MoveOptions = {}): Promise<void> {
    // Object stores have no rename: copy, then delete. Without `replace`, the destination is
    // checked first (a window in which a concurrent writer could still land there; lamindb
    // writes keys under the registry's per-key lock).
    if (opts.replace === false && ((await this.head(to)) || (await this.hasObjectsBelow(to)))) {
      throw new ConflictError(
        `${to} already exists in storage`,
        "pick another key, or move or delete what is there first",
      );
    }
    const file = await this.head(from);
    if (file) {
      await this.copyObject(from, to, file.size);
      await this.deleteBelow(to, new Set());
    } else {
      const files = await this.listFiles(from);
      await mapLimit(files, FILE_CONCURRENCY, (f) =>
        this.copyObject(`${from}/${f.path}`, `${to}/${f.path}`, f.size),
      );
      await this.deleteBelow(to, new Set(files.map((f) => f.path)));
    }
    await this.delete(from);
  }

  // ---------------------------------------------------------------- deleting

  async delete(key: string): Promise<void> {
    const batch = [this.objectKey(key)];
    for await (const o of this.listObjects(`${key}/`)) {
      batch.push(this.objectKey(o.key));
      if (batch.length === DELETE_BATCH) await this.deleteObjects(key, batch.splice(0));
    }
    if (batch.length) await this.deleteObjects(key, batch);
  }

  /** Remove the objects below `key/` whose relative path is not in `keep`. */
  protected async deleteBelow(key: string, keep: ReadonlySet<string>): Promise<void> {
    const batch: string[] = [];
    for await (const o of this.listObjects(`${key}/`)) {
      if (keep.has(o.key.slice(key.length + 1))) continue;
      batch.push(this.objectKey(o.key));
      if (batch.length === DELETE_BATCH) await this.deleteObjects(key, batch.splice(0));
    }
    if (batch.length) await this.deleteObjects(key, batch);
  }
}
