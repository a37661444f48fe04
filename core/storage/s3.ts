/**
 * A storage location in an S3 bucket: AWS, or any S3-compatible server through an endpoint URL.
 *
 * The AWS SDK is loaded when an S3 storage first talks to S3, never when this module is imported:
 * local instances do not pay for loading it, and bundles (the CLI's, the Lambdas', where the
 * runtime provides the SDK) hold this code without loading the SDK at start. `require` (not
 * `import()`) keeps the `client` getter synchronous; esbuild leaves such a require to run time.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type * as Sdk from "@aws-sdk/client-s3";
import type { S3Client } from "@aws-sdk/client-s3";
import { NotFoundError, ValidationError } from "../errors.js";
import { HASH_CHUNK, hashFromRanges, hashFromS3Etag } from "../hash.js";
import { randomBase62 } from "../uid.js";
import { requireAwsSdk } from "../util/aws-sdk.js";
import { parseBucketRoot } from "./object-keys.js";
import { ObjectStore } from "./object-store.js";
import { bucketMissing, isNotFound, type S3Place, s3Error } from "./s3-errors.js";
import { limitBytes, readConsistently } from "./streams.js";
import type { ByteRange, ObjectInfo, ProgressFn, StoredHash } from "./types.js";
import { attachmentDisposition, StaleObjectError } from "./types.js";

/** Multipart part size: files above it go up in parts, QUEUE_SIZE of them in flight. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;
/** S3's single-request CopyObject limit; larger objects would need UploadPartCopy. */
const COPY_MAX = 5 * 1024 ** 3;
const PLAIN_MD5 = /^[0-9a-f]{32}$/i;

let clientModule: typeof Sdk | undefined;

/** `@aws-sdk/client-s3`, loaded on first use. */
function loadSdk(): typeof Sdk {
  clientModule ??= requireAwsSdk("@aws-sdk/client-s3") as typeof Sdk;
  return clientModule;
}

export interface S3Options {
  /** An S3-compatible server; default AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS. */
  endpoint?: string;
  /** Default AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1. */
  region?: string;
  /** A client of one's own (tests); endpoint and region then only name things in messages. */
  client?: S3Client;
}

/** `s3://bucket/prefix` → its parts, prefix without surrounding slashes. */
export function parseS3Root(root: string): { bucket: string; prefix: string } {
  return parseBucketRoot(root, "s3", "an S3");
}

function unquote(etag: string | undefined): string {
  return (etag ?? "").replaceAll('"', "");
}

export class S3Storage extends ObjectStore {
  readonly type = "s3" as const;
  /** `s3://bucket` or `s3://bucket/prefix`, as stored in `lamindb_storage.root`. */
  readonly root: string;
  readonly bucket: string;
  /** Key prefix of the root inside the bucket, "" or without surrounding slashes. */
  readonly prefix: string;
  readonly endpoint: string | undefined;
  readonly region: string;

  private madeClient: S3Client | undefined;

  /** The SDK and its client are made on first use: opening an instance (the API reading rows
   *  only) does not pay for loading the SDK. */
  private get sdk(): typeof Sdk {
    return loadSdk();
  }

  get client(): S3Client {
    this.madeClient ??= new this.sdk.S3Client({
      region: this.region,
      // S3-compatible servers rarely have per-bucket DNS names; AWS redirects across regions
      ...(this.endpoint
        ? { endpoint: this.endpoint, forcePathStyle: true }
        : { followRegionRedirects: true }),
      // Default checksums make streamed PUTs aws-chunked and presigned PUTs carry the CRC of an
      // empty body, which S3-compatible servers store corrupted or reject.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    return this.madeClient;
  }

  /** The storage at `s3://bucket/prefix` (or `s3://bucket`). No request is made. */
  constructor(root: string, opts: S3Options = {}) {
    super();
    const { bucket, prefix } = parseS3Root(root);
    this.bucket = bucket;
    this.prefix = prefix;
    this.root = `s3://${bucket}${prefix ? `/${prefix}` : ""}`;
    const endpoint =
      opts.endpoint || process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
    if (endpoint !== undefined && !URL.canParse(endpoint)) {
      throw new ValidationError(
        `not an endpoint URL: '${endpoint}'`,
        "pass the full URL, e.g. --endpoint-url http://127.0.0.1:9000",
      );
    }
    this.endpoint = endpoint;
    this.region =
      opts.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1";
    this.madeClient = opts.client;
  }

  // ---------------------------------------------------------------- keys and errors

  private place(key?: string): S3Place {
    return {
      bucket: this.bucket,
      ...(key !== undefined ? { objectKey: this.prefix ? `${this.prefix}/${key}` : key } : {}),
      ...(this.endpoint ? { endpoint: this.endpoint } : {}),
    };
  }

  /** Run an SDK call; failures come back as domain errors about `key`. */
  private async call<T>(key: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw s3Error(error, this.place(key));
    }
  }

  // ---------------------------------------------------------------- bucket

  override get defaultRegion(): string {
    return this.region;
  }

  async checkBucket(): Promise<{ region: string | undefined }> {
    try {
      const out = await this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.bucket }));
      return { region: out.BucketRegion };
    } catch (error) {
      // HEAD answers have no body: a missing bucket is a bare 404
      if (isNotFound(error)) throw bucketMissing(this.place(), error);
      throw s3Error(error, this.place());
    }
  }

  // ---------------------------------------------------------------- reading

  /** HeadObject, or undefined on 404. `etagIsMd5` is false when encryption hides the MD5. */
  private async headObject(
    key: string,
    ifEtag?: string,
  ): Promise<{ info: ObjectInfo; etagIsMd5: boolean } | undefined> {
    let out: Sdk.HeadObjectCommandOutput;
    try {
      out = await this.client.send(
        new this.sdk.HeadObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          ...(ifEtag !== undefined ? { IfMatch: `"${ifEtag}"` } : {}),
        }),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Error(error, this.place(key));
    }
    const etag = unquote(out.ETag);
    // servers that ignore If-Match (s3rver) still tell the ETag
    if (ifEtag !== undefined && etag !== ifEtag) throw new StaleObjectError(key);
    const info: ObjectInfo = { key, size: out.ContentLength ?? 0, etag };
    if (out.VersionId) info.versionId = out.VersionId;
    if (out.LastModified) info.lastModified = out.LastModified;
    // with SSE-KMS or SSE-C the ETag of a single-part object is not the MD5 of its content
    const encrypted = out.ServerSideEncryption?.startsWith("aws:kms") || !!out.SSECustomerAlgorithm;
    return { info, etagIsMd5: PLAIN_MD5.test(etag) && !encrypted };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    return (await this.headObject(key))?.info;
  }

  /** Consume an object body, counting its bytes into `bytesRead` (and `counter`). */
  private async *consume(body: unknown, counter?: { bytes: number }): AsyncGenerator<Uint8Array> {
    const stream = body as Readable;
    try {
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        this.bytesRead += chunk.byteLength;
        if (counter) counter.bytes += chunk.byteLength;
        yield chunk;
      }
    } finally {
      stream.destroy?.();
    }
  }

  private getObject(key: string, extra: Partial<Sdk.GetObjectCommandInput> = {}) {
    return this.call(key, () =>
      this.client.send(
        new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), ...extra }),
      ),
    );
  }

  /** Bytes [start, end) of the object as it is at `etag`; another version throws stale. */
  private async *readRange(
    key: string,
    start: number,
    end: number,
    etag: string,
    counter: { bytes: number },
  ): AsyncGenerator<Uint8Array> {
    const out = await this.getObject(key, {
      Range: `bytes=${start}-${end - 1}`,
      IfMatch: `"${etag}"`,
    });
    if (unquote(out.ETag) !== etag) {
      (out.Body as Readable | undefined)?.destroy?.();
      throw new StaleObjectError(key);
    }
    yield* this.consume(out.Body, counter);
  }

  async hashObject(key: string, opts: { ifEtag?: string } = {}): Promise<StoredHash> {
    return readConsistently(opts.ifEtag, async () => {
      const head = await this.headObject(key, opts.ifEtag);
      if (!head) {
        throw new NotFoundError(
          `no object at ${this.root}/${key}`,
          "it was deleted or never written",
        );
      }
      const { size, etag } = head.info;
      if (head.etagIsMd5 && size <= HASH_CHUNK) {
        // the ETag of a single-part upload is the MD5 of the content: nothing to read
        return { size, hash: hashFromS3Etag(etag).hash, hashType: "md5", etag, bytesRead: 0 };
      }
      // every range is pinned to the ETag seen above, so all of the hash is of one version
      const counter = { bytes: 0 };
      const hash = await hashFromRanges(size, (start, end) =>
        this.readRange(key, start, end, etag, counter),
      );
      return { ...hash, etag, bytesRead: counter.bytes };
    });
  }

  async openRead(
    key: string,
    range?: ByteRange,
  ): Promise<{ size: number; stream: AsyncIterable<Uint8Array> }> {
    if (!range) {
      const out = await this.getObject(key);
      return { size: out.ContentLength ?? 0, stream: this.consume(out.Body) };
    }
    const out = await this.getObject(key, { Range: `bytes=${range.start}-${range.end ?? ""}` });
    // "bytes 0-99/1234": the object's size is after the slash
    const total = Number(/\/(\d+)$/.exec(out.ContentRange ?? "")?.[1] ?? out.ContentLength ?? 0);
    return { size: total, stream: this.consume(out.Body) };
  }

  async getFile(key: string, dest: string): Promise<void> {
    const out = await this.getObject(key);
    await mkdir(dirname(dest), { recursive: true });
    // readers of `dest` never see a partial download
    const tmp = `${dest}.tmp-${randomBase62(8)}`;
    try {
      await pipeline(Readable.from(this.consume(out.Body)), createWriteStream(tmp));
      await rename(tmp, dest);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  async readText(key: string): Promise<string | undefined> {
    let out: Sdk.GetObjectCommandOutput;
    try {
      out = await this.client.send(
        new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Error(error, this.place(key));
    }
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.consume(out.Body)) chunks.push(chunk);
    return Buffer.concat(chunks).toString("utf8");
  }

  async *listObjects(prefix: string): AsyncGenerator<ObjectInfo> {
    const Prefix = this.listPrefix(prefix);
    let token: string | undefined;
    do {
      const page: Sdk.ListObjectsV2CommandOutput = await this.call(prefix, () =>
        this.client.send(
          new this.sdk.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        const info: ObjectInfo = {
          key: this.storageKey(o.Key),
          size: o.Size ?? 0,
          etag: unquote(o.ETag),
        };
        if (o.LastModified) info.lastModified = o.LastModified;
        yield info;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  // ---------------------------------------------------------------- writing

  /** Multipart upload of a stream of unknown length (lib-storage buffers it into parts). */
  private async upload(key: string, body: Readable, onProgress?: ProgressFn): Promise<void> {
    const { Upload } = requireAwsSdk(
      "@aws-sdk/lib-storage",
    ) as typeof import("@aws-sdk/lib-storage");
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.objectKey(key), Body: body },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false, // a failed upload is aborted: no orphaned parts to pay for
    });
    if (onProgress) {
      upload.on("httpUploadProgress", (p) => {
        if (p.loaded !== undefined) onProgress(p.loaded);
      });
    }
    try {
      await upload.done();
    } catch (error) {
      throw s3Error(error, this.place(key));
    } finally {
      body.destroy();
    }
  }

  async putFile(src: string, key: string, onProgress?: ProgressFn): Promise<void> {
    const { size } = await stat(src);
    if (size > PART_SIZE) return this.upload(key, createReadStream(src), onProgress);
    // one request; a Buffer body, since streamed PutObject bodies need a known length
    const body = await readFile(src);
    await this.call(key, () =>
      this.client.send(
        new this.sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Body: body,
        }),
      ),
    );
    onProgress?.(size);
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<number> {
    const counter = { bytes: 0 };
    try {
      await this.upload(key, Readable.from(limitBytes(body, maxBytes, counter)));
    } catch (error) {
      // nothing of a refused or broken upload is kept
      await this.delete(key).catch(() => {});
      throw error;
    }
    return counter.bytes;
  }

  async writeText(key: string, text: string): Promise<void> {
    await this.call(key, () =>
      this.client.send(
        new this.sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Body: Buffer.from(text, "utf8"),
          ContentType: "text/plain; charset=utf-8",
        }),
      ),
    );
  }

  protected async copyObject(from: string, to: string, size: number): Promise<void> {
    if (size > COPY_MAX) {
      throw new ValidationError(
        `${this.root}/${from} is larger than 5 GiB, the limit of a single S3 copy`,
        "save the file again under the new key instead of moving it",
      );
    }
    await this.call(to, () =>
      this.client.send(
        new this.sdk.CopyObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(to),
          // s3rver and S3 decode the source with decodeURI: encode it the same way
          CopySource: encodeURI(`${this.bucket}/${this.objectKey(from)}`),
        }),
      ),
    );
  }

  protected async deleteObjects(key: string, objectKeys: string[]): Promise<void> {
    const out = await this.call(key, () =>
      this.client.send(
        new this.sdk.DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: objectKeys.map((Key) => ({ Key })), Quiet: true },
        }),
      ),
    );
    const failed = out.Errors?.[0];
    if (failed) {
      throw s3Error(
        { name: failed.Code, message: failed.Message, $metadata: {} },
        { ...this.place(), objectKey: failed.Key ?? "" },
      );
    }
  }

  // ---------------------------------------------------------------- presigned URLs

  /** A URL that accepts one PUT of the object's bytes, for `expiresInSeconds`. */
  async presignPut(key: string, expiresInSeconds: number): Promise<string> {
    return this.presign(
      new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      expiresInSeconds,
    );
  }

  /** A URL that answers GET with the object's bytes, for `expiresInSeconds`. */
  async presignGet(
    key: string,
    expiresInSeconds: number,
    opts: { attachment?: string } = {},
  ): Promise<string> {
    return this.presign(
      new this.sdk.GetObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        // S3 answers with these headers: a download, whatever the object's own content type
        ...(opts.attachment !== undefined
          ? {
              ResponseContentDisposition: attachmentDisposition(opts.attachment),
              ResponseContentType: "application/octet-stream",
            }
          : {}),
      }),
      expiresInSeconds,
    );
  }

  private async presign(
    command: Sdk.PutObjectCommand | Sdk.GetObjectCommand,
    expiresIn: number,
  ): Promise<string> {
    const { getSignedUrl } = requireAwsSdk(
      "@aws-sdk/s3-request-presigner",
    ) as typeof import("@aws-sdk/s3-request-presigner");
    return getSignedUrl(this.client, command, { expiresIn });
  }
}
