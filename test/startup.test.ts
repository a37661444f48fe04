/**
 * The fast start of short `lamin` commands (issue 20) must not cost correctness:
 * - a short command's Postgres starts with small shared buffers and room for 10 connections, a
 *   long-lived process keeps 32 MB and 100 (core/db/pglite-tuning.ts);
 * - one command that writes far more pages than those buffers hold (reconcile of hundreds of
 *   files) leaves every row readable by the next command;
 * - opening checks no migrations: a read-only command on an instance whose schema is behind
 *   this version still fails with the hint to run `lamin migrate deploy`, changing nothing.
 * No timing is asserted here: bench/startup.ts measures.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { openPglite } from "../core/db/pglite.js";
import {
  LONG_LIVED_SHARED_BUFFERS,
  SHORT_COMMAND_SHARED_BUFFERS,
  tunePgliteForShortCommand,
} from "../core/db/pglite-tuning.js";
import { initInstance, openInstance } from "../core/setup.js";
import { laminIn, tempDir, useTempHome, writeTree } from "./helpers.js";

const TIMEOUT = { timeout: 240_000 };
const home = useTempHome();
const work = tempDir("lamin-startup-");
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const { run, json } = laminIn(work);

/** What a database opened by openPglite in this process is sized for. */
async function sizing(dataDir: string): Promise<{ buffers?: string; connections?: string }> {
  const database = await openPglite(dataDir);
  try {
    const show = async (name: string) =>
      (await queryRows<Record<string, string>>(database.db, sql.raw(`SHOW ${name}`)))[0]?.[name];
    return { buffers: await show("shared_buffers"), connections: await show("max_connections") };
  } finally {
    await database.close();
  }
}

describe("short commands start a small Postgres", TIMEOUT, () => {
  const dataDir = join(work, "tuning-db");

  it("keeps Postgres's sizes for a long-lived process, small ones once tuned for a command", async () => {
    expect(await sizing(dataDir)).toEqual({
      buffers: LONG_LIVED_SHARED_BUFFERS,
      connections: "100",
    });
    tunePgliteForShortCommand(); // what cli/main.ts does for every command but the servers
    expect(await sizing(dataDir)).toEqual({
      buffers: SHORT_COMMAND_SHARED_BUFFERS,
      connections: "10",
    });
  });
});

describe("lamin on an embedded instance, with a short command's buffers", TIMEOUT, () => {
  const storage = join(work, "storage");
  const FILES = 300;

  it("registers hundreds of files in one command (more pages than its 128 buffers hold) and lists them all", async () => {
    await json("init", "--storage", storage, "--name", "startup");
    writeTree(
      join(storage, "drop"),
      Object.fromEntries(
        Array.from({ length: FILES }, (_, i) => [`f${i}.txt`, `file ${i} of the startup test\n`]),
      ),
    );
    const report = await json<{ registered: unknown[] }>("reconcile");
    expect(report.registered).toHaveLength(FILES);
    const listed = await json<{ key: string }[]>("ls", "--limit", "1000");
    expect(listed.map((a) => a.key).sort()).toEqual(
      Array.from({ length: FILES }, (_, i) => `drop/f${i}.txt`).sort(),
    );
  });

  it("checks no migration when opening: a schema behind this version still names `lamin migrate deploy`, and nothing changes", async () => {
    // the instance as an earlier version left it: a column this version reads is missing
    const instance = await initInstance({ storage: join(work, "behind"), name: "behind" });
    const file = join(work, "behind.txt");
    writeFileSync(file, "saved before the schema went behind\n");
    try {
      await instance.artifacts.save(file, { key: "behind.txt" });
      await instance.db.execute(sql`ALTER TABLE lamindb_artifact DROP COLUMN _overwrite_versions`);
    } finally {
      await instance.close();
    }
    for (const args of [["ls"], ["describe", "--key", "behind.txt"]]) {
      const r = await run(...args);
      expect(r.code, `lamin ${args.join(" ")}: ${r.stderr}`).toBe(5);
      expect(r.stderr).toMatch(/lacks a column or table/);
      expect(r.stderr).toMatch(/^hint: .*lamin migrate deploy/m);
      expect(r.stderr).not.toMatch(/SELECT|report it/);
    }
    // the commands failed before changing anything: the row is there, the lock was released
    const reopened = await openInstance("behind");
    try {
      const [row] = await queryRows<{ n: number }>(
        reopened.db,
        sql`SELECT count(*)::int AS n FROM lamindb_artifact WHERE key = 'behind.txt'`,
      );
      expect(row?.n).toBe(1);
    } finally {
      await reopened.close();
    }
  });
});
