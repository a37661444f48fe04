/**
 * Artifact keys by LaminDB's rules (lamindb 2.9.1): `check_key` (models/sqlrecord.py) refuses
 * backslashes and `.`/`..` segments, and `Artifact()` refuses keys containing `.lamindb/`; a key
 * longer than 1024 characters does not fit `lamindb_artifact.key`. Everything else LaminDB
 * accepts is accepted, except where this implementation cannot keep it safely (`KEY_DIFFERENCES`).
 */
import { AUTO_KEY_PREFIX } from "../../storage/types.js";

const hasControlCharacter = (s: string) =>
  [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

type Rule = [(key: string) => boolean, string];

/** What can be wrong with the key of any record (`check_key`), checked in order. */
const RECORD_KEY_RULES: Rule[] = [
  [(k) => k.length === 0, "is empty"],
  [(k) => k.includes("\\"), "contains a backslash"],
  [(k) => k.split("/").includes(".."), "contains a '..' segment"],
  [(k) => k.split("/").includes("."), "contains a '.' segment"],
  [hasControlCharacter, "contains control characters"],
];

/** An artifact's key also fits its column and stays out of the folder LaminDB manages. */
const KEY_RULES: Rule[] = [
  ...RECORD_KEY_RULES.slice(0, 1),
  [(k) => k.length > 1024, "is longer than 1024 characters"],
  ...RECORD_KEY_RULES.slice(1, 4),
  [(k) => k.includes(AUTO_KEY_PREFIX), "contains '.lamindb/', the folder LaminDB manages"],
  ...RECORD_KEY_RULES.slice(4),
];

/**
 * Where this implementation refuses a key LaminDB accepts, and why (the test checks each one).
 * `stored`: only keys that are where the bytes are (registered in place: ingest, reconcile).
 */
export const KEY_DIFFERENCES: { key: string; stored?: true; why: string }[] = [
  {
    key: "",
    why: "an empty key names no file: its cache copy would be the instance's cache folder itself",
  },
  {
    key: "tab\there.csv",
    why: "control characters would reach terminals and logs verbatim, and S3's XML listings cannot carry them",
  },
  {
    key: "/abs.csv",
    stored: true,
    why: "an object key starting with '/' is not below the storage root; a virtual key may start with '/'",
  },
];

/** What is wrong with `key` as an artifact key ("it ..."), or undefined when it is fine. */
export function keyProblem(key: string): string | undefined {
  return KEY_RULES.find(([broken]) => broken(key))?.[1];
}

/** What is wrong with the key of a transform or collection (LaminDB's `check_key`). */
export function recordKeyProblem(key: string): string | undefined {
  return RECORD_KEY_RULES.find(([broken]) => broken(key))?.[1];
}

/** The same for a key that is also the storage key of the bytes (not virtual). */
export function storedKeyProblem(key: string): string | undefined {
  return keyProblem(key) ?? (key.startsWith("/") ? "starts with '/'" : undefined);
}
