import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { fmtMs, laminEnv, median, quantile, row, Tally } from "./lib/common.js";
import { cpuSince, machineBusy, snapshot } from "./lib/cpu.js";
import {
  pacedHttp,
  type Req,
  type Server,
  sequential,
  sequentialHttp,
  startServer,
} from "./lib/http.js";
import { type PostgresCluster, startPostgresCluster } from "./lib/postgres-cluster.js";
import { printProfile } from "./lib/profile.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;
const ACCOUNTS = 100;
const KEYS_PER_ACCOUNT = 10;
const INSTANCES = 100;
const COLLABORATORS = ["read", "write", "admin"] as const; // accounts i+1, i+2, i+3 on instance i
/**
 * Who sends the hub's requests: 0 the owner, 1-3 the collaborators above. BENCH_HUB_CALLERS=
 * unrestricted keeps the owner and the admin: no request runs in a spaces transaction (the read
 * and write collaborators' requests do: BEGIN with the grants, the query, COMMIT; docs/spaces.md).
 */
const CALLERS = process.env.BENCH_HUB_CALLERS === "unrestricted" ? [0, 3] : [0, 1, 2, 3];
const MICRO = 1000;
const SEQUENTIAL = 1000;
const TARGET_P50 = 2; // ms the hub may add
/**
 * (e) the open-loop runs' rates, each the same for lamin serve and the server it is paired with:
 * BENCH_HUB_RATE req/s each (a comma-separated list), or by default a quarter and a half of what
 * the hub answered over all instances under load (rounded down to 50).
 */
const RATES = process.env.BENCH_HUB_RATE?.split(",").map(Number);
/**
 * Instances of the first hub run, all in use in turn: a set that fits the hub's connection cap
 * (a connection kept for each). The second run takes all of them in turn: with the cap below
 * their number, a request finds its instance's connection closed for another's and opens one.
 */
const HOT = Number(process.env.BENCH_HOT_INSTANCES ?? 30);
/** BENCH_PROFILE=1: the V8 CPU profiler in the hub server during each hub run; where it spent its CPU. */
const PROFILE = process.env.BENCH_PROFILE === "1";
/**
 * Where the hub and its instances live. "private" (the default): a Postgres server started for
 * the benchmark, sized for its 100 instances as an operator would size one (max_connections
 * below, the hub's cap half of it: room for a connection to every instance and the hub's own).
 * "shared": DATABASE_URL's server as it is, which may have too few connections for them.
 */
const PG = process.env.BENCH_PG ?? "private";
const PRIVATE_MAX_CONNECTIONS = 300;
/** The hub's own pool on its database (openPostgres's default size): kept, counted in the cap. */
const HUB_POOL = 4;

const base = process.env.DATABASE_URL;
if (!base) {
  console.log(
    "bench/hub needs a Postgres server (the hub and its instances live on Postgres): skipped.\n" +
      "Run it with DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench -- hub",
  );
  process.exit(0);
}
if (!(SECONDS > 0)) throw new Error("BENCH_SECONDS must be > 0");
if (RATES?.some((r) => !(r > 0)))
  throw new Error(
    "BENCH_HUB_RATE must be one or more rates > 0 (requests a second), comma-separated",
  );
if (PG !== "private" && PG !== "shared") {
  throw new Error(
    `BENCH_PG is '${PG}': use 'private' (the default: a Postgres server of the benchmark's own) or 'shared' (DATABASE_URL's server)`,
  );
}

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
  statusCodeStats?: Record<string, { count: number }>;
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

/** A load run: its failed requests are counted in the result and shown in the report. */
const load = (opts: LoadOptions): Promise<LoadResult> => autocannon(opts);

/** The requests of a run that failed, e.g. "60 timeouts, 12 × HTTP 503"; "" when none did. */
function failures(r: LoadResult): string {
  const parts: string[] = [];
  if (r.timeouts > 0) parts.push(`${int(r.timeouts)} timeouts`);
  if (r.errors > r.timeouts) parts.push(`${int(r.errors - r.timeouts)} errors`); // errors count timeouts
  for (const [code, { count }] of Object.entries(r.statusCodeStats ?? {})) {
    if (!code.startsWith("2")) parts.push(`${int(count)} × HTTP ${code}`);
  }
  if (parts.length === 0 && r.non2xx > 0) parts.push(`${int(r.non2xx)} non-2xx`);
  return parts.join(", ");
}

/** The failures of a warm-up and of its measured run, for the end of a report row. */
function failureCell(runs: [string, LoadResult][]): string {
  return runs
    .map(([what, r]) => [what, failures(r)] as const)
    .filter(([, f]) => f !== "")
    .map(([what, f]) => `${what}: ${f}`)
    .join("; ");
}

// ------------------------------------------------------------------ servers

/** The server the benchmark runs on, and why that one. */
async function chooseServer(): Promise<{ url: string; what: string; cluster?: PostgresCluster }> {
  const shared = base as string;
  if (PG === "shared") return { url: shared, what: "DATABASE_URL's server (BENCH_PG=shared)" };
  try {
    const cluster = await startPostgresCluster({ maxConnections: PRIVATE_MAX_CONNECTIONS });
    return { url: cluster.url, what: cluster.description, cluster };
  } catch (e) {
    const why = (e as Error).message;
    console.log(
      `Could not start a private Postgres server for the benchmark (${why}): running on DATABASE_URL's server instead.\n`,
    );
    return { url: shared, what: "DATABASE_URL's server (a private one could not be started)" };
  }
}

// ------------------------------------------------------------------ main

const int = (x: number) => Math.round(x).toLocaleString("en-US");
const ms2 = (x: number) => `${x.toFixed(2)} ms`;
const pad3 = (i: number) => String(i).padStart(3, "0");
const handleOf = (a: number) => `u${pad3(a % ACCOUNTS)}`;
const nameOf = (i: number) => `i${pad3(i)}`;

async function main(): Promise<void> {
  const servers: Server[] = [];
  // on an interrupted run (the private server's SIGINT/SIGTERM handler exits): no server left behind
  const onExit = () => {
    for (const s of servers) {
      try {
        process.kill(s.pid, "SIGTERM");
      } catch {} // exited already
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);
  const server = await chooseServer();
  // set before the hub's first connection (its budget reads it then), in this process and the hub server's
  const capSet = server.cluster !== undefined && !process.env.LAMIN_HUB_MAX_CONNECTIONS;
  if (capSet) {
    process.env.LAMIN_HUB_MAX_CONNECTIONS = String(Math.floor(PRIVATE_MAX_CONNECTIONS / 2));
  }
  const prefix = `lamin_bench_hub_${randomBytes(4).toString("hex")}`;
  const dbUrl = (database: string) => {
    const u = new URL(server.url);
    u.pathname = `/${database}`;
    return u.toString();
  };
  const hubDb = `${prefix}_hub`;
  const instanceDbs = Array.from({ length: INSTANCES }, (_, i) => `${prefix}_${nameOf(i)}`);
  const admin = new pg.Client({ connectionString: dbUrl("postgres") });
  let connected = false;
  let hub: Awaited<ReturnType<typeof openHub>> | undefined;
  try {
    await admin.connect();
    connected = true;
    const [l1, l5] = loadavg();
    console.log(
      `Hub benchmark: ${INSTANCES} instances (a Postgres database each), ${ACCOUNTS} accounts × ${KEYS_PER_ACCOUNT} keys, ${CONNECTIONS} connections, ${SECONDS} s per run, callers ${CALLERS.length === 4 ? "the owner and 3 collaborators (read, write, admin)" : "the owner and an admin"}; ${cpus().length} CPUs, load average ${l1?.toFixed(1)} / ${l5?.toFixed(1)} (1 / 5 min)`,
    );
    console.log(`Postgres: ${server.what}\n`);

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
      const who = CALLERS[Math.floor(j / k) % CALLERS.length] as number;
      const key = Math.floor(j / (k * CALLERS.length)) % KEYS_PER_ACCOUNT;
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
      await micro("hub.authenticateFor(key, owner, name)", async (j) => {
        const i = j % INSTANCES;
        const a = (i + (j % 4)) % ACCOUNTS; // the owner or a collaborator
        const key = (keys[a] as string[])[Math.floor(j / INSTANCES) % KEYS_PER_ACCOUNT] as string;
        const r = await h.authenticateFor(key, "127.0.0.1", handleOf(i), nameOf(i));
        check("account" in r ? r.access : undefined, "authenticateFor");
      }),
    ];
    console.log(
      `\n(a) the hub's own queries, in this process, one call at a time, ${MICRO} calls after ${MICRO} warm ones: p50 / p99`,
    );
    for (const [label, xs] of micros) {
      console.log(`  ${label.padEnd(40)} ${ms2(median(xs))} / ${ms2(quantile(xs, 0.99))}`);
    }
    console.log(
      "  (a request to an instance's API through the hub makes the third: the key, the role and the database URL in one round trip; the hub's own routes make authenticate)",
    );
    await hub.close();
    hub = undefined;

    // ---------------------------------------------------------------- the connections there are
    const settings = await admin.query(
      "SELECT current_setting('max_connections')::int AS max, (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS used",
    );
    const { max, used } = settings.rows[0] as { max: number; used: number };
    const capEnv = process.env.LAMIN_HUB_MAX_CONNECTIONS;
    const hubCap = Number(capEnv ?? Math.max(2, Math.floor(max / 2)));
    const capWhy = capSet
      ? "set by the benchmark to half of max_connections, what the hub takes when it is unset"
      : capEnv
        ? "as given"
        : "unset: half of max_connections";
    const fits =
      hubCap >= INSTANCES + HUB_POOL
        ? `room for a connection to each of the ${INSTANCES} instances and the hub's own`
        : `fewer than a connection to each of the ${INSTANCES} instances and the hub's own: over all ${INSTANCES} in turn, a request may find its instance's connection closed for another's`;
    console.log(
      `\nPostgres: max_connections ${max}, ${used} in use before the runs; the hub shares at most ${hubCap} among itself and its ${INSTANCES} instances (LAMIN_HUB_MAX_CONNECTIONS ${capWhy}; ${fits})`,
    );
    /** The most connections `application_name LIKE pattern` held, sampled every 20 ms. */
    const watchConnections = (pattern: string) => {
      let most = 0;
      let running = true;
      const loop = (async () => {
        while (running) {
          const { rows } = await admin.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1",
            [pattern],
          );
          most = Math.max(most, (rows[0] as { n: number }).n);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      return async () => {
        running = false;
        await loop;
        return most;
      };
    };

    /** The Postgres backends of this benchmark's databases, if Postgres runs on this machine. */
    const backends = async (): Promise<number[]> => {
      if (!["127.0.0.1", "localhost", "[::1]"].includes(new URL(server.url).hostname)) return [];
      const { rows } = await admin.query("SELECT pid FROM pg_stat_activity WHERE datname LIKE $1", [
        `${prefix}%`,
      ]);
      return rows.map((r: { pid: number }) => r.pid);
    };
    /**
     * A load run and the CPU each of its requests cost: the server process, and the Postgres
     * backends of our databases alive at its start and end (one opened during the run is missed).
     */
    const withCpu = async (pid: number, run: () => Promise<LoadResult>) => {
      const server0 = snapshot([pid]);
      const postgres0 = snapshot(await backends());
      const result = await run();
      const n = result.requests.total;
      const cpu = {
        server: (cpuSince(server0) ?? Number.NaN) / n,
        postgres: (cpuSince(postgres0) ?? Number.NaN) / n,
      };
      return { result, cpu };
    };

    // ---------------------------------------------------------------- (b) baselines
    const bare = await startServer("serve-api.ts", ["bare"], {});
    servers.push(bare);
    const bareWarm = await load({ url: `${bare.url}/x`, connections: CONNECTIONS, amount: 2000 });
    const bareRun = await load({
      url: `${bare.url}/x`,
      connections: CONNECTIONS,
      duration: SECONDS,
    });
    const bareSeq = await sequentialHttp(bare.url, () => ({ path: "/x" }), SEQUENTIAL);
    await bare.stop();
    servers.splice(servers.indexOf(bare), 1);

    const token = generateToken();
    const auth = { authorization: `Bearer ${token}` };
    const plainReq = (): Req => ({ path: `/artifacts/${uid}`, headers: auth });
    const startServe = async () => {
      const s = await startServer("serve-api.ts", ["api", "hub-bench"], {
        LAMIN_API_TOKEN_SHA256: hashToken(token),
      });
      servers.push(s);
      return s;
    };
    const stop = async (s: Server) => {
      await s.stop();
      servers.splice(servers.indexOf(s), 1);
    };
    const api = await startServe();
    const probe = await fetch(`${api.url}/artifacts/${uid}`, { headers: auth });
    const probeBody = (await probe.json()) as { uid?: string };
    if (probe.status !== 200 || probeBody.uid !== uid) {
      throw new Error(`lamin serve: GET /artifacts/${uid}: ${probe.status}`);
    }
    const plainWarm = await load({
      url: `${api.url}/artifacts/${uid}`,
      connections: CONNECTIONS,
      amount: 2000,
      headers: auth,
    });
    const { result: plain, cpu: plainCpu } = await withCpu(api.pid, () =>
      load({
        url: `${api.url}/artifacts/${uid}`,
        connections: CONNECTIONS,
        duration: SECONDS,
        headers: auth,
      }),
    );
    const plainSeq = await sequentialHttp(api.url, plainReq, SEQUENTIAL);
    await stop(api);

    // ---------------------------------------------------------------- (c) through the hub
    const hubServer = await startServer(
      "serve-hub.ts",
      [dbUrl(hubDb)],
      PROFILE ? { BENCH_CPU_PROFILE: join(dir, "hub") } : {},
    );
    servers.push(hubServer);
    const hubReq = (j: number, k: number): Req => {
      const r = requestOf(j, k);
      return {
        path: `/instances/${handleOf(r.instance)}/${nameOf(r.instance)}/artifacts/${uid}`,
        headers: { authorization: `Bearer ${r.key}` },
      };
    };
    const first = hubReq(0, INSTANCES);
    const hubProbe = await fetch(`${hubServer.url}${first.path}`, { headers: first.headers });
    const hubProbeBody = (await hubProbe.json()) as { uid?: string };
    if (hubProbe.status !== 200 || hubProbeBody.uid !== uid) {
      throw new Error(`hub: GET ${first.path}: ${hubProbe.status} ${JSON.stringify(hubProbeBody)}`);
    }
    /**
     * Every key marked used just now: the hub writes last_used_at at most once a minute per key,
     * and such writes must not fall in a measured run (called before each).
     */
    const freshKeys = async () => {
      const hubClient = new pg.Client({ connectionString: dbUrl(hubDb) });
      await hubClient.connect();
      await hubClient.query("UPDATE hub_api_key SET last_used_at = now()");
      await hubClient.end();
    };
    /**
     * Requests before a measured run over `k` instances: each caller of each instance twice (to
     * open them), and at least as many as lamin serve's warm-up, so that V8 has compiled the
     * server's hot paths before either is measured.
     */
    const warmRequests = (k: number) => Math.max(2000, k * CALLERS.length * 2);
    /**
     * A run over the first `k` instances in turn, each request from one of the accounts with
     * access (owner or collaborator) and one of its keys; after a warm-up that opens them.
     */
    const hubRun = async (k: number) => {
      let counter = 0;
      const rotating = () => [
        { setupRequest: (req: Req): Req => ({ ...req, ...hubReq(counter++, k) }) },
      ];
      await freshKeys();
      process.kill(hubServer.pid, "SIGUSR2");
      const before = Number((await hubServer.message("opened")).opened);
      const watch = watchConnections(`lamin hub ${hubServer.pid}`);
      const tWarm = performance.now();
      const warmAmount = warmRequests(k);
      const warm = await load({
        url: hubServer.url,
        connections: CONNECTIONS,
        amount: warmAmount,
        requests: rotating(),
      });
      const warmMs = performance.now() - tWarm;
      counter = 0;
      const { result, cpu } = await withCpu(hubServer.pid, () =>
        load({
          url: hubServer.url,
          connections: CONNECTIONS,
          duration: SECONDS,
          requests: rotating(),
        }),
      );
      let seq = 0;
      // after a run with timeouts, requests still waiting in the hub may make these fail too
      const seqFailures = new Tally();
      const xs = await sequentialHttp(
        hubServer.url,
        () => hubReq(seq++, k),
        SEQUENTIAL,
        (what) => seqFailures.add(what),
      );
      const most = await watch();
      process.kill(hubServer.pid, "SIGUSR2");
      const after = await hubServer.message("opened");
      const opened = Number(after.opened) - before;
      if (after.profile) {
        printProfile(
          `CPU profile of the hub server, ${k} instances in turn (warm-up, load and one at a time)`,
          String(after.profile),
        );
      }
      return {
        warm,
        result,
        cpu,
        xs,
        seqFailures: seqFailures.text(),
        most,
        warmMs,
        opened,
        requests: warmAmount + result.requests.total + SEQUENTIAL,
      };
    };
    const hot = Math.min(INSTANCES, HOT);
    const hotRun = await hubRun(hot);
    const allRun = await hubRun(INSTANCES);
    process.kill(hubServer.pid, "SIGUSR2");
    const { open, rss, heapUsed } = await hubServer.message("open");
    const mib = (bytes: unknown) => `${int(Number(bytes) / 2 ** 20)} MiB`;

    // ---------------------------------------------------------------- (c) the hub's floor
    // the least a hub can do while checking the key on every request (bench/lib/serve-hub-floor.ts)
    const floor = await startServer("serve-hub-floor.ts", [dbUrl(hubDb)], {});
    servers.push(floor);
    const floorProbe = await fetch(`${floor.url}${first.path}`, { headers: first.headers });
    if (floorProbe.status !== 200) {
      throw new Error(`hub floor: GET ${first.path}: ${floorProbe.status}`);
    }
    let floorCount = 0;
    const floorRequests = () => [
      { setupRequest: (req: Req): Req => ({ ...req, ...hubReq(floorCount++, INSTANCES) }) },
    ];
    const floorWarm = await load({
      url: floor.url,
      connections: CONNECTIONS,
      amount: warmRequests(INSTANCES),
      requests: floorRequests(),
    });
    floorCount = 0;
    await freshKeys();
    const { result: floorRun, cpu: floorCpu } = await withCpu(floor.pid, () =>
      load({
        url: floor.url,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: floorRequests(),
      }),
    );

    // ---------------------------------------------------------------- (e) the same load, paced
    // Under (c)'s load each connection sends its next request as soon as the last is answered:
    // the servers run flat out and p50 is about connections / req/s, a measure of throughput.
    // Here lamin serve and one other server get the same requests a second, below what either
    // answers, sent on schedule, in one run, alternating: a stall of the machine or of the load
    // generator hits both alike. By default at a quarter and at a half of what the hub answered
    // flat out, each.
    const hubRate = allRun.result.requests.average;
    const rates = RATES ?? [4, 2].map((d) => Math.max(50, Math.floor(hubRate / d / 50) * 50));
    const serveAgain = await startServe();
    await load({
      url: `${serveAgain.url}/artifacts/${uid}`,
      connections: CONNECTIONS,
      amount: 2000,
      headers: auth,
    });
    /** One paced run: lamin serve and `other` alternating, `rate` req/s each. */
    const pacedPair = async (other: Server, label: string, rate: number) => {
      let n = 0;
      await freshKeys();
      const busy = machineBusy();
      const { times, failures, stallMs } = await pacedHttp(
        other.url,
        () =>
          n++ % 2 === 0
            ? { ...hubReq(n >> 1, INSTANCES), tag: "other" }
            : { ...plainReq(), url: serveAgain.url, tag: "serve" },
        { rate: 2 * rate, seconds: SECONDS, connections: CONNECTIONS },
      );
      return {
        label,
        rate,
        serve: times.get("serve") ?? [],
        other: times.get("other") ?? [],
        failed: [...failures].map(([tag, t]) => `${tag}: ${t.text()}`).join("; "),
        stallMs,
        busy: busy(),
        gc: "",
      };
    };
    const paced: Awaited<ReturnType<typeof pacedPair>>[] = [];
    for (const rate of rates) {
      process.kill(hubServer.pid, "SIGUSR2"); // its garbage collection counts from here
      await hubServer.message("gcMs");
      const hubPair = await pacedPair(hubServer, `hub, all ${INSTANCES} in turn`, rate);
      process.kill(hubServer.pid, "SIGUSR2");
      const gc = await hubServer.message("gcMs");
      hubPair.gc = `hub GC ${int(Number(gc.gcMs))} ms, longest pause ${ms2(Number(gc.gcMaxMs))} (${gc.gcMajor} major); inside the hub p50/p99/max ${ms2(Number(gc.insideP50))}/${ms2(Number(gc.insideP99))}/${ms2(Number(gc.insideMax))}, its event loop's delay p99/max ${ms2(Number(gc.loopDelayP99))}/${ms2(Number(gc.loopDelayMax))}`;
      paced.push(hubPair, await pacedPair(floor, `hub floor, all ${INSTANCES} in turn`, rate));
    }
    await stop(hubServer);
    await stop(floor);
    await stop(serveAgain);

    // ---------------------------------------------------------------- report
    const [m1, m5] = loadavg();
    console.log(
      `\n${open} instances open in the hub at the end (its memory: RSS ${mib(rss)}, JS heap ${mib(heapUsed)}); load average now ${m1?.toFixed(1)} / ${m5?.toFixed(1)}`,
    );
    const W = [66, 9, 9, 9, 7, 20];
    console.log();
    console.log(
      row(
        [
          `(b, c) under load: ${CONNECTIONS} connections, ${SECONDS} s`,
          "req/s",
          "p50 ms",
          "p99 ms",
          "conns",
          "CPU: server + pg",
        ],
        W,
      ),
    );
    const line = (
      label: string,
      r: LoadResult,
      conns: string,
      cpu: { server: number; postgres: number } | undefined,
      failed: string,
    ) =>
      console.log(
        row(
          [
            `  ${label}`,
            int(r.requests.average),
            r.latency.p50.toFixed(2),
            r.latency.p99.toFixed(2),
            conns,
            cpu === undefined ? "" : `${cpu.server.toFixed(2)} + ${cpu.postgres.toFixed(2)} ms`,
            failed,
          ],
          W,
        ),
      );
    const failedOf = (warm: LoadResult, run: LoadResult) =>
      failureCell([
        ["warm-up", warm],
        ["run", run],
      ]);
    const bareFailed = failedOf(bareWarm, bareRun);
    const plainFailed = failedOf(plainWarm, plain);
    const hotFailed = failedOf(hotRun.warm, hotRun.result);
    const allFailed = failedOf(allRun.warm, allRun.result);
    const floorFailed = failedOf(floorWarm, floorRun);
    line("bare Hono route: GET /x", bareRun, "0", undefined, bareFailed);
    line(
      "lamin serve: GET /artifacts/{uid} (one instance, its token)",
      plain,
      "<= 4",
      plainCpu,
      plainFailed,
    );
    line(
      `hub: GET /instances/{o}/{n}/artifacts/{uid}, ${hot} instances in turn`,
      hotRun.result,
      String(hotRun.most),
      hotRun.cpu,
      hotFailed,
    );
    line(
      `hub: GET /instances/{o}/{n}/artifacts/{uid}, all ${INSTANCES} in turn`,
      allRun.result,
      String(allRun.most),
      allRun.cpu,
      allFailed,
    );
    line(
      `hub floor: the hub's key check + a prepared SELECT, all ${INSTANCES} in turn`,
      floorRun,
      "",
      floorCpu,
      floorFailed,
    );
    const verdict = (ok: boolean) => (ok ? "met" : "missed");
    for (const [label, run] of [
      [`hub, ${hot} instances`, hotRun],
      [`hub, all ${INSTANCES}`, allRun],
      [`hub floor, all ${INSTANCES}`, { result: floorRun, opened: undefined, requests: 0 }],
    ] as const) {
      const d = run.result.latency.p50 - plain.latency.p50;
      const ratio = run.result.latency.p99 / plain.latency.p99;
      const failed = failures(run.result);
      const opened =
        run.opened === undefined
          ? ""
          : `; ${int(run.opened)} connections opened for ${int(run.requests)} requests (warm-up and one at a time included)`;
      console.log(
        `  ${label}: adds ${ms2(d)} at p50 (target < ${TARGET_P50} ms: ${verdict(d < TARGET_P50)}); p99 ${ratio.toFixed(2)}x lamin serve's (target <= 2x: ${verdict(ratio <= 2)}); ${((run.result.requests.average / plain.requests.average) * 100).toFixed(0)}% of its req/s${opened}${failed ? `; failed in the run: ${failed} (missing from p50 and p99)` : ""}`,
      );
    }
    if ([bareFailed, plainFailed, hotFailed, allFailed, floorFailed].some((f) => f !== "")) {
      console.log(
        "  after CPU: the requests that failed, in the warm-up and in the run: no answer within autocannon's 10 s (timeouts), other errors, or an answer other than 2xx. p50 and p99 are of the 2xx answers; req/s counts every answer",
      );
    }
    console.log(
      `  conns: the most connections of the server process seen in pg_stat_activity (every 20 ms); the hub's cap ${hubCap}. CPU: user + system CPU per request (/proc) of the server process and of the Postgres backends of the run's databases (those open at its start and end: a lower bound when connections are opened during the run)`,
    );
    console.log();
    console.log(row([`(d) one request at a time, ${SEQUENTIAL} each`, "", "p50 ms", "p99 ms"], W));
    for (const [label, xs, failed] of [
      ["bare Hono route: GET /x", bareSeq, ""],
      ["lamin serve: GET /artifacts/{uid}", plainSeq, ""],
      [`hub: ${hot} instances in turn`, hotRun.xs, hotRun.seqFailures],
      [`hub: all ${INSTANCES} in turn`, allRun.xs, allRun.seqFailures],
    ] as const) {
      const ms = (f: (xs: number[]) => number) => (xs.length > 0 ? f(xs).toFixed(2) : "-");
      const q99 = (v: number[]) => quantile(v, 0.99);
      console.log(row([`  ${label}`, "", ms(median), ms(q99), failed && `failed: ${failed}`], W));
    }
    const seqDiff = median(hotRun.xs) - median(plainSeq);
    console.log(
      `  hub (${hot} instances) adds ${ms2(seqDiff)} at p50 (target < ${TARGET_P50} ms: ${verdict(seqDiff < TARGET_P50)})`,
    );

    console.log();
    const WE = [44, 9, 15, 15, 9, 9, 7];
    console.log(
      row(
        [
          `(e) on schedule: lamin serve and one other, alternating, ${SECONDS} s`,
          "answered",
          "p50/p99 ms",
          "serve's",
          "adds p50",
          "p99 ÷",
          "busy",
        ],
        WE,
      ),
    );
    for (const p of paced) {
      const d = median(p.other) - median(p.serve);
      const ratio = quantile(p.other, 0.99) / quantile(p.serve, 0.99);
      const pair = (xs: number[]) => `${median(xs).toFixed(2)}/${quantile(xs, 0.99).toFixed(2)}`;
      console.log(
        row(
          [
            `  ${int(p.rate)} req/s each: ${p.label}`,
            int(p.other.length),
            pair(p.other),
            pair(p.serve),
            `${d.toFixed(2)} ${verdict(d < TARGET_P50)}`,
            `${ratio.toFixed(2)}x ${verdict(ratio <= 2)}`,
            `${Math.round(p.busy * 100)}%`,
            [`stall ${ms2(p.stallMs)}`, p.gc, p.failed && `failed: ${p.failed}`]
              .filter(Boolean)
              .join("; "),
          ],
          [...WE, 0],
        ),
      );
    }
    console.log(
      `  targets: adds < ${TARGET_P50} ms at p50, p99 <= 2x lamin serve's. Latency counts from each request's scheduled time (a server that falls behind shows it); the rates are ${RATES ? "BENCH_HUB_RATE's" : "a quarter and a half of the hub's req/s over all instances in (c), each, rounded down to 50; BENCH_HUB_RATE sets them (a comma-separated list)"}. busy: the machine's CPU in use during the run (load generator, servers and Postgres together, /proc/stat); stall: the load generator's longest event-loop stall. Under (c)'s load every connection sends again as soon as it is answered: the servers run flat out and p50 is about ${CONNECTIONS} / req/s, so (c) compares throughput and (e) the time a server adds to a request. The hub floor does the least any hub that checks the key on every request can: the hub's key check, then one prepared SELECT on the instance's database (no space policies, no registry)`,
    );
  } finally {
    for (const s of servers.splice(0)) await s.stop().catch(() => {});
    await hub?.close().catch(() => {});
    // a private server goes whole, its databases with it
    for (const database of server.cluster || !connected ? [] : [hubDb, ...instanceDbs]) {
      await admin
        .query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
        .catch((e: unknown) =>
          console.error(`could not drop ${database}: ${(e as Error).message}`),
        );
    }
    if (connected) await admin.end().catch(() => {});
    server.cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
    process.off("exit", onExit);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
