/**
 * A storage location in a Google Cloud Storage bucket, through `@google-cloud/storage` (the JSON
 * API): Google itself with Application Default Credentials, or an emulator (STORAGE_EMULATOR_HOST,
 * or an endpoint URL), which is reached without credentials as Google's clients do.
 *
 * An object's `etag` here is its generation: the version of its bytes (a new one on every write,
 * unchanged by metadata updates), what reads are pinned to (`ifGenerationMatch`, `generation`)
 * and what storage events carry. The SDK is loaded on first use, as S3's is (see s3.ts).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type * as Sdk from "@google-cloud/storage";
import type { Bucket, File, FileMetadata, GetFilesOptions, Storage } from "@google-cloud/storage";
import { NotFoundError, ValidationError } from "../errors.js";
import { HASH_CHUNK, hashFromGcsMd5, hashFromRanges } from "../hash.js";
import { randomBase62 } from "../uid.js";
import { mapLimit } from "../util/concurrency.js";
import {
  type GcsPlace,
  gcsBucketMissing,
  gcsError,
  gcsSigningError,
  gcsStatus,
  isObjectMissing,
} from "./gcs-errors.js";
import { parseBucketRoot } from "./object-keys.js";
import { ObjectStore } from "./object-store.js";
import { limitBytes, readConsistently } from "./streams.js";
import type { ByteRange, ObjectInfo, ProgressFn, StoredHash } from "./types.js";
import { attachmentDisposition, StaleObjectError } from "./types.js";

/** Files up to this size go up in one request; larger ones in a resumable upload. */
const SIMPLE_MAX = 8 * 1024 * 1024;
/** Chunk of a resumable upload (a multiple of 256 KiB): a failed chunk is all that is resent. */
const CHUNK_SIZE = 16 * 1024 * 1024;
/** Objects deleted at once (the JSON API deletes one object a request). */
const DELETE_CONCURRENCY = 16;
const LIST_PAGE = 1000;
/** Where Google Cloud Storage is, for messages and browsers' upload origins. */
export const GCS_ENDPOINT = "https://storage.googleapis.com";

let sdk: typeof Sdk | undefined;

/** `@google-cloud/storage`, loaded on first use (esbuild leaves this require to run time). */
function loadSdk(): typeof Sdk {
  sdk ??= createRequire(import.meta.url)("@google-cloud/storage") as typeof Sdk;
  return sdk;
}

export interface GcsOptions {
  /**
   * Another GCS endpoint (an emulator, or Private Service Connect); default: the emulator of
   * STORAGE_EMULATOR_HOST, else Google. Endpoints outside googleapis.com get no credentials.
   */
  endpoint?: string;
  /** A client of one's own (tests); endpoint then only names things in messages. */
  client?: Storage;
}

/** `gs://bucket/prefix` → its parts, prefix without surrounding slashes. */
export function parseGcsRoot(root: string): { bucket: string; prefix: string } {
  return parseBucketRoot(root, "gs", "a GCS");
}

/** An endpoint as the SDK writes it: with a scheme (https by default), no trailing slash. */
function sanitize(endpoint: string): string {
  return (/^https?:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`).replace(/\/+$/, "");
}

/** Where requests for GCS go: `endpoint`, else STORAGE_EMULATOR_HOST, else Google. */
export function gcsEndpoint(endpoint?: string): string {
  const emulator = process.env.STORAGE_EMULATOR_HOST || undefined;
  return sanitize(endpoint || emulator || GCS_ENDPOINT);
}

export class GcsStorage extends ObjectStore {
  readonly type = "gs" as const;
  readonly root: string;
  readonly bucket: string;
  readonly prefix: string;
  /** The endpoint given (kept in the instance's settings); undefined: Google, or the emulator. */
  readonly endpoint: string | undefined;
  /** Where requests go: the endpoint, STORAGE_EMULATOR_HOST, or Google. */
  readonly reachedAt: string;

  private madeClient: Storage | undefined;

  /** The storage at `gs://bucket/prefix` (or `gs://bucket`). No request is made. */
  constructor(root: string, opts: GcsOptions = {}) {
    super();
    const { bucket, prefix } = parseGcsRoot(root);
    this.bucket = bucket;
    this.prefix = prefix;
    this.root = `gs://${bucket}${prefix ? `/${prefix}` : ""}`;
    const endpoint = opts.endpoint || undefined;
    if (endpoint !== undefined && !(/^https?:\/\//i.test(endpoint) && URL.canParse(endpoint))) {
      throw new ValidationError(
        `not an endpoint URL: '${endpoint}'`,
        "pass the full URL, e.g. --endpoint-url http://127.0.0.1:4443",
      );
    }
    const emulator = process.env.STORAGE_EMULATOR_HOST || undefined;
    // the SDK would send some requests to each: one of them must go
    if (endpoint && emulator && sanitize(endpoint) !== sanitize(emulator)) {
      throw new ValidationError(
        `STORAGE_EMULATOR_HOST (${emulator}) and the storage's endpoint (${endpoint}) differ`,
        "unset STORAGE_EMULATOR_HOST, or use the instance whose endpoint it is",
      );
    }
    this.endpoint = endpoint ? sanitize(endpoint) : undefined;
    this.reachedAt = gcsEndpoint(this.endpoint);
    this.madeClient = opts.client;
  }

  /** The client is made on first use: opening an instance does not load the SDK. */
  get client(): Storage {
    if (!this.madeClient) {
      const endpoint = this.endpoint;
      this.madeClient = new (loadSdk().Storage)(
        endpoint
          ? {
              apiEndpoint: endpoint,
              // Google's own hosts (Private Service Connect) want credentials; emulators none
              useAuthWithCustomEndpoint: /(^|\.)googleapis\.com$/i.test(new URL(endpoint).hostname),
            }
          : {},
      );
    }
    return this.madeClient;
  }

  private get gcsBucket(): Bucket {
    return this.client.bucket(this.bucket);
  }

  private file(key: string, generation?: string): File {
    return this.gcsBucket.file(this.objectKey(key), generation ? { generation } : {});
  }

  // ---------------------------------------------------------------- errors

  private place(key?: string): GcsPlace {
    return {
      bucket: this.bucket,
      ...(key !== undefined ? { objectName: this.prefix ? `${this.prefix}/${key}` : key } : {}),
      ...(this.reachedAt !== GCS_ENDPOINT ? { endpoint: this.reachedAt } : {}),
    };
  }

  private async call<T>(key: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw gcsError(error, this.place(key));
    }
  }

  // ---------------------------------------------------------------- bucket

  /** Check that the bucket exists and can be reached; its location is its region. */
  async checkBucket(): Promise<{ region: string | undefined }> {
    try {
      const [meta] = await this.gcsBucket.getMetadata();
      return { region: meta.location ? String(meta.location).toLowerCase() : undefined };
    } catch (error) {
      if (gcsStatus(error) === 404) throw gcsBucketMissing(this.place(), error);
      throw gcsError(error, this.place());
    }
  }

  // ---------------------------------------------------------------- reading

  /** The object's metadata, or undefined when there is none; `generation` pins the version. */
  private async metadata(key: string, generation?: string): Promise<FileMetadata | undefined> {
    try {
      const [meta] = await this.file(key).getMetadata(
        generation !== undefined ? { ifGenerationMatch: generation } : {},
      );
      if (generation !== undefined && String(meta.generation) !== generation) {
        throw new StaleObjectError(key);
      }
      return meta;
    } catch (error) {
      if (isObjectMissing(error)) return undefined;
      if (gcsStatus(error) === 412) throw new StaleObjectError(key);
      throw gcsError(error, this.place(key));
    }
  }

  private info(key: string, meta: FileMetadata): ObjectInfo {
    const info: ObjectInfo = { key, size: Number(meta.size ?? 0), etag: String(meta.generation) };
    if (meta.updated) info.lastModified = new Date(meta.updated);
    return info;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const meta = await this.metadata(key);
    return meta && this.info(key, meta);
  }

  /**
   * Consume a download, counting its bytes into `bytesRead` (and `counter`). A generation that
   * is gone meanwhile (`pinned`) means the object changed: stale, not missing.
   */
  private async *consume(
    key: string,
    stream: Readable,
    opts: { counter?: { bytes: number }; pinned?: boolean } = {},
  ): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        this.bytesRead += chunk.byteLength;
        if (opts.counter) opts.counter.bytes += chunk.byteLength;
        yield chunk;
      }
    } catch (error) {
      if (opts.pinned && isObjectMissing(error)) throw new StaleObjectError(key);
      throw gcsError(error, this.place(key));
    } finally {
      stream.destroy();
    }
  }

  async hashObject(key: string, opts: { ifEtag?: string } = {}): Promise<StoredHash> {
    return readConsistently(opts.ifEtag, async () => {
      const meta = await this.metadata(key, opts.ifEtag);
      if (!meta) {
        throw new NotFoundError(
          `no object at ${this.root}/${key}`,
          "it was deleted or never written",
        );
      }
      const { size, etag: generation } = this.info(key, meta);
      // composite objects have no md5Hash: read like any other
      if (typeof meta.md5Hash === "string" && meta.md5Hash && size <= HASH_CHUNK) {
        return { size, ...hashFromGcsMd5(meta.md5Hash), etag: generation, bytesRead: 0 };
      }
      // every range reads the generation seen above, so all of the hash is of one version
      const counter = { bytes: 0 };
      const hash = await hashFromRanges(size, (start, end) =>
        this.consume(key, this.file(key, generation).createReadStream({ start, end: end - 1 }), {
          counter,
          pinned: true,
        }),
      );
      return { ...hash, etag: generation, bytesRead: counter.bytes };
    });
  }

  async openRead(
    key: string,
    range?: ByteRange,
  ): Promise<{ size: number; stream: AsyncIterable<Uint8Array> }> {
    const meta = await this.metadata(key);
    if (!meta) {
      throw new NotFoundError(
        `no object at ${this.root}/${key}`,
        "it was deleted or never written",
      );
    }
    const { size, etag: generation } = this.info(key, meta);
    const file = this.file(key, generation);
    const stream = range
      ? file.createReadStream({
          start: range.start,
          ...(range.end !== undefined ? { end: range.end } : {}),
        })
      : file.createReadStream();
    return { size, stream: this.consume(key, stream, { pinned: true }) };
  }

  async getFile(key: string, dest: string): Promise<void> {
    // the SDK checks the bytes against the object's CRC32C as they arrive
    const stream = this.file(key).createReadStream();
    await mkdir(dirname(dest), { recursive: true });
    // readers of `dest` never see a partial download
    const tmp = `${dest}.tmp-${randomBase62(8)}`;
    try {
      await pipeline(Readable.from(this.consume(key, stream)), createWriteStream(tmp));
      await rename(tmp, dest);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  async readText(key: string): Promise<string | undefined> {
    try {
      const [bytes] = await this.file(key).download();
      this.bytesRead += bytes.byteLength;
      return bytes.toString("utf8");
    } catch (error) {
      if (isObjectMissing(error)) return undefined;
      throw gcsError(error, this.place(key));
    }
  }

  async *listObjects(prefix: string): AsyncGenerator<ObjectInfo> {
    let query: GetFilesOptions | null = {
      prefix: this.listPrefix(prefix),
      autoPaginate: false,
      maxResults: LIST_PAGE,
    };
    while (query) {
      const page: GetFilesOptions = query;
      const [files, next] = (await this.call(prefix, () => this.gcsBucket.getFiles(page))) as [
        File[],
        GetFilesOptions | null,
        unknown,
      ];
      for (const f of files) yield this.info(this.storageKey(f.name), f.metadata);
      query = next?.pageToken ? next : null;
    }
  }

  // ---------------------------------------------------------------- writing

  /** Pipe `body` into an upload of `key`; resumable ones report progress (monotonic). */
  private async upload(
    key: string,
    body: Readable,
    opts: { resumable: boolean; onProgress?: ProgressFn | undefined; contentType?: string },
  ): Promise<void> {
    const sink: Writable = this.file(key).createWriteStream({
      resumable: opts.resumable,
      ...(opts.resumable ? { chunkSize: CHUNK_SIZE } : {}),
      ...(opts.contentType ? { contentType: opts.contentType } : {}),
    });
    const onProgress = opts.onProgress;
    if (onProgress) {
      // bytes resent after an unacknowledged chunk are not progress
      let most = 0;
      sink.on("progress", (p: { bytesWritten?: number }) => {
        if (p.bytesWritten === undefined || p.bytesWritten <= most) return;
        most = p.bytesWritten;
        onProgress(most);
      });
    }
    try {
      await pipeline(body, sink);
    } catch (error) {
      throw gcsError(error, this.place(key));
    } finally {
      body.destroy();
    }
  }

  async putFile(src: string, key: string, onProgress?: ProgressFn): Promise<void> {
    const { size } = await stat(src);
    if (size > SIMPLE_MAX) {
      return this.upload(key, createReadStream(src), { resumable: true, onProgress });
    }
    // one request (a multipart upload: metadata and bytes)
    const body = await readFile(src);
    await this.call(key, () => this.file(key).save(body, { resumable: false }));
    onProgress?.(size);
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<number> {
    const counter = { bytes: 0 };
    try {
      // resumable: the bytes stream through without being held; an upload broken off is
      // never finalised, so nothing of it is an object
      await this.upload(key, Readable.from(limitBytes(body, maxBytes, counter)), {
        resumable: true,
      });
    } catch (error) {
      await this.delete(key).catch(() => {});
      throw error;
    }
    return counter.bytes;
  }

  async writeText(key: string, text: string): Promise<void> {
    await this.call(key, () =>
      this.file(key).save(Buffer.from(text, "utf8"), {
        resumable: false,
        contentType: "text/plain; charset=utf-8",
      }),
    );
  }

  protected async copyObject(from: string, to: string): Promise<void> {
    // a rewrite: the server copies (in several calls for large objects, which the SDK makes)
    await this.call(to, () => this.file(from).copy(this.file(to)));
  }

  protected async deleteObjects(_key: string, objectNames: string[]): Promise<void> {
    await mapLimit(objectNames, DELETE_CONCURRENCY, async (name) => {
      try {
        await this.gcsBucket.file(name).delete();
      } catch (error) {
        if (isObjectMissing(error)) return; // a folder's own key, or deleted meanwhile
        throw gcsError(error, { ...this.place(), objectName: name });
      }
    });
  }

  // ---------------------------------------------------------------- signed URLs

  /** A V4 signed URL that accepts one PUT of the object's bytes, for `expiresInSeconds`. */
  async presignPut(key: string, expiresInSeconds: number): Promise<string> {
    return this.sign(key, "write", expiresInSeconds);
  }

  /** A V4 signed URL that answers GET with the object's bytes, for `expiresInSeconds`. */
  async presignGet(
    key: string,
    expiresInSeconds: number,
    opts: { attachment?: string } = {},
  ): Promise<string> {
    return this.sign(key, "read", expiresInSeconds, opts.attachment);
  }

  private async sign(
    key: string,
    action: "read" | "write",
    expiresInSeconds: number,
    attachment?: string,
  ): Promise<string> {
    const file = this.file(key);
    const signing = file
      .getSignedUrl({
        version: "v4",
        action,
        expires: Date.now() + expiresInSeconds * 1000,
        // GCS answers with these headers: a download, whatever the object's own content type
        ...(attachment !== undefined
          ? {
              responseDisposition: attachmentDisposition(attachment),
              responseType: "application/octet-stream",
            }
          : {}),
      })
      .catch((error: unknown) => {
        throw gcsSigningError(error, this.place(key));
      });
    const [url] = await signing;
    return url;
  }
}
