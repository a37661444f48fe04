/**
 * Save benchmark: `npx tsx bench/save.ts`.
 *
 * (a) A folder of 1,000 files of 4 KiB: `cp -r` vs `lamin save FOLDER` through the built CLI (a new
 *     process: startup + PGlite open included) vs the SDK's `artifacts.save` inside an open instance.
 * (b) 1,000 single-file saves through the SDK in one process on PGlite, next to 1,000 single-row
 *     INSERTs on the same connection and a plain copy of the files, and to 1,000 saves with
 *     PGlite's statements parsed and planned again each time (LAMIN_PGLITE_PREPARED=0, as before
 *     core/db/pglite-statements.ts). Target: ≥ 500 files/s.
 * (c) The same 1,000 SDK saves on Postgres when DATABASE_URL is set (a database of its own, dropped).
 *
 * Everything lives in a temporary folder with its own LAMIN_HOME, removed at the end. Timings are
 * printed, never asserted; the run fails only when something does not work.
 */
import { spawnSync } from "node:child_process";
import { randomBytes, randomFillSync } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Instance } from "../core/index.js";
import {
  ensureBuilt,
  fmtMs,
  fmtRate,
  LAMIN_BIN,
  laminEnv,
  median,
  quantile,
  row,
  timed,
} from "./lib/common.js";

const N = 1000;
const SIZE = 4096;
const TARGET = 500; // files/s, issue 3
const W = [52, 11, 9, 12];

// Our own settings folder, before core is loaded: the benchmark never touches the user's instances.
const dir = mkdtempSync(join(tmpdir(), "lamin-save-bench-"));
const home = join(dir, "home");
const env = laminEnv(home);
process.env.LAMIN_HOME = env.LAMIN_HOME;
process.env.LAMIN_CACHE_DIR = env.LAMIN_CACHE_DIR;
delete process.env.LAMIN_INSTANCE;

const core = await import("../core/index.js");
const { sql } = await import("drizzle-orm");
const { dropDatabase } = await import("../core/db/postgres.js");

/** Save `paths` as new artifacts in one `saveMany` call; returns the wall time in ms. */
async function saveBatch(instance: Instance, paths: string[], prefix: string): Promise<number> {
  const t0 = performance.now();
  const results = await instance.artifacts.saveMany(
    paths.map((path, i) => ({ path, key: `${prefix}/f${i}.bin` })),
  );
  const ms = performance.now() - t0;
  const created = results.filter((r) => r.status === "created").length;
  if (created !== paths.length) throw new Error(`saveMany: ${created} of ${paths.length} created`);
  return ms;
}

/** `n` distinct files of random bytes in `folder`; returns their paths. */
function writeFiles(folder: string, n: number): string[] {
  mkdirSync(folder, { recursive: true });
  const buf = Buffer.allocUnsafe(SIZE);
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    randomFillSync(buf);
    const path = join(folder, `f${String(i).padStart(4, "0")}.bin`);
    writeFileSync(path, buf);
    paths.push(path);
  }
  return paths;
}

const line = (label: string, ms?: number, n?: number, extra = "") =>
  console.log(
    row([label, ms === undefined ? "" : fmtMs(ms), ms && n ? fmtRate(n, ms) : "", extra], W),
  );

/**
 * Count SQL statements and the time spent in them, by wrapping PGlite's per-statement mutex
 * (`_runExclusiveQuery`, which every query, exec, BEGIN and COMMIT goes through). Internal API:
 * undefined when it is not there.
 */
function instrumentPglite(instance: Instance) {
  const client = (instance.db as unknown as { $client?: Record<string, unknown> }).$client;
  const original = client?._runExclusiveQuery;
  if (!client || typeof original !== "function") return undefined;
  const stats = { statements: 0, ms: 0 };
  client._runExclusiveQuery = async function (this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      stats.statements++;
      stats.ms += performance.now() - t0;
    }
  };
  const restore = () => {
    client._runExclusiveQuery = original;
  };
  return { stats, restore };
}

/** `n` single-row INSERTs into a scratch table, one statement each, on the instance's connection. */
async function insertRate(instance: Instance, n: number): Promise<number> {
  const db = instance.db;
  await db.execute(sql`DROP TABLE IF EXISTS bench_scratch`);
  await db.execute(
    sql`CREATE TABLE bench_scratch (id serial PRIMARY KEY, v text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  try {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      await db.execute(sql`INSERT INTO bench_scratch (v) VALUES (${`row ${i}`})`);
    }
    const ms = performance.now() - t0;
    lastCpuMs = cpuMs(c0);
    return ms;
  } finally {
    await db.execute(sql`DROP TABLE bench_scratch`);
  }
}

/** CPU time of this process (user + system) since `from`, in ms. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(from);
  return (user + system) / 1000;
};
/** CPU time of the last insertRate run. */
let lastCpuMs = 0;

/** One SDK save per file, keys `<prefix>/f<i>.bin`; every one must create a new artifact. */
async function saveEach(instance: Instance, paths: readonly string[], prefix = "bench") {
  const latencies: number[] = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const [i, path] of paths.entries()) {
    const t = performance.now();
    const { status } = await instance.artifacts.save(path, { key: `${prefix}/f${i}.bin` });
    latencies.push(performance.now() - t);
    if (status !== "created") throw new Error(`save ${i}: expected 'created', got '${status}'`);
  }
  return { ms: performance.now() - t0, latencies, cpuMs: cpuMs(c0) };
}

const latencyNote = (l: number[]) =>
  `median ${median(l).toFixed(2)} ms, p95 ${quantile(l, 0.95).toFixed(2)} ms`;

async function main(): Promise<void> {
  ensureBuilt();
  let instance: Instance | undefined;
  try {
    console.log(
      `save benchmark: ${N.toLocaleString("en-US")} files of ${SIZE / 1024} KiB random bytes (warm cache; files/s = files / wall time)\n`,
    );

    // ---------------------------------------------------------------- (a) one folder
    const folderCli = join(dir, "folder-cli");
    const folderSdk = join(dir, "folder-sdk");
    writeFiles(folderCli, N);
    writeFiles(folderSdk, N); // new content: the SDK save is not deduplicated against the CLI's

    let cpMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const dest = join(dir, `cp-${i}`);
      const t0 = performance.now();
      const r = spawnSync("cp", ["-r", folderCli, dest]);
      const ms = performance.now() - t0;
      if (r.error || r.status !== 0) {
        throw new Error(`cp -r failed: ${r.error?.message ?? r.stderr.toString()}`);
      }
      cpMs = Math.min(cpMs, ms);
      rmSync(dest, { recursive: true, force: true });
    }

    const storage = join(dir, "storage");
    const created = await timed(() => core.init({ storage, name: "bench-save" }));
    await created.value.close(); // PGlite is one process per data folder: let the CLI open it

    const t0 = performance.now();
    const cli = spawnSync(
      process.execPath,
      [LAMIN_BIN, "save", folderCli, "--key", "bench/folder", "--json"],
      { env, encoding: "utf8" },
    );
    const cliMs = performance.now() - t0;
    if (cli.error || cli.status !== 0) {
      throw new Error(
        `lamin save failed (exit ${cli.status}): ${cli.error?.message ?? cli.stderr}`,
      );
    }
    const cliResult = JSON.parse(cli.stdout) as { status: string; n_files: number };
    if (cliResult.status !== "created" || cliResult.n_files !== N) {
      throw new Error(`lamin save: unexpected result ${cli.stdout.slice(0, 300)}`);
    }

    const opened = await timed(() => core.connect("bench-save"));
    instance = opened.value;
    const sdkFolder = await timed(() =>
      (instance as Instance).artifacts.save(folderSdk, { key: "bench/folder-sdk" }),
    );
    if (sdkFolder.value.status !== "created" || sdkFolder.value.artifact.n_files !== N) {
      throw new Error(`SDK folder save: unexpected result ${sdkFolder.value.status}`);
    }
    const hashOnly = await timed(() => core.hashFolder(folderSdk));

    console.log(row([`(a) one folder of ${N} files`, "time", "files/s"], W));
    line("  cp -r (baseline, best of 3, incl. spawn)", cpMs, N);
    line("  lamin save FOLDER (built CLI, new process)", cliMs, N);
    line("  SDK artifacts.save(FOLDER) in an open instance", sdkFolder.ms, N);
    line("    of which hashing alone (hashFolder, warm)", hashOnly.ms);
    line("  (for reference) init, PGlite", created.ms);
    line("  (for reference) connect() in process, PGlite", opened.ms);
    console.log();

    // ---------------------------------------------------------------- (b) single files, PGlite
    const paths = writeFiles(join(dir, "singles"), N);
    const copyDest = join(dir, "singles-copy");
    mkdirSync(copyDest);
    const copy = await timed(() => {
      for (const p of paths) copyFileSync(p, join(copyDest, basename(p)));
    });
    const hashing = await timed(async () => {
      for (const p of paths) await core.hashFile(p);
    });
    const inserts = await insertRate(instance, N);
    const insertCpu = lastCpuMs;
    // before (issue 19): every statement parsed and planned again, as PGlite's own query does
    await instance.close();
    process.env.LAMIN_PGLITE_PREPARED = "0";
    instance = await core.connect("bench-save");
    const plainProbe = instrumentPglite(instance);
    const plainSaves = await saveEach(instance, writeFiles(join(dir, "singles-plain"), N), "plain");
    plainProbe?.restore();
    await instance.close();
    delete process.env.LAMIN_PGLITE_PREPARED;
    instance = await core.connect("bench-save");
    const probe = instrumentPglite(instance);
    const saves = await saveEach(instance, paths);
    probe?.restore();
    const batchPaths = writeFiles(join(dir, "batch"), N);
    const batch = await saveBatch(instance, batchPaths, "bench/batch");

    console.log(row([`(b) ${N} single-file saves, one process`, "time", "files/s", "target"], W));
    line("  fs.copyFileSync of the files (baseline)", copy.ms, N);
    line("  hashFile of the files alone (sequential)", hashing.ms, N);
    line(`  ${N} single-row INSERTs, PGlite (rows/s)`, inserts, N);
    line("  SDK save(file), statements not kept (before)", plainSaves.ms, N, `≥ ${TARGET}`);
    console.log(`    per save: ${latencyNote(plainSaves.latencies)}`);
    if (plainProbe) {
      const { statements, ms } = plainProbe.stats;
      console.log(
        `    per save: ${(statements / N).toFixed(1)} SQL statements, ${(ms / N).toFixed(2)} ms in PGlite`,
      );
    }
    line("  SDK artifacts.save(file), PGlite", saves.ms, N, `≥ ${TARGET}`);
    console.log(`    per save: ${latencyNote(saves.latencies)}`);
    // PGlite runs in this process: its CPU time is the work, whatever else the machine runs
    console.log(
      `    CPU per save ${(saves.cpuMs / N).toFixed(2)} ms (${fmtRate(N, saves.cpuMs)} files/s on a CPU of its own); per INSERT ${(insertCpu / N).toFixed(2)} ms (${fmtRate(N, insertCpu)} rows/s); load average ${loadavg()[0]?.toFixed(1)}`,
    );
    if (probe) {
      const { statements, ms } = probe.stats;
      console.log(
        `    per save: ${(statements / N).toFixed(1)} SQL statements, ${(ms / N).toFixed(2)} ms in PGlite (${Math.round((100 * ms) / saves.ms)}% of the time)`,
      );
    } else {
      console.log("    (statement count unavailable: PGlite's _runExclusiveQuery is not there)");
    }
    line(`  SDK artifacts.saveMany(${N} files), PGlite`, batch, N, `≥ ${TARGET}`);
    for (const [what, ms] of [
      ["save() one by one", saves.ms],
      ["saveMany()", batch],
    ] as const) {
      const rate = (N / ms) * 1000;
      console.log(
        `    ${what}: ${rate >= TARGET ? "meets" : "MISSES"} the target of ${TARGET} files/s (${Math.round(rate)} files/s)`,
      );
    }
    await instance.close();
    instance = undefined;
    console.log();

    // ---------------------------------------------------------------- (c) Postgres
    const base = process.env.DATABASE_URL;
    if (!base) {
      console.log(
        "(c) Postgres: skipped, DATABASE_URL is not set (e.g. DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench)",
      );
      return;
    }
    const url = new URL(base);
    url.pathname = `/lamin_bench_${randomBytes(4).toString("hex")}`;
    try {
      const pg = await timed(() =>
        core.init({ storage: join(dir, "pg-storage"), name: "bench-pg", db: url.toString() }),
      );
      instance = pg.value;
      const pgInserts = await insertRate(instance, N);
      const pgSaves = await saveEach(instance, paths);
      const pgBatch = await saveBatch(
        instance,
        writeFiles(join(dir, "pg-batch"), N),
        "bench/pg-batch",
      );
      console.log(row([`(c) ${N} single-file saves, Postgres`, "time", "files/s"], W));
      line(`  ${N} single-row INSERTs, Postgres (rows/s)`, pgInserts, N);
      line("  SDK artifacts.save(file), Postgres", pgSaves.ms, N);
      console.log(`    per save: ${latencyNote(pgSaves.latencies)}`);
      line(`  SDK artifacts.saveMany(${N} files), Postgres`, pgBatch, N);
      line("  (for reference) init, Postgres", pg.ms);
      await instance.close();
      instance = undefined;
    } finally {
      await dropDatabase(url.toString()).catch((e: unknown) =>
        console.error(`could not drop ${url.pathname.slice(1)}: ${(e as Error).message}`),
      );
    }
  } finally {
    await instance?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
