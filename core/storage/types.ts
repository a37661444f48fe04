/** What registries need from a storage location; local folders now, S3 and GCS share the shape. */
import type { FileHash, FolderHash } from "../hash.js";

export type StorageType = "local" | "s3" | "gs";

/** Called with the bytes (or files, for folders) done so far, cumulative. */
export type ProgressFn = (done: number) => void;

export interface StorageBackend {
  /** Root as stored in `lamindb_storage.root`: an absolute path or `s3://bucket/prefix`. */
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
  /** Put what is at `from` (file or folder) at `to`, replacing what was there. */
  move(from: string, to: string): Promise<void>;
  /** Write a stream of bytes at `key`; more than `maxBytes` is refused and nothing is kept. */
  putStream(key: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<number>;
  /** Read the object at `key` as a stream. */
  openRead(key: string): Promise<{ size: number; stream: AsyncIterable<Uint8Array> }>;
  /** The files below `key`, relative to it (with "/"), with their sizes. */
  listFiles(key: string): Promise<{ path: string; size: number }[]>;
}

/** Storage-relative key of the marker that says which instance manages a root. */
export const STORAGE_MARKER_KEY = ".lamindb/storage_uid.txt";
/** Prefix of keys the registry manages itself (`.lamindb/<uid><suffix>`). */
export const AUTO_KEY_PREFIX = ".lamindb/";
