/**
 * Startup benchmark: `npx tsx bench/startup.ts`.
 *
 * Times fresh processes (best and median of 7, after one warm-up run): `node -e 0` (the floor),
 * `lamin --version`, a script that only opens PGlite on the instance's data folder and closes it
 * (the PGlite floor), and `lamin ls` on an embedded instance holding 1,000 artifacts. Reference
 * lines: LaminDB's import+connect gate (3.5 s) and the target of issue 3 (`lamin ls` < 2 s).
 * Everything lives in a temporary folder with its own LAMIN_HOME, removed at the end.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBuilt, fmtMs, LAMIN_BIN, laminEnv, median, REPO, row, timed } from "./lib/common.js";

const RUNS = 7;
const ARTIFACTS = 1000;
const GATE_MS = 3500; // LaminDB: import + connect
const TARGET_LS_MS = 2000; // issue 3
const TARGET_SERVE_MS = 300; // issue 3, with `lamin serve` running
const W = [50, 11, 11];

const dir = mkdtempSync(join(tmpdir(), "lamin-startup-bench-"));
const home = join(dir, "home");
const env = laminEnv(home);
process.env.LAMIN_HOME = env.LAMIN_HOME;
process.env.LAMIN_CACHE_DIR = env.LAMIN_CACHE_DIR;
delete process.env.LAMIN_INSTANCE;

const core = await import("../core/index.js");
const { PGLITE_DIR } = await import("../core/setup.js");

/** Opens PGlite on a data folder and closes it; prints its phases as JSON. */
const PGLITE_FLOOR = `
const t0 = performance.now();
const { PGlite } = await import("@electric-sql/pglite");
const t1 = performance.now();
// the same settings as core/db/pglite.ts, so the floor is the floor of what lamin does
const startParams = [...PGlite.defaultStartParams, "-c", "shared_buffers=32MB"];
const pg = await PGlite.create(process.env.BENCH_PGDATA, { startParams });
const t2 = performance.now();
await pg.close();
const t3 = performance.now();
console.log(JSON.stringify({ import: t1 - t0, open: t2 - t1, close: t3 - t2 }));
`;

interface Runs {
  best: number;
  median: number;
  stdouts: string[];
}

/** Wall time of `node args...` in a fresh process, RUNS times after one warm-up run. */
function time(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Runs {
  const ms: number[] = [];
  const stdouts: string[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, {
      cwd: REPO,
      env: { ...env, ...extraEnv },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    const elapsed = performance.now() - t0;
    if (r.error || r.status !== 0) {
      throw new Error(
        `node ${args.join(" ").slice(0, 80)} failed (exit ${r.status}): ${r.error?.message ?? r.stderr}`,
      );
    }
    if (i === 0) continue; // warm-up: page cache, compile cache
    ms.push(elapsed);
    stdouts.push(r.stdout);
  }
  return { best: Math.min(...ms), median: median(ms), stdouts };
}

const line = (label: string, r?: Runs) =>
  console.log(row([label, r ? fmtMs(r.best) : "", r ? fmtMs(r.median) : ""], W));
const ref = (label: string, ms: number) =>
  console.log(row([label, "", `${ms.toLocaleString("en-US")} ms`], W));

async function main(): Promise<void> {
  ensureBuilt();
  try {
    // An embedded instance with ARTIFACTS artifacts, made once through the SDK.
    const storage = join(dir, "storage");
    const files = join(dir, "files");
    mkdirSync(files);
    const made = await timed(async () => {
      const instance = await core.init({ storage, name: "bench-startup" });
      try {
        const items = Array.from({ length: ARTIFACTS }, (_, i) => {
          const path = join(files, `f${i}.txt`);
          writeFileSync(path, `artifact ${i} of the startup benchmark\n`);
          return { path, key: `bench/f${i}.txt` };
        });
        await instance.artifacts.saveMany(items);
      } finally {
        await instance.close();
      }
    });
    console.log(
      `startup benchmark: fresh processes, best and median of ${RUNS} (after 1 warm-up run); instance with ${ARTIFACTS} artifacts made in ${fmtMs(made.ms)}\n`,
    );

    const floor = time(["-e", "0"]);
    const version = time([LAMIN_BIN, "--version"]);
    // with the V8 flag short `lamin` commands use (cli/main.ts), so the floor stays a floor
    const pglite = time(["--liftoff-only", "--input-type=module", "-e", PGLITE_FLOOR], {
      BENCH_PGDATA: join(storage, PGLITE_DIR),
    });
    const ls = time([LAMIN_BIN, "ls"]);
    const shown = (ls.stdouts[0] ?? "").split("\n").filter((l) => l.includes("bench/f")).length;
    if (shown === 0) throw new Error(`lamin ls listed no artifacts:\n${ls.stdouts[0]}`);
    const phases = pglite.stdouts.map(
      (s) => JSON.parse(s) as { import: number; open: number; close: number },
    );
    const phase = (k: "import" | "open" | "close") => median(phases.map((p) => p[k]));

    console.log(row(["command", "best", "median"], W));
    line("  node -e 0 (floor)", floor);
    line("  lamin --version", version);
    line("  PGlite open + close on the data folder (floor)", pglite);
    console.log(
      `    median phases in process: import ${fmtMs(phase("import"))}, open ${fmtMs(phase("open"))}, close ${fmtMs(phase("close"))}`,
    );
    line(`  lamin ls (${ARTIFACTS} artifacts, shows ${shown})`, ls);
    console.log(
      row(
        [
          "    lamin ls minus the PGlite floor",
          fmtMs(ls.best - pglite.best),
          fmtMs(ls.median - pglite.median),
        ],
        W,
      ),
    );
    console.log();
    ref("  target of issue 3 for lamin ls", TARGET_LS_MS);
    ref("  LaminDB's gate (import + connect)", GATE_MS);
    const verdict = ls.median < TARGET_LS_MS ? "meets" : "MISSES";
    console.log(`  lamin ls ${verdict} the ${TARGET_LS_MS.toLocaleString("en-US")} ms target`);

    // The same command while `lamin serve` holds the instance: the CLI goes through the server.
    const server = spawn(process.execPath, [LAMIN_BIN, "serve", "--port", "0", "--json"], { env });
    try {
      await new Promise<void>((resolve, reject) => {
        server.stdout.once("data", () => resolve());
        server.once("exit", (code) => reject(new Error(`lamin serve exited with ${code}`)));
      });
      const served = time([LAMIN_BIN, "ls"]);
      if (served.stdouts[0] !== ls.stdouts[0])
        throw new Error("lamin ls through the server printed something else");
      console.log();
      line("  lamin ls through a running `lamin serve`", served);
      ref("  target of issue 3 with a server running", TARGET_SERVE_MS);
      const servedVerdict = served.median < TARGET_SERVE_MS ? "meets" : "MISSES";
      console.log(
        `  lamin ls through the server ${servedVerdict} the ${TARGET_SERVE_MS} ms target`,
      );
    } finally {
      server.kill("SIGTERM");
      await new Promise((resolve) => server.once("exit", resolve));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
