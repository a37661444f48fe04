/**
 * The deployed functions' benchmark: `npm run bench -- lambda` (or `npx tsx bench/lambda.ts`).
 *
 * A deployed stage (sst.config.ts) run locally, as test/stage.test.ts runs it: Postgres through
 * Neon's serverless driver and a WebSocket-to-TCP proxy, S3 from moto_server, SST's links as
 * `SST_RESOURCE_<Name>` JSON. For each function, `hub` (the API), `ingest` and `reconcile`
 * (worker payload), bundled as scripts/bundle-lambda.mjs bundles it:
 * - bundle size and its largest parts (target for the API: < 1.5 MB);
 * - cold: COLD_RUNS fresh `node` processes (bench/lib/lambda-run.mjs, outside the repository,
 *   `@aws-sdk/*` from NODE_PATH as the Lambda runtime provides it) each import the bundle and
 *   handle one event (target for the API: import + first event < 300 ms);
 * - warm: then more events in the same process, per-event p50 / p99 over all processes (target
 *   for the API: p50 < 10 ms), every answer checked;
 * - the proxy's WebSocket connections opened by the first event and by the warm events.
 * Baselines of the same run: `node -e 0`, a bundle of a bare Hono route behind `hono/aws-lambda`
 * (cold and warm, the same runner), and a warm `SELECT 1` through `pg` and through the Neon driver
 * and the proxy.
 *
 * Postgres: DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres; the run creates
 * its own databases and drops them at the end (also when it fails). moto_server: found as
 * test/servers/moto.ts finds it (MOTO_SERVER). BENCH_NODE_ARGS adds node flags to the fresh
 * processes, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where a cold start goes.
 * Targets print `met` or `MISSED`; the run exits non-zero only when something does not work.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { build } from "esbuild";
import pg from "pg";
import {
  bundleLambda,
  LAMBDA_BUILD_OPTIONS,
  type LambdaBundle,
} from "../scripts/bundle-lambda.mjs";
import { functionUrlEvent, stageLinks } from "../test/lambda-events.js";
import { findMoto, MOTO_CREDENTIALS, type Moto, startMoto } from "../test/servers/moto.js";
import { startWsProxy, type WsProxy } from "../test/servers/ws-proxy.js";
import { fmtMs, laminEnv, median, quantile, REPO } from "./lib/common.js";

const COLD_RUNS = 5;
const WARM_API = 200; // per process and route
const WARM_INGEST_REPLAY = 200; // per process
const NEW_OBJECTS = 20; // per process: 100 distinct new objects over the 5 processes
const WARM_RECONCILE = 10; // per process
const BASELINE_QUERIES = 500;
const TARGET_BUNDLE = 1.5e6; // bytes
const TARGET_COLD = 300; // ms, import + first event
const TARGET_WARM = 10; // ms, API p50
const CHILD_TIMEOUT = 90_000; // ms, per fresh process

const base = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const moto = findMoto();
if (!moto) {
  console.error(
    "error: bench/lambda needs moto_server (S3 for the functions), and it was not found\n" +
      "hint: pip install 'moto[server]', or set MOTO_SERVER=/path/to/moto_server",
  );
  process.exit(1);
}
await probePostgres(base);

// Our own settings folder, before core is loaded: the benchmark never touches the user's instances.
const dir = mkdtempSync(join(tmpdir(), "lamin-lambda-bench-"));
const env = laminEnv(join(dir, "home"));
process.env.LAMIN_HOME = env.LAMIN_HOME;
process.env.LAMIN_CACHE_DIR = env.LAMIN_CACHE_DIR;
delete process.env.LAMIN_INSTANCE;
delete process.env.LAMIN_DB_DRIVER; // this process reaches Postgres over TCP; the functions do not
// provisioning writes the instance's marker to moto
Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
  AWS_REGION: "us-east-1",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
});

const { dropDatabase } = await import("../core/db/postgres.js");
const { openHub } = await import("../core/hub/open.js");
const { composeHubApp, stageProvisioner, stageStorage } = await import(
  "../functions/hub/compose.js"
);
const { openRecordedInstance } = await import("../core/hub/instances.js");
const { configureNeon } = await import("../core/db/neon.js");

/** A clear error, before anything starts, when Postgres cannot be reached. */
async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    console.error(
      `error: bench/lambda needs Postgres, and ${redact(url)} answered: ${(error as Error).message}\n` +
        "hint: start Postgres, or set DATABASE_URL=postgresql://user@host:5432/postgres",
    );
    process.exit(1);
  } finally {
    await client.end().catch(() => {});
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "DATABASE_URL";
  }
}

const withDatabase = (name: string) => {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
};

// ------------------------------------------------------------------ events

const BUCKET = "lamindb-bench-storage";
let sequence = 0n;
const sequencerBase = BigInt(Date.now()) * 1_000_000n;
/** S3's per-key ordering token: hex, increasing over the run. */
const nextSequencer = () => (sequencerBase + sequence++).toString(16).toUpperCase();
/** S3 notifications URL-encode keys (`+` for spaces, `/` kept). */
const encodeKey = (key: string) =>
  encodeURIComponent(key).replace(/%20/g, "+").replace(/%2F/gi, "/");

/** An SQS message holding an S3 notification of one created object, as Lambda receives it. */
function sqsRecord(key: string, size: number, etag: string) {
  const now = new Date();
  const body = {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: now.toISOString(),
        eventName: "ObjectCreated:Put",
        userIdentity: { principalId: "AWS:AIDAEXAMPLE" },
        requestParameters: { sourceIPAddress: "198.51.100.23" },
        responseElements: {
          "x-amz-request-id": randomBytes(8).toString("hex").toUpperCase(),
          "x-amz-id-2": randomBytes(32).toString("base64"),
        },
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "lamindb-ingest",
          bucket: {
            name: BUCKET,
            ownerIdentity: { principalId: "A3NL1KOZZKExample" },
            arn: `arn:aws:s3:::${BUCKET}`,
          },
          object: { key: encodeKey(key), size, eTag: etag, sequencer: nextSequencer() },
        },
      },
    ],
  };
  const text = JSON.stringify(body);
  const sent = String(now.getTime());
  return {
    messageId: randomUUID(),
    receiptHandle: randomBytes(48).toString("base64"),
    body: text,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: sent,
      SenderId: "AIDAEXAMPLE",
      ApproximateFirstReceiveTimestamp: sent,
    },
    messageAttributes: {},
    md5OfBody: createHash("md5").update(text).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${BUCKET}-events`,
    awsRegion: "us-east-1",
  };
}

const sqsEvent = (records: ReturnType<typeof sqsRecord>[]) => ({ Records: records });

/** A Function URL GET with the account's key. */
const urlEvent = (path: string, rawQueryString: string, token: string) =>
  functionUrlEvent({ method: "GET", path, rawQueryString, token });

// ------------------------------------------------------------------ fresh processes

interface Phase {
  label: string;
  events: unknown[];
  count?: number;
  actions?: string[];
}
interface Plan {
  first: unknown;
  firstActions?: string[];
  phases: Phase[];
}
interface RunResult {
  boot: number;
  import: number;
  first: number;
  firstAnswer: Record<string, unknown>;
  phases: { label: string; times: number[] }[];
  connections: { afterFirst?: number; afterWarm?: number };
  rssMiB: number;
  /** Proxy connections before the process started (read here). */
  connectionsBefore: number;
}

const RUNNER = join(REPO, "bench", "lib", "lambda-run.mjs");
/** BENCH_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: to see where a cold start goes. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);

/** bench/lib/lambda-run.mjs in a fresh node, in a folder outside the repository. */
async function freshRun(
  label: string,
  bundle: string,
  plan: Plan,
  childEnv: NodeJS.ProcessEnv,
  proxy: WsProxy,
): Promise<RunResult> {
  const file = join(dir, `events-${label}-${randomBytes(3).toString("hex")}.json`);
  writeFileSync(file, JSON.stringify(plan));
  const connectionsBefore = proxy.connections();
  const { code, signal, stdout, stderr } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, RUNNER, bundle, file], {
      cwd: join(dir, "cwd"),
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: CHILD_TIMEOUT,
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err = (err + d.toString()).slice(-6000);
    });
    child.once("error", reject);
    child.once("close", (c, s) => resolve({ code: c, signal: s, stdout: out, stderr: err }));
  });
  if (code !== 0) {
    const why = signal
      ? `was killed (${signal}, timeout ${CHILD_TIMEOUT / 1000} s?)`
      : `exited ${code}`;
    throw new Error(`${label}: the fresh process ${why}\n${stderr.trim()}`);
  }
  const last = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return { ...(JSON.parse(last) as Omit<RunResult, "connectionsBefore">), connectionsBefore };
  } catch {
    throw new Error(`${label}: no timings from the fresh process: ${stdout.slice(-500)}`);
  }
}

async function coldRuns(
  label: string,
  bundle: string,
  plans: Plan[],
  childEnv: NodeJS.ProcessEnv,
  proxy: WsProxy,
): Promise<RunResult[]> {
  const runs: RunResult[] = [];
  for (const plan of plans) runs.push(await freshRun(label, bundle, plan, childEnv, proxy));
  return runs;
}

// ------------------------------------------------------------------ printing

const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
const kib = (bytes: number) => `${Math.round(bytes / 1024).toLocaleString("en-US")} KiB`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const ms2 = (x: number) => `${x.toFixed(2)} ms`;
/** A line of a table: label, figure (right-aligned), then a note such as a verdict. */
const line = (label: string, value: string, note = "") =>
  `${label.padEnd(50)} ${value.padStart(22)}${note ? `   ${note}` : ""}`.trimEnd();

function range(xs: number[]): string {
  const digits = Math.max(...xs) < 10 ? 1 : 0;
  return `${fmtMs(median(xs))} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
}

/** Every process's times of a phase, together. */
const pooled = (runs: RunResult[], label: string) =>
  runs.flatMap((r) => r.phases.find((p) => p.label === label)?.times ?? []);

const p50p99 = (xs: number[]) => `${median(xs).toFixed(2)} / ${quantile(xs, 0.99).toFixed(2)} ms`;

function printBundle(b: LambdaBundle, target?: number): void {
  console.log(
    line(
      "  bundle",
      mb(b.bytes),
      target ? `target < ${target / 1e6} MB: ${verdict(b.bytes < target)}` : "",
    ),
  );
  console.log(
    `    largest parts: ${b.contributions
      .slice(0, 6)
      .map((c) => `${c.owner} ${kib(c.bytes)}`)
      .join(", ")}`,
  );
}

function printCold(runs: RunResult[], firstLabel: string, target?: number): number {
  const cold = runs.map((r) => r.import + r.first);
  console.log(line(`  cold, ${runs.length} fresh processes`, "median (min–max)"));
  console.log(line("    node boot (process start to the runner)", range(runs.map((r) => r.boot))));
  console.log(line("    import of the bundle", range(runs.map((r) => r.import))));
  console.log(line(`    first event: ${firstLabel}`, range(runs.map((r) => r.first))));
  console.log(
    line(
      "    import + first event",
      range(cold),
      target ? `target < ${target} ms: ${verdict(median(cold) < target)}` : "",
    ),
  );
  return median(cold);
}

function printWarm(
  runs: RunResult[],
  phases: { label: string; shown: string; target?: number }[],
): void {
  console.log(line("  warm, per event (all processes)", "p50 / p99 (events)"));
  for (const { label, shown, target } of phases) {
    const xs = pooled(runs, label);
    console.log(
      line(
        `    ${shown}`,
        `${p50p99(xs)} (${xs.length})`,
        target ? `target p50 < ${target} ms: ${verdict(median(xs) < target)}` : "",
      ),
    );
  }
}

function printConnections(runs: RunResult[]): void {
  const first = runs.map((r) => (r.connections.afterFirst ?? Number.NaN) - r.connectionsBefore);
  const warm = runs.map(
    (r) => (r.connections.afterWarm ?? Number.NaN) - (r.connections.afterFirst ?? Number.NaN),
  );
  const events = runs[0]?.phases.reduce((n, p) => n + p.times.length, 0) ?? 0;
  const list = (xs: number[]) => xs.map((x) => (Number.isNaN(x) ? "?" : String(x))).join(", ");
  console.log(
    `  proxy WebSocket connections opened per process: by the first event ${list(first)}; by the ${events} warm events ${list(warm)}`,
  );
  console.log(`  RSS at the end: ${median(runs.map((r) => r.rssMiB)).toFixed(0)} MiB (median)`);
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const run = randomBytes(3).toString("hex");
  const OWNER = `bench${run}`;
  const NAME = "lab";
  const slug = `${OWNER}/${NAME}`;
  const hubUrl = withDatabase(`lamin_bench_lambda_hub_${run}`);
  mkdirSync(join(dir, "cwd"));
  let proxy: WsProxy | undefined;
  let aws: Moto | undefined;
  let stats: ReturnType<typeof createServer> | undefined;
  let admin: Awaited<ReturnType<typeof openHub>> | undefined;
  let parentApp: ReturnType<typeof composeHubApp> | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const [l1, l5] = loadavg();
    console.log(
      `Lambda functions of a deployed stage: Postgres ${redact(base).replace(/\/[^/]*$/, "")} through the Neon driver and a WebSocket proxy, S3 from moto_server; ${COLD_RUNS} fresh processes per function; node ${process.version}, ${cpus().length} CPUs, load average ${l1?.toFixed(1)} / ${l5?.toFixed(1)} (1 / 5 min)\n`,
    );

    // ---------------------------------------------------------------- the stage
    const tSetup = performance.now();
    proxy = await startWsProxy();
    const wsProxy = proxy;
    stats = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ connections: wsProxy.connections() }));
    });
    const statsServer = stats;
    await new Promise<void>((resolve) => statsServer.listen(0, "127.0.0.1", resolve));
    const statsUrl = `http://127.0.0.1:${(stats.address() as AddressInfo).port}/`;
    aws = await startMoto(moto as string);
    const s3 = aws.s3;
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

    admin = await openHub(hubUrl, {});
    await admin.hub.createAccount(OWNER);
    const key = (await admin.hub.createKey(OWNER)).key;
    const config = { databaseUrl: hubUrl, bucket: BUCKET, storageEndpoint: aws.endpoint };
    parentApp = composeHubApp(admin.hub, {
      provisioner: stageProvisioner(config),
      // this process lists the artifacts over TCP; its instances are closed at the end
      openInstance: async (record) => {
        const instance = await openRecordedInstance(record);
        closers.push(() => instance.close());
        return instance;
      },
      storage: stageStorage(config),
    });
    const app = parentApp;
    const auth = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const created = await app.request("/instances", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ owner: OWNER, name: NAME }),
    });
    if (created.status !== 201) {
      throw new Error(`POST /instances: ${created.status} ${await created.text()}`);
    }

    // objects for the ingest runs: one for each cold event, NEW_OBJECTS distinct ones per process
    const put = async (objectKey: string) => {
      const body = `gene,count\n${objectKey},${randomBytes(8).toString("hex")}\n`;
      const answer = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: objectKey, Body: body }),
      );
      return sqsRecord(objectKey, Buffer.byteLength(body), answer.ETag ?? "");
    };
    const coldRecords: ReturnType<typeof sqsRecord>[] = [];
    const newRecords: ReturnType<typeof sqsRecord>[][] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      coldRecords.push(await put(`${OWNER}/${NAME}/cold/run-${i}.csv`));
      const keys = Array.from(
        { length: NEW_OBJECTS },
        (_, j) => `${OWNER}/${NAME}/new/run-${i}/sample-${String(j).padStart(3, "0")}.csv`,
      );
      const records: ReturnType<typeof sqsRecord>[] = [];
      for (let j = 0; j < keys.length; j += 10) {
        records.push(...(await Promise.all(keys.slice(j, j + 10).map(put))));
      }
      newRecords.push(records);
    }

    const outRoot = join(dir, "bundles");
    const [hubBundle, ingestBundle, reconcileBundle] = [
      await bundleLambda("hub", { outRoot }),
      await bundleLambda("ingest", { outRoot }),
      await bundleLambda("reconcile", { outRoot }),
    ];
    const bare = await bareHonoBundle(join(outRoot, "bare-hono", "index.mjs"));
    // The Lambda runtime provides @aws-sdk/*. NODE_PATH serves require() only; an ESM import
    // (the reconcile function's @aws-sdk/client-lambda) resolves from a node_modules folder
    // above the bundle, so one holds the SDK alone.
    mkdirSync(join(outRoot, "node_modules"));
    symlinkSync(join(REPO, "node_modules", "@aws-sdk"), join(outRoot, "node_modules", "@aws-sdk"));
    console.log(
      `setup: proxy, moto, hub database, instance ${slug} provisioned by POST /instances, ${COLD_RUNS * (NEW_OBJECTS + 1)} objects put, 3 bundles + a bare one built in ${fmtMs(performance.now() - tSetup)}\n`,
    );

    // what Lambda passes the functions (infra/), and what stands in for AWS and Neon here
    const childEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? "",
      HOME: join(dir, "home"),
      TZ: "UTC",
      NODE_PATH: join(REPO, "node_modules"), // the Lambda runtime provides @aws-sdk/*
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_REGION: "us-east-1",
      LAMIN_DB_DRIVER: "neon",
      LAMIN_STAGE: "bench",
      LAMIN_NEON_WS_PROXY: proxy.address,
      LAMIN_STORAGE_ENDPOINT: aws.endpoint,
      ...stageLinks({
        stage: "bench",
        databaseUrl: hubUrl,
        bucket: BUCKET,
        reconcileWorker: "lamindb-bench-ReconcileWorkerFunction",
      }),
      BENCH_PROXY_STATS: statsUrl,
    };

    // ---------------------------------------------------------------- baselines
    const nodeStart: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ["-e", "0"], { cwd: join(dir, "cwd"), env: childEnv });
      if (r.status !== 0) throw new Error(`node -e 0 exited ${r.status}`);
      nodeStart.push(performance.now() - t0);
    }
    const bareEvent = urlEvent("/x", "", key);
    const bareRuns = await coldRuns(
      "bare",
      bare.outfile,
      Array.from({ length: COLD_RUNS }, () => ({
        first: bareEvent,
        phases: [{ label: "GET /x", events: [bareEvent], count: 1000 }],
      })),
      childEnv,
      proxy,
    );
    const neonPool = new (await configureNeon({ LAMIN_NEON_WS_PROXY: proxy.address })).Pool({
      connectionString: hubUrl,
      max: 1,
    });
    closers.push(() => neonPool.end());
    const pgPool = new pg.Pool({ connectionString: hubUrl, max: 1 });
    closers.push(() => pgPool.end());
    const selectOne = async (pool: { query(text: string): Promise<unknown> }) => {
      for (let i = 0; i < 20; i++) await pool.query("SELECT 1");
      const times: number[] = [];
      for (let i = 0; i < BASELINE_QUERIES; i++) {
        const t0 = performance.now();
        await pool.query("SELECT 1");
        times.push(performance.now() - t0);
      }
      return times;
    };
    const pgTimes = await selectOne(pgPool);
    const neonTimes = await selectOne(neonPool);
    const bareCold = bareRuns.map((r) => r.import + r.first);
    const bareWarm = pooled(bareRuns, "GET /x");
    console.log("baselines (this run)");
    console.log(line("  node -e 0, spawn to exit", range(nodeStart)));
    console.log(line("  node boot, process start to a script", range(bareRuns.map((r) => r.boot))));
    console.log(
      `  bare Hono route (hono/aws-lambda handle(), GET /x), bundled the same way, ${kib(statSync(bare.outfile).size)}:`,
    );
    console.log(line("    import of the bundle", range(bareRuns.map((r) => r.import))));
    console.log(
      line(
        "    first event",
        range(bareRuns.map((r) => r.first)),
        "mostly node loading the fetch classes (undici) on first use",
      ),
    );
    console.log(line("    import + first event", range(bareCold)));
    console.log(line("    warm, p50 / p99 (events)", `${p50p99(bareWarm)} (${bareWarm.length})`));
    console.log(line("  SELECT 1, warm round trip, p50 / p99", ""));
    console.log(line("    pg over TCP", p50p99(pgTimes)));
    console.log(line("    Neon driver through the WebSocket proxy", p50p99(neonTimes)));
    const over = (cold: number, warm?: number) =>
      `  over the bare Hono bundle: import + first event +${fmtMs(cold - median(bareCold))}${
        warm === undefined
          ? ""
          : `; warm p50 +${ms2(warm - median(bareWarm))} (= ${((warm - median(bareWarm)) / median(neonTimes)).toFixed(1)} Neon SELECT 1 round trips)`
      }`;

    // ---------------------------------------------------------------- ingest (first: it makes the artifacts)
    const ingestRuns = await coldRuns(
      "ingest",
      ingestBundle.outfile,
      coldRecords.map((record, i) => ({
        first: sqsEvent([record]),
        firstActions: ["created"],
        phases: [
          {
            label: "new",
            events: (newRecords[i] ?? []).map((r) => sqsEvent([r])),
            actions: ["created"],
          },
          {
            label: "replay",
            events: [sqsEvent([record])],
            count: WARM_INGEST_REPLAY,
            actions: ["duplicate"],
          },
        ],
      })),
      childEnv,
      proxy,
    );

    // ---------------------------------------------------------------- hub (API)
    const listed = await app.request(`/instances/${slug}/artifacts?limit=1000`, { headers: auth });
    if (listed.status !== 200) throw new Error(`listing artifacts: ${listed.status}`);
    const uids = ((await listed.json()) as { items: { uid: string }[] }).items.map((a) => a.uid);
    const expected = COLD_RUNS * (NEW_OBJECTS + 1);
    if (uids.length !== expected) {
      throw new Error(`the ingest runs made ${uids.length} artifacts, not ${expected}`);
    }
    const getPath = (uid: string) => `/instances/${slug}/artifacts/${uid}`;
    const listPath = `/instances/${slug}/artifacts`;
    const hubRuns = await coldRuns(
      "hub",
      hubBundle.outfile,
      Array.from({ length: COLD_RUNS }, (_, i) => ({
        first: urlEvent(getPath(uids[i] as string), "", key),
        phases: [
          {
            label: "get",
            events: uids.map((uid) => urlEvent(getPath(uid), "", key)),
            count: WARM_API,
          },
          { label: "list", events: [urlEvent(listPath, "limit=20", key)], count: WARM_API },
        ],
      })),
      childEnv,
      proxy,
    );

    // ---------------------------------------------------------------- reconcile worker
    const payload = { instance: slug };
    const reconcileRuns = await coldRuns(
      "reconcile",
      reconcileBundle.outfile,
      Array.from({ length: COLD_RUNS }, () => ({
        first: payload,
        phases: [{ label: "warm", events: [payload], count: WARM_RECONCILE }],
      })),
      childEnv,
      proxy,
    );

    // ---------------------------------------------------------------- report
    console.log(`\nhub (API): Function URL events to the hub and ${slug}'s API`);
    printBundle(hubBundle, TARGET_BUNDLE);
    const hubCold = printCold(hubRuns, "GET .../artifacts/{uid}", TARGET_COLD);
    printWarm(hubRuns, [
      { label: "get", shown: "GET /instances/{o}/{n}/artifacts/{uid}", target: TARGET_WARM },
      { label: "list", shown: "GET /instances/{o}/{n}/artifacts?limit=20" },
    ]);
    printConnections(hubRuns);
    console.log(over(hubCold, median(pooled(hubRuns, "get"))));
    console.log(
      "  (first event: opens the hub database over the Neon driver, checks the key, opens the instance's database and storage, reads)",
    );

    console.log("\ningest: SQS batches of 1 S3 notification (ObjectCreated:Put)");
    printBundle(ingestBundle);
    const ingestCold = printCold(ingestRuns, "a new object");
    printWarm(ingestRuns, [
      { label: "new", shown: `a new object (${NEW_OBJECTS} per process)` },
      { label: "replay", shown: "the first event again (duplicate)" },
    ]);
    printConnections(ingestRuns);
    console.log(over(ingestCold));
    console.log(
      "  (a new object: routes it to the instance by the hub, HEADs it in S3, registers the artifact)",
    );

    const summary = reconcileRuns[0]?.firstAnswer.summary as Record<string, number> | undefined;
    console.log(
      `\nreconcile worker: { "instance": "${slug}" } on ${uids.length} artifacts (first answer: ${Object.entries(
        summary ?? {},
      )
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")})`,
    );
    printBundle(reconcileBundle);
    const reconcileCold = printCold(reconcileRuns, "a reconcile");
    printWarm(reconcileRuns, [{ label: "warm", shown: "a reconcile" }]);
    printConnections(reconcileRuns);
    console.log(over(reconcileCold));

    console.log(
      "\nnotes: every answer was checked (HTTP 200; no batch item failures, `created` / `duplicate` logged per record; `reconciled`). The bundles' `@aws-sdk/*` came from the repository's node_modules, as the Lambda runtime provides it (loading it is part of the figures).",
    );
    const apiWarm = median(pooled(hubRuns, "get"));
    console.log(
      `\ntargets: API bundle ${mb(hubBundle.bytes)} < 1.5 MB ${verdict(hubBundle.bytes < TARGET_BUNDLE)}; API cold import + first ${fmtMs(hubCold)} < ${TARGET_COLD} ms ${verdict(hubCold < TARGET_COLD)}; API warm p50 ${ms2(apiWarm)} < ${TARGET_WARM} ms ${verdict(apiWarm < TARGET_WARM)}`,
    );
  } finally {
    for (const close of closers) await close().catch(() => {});
    await admin?.close().catch(() => {});
    await dropAll(hubUrl, OWNER);
    await aws?.close().catch(() => {});
    await proxy?.close().catch(() => {});
    const s = stats;
    if (s) await new Promise((resolve) => s.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Drop the hub database and every database provisioned for this run's owner (theirs alone). */
async function dropAll(hubUrl: string, owner: string): Promise<void> {
  const names: string[] = [];
  const client = new pg.Client({ connectionString: base });
  try {
    await client.connect();
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE $1",
      [`lamin\\_${owner}\\_%`],
    );
    names.push(...rows.map((r) => r.datname));
  } catch (error) {
    console.error(`could not list this run's databases: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
  for (const url of [...names.map(withDatabase), hubUrl]) {
    await dropDatabase(url).catch((e: unknown) =>
      console.error(`could not drop ${new URL(url).pathname.slice(1)}: ${(e as Error).message}`),
    );
  }
}

/** A bundle of a bare Hono route behind hono/aws-lambda, built like the functions' bundles. */
async function bareHonoBundle(outfile: string): Promise<{ outfile: string }> {
  await build({
    absWorkingDir: REPO,
    stdin: {
      contents: [
        'import { Hono } from "hono";',
        'import { handle } from "hono/aws-lambda";',
        'export const handler = handle(new Hono().get("/x", (c) => c.json({ ok: true })));',
      ].join("\n"),
      resolveDir: REPO,
      loader: "js",
    },
    outfile,
    ...LAMBDA_BUILD_OPTIONS,
    logLevel: "warning",
  });
  return { outfile };
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
