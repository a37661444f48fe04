/**
 * Hub API keys: `lnk_<prefix>_<secret>`. The prefix (8 base62) is the key's public name, shown in
 * lists and used to find its row; only the SHA-256 of the 32-char secret (~190 bits) is stored.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { randomBase62 } from "../uid.js";

export const API_KEY_MARK = "lnk_";
const PREFIX_LENGTH = 8;
const SECRET_LENGTH = 32;
const KEY_PATTERN = /^lnk_([0-9A-Za-z]{8})_([0-9A-Za-z]{32})$/;

export interface NewApiKey {
  /** The plaintext key: give it to the user once, never store it. */
  key: string;
  prefix: string;
  secretSha256: string;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export function newApiKey(): NewApiKey {
  const prefix = randomBase62(PREFIX_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  return { key: `${API_KEY_MARK}${prefix}_${secret}`, prefix, secretSha256: sha256Hex(secret) };
}

/** The parts of a well-formed key; undefined for anything else (no partial matches). */
export function parseApiKey(key: string): { prefix: string; secret: string } | undefined {
  const match = KEY_PATTERN.exec(key);
  if (!match) return undefined;
  return { prefix: match[1] as string, secret: match[2] as string };
}

/** Whether `secret` matches the stored digest, in time independent of where they differ. */
export function secretMatches(secret: string, storedSha256: string): boolean {
  const given = createHash("sha256").update(secret, "utf8").digest();
  const stored = Buffer.from(storedSha256, "hex");
  return stored.length === given.length && timingSafeEqual(given, stored);
}

export const API_KEY_LENGTHS = { prefix: PREFIX_LENGTH, secret: SECRET_LENGTH } as const;
