/**
 * s3rver's file store (`<dir>/s3/<bucket>/<key>._S3rver_object`, with `.md5` and
 * `._S3rver_metadata.json` files beside it), made safe to crash in. s3rver truncates and rewrites
 * files in place, so a kill can leave an empty metadata file (every listing then fails) or new
 * bytes under the old checksum; its write streams have no error handler (one failed write kills
 * the process); completing a multipart upload with a part never sent crashes it. Here every write
 * goes to a temporary file first and is renamed into place, parts are checked before they are
 * joined, and broken entries are repaired, at start and when read, with a message naming them.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, readdirSync, readFileSync, rmSync } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

const requireS3rver = createRequire(import.meta.url);
/** s3rver's error: thrown from the store, Koa answers it as S3's XML with its status. */
const S3Error = requireS3rver("s3rver/lib/models/error") as new (
  code: string,
  message: string,
  detail?: Record<string, unknown>,
) => Error;
const S3Object = requireS3rver("s3rver/lib/models/object") as {
  new (bucket: string, key: string, content: Readable, metadata: Metadata): StoreObject;
  ALLOWED_METADATA: string[];
};

type Metadata = Record<string, string>;

interface StoreObject {
  bucket: string;
  key: string;
  content: Readable | Buffer;
  metadata: Metadata;
}

interface Written {
  size: number;
  md5: string;
}

/** The methods of s3rver's FilesystemStore this module replaces or wraps. */
export interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  putObject(object: StoreObject): Promise<Written>;
  putMetadata(bucket: string, key: string, metadata: Metadata, md5?: string): Promise<void>;
  copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata?: Metadata | null,
  ): Promise<Record<string, unknown>>;
  putPart(
    bucket: string,
    uploadId: string,
    partNumber: number,
    content: Readable,
  ): Promise<Written>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ): Promise<Written>;
}

const SUFFIX = {
  object: "._S3rver_object",
  md5: "._S3rver_object.md5",
  meta: "._S3rver_metadata.json",
};
const MD5 = /^[0-9a-f]{32}$/;

const brokenMetadata = (object: string) =>
  `repaired s3://${object}: its metadata file was empty or unreadable (left by a crash); removed it, so its content type and x-amz-meta- headers are gone`;
const brokenChecksum = (object: string) =>
  `repaired s3://${object}: its checksum file was empty or unreadable (left by a crash); removed it, its ETag is computed again from its bytes`;

/** Empty `tmpDir` (what an earlier run left half-written) and say how much was there. */
export function clearTemporary(tmpDir: string, onRepair: (message: string) => void): void {
  let left: string[] = [];
  try {
    left = readdirSync(tmpDir);
  } catch {}
  rmSync(tmpDir, { recursive: true, force: true });
  if (left.length) {
    onRepair(`removed ${left.length} incomplete upload(s) an earlier run left unfinished`);
  }
}

/**
 * Check every object's metadata and checksum files under `root` (the store's folder): remove
 * those a crash left empty or cut short, and those of objects that no longer exist.
 */
export function repairStore(root: string, onRepair: (message: string) => void): void {
  let entries: { parentPath: string; name: string; isFile(): boolean }[];
  try {
    entries = readdirSync(root, { recursive: true, withFileTypes: true });
  } catch {
    return; // a new folder
  }
  const objects = new Set(
    entries.filter((e) => e.name.endsWith(SUFFIX.object)).map((e) => join(e.parentPath, e.name)),
  );
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    // parts of multipart uploads are checked when the upload completes
    if (!entry.isFile() || path.includes(`${sep}._S3rver_uploads${sep}`)) continue;
    for (const [suffix, valid, message] of [
      [SUFFIX.meta, isJson, brokenMetadata],
      [SUFFIX.md5, (text: string) => MD5.test(text), brokenChecksum],
    ] as const) {
      if (!entry.name.endsWith(suffix)) continue;
      const base = path.slice(0, -suffix.length);
      const object = relative(root, base).split(sep).join("/");
      if (!objects.has(`${base}${SUFFIX.object}`)) {
        rmSync(path, { force: true });
        onRepair(`removed a leftover file of s3://${object}, an object that no longer exists`);
      } else if (!valid(readFileSync(path, "utf8"))) {
        rmSync(path, { force: true });
        onRepair(message(object));
      }
    }
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Replace or wrap the store's writes and metadata reads; temporary files go to `tmpDir`. */
export function hardenStore(
  store: FilesystemStore,
  tmpDir: string,
  onRepair: (message: string) => void,
): void {
  const temporary = () => join(tmpDir, randomBytes(12).toString("hex"));
  const pathOf = (bucket: string, key: string, resource: string) =>
    store.getResourcePath(bucket, key, resource);

  /** Write `content` to a new temporary file; its size and MD5. */
  async function spool(content: Readable | Buffer, tmp: string): Promise<Written> {
    await mkdir(tmpDir, { recursive: true });
    const md5 = createHash("md5");
    let size = 0;
    await pipeline(
      Buffer.isBuffer(content) ? Readable.from([content]) : content,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          md5.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(tmp),
    );
    return { size, md5: md5.digest("hex") };
  }

  /** Move a finished temporary file into place. A crash leaves the old file or the new one. */
  async function install(tmp: string, path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await rename(tmp, path);
  }

  async function writeAtomic(path: string, text: string): Promise<void> {
    const tmp = temporary();
    try {
      await mkdir(tmpDir, { recursive: true });
      await writeFile(tmp, text);
      await install(tmp, path);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async function copyAtomic(from: string, to: string): Promise<void> {
    const tmp = temporary();
    try {
      await mkdir(tmpDir, { recursive: true });
      await copyFile(from, tmp);
      await install(tmp, to);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      await rm(to, { force: true }); // the source has none: neither has the copy
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Put new bytes at `path`. The checksum file goes first: until it is written again, readers
   * compute the ETag from whichever bytes are there.
   */
  async function replaceObject(tmp: string, path: string): Promise<void> {
    await rm(`${path}.md5`, { force: true });
    await install(tmp, path);
  }

  store.putMetadata = async (bucket, key, metadata, md5) => {
    const kept = Object.fromEntries(
      Object.entries(metadata).filter(
        ([name]) => S3Object.ALLOWED_METADATA.includes(name) || name.startsWith("x-amz-meta-"),
      ),
    );
    if (md5) await writeAtomic(pathOf(bucket, key, "object.md5"), md5);
    await writeAtomic(pathOf(bucket, key, "metadata.json"), JSON.stringify(kept, null, 2));
  };

  store.putObject = async (object) => {
    const tmp = temporary();
    try {
      const written = await spool(object.content, tmp);
      await replaceObject(tmp, pathOf(object.bucket, object.key, "object"));
      await store.putMetadata(object.bucket, object.key, object.metadata, written.md5);
      return written;
    } finally {
      await rm(tmp, { force: true });
    }
  };

  store.copyObject = async (srcBucket, srcKey, destBucket, destKey, replacementMetadata) => {
    const from = pathOf(srcBucket, srcKey, "object");
    const to = pathOf(destBucket, destKey, "object");
    if (from !== to) {
      const tmp = temporary();
      try {
        await mkdir(tmpDir, { recursive: true });
        await copyFile(from, tmp);
        await replaceObject(tmp, to);
      } finally {
        await rm(tmp, { force: true });
      }
    }
    if (replacementMetadata) {
      await store.putMetadata(destBucket, destKey, replacementMetadata);
    } else if (from !== to) {
      await copyAtomic(
        pathOf(srcBucket, srcKey, "metadata.json"),
        pathOf(destBucket, destKey, "metadata.json"),
      );
      await copyAtomic(`${from}.md5`, `${to}.md5`);
    }
    return store.getMetadata(destBucket, destKey);
  };

  const uploadDir = (bucket: string, uploadId: string) =>
    join(store.getResourcePath(bucket, undefined, "uploads"), uploadId);
  const noSuchUpload = (uploadId: string) =>
    new S3Error(
      "NoSuchUpload",
      "The specified upload does not exist: it was completed or aborted, or never started; start a new one with CreateMultipartUpload",
      { UploadId: uploadId },
    );

  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const dir = uploadDir(bucket, uploadId);
    // s3rver would make the folder of an upload that was never started
    if (!(await stat(join(dir, "key")).catch(() => undefined))) throw noSuchUpload(uploadId);
    const part = join(dir, String(partNumber));
    const tmp = temporary();
    try {
      const written = await spool(content, tmp);
      await replaceObject(tmp, part);
      await writeAtomic(`${part}.md5`, written.md5);
      return written;
    } finally {
      await rm(tmp, { force: true });
    }
  };

  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const dir = uploadDir(bucket, uploadId);
    let key: string;
    let metadata: Metadata;
    try {
      key = await readFile(join(dir, "key"), "utf8");
      metadata = JSON.parse(await readFile(join(dir, "metadata"), "utf8")) as Metadata;
    } catch {
      throw noSuchUpload(uploadId);
    }
    // S3's rules: ascending part numbers, each part uploaded, with the ETag its upload answered
    let last = 0;
    for (const { number, etag } of parts) {
      if (!(number > last)) {
        throw new S3Error(
          "InvalidPartOrder",
          "The list of parts was not in ascending order: list each part once, by part number",
        );
      }
      last = number;
      const md5 = await readFile(join(dir, `${number}.md5`), "utf8").catch(() => undefined);
      if (md5 === undefined || md5 !== etag.toLowerCase()) {
        throw new S3Error(
          "InvalidPart",
          `Part ${number} was not uploaded, or its ETag is not "${etag}": upload it (again) and complete with the ETags the uploads answered`,
          { UploadId: uploadId, PartNumber: number },
        );
      }
    }
    async function* joined() {
      for (const { number } of parts) yield* createReadStream(join(dir, String(number)));
    }
    const result = await store.putObject(
      new S3Object(bucket, key, Readable.from(joined()), metadata),
    );
    await rm(dir, { recursive: true, force: true });
    return result;
  };

  const getMetadata = store.getMetadata.bind(store);
  store.getMetadata = async (bucket, key) => {
    let metadata: Record<string, unknown>;
    try {
      metadata = await getMetadata(bucket, key);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      await rm(pathOf(bucket, key, "metadata.json"), { force: true });
      onRepair(brokenMetadata(`${bucket}/${key}`));
      metadata = await getMetadata(bucket, key);
    }
    if (!MD5.test(String(metadata.etag).replaceAll('"', ""))) {
      await rm(pathOf(bucket, key, "object.md5"), { force: true });
      onRepair(brokenChecksum(`${bucket}/${key}`));
      metadata = await getMetadata(bucket, key);
    }
    return metadata;
  };
}
