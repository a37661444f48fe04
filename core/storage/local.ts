/** A storage location that is a folder on this machine. */
import {
  constants,
  copyFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  statSync,
} from "node:fs";
import {
  access,
  copyFile,
  cp,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { NotFoundError, ValidationError } from "../errors.js";
import {
  bytesToHash,
  compareCodePoints,
  type FileHash,
  type FolderHash,
  hashFile,
  hashFolder,
} from "../hash.js";
import { randomBase62 } from "../uid.js";
import { mapLimit } from "../util/concurrency.js";
import { limitBytes, readConsistently } from "./streams.js";
import {
  type ObjectInfo,
  type ProgressFn,
  StaleObjectError,
  type StorageBackend,
  type StoredHash,
} from "./types.js";

const COPY_CONCURRENCY = 32;
const SYNC_COPY_MAX = 1 << 20;

/** Copy with copy-on-write where the filesystem can; create the folder only when missing. */
function copySync(src: string, dest: string): void {
  try {
    copyFileSync(src, dest, constants.COPYFILE_FICLONE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT" || !existsSync(src)) throw error;
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(src, dest, constants.COPYFILE_FICLONE);
  }
}

/**
 * Put the file or folder at `src` at `dest`, replacing what was there whole (an older folder
 * version is never merged into): move the old one aside, rename in, then remove the old one.
 */
async function swapIn(src: string, dest: string): Promise<void> {
  const old = `${dest}.old-${randomBase62(8)}`;
  const hadOld = await rename(dest, old).then(
    () => true,
    () => false,
  );
  await rename(src, dest);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

async function copyAsync(src: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  await copyFile(src, dest, constants.COPYFILE_FICLONE);
}

export class LocalStorage implements StorageBackend {
  readonly type = "local" as const;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  localPath(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) {
      throw new ValidationError(
        `key escapes the storage root: ${key}`,
        "use a relative key without '..' segments",
      );
    }
    return path;
  }

  async putFile(src: string, key: string, onProgress?: ProgressFn): Promise<void> {
    const dest = this.localPath(key);
    const tmp = `${dest}.tmp-${randomBase62(8)}`;
    let size: number;
    try {
      // Small files synchronously: far cheaper than the async round trips when saving many.
      size = statSync(src).size;
      if (size <= SYNC_COPY_MAX) copySync(src, tmp);
      else await copyAsync(src, tmp);
      await rename(tmp, dest);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    onProgress?.(size);
  }

  async putFolder(
    srcDir: string,
    relPaths: readonly string[],
    key: string,
    onProgress?: ProgressFn,
  ): Promise<void> {
    const dest = this.localPath(key);
    const tmp = `${dest}.tmp-${randomBase62(8)}`;
    try {
      const dirs = new Set(relPaths.map((p) => dirname(join(tmp, p))));
      for (const dir of [...dirs].sort()) await mkdir(dir, { recursive: true });
      let done = 0;
      await mapLimit(relPaths, COPY_CONCURRENCY, async (rel) => {
        await copyFile(join(srcDir, rel), join(tmp, rel), constants.COPYFILE_FICLONE);
        onProgress?.(++done);
      });
      await swapIn(tmp, dest);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      throw error;
    }
  }

  async getFile(key: string, dest: string): Promise<void> {
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(this.localPath(key), dest, constants.COPYFILE_FICLONE);
  }

  async getFolder(key: string, destDir: string): Promise<void> {
    await cp(this.localPath(key), destDir, { recursive: true, force: true });
  }

  async delete(key: string): Promise<void> {
    await rm(this.localPath(key), { recursive: true, force: true });
  }

  async exists(key: string): Promise<boolean> {
    return access(this.localPath(key)).then(
      () => true,
      () => false,
    );
  }

  hashStored(key: string, isFolder: boolean): Promise<FileHash | FolderHash> {
    const path = this.localPath(key);
    return isFolder ? hashFolder(path) : hashFile(path);
  }

  async move(from: string, to: string): Promise<void> {
    const dest = this.localPath(to);
    await mkdir(dirname(dest), { recursive: true });
    await swapIn(this.localPath(from), dest);
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<number> {
    const dest = this.localPath(key);
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.tmp-${randomBase62(8)}`;
    const written = { bytes: 0 };
    const out = createWriteStream(tmp);
    try {
      await pipeline(Readable.from(limitBytes(body, maxBytes, written)), out);
      await rename(tmp, dest);
    } catch (error) {
      // the file may still be opening when the pipeline fails: remove it only once closed
      if (!out.closed) await new Promise<void>((resolve) => out.once("close", () => resolve()));
      await rm(tmp, { force: true });
      throw error;
    }
    return written.bytes;
  }

  async openRead(key: string): Promise<{ size: number; stream: AsyncIterable<Uint8Array> }> {
    const path = this.localPath(key);
    const info = await stat(path);
    return { size: info.size, stream: createReadStream(path) };
  }

  async listFiles(key: string): Promise<{ path: string; size: number }[]> {
    const root = this.localPath(key);
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    const files = await Promise.all(
      entries
        .filter((e) => e.isFile())
        .map(async (e) => {
          const full = join(e.parentPath, e.name);
          return { path: relative(root, full).split(sep).join("/"), size: (await stat(full)).size };
        }),
    );
    return files.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async readText(key: string): Promise<string | undefined> {
    return readFile(this.localPath(key), "utf8").catch(() => undefined);
  }

  async writeText(key: string, text: string): Promise<void> {
    const dest = this.localPath(key);
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, text);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const info = await stat(this.localPath(key)).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    return {
      key,
      size: info.size,
      // what changes when the file is rewritten, like an ETag
      etag: `${info.mtimeMs.toString(16)}-${info.size.toString(16)}`,
      lastModified: info.mtime,
    };
  }

  async hashObject(key: string, opts: { ifEtag?: string } = {}): Promise<StoredHash> {
    return readConsistently(opts.ifEtag, async () => {
      const before = await this.head(key);
      if (!before) {
        throw new NotFoundError(
          `no file at ${this.localPath(key)}`,
          "it was deleted or never written",
        );
      }
      if (opts.ifEtag !== undefined && before.etag !== opts.ifEtag) throw new StaleObjectError(key);
      const hash = await hashFile(this.localPath(key));
      // a file rewritten while it was read gives a hash of neither version
      if ((await this.head(key))?.etag !== before.etag) throw new StaleObjectError(key);
      return { ...hash, etag: before.etag, bytesRead: bytesToHash(hash.size) };
    });
  }

  async *listObjects(prefix: string): AsyncGenerator<ObjectInfo> {
    // walk only the folder the prefix names; the rest of the prefix filters names
    const dir = this.localPath(prefix.slice(0, prefix.lastIndexOf("/") + 1));
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    const keys = entries
      .filter((e) => e.isFile())
      .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join("/"))
      .filter((key) => key.startsWith(prefix))
      .sort(compareCodePoints);
    for (const key of keys) {
      const info = await this.head(key);
      if (info) yield info; // gone since the walk
    }
  }
}
