/**
 * Ingest benchmark: `npm run bench -- ingest` (or `npx tsx bench/ingest.ts`).
 *
 * An instance whose storage is `s3://bench/data` on s3rver (an S3 server in this process), its
 * database on Postgres when DATABASE_URL is set (a database of its own, dropped), else PGlite.
 *
 * (a) 1,000 objects of 1 KiB, uploaded 32 at a time; s3rver's notifications are wrapped as SQS
 *     messages (keys URL-encoded as AWS does) and given to the ingest handler's `sqsBatch`, batch
 *     after batch: events/s, next to 1,000 single-row INSERTs on the same kind of connection and
 *     1,000 HeadObject requests (the handler HEADs each object). Target: ≥ 200 events/s.
 *     The GCS path in the same run: a second instance, `gs://bench/data` on the GCS server of the
 *     tests (test/servers/fake-gcs.ts, in this process), 1,000 objects uploaded with the SDK,
 *     their Pub/Sub push bodies POSTed to the API's /events/gcs (in process, as many in flight
 *     as Pub/Sub would push: 10), next to 1,000 metadata GETs (the route reads each object's).
 * (b) One object of 1 GiB (multipart, 64 MiB parts): the bytes read from storage to register it
 *     (at most 100 MiB, else the run fails) and the time, next to a GET of the whole object, an
 *     `md5sum` of the local file and a local `hashFile`.
 *
 * Everything lives in a temporary folder (settings, s3rver's files, the big file), removed at the
 * end. Timings are printed, never asserted; the run fails only when something does not work.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import pg from "pg";
import S3rver from "s3rver";
import type { Instance } from "../core/index.js";
import { mapLimit } from "../core/util/concurrency.js";
import { type PubSubPush, startFakeGcs } from "../test/servers/fake-gcs.js";
import { fmtMs, fmtRate, laminEnv, median, quantile, row, timed } from "./lib/common.js";

const N = 1000;
const NS = N.toLocaleString("en-US");
const SMALL = 1024;
const UPLOAD_CONCURRENCY = 32;
const TARGET = 200; // events/s, from the issue
const BUCKET = "bench";
const PREFIX = "data";
const MiB = 1024 * 1024;
const BIG = 1024 * MiB;
const BIG_PART = 64 * MiB;
const MAX_READ = 100 * MiB; // the most registering the 1 GiB object may read
const W = [56, 10, 10, 18];

// Our own settings folder and S3 credentials, before core is loaded.
const dir = mkdtempSync(join(tmpdir(), "lamin-ingest-bench-"));
const env = laminEnv(join(dir, "home"));
process.env.LAMIN_HOME = env.LAMIN_HOME;
process.env.LAMIN_CACHE_DIR = env.LAMIN_CACHE_DIR;
delete process.env.LAMIN_INSTANCE;
process.env.AWS_ACCESS_KEY_ID = "S3RVER"; // the credentials s3rver accepts
process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

const core = await import("../core/index.js");
const { sql } = await import("drizzle-orm");
const { dropDatabase } = await import("../core/db/postgres.js");
const { S3Storage } = await import("../core/storage/s3.js");
const { createIngestHandler } = await import("../functions/ingest/handler.js");
const { createApp } = await import("../functions/api/app.js");
const { Storage } = await import("@google-cloud/storage");

type Handler = ReturnType<typeof createIngestHandler>;

/** One S3 notification record as s3rver emits it (keys raw, not URL-encoded). */
interface S3Record {
  eventName: string;
  s3: { object: { key: string; size?: number; eTag?: string } } & Record<string, unknown>;
}

// ---------------------------------------------------------------- s3rver

/** s3rver on a free port with its files in our folder, as test/servers/s3rver.ts sets it up. */
async function startServer() {
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: join(dir, "s3rver"),
    configureBuckets: [{ name: BUCKET, configs: [] }],
  }) as S3rver & EventEmitter;
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const records: S3Record[] = [];
  server.on("event", (notification: { Records?: S3Record[] }) => {
    records.push(...(notification.Records ?? []));
  });
  /** The records whose key starts with `prefix`, once `count` of them have arrived. */
  async function recordsFor(prefix: string, count: number): Promise<S3Record[]> {
    for (let waited = 0; ; waited += 10) {
      const found = records.filter((r) => r.s3.object.key.startsWith(prefix));
      if (found.length >= count) return found;
      if (waited > 30_000) {
        throw new Error(`s3rver sent ${found.length} of ${count} events for ${prefix}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return {
    endpoint,
    client,
    recordsFor,
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

// ---------------------------------------------------------------- SQS messages

/** Keys the way AWS puts them in notifications: URL-encoded per segment, spaces as `+`. */
const encodeKey = (key: string) =>
  key
    .split("/")
    .map((s) => encodeURIComponent(s).replace(/%20/g, "+"))
    .join("/");

let messageNo = 0;

/** An SQS message carrying one S3 notification, as S3 → SQS → Lambda delivers it. */
function sqsMessage(record: S3Record): SQSRecord {
  const object = { ...record.s3.object, key: encodeKey(record.s3.object.key) };
  const body = JSON.stringify({ Records: [{ ...record, s3: { ...record.s3, object } }] });
  const id = `00000000-0000-4000-8000-${String(++messageNo).padStart(12, "0")}`;
  return {
    messageId: id,
    receiptHandle: `handle-${id}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      SenderId: "AIDAEXAMPLE",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:lamin-ingest",
    awsRegion: "us-east-1",
  };
}

/** The records as SQS events of `size` messages each (Lambda's default batch size is 10). */
function sqsBatches(records: readonly S3Record[], size: number): SQSEvent[] {
  const batches: SQSEvent[] = [];
  for (let i = 0; i < records.length; i += size) {
    batches.push({ Records: records.slice(i, i + size).map(sqsMessage) });
  }
  return batches;
}

/** What the handler logged, by action. */
class ActionLog {
  counts = new Map<string, number>();
  firstError: string | undefined;
  readonly log = (entry: Record<string, unknown>) => {
    const action = String(entry.action);
    this.counts.set(action, (this.counts.get(action) ?? 0) + 1);
    if (entry.level === "error") this.firstError ??= JSON.stringify(entry).slice(0, 500);
  };
  reset() {
    this.counts.clear();
    this.firstError = undefined;
  }
  /** Throws unless every handled event had `action`. */
  expectAll(action: string, n: number, what: string) {
    const got = this.counts.get(action) ?? 0;
    if (got !== n || this.counts.size !== 1) {
      throw new Error(
        `${what}: expected ${n} × '${action}', got ${JSON.stringify(Object.fromEntries(this.counts))}${
          this.firstError ? `; first error ${this.firstError}` : ""
        }`,
      );
    }
  }
}

/** Give the batches to `sqsBatch` one after the other; any failed message fails the run. */
async function runBatches(handler: Handler, batches: readonly SQSEvent[]) {
  const latencies: number[] = [];
  const t0 = performance.now();
  for (const batch of batches) {
    const t = performance.now();
    const { batchItemFailures } = await handler.sqsBatch(batch);
    latencies.push(performance.now() - t);
    if (batchItemFailures.length > 0) {
      throw new Error(`sqsBatch: ${batchItemFailures.length} messages failed`);
    }
  }
  return { ms: performance.now() - t0, latencies };
}

// ---------------------------------------------------------------- baselines

/** `n` single-row INSERTs of rows about as wide as an artifact's, one statement each. */
async function insertRate(instance: Instance, n: number): Promise<number> {
  const db = instance.db;
  await db.execute(sql`DROP TABLE IF EXISTS bench_scratch`);
  await db.execute(sql`CREATE TABLE bench_scratch (
    id serial PRIMARY KEY, uid varchar(20) NOT NULL UNIQUE, key varchar(1024), suffix varchar(30),
    size bigint, hash varchar(22), hash_type varchar(30), storage_id integer NOT NULL,
    created_by_id integer NOT NULL, branch_id integer NOT NULL DEFAULT 1,
    is_latest boolean NOT NULL DEFAULT true, aux jsonb,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`);
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const uid = `${randomBytes(10).toString("hex")}`;
      await db.execute(sql`INSERT INTO bench_scratch
        (uid, key, suffix, size, hash, hash_type, storage_id, created_by_id, aux)
        VALUES (${uid}, ${`small/f${i}.bin`}, ${".bin"}, ${SMALL}, ${randomBytes(16).toString("base64url").slice(0, 22)},
          ${"md5"}, ${1}, ${1}, ${JSON.stringify({ etag: randomBytes(16).toString("hex") })}::jsonb)`);
    }
    return performance.now() - t0;
  } finally {
    await db.execute(sql`DROP TABLE bench_scratch`);
  }
}

/** HeadObject of each key, `concurrency` at a time; returns the wall time in ms. */
async function headRate(client: S3Client, keys: readonly string[], concurrency: number) {
  const t0 = performance.now();
  await mapLimit(keys, concurrency, (Key) =>
    client.send(new HeadObjectCommand({ Bucket: BUCKET, Key })),
  );
  return performance.now() - t0;
}

/**
 * Count the SQL statements sent to Postgres: every pool query and every statement of a
 * transaction goes through `pg.Client.prototype.query` (BEGIN and COMMIT included).
 */
function countPgStatements() {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const stats = { statements: 0 };
  proto.query = function (this: unknown, ...args: unknown[]) {
    stats.statements++;
    return original.apply(this, args);
  };
  return {
    stats,
    restore: () => {
      proto.query = original;
    },
  };
}

/** A file of `size` bytes quickly: one random MiB, its first bytes changed for every MiB. */
function writeBigFile(path: string, size: number): void {
  const block = randomBytes(MiB);
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < size / MiB; i++) {
      block.writeUInt32LE(i, 0);
      block.writeUInt32LE(i ^ 0x5bd1e995, MiB / 2);
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------- output

const line = (label: string, ms?: number, rate = "", extra = "") =>
  console.log(row([label, ms === undefined ? "" : fmtMs(ms), rate, extra], W));

const mibPerS = (bytes: number, ms: number) => `${Math.round(bytes / MiB / (ms / 1000))} MiB/s`;
const batchNote = (l: number[], perBatch: number) =>
  `per batch of ${perBatch}: median ${median(l).toFixed(1)} ms, p95 ${quantile(l, 0.95).toFixed(1)} ms; per event ${(median(l) / perBatch).toFixed(2)} ms (median batch / ${perBatch})`;
const verdict = (n: number, ms: number) => {
  const rate = (n / ms) * 1000;
  return `${rate >= TARGET ? "meets" : "MISSES"} the target of ${TARGET} events/s (${Math.round(rate)} events/s)`;
};

// ---------------------------------------------------------------- the GCS path

const PUSH_CONCURRENCY = 10;
const PUSH_TOKEN = "lnt_bench-push-token";

/**
 * 1,000 objects through the GCS path: an instance on the tests' GCS server, uploads with the
 * SDK, each notification POSTed to /events/gcs as a push subscription would. Returns the timings
 * (ms) and throws unless every push registered exactly what it should.
 */
async function gcsPath(dbUrl: string | undefined) {
  const gcs = await startFakeGcs({ buckets: [BUCKET] });
  let instance: Instance | undefined;
  try {
    const created = await core.init({
      storage: `gs://${BUCKET}/${PREFIX}`,
      name: "bench-ingest-gcs",
      endpoint: gcs.url,
      ...(dbUrl ? { db: dbUrl } : { pgliteDir: join(dir, "pglite-gcs") }),
    });
    await created.close();
    instance = await core.connect("bench-ingest-gcs");
    const opened = instance;
    const app = createApp({ instance: () => opened, authorize: (t) => t === PUSH_TOKEN });
    const bucket = new Storage({ apiEndpoint: gcs.url }).bucket(BUCKET);
    const keys = Array.from(
      { length: N },
      (_, i) => `${PREFIX}/gcs/f${String(i).padStart(4, "0")}.bin`,
    );
    const from = gcs.notifications.length;
    const uploaded = await timed(() =>
      mapLimit(keys, UPLOAD_CONCURRENCY, (name) =>
        bucket.file(name).save(randomBytes(SMALL), { resumable: false }),
      ),
    );
    const pushes = gcs.notifications.slice(from);
    if (pushes.length !== N) throw new Error(`${pushes.length} notifications for ${N} uploads`);
    const metadata = await timed(() =>
      mapLimit(keys, PUSH_CONCURRENCY, (name) => bucket.file(name).getMetadata()),
    );
    const deliver = async (bodies: readonly PubSubPush[], expected: string) => {
      const latencies: number[] = [];
      const t = await timed(() =>
        mapLimit(bodies, PUSH_CONCURRENCY, async (body) => {
          const t0 = performance.now();
          const res = await app.request(`/events/gcs?token=${PUSH_TOKEN}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
          latencies.push(performance.now() - t0);
          const out = (await res.json()) as { outcomes?: { action: string }[] };
          const action = out.outcomes?.[0]?.action;
          if (res.status !== 200 || action !== expected) {
            throw new Error(`a push answered ${res.status} ${JSON.stringify(out).slice(0, 300)}`);
          }
        }),
      );
      return { ms: t.ms, latencies };
    };
    const first = await deliver(pushes, "created");
    const replay = await deliver(pushes, "duplicate");
    return { upload: uploaded.ms, metadata: metadata.ms, first, replay };
  } finally {
    await instance?.close().catch(() => {});
    await gcs.close();
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  let s3: Awaited<ReturnType<typeof startServer>> | undefined;
  let instance: Instance | undefined;
  let dbUrl: string | undefined;
  let gcsDbUrl: string | undefined;
  try {
    s3 = await startServer();
    const server = s3;
    const base = process.env.DATABASE_URL;
    if (base) {
      const url = new URL(base);
      url.pathname = `/lamin_bench_${randomBytes(4).toString("hex")}`;
      dbUrl = url.toString();
    } else {
      console.log(
        "note: DATABASE_URL is not set, so the instance is on PGlite, not Postgres (e.g. DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench -- ingest)\n",
      );
    }
    const dbName = dbUrl ? "Postgres" : "PGlite";
    const created = await timed(() =>
      core.init({
        storage: `s3://${BUCKET}/${PREFIX}`,
        name: "bench-ingest",
        endpoint: server.endpoint,
        ...(dbUrl ? { db: dbUrl } : { pgliteDir: join(dir, "pglite") }),
      }),
    );
    // open it again as the ingest Lambda does (its own pool, not init's)
    await created.value.close();
    instance = await core.connect("bench-ingest");
    const storage = instance.storage;
    if (!(storage instanceof S3Storage)) throw new Error("the instance's storage is not S3");
    const opened = instance;

    const actions = new ActionLog();
    const handler = createIngestHandler({ instance: async () => opened, log: actions.log });
    console.log(
      `ingest benchmark: storage s3://${BUCKET}/${PREFIX} on s3rver (in this process), database on ${dbName}; events/s = events / wall time\n`,
    );

    // ---------------------------------------------------------------- (a) small objects
    const client = server.client;
    const upload = async (prefix: string) => {
      const keys = Array.from(
        { length: N },
        (_, i) => `${PREFIX}/${prefix}/f${String(i).padStart(4, "0")}.bin`,
      );
      const t = await timed(() =>
        mapLimit(keys, UPLOAD_CONCURRENCY, (Key) =>
          client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: randomBytes(SMALL) })),
        ),
      );
      const records = await server.recordsFor(`${PREFIX}/${prefix}/`, N);
      if (records.length !== N) throw new Error(`${records.length} events for ${N} uploads`);
      return { keys, records, ms: t.ms };
    };
    const setA = await upload("small");
    const setB = await upload("small-b");

    const inserts = await insertRate(instance, N);
    const headSeq = await headRate(client, setA.keys, 1);
    const head10 = await headRate(client, setA.keys, 10);

    const probe = dbUrl ? countPgStatements() : undefined;
    const cpu0 = process.cpuUsage();
    const by10 = await runBatches(handler, sqsBatches(setA.records, 10));
    const cpu = process.cpuUsage(cpu0);
    actions.expectAll("created", N, "batches of 10");
    const statements = probe?.stats.statements ?? 0;
    probe?.restore();
    actions.reset();
    const by100 = await runBatches(handler, sqsBatches(setB.records, 100));
    actions.expectAll("created", N, "batches of 100");
    actions.reset();
    const replay = await runBatches(handler, sqsBatches(setA.records, 10));
    actions.expectAll("duplicate", N, "replay");
    actions.reset();

    const rate = (ms: number) => fmtRate(N, ms);
    console.log(row([`(a) ${NS} objects of ${SMALL / 1024} KiB`, "time", "per s", "target"], W));
    line(`  ${NS} single-row INSERTs, ${dbName} (rows/s, baseline)`, inserts, rate(inserts));
    line(`  ${NS} HeadObject on s3rver, one at a time (baseline)`, headSeq, rate(headSeq));
    line(`  ${NS} HeadObject on s3rver, 10 at a time (baseline)`, head10, rate(head10));
    line(
      `  handler.sqsBatch, ${N / 10} batches of 10 messages`,
      by10.ms,
      rate(by10.ms),
      `≥ ${TARGET} events/s`,
    );
    console.log(`    ${batchNote(by10.latencies, 10)}`);
    console.log(
      `    this process used ${Math.round((cpu.user + cpu.system) / 10 / by10.ms)}% of a CPU meanwhile (s3rver, the S3 client and the handler share it)`,
    );
    if (probe) {
      console.log(
        `    ${(statements / N).toFixed(1)} SQL statements per event (BEGIN/COMMIT included)`,
      );
    }
    line(
      `  handler.sqsBatch, ${N / 100} batches of 100 messages`,
      by100.ms,
      rate(by100.ms),
      `≥ ${TARGET} events/s`,
    );
    console.log(`    ${batchNote(by100.latencies, 100)}`);
    line("  the first 1,000 events again (all duplicates), by 10", replay.ms, rate(replay.ms));
    line(
      `  (for reference) upload, ${UPLOAD_CONCURRENCY} at a time (objects/s)`,
      setA.ms,
      rate(setA.ms),
    );
    // the GCS path, in the same run: its own instance (and database), the same 1,000 objects
    const gcsDb = dbUrl ? `${dbUrl}_gcs` : undefined;
    if (gcsDb) gcsDbUrl = gcsDb;
    const viaGcs = await gcsPath(gcsDb);
    line(
      "  GCS: object metadata GET, 10 at a time (baseline)",
      viaGcs.metadata,
      rate(viaGcs.metadata),
    );
    line(
      `  GCS: POST /events/gcs, ${PUSH_CONCURRENCY} Pub/Sub pushes in flight`,
      viaGcs.first.ms,
      rate(viaGcs.first.ms),
      `≥ ${TARGET} events/s`,
    );
    console.log(
      `    per push: median ${median(viaGcs.first.latencies).toFixed(1)} ms, p95 ${quantile(viaGcs.first.latencies, 0.95).toFixed(1)} ms`,
    );
    line("  GCS: the same pushes again (all duplicates)", viaGcs.replay.ms, rate(viaGcs.replay.ms));
    line(
      `  GCS: (for reference) upload, ${UPLOAD_CONCURRENCY} at a time (objects/s)`,
      viaGcs.upload,
      rate(viaGcs.upload),
    );
    for (const [what, ms] of [
      ["S3, batches of 10", by10.ms],
      ["S3, batches of 100", by100.ms],
      ["GCS, pushes", viaGcs.first.ms],
    ] as const) {
      console.log(`  ${what}: ${verdict(N, ms)}`);
    }
    console.log();

    // ---------------------------------------------------------------- (b) one 1 GiB object
    const bigPath = join(dir, "big.bin");
    const bigKey = "big/1gib.bin";
    const made = await timed(() => writeBigFile(bigPath, BIG));
    const uploaded = await timed(() =>
      new Upload({
        client,
        params: { Bucket: BUCKET, Key: `${PREFIX}/${bigKey}`, Body: createReadStream(bigPath) },
        partSize: BIG_PART,
        queueSize: 4,
        leavePartsOnError: false,
      }).done(),
    );
    const [bigRecord] = await server.recordsFor(`${PREFIX}/${bigKey}`, 1);
    if (bigRecord?.s3.object.size !== BIG) {
      throw new Error(`event for the 1 GiB object: ${JSON.stringify(bigRecord?.s3.object)}`);
    }

    const got = await timed(async () => {
      const out = await client.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${bigKey}` }),
      );
      let bytes = 0;
      for await (const chunk of out.Body as Readable) bytes += (chunk as Buffer).byteLength;
      return bytes;
    });
    if (got.value !== BIG) throw new Error(`GetObject returned ${got.value} bytes`);
    const md5 = await timed(() => spawnSync("md5sum", [bigPath], { encoding: "utf8" }));
    const md5ok = !md5.value.error && md5.value.status === 0;
    const local = await timed(() => core.hashFile(bigPath));

    const before = storage.bytesRead;
    const registered = await runBatches(handler, sqsBatches([bigRecord], 1));
    const read = storage.bytesRead - before;
    actions.expectAll("created", 1, "the 1 GiB object");
    const artifact = await instance.artifacts.get({ key: bigKey });
    if (artifact.hash !== local.value.hash || artifact.hash_type !== "sha1-fl") {
      throw new Error(
        `the 1 GiB object was registered with ${artifact.hash_type} ${artifact.hash}, a local save gives ${local.value.hashType} ${local.value.hash}`,
      );
    }

    console.log(row(["(b) one object of 1 GiB", "time", "", "read"], W));
    line(
      `  upload (lib-storage, ${BIG_PART / MiB} MiB parts, 4 at a time)`,
      uploaded.ms,
      mibPerS(BIG, uploaded.ms),
    );
    line("  GetObject of the whole object (baseline)", got.ms, mibPerS(BIG, got.ms), "1,024 MiB");
    if (md5ok)
      line("  md5sum of the local file (baseline)", md5.ms, mibPerS(BIG, md5.ms), "1,024 MiB");
    else console.log("  md5sum of the local file: md5sum is not available");
    line("  hashFile of the local file (first + last 50 MiB)", local.ms, "", "100 MiB");
    line(
      "  handler.sqsBatch, the object's event",
      registered.ms,
      "",
      `${(read / MiB).toFixed(1)} MiB, max ${MAX_READ / MiB}`,
    );
    console.log(
      `    read ${read.toLocaleString("en-US")} bytes of ${BIG.toLocaleString("en-US")} (${((100 * read) / BIG).toFixed(1)}%), hash ${artifact.hash_type} equal to a local save's`,
    );
    line("  (for reference) writing the local file", made.ms, mibPerS(BIG, made.ms));
    line(`  (for reference) init, ${dbName}`, created.ms);
    if (read > MAX_READ) {
      throw new Error(`registering the 1 GiB object read ${read} bytes, more than ${MAX_READ}`);
    }
  } finally {
    await instance?.close().catch(() => {});
    await s3?.close().catch(() => {});
    for (const url of [dbUrl, gcsDbUrl]) {
      if (!url) continue;
      await dropDatabase(url).catch((e: unknown) =>
        console.error(`could not drop ${new URL(url).pathname.slice(1)}: ${(e as Error).message}`),
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
