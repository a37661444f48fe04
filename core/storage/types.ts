/** What registries need from a storage location: a local folder, S3 or GCS. */
import { IntegrityError, LaminError } from "../errors.js";
import type { FileHash, FolderHash } from "../hash.js";

export type StorageType = "local" | "s3" | "gs";

/** What storage says about one object (a file; folders are many objects). */
export interface ObjectInfo {
  /** Storage-relative key, "/"-separated. */
  key: string;
  size: number;
  /**
   * S3: the ETag without quotes (`<md5>` or `<md5-of-parts>-<n>`); GCS: the generation (decimal);
   * local: `<mtime-ms hex>-<size hex>`.
   */
  etag: string;
  /** S3 with bucket versioning on. */
  versionId?: string;
  lastModified?: Date;
}

/** A LaminDB file hash of a stored object, with how many bytes it took to compute. */
export interface StoredHash extends FileHash {
  etag: string;
  /** Bytes read from storage: 0 when the ETag is a usable MD5, at most 100 MiB otherwise. */
  bytesRead: number;
}

export interface MoveOptions {
  /** Replace what is at the destination (default true). */
  replace?: boolean;
}

/** Bytes `start` to `end` of an object, both included (`end` absent: to its end). */
export interface ByteRange {
  start: number;
  end?: number;
}

/** Called with the bytes (or files, for folders) done so far, cumulative. */
export type ProgressFn = (done: number) => void;

export interface StorageBackend {
  /** Root as stored in `lamindb_storage.root`: an absolute path, `s3://` or `gs://bucket/prefix`. */
  readonly root: string;
  readonly type: StorageType;
  /** Write a local file at `key`; readers never see partial bytes. */
  putFile(src: string, key: string, onProgress?: ProgressFn): Promise<void>;
  /** Write the files `relPaths` of `srcDir` below `key`, replacing what was there. */
  putFolder(
    srcDir: string,
    relPaths: readonly string[],
    key: string,
    onProgress?: ProgressFn,
  ): Promise<void>;
  /** Copy the object at `key` to the local path `dest`. */
  getFile(key: string, dest: string): Promise<void>;
  /** Copy every object below `key` into `destDir`. */
  getFolder(key: string, destDir: string): Promise<void>;
  /** Remove the object, or every object below `key`. Missing is not an error. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  readText(key: string): Promise<string | undefined>;
  writeText(key: string, text: string): Promise<void>;
  /** A path that can be opened directly, when the storage is a local folder. */
  localPath(key: string): string | undefined;
  /** LaminDB hash of what is stored at `key` (a file, or every file below it). */
  hashStored(key: string, isFolder: boolean): Promise<FileHash | FolderHash>;
  /**
   * Put what is at `from` (file or folder) at `to`, replacing what was there; with
   * `replace: false`, refuse (ConflictError) when something is at `to`.
   */
  move(from: string, to: string, opts?: MoveOptions): Promise<void>;
  /** Write a stream of bytes at `key`; more than `maxBytes` is refused and nothing is kept. */
  putStream(key: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<number>;
  /**
   * Read the object at `key` as a stream; with `range`, only its bytes `start` to `end`
   * (inclusive; to the end when absent). `size` is the whole object's.
   */
  openRead(
    key: string,
    range?: ByteRange,
  ): Promise<{ size: number; stream: AsyncIterable<Uint8Array> }>;
  /** The files below `key`, relative to it (with "/"), with their sizes. */
  listFiles(key: string): Promise<{ path: string; size: number }[]>;
  /** Size and ETag of the object at `key`, or undefined when there is none. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /**
   * LaminDB hash of the object at `key` by the cheapest faithful route: a plain-MD5 ETag of an
   * object of at most 50 MiB is reused without reading; otherwise at most 100 MiB are read
   * (the whole object up to 50 MiB, else the first and last 50 MiB, `sha1-fl`). With
   * `ifEtag`, every read is conditional: a changed object throws {@link StaleObjectError}; a
   * missing one throws NotFoundError.
   */
  hashObject(key: string, opts?: { ifEtag?: string }): Promise<StoredHash>;
  /** Every object below `prefix` ("" = the whole root), in key order, fetched page by page. */
  listObjects(prefix: string): AsyncIterable<ObjectInfo>;
  /** A URL that lets its holder PUT the object at `key` directly (object stores only). */
  presignPut?(key: string, expiresInSeconds: number): Promise<string>;
  /**
   * A URL that lets its holder GET the object at `key` directly (object stores only); with
   * `attachment`, answered as a download of that file name (never rendered by a browser).
   */
  presignGet?(
    key: string,
    expiresInSeconds: number,
    opts?: { attachment?: string },
  ): Promise<string>;
}

/** The object changed between the event that named it and the read: a newer event follows. */
export class StaleObjectError extends Error {
  constructor(readonly key: string) {
    super(`object ${key} changed while it was read`);
    this.name = "StaleObjectError";
  }
}

/**
 * A key of local storage whose path passes through a symbolic link (`link`, storage-relative):
 * lamindb never follows one, so the key names no bytes of the storage. Where the link points is
 * not said: it may be a path of the server that the caller must not learn.
 */
export class LinkedKeyError extends IntegrityError {
  constructor(
    readonly key: string,
    readonly link: string,
  ) {
    super(
      `${key} is not in the storage: ${link === key ? "it" : `'${link}'`} is a symbolic link, which lamindb does not follow`,
      "put the file or folder itself in storage instead of a link (e.g. cp -L), then run `lamin reconcile`",
    );
    this.name = "LinkedKeyError";
  }
}

/**
 * The storage's credentials cannot sign URLs (GCS with a user's credentials: signing needs a
 * service account). Bytes then go through the server instead of straight to storage.
 */
export class SigningUnavailableError extends LaminError {
  constructor(message: string, hint: string, options?: { cause?: unknown }) {
    super("permission", message, hint, options);
    this.name = "SigningUnavailableError";
  }
}

/** A presigned URL, or undefined when the storage's credentials cannot sign one. */
export async function presignedOrNone(
  sign: Promise<string> | undefined,
): Promise<string | undefined> {
  try {
    return await sign;
  } catch (error) {
    if (error instanceof SigningUnavailableError) return undefined;
    throw error;
  }
}

/** Storage-relative key of the marker that says which instance manages a root. */
export const STORAGE_MARKER_KEY = ".lamindb/storage_uid.txt";
/** Prefix of keys the registry manages itself (`.lamindb/<uid><suffix>`). */
export const AUTO_KEY_PREFIX = ".lamindb/";

/** `content-disposition` of a download named `name` (ASCII fallback, and the UTF-8 name). */
export function attachmentDisposition(name: string): string {
  const file = name.split("/").pop() || "download";
  const ascii = file.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file)}`;
}
