/**
 * LaminDB's file hash in the browser (core/hash.ts is the reference; test/web-hash.test.ts checks
 * they agree): md5 of the whole file up to 50 MiB, else sha1 of the sha1s of its first and last
 * 50 MiB; 22 characters of URL-safe base64. WebCrypto has no MD5, so it is computed here,
 * incrementally, a few MiB at a time.
 */

export const HASH_CHUNK = 52_428_800;

export interface BlobLike {
  size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

export function toB64(digest: Uint8Array): string {
  let bin = "";
  for (const b of digest) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "").slice(0, 22);
}

export async function hashFile(
  file: BlobLike,
): Promise<{ hash: string; hash_type: "md5" | "sha1-fl" }> {
  if (file.size <= HASH_CHUNK) {
    const md5 = new Md5();
    const STEP = 4 * 1024 * 1024;
    for (let at = 0; at < file.size; at += STEP) {
      md5.update(
        new Uint8Array(await file.slice(at, Math.min(file.size, at + STEP)).arrayBuffer()),
      );
    }
    return { hash: toB64(md5.digest()), hash_type: "md5" };
  }
  const sha1 = async (data: ArrayBuffer) =>
    new Uint8Array(await crypto.subtle.digest("SHA-1", data));
  const first = await sha1(await file.slice(0, HASH_CHUNK).arrayBuffer());
  const last = await sha1(await file.slice(file.size - HASH_CHUNK, file.size).arrayBuffer());
  const both = new Uint8Array(first.length + last.length);
  both.set(first);
  both.set(last, first.length);
  return { hash: toB64(await sha1(both.buffer)), hash_type: "sha1-fl" };
}

const S = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14,
  20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6,
  10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];
const K = Array.from(
  { length: 64 },
  (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0,
);

/** MD5 (RFC 1321), fed in pieces. */
export class Md5 {
  private readonly h = new Uint32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
  private readonly block = new Uint8Array(64);
  private readonly words = new Uint32Array(16);
  private filled = 0;
  private length = 0;

  update(data: Uint8Array): void {
    this.length += data.length;
    let i = 0;
    while (i < data.length) {
      const n = Math.min(64 - this.filled, data.length - i);
      this.block.set(data.subarray(i, i + n), this.filled);
      this.filled += n;
      i += n;
      if (this.filled === 64) {
        this.compress();
        this.filled = 0;
      }
    }
  }

  digest(): Uint8Array {
    const bits = this.length * 8;
    const pad = new Uint8Array((this.filled < 56 ? 56 : 120) - this.filled + 8);
    pad[0] = 0x80;
    const view = new DataView(pad.buffer);
    view.setUint32(pad.length - 8, bits >>> 0, true);
    view.setUint32(pad.length - 4, Math.floor(bits / 2 ** 32), true);
    this.update(pad);
    const out = new Uint8Array(16);
    const o = new DataView(out.buffer);
    for (let k = 0; k < 4; k++) o.setUint32(k * 4, this.h[k] as number, true);
    return out;
  }

  private compress(): void {
    const w = this.words;
    const b = this.block;
    for (let k = 0; k < 16; k++) {
      w[k] =
        (b[k * 4] as number) |
        ((b[k * 4 + 1] as number) << 8) |
        ((b[k * 4 + 2] as number) << 16) |
        ((b[k * 4 + 3] as number) << 24);
    }
    let [a0, b0, c0, d0] = this.h as unknown as [number, number, number, number];
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b0 & c0) | (~b0 & d0);
        g = i;
      } else if (i < 32) {
        f = (d0 & b0) | (~d0 & c0);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b0 ^ c0 ^ d0;
        g = (3 * i + 5) % 16;
      } else {
        f = c0 ^ (b0 | ~d0);
        g = (7 * i) % 16;
      }
      const t = d0;
      d0 = c0;
      c0 = b0;
      const sum = (a0 + f + (K[i] as number) + (w[g] as number)) >>> 0;
      const s = S[i] as number;
      b0 = (b0 + ((sum << s) | (sum >>> (32 - s)))) >>> 0;
      a0 = t;
    }
    this.h[0] = ((this.h[0] as number) + a0) >>> 0;
    this.h[1] = ((this.h[1] as number) + b0) >>> 0;
    this.h[2] = ((this.h[2] as number) + c0) >>> 0;
    this.h[3] = ((this.h[3] as number) + d0) >>> 0;
  }
}
