/**
 * Startup benchmark: `npx tsx bench/startup.ts` (or `npm run bench -- startup`).
 *
 * Times what a user's shell runs, as `hyperfine` would: each command is a fresh `node` process,
 * started from a folder outside the repository, with the caller's environment plus LAMIN_HOME
 * (nothing else: no NO_COLOR, no cache folder, no V8 flag), one warm-up run and then RUNS runs.
 * The commands run in interleaved rounds, so a busy machine slows each of them alike. For each:
 * wall time median [min..max], CPU time (user + system) median, which a busy machine inflates
 * less than wall time, and peak memory (maximum resident set, from GNU time).
 *
 * In the same run: `node -e 0` (the floor of any node command), `lamin --version`, a bare PGlite
 * open + `select 1` + close of the instance's data folder with PGlite's defaults (what PGlite
 * costs before lamin does anything), `lamin ls` on the embedded instance, and `lamin ls` while
 * `lamin serve` runs (the CLI then goes through the server).
 *
 * The instance is made the way a user makes one: `lamin init --storage DIR` and `lamin save`
 * of ARTIFACTS files, in a temporary folder removed at the end.
 *
 * BENCH_BASELINE_BIN=/other/checkout/bin/lamin.js also times that build's `lamin --version` and
 * `lamin ls` in the same rounds: a before/after that a busy machine cannot skew (build the other
 * checkout first; it must read the same instance).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pgliteSettings, tunePgliteForShortCommand } from "../core/db/pglite-tuning.js";
import { ensureBuilt, fmtMs, LAMIN_BIN, median, REPO, row } from "./lib/common.js";

const RUNS = Number(process.env.BENCH_RUNS) || 5;
const ARTIFACTS = 3;
const GATE_MS = 3500; // LaminDB: import + connect
const TARGET_LS_MS = 500; // issue 20: `lamin ls` on the embedded default, cold
const TARGET_LS_MIB = 120; // issue 20: its peak memory
const TIME_BIN = "/usr/bin/time"; // GNU time: peak RSS of the child (%M)
const W = [44, 26, 10, 10, 8];

const dir = mkdtempSync(join(tmpdir(), "lamin-startup-bench-"));
const work = join(dir, "work"); // the shell's folder: outside the repository
const home = join(dir, "home");
mkdirSync(work);

/** The user's environment with its own LAMIN_HOME: nothing the bench would not have. */
const userEnv: NodeJS.ProcessEnv = { ...process.env, LAMIN_HOME: home };
for (const k of ["LAMIN_INSTANCE", "LAMIN_PROGRESS", "LAMIN_PGLITE_TIERUP", "NODE_OPTIONS"]) {
  delete userEnv[k];
}
/** Making the instance may write the template cache: keep it in the temporary folder. */
const setupEnv: NodeJS.ProcessEnv = { ...userEnv, LAMIN_CACHE_DIR: join(dir, "cache") };

/**
 * Opens a data folder, asks one query, closes: PGlite's own cost. With PGlite's defaults, or
 * with the settings `lamin` uses for a short command: cli/main.ts's V8 flags (keep these in
 * step) and core/db/pglite-tuning.ts's start parameters (taken from it).
 */
const BARE_PGLITE = `
import { PGlite } from ${JSON.stringify(join(REPO, "node_modules/@electric-sql/pglite/dist/index.js"))};
const [dataDir, settings] = process.argv.slice(2);
const options = settings
  ? { startParams: [...PGlite.defaultStartParams, ...JSON.parse(settings)] }
  : {};
const pg = await PGlite.create(dataDir, options);
await pg.query("select 1");
await pg.close();
`;
const LAMIN_NODE_FLAGS = ["--liftoff-only", "--wasm-lazy-validation"];
tunePgliteForShortCommand();
const LAMIN_SETTINGS = JSON.stringify(pgliteSettings());

interface Sample {
  wallMs: number;
  cpuMs?: number;
  rssMiB?: number;
}

interface Measured {
  label: string;
  args: string[];
  samples: Sample[];
  stdout: string;
}

const hasTime = existsSync(TIME_BIN);

/** One fresh process, timed from outside; throws when it fails. */
function runOnce(args: string[]): { sample: Sample; stdout: string } {
  const report = join(dir, "time.txt");
  const cmd = hasTime ? TIME_BIN : process.execPath;
  const cmdArgs = hasTime ? ["-f", "%e %U %S %M", "-o", report, process.execPath, ...args] : args;
  const t0 = performance.now();
  const r = spawnSync(cmd, cmdArgs, {
    cwd: work,
    env: userEnv,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = performance.now() - t0;
  if (r.error || r.status !== 0) {
    throw new Error(
      `node ${args.join(" ").slice(0, 100)} failed (exit ${r.status}): ${r.error?.message ?? r.stderr}`,
    );
  }
  if (!hasTime) return { sample: { wallMs }, stdout: r.stdout };
  const [, user, sys, maxKiB] = readFileSync(report, "utf8").trim().split(/\s+/).map(Number);
  return {
    sample: {
      wallMs,
      cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000,
      rssMiB: (maxKiB ?? 0) / 1024,
    },
    stdout: r.stdout,
  };
}

/** Warm-up, then RUNS rounds; each round runs every command once, in turn. */
function measure(commands: { label: string; args: string[] }[]): Measured[] {
  const out: Measured[] = commands.map((c) => ({ ...c, samples: [], stdout: "" }));
  for (const m of out) m.stdout = runOnce(m.args).stdout; // warm-up: page cache
  for (let i = 0; i < RUNS; i++) {
    for (const m of out) m.samples.push(runOnce(m.args).sample);
  }
  return out;
}

const ms = (xs: number[]) =>
  `${fmtMs(median(xs))} [${fmtMs(Math.min(...xs))}..${fmtMs(Math.max(...xs))}]`;

function print(measured: Measured[], floor: Measured | undefined): void {
  for (const m of measured) {
    const wall = m.samples.map((s) => s.wallMs);
    const cpu = m.samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
    const rss = m.samples.flatMap((s) => (s.rssMiB === undefined ? [] : [s.rssMiB]));
    const times =
      floor && floor !== m
        ? `${(median(wall) / median(floor.samples.map((s) => s.wallMs))).toFixed(1)}x`
        : "";
    console.log(
      row(
        [
          `  ${m.label}`,
          ms(wall),
          cpu.length ? fmtMs(median(cpu)) : "n/a",
          rss.length ? `${Math.max(...rss).toFixed(0)} MiB` : "n/a",
          times,
        ],
        W,
      ),
    );
  }
}

function lamin(args: string[], env = setupEnv): string {
  const r = spawnSync(process.execPath, [LAMIN_BIN, ...args], { cwd: work, env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`lamin ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

async function startServer(): Promise<ChildProcess> {
  const server = spawn(process.execPath, [LAMIN_BIN, "serve", "--port", "0", "--json"], {
    cwd: work,
    env: userEnv,
  });
  await new Promise<void>((resolve, reject) => {
    server.stdout?.once("data", () => resolve());
    server.once("exit", (code) => reject(new Error(`lamin serve exited with ${code}`)));
  });
  return server;
}

async function main(): Promise<void> {
  ensureBuilt();
  try {
    // An embedded instance made as a user makes one.
    const storage = join(dir, "storage");
    lamin(["init", "--storage", storage, "--name", "bench-startup"]);
    for (let i = 0; i < ARTIFACTS; i++) {
      const file = join(work, `f${i}.txt`);
      writeFileSync(file, `artifact ${i} of the startup benchmark\n`);
      lamin(["save", file, "--key", `bench/f${i}.txt`]);
    }
    const bare = join(dir, "bare-pglite.mjs");
    writeFileSync(bare, BARE_PGLITE);
    const dataDir = join(storage, ".lamindb", "pglite");

    console.log(
      `startup benchmark: fresh processes from ${work} (outside the repository), the caller's environment plus LAMIN_HOME;`,
    );
    console.log(
      `1 warm-up run, then ${RUNS} interleaved rounds; embedded instance with ${ARTIFACTS} artifacts; ${
        hasTime ? "CPU and peak memory from GNU time" : `no ${TIME_BIN}: wall time only`
      }\n`,
    );
    console.log(row(["command", "wall median [min..max]", "cpu", "peak", "x node"], W));
    const baseline = process.env.BENCH_BASELINE_BIN;
    const measured = measure([
      { label: "node -e 0 (floor)", args: ["-e", "0"] },
      { label: "lamin --version", args: [LAMIN_BIN, "--version"] },
      { label: "bare PGlite open+query+close, defaults", args: [bare, dataDir] },
      {
        label: "  the same with lamin's settings",
        args: [...LAMIN_NODE_FLAGS, bare, dataDir, LAMIN_SETTINGS],
      },
      { label: "lamin ls (embedded, cold)", args: [LAMIN_BIN, "ls"] },
      ...(baseline
        ? [
            { label: "baseline build: lamin --version", args: [baseline, "--version"] },
            { label: "baseline build: lamin ls", args: [baseline, "ls"] },
          ]
        : []),
    ]);
    const [floor, , , , ls] = measured;
    for (const m of measured.filter((m) => m.label.includes("lamin ls"))) {
      const shown = m.stdout.split("\n").filter((l) => l.includes("bench/f")).length;
      if (shown !== ARTIFACTS)
        throw new Error(`${m.label} listed ${shown} artifacts:\n${m.stdout}`);
    }
    print(measured, floor);

    // The same command while `lamin serve` holds the instance: the CLI goes through the server.
    const server = await startServer();
    try {
      const [served] = measure([
        { label: "lamin ls through `lamin serve`", args: [LAMIN_BIN, "ls"] },
      ]);
      if (served?.stdout !== ls?.stdout)
        throw new Error("lamin ls through the server printed something else");
      print(served ? [served] : [], floor);
    } finally {
      server.kill("SIGTERM");
      await new Promise((resolve) => server.once("exit", resolve));
    }

    console.log();
    const lsWall = median(ls?.samples.map((s) => s.wallMs) ?? []);
    const lsRss = Math.max(...(ls?.samples.map((s) => s.rssMiB ?? 0) ?? []));
    console.log(
      `  target of issue 20 for lamin ls: < ${TARGET_LS_MS} ms cold, < ${TARGET_LS_MIB} MiB peak: ${
        lsWall < TARGET_LS_MS ? "meets" : "MISSES"
      } the time${hasTime ? `, ${lsRss < TARGET_LS_MIB ? "meets" : "MISSES"} the memory` : ""}`,
    );
    console.log(`  LaminDB's gate (import + connect): ${GATE_MS.toLocaleString("en-US")} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
