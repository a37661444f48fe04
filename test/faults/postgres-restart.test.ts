/**
 * The database goes away in the middle of work and comes back: a Postgres cluster of this
 * test's own (test/servers/private-postgres.ts), stopped like a crash while `saveMany` writes a
 * batch, while `lamin serve` serves, and while the CLI opens it. Every client gets a short typed
 * error (UnavailableError, HTTP 503 problem+json with retry-after, exit 5), never SQL; once it
 * is back, saving again leaves every file registered once, complete, with its bytes.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../core/db/client.js";
import { UnavailableError } from "../../core/errors.js";
import type { Instance } from "../../core/instance.js";
import type { SaveResult } from "../../core/registry/artifacts/artifacts.js";
import { initInstance } from "../../core/setup.js";
import { createApp } from "../../functions/api/app.js";
import { lamin, startLamin, stopChild, tempDir, useTempHome, writeTree } from "../helpers.js";
import { type PrivatePostgres, startPrivatePostgres } from "../servers/private-postgres.js";
import { expectNoInternals, expectTypedFailure } from "./support.js";

useTempHome();

const started = await startPrivatePostgres();
const skip = "skip" in started ? started.skip : undefined;
if (skip) console.warn(`skipping the Postgres restart faults: ${skip}`);

describe.skipIf(skip !== undefined)("Postgres stopped mid-work and restarted", () => {
  const pg = started as PrivatePostgres;
  let ln: Instance;
  let storage: string;
  const name = "pgfault";

  beforeAll(async () => {
    storage = join(tempDir("lamin-pgfault-"), "storage");
    ln = await initInstance({ storage, name, db: pg.url("lamin_fault") });
  });
  afterAll(async () => {
    await ln?.close().catch(() => {});
    pg.destroy();
    rmSync(join(storage, ".."), { recursive: true, force: true });
  });

  it("saveMany fails with a short UnavailableError, and saving again completes every file once", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 600; i++) files[`f${i}.txt`] = `file number ${i}\n`;
    const dir = writeTree(tempDir("lamin-batch-"), files);
    const items = Object.keys(files).map((f) => ({ path: join(dir, f), key: `batch/${f}` }));

    let stopped = false;
    const error = await ln.artifacts
      .saveMany(items, {
        onProgress: ({ done }) => {
          // in the second chunk (rows 501-600): its rows are written, half its bytes
          if (done === 550 && !stopped) {
            stopped = true;
            pg.stop("immediate");
          }
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
      .finally(() => pg.start());
    expect(stopped).toBe(true);
    expect(error).toBeInstanceOf(UnavailableError);
    const e = error as UnavailableError;
    expect(e.message).toMatch(/^the database is unavailable: /);
    expect(e.message.length).toBeLessThan(300);
    expect(`${e.message}\n${e.hint}`).not.toMatch(/SELECT|INSERT|UPDATE|params|batch\/f/);

    const results: SaveResult[] = await ln.artifacts.saveMany(items);
    const statuses = new Map<string, number>();
    for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    // the first chunk was acknowledged as saved; nothing is saved twice
    expect(statuses.get("existing")).toBeGreaterThanOrEqual(500);
    expect(results.every((r) => r.artifact.upload_complete)).toBe(true);
    const rows = await queryRows<{ key: string; n: number; pending: number }>(
      ln.db,
      sql`SELECT count(*)::int AS n, count(DISTINCT key)::int AS keys,
        count(*) FILTER (WHERE _aux->>'so' = '1')::int AS pending FROM lamindb_artifact`,
    );
    expect(rows[0]).toMatchObject({ n: 600, keys: 600, pending: 0 });
    for (const r of results) {
      const key = r.artifact.key as string;
      expect(readFileSync(r.artifact.path, "utf8")).toBe(files[key.slice("batch/".length)]);
    }
  });

  it("the API answers 503 problem+json with retry-after while it is down, and serves again after", async () => {
    const app = createApp({ instance: () => ln, authorize: () => true });
    const get = () => app.request("/artifacts?limit=5", { headers: { authorization: "Bearer x" } });
    expect((await get()).status).toBe(200);
    pg.stop("immediate");
    try {
      const res = await get();
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      const body = await res.text();
      expect(JSON.parse(body)).toMatchObject({
        status: 503,
        detail: expect.stringMatching(/^the database is unavailable/),
      });
      expectNoInternals(body);
    } finally {
      pg.start();
    }
    expect((await get()).status).toBe(200);
  });

  it("lamin, in process or through lamin serve, exits 5 with one line while it is down", async () => {
    await ln.close();
    const env = { LAMIN_INSTANCE: name };
    pg.stop("immediate");
    try {
      expectTypedFailure(
        await lamin(["ls"], { env }),
        5,
        /cannot connect to Postgres at postgresql:\/\/postgres@127\.0\.0\.1/,
      );
    } finally {
      pg.start();
    }
    const { child } = await startLamin(["serve", "--port", "0", "--json"], env);
    try {
      expect((await lamin(["ls", "--json"], { env })).code).toBe(0);
      pg.stop("immediate");
      try {
        expectTypedFailure(await lamin(["ls"], { env }), 5, /error: the database is unavailable: /);
      } finally {
        pg.start();
      }
      const back = await lamin(["ls", "--key-prefix", "batch/f59", "--json"], { env });
      expect(back.code, back.stderr).toBe(0);
      expect(
        JSON.parse(back.stdout)
          .map((a: { key: string }) => a.key)
          .sort(),
      ).toEqual(
        Array.from({ length: 11 }, (_, i) => `batch/f59${i === 0 ? "" : i - 1}.txt`).sort(),
      );
    } finally {
      await stopChild(child);
    }
  });
});
