/**
 * Hashing benchmark: `npx tsx bench/hash.ts`.
 *
 * 1. md5 of a 50 MiB random file: `md5sum` vs `hashFile` (warm cache, best of 5; target ≥ 0.85×).
 * 2. sha1-fl of a 100 MiB file vs a 4 GiB sparse file (both read 2 × 50 MiB only).
 * 3. A folder of 2000 small files (sync small-file path vs thread-pool reads).
 * Temporary files are removed at the end. Exits non-zero on errors only.
 */
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { b16ToB64, HASH_CHUNK, hashFile, hashFolder } from "../core/hash.js";

const MiB = 1024 * 1024;
const RUNS = 5;

async function bestOf<T>(
  runs: number,
  fn: () => Promise<T> | T,
): Promise<{ ms: number; value: T }> {
  let best = Number.POSITIVE_INFINITY;
  let value: T | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, value: value as T };
}

async function writeRandom(path: string, size: number): Promise<void> {
  const fh = await open(path, "w");
  try {
    const buf = Buffer.allocUnsafe(8 * MiB);
    for (let pos = 0; pos < size; pos += buf.length) {
      randomFillSync(buf);
      await fh.write(buf, 0, Math.min(buf.length, size - pos), pos);
    }
  } finally {
    await fh.close();
  }
}

function md5sum(path: string): string {
  const r = spawnSync("md5sum", [path], { encoding: "utf8" });
  if (r.error) throw new Error(`cannot run md5sum: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`md5sum failed: ${r.stderr}`);
  return r.stdout.split(/\s+/)[0] as string;
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const row = (cells: string[], widths: number[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "lamin-hash-bench-"));
  try {
    // 1. md5 of 50 MiB
    const f50 = join(dir, "random_50MiB.bin");
    await writeRandom(f50, 50 * MiB);
    const sys = await bestOf(RUNS, () => md5sum(f50));
    const ours = await bestOf(RUNS, () => hashFile(f50));
    if (b16ToB64(sys.value) !== ours.value.hash) {
      throw new Error(`hash mismatch: md5sum ${sys.value} vs hashFile ${ours.value.hash}`);
    }
    const sysRate = mbps(50 * MiB, sys.ms);
    const ourRate = mbps(50 * MiB, ours.ms);

    // 2. sha1-fl: 100 MiB dense vs 4 GiB sparse
    const f100 = join(dir, "random_100MiB.bin");
    await writeRandom(f100, 100 * MiB);
    const sparse = join(dir, "sparse_4GiB.bin");
    const fh = await open(sparse, "w");
    await fh.truncate(4 * 1024 * MiB);
    await fh.close();
    const dense = await bestOf(RUNS, () => hashFile(f100));
    const big = await bestOf(RUNS, () => hashFile(sparse));
    if (dense.value.hashType !== "sha1-fl" || big.value.hashType !== "sha1-fl") {
      throw new Error("expected sha1-fl for files > 50 MiB");
    }

    // 3. folder of many small files
    const many = join(dir, "many");
    const nSmall = 2000;
    for (let d = 0; d < 20; d++) await mkdir(join(many, `d${d}`), { recursive: true });
    const payload = Buffer.allocUnsafe(4096);
    for (let i = 0; i < nSmall; i++) {
      randomFillSync(payload);
      await writeFile(join(many, `d${i % 20}`, `f${i}.bin`), payload.subarray(0, 100 + (i % 4000)));
    }
    const folderSync = await bestOf(RUNS, () => hashFolder(many));
    const folderAsync = await bestOf(RUNS, () => hashFolder(many, { syncSmallFiles: false }));
    if (folderSync.value.hash !== folderAsync.value.hash) throw new Error("folder hash mismatch");

    const w = [38, 12, 12];
    console.log(`hash benchmark (warm cache, best of ${RUNS}; MB = 10^6 bytes)\n`);
    console.log(row(["md5, 50 MiB random file", "time", "throughput"], w));
    console.log(row(["  md5sum", `${sys.ms.toFixed(1)} ms`, `${sysRate.toFixed(0)} MB/s`], w));
    console.log(row(["  hashFile", `${ours.ms.toFixed(1)} ms`, `${ourRate.toFixed(0)} MB/s`], w));
    console.log(
      row(
        ["  ratio hashFile / md5sum (target ≥ 0.85)", "", `${(ourRate / sysRate).toFixed(2)}x`],
        [40, 10, 12],
      ),
    );
    console.log();
    console.log(row([`sha1-fl (reads 2 × ${HASH_CHUNK / MiB} MiB)`, "time", "size"], w));
    console.log(row(["  100 MiB random file", `${dense.ms.toFixed(1)} ms`, "100 MiB"], w));
    console.log(row(["  4 GiB sparse file", `${big.ms.toFixed(1)} ms`, "4096 MiB"], w));
    console.log();
    console.log(row([`folder, ${nSmall} files of 0.1–4 KB`, "time", "files/s"], w));
    for (const [label, r] of [
      ["  sync small-file reads (default)", folderSync],
      ["  thread-pool reads", folderAsync],
    ] as const) {
      console.log(
        row([label, `${r.ms.toFixed(1)} ms`, `${((nSmall / r.ms) * 1000).toFixed(0)}`], w),
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
