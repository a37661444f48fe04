/**
 * PGlite is one process per data folder: a second process opening it would corrupt it. This lock
 * file guards the folder. A holder that died (same host, pid gone, a zombie, or reused by a process
 * started after the lock was taken) is taken over at once; a live holder is waited for, with a
 * message, up to a timeout.
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { UnavailableError } from "../errors.js";
import { processAlive } from "../util/process.js";

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** What holds it, for the wait message (e.g. "lamin serve"). */
  purpose?: string;
}

export interface Lock {
  readonly path: string;
  release(): void;
}

export interface AcquireOptions {
  purpose?: string;
  timeoutMs?: number;
  /** Called once when we start waiting for a live holder. */
  onWait?: (holder: LockHolder) => void;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export function readLockHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as LockHolder;
  } catch {
    return undefined;
  }
}

/** The lock file that guards an embedded database, beside its folder. */
export const pgliteLockPath = (dataDir: string) => `${dataDir}.lock`;

function isAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true; // cannot tell: assume it lives
  // a zombie, or a newer process that got the pid of a holder that was killed, holds nothing
  const since = new Date(holder.startedAt);
  return processAlive(holder.pid, Number.isNaN(since.getTime()) ? undefined : since);
}

function tryCreate(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(holder));
    closeSync(fd);
    return true;
  } catch (error) {
    // e.g. a full disk: leave no empty lock file behind for the next process to puzzle over
    closeSync(fd);
    unlinkSync(path);
    throw error;
  }
}

/** Move a dead holder's file aside atomically, so two takers cannot both remove a fresh lock. */
function removeIfStale(path: string, stale: LockHolder | undefined): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it
  }
  const moved = readLockHolder(aside);
  const same =
    stale === undefined
      ? moved === undefined
      : moved?.pid === stale.pid && moved.startedAt === stale.startedAt;
  if (same) {
    unlinkSync(aside);
  } else {
    // we moved a fresh lock by accident: put it back
    try {
      renameSync(aside, path);
    } catch {
      unlinkSync(aside);
    }
  }
}

export async function acquireLock(path: string, opts: AcquireOptions = {}): Promise<Lock> {
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    ...(opts.purpose ? { purpose: opts.purpose } : {}),
  };
  const timeoutMs =
    opts.timeoutMs ?? (Number(process.env.LAMIN_LOCK_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS);
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    if (tryCreate(path, me)) break;
    const holder = readLockHolder(path);
    if (!holder) {
      // being written right now, or garbage left by a crash mid-write
      await sleep(20);
      const again = readLockHolder(path);
      if (!again) removeIfStale(path, undefined);
      continue;
    }
    if (!isAlive(holder)) {
      removeIfStale(path, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new UnavailableError(
        `the instance database is in use by process ${holder.pid}${holder.purpose ? ` (${holder.purpose})` : ""}`,
        "wait for it to finish or stop it, then try again (LAMIN_LOCK_TIMEOUT_MS sets how long to wait)",
      );
    }
    if (!told) {
      opts.onWait?.(holder);
      told = true;
    }
    await sleep(100);
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener("exit", release);
    const holder = readLockHolder(path);
    if (holder?.pid === me.pid && holder.startedAt === me.startedAt) {
      try {
        unlinkSync(path);
      } catch {}
    }
  };
  process.on("exit", release);
  return { path, release };
}
