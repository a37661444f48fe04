import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { fmtMs, laminEnv, median, quantile, row } from "./lib/common.js";
import { type Req, type Server, sequential, sequentialHttp, startServer } from "./lib/http.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;
const ACCOUNTS = 100;
const KEYS_PER_ACCOUNT = 10;
const INSTANCES = 100;
const COLLABORATORS = ["read", "write", "admin"] as const; // accounts i+1, i+2, i+3 on instance i
const POOL_MAX = 4; // connections of each instance's pool in the hub (openRecordedInstance)
const MARGIN = 3; // connections left free for anything else
const MICRO = 1000;
const SEQUENTIAL = 1000;
const TARGET_P50 = 2; // ms the hub may add

const base = process.env.DATABASE_URL;
if (!base) {
  console.log(
    "bench/hub needs a Postgres server (the hub and its instances live on Postgres): skipped.\n" +
      "Run it with DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench -- hub",
  );
  process.exit(0);
}
if (!(SECONDS > 0)) throw new Error("BENCH_SECONDS must be > 0");

// Our own settings folder, before core is loaded: the benchmark never touches the user's instances.
const dir = mkdtempSync(join(tmpdir(), "lamin-hub-bench-"));
const env = laminEnv(join(dir, "home"));
process.env.LAMIN_HOME = env.LAMIN_HOME;
process.env.LAMIN_CACHE_DIR = env.LAMIN_CACHE_DIR;
delete process.env.LAMIN_INSTANCE;

const { initInstance } = await import("../core/setup.js");
const { openHub } = await import("../core/hub/open.js");
const { generateToken, hashToken } = await import("../core/auth.js");

// ------------------------------------------------------------------ autocannon (no typings)

interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface LoadOptions {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  headers?: Record<string, string>;
  requests?: { setupRequest?: (req: Req) => Req }[];
}
const autocannon = createRequire(import.meta.url)("autocannon") as (
  opts: LoadOptions,
) => Promise<LoadResult>;

async function load(label: string, opts: LoadOptions): Promise<LoadResult> {
  const result = await autocannon(opts);
  const bad = result.errors + result.timeouts + result.non2xx;
  if (bad > 0) {
    throw new Error(
      `${label}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return result;
}

// ------------------------------------------------------------------ servers

// ------------------------------------------------------------------ main

const int = (x: number) => Math.round(x).toLocaleString("en-US");
const ms2 = (x: number) => `${x.toFixed(2)} ms`;
const pad3 = (i: number) => String(i).padStart(3, "0");
const handleOf = (a: number) => `u${pad3(a % ACCOUNTS)}`;
const nameOf = (i: number) => `i${pad3(i)}`;

async function main(): Promise<void> {
  const prefix = `lamin_bench_hub_${randomBytes(4).toString("hex")}`;
  const dbUrl = (database: string) => {
    const u = new URL(base as string);
    u.pathname = `/${database}`;
    return u.toString();
  };
  const hubDb = `${prefix}_hub`;
  const instanceDbs = Array.from({ length: INSTANCES }, (_, i) => `${prefix}_${nameOf(i)}`);
  const admin = new pg.Client({ connectionString: dbUrl("postgres") });
  await admin.connect();
  let hub: Awaited<ReturnType<typeof openHub>> | undefined;
  const servers: Server[] = [];
  try {
    const [l1, l5] = loadavg();
    console.log(
      `Hub benchmark: ${INSTANCES} instances (a Postgres database each), ${ACCOUNTS} accounts × ${KEYS_PER_ACCOUNT} keys, ${CONNECTIONS} connections, ${SECONDS} s per run; ${cpus().length} CPUs, load average ${l1?.toFixed(1)} / ${l5?.toFixed(1)} (1 / 5 min)\n`,
    );

    // ---------------------------------------------------------------- setup
    let t0 = performance.now();
    hub = await openHub(dbUrl(hubDb));
    const h = hub.hub;
    const keys: string[][] = [];
    for (let a = 0; a < ACCOUNTS; a++) {
      await h.createAccount(handleOf(a));
      const mine: string[] = [];
      for (let k = 0; k < KEYS_PER_ACCOUNT; k++) {
        mine.push((await h.createKey(handleOf(a), { name: `key ${k}` })).key);
      }
      keys.push(mine);
    }
    const hubMs = performance.now() - t0;

    t0 = performance.now();
    const storageOf = (i: number) => join(dir, "storage", nameOf(i));
    const template = await initInstance({
      storage: storageOf(0),
      name: "hub-bench",
      db: dbUrl(instanceDbs[0] as string),
    });
    writeFileSync(join(dir, "sample.csv"), "a,b\n1,2\n");
    const { artifact } = await template.artifacts.save(join(dir, "sample.csv"), {
      key: "bench/sample.csv",
    });
    const uid = artifact.uid;
    await template.close();
    const templateMs = performance.now() - t0;

    t0 = performance.now();
    for (const database of instanceDbs.slice(1)) {
      await admin.query(`CREATE DATABASE "${database}" TEMPLATE "${instanceDbs[0]}"`);
    }
    const copyMs = performance.now() - t0;

    t0 = performance.now();
    for (let i = 0; i < INSTANCES; i++) {
      mkdirSync(storageOf(i), { recursive: true });
      await h.recordInstance({
        owner: handleOf(i),
        name: nameOf(i),
        storageRoot: storageOf(i),
        dbUrl: dbUrl(instanceDbs[i] as string),
      });
    }
    for (let i = 0; i < INSTANCES; i++) {
      for (const [c, role] of COLLABORATORS.entries()) {
        await h.setCollaborator(handleOf(i), nameOf(i), handleOf(i + c + 1), role);
      }
    }
    const recordMs = performance.now() - t0;
    console.log(
      `setup: hub database, ${ACCOUNTS} accounts and ${int(ACCOUNTS * KEYS_PER_ACCOUNT)} keys ${fmtMs(hubMs)}; template instance (initInstance + 1 artifact) ${fmtMs(templateMs)}; ${INSTANCES - 1} copies by CREATE DATABASE ... TEMPLATE ${fmtMs(copyMs)}; ${INSTANCES} instance records + ${INSTANCES * COLLABORATORS.length} collaborators ${fmtMs(recordMs)}`,
    );

    // ---------------------------------------------------------------- who asks for what
    /** Request j: instance j % K; its owner or one of its collaborators; one of their keys. */
    const requestOf = (j: number, k: number): { instance: number; key: string } => {
      const instance = j % k;
      const who = Math.floor(j / k) % (COLLABORATORS.length + 1);
      const key = Math.floor(j / (k * (COLLABORATORS.length + 1))) % KEYS_PER_ACCOUNT;
      return {
        instance,
        key: (keys[(instance + who) % ACCOUNTS] as string[])[key] as string,
      };
    };

    // ---------------------------------------------------------------- (a) the hub alone, in process
    const micro = async (label: string, fn: (j: number) => Promise<unknown>) => {
      let j = 0;
      await sequential(MICRO, () => fn(j++)); // warm: every key once, so last_used_at is fresh
      const xs = await sequential(MICRO, () => fn(j++));
      return [label, xs] as const;
    };
    const check = <T>(v: T | undefined, what: string): T => {
      if (v === undefined) throw new Error(`${what} failed`);
      return v;
    };
    const micros = [
      await micro("hub.authenticate(key)", async (j) => {
        const r = await h.authenticate(
          (keys[j % ACCOUNTS] as string[])[Math.floor(j / ACCOUNTS) % KEYS_PER_ACCOUNT] as string,
          "127.0.0.1",
        );
        check("account" in r ? r : undefined, "authenticate");
      }),
      await micro("hub.access(handle, owner, name)", async (j) => {
        const i = j % INSTANCES;
        check(await h.access(handleOf(i + (j % 4)), handleOf(i), nameOf(i)), "access");
      }),
    ];
    console.log(
      `\n(a) the hub's own queries, in this process, one call at a time, ${MICRO} calls after ${MICRO} warm ones: p50 / p99`,
    );
    for (const [label, xs] of micros) {
      console.log(`  ${label.padEnd(36)} ${ms2(median(xs))} / ${ms2(quantile(xs, 0.99))}`);
    }
    console.log(
      "  (a request through the hub makes both: authenticate, then access for the role and the database URL)",
    );
    await hub.close();
    hub = undefined;

    // ---------------------------------------------------------------- the connections there are
    const settings = await admin.query(
      "SELECT current_setting('max_connections')::int AS max, (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS used",
    );
    const { max, used } = settings.rows[0] as { max: number; used: number };
    // the hub server's own pool (4) and, in the baseline run, the plain API's pool (4), not at once
    const room = max - used - POOL_MAX - MARGIN;
    const rotation = Math.max(1, Math.min(INSTANCES, room));
    const cap = Math.max(1, Math.min(POOL_MAX, Math.floor(room / INSTANCES)));
    console.log(
      `\nPostgres: max_connections ${max}, ${used} in use; the hub needs ${POOL_MAX} for itself + ${POOL_MAX} per open instance (${INSTANCES * POOL_MAX + POOL_MAX} for all ${INSTANCES})`,
    );
    if (cap < POOL_MAX || rotation < INSTANCES) {
      console.log(
        `  note: capping each instance's pool at ${cap} connection${cap > 1 ? "s" : ""}${rotation < INSTANCES ? `, and the load rotates over ${rotation} of the ${INSTANCES} instances (all ${INSTANCES} are in the hub): one connection each for all would exceed max_connections` : ""}`,
      );
    }

    // ---------------------------------------------------------------- (b) baseline: lamin serve
    const token = generateToken();
    const auth = { authorization: `Bearer ${token}` };
    const plainReq = (): Req => ({ path: `/artifacts/${uid}`, headers: auth });
    const api = await startServer("serve-api.ts", ["api", "hub-bench"], {
      LAMIN_API_TOKEN_SHA256: hashToken(token),
    });
    servers.push(api);
    const probe = await fetch(`${api.url}/artifacts/${uid}`, { headers: auth });
    const probeBody = (await probe.json()) as { uid?: string };
    if (probe.status !== 200 || probeBody.uid !== uid) {
      throw new Error(`lamin serve: GET /artifacts/${uid}: ${probe.status}`);
    }
    await load("lamin serve warm-up", {
      url: `${api.url}/artifacts/${uid}`,
      connections: CONNECTIONS,
      amount: 2000,
      headers: auth,
    });
    const plain = await load("lamin serve", {
      url: `${api.url}/artifacts/${uid}`,
      connections: CONNECTIONS,
      duration: SECONDS,
      headers: auth,
    });
    const plainSeq = await sequentialHttp(api.url, plainReq, SEQUENTIAL);
    await api.stop();
    servers.splice(servers.indexOf(api), 1);

    // ---------------------------------------------------------------- (c) through the hub
    const hubServer = await startServer("serve-hub.ts", [dbUrl(hubDb)], {
      BENCH_INSTANCE_POOL_MAX: String(cap),
      // keep every instance of the rotation open: the figure is auth + routing, not reopening
      LAMIN_HUB_MAX_OPEN_INSTANCES: String(rotation),
    });
    servers.push(hubServer);
    const hubReq = (j: number): Req => {
      const r = requestOf(j, rotation);
      return {
        path: `/instances/${handleOf(r.instance)}/${nameOf(r.instance)}/artifacts/${uid}`,
        headers: { authorization: `Bearer ${r.key}` },
      };
    };
    const first = hubReq(0);
    const hubProbe = await fetch(`${hubServer.url}${first.path}`, { headers: first.headers });
    const hubProbeBody = (await hubProbe.json()) as { uid?: string };
    if (hubProbe.status !== 200 || hubProbeBody.uid !== uid) {
      throw new Error(`hub: GET ${first.path}: ${hubProbe.status} ${JSON.stringify(hubProbeBody)}`);
    }
    let counter = 0;
    const rotating = () => [
      { setupRequest: (req: Req): Req => ({ ...req, ...hubReq(counter++) }) },
    ];
    // warm-up: every instance in the rotation opened, every pair of account and instance, and
    // every key of those accounts once (so that last_used_at is fresh)
    const warmAmount = rotation * (COLLABORATORS.length + 1) * KEYS_PER_ACCOUNT;
    const tWarm = performance.now();
    await load("hub warm-up", {
      url: hubServer.url,
      connections: CONNECTIONS,
      amount: warmAmount,
      requests: rotating(),
    });
    const warmMs = performance.now() - tWarm;
    process.kill(hubServer.pid, "SIGUSR2");
    const { open } = await hubServer.message("open");
    counter = 0;
    const viaHub = await load("hub", {
      url: hubServer.url,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: rotating(),
    });
    let seq = 0;
    const hubSeq = await sequentialHttp(hubServer.url, () => hubReq(seq++), SEQUENTIAL);
    const { rows: conns } = await admin.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE $1",
      [`${prefix}%`],
    );
    await hubServer.stop();
    servers.splice(servers.indexOf(hubServer), 1);

    // ---------------------------------------------------------------- report
    console.log(
      `\nwarm-up through the hub: ${int(warmAmount)} requests in ${fmtMs(warmMs)}; ${open} instances open in the hub's pool; ${(conns[0] as { n: number }).n} connections to the benchmark's databases after the run`,
    );
    const W = [64, 9, 9, 9];
    console.log();
    console.log(
      row(
        [
          `(b, c) under load: ${CONNECTIONS} connections, ${SECONDS} s`,
          "req/s",
          "p50 ms",
          "p99 ms",
        ],
        W,
      ),
    );
    const line = (label: string, r: LoadResult) =>
      console.log(
        row(
          [
            `  ${label}`,
            int(r.requests.average),
            r.latency.p50.toFixed(2),
            r.latency.p99.toFixed(2),
          ],
          W,
        ),
      );
    line("lamin serve: GET /artifacts/{uid} (one instance, its token)", plain);
    line(`hub: GET /instances/{owner}/{name}/artifacts/{uid} (${rotation} inst.)`, viaHub);
    const loadDiff = viaHub.latency.p50 - plain.latency.p50;
    const seqDiff = median(hubSeq) - median(plainSeq);
    const verdict = (d: number) => (d < TARGET_P50 ? "met" : "missed");
    console.log(
      `  hub: ${((viaHub.requests.average / plain.requests.average) * 100).toFixed(0)}% of lamin serve's req/s; p99 ${viaHub.latency.p99} ms vs ${plain.latency.p99} ms`,
    );
    console.log(
      `  hub auth + routing at p50: ${ms2(loadDiff)} (target < ${TARGET_P50} ms: ${verdict(loadDiff)})`,
    );
    console.log();
    console.log(row([`(d) one request at a time, ${SEQUENTIAL} each`, "", "p50 ms", "p99 ms"], W));
    for (const [label, xs] of [
      ["lamin serve: GET /artifacts/{uid}", plainSeq],
      ["hub: GET /instances/{owner}/{name}/artifacts/{uid}", hubSeq],
    ] as const) {
      console.log(row([`  ${label}`, "", median(xs).toFixed(2), quantile(xs, 0.99).toFixed(2)], W));
    }
    console.log(
      `  hub auth + routing at p50: ${ms2(seqDiff)} (target < ${TARGET_P50} ms: ${verdict(seqDiff)})`,
    );
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    await hub?.close().catch(() => {});
    for (const database of [hubDb, ...instanceDbs]) {
      await admin
        .query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
        .catch((e: unknown) =>
          console.error(`could not drop ${database}: ${(e as Error).message}`),
        );
    }
    await admin.end().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
