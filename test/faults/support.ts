/**
 * What the fault suite shares: `lamin` processes to kill mid-work, waiting for a sign that the
 * work is under way, files big enough to be caught mid-copy, and the checks every fault ends
 * with (a refusal is one typed line; nothing acknowledged is lost or doubled).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readdirSync, statSync, utimesSync, writeSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { type CliResult, LAMIN_BIN, REPO } from "../helpers.js";

/** A `lamin` process of the test's, with what it printed so far. */
export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the process has exited, with its code (null when killed) and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnLamin(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Running {
  const child = spawn(process.execPath, [LAMIN_BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** kill -9, and wait until it is gone. */
export async function killHard(running: Running): Promise<void> {
  if (running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill("SIGKILL");
  }
  await running.exited;
}

/**
 * Poll `probe` every few milliseconds until it returns something; fail after `ms` with `what`.
 * Also fails when `running` exits first: the moment to interrupt it has passed.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  opts: { ms?: number; running?: Running } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.ms ?? 30_000);
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    const child = opts.running?.child;
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(
        `the process exited before ${what}: ${opts.running?.stderr()} ${opts.running?.stdout()}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

/** Names in `dir` (not below) that match `pattern`, sorted; none when `dir` is missing. */
export function namesMatching(dir: string, pattern: RegExp): string[] {
  try {
    return readdirSync(dir)
      .filter((e) => pattern.test(e))
      .sort();
  } catch {
    return [];
  }
}

/** Set the modification time of `path` and everything below it to `when`. */
export function backdate(path: string, when: Date): void {
  if (statSync(path).isDirectory()) {
    for (const e of readdirSync(path)) backdate(join(path, e), when);
  }
  utimesSync(path, when, when);
}

/** Size of a file, or 0 when it is not there (yet). */
export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** A file of `mib` MiB of random bytes (written in 4 MiB blocks: fast, and not all alike). */
export function bigFile(path: string, mib: number): string {
  const block = randomBytes(4 * 1024 * 1024);
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < mib / 4; i++) {
      block.writeUInt32LE(i, 0); // blocks differ: no hash or copy can shortcut them
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/**
 * A refusal as users must see it: the exit code, one `error:` line that names what happened,
 * a `hint:` line, and none of what an unexpected failure looks like (a bug report request, a
 * stack, SQL, JavaScript's "[object Object]").
 */
export function expectTypedFailure(r: CliResult, code: number, message: RegExp): void {
  const context = JSON.stringify(r, null, 2);
  expect(r.code, context).toBe(code);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error: "));
  expect(errors, context).toHaveLength(1);
  expect(errors[0], context).toMatch(message);
  expect(r.stderr, context).toMatch(/^hint: /m);
  expectNoInternals(r.stderr + r.stdout);
}

/** Text shown to a user or client holds no SQL, no stack, no "report a bug". */
export function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/report (it|a bug)|this is a bug|\[object Object\]|Aborted\(\)/i);
  expect(text).not.toMatch(/\b(SELECT|INSERT INTO|UPDATE .* SET|DELETE FROM)\b|params:|\n\s+at /);
}

/** Whether this process may mount file systems (tmpfs, read-only binds): root on Linux. */
export function canMount(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== "linux") return { ok: false, reason: "mounts need Linux" };
  if (process.getuid?.() !== 0) return { ok: false, reason: "mounts need root" };
  return { ok: true };
}

/** Mount a tmpfs of `size` (e.g. "2m") at `dir`. */
export function mountTmpfs(dir: string, size: string): void {
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
}

/** Make `dir` read-only where it is (a read-only bind mount over itself). */
export function mountReadOnly(dir: string): void {
  execFileSync("mount", ["--bind", dir, dir]);
  execFileSync("mount", ["-o", "remount,bind,ro", dir]);
}

export function unmount(dir: string): void {
  execFileSync("umount", ["-l", dir]);
}

/** Fill the file system of `dir` until `leaveBytes` are free (a file `filler` in `dir`). */
export function fillDisk(dir: string, leaveBytes: number): string {
  const filler = join(dir, "filler");
  const free = Number(
    execFileSync("df", ["--output=avail", "-B1", dir]).toString().trim().split("\n").pop(),
  );
  execFileSync("fallocate", ["-l", String(Math.max(free - leaveBytes, 4096)), filler]);
  return filler;
}
