/**
 * Access tokens: random, shown once, stored only as a SHA-256 digest, compared in constant time.
 * A token carries a short public prefix (`lnt_<8 chars>`) so it can be listed and revoked without
 * revealing it.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { base62EncodeBytes } from "./uid.js";

export const TOKEN_PREFIX = "lnt_";

export function generateToken(): string {
  // 32 random bytes: 256 bits, far beyond guessing
  return TOKEN_PREFIX + base62EncodeBytes(randomBytes(32));
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Whether `token` matches the stored digest, in time independent of where they differ. */
export function tokenMatches(token: string, storedDigest: string): boolean {
  const given = createHash("sha256").update(token, "utf8").digest();
  const stored = Buffer.from(storedDigest, "hex");
  return stored.length === given.length && timingSafeEqual(given, stored);
}

/** The token from an `Authorization: Bearer <token>` header, if well-formed. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}
