/**
 * Load test: `DATABASE_URL=postgresql://... npx tsx bench/load.ts` (issue 19).
 *
 * The API as `lamin serve` serves it (openInstance + createApp + @hono/node-server, in a child
 * process, bench/lib/serve-api.ts) on an instance on Postgres (a database of its own, dropped at
 * the end) seeded with BENCH_ARTIFACTS artifacts (10,000; metadata only). 200 clients
 * (BENCH_CLIENTS) on loopback, each with one kept-alive connection, for 60 s (BENCH_SECONDS),
 * each request chosen at random: 70% reads (half GET /artifacts/{uid} of a random artifact,
 * half a list of 50 by key__startswith) and 30% uploads of 4 KiB of new bytes (declare, PUT the
 * bytes, complete: three requests, timed as one write). Every answer is checked (status, and
 * the uid a write was declared with); anything else is an error, counted and printed.
 *
 * Printed: requests and operations per second, p50/p99 of reads and writes, errors, and the
 * server's RSS before and after (from /proc). Next to them, in the same run, the same clients
 * on a bare Hono route (the floor of this machine's HTTP). Timings are printed, never
 * asserted; the run fails only when something does not work.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fmtMs, laminEnv, quantile, row } from "./lib/common.js";
import { startServer } from "./lib/http.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 200);
const N = Number(process.env.BENCH_ARTIFACTS ?? 10_000);
const READ_SHARE = 0.7;
const UPLOAD_BYTES = 4096;
const CHUNK = 1000;

const base = process.env.DATABASE_URL;
if (!base) {
  console.log(
    "bench/load needs a Postgres server: skipped.\n" +
      "Run it with DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx tsx bench/load.ts",
  );
  process.exit(0);
}
if (!(SECONDS > 0) || !(CLIENTS > 0) || !(N >= 1000)) {
  throw new Error("BENCH_SECONDS and BENCH_CLIENTS must be > 0, BENCH_ARTIFACTS at least 1000");
}

// Our own settings folder, before core is loaded: the benchmark never touches the user's instances.
const dir = mkdtempSync(join(tmpdir(), "lamin-load-bench-"));
const env = laminEnv(join(dir, "home"));
process.env.LAMIN_HOME = env.LAMIN_HOME;
process.env.LAMIN_CACHE_DIR = env.LAMIN_CACHE_DIR;
delete process.env.LAMIN_INSTANCE;

const { initInstance } = await import("../core/setup.js");
const { dropDatabase } = await import("../core/db/postgres.js");
const { hashToken } = await import("../core/auth.js");
const { toB64 } = await import("../core/hash.js");
const { newVersionedUid } = await import("../core/uid.js");
const t = await import("../core/db/schema.js");
const { sql } = await import("drizzle-orm");

/** Resident memory of a process, in MiB (Linux). */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

interface Answer {
  status: number;
  body: string;
}

/** One request on `agent`; the whole answer read. */
function send(
  agent: Agent,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent, method: opts.method ?? "GET", headers: opts.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

interface Tally {
  reads: number[];
  writes: number[];
  requests: number;
  errors: Map<string, number>;
}

/** `CLIENTS` loops until the deadline, each on its own kept-alive connection. */
async function drive(op: (agent: Agent, tally: Tally) => Promise<void>): Promise<Tally> {
  const tally: Tally = { reads: [], writes: [], requests: 0, errors: new Map() };
  const deadline = performance.now() + SECONDS * 1000;
  const client = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (performance.now() < deadline) {
        try {
          await op(agent, tally);
        } catch (error) {
          const what = (error as Error).message.slice(0, 120);
          tally.errors.set(what, (tally.errors.get(what) ?? 0) + 1);
        }
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return tally;
}

const expectStatus = (a: Answer, status: number, what: string) => {
  if (a.status !== status) throw new Error(`${what}: ${a.status} ${a.body.slice(0, 80)}`);
};

function report(label: string, tally: Tally, seconds: number): void {
  const ops = tally.reads.length + tally.writes.length;
  const errors = [...tally.errors.values()].reduce((a, b) => a + b, 0);
  const q = (xs: number[], p: number) => (xs.length ? fmtMs(quantile(xs, p)) : "-");
  console.log(
    row(
      [
        `  ${label}`,
        `${Math.round(tally.requests / seconds).toLocaleString("en-US")}`,
        `${Math.round(ops / seconds).toLocaleString("en-US")}`,
        q(tally.reads, 0.5),
        q(tally.reads, 0.99),
        q(tally.writes, 0.5),
        q(tally.writes, 0.99),
        String(errors),
      ],
      W,
    ),
  );
  for (const [what, n] of tally.errors) console.log(`    error x${n}: ${what}`);
}

const W = [34, 8, 7, 9, 9, 9, 9, 7];

async function main(): Promise<void> {
  const url = new URL(base as string);
  url.pathname = `/lamin_load_${randomBytes(4).toString("hex")}`;
  const servers: { stop(): Promise<void> }[] = [];
  let instance: Awaited<ReturnType<typeof initInstance>> | undefined;
  try {
    const name = "bench-load";
    instance = await initInstance({ storage: join(dir, "storage"), name, db: url.toString() });
    const uids: string[] = [];
    for (let first = 0; first < N; first += CHUNK) {
      const rows: (typeof t.artifact.$inferInsert)[] = [];
      for (let i = first; i < Math.min(N, first + CHUNK); i++) {
        const uid = newVersionedUid("artifact");
        uids.push(uid);
        rows.push({
          uid,
          key: `datasets/p${String(Math.floor(i / 100) % 100).padStart(2, "0")}/s${i}.csv`,
          storageId: instance.storageRecord.id,
          suffix: ".csv",
          size: 1000,
          hash: randomBytes(16).toString("base64url").slice(0, 22),
          hashType: "md5",
          keyIsVirtual: true,
          overwriteVersions: false,
          createdById: instance.user.id,
        });
      }
      await instance.db.insert(t.artifact).values(rows);
    }
    await instance.db.execute(sql`ANALYZE lamindb_artifact`);
    await instance.close();
    instance = undefined;

    const token = randomBytes(24).toString("base64url");
    const [api, bare] = await Promise.all([
      startServer("serve-api.ts", ["api", name], { LAMIN_API_TOKEN_SHA256: hashToken(token) }),
      startServer("serve-api.ts", ["bare"], {}),
    ]);
    servers.push(api, bare);
    const auth = { authorization: `Bearer ${token}` };
    const pick = () => uids[Math.floor(Math.random() * uids.length)] as string;

    const laminOp = async (agent: Agent, tally: Tally) => {
      const t0 = performance.now();
      if (Math.random() < READ_SHARE) {
        const path =
          Math.random() < 0.5
            ? `/artifacts/${pick()}`
            : `/artifacts?key__startswith=${encodeURIComponent(`datasets/p${String(Math.floor(Math.random() * 100)).padStart(2, "0")}/`)}&limit=50`;
        tally.requests++;
        expectStatus(await send(agent, `${api.url}${path}`, { headers: auth }), 200, "read");
        tally.reads.push(performance.now() - t0);
        return;
      }
      const bytes = randomBytes(UPLOAD_BYTES);
      const hash = toB64(createHash("md5").update(bytes).digest());
      const key = `uploads/${randomBytes(8).toString("hex")}.bin`;
      tally.requests++;
      const declared = await send(agent, `${api.url}/artifacts/uploads`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ name: "u.bin", size: bytes.length, hash, hash_type: "md5", key }),
      });
      expectStatus(declared, 200, "declare");
      const ticket = JSON.parse(declared.body) as {
        artifact: { uid: string };
        upload: { url: string; complete_url: string };
      };
      tally.requests++;
      const put = await send(agent, new URL(ticket.upload.url, api.url).href, {
        method: "PUT",
        headers: { ...auth, "content-type": "application/octet-stream" },
        body: bytes,
      });
      if (put.status !== 204 && put.status !== 200) expectStatus(put, 204, "put");
      tally.requests++;
      const done = await send(agent, new URL(ticket.upload.complete_url, api.url).href, {
        method: "POST",
        headers: auth,
      });
      expectStatus(done, 200, "complete");
      if ((JSON.parse(done.body) as { uid: string }).uid !== ticket.artifact.uid) {
        throw new Error("complete answered another artifact");
      }
      tally.writes.push(performance.now() - t0);
    };
    const bareOp = async (agent: Agent, tally: Tally) => {
      const t0 = performance.now();
      tally.requests++;
      expectStatus(await send(agent, `${bare.url}/x`), 200, "bare");
      tally.reads.push(performance.now() - t0);
    };

    console.log(
      `load test: ${CLIENTS} clients x ${SECONDS} s on loopback, ${Math.round(READ_SHARE * 100)}% reads / ${Math.round((1 - READ_SHARE) * 100)}% uploads of ${UPLOAD_BYTES / 1024} KiB; ${N.toLocaleString("en-US")} artifacts on Postgres; load average ${loadavg()[0]?.toFixed(1)} at the start\n`,
    );
    console.log(
      row(["", "req/s", "ops/s", "read p50", "read p99", "write p50", "write p99", "errors"], W),
    );
    const bareTally = await drive(bareOp);
    report("bare Hono route GET /x (baseline)", bareTally, SECONDS);
    const before = rssMiB(api.pid);
    const tally = await drive(laminOp);
    const after = rssMiB(api.pid);
    report("API (lamin serve), Postgres", tally, SECONDS);
    console.log(
      `\n  server RSS: ${before.toFixed(0)} MiB before, ${after.toFixed(0)} MiB after; load average ${loadavg()[0]?.toFixed(1)} at the end`,
    );
    const errors = [...tally.errors.values()].reduce((a, b) => a + b, 0);
    console.log(`  ${errors === 0 ? "0 errors" : `${errors} ERRORS`}`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await instance?.close();
    await dropDatabase(url.toString()).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
