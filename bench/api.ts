/**
 * API benchmark: `DATABASE_URL=postgresql://... npx tsx bench/api.ts` (issue 4, "Speed").
 *
 * An instance on Postgres (a database of its own, dropped at the end) with 100,000 artifacts,
 * seeded by multi-row INSERTs (metadata only: the benchmark never reads bytes).
 *
 * (a) Load: autocannon, 50 connections, 10 s per route (BENCH_SECONDS shortens it) against the
 *     API served as `lamin serve` serves it (openInstance + createApp + @hono/node-server, in a
 *     child process) and, in the same run, a bare Hono route in another child process:
 *     GET /artifacts/{uid} of random uids, a filtered list of 50 (key__startswith matching
 *     1,000), GET /x. Targets: p99 < 25 ms and ≥ 40% of the bare route's req/s. For reference, a
 *     bare Hono route that reads one row by a prepared statement (the floor for any route that
 *     reads the database), and one that runs the list's two statements by raw node-postgres (the
 *     floor of the list: what Postgres and the driver cost, with none of our code). Next to them, the CPU each request costs the server, Postgres and the
 *     load generator (from /proc).
 * (a2) Each API route and its floor at one rate, sent on schedule and alternating in one run
 *     (BENCH_API_RATE, by default half the list's req/s in (a)): their latency when the server
 *     keeps up, where (a) measures throughput (there each connection asks again as soon as it is
 *     answered).
 * (b) Where a request's time goes: one request at a time, through each layer (raw SQL, the
 *     registry, the Hono app in process, HTTP).
 * (c) Cold start of the Lambda bundle (scripts/bundle-lambda.mjs): size (target < 1.5 MB), and in
 *     fresh node processes the import, the first answer to an API Gateway v2 event (target
 *     < 300 ms) and warm answers.
 *
 * BENCH_PROFILE=1 adds a profiled load run per API route (V8 CPU profiler in the server, started
 * and stopped around the run) and prints where the server's CPU goes. BENCH_ARTIFACTS changes the
 * instance size. Timings are printed, never asserted; the run fails only when something does not
 * work.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { bundleLambda } from "../scripts/bundle-lambda.mjs";
import { fmtMs, laminEnv, median, quantile, REPO, row } from "./lib/common.js";
import { cpuSince, snapshot } from "./lib/cpu.js";
import {
  pacedHttp,
  type Req,
  type Server,
  sequential,
  sequentialHttp,
  startServer,
} from "./lib/http.js";
import { LIST_IDS, LIST_ROWS } from "./lib/list-statements.js";
import { printProfile } from "./lib/profile.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const N = Number(process.env.BENCH_ARTIFACTS ?? 100_000);
const CONNECTIONS = 50;
const CHUNK = 1000;
const PROFILE = process.env.BENCH_PROFILE === "1";
const TARGET_P99 = 25; // ms
const TARGET_SHARE = 0.4; // of the bare route's req/s
const TARGET_BUNDLE = 1.5e6; // bytes
const TARGET_FIRST = 300; // ms
const COLD_RUNS = 5;
const SEQUENTIAL = 1000; // requests per layer in (b)
/** (a2)'s rate: BENCH_API_RATE req/s, or by default half of what the list answered in (a). */
const RATE = process.env.BENCH_API_RATE ? Number(process.env.BENCH_API_RATE) : undefined;

const base = process.env.DATABASE_URL;
if (!base) {
  console.log(
    "bench/api needs a Postgres server (issue 4 measures the API on Postgres): skipped.\n" +
      "Run it with DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx tsx bench/api.ts",
  );
  process.exit(0);
}
if (RATE !== undefined && !(RATE > 0)) {
  throw new Error("BENCH_API_RATE must be > 0 (requests a second)");
}
if (!(SECONDS > 0) || !(N >= 1000)) {
  throw new Error("BENCH_SECONDS must be > 0 and BENCH_ARTIFACTS at least 1000");
}

// Our own settings folder, before core is loaded: the benchmark never touches the user's instances.
const dir = mkdtempSync(join(tmpdir(), "lamin-api-bench-"));
const env = laminEnv(join(dir, "home"));
process.env.LAMIN_HOME = env.LAMIN_HOME;
process.env.LAMIN_CACHE_DIR = env.LAMIN_CACHE_DIR;
delete process.env.LAMIN_INSTANCE;

const { sql } = await import("drizzle-orm");
const { initInstance } = await import("../core/setup.js");
const { dropDatabase } = await import("../core/db/postgres.js");
const t = await import("../core/db/schema.js");
const { generateToken, hashToken, tokenMatches } = await import("../core/auth.js");
const { newVersionedUid } = await import("../core/uid.js");
const { createApp } = await import("../functions/api/app.js");
type Instance = import("../core/instance.js").Instance;

// ------------------------------------------------------------------ autocannon (no typings)

interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface LoadOptions {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
  requests?: { setupRequest?: (req: { path: string }) => { path: string } }[];
}
const autocannon = createRequire(import.meta.url)("autocannon") as (
  opts: LoadOptions,
) => Promise<LoadResult>;

// ------------------------------------------------------------------ seeding

const SUFFIXES = [".fastq.gz", ".csv", ".parquet", ".h5ad", ".tif"] as const;
const PROJECTS = Math.round(N / 1000);
const YEAR_MS = 365 * 24 * 3600 * 1000;
const SEED_END = Date.now();

/** Key of artifact i: 1,000 per project folder, as in `datasets/p042/run-07/sample-013.csv`. */
function keyOf(i: number): string {
  const project = String(Math.floor(i / 1000) % PROJECTS).padStart(3, "0");
  const run = String(Math.floor((i % 1000) / 50)).padStart(2, "0");
  const sample = String(i % 50).padStart(3, "0");
  return `datasets/p${project}/run-${run}/sample-${sample}${SUFFIXES[i % SUFFIXES.length]}`;
}

/**
 * Row i: a file as the SDK registers it, created within the past year, oldest first (a project
 * folder is saved at once, so its 1,000 artifacts are neighbours in time, as in real life).
 */
function seedRow(instance: Instance, i: number, uid: string): typeof t.artifact.$inferInsert {
  const createdAt = new Date(SEED_END - YEAR_MS + Math.floor((i / N) * YEAR_MS));
  return {
    uid,
    key: keyOf(i),
    description: i % 10 === 0 ? `sample ${i % 50} of run ${Math.floor((i % 1000) / 50)}` : null,
    storageId: instance.storageRecord.id,
    suffix: SUFFIXES[i % SUFFIXES.length],
    size: Math.round(2 ** (10 + Math.random() * 22)), // 1 KiB .. 4 GiB, log-uniform
    hash: randomBytes(16).toString("base64url").slice(0, 22),
    hashType: "md5",
    keyIsVirtual: true,
    overwriteVersions: false,
    createdById: instance.user.id,
    createdAt,
    updatedAt: createdAt,
  };
}

/**
 * N artifacts in multi-row INSERTs of CHUNK rows, two statements in flight (the instance's pool
 * has two connections), then ANALYZE; returns their uids.
 */
async function seed(instance: Instance): Promise<string[]> {
  const uids = Array.from({ length: N }, () => newVersionedUid("artifact"));
  let next = 0;
  const worker = async () => {
    for (let first = next; first < N; first = next) {
      next += CHUNK;
      const rows: (typeof t.artifact.$inferInsert)[] = [];
      for (let i = first; i < Math.min(N, first + CHUNK); i++) {
        rows.push(seedRow(instance, i, uids[i] as string));
      }
      await instance.db.insert(t.artifact).values(rows);
    }
  };
  await Promise.all([worker(), worker()]);
  await instance.db.execute(sql`ANALYZE lamindb_artifact`);
  return uids;
}

// ------------------------------------------------------------------ servers

// ------------------------------------------------------------------ CPU accounting

/** Whether Postgres runs on this machine, so that its backends' CPU can be read from /proc. */
const POSTGRES_IS_LOCAL = ["127.0.0.1", "localhost", "[::1]"].includes(
  new URL(base).hostname.toLowerCase(),
);

/** The Postgres backends serving our database (the server's pool and ours), if local. */
async function backendPids(instance: Instance): Promise<number[]> {
  if (!POSTGRES_IS_LOCAL) return [];
  const { rows } = (await instance.db.execute(
    sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`,
  )) as unknown as { rows: { pid: number }[] };
  return rows.map((r) => r.pid);
}

interface CpuPerRequest {
  server: number | undefined;
  postgres: number | undefined;
  loadgen: number;
}

// ------------------------------------------------------------------ measuring

interface Route {
  label: string;
  url: string;
  server: Server;
  opts: Partial<LoadOptions>;
}

async function load(route: Route, seconds: number): Promise<LoadResult> {
  const result = await autocannon({
    url: route.url,
    connections: CONNECTIONS,
    duration: seconds,
    ...route.opts,
  });
  const bad = result.errors + result.timeouts + result.non2xx;
  if (bad > 0) {
    throw new Error(
      `${route.label}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return result;
}

/** A measured load run, with the CPU it cost each process per request. */
async function measuredLoad(route: Route, seconds: number, postgresPids: number[]) {
  const server0 = snapshot([route.server.pid]);
  const pg0 = snapshot(postgresPids);
  const own0 = process.cpuUsage();
  const result = await load(route, seconds);
  const own = process.cpuUsage(own0);
  const server = cpuSince(server0);
  const postgres = cpuSince(pg0);
  const n = result.requests.total;
  const cpu: CpuPerRequest = {
    server: server === undefined ? undefined : server / n,
    postgres: postgres === undefined ? undefined : postgres / n,
    loadgen: (own.user + own.system) / 1000 / n,
  };
  return { result, cpu };
}

/** One HTTP GET at a time over a kept-alive connection; per-request ms. */
// ------------------------------------------------------------------ cold start

interface ColdRun {
  boot: number;
  import: number;
  first: number;
  warmP50: number;
  warmP99: number;
  rssMiB: number;
  spawn: number;
}

/** bench/lib/lambda-cold.mjs in a fresh node process, in a folder outside the repository. */
async function coldRun(bundle: string, coldEnv: NodeJS.ProcessEnv): Promise<ColdRun> {
  const t0 = performance.now();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, "bench", "lib", "lambda-cold.mjs"), bundle], {
      cwd: dir,
      env: coldEnv,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let text = "";
    child.stdout.on("data", (d: Buffer) => {
      text += d.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(text) : reject(new Error(`cold start run exited ${code}`)),
    );
  });
  const spawnMs = performance.now() - t0;
  return { ...JSON.parse(out.trim().split("\n").at(-1) ?? "{}"), spawn: spawnMs };
}

// ------------------------------------------------------------------ main

const pct = (x: number) => `${Math.round(x * 100)}%`;
const int = (x: number) => Math.round(x).toLocaleString("en-US");
const ms2 = (x: number | undefined) => (x === undefined ? "n/a" : x.toFixed(2));
const verdict = (ok: boolean) => (ok ? "meets" : "MISSES");

async function main(): Promise<void> {
  const url = new URL(base as string);
  url.pathname = `/lamin_bench_api_${randomBytes(4).toString("hex")}`;
  const dbUrl = url.toString();
  const storage = join(dir, "storage");
  const name = "bench-api";
  let instance: Instance | undefined;
  const servers: Server[] = [];
  try {
    const [l1, l5] = loadavg();
    console.log(
      `API benchmark: ${int(N)} artifacts on Postgres, ${CONNECTIONS} connections, ${SECONDS} s per route; ${cpus().length} CPUs, load average ${l1?.toFixed(1)} / ${l5?.toFixed(1)} (1 / 5 min)\n`,
    );
    const tInit = performance.now();
    instance = await initInstance({ storage, name, db: dbUrl });
    const initMs = performance.now() - tInit;
    const tSeed = performance.now();
    const uids = await seed(instance);
    const seedMs = performance.now() - tSeed;
    console.log(
      `instance: init ${fmtMs(initMs)}; seeded ${int(N)} artifacts in ${fmtMs(seedMs)} (${int((N / seedMs) * 1000)} rows/s: INSERTs of ${CHUNK} rows, 2 at a time, + ANALYZE)`,
    );

    const token = generateToken();
    const digest = hashToken(token);
    const auth = { authorization: `Bearer ${token}` };
    const [api, bare, bareDb] = await Promise.all([
      startServer("serve-api.ts", ["api", name], {
        LAMIN_API_TOKEN_SHA256: digest,
        ...(PROFILE ? { BENCH_CPU_PROFILE: join(dir, "api") } : {}),
      }),
      startServer("serve-api.ts", ["bare"], {}),
      startServer("serve-api.ts", ["bare-db", dbUrl], {}),
    ]);
    servers.push(api, bare, bareDb);

    // one project folder: 1,000 artifacts
    const prefix = "datasets/p042/";
    const listPath = `/artifacts?key__startswith=${encodeURIComponent(prefix)}&limit=50`;
    const counted = (await instance.db.execute(
      sql`SELECT count(*)::int AS n FROM lamindb_artifact WHERE key LIKE ${`${prefix}%`}`,
    )) as unknown as { rows: { n: number }[] };
    const prefixCount = counted.rows[0]?.n ?? 0;
    const pick = () => uids[Math.floor(Math.random() * uids.length)] as string;

    // check the answers before measuring them
    const probeUid = pick();
    const one = await fetch(`${api.url}/artifacts/${probeUid}`, { headers: auth });
    const oneBody = (await one.json()) as { uid?: string };
    if (one.status !== 200 || oneBody.uid !== probeUid) {
      throw new Error(`GET /artifacts/${probeUid}: ${one.status} ${JSON.stringify(oneBody)}`);
    }
    const page = await fetch(`${api.url}${listPath}`, { headers: auth });
    const pageBody = (await page.json()) as {
      items?: { key: string; uid: string }[];
      next_cursor?: string;
    };
    if (
      page.status !== 200 ||
      pageBody.items?.length !== 50 ||
      !pageBody.items.every((a) => a.key.startsWith(prefix)) ||
      !pageBody.next_cursor
    ) {
      throw new Error(`GET ${listPath}: ${page.status} ${JSON.stringify(pageBody).slice(0, 300)}`);
    }
    const floor = await fetch(`${bareDb.url}/list?prefix=${encodeURIComponent(prefix)}`);
    const floorBody = (await floor.json()) as { items?: { uid: string }[] };
    const sameUids = (a: { uid: string }[] = [], b: { uid: string }[] = []) =>
      a.length === b.length && a.every((x, i) => x.uid === b[i]?.uid);
    if (floor.status !== 200 || !sameUids(floorBody.items, pageBody.items)) {
      throw new Error(
        "the bare list's page differs from the API's: the floor measures another query",
      );
    }

    // ---------------------------------------------------------------- (a) load
    const randomUid = (req: { path: string }) => ({ ...req, path: `/artifacts/${pick()}` });
    const routes: Route[] = [
      { label: "bare Hono route GET /x (baseline)", url: `${bare.url}/x`, server: bare, opts: {} },
      {
        label: `GET /artifacts/{uid}, random of ${int(N)}`,
        url: api.url,
        server: api,
        opts: { headers: auth, requests: [{ setupRequest: randomUid }] },
      },
      {
        label: `GET /artifacts?key__startswith (${int(prefixCount)})&limit=50`,
        url: `${api.url}${listPath}`,
        server: api,
        opts: { headers: auth },
      },
      {
        label: "(reference) bare Hono + prepared SELECT by uid",
        url: bareDb.url,
        server: bareDb,
        opts: { requests: [{ setupRequest: (req) => ({ ...req, path: `/x/${pick()}` }) }] },
      },
      {
        label: "(reference) bare Hono + the list's 2 prepared statements",
        url: `${bareDb.url}/list?prefix=${encodeURIComponent(prefix)}`,
        server: bareDb,
        opts: {},
      },
    ];
    const warmup = Math.min(2, Math.max(1, Math.round(SECONDS / 5)));
    const measured: { result: LoadResult; cpu: CpuPerRequest }[] = [];
    for (const route of routes) {
      await load(route, warmup); // JIT, connection pool
      const pgPids = route.server === bare ? [] : await backendPids(instance);
      measured.push(await measuredLoad(route, SECONDS, pgPids));
    }
    const bareRate = measured[0]?.result.requests.average ?? Number.NaN;
    const W = [50, 8, 7, 7, 8];
    console.log();
    console.log(
      row(
        [`(a) ${CONNECTIONS} connections, ${SECONDS} s each`, "req/s", "p50", "p99", "vs bare"],
        W,
      ),
    );
    routes.forEach((route, i) => {
      const { result: r } = measured[i] as (typeof measured)[number];
      const share = i === 0 ? "100%" : pct(r.requests.average / bareRate);
      const cells = [int(r.requests.average), `${r.latency.p50} ms`, `${r.latency.p99} ms`, share];
      console.log(row([`  ${route.label}`, ...cells], W));
    });
    console.log(
      `  targets: p99 < ${TARGET_P99} ms, ≥ ${pct(TARGET_SHARE)} of the bare route's req/s`,
    );
    for (const [i, what] of [
      [1, "GET /artifacts/{uid}"],
      [2, "filtered list of 50"],
    ] as const) {
      const r = (measured[i] as (typeof measured)[number]).result;
      const share = r.requests.average / bareRate;
      console.log(
        `    ${what}: ${verdict(r.latency.p99 < TARGET_P99)} p99 (${r.latency.p99} ms), ${verdict(share >= TARGET_SHARE)} req/s share (${pct(share)})`,
      );
    }
    const W1 = [50, 8, 9, 9, 11];
    console.log();
    console.log(
      row(
        ["  CPU per request (ms, from /proc)", "server", "Postgres", "autocannon", "= ceiling"],
        W1,
      ),
    );
    routes.forEach((route, i) => {
      const { cpu } = measured[i] as (typeof measured)[number];
      const sum = (cpu.server ?? 0) + (cpu.postgres ?? 0) + cpu.loadgen;
      const ceiling = `${int((cpus().length * 1000) / sum)}/s`;
      const cells = [ms2(cpu.server), ms2(cpu.postgres), ms2(cpu.loadgen), ceiling];
      console.log(row([`    ${route.label.replace(/ \(.*/, "")}`, ...cells], W1));
    });
    console.log(
      `    ceiling: ${cpus().length} CPUs / the CPU of one request over all processes (all on this machine, shared with whatever else runs)`,
    );

    // ---------------------------------------------------------------- (a2) the same load, paced
    // In (a) each connection asks again as soon as it is answered: every route runs flat out and
    // p50 is about connections / req/s. Here a route and its floor get the same requests a
    // second, sent on schedule, in one run, alternating (a stall of the machine or of the load
    // generator hits both alike): the latency of a request when the server keeps up.
    const listRate = (measured[2] as (typeof measured)[number]).result.requests.average;
    const rate = RATE ?? Math.max(50, Math.floor(listRate / 2 / 50) * 50);
    type Paced = [label: string, server: Server, next: () => Req];
    const pairs: [Paced, Paced][] = [
      [
        ["GET /artifacts/{uid}", api, () => ({ path: `/artifacts/${pick()}`, headers: auth })],
        ["(floor) bare Hono + prepared SELECT by uid", bareDb, () => ({ path: `/x/${pick()}` })],
      ],
      [
        ["list of 50 by key__startswith", api, () => ({ path: listPath, headers: auth })],
        [
          "(floor) bare Hono + the list's 2 statements",
          bareDb,
          () => ({ path: `/list?prefix=${encodeURIComponent(prefix)}` }),
        ],
      ],
    ];
    const Wp = [50, 9, 7, 7, 8];
    console.log();
    console.log(
      row(
        [
          `(a2) ${int(rate)} req/s each, on schedule, alternating, ${SECONDS} s`,
          "answered",
          "p50",
          "p99",
          "stall",
        ],
        Wp,
      ),
    );
    const pacedP99: number[] = [];
    for (const pair of pairs) {
      let turn = 0;
      const { times, failures, stallMs } = await pacedHttp(
        api.url,
        () => {
          const [label, server, next] = pair[turn++ % 2] as Paced;
          return { ...next(), url: server.url, tag: label };
        },
        { rate: 2 * rate, seconds: SECONDS, connections: CONNECTIONS },
      );
      for (const [label] of pair) {
        const xs = times.get(label) ?? [];
        pacedP99.push(quantile(xs, 0.99));
        const failed = failures.get(label)?.text() ?? "";
        console.log(
          row(
            [
              `  ${label}`,
              int(xs.length),
              `${median(xs).toFixed(1)} ms`,
              `${quantile(xs, 0.99).toFixed(1)} ms`,
              `${stallMs.toFixed(1)} ms`,
              failed && `failed: ${failed}`,
            ],
            Wp,
          ),
        );
      }
    }
    const [uidP99 = Number.NaN, , listP99 = Number.NaN] = pacedP99;
    console.log(
      `  target p99 < ${TARGET_P99} ms at ${int(rate)} req/s: GET /artifacts/{uid} ${verdict(uidP99 < TARGET_P99)}, list ${verdict(listP99 < TARGET_P99)}. Latency from each request's scheduled time (a server that falls behind shows it); stall: the longest the load generator's own event loop was blocked (it delays sends: counted as latency); the rate is ${RATE ? "BENCH_API_RATE" : "half the list's req/s in (a), rounded down to 50; BENCH_API_RATE sets it"}`,
    );

    if (PROFILE) {
      for (const route of routes.filter((r) => r.server === api)) {
        process.kill(api.pid, "SIGUSR2");
        await api.message("profiling");
        const { result } = await measuredLoad(route, SECONDS, []);
        process.kill(api.pid, "SIGUSR2");
        const { profile } = await api.message("profile");
        printProfile(
          `CPU profile of the API server, ${route.label} (${int(result.requests.average)} req/s under the profiler)`,
          String(profile),
        );
      }
    }

    // ---------------------------------------------------------------- (b) where time goes
    const app = createApp({
      instance: () => instance as Instance,
      authorize: (tok) => tok !== undefined && tokenMatches(tok, digest),
    });
    const pool = (instance.db as unknown as { $client: import("pg").Pool }).$client;
    const inst = instance;
    const layers: [string, number[], number[]][] = [];
    const measure = async (
      label: string,
      get: () => Promise<unknown>,
      list: () => Promise<unknown>,
    ) => {
      await sequential(100, get); // warm
      await sequential(100, list);
      layers.push([label, await sequential(SEQUENTIAL, get), await sequential(SEQUENTIAL, list)]);
    };
    const inProcess = async (path: string) => {
      const res = await app.request(path, { headers: auth });
      if (res.status !== 200) throw new Error(`app.request(${path}): ${res.status}`);
      await res.text();
    };
    await measure(
      "raw SQL on the pool (pg; the list's 2 statements)",
      () => pool.query("SELECT * FROM lamindb_artifact WHERE uid = $1", [pick()]),
      async () => {
        const ids = await pool.query({
          name: "bench_list_ids",
          text: LIST_IDS,
          values: [`${prefix}%`],
        });
        const page = ids.rows.map((r: { id: number }) => r.id);
        await pool.query({ name: "bench_list_rows", text: LIST_ROWS, values: [page] });
      },
    );
    await measure(
      "instance.artifacts.get / .list (drizzle, joins)",
      () => inst.artifacts.get(pick()),
      () => inst.artifacts.list({ filter: { key__startswith: prefix }, limit: 50 }),
    );
    await measure(
      "app.request() in process (+ Hono, zod, auth, JSON)",
      () => inProcess(`/artifacts/${pick()}`),
      () => inProcess(listPath),
    );
    layers.push([
      "HTTP to the API server (+ node-server, loopback)",
      await sequentialHttp(
        api.url,
        () => ({ path: `/artifacts/${pick()}`, headers: auth }),
        SEQUENTIAL,
      ),
      await sequentialHttp(api.url, () => ({ path: listPath, headers: auth }), SEQUENTIAL),
    ]);
    const bareTimes = await sequentialHttp(bare.url, () => ({ path: "/x" }), SEQUENTIAL);
    const W2 = [52, 14, 14];
    const cell = (xs: number[]) => `${median(xs).toFixed(2)} / ${quantile(xs, 0.99).toFixed(2)}`;
    console.log();
    console.log(
      row(
        [`(b) one request at a time, ${SEQUENTIAL} each, ms p50 / p99`, "get by uid", "list of 50"],
        W2,
      ),
    );
    for (const [label, g, l] of layers) console.log(row([`  ${label}`, cell(g), cell(l)], W2));
    console.log(row(["  HTTP to the bare Hono route", cell(bareTimes), ""], W2));

    // ---------------------------------------------------------------- (c) cold start
    for (const s of servers.splice(0)) await s.stop();
    const bundle = await bundleLambda("api");
    console.log();
    console.log(
      `(c) Lambda cold start: ${bundle.outfile.replace(REPO, "")} ${(bundle.bytes / 1e6).toFixed(2)} MB (target < ${TARGET_BUNDLE / 1e6} MB: ${verdict(bundle.bytes < TARGET_BUNDLE)})`,
    );
    console.log(
      `  largest parts: ${bundle.contributions
        .slice(0, 6)
        .map((c) => `${c.owner} ${int(c.bytes / 1024)} KiB`)
        .join(", ")}`,
    );
    const coldEnv = {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: dbUrl,
      LAMIN_INSTANCE: `${instance.settings.owner}/${name}`,
      LAMIN_STORAGE_ROOT: storage,
      LAMIN_API_TOKEN_SHA256: digest,
      BENCH_TOKEN: token,
      BENCH_UIDS: Array.from({ length: 200 }, pick).join(","),
      BENCH_WARM: "200",
    };
    const runs: ColdRun[] = [];
    for (let i = 0; i < COLD_RUNS; i++) runs.push(await coldRun(bundle.outfile, coldEnv));
    const med = (f: (r: ColdRun) => number) => median(runs.map(f));
    const range = (f: (r: ColdRun) => number) => {
      const xs = runs.map(f);
      return `${fmtMs(med(f))} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
    };
    const first = med((r) => r.import + r.first);
    console.log(`  fresh node processes, ${COLD_RUNS} runs: median (min-max)`);
    console.log(`    node start to the script's first line        ${range((r) => r.boot)}`);
    console.log(`    import of the bundle                         ${range((r) => r.import)}`);
    console.log(
      `    first answer, GET /artifacts/{uid}            ${range((r) => r.first)}  (opens the pool, looks up the instance, queries)`,
    );
    console.log(
      `    import + first answer                        ${range((r) => r.import + r.first)}  target < ${TARGET_FIRST} ms: ${verdict(first < TARGET_FIRST)}`,
    );
    console.log(
      `    warm answer, median of 200 (p99)             ${med((r) => r.warmP50).toFixed(2)} ms (${med((r) => r.warmP99).toFixed(2)} ms)`,
    );
    console.log(
      `    whole process (spawn to exit, 201 answers)   ${range((r) => r.spawn)}; RSS ${med((r) => r.rssMiB).toFixed(0)} MiB`,
    );
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    await instance?.close().catch(() => {});
    await dropDatabase(dbUrl).catch((e: unknown) =>
      console.error(`could not drop ${url.pathname.slice(1)}: ${(e as Error).message}`),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
