/**
 * The hub's connections on a database server: one cap for all its instances (connection-budget.ts)
 * and a bounded set of open instances (InstancePool), on the real local Postgres. A hub with 150
 * instances, every one of them asked at once with the cap at 20: no request fails, and
 * pg_stat_activity, sampled throughout, never shows more than 20 of the hub's connections.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../core/db/client.js";
import { ConnectionBudget, ServerBusyError } from "../core/db/connection-budget.js";
import { openPostgres, serverBudget } from "../core/db/postgres.js";
import { UnavailableError } from "../core/errors.js";
import type { HubInstanceRecord } from "../core/hub/hub.js";
import { openRecordedInstance } from "../core/hub/instances.js";
import { openHub } from "../core/hub/open.js";
import { openEmbeddedRecord, PgliteProvisioner } from "../core/hub/pglite-provisioner.js";
import { provisionInstance } from "../core/hub/provision.js";
import { StoragePolicy } from "../core/hub/storage-policy.js";
import type { Instance } from "../core/instance.js";
import { initInstance } from "../core/setup.js";
import { toProblem } from "../functions/api/problem.js";
import { createHubApp } from "../functions/hub/app.js";
import { postgresUrl, tempDir, useTempHome } from "./helpers.js";

useTempHome();
const CAP = 20;
const INSTANCES = 150;
// read when the hub first opens a database on the server (serverBudget): before anything here
process.env.LAMIN_HUB_MAX_CONNECTIONS = String(CAP);
// generous: the machine is shared, and the figure under test is the cap, not the wait
process.env.LAMIN_HUB_CONNECTION_WAIT_MS = "120000";

const base = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const nameOf = (url: string) => new URL(url).pathname.slice(1);

/** `run` for each item, four at a time: a connection each (one runs one statement at once). */
async function fourAtATime(
  items: string[],
  run: (client: pg.Client, item: string) => Promise<unknown>,
): Promise<void> {
  await Promise.all(
    [0, 1, 2, 3].map(async (lane) => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        for (let i = lane; i < items.length; i += 4) await run(client, items[i] as string);
      } finally {
        await client.end();
      }
    }),
  );
}

/** Samples how many connections match `where` until stopped; the highest count seen. */
function sampler(where: string, params: unknown[]) {
  const admin = new pg.Client({ connectionString: base });
  let max = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    await admin.connect();
    while (running) {
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE ${where}`,
        params,
      );
      max = Math.max(max, (rows[0] as { n: number }).n);
      samples++;
      await new Promise((r) => setTimeout(r, 10));
    }
    await admin.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { max, samples };
    },
  };
}

describe.skipIf(!process.env.DATABASE_URL)("a connection budget on Postgres", () => {
  const urls = [postgresUrl(), postgresUrl(), postgresUrl()];
  const admin = new pg.Client({ connectionString: base });
  const budget = new ConnectionBudget({ max: 2, acquireTimeoutMs: 300 });
  const dbs: Database[] = [];
  const onOurs = "datname = ANY($1)";

  beforeAll(async () => {
    await admin.connect();
    for (const url of urls) await admin.query(`CREATE DATABASE "${nameOf(url)}"`);
    for (const url of urls) dbs.push(await openPostgres(url, { shared: budget, max: 2 }));
  });
  afterAll(async () => {
    for (const d of dbs) await d.close().catch(() => {});
    for (const url of urls)
      await admin.query(`DROP DATABASE IF EXISTS "${nameOf(url)}" WITH (FORCE)`);
    await admin.end();
  });

  /** A transaction that holds its connection until `done` is called. */
  const hold = (d: Database) => {
    let done = () => {};
    const gate = new Promise<void>((r) => {
      done = r;
    });
    let started = () => {};
    const begun = new Promise<void>((r) => {
      started = r;
    });
    const result = d.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT 1`);
      started();
      await gate;
      const { rows } = (await tx.execute(sql`SELECT 42 AS n`)) as unknown as {
        rows: { n: number }[];
      };
      return rows[0]?.n;
    });
    return { begun, done, result };
  };

  it("never closes a connection in use: beyond the cap a query waits, then is told the server is busy (503)", async () => {
    const watch = sampler(onOurs, [urls.map(nameOf)]);
    const [a, b] = [dbs[0] as Database, dbs[1] as Database];
    const first = hold(a);
    const second = hold(b);
    await Promise.all([first.begun, second.begun]);
    expect(budget.stats()).toMatchObject({ used: 2 });
    const refused = await b.db.execute(sql`SELECT 1`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ServerBusyError);
    expect(refused).toBeInstanceOf(UnavailableError);
    expect((refused as Error).message).toMatch(/all 2 connections .* in use/);
    const answer = toProblem(refused);
    expect(answer.status).toBe(503);
    expect(answer.detail).not.toMatch(/postgres(ql)?:\/\//);
    // the transactions that held the connections finish as if nothing happened
    first.done();
    second.done();
    expect(await first.result).toBe(42);
    expect(await second.result).toBe(42);
    // and a query waiting while a connection comes back gets it
    const third = hold(a);
    await third.begun;
    const waiting = b.db.execute(sql`SELECT 7 AS n`);
    setTimeout(() => third.done(), 50);
    expect(((await waiting) as unknown as { rows: { n: number }[] }).rows[0]?.n).toBe(7);
    expect(await third.result).toBe(42);
    const { max, samples } = await watch.stop();
    expect(samples).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(2);
    expect(budget.stats().peak).toBeLessThanOrEqual(2);
  });

  it("takes the slot of the least recently used idle connection for a database that needs one", async () => {
    const [a, b, c] = dbs as [Database, Database, Database];
    await a.db.execute(sql`SELECT 1`);
    await b.db.execute(sql`SELECT 1`); // a and b each hold an idle connection: the cap is reached
    const count = async (url: string) => {
      const { rows } = await admin.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1",
        [nameOf(url)],
      );
      return (rows[0] as { n: number }).n;
    };
    expect((await count(urls[0] as string)) + (await count(urls[1] as string))).toBe(2);
    const watch = sampler(onOurs, [urls.map(nameOf)]);
    const one = hold(c);
    await one.begun; // took a's slot (used longest ago)
    expect(await count(urls[0] as string)).toBe(0);
    expect(await count(urls[1] as string)).toBe(1);
    const two = hold(c);
    await two.begun; // and b's
    expect(await count(urls[1] as string)).toBe(0);
    expect(await count(urls[2] as string)).toBe(2);
    one.done();
    two.done();
    expect([await one.result, await two.result]).toEqual([42, 42]);
    // the evicted database reconnects on its next query
    const again = (await a.db.execute(sql`SELECT 5 AS n`)) as unknown as { rows: { n: number }[] };
    expect(again.rows[0]?.n).toBe(5);
    const { max } = await watch.stop();
    expect(max).toBeLessThanOrEqual(2);
  });

  it("by default allows half the server's max_connections, read on its first connection", async () => {
    const half = new ConnectionBudget({ max: "half the server's" });
    expect(half.max).toBe(2); // until it knows
    const d = await openPostgres(urls[2] as string, { shared: half });
    try {
      const { rows } = await admin.query("SHOW max_connections");
      const serverMax = Number((rows[0] as { max_connections: string }).max_connections);
      expect(half.max).toBe(Math.floor(serverMax / 2));
      // and the pool of 4 may use more than the provisional 2
      const holds = [hold(d), hold(d), hold(d)];
      await Promise.all(holds.map((h) => h.begun));
      expect(half.stats().used).toBe(3);
      for (const h of holds) h.done();
      expect(await Promise.all(holds.map((h) => h.result))).toEqual([42, 42, 42]);
    } finally {
      await d.close();
    }
  });

  it("refuses a cap that is not a whole number of at least 1", async () => {
    expect(() => new ConnectionBudget({ max: 0 })).toThrow(/the connection cap is 0/);
    await expect(
      serverBudget("postgresql://postgres@127.0.0.1:1/x", {
        LAMIN_HUB_MAX_CONNECTIONS: "lots",
      }),
    ).rejects.toThrow(/LAMIN_HUB_MAX_CONNECTIONS is 'lots'/);
  });
});

describe.skipIf(!process.env.DATABASE_URL)(`a hub with ${INSTANCES} instances, cap ${CAP}`, () => {
  const hubUrl = postgresUrl();
  const templateUrl = postgresUrl();
  const urls = [templateUrl, ...Array.from({ length: INSTANCES - 1 }, () => postgresUrl())];
  const admin = new pg.Client({ connectionString: base });
  const work = tempDir("lamin-hub-pool-");
  const content = "a,b\n1,2\n";
  const opened: string[] = [];
  const closed: string[] = [];
  let hubHandle: Awaited<ReturnType<typeof openHub>>;
  let key: string;
  let uid: string;
  const slug = (i: number) => `i${String(i).padStart(3, "0")}`;
  const idOf = new Map<string, string>();

  /** Opens as the hub does, and writes down what it opens and closes. */
  const openInstance = async (record: HubInstanceRecord): Promise<Instance> => {
    const instance = await openRecordedInstance(record);
    opened.push(record.name);
    const close = instance.close.bind(instance);
    instance.close = async () => {
      closed.push(record.name);
      await close();
    };
    return instance;
  };

  beforeAll(async () => {
    await admin.connect();
    const template = await initInstance({
      storage: join(work, "template"),
      name: "pool",
      db: templateUrl,
    });
    writeFileSync(join(work, "sample.csv"), content);
    uid = (await template.artifacts.save(join(work, "sample.csv"), { key: "sample.csv" })).artifact
      .uid;
    await template.close();
    // copies of the template
    await fourAtATime(urls.slice(1), (client, url) =>
      client.query(`CREATE DATABASE "${nameOf(url)}" TEMPLATE "${nameOf(templateUrl)}"`),
    );
    hubHandle = await openHub(hubUrl);
    await hubHandle.hub.createAccount("alice");
    key = (await hubHandle.hub.createKey("alice")).key;
    for (const [i, url] of urls.entries()) {
      const record = await hubHandle.hub.recordInstance({
        owner: "alice",
        name: slug(i),
        storageRoot: join(work, "template"),
        dbUrl: url,
      });
      idOf.set(slug(i), record.id);
    }
  }, 600_000);

  afterAll(async () => {
    await hubHandle?.close().catch(() => {});
    await fourAtATime([hubUrl, ...urls], (client, url) =>
      client.query(`DROP DATABASE IF EXISTS "${nameOf(url)}" WITH (FORCE)`).catch(() => {}),
    );
    await admin.end();
  }, 600_000);

  const ask = (app: ReturnType<typeof createHubApp>, i: number, path = "") =>
    app.request(`/instances/alice/${slug(i)}/artifacts/${uid}${path}`, {
      headers: { authorization: `Bearer ${key}` },
    });

  it("answers every request while never holding more connections than the cap", async () => {
    // 40 instances open at most: the 150 take turns, closed least recently used first
    const app = createHubApp({
      hub: hubHandle.hub,
      openInstance,
      instancePool: { maxOpen: 40, waitMs: 120_000 },
    });
    // every connection to the hub's database and the instances', whoever opened it
    const watch = sampler("datname = ANY($1)", [[hubUrl, ...urls].map(nameOf)]);
    const answers = await Promise.all(
      Array.from({ length: INSTANCES * 3 }, async (_, j) => {
        const res = await ask(app, j % INSTANCES);
        const body = (await res.json()) as { uid?: string; detail?: string };
        return { status: res.status, uid: body.uid, detail: body.detail };
      }),
    );
    const { max, samples } = await watch.stop();
    const failed = answers.filter((a) => a.status !== 200 || a.uid !== uid);
    expect(failed.slice(0, 3)).toEqual([]);
    expect(answers).toHaveLength(INSTANCES * 3);
    expect(samples).toBeGreaterThan(5);
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(CAP);
    const budget = await serverBudget(hubUrl);
    expect(budget.max).toBe(CAP);
    expect(budget.stats().peak).toBeLessThanOrEqual(CAP);
    // every instance opened (concurrent requests for one share its opening, so whether one is
    // reopened within the burst depends on timing), at most 40 at once
    expect(new Set(opened).size).toBe(INSTANCES);
    expect(app.pool.size).toBeLessThanOrEqual(40);

    // an instance closed to make room reopens on its next request, transparently
    const evicted = closed.find((name) => !app.pool.has(idOf.get(name) as string));
    expect(evicted).toBeDefined();
    const openings = opened.length;
    const again = await ask(app, Number(evicted?.slice(1)));
    expect(again.status).toBe(200);
    expect(((await again.json()) as { uid: string }).uid).toBe(uid);
    expect(opened.slice(openings)).toEqual([evicted]);
    await app.close();
  }, 600_000);

  it("never closes an instance a request is using; with no room, a bounded wait then 503 and retry-after", async () => {
    opened.length = 0;
    closed.length = 0;
    const app = createHubApp({
      hub: hubHandle.hub,
      openInstance,
      instancePool: { maxOpen: 1, waitMs: 300 },
    });
    // a download streams its bytes: the instance stays held until the last byte is read
    const download = await ask(app, 0, "/download");
    expect(download.status).toBe(200);
    const busy = await ask(app, 1);
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).toMatch(/^\d+$/);
    const problem = (await busy.json()) as { detail: string; hint: string };
    expect(problem.detail).toMatch(/in use/);
    expect(problem.hint).toMatch(/try again/);
    expect(closed).toEqual([]); // i000 held by the download: not closed for i001
    expect(await download.text()).toBe(content);
    // given back: now i001 may take its place
    const next = await ask(app, 1);
    expect(next.status).toBe(200);
    expect(closed).toEqual([slug(0)]);
    // a request waiting for room gets it when the holder finishes within the wait
    const held = await ask(app, 1, "/download");
    const waiting = ask(app, 2);
    setTimeout(() => void held.text(), 50);
    expect((await waiting).status).toBe(200);
    expect(closed).toEqual([slug(0), slug(1)]);
    // an answer nobody reads holds its instance, but stops no one from closing the hub: the
    // close waits for it as long as a request waits for room (300 ms here), then goes ahead
    const unread = await ask(app, 2, "/download");
    expect(unread.status).toBe(200);
    await app.close();
    expect(closed.sort()).toEqual([slug(0), slug(1), slug(2)]);
  });
});

describe("a hub's embedded (PGlite) instances", () => {
  const work = tempDir("lamin-hub-embedded-");
  const opened: string[] = [];
  const closed: string[] = [];
  let hubHandle: Awaited<ReturnType<typeof openHub>>;
  let app: ReturnType<typeof createHubApp>;
  let key: string;
  const records = new Map<string, HubInstanceRecord>();

  beforeAll(async () => {
    hubHandle = await openHub({ pgliteDir: join(work, "hub") });
    const hub = hubHandle.hub;
    await hub.createAccount("alice");
    key = (await hub.createKey("alice")).key;
    const provisioner = new PgliteProvisioner(join(work, "hub-instances"));
    const policy = new StoragePolicy({ allow: [{ root: join(work, "data") }] });
    for (const name of ["e0", "e1", "e2"]) {
      await provisionInstance(
        hub,
        provisioner,
        { owner: "alice", name, storageRoot: join(work, "data", name) },
        policy,
      );
      records.set(name, await hub.instance("alice", name));
    }
    app = createHubApp({
      hub,
      openInstance: async (record) => {
        const instance = await openEmbeddedRecord(record);
        opened.push(record.name);
        const close = instance.close.bind(instance);
        instance.close = async () => {
          closed.push(record.name);
          await close();
        };
        return instance;
      },
      instancePool: { maxOpenEmbedded: 2, waitMs: 300 },
    });
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await hubHandle?.close();
  });

  const list = (name: string) =>
    app.request(`/instances/alice/${name}/artifacts`, {
      headers: { authorization: `Bearer ${key}` },
    });

  it("keeps at most the cap open, closes the one used longest ago that no request holds, and reopens it", async () => {
    for (const name of ["e0", "e1", "e2"]) expect((await list(name)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toEqual(["e0"]);
    expect(app.pool.size).toBe(2);
    // e1 is held (as by a request in flight) and is the least recently used: e2 goes instead
    const held = await app.pool.acquire(records.get("e1") as HubInstanceRecord);
    let also: Awaited<ReturnType<typeof app.pool.acquire>> | undefined;
    try {
      expect((await list("e0")).status).toBe(200); // reopened: its folder's lock was let go
      await new Promise((r) => setTimeout(r, 50));
      expect(closed).toEqual(["e0", "e2"]);
      // both open ones held: no room for e2, a bounded wait, then 503
      also = await app.pool.acquire(records.get("e0") as HubInstanceRecord);
      const busy = await list("e2");
      expect(busy.status).toBe(503);
      expect(busy.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(((await busy.json()) as { detail: string }).detail).toMatch(/2 embedded\) is in use/);
      // the held one still works: nothing was closed under it
      expect((await held.instance.artifacts.list()).items).toEqual([]);
      expect(closed).toEqual(["e0", "e2"]);
    } finally {
      held.release();
      also?.release();
    }
    expect((await list("e2")).status).toBe(200);
    expect(opened).toEqual(["e0", "e1", "e2", "e0", "e2"]);
  });
});
