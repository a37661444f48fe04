/** Shared fixtures: temporary folders, settings homes, and instances on each database we have. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { type Db, queryRows } from "../core/db/client.js";
import { dropDatabase } from "../core/db/postgres.js";
import type { Instance } from "../core/instance.js";
import { initInstance } from "../core/setup.js";
import { randomBase62 } from "../core/uid.js";

export const REPO = new URL("..", import.meta.url).pathname;
export const LAMIN_BIN = join(REPO, "bin", "lamin.js");

/** Databases to run on: PGlite always, Postgres when DATABASE_URL points at a server. */
export const BACKENDS: ("pglite" | "postgres")[] = process.env.DATABASE_URL
  ? ["pglite", "postgres"]
  : ["pglite"];

export function tempDir(prefix = "lamin-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A fresh `$LAMIN_HOME` for this test file, so tests never touch the user's settings. */
export function useTempHome(): string {
  const home = tempDir("lamin-home-");
  process.env.LAMIN_HOME = home;
  process.env.LAMIN_CACHE_DIR = join(home, "cache");
  delete process.env.LAMIN_INSTANCE;
  return home;
}

/** A URL for a database of our own on the test Postgres server (created by `init`). */
export function postgresUrl(name = `lamin_test_${randomBase62(8).toLowerCase()}`): string {
  const base = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres");
  base.pathname = `/${name}`;
  return base.toString();
}

export interface TestInstance {
  instance: Instance;
  root: string;
  name: string;
  /** Close the instance and remove its database and folder. */
  dispose(): Promise<void>;
}

export async function createInstance(
  backend: "pglite" | "postgres",
  name?: string,
): Promise<TestInstance> {
  const root = join(tempDir(), "storage");
  const instanceName = name ?? `t-${randomBase62(6).toLowerCase()}`;
  const db = backend === "postgres" ? postgresUrl() : undefined;
  const instance = await initInstance({ storage: root, name: instanceName, ...(db ? { db } : {}) });
  const handle: TestInstance = {
    instance,
    root,
    name: instanceName,
    async dispose() {
      // tests may reopen the instance: close whatever handle holds now
      await handle.instance.close().catch(() => {});
      if (db) await dropDatabase(db).catch(() => {});
      rmSync(join(root, ".."), { recursive: true, force: true });
    },
  };
  return handle;
}

/** Write files below `dir` from a map of relative path to content. */
export function writeTree(dir: string, files: Record<string, string | Uint8Array>): string {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}

/** Files below `root/.lamindb/` that hold artifact bytes (not the database or the marker). */
export function managedFiles(root: string): string[] {
  return readdirSync(join(root, ".lamindb"))
    .filter((f) => !["pglite", "pglite.lock", "storage_uid.txt"].includes(f))
    .sort();
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const execFileP = promisify(execFile);

/** Run the built `lamin` as a user would, in its own process. */
export async function lamin(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [LAMIN_BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, ...opts.env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw error;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** `lamin` run in the folder `cwd`; `json` expects exit 0 and parses the `--json` output. */
export function laminIn(cwd: string) {
  const run = (...args: string[]) => lamin(args, { cwd });
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await run(...args, "--json");
    expect(r.code, `lamin ${args.join(" ")}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  return { run, json };
}

/** A refused command: its exit code, one `error:` line, `message` on stderr, and a `hint:` line. */
export function expectRefusal(r: CliResult, code: number, message: RegExp): void {
  const context = JSON.stringify(r, null, 2);
  expect(r.code, context).toBe(code);
  expect(
    r.stderr.split("\n").filter((l) => l.startsWith("error: ")),
    context,
  ).toHaveLength(1);
  expect(r.stderr, context).toMatch(message);
  expect(r.stderr, context).toMatch(/^hint: /m);
}

/** Every row of `tables` as one string: compare before and after a change that must be refused. */
export async function snapshotTables(db: Db, tables: readonly string[]): Promise<string> {
  const out: Record<string, unknown[]> = {};
  for (const table of tables) {
    out[table] = await queryRows(db, sql`SELECT * FROM ${sql.raw(table)} ORDER BY id`);
  }
  return JSON.stringify(out);
}

/**
 * A long-running `lamin` command (serve, dev, hub serve) as a child process, once it printed its
 * first line (the `--json` ready line), parsed; `stderr()` is all it wrote to stderr so far.
 */
export async function startLamin<T>(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; ready: T; stderr: () => string }> {
  const child = spawn(process.execPath, [LAMIN_BIN, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
  });
  let err = "";
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
    });
    child.stderr?.on("data", (d) => {
      err += d;
    });
    child.on("exit", (code) => reject(new Error(`lamin ${args[0]} exited with ${code}: ${err}`)));
  });
  return { child, ready: JSON.parse(line) as T, stderr: () => err };
}

/**
 * `lamin hub serve` on `hubDir` (instances' storage allowed inside `storageAllow`), after one
 * account per user was made by the operator (a PGlite hub database is taken by the server once
 * it runs); each user is logged in with its own settings (`env`). Returns the server, its URL
 * and each user's API key.
 */
export async function serveHubFor(opts: {
  hubDir: string;
  storageAllow: string;
  operator: Record<string, string>;
  users: Record<string, Record<string, string>>;
}): Promise<{ server: ChildProcess; url: string; keys: Record<string, string> }> {
  const keys: Record<string, string> = {};
  for (const handle of Object.keys(opts.users)) {
    const r = await lamin(["hub", "create-account", handle, "--dir", opts.hubDir, "--json"], {
      env: opts.operator,
    });
    expect(r.code, r.stderr).toBe(0);
    keys[handle] = (JSON.parse(r.stdout) as { key: string }).key;
  }
  const { child, ready } = await startLamin<{ url: string }>(
    ["hub", "serve", "--dir", opts.hubDir, "--storage-allow", opts.storageAllow].concat([
      "--port",
      "0",
      "--json",
    ]),
    opts.operator,
  );
  try {
    for (const [handle, env] of Object.entries(opts.users)) {
      const key = keys[handle] as string;
      const login = await lamin(["login", "--hub", ready.url, "--key", key], { env });
      expect(login.code, login.stderr).toBe(0);
    }
  } catch (error) {
    await stopChild(child); // no server left behind by a failed setup
    throw error;
  }
  return { server: child, url: ready.url, keys };
}

/** Stop a child process started by {@link startLamin} and wait for it to exit. */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
