/**
 * LaminDB-compatible content hashing (laminspec §1, `lamindb_setup/core/hashing.py` + `upath.py`).
 *
 * Every stored hash is at most 22 characters of URL-safe base64 without padding:
 * - files ≤ 50 MiB: md5 of the whole content (`"md5"`);
 * - files > 50 MiB: sha1 of (sha1(first 50 MiB) ++ sha1(last 50 MiB)) (`"sha1-fl"`), size not mixed in;
 * - folders: md5 over the md5 digests of the sorted per-file hash strings (`"md5-d"`);
 * - cloud objects: derived from ETag / md5Hash / blob_id metadata, no download.
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, type Dirent, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { type FileHandle, open, readdir, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { IntegrityError, ValidationError } from "./errors.js";
import { mapLimit } from "./util/concurrency.js";
import { isWithin } from "./util/paths.js";

/** Threshold and chunk size: files up to and including this size are md5-hashed whole. */
export const HASH_CHUNK = 52_428_800; // 50 MiB
/** Length of every stored hash (`lamindb_artifact.hash` is varchar(22)). */
export const HASH_LENGTH = 22;

export type FileHashType = "md5" | "sha1-fl";
export interface FileHash {
  size: number;
  hash: string;
  hashType: FileHashType;
}
/** One file of a hashed folder; `relPath` is relative to the folder and always uses "/". */
export interface FolderEntry {
  relPath: string;
  size: number;
  hash: string;
}
export interface FolderHash {
  size: number;
  hash: string;
  hashType: "md5-d";
  nFiles: number;
  /** Sorted by `relPath` (code-point order). */
  files: FolderEntry[];
}
/** Called with the number of bytes hashed so far (cumulative, monotonically increasing). */
export type HashProgress = (bytesDone: number) => void;

/** Reads of large files go through two alternating buffers of this size (read ahead while hashing). */
const READ_BUFFER = 1 << 20; // 1 MiB: measured fastest with read-ahead on warm cache
/** Files up to this size are read with one synchronous read in folder hashing. */
const SMALL_FILE = 64 * 1024;
/** Longest stretch of synchronous small-file reads before yielding to the event loop. */
const SYNC_SLICE_MS = 4;

// ------------------------------------------------------------------------------------------------
// encoding primitives
// ------------------------------------------------------------------------------------------------

/** Compare strings by Unicode code point (Python `sorted()` on str), not by UTF-16 code unit. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only when one side is a surrogate (astral code point) and the other a BMP char at or above
    // U+E000 does code-unit order differ from code-point order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) {
      const cx = a.codePointAt(i) ?? x;
      const cy = b.codePointAt(i) ?? y;
      return cx < cy ? -1 : 1;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** URL-safe base64 of a digest, `=` stripped, truncated to 22 chars (md5 → 22, sha1 27 → 22). */
export function toB64(digest: Uint8Array): string {
  const s = Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength)
    .toString("base64url")
    .replace(/=+$/, "");
  return s.slice(0, HASH_LENGTH);
}

/** Python `s.strip(chars)`. */
function stripChars(s: string, chars: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && chars.includes(s[start] as string)) start++;
  while (end > start && chars.includes(s[end - 1] as string)) end--;
  return s.slice(start, end);
}

function hexToBytes(hex: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) {
    throw new ValidationError(
      `not a hex digest: ${JSON.stringify(hex)}`,
      "Pass an even number of hex digits, e.g. an md5 ETag.",
    );
  }
  return Buffer.from(hex, "hex");
}

/** `b16_to_b64`: strip surrounding `"`, hex-decode (any case), encode as {@link toB64}. */
export function b16ToB64(hex: string): string {
  return toB64(hexToBytes(stripChars(hex, '"')));
}

function md5(data: Uint8Array | string): Buffer {
  return createHash("md5").update(data).digest();
}

/** b64(md5(utf8(s))). Note: lone UTF-16 surrogates are encoded as U+FFFD (Python would raise). */
export function hashString(s: string): string {
  return toB64(md5(s));
}

/**
 * Collection hash: `hash_string(":".join(sorted(set(values))))`. Duplicates are removed like the
 * Python set upstream; order of the input does not matter.
 */
export function hashSet(values: Iterable<string>): string {
  return hashString([...new Set(values)].sort(compareCodePoints).join(":"));
}

/** Python `float.__repr__` (= `str(float)`) of a finite or non-finite JS number. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Number.POSITIVE_INFINITY) return "inf";
  if (x === Number.NEGATIVE_INFINITY) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() without argument yields the shortest round-tripping digits, as Python's repr.
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential());
  if (!m) throw new Error(`unexpected number format: ${x}`);
  const sign = m[1] ?? "";
  const digits = (m[2] ?? "") + (m[3] ?? "");
  const exp = Number(m[4]);
  const decpt = exp + 1; // position of the decimal point relative to the digit string
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return `${sign}0.${"0".repeat(-decpt)}${digits}`;
    if (decpt >= digits.length) return `${sign}${digits}${"0".repeat(decpt - digits.length)}.0`;
    return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp);
  return `${sign}${mant}e${exp < 0 ? "-" : "+"}${e < 10 ? `0${e}` : e}`;
}

/**
 * A JS number as Python would print it. JS has no int/float distinction: safe integers
 * (|x| ≤ 2^53 − 1, not -0) are treated as Python ints ("1", never "1.0"); everything else as a
 * Python float ("37.5", "1e+16", "-0.0"). A Python float that is integral (1.0) is therefore not
 * representable; pass a `bigint` to force an int outside the safe range.
 */
export function pythonNumberStr(x: number | bigint): string {
  if (typeof x === "bigint") return x.toString();
  if (Number.isSafeInteger(x) && !Object.is(x, -0)) return String(x);
  return pythonFloatRepr(x);
}

function jsonFloat(x: number): string {
  // json.dumps (allow_nan=True) writes NaN / Infinity / -Infinity instead of nan / inf.
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "Infinity";
  if (x === Number.NEGATIVE_INFINITY) return "-Infinity";
  return pythonNumberStr(x);
}

const JSON_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** Python `json.dumps` string encoding with ensure_ascii=True (UTF-16 units → \uXXXX). */
function jsonString(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  return `"${s.replace(/[\\"\u0000-\u001f\u007f-\uffff]/g, (c) => {
    const e = JSON_ESCAPES[c];
    if (e !== undefined) return e;
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  })}"`;
}

function typeName(v: unknown): string {
  if (typeof v === "object" && v !== null) return (v as object).constructor?.name ?? "object";
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Python `json.dumps(value, sort_keys=True)` with default separators (", " and ": "),
 * ensure_ascii=True and allow_nan=True. Numbers follow {@link pythonNumberStr}: JS numbers that are
 * safe integers dump as ints (`1`, never `1.0`), others like Python float repr (`37.5`, `1e-05`).
 * Object properties whose value is `undefined` are omitted (as `JSON.stringify` does); other
 * non-JSON values (undefined elsewhere, functions, symbols, Map, Date, …) throw ValidationError.
 * Keys are sorted by code point like Python.
 */
export function pythonJsonDumps(value: unknown): string {
  const seen = new Set<object>();
  const dump = (v: unknown): string => {
    if (v === null) return "null";
    switch (typeof v) {
      case "boolean":
        return v ? "true" : "false";
      case "number":
        return jsonFloat(v);
      case "bigint":
        return v.toString();
      case "string":
        return jsonString(v);
      case "object": {
        if (seen.has(v)) throw new ValidationError("cannot serialize a circular structure");
        seen.add(v);
        try {
          if (Array.isArray(v)) {
            return v.length === 0 ? "[]" : `[${v.map(dump).join(", ")}]`;
          }
          if (isPlainObject(v)) {
            const keys = Object.keys(v)
              .filter((k) => v[k] !== undefined)
              .sort(compareCodePoints);
            if (keys.length === 0) return "{}";
            return `{${keys.map((k) => `${jsonString(k)}: ${dump(v[k])}`).join(", ")}}`;
          }
        } finally {
          seen.delete(v);
        }
        break;
      }
    }
    throw new ValidationError(
      `value of type ${typeName(v)} is not JSON serializable`,
      "Use only null, booleans, numbers, strings, arrays and plain objects.",
    );
  };
  return dump(value);
}

/** JsonValue hash of a dict: b64(md5(python json.dumps(d, sort_keys=True))). */
export function hashDict(d: Record<string, unknown>): string {
  return hashString(pythonJsonDumps(d));
}

/** Python `repr(str)`: single quotes unless the string contains ' and no ". */
function pythonStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === " " || !/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u.test(ch))
      out += ch;
    else if (cp <= 0xff) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return out + quote;
}

/** Python `repr()` of a JSON-like value (used for `str(list)` and nested values). */
function pythonRepr(v: unknown): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number" || typeof v === "bigint") return pythonNumberStr(v);
  if (typeof v === "string") return pythonStrRepr(v);
  if (Array.isArray(v)) return `[${v.map(pythonRepr).join(", ")}]`;
  if (isPlainObject(v)) {
    // Python dicts print in insertion order (no sorting).
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    return `{${entries.map(([k, x]) => `${pythonStrRepr(k)}: ${pythonRepr(x)}`).join(", ")}}`;
  }
  throw new ValidationError(`value of type ${typeName(v)} is not a JSON value`);
}

/** Python `str(value)` of a JSON-like value: strings as is, True/False/None, numbers like Python. */
export function pythonStr(value: unknown): string {
  return typeof value === "string" ? value : pythonRepr(value);
}

/**
 * LaminDB JsonValue hash: dicts (plain objects) → {@link hashDict}; anything else →
 * `hashString(python str(value))` (true → "True", null → "None", 37.5 → "37.5", 1 → "1",
 * [1, "a"] → "[1, 'a']").
 */
export function hashJsonValue(value: unknown): string {
  if (isPlainObject(value)) return hashDict(value);
  return hashString(pythonStr(value));
}

/**
 * The `md5-d` combination (`hash_from_hashes_list`): md5 over the concatenated md5 digests of the
 * per-file hash strings sorted by code point. Duplicates count (list, not set); order-independent.
 */
export function hashFromHashes(hashes: readonly string[]): string {
  const h = createHash("md5");
  for (const s of [...hashes].sort(compareCodePoints)) h.update(md5(s));
  return toB64(h.digest());
}

// ------------------------------------------------------------------------------------------------
// byte-level hashing
// ------------------------------------------------------------------------------------------------

/** How many bytes `hashFile`/`hashFromRanges` read for a file of `size` bytes. */
export function bytesToHash(size: number): number {
  return size <= HASH_CHUNK ? size : 2 * HASH_CHUNK;
}

async function feed(
  h: Hash,
  chunks: AsyncIterable<Uint8Array>,
  expected: number,
  done: { bytes: number },
  onProgress?: HashProgress,
): Promise<void> {
  let got = 0;
  for await (const chunk of chunks) {
    got += chunk.byteLength;
    if (got > expected) break;
    h.update(chunk);
    done.bytes += chunk.byteLength;
    if (chunk.byteLength > 0) onProgress?.(done.bytes);
  }
  if (got !== expected) {
    throw new IntegrityError(
      `expected ${expected} bytes of content, got ${got > expected ? "more" : got}`,
      "The object changed while it was hashed; try again.",
    );
  }
}

/**
 * Hash an object of `size` bytes from ranged reads, identical to {@link hashFile}: reads
 * `[0, size)` for md5, or `[0, HASH_CHUNK)` and `[size − HASH_CHUNK, size)` for sha1-fl, i.e. never
 * more than 2 × HASH_CHUNK bytes. Each chunk is consumed synchronously before the next is requested,
 * so a reader may reuse a chunk's buffer once the iteration continues. Throws IntegrityError if a
 * range yields a different number of bytes than asked for.
 * `opts.chunkSize` overrides the 50 MiB chunk (for tests against upstream's `chunk_size` argument).
 */
export async function hashFromRanges(
  size: number,
  readRange: (start: number, endExclusive: number) => AsyncIterable<Uint8Array>,
  opts: { onProgress?: HashProgress; chunkSize?: number } = {},
): Promise<FileHash> {
  const chunk = opts.chunkSize ?? HASH_CHUNK;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new ValidationError(`invalid object size: ${size}`);
  }
  if (!Number.isSafeInteger(chunk) || chunk < 1) {
    throw new ValidationError(`invalid chunk size: ${chunk}`);
  }
  const done = { bytes: 0 };
  if (size <= chunk) {
    const h = createHash("md5");
    if (size > 0) await feed(h, readRange(0, size), size, done, opts.onProgress);
    return { size, hash: toB64(h.digest()), hashType: "md5" };
  }
  const first = createHash("sha1");
  await feed(first, readRange(0, chunk), chunk, done, opts.onProgress);
  const last = createHash("sha1");
  await feed(last, readRange(size - chunk, size), chunk, done, opts.onProgress);
  const outer = createHash("sha1").update(first.digest()).update(last.digest());
  return { size, hash: toB64(outer.digest()), hashType: "sha1-fl" };
}

/** Fill `buf[0, length)` from `position`; returns the bytes read (fewer only at EOF). */
async function readFull(
  fh: FileHandle,
  buf: Buffer,
  length: number,
  position: number,
): Promise<number> {
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(buf, off, length - off, position + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off;
}

/**
 * Positional reads of `[start, end)` from an open file, yielding chunks of up to `bufSize` bytes.
 * The next chunk is read into a second buffer while the caller hashes the current one; a yielded
 * chunk is valid until the iteration advances. Stops early at EOF.
 */
export async function* readFileRange(
  fh: FileHandle,
  start: number,
  end: number,
  bufSize: number = READ_BUFFER,
): AsyncGenerator<Uint8Array, void, undefined> {
  const len = end - start;
  if (len <= 0) return;
  const size = Math.min(bufSize, len);
  const bufs = [Buffer.allocUnsafe(size), len > size ? Buffer.allocUnsafe(size) : undefined];
  let i = 0;
  let pos = start;
  // A rejected read is reported where it is awaited; the no-op catch only avoids a spurious
  // unhandled-rejection warning while the consumer is still busy with the previous chunk.
  const readAhead = (buf: Buffer, length: number, at: number) => {
    const p = readFull(fh, buf, length, at);
    p.catch(() => {});
    return p;
  };
  let pending: Promise<number> | undefined = readAhead(bufs[0] as Buffer, size, pos);
  try {
    while (pending) {
      const n: number = await pending;
      pending = undefined;
      if (n === 0) return;
      const cur = (bufs[i] as Buffer).subarray(0, n);
      pos += n;
      if (pos < end && n === size) {
        i ^= 1;
        pending = readAhead(bufs[i] as Buffer, Math.min(size, end - pos), pos);
      }
      yield cur;
    }
  } finally {
    // Early exit by the consumer: let an in-flight read finish before the handle may be closed.
    if (pending) await pending.catch(() => 0);
  }
}

function isErrno(e: unknown, ...codes: string[]): boolean {
  return (
    typeof e === "object" &&
    e !== null &&
    "code" in e &&
    codes.includes(String((e as { code: unknown }).code))
  );
}

function missingPath(path: string, cause: unknown): ValidationError {
  return new ValidationError(
    `path does not exist: ${path}`,
    "Check the spelling, and that relative paths are relative to the working directory.",
    { cause },
  );
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (e) {
    if (isErrno(e, "ENOENT", "ENOTDIR")) throw missingPath(path, e);
    throw e;
  }
}

/** Hash an already open file (size from fstat). */
export async function hashFileHandle(
  fh: FileHandle,
  path: string,
  onProgress?: HashProgress,
): Promise<FileHash> {
  const st = await fh.stat();
  if (st.isDirectory()) {
    throw new ValidationError(
      `path is a folder, not a file: ${path}`,
      "Use hashFolder() for folders.",
    );
  }
  if (!st.isFile()) {
    throw new ValidationError(`path is not a regular file: ${path}`);
  }
  return hashFromRanges(st.size, (s, e) => readFileRange(fh, s, e), { onProgress });
}

/**
 * Hash a local file like `hash_file`: md5 if ≤ 50 MiB, else sha1-fl of the first and last 50 MiB
 * (positional reads, the middle of the file is never read). Memory stays at 2 × 1 MiB.
 * `onProgress` receives the bytes hashed so far (at most {@link bytesToHash}(size)).
 */
export async function hashFile(path: string, onProgress?: HashProgress): Promise<FileHash> {
  // Small files: one synchronous read beats five async calls (saves are often many small files).
  let small: FileHash | undefined;
  try {
    small = hashSmallFileSync(path);
  } catch {
    // fall through: the async path reports missing paths and folders with a clear error
  }
  if (small) {
    onProgress?.(small.size);
    return small;
  }
  const fh = await openFile(path);
  try {
    return await hashFileHandle(fh, path, onProgress);
  } finally {
    await fh.close();
  }
}

/**
 * Synchronous fast path for small files: open, fstat, one read. Returns undefined (after closing)
 * when the file is larger than SMALL_FILE so the caller hashes it asynchronously.
 */
function hashSmallFileSync(path: string): FileHash | undefined {
  const fd = openSync(path, "r");
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > SMALL_FILE) return undefined;
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    if (off !== st.size) return undefined; // changed underneath: let the async path report it
    return { size: st.size, hash: toB64(md5(buf)), hashType: "md5" };
  } finally {
    closeSync(fd);
  }
}

/**
 * What a folder listing does with a symbolic link to a file: `follow` it wherever it points
 * (LaminDB's `Path.rglob` + `is_file()`); follow it only when it resolves `inside` the folder and
 * refuse the listing otherwise; `refuse` any link (storage, where no link is followed).
 */
export type LinkRule = "follow" | "inside" | "refuse";

/**
 * Regular files below `root` like Python `Path.rglob("*")` + `is_file()`: recursive, hidden files
 * included, symlinks to files count as files, symlinked directories are not descended into,
 * broken symlinks and special files are skipped. Returns paths relative to root with "/".
 * `links` narrows which links count (see {@link LinkRule}); a refused one throws ValidationError.
 */
export async function listFolderFiles(
  root: string,
  concurrency = 16,
  links: LinkRule = "follow",
): Promise<string[]> {
  const files: string[] = [];
  const refused: string[] = [];
  const realRoot = links === "inside" ? await realpath(root) : root;
  let queue: string[] = [root];
  while (queue.length > 0) {
    const next: string[] = [];
    await mapLimit(queue, concurrency, async (dir) => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        throw new ValidationError(
          `cannot list folder ${dir}: ${(e as Error).message}`,
          "Check that the folder and its subfolders are readable.",
          { cause: e },
        );
      }
      for (const ent of entries) {
        const full = join(dir, ent.name);
        if (ent.isDirectory()) next.push(full);
        else if (ent.isFile()) files.push(full);
        else if (ent.isSymbolicLink()) {
          if (links === "refuse") {
            refused.push(full);
            continue;
          }
          try {
            if (!(await stat(full)).isFile()) continue;
            if (links === "inside" && !isWithin(await realpath(full), realRoot)) refused.push(full);
            else files.push(full);
          } catch {
            // broken link or loop: Path.is_file() is False
          }
        }
      }
    });
    queue = next;
  }
  const rel = (f: string) => relative(root, f).split(sep).join("/");
  if (refused.length > 0) {
    const names = refused.map(rel).sort(compareCodePoints);
    const more = names.length > 1 ? ` (and ${names.length - 1} more)` : "";
    throw links === "inside"
      ? new ValidationError(
          `${names[0]} in ${root} is a symbolic link to a file outside the folder${more}; lamindb reads nothing outside the folder being saved unless asked to`,
          "copy those files into the folder (cp -L), or pass --follow-links (SDK: followLinks: true) to read them where they are",
        )
      : new ValidationError(
          `${names[0]} in ${root} is a symbolic link${more}, which lamindb does not follow here`,
          "put the files themselves there instead of links",
        );
  }
  return files.map(rel).sort(compareCodePoints);
}

/**
 * Hash a local folder like `hash_dir` (`md5-d`): every regular file below it (see
 * {@link listFolderFiles}) is hashed with {@link hashFile} rules, with at most `concurrency`
 * (default 16) files in flight; names and paths do not enter the hash.
 *
 * Files ≤ 64 KiB are read with synchronous syscalls (4–5× faster than the thread pool for
 * thousands of small files), in slices of at most ~4 ms before yielding to the event loop; pass
 * `syncSmallFiles: false` on slow network file systems. `onProgress` receives the cumulative bytes
 * hashed over all files. An empty folder (no files) throws ValidationError, as does a missing path.
 */
export async function hashFolder(
  path: string,
  opts: {
    onProgress?: HashProgress;
    concurrency?: number;
    syncSmallFiles?: boolean;
    /** Which symbolic links to files count (default `follow`, like LaminDB). */
    links?: LinkRule;
  } = {},
): Promise<FolderHash> {
  const concurrency = opts.concurrency ?? 16;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new ValidationError(`invalid concurrency: ${concurrency}`, "Pass a positive integer.");
  }
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    if (isErrno(e, "ENOENT", "ENOTDIR")) throw missingPath(path, e);
    throw e;
  }
  if (!st.isDirectory()) {
    throw new ValidationError(`path is not a folder: ${path}`, "Use hashFile() for single files.");
  }
  const relPaths = await listFolderFiles(path, concurrency, opts.links);
  if (relPaths.length === 0) {
    throw new ValidationError(
      `folder ${path} contains no files`,
      "Add files to the folder or pass a file instead; empty folders cannot be hashed.",
    );
  }
  const onProgress = opts.onProgress;
  let bytesDone = 0;
  const syncSmall = opts.syncSmallFiles ?? true;
  let sliceStart = performance.now();
  const entries = await mapLimit(relPaths, concurrency, async (relPath) => {
    const full = join(path, ...relPath.split("/"));
    if (syncSmall) {
      if (performance.now() - sliceStart > SYNC_SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
      let small: FileHash | undefined;
      try {
        small = hashSmallFileSync(full);
      } catch (e) {
        if (isErrno(e, "ENOENT", "ENOTDIR")) throw missingPath(full, e);
        throw e;
      }
      if (small) {
        bytesDone += small.size;
        if (small.size > 0) onProgress?.(bytesDone);
        return { relPath, size: small.size, hash: small.hash };
      }
    }
    let last = 0;
    const r = await hashFile(
      full,
      onProgress
        ? (n) => {
            bytesDone += n - last;
            last = n;
            onProgress(bytesDone);
          }
        : undefined,
    );
    return { relPath, size: r.size, hash: r.hash };
  });
  return folderHashOf(entries);
}

/** The `md5-d` hash of a folder from its files' hashes, in code-point order of their paths. */
export function folderHashOf(entries: FolderEntry[]): FolderHash {
  const files = [...entries].sort((a, b) => compareCodePoints(a.relPath, b.relPath));
  return {
    size: files.reduce((acc, e) => acc + e.size, 0),
    hash: hashFromHashes(files.map((e) => e.hash)),
    hashType: "md5-d",
    nFiles: files.length,
    files,
  };
}

// ------------------------------------------------------------------------------------------------
// hashes from cloud metadata (no download)
// ------------------------------------------------------------------------------------------------

/**
 * S3 ETag → hash. Single-part `"<32 hex>"` → md5 (= b64 of the content md5); multipart
 * `"<hex>-<N>"` → hash of the hex part, hash type `md5-<N>` (not comparable with a local hash).
 */
export function hashFromS3Etag(etag: string): { hash: string; hashType: string } {
  const e = stripChars(etag, '"=');
  const m = /^([0-9a-fA-F]+)(?:-(\d+))?$/.exec(e);
  if (!m) {
    throw new ValidationError(
      `not an S3 ETag: ${JSON.stringify(etag)}`,
      'Expected "<hex md5>" or "<hex>-<number of parts>".',
    );
  }
  const hash = b16ToB64(m[1] as string);
  return m[2] === undefined ? { hash, hashType: "md5" } : { hash, hashType: `md5-${m[2]}` };
}

/** GCS `md5Hash` (standard base64 md5) → hash: strip `"`/`=`, `+`→`-`, `/`→`_`. */
export function hashFromGcsMd5(md5Base64: string): { hash: string; hashType: "md5" } {
  const hash = stripChars(md5Base64, '"=').replaceAll("+", "-").replaceAll("/", "_");
  return { hash: hash.slice(0, HASH_LENGTH), hashType: "md5" };
}

/**
 * Opaque ETag (GCS composite objects, http/https) → `hashString(etag stripped of "/=)`, as in the
 * reference vectors (`gen_vectors.py opaque_etag_to_hash`).
 */
export function hashFromOpaqueEtag(etag: string): { hash: string; hashType: "md5-etag" } {
  return { hash: hashString(stripChars(etag, '"=')), hashType: "md5-etag" };
}

/** Hugging Face `blob_id` (git blob sha1, hex) → b16ToB64 truncated to 22. */
export function hashFromHfBlobId(blobId: string): { hash: string; hashType: "sha1" } {
  return { hash: b16ToB64(blobId), hashType: "sha1" };
}
