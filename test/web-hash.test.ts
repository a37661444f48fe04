/**
 * The browser's upload hash (web/src/hash.ts) is LaminDB's (core/hash.ts): md5 up to 50 MiB,
 * sha1-fl above, the same 22 characters.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashFile as coreHash, HASH_CHUNK } from "../core/hash.js";
import { hashFile as browserHash } from "../web/src/hash.js";
import { tempDir } from "./helpers.js";

describe("the web UI's file hash", () => {
  const dir = tempDir("lamin-web-hash-");
  const both = async (bytes: Uint8Array) => {
    const path = join(dir, `f-${bytes.length}`);
    writeFileSync(path, bytes);
    return [
      await coreHash(path),
      await browserHash(new Blob([bytes as Uint8Array<ArrayBuffer>])),
    ] as const;
  };

  it.each([0, 1, 55, 56, 63, 64, 65, 1000, 4 * 1024 * 1024 + 7])(
    "agrees on %i bytes (md5)",
    async (n) => {
      const bytes = new Uint8Array(n).map((_, i) => (i * 31 + 7) % 251);
      const [core, web] = await both(bytes);
      expect(web).toEqual({ hash: core.hash, hash_type: "md5" });
    },
  );

  it("agrees above 50 MiB (sha1-fl of the first and last 50 MiB)", async () => {
    const bytes = new Uint8Array(HASH_CHUNK + 3 * 1024 * 1024).map((_, i) => (i * 13) % 256);
    const [core, web] = await both(bytes);
    expect(core.hashType).toBe("sha1-fl");
    expect(web).toEqual({ hash: core.hash, hash_type: "sha1-fl" });
  });
});
