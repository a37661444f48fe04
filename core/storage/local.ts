/**
 * A storage location that is a folder on this machine.
 *
 * Symbolic links: one rule for every path that reads, writes or registers bytes (see
 * {@link LocalStorage.confine}): a key whose path below the root passes through a link names no
 * bytes of the storage. Listings leave links out, reads and writes refuse them with
 * {@link LinkedKeyError}, and the registration paths (events, the watcher, reconcile) skip them.
 */
import {
  constants,
  copyFileSync,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  realpathSync,
  renameSync,
  statSync,
} from "node:fs";
import {
  copyFile,
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import {
  bytesToHash,
  compareCodePoints,
  type FileHash,
  type FolderHash,
  hashFileHandle,
  hashFolder,
} from "../hash.js";
import { randomBase62 } from "../uid.js";
import { mapLimit } from "../util/concurrency.js";
import { limitBytes, readConsistently } from "./streams.js";
import {
  type ByteRange,
  LinkedKeyError,
  type MoveOptions,
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

const isMissing = (error: unknown) =>
  ["ENOENT", "ENOTDIR"].includes((error as NodeJS.ErrnoException).code ?? "");

/** What changes when a file is rewritten, like an ETag. */
const etagOf = (info: { mtimeMs: number; size: number }) =>
  `${info.mtimeMs.toString(16)}-${info.size.toString(16)}`;

/** Open without following a link in the last segment (Windows has no O_NOFOLLOW). */
/**
 * `path` with links resolved; undefined when it is missing, null when it loops. Synchronous:
 * confining a key resolves a folder or two, far cheaper than thread-pool round trips per save.
 */
function realpathOrMissing(path: string): string | undefined | null {
  try {
    return realpathSync.native(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    if ((error as NodeJS.ErrnoException).code === "ELOOP") return null;
    throw error;
  }
}

const READ_NOFOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

export class LocalStorage implements StorageBackend {
  readonly type = "local" as const;
  readonly root: string;
  private resolvedRoot: string | undefined;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The root with links resolved: the root itself may be reached through links (the operator's). */
  private async realRoot(): Promise<string> {
    if (this.resolvedRoot === undefined) {
      const real = await realpath(this.root).catch((error) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      if (real === undefined) return this.root; // not made yet: nothing below it either
      this.resolvedRoot = real;
    }
    return this.resolvedRoot;
  }

  /**
   * The path of `key` (with `parent`: checked up to the folder it goes in) once it is known to
   * pass through no symbolic link below the root; {@link LinkedKeyError} otherwise. Links are
   * refused even when they point back inside the root: where a link points can change between a
   * check and a use. A path not there yet is checked as far as it exists.
   */
  async confine(key: string, opts: { parent?: boolean } = {}): Promise<string> {
    const path = this.localPath(key);
    const realRoot = await this.realRoot();
    let probe = opts.parent && path !== this.root ? dirname(path) : path;
    for (;;) {
      const real = realpathOrMissing(probe);
      if (
        real === null ||
        (real !== undefined && real !== join(realRoot, relative(this.root, probe)))
      ) {
        throw await this.linkError(key);
      }
      if (real !== undefined || probe === this.root) return path;
      // missing: a dangling link is a link too; otherwise look at the folder it would be in
      if (lstatSync(probe, { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw await this.linkError(key);
      }
      probe = dirname(probe);
    }
  }

  /** The error for `key`, naming the first link on its path (never where the link points). */
  private async linkError(key: string): Promise<LinkedKeyError> {
    const parts = relative(this.root, this.localPath(key)).split(sep);
    for (let i = 1; i <= parts.length; i++) {
      const info = await lstat(join(this.root, ...parts.slice(0, i))).catch(() => undefined);
      if (info?.isSymbolicLink()) return new LinkedKeyError(key, parts.slice(0, i).join("/"));
    }
    return new LinkedKeyError(key, key); // swapped back since: say it of the key
  }

  /**
   * Open the file at `key` for reading, confined: the last segment is opened without following
   * a link, the path is checked after opening, and the file opened must be the one at the
   * checked path, so a link swapped in (or back out) between check and open is caught.
   */
  private async openConfined(key: string): Promise<FileHandle> {
    const path = this.localPath(key);
    const fh = await open(path, READ_NOFOLLOW).catch(async (error: NodeJS.ErrnoException) => {
      throw error.code === "ELOOP" ? await this.linkError(key) : error;
    });
    try {
      await this.confine(key);
      const [opened, there] = await Promise.all([fh.stat(), stat(path)]);
      if (opened.ino !== there.ino || opened.dev !== there.dev) throw await this.linkError(key);
      return fh;
    } catch (error) {
      await fh.close();
      throw error;
    }
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
    const dest = await this.confine(key, { parent: true });
    const tmp = `${dest}.tmp-${randomBase62(8)}`;
    let size: number;
    try {
      // Small files synchronously: far cheaper than the async round trips when saving many.
      size = statSync(src).size;
      if (size <= SYNC_COPY_MAX) {
        copySync(src, tmp);
        renameSync(tmp, dest);
      } else {
        await copyAsync(src, tmp);
        await rename(tmp, dest);
      }
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
    const dest = await this.confine(key, { parent: true });
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
    const fh = await this.openConfined(key);
    try {
      await mkdir(dirname(dest), { recursive: true });
      // from the handle checked, not the path again
      await pipeline(fh.createReadStream({ autoClose: false, start: 0 }), createWriteStream(dest));
    } finally {
      await fh.close();
    }
  }

  async getFolder(key: string, destDir: string): Promise<void> {
    const files = await this.listFiles(key);
    await mkdir(destDir, { recursive: true });
    await mapLimit(files, COPY_CONCURRENCY, (f) =>
      this.getFile(`${key}/${f.path}`, join(destDir, f.path)),
    );
  }

  async delete(key: string): Promise<void> {
    // a link as the last segment is removed itself, never what it points at
    await rm(await this.confine(key, { parent: true }), { recursive: true, force: true });
  }

  async exists(key: string): Promise<boolean> {
    const path = await this.confine(key);
    return lstat(path).then(
      () => true,
      () => false,
    );
  }

  async hashStored(key: string, isFolder: boolean): Promise<FileHash | FolderHash> {
    const path = this.localPath(key);
    if (isFolder) {
      await this.listFiles(key); // refuses links below the folder
      return hashFolder(path, { links: "refuse" });
    }
    const fh = await this.openConfined(key);
    try {
      return await hashFileHandle(fh, path);
    } finally {
      await fh.close();
    }
  }

  async move(from: string, to: string, opts: MoveOptions = {}): Promise<void> {
    const src = await this.confine(from);
    const dest = await this.confine(to, { parent: true });
    await mkdir(dirname(dest), { recursive: true });
    if (opts.replace !== false) return swapIn(src, dest);
    const taken = () =>
      new ConflictError(
        `${to} already exists in storage`,
        "pick another key, or move or delete what is there first",
      );
    if ((await lstat(src)).isFile()) {
      // a hard link fails if the destination exists, atomically; then the old name goes
      const linked = await link(src, dest).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code === "EEXIST") throw taken();
          return false; // a file system without hard links: check, then rename
        },
      );
      if (linked) return unlink(src);
    }
    if (
      await lstat(dest).then(
        () => true,
        () => false,
      )
    ) {
      throw taken();
    }
    await rename(src, dest);
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<number> {
    const dest = await this.confine(key, { parent: true });
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

  async openRead(
    key: string,
    range?: ByteRange,
  ): Promise<{ size: number; stream: AsyncIterable<Uint8Array> }> {
    const fh = await this.openConfined(key);
    const info = await fh.stat();
    if (!info.isFile()) {
      await fh.close();
      throw new NotFoundError(`${key} is not a file`);
    }
    const stream = fh.createReadStream({
      start: range?.start ?? 0,
      ...(range?.end !== undefined ? { end: range.end } : {}),
    });
    return { size: info.size, stream };
  }

  async listFiles(key: string): Promise<{ path: string; size: number }[]> {
    const root = await this.confine(key);
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    const linked = entries.find((e) => e.isSymbolicLink());
    if (linked) {
      const rel = relative(this.root, join(linked.parentPath, linked.name));
      throw new LinkedKeyError(key, rel.split(sep).join("/"));
    }
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
    const fh = await this.openConfined(key).catch((error) => {
      if (error instanceof LinkedKeyError) throw error;
      return undefined;
    });
    if (!fh) return undefined;
    try {
      return await readFile(fh, "utf8");
    } catch {
      return undefined;
    } finally {
      await fh.close();
    }
  }

  async writeText(key: string, text: string): Promise<void> {
    const dest = await this.confine(key, { parent: true });
    await mkdir(dirname(dest), { recursive: true });
    // renamed into place: a link at `dest` is replaced, never written through
    const tmp = `${dest}.tmp-${randomBase62(8)}`;
    await writeFile(tmp, text);
    await rename(tmp, dest);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = await this.confine(key).catch((error) => {
      if (error instanceof LinkedKeyError) return undefined; // a link is no object
      throw error;
    });
    const info = path ? await lstat(path).catch(() => undefined) : undefined;
    if (!info?.isFile()) return undefined;
    return { key, size: info.size, etag: etagOf(info), lastModified: info.mtime };
  }

  async hashObject(key: string, opts: { ifEtag?: string } = {}): Promise<StoredHash> {
    return readConsistently(opts.ifEtag, async () => {
      const fh = await this.openConfined(key).catch((error) => {
        if (!isMissing(error)) throw error;
        throw new NotFoundError(
          `no file at ${this.localPath(key)}`,
          "it was deleted or never written",
        );
      });
      try {
        const before = await fh.stat();
        if (!before.isFile()) {
          throw new NotFoundError(`${key} is not a file`, "folders are registered file by file");
        }
        const etag = etagOf(before);
        if (opts.ifEtag !== undefined && etag !== opts.ifEtag) throw new StaleObjectError(key);
        const hash = await hashFileHandle(fh, this.localPath(key));
        // a file rewritten while it was read gives a hash of neither version
        if (etagOf(await fh.stat()) !== etag || (await this.head(key))?.etag !== etag) {
          throw new StaleObjectError(key);
        }
        return { ...hash, etag, bytesRead: bytesToHash(hash.size) };
      } finally {
        await fh.close();
      }
    });
  }

  async *listObjects(prefix: string): AsyncGenerator<ObjectInfo> {
    // walk only the folder the prefix names; the rest of the prefix filters names
    const dir = await this.confine(prefix.slice(0, prefix.lastIndexOf("/") + 1)).catch((error) => {
      if (error instanceof LinkedKeyError) return undefined; // no objects behind a link
      throw error;
    });
    if (dir === undefined) return;
    // links are not files (and a recursive readdir does not descend into them)
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
