/**
 * UIDs and version suffixes (laminspec §2; `lamindb/base/uids.py`, `lamin_utils/_base62.py`,
 * `lamindb/models/_is_versioned.py`).
 */
import { createHash, randomBytes } from "node:crypto";
import { ValidationError } from "./errors.js";

export const BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Digit value of each char code, -1 for chars outside the alphabet. */
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE62_ALPHABET.length; i++) DIGIT[BASE62_ALPHABET.charCodeAt(i)] = i;

/** Bytes below this (4 × 62) map to a digit by `% 62` without bias; the rest are rejected. */
const ACCEPT_BELOW = 248;

/** Cryptographically random base62 string (like `secrets.choice`), unbiased by rejection sampling. */
export function randomBase62(length: number): string {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new ValidationError(`invalid uid length: ${length}`);
  }
  let out = "";
  while (out.length < length) {
    const need = length - out.length;
    // Acceptance rate is 248/256 ≈ 97 %, so one call almost always suffices.
    const bytes = randomBytes(need + 8 + (need >> 3));
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const b = bytes[i] as number;
      if (b < ACCEPT_BELOW) out += BASE62_ALPHABET[b % 62];
    }
  }
  return out;
}

function encodeBigInt(n: bigint): string {
  if (n === 0n) return "0";
  let out = "";
  while (n > 0n) {
    out = BASE62_ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

/** Base62 of a non-negative integer (no padding). */
export function encodeBase62(n: bigint | number): string {
  const v = BigInt(n);
  if (v < 0n) throw new ValidationError(`cannot base62-encode a negative number: ${n}`);
  return encodeBigInt(v);
}

/**
 * lamin-utils `encodebytes`: leading zero bytes are written as pairs `"0" + alphabet[count]`
 * (count ≤ 61 per pair), the rest as the big-endian integer in base62.
 */
export function base62EncodeBytes(bytes: Uint8Array): string {
  let lead = 0;
  while (lead < bytes.length && bytes[lead] === 0) lead++;
  let prefix = `0${BASE62_ALPHABET[61]}`.repeat(Math.floor(lead / 61));
  const r = lead % 61;
  if (r) prefix += `0${BASE62_ALPHABET[r]}`;
  if (lead === bytes.length) return prefix;
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  return prefix + encodeBigInt(BigInt(`0x${hex}`));
}

/** Value of a base62 string (digit values in {@link BASE62_ALPHABET} order). */
export function decodeBase62(s: string): bigint {
  let v = 0n;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const d = c < 128 ? (DIGIT[c] as number) : -1;
    if (d < 0) {
      throw new ValidationError(
        `not a base62 string: ${JSON.stringify(s)}`,
        "Only the characters 0-9, A-Z and a-z are allowed.",
      );
    }
    v = v * 62n + BigInt(d);
  }
  return v;
}

/**
 * Next version suffix: `"0000"→"0001"`, `"0009"→"000A"`, `"000Z"→"000a"`, `"000z"→"0010"`,
 * `"zzzz"→"10000"` (left-padded to 4, never truncated; a 5-char suffix does not fit the uid column).
 */
export function incrementVersionSuffix(suffix: string): string {
  return encodeBigInt(decodeBase62(suffix) + 1n).padStart(4, "0");
}

export const NAMESPACE_URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/^urn:uuid:/i, "").replace(/[{}-]/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new ValidationError(`not a UUID: ${uuid}`);
  return Buffer.from(hex, "hex");
}

function formatUuid(b: Uint8Array): string {
  const h = Buffer.from(b.buffer, b.byteOffset, 16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** RFC 4122 name-based UUID v5 (Python `uuid.uuid5`), as the canonical lowercase dashed string. */
export function uuid5(namespace: string, name: string): string {
  const digest = createHash("sha1").update(uuidBytes(namespace)).update(name, "utf8").digest();
  const b = digest.subarray(0, 16);
  b[6] = ((b[6] as number) & 0x0f) | 0x50;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  return formatUuid(b);
}

/** Instance id of a new instance: `uuid5(NAMESPACE_URL, "owner/name").hex` (32 hex, no dashes). */
export function instanceIdFromSlug(slug: string): string {
  return uuid5(NAMESPACE_URL, slug).replaceAll("-", "");
}

/** Instance uid: `base62(md5(id.hex))[:12]`; accepts the id with or without dashes, any case. */
export function instanceUidFromId(idHex: string): string {
  const hex = uuidBytes(idHex).toString("hex");
  return base62EncodeBytes(createHash("md5").update(hex, "latin1").digest()).slice(0, 12);
}

/** Deterministic bionty record uid: `base62(md5(key))[:length]` (14 for BioRecords, 8 Source). */
export function bioRecordUid(key: string, length = 14): string {
  return base62EncodeBytes(createHash("md5").update(key, "utf8").digest()).slice(0, length);
}

export const UID_LENGTHS = {
  artifact: { stem: 16, full: 20 },
  collection: { stem: 16, full: 20 },
  transform: { stem: 12, full: 16 },
  block: { stem: 16, full: 20 },
  run: 16,
  record: 16,
  schema: 16,
  feature: 12,
  project: 12,
  reference: 12,
  storage: 12,
  space: 12,
  branch: 12,
  ulabel: 8,
  user: 8,
} as const;

export type VersionedKind = "artifact" | "collection" | "transform" | "block";
export const VERSION_SUFFIX_LENGTH = 4;
export const INITIAL_VERSION_SUFFIX = "0000";

function lengthsOf(kind: VersionedKind): { stem: number; full: number } {
  const l = UID_LENGTHS[kind] as { stem: number; full: number } | undefined;
  if (!l) throw new ValidationError(`not a versioned registry: ${String(kind)}`);
  return l;
}

/** A uid for the first version of a new family: random stem + `"0000"`. */
export function newVersionedUid(kind: VersionedKind): string {
  return randomBase62(lengthsOf(kind).stem) + INITIAL_VERSION_SUFFIX;
}

/** The stem (family id) of a versioned uid: its first 16 (artifact, collection) or 12 chars. */
export function stemOf(uid: string, kind: VersionedKind): string {
  return uid.slice(0, lengthsOf(kind).stem);
}

/**
 * Largest version suffix among `uids` (all members of one family), compared as base62 numbers,
 * not as strings (database collations sort case-insensitively). Undefined if no uid has a suffix.
 */
export function maxVersionSuffix(uids: readonly string[], stemLength: number): string | undefined {
  let best: string | undefined;
  let bestValue = -1n;
  for (const uid of uids) {
    const suffix = uid.slice(stemLength);
    if (suffix.length === 0) continue;
    const v = decodeBase62(suffix);
    if (v > bestValue) {
      bestValue = v;
      best = suffix;
    }
  }
  return best;
}

/**
 * The uid of a new version in the family of `revisesUid`: its stem + the incremented maximum
 * suffix over `familyUids` (every uid starting with the stem, including trashed ones).
 * Throws ValidationError if the next suffix no longer fits 4 characters.
 */
export function nextVersionedUid(
  kind: VersionedKind,
  revisesUid: string,
  familyUids: readonly string[],
): string {
  const { stem: stemLength, full } = lengthsOf(kind);
  const stem = revisesUid.slice(0, stemLength);
  if (stem.length !== stemLength) throw new ValidationError(`uid too short: ${revisesUid}`);
  const family = familyUids.filter((u) => u.startsWith(stem));
  const max = maxVersionSuffix([revisesUid, ...family], stemLength) ?? INITIAL_VERSION_SUFFIX;
  const uid = stem + incrementVersionSuffix(max);
  if (uid.length !== full) {
    throw new ValidationError(
      `version family ${stem} is exhausted (${max} is the last 4-character suffix)`,
      "Start a new family (new key) instead of another version.",
    );
  }
  return uid;
}
