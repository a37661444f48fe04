/**
 * `lamin serve --watch`: files dropped into (changed in, deleted from) a local storage folder
 * are registered as they settle, through the same {@link Ingestor} that S3 bucket events use.
 *
 * Only changes seen while watching count: on start nothing is scanned (that is `lamin
 * reconcile`'s job, which also repairs what happened while no watcher ran). A path acts only
 * after `quietMs` without an event for it and once its size and mtime agree across two stats
 * `quietMs` apart, so a file still being copied is not registered half-written.
 */
import { type FSWatcher, watch } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { and, eq, like } from "drizzle-orm";
import * as t from "../db/schema.js";
import { ValidationError } from "../errors.js";
import type { Instance } from "../instance.js";
import { MAIN } from "../registry/common/branch.js";
import { likeEscape } from "../registry/model/query.js";
import { AUTO_KEY_PREFIX } from "../storage/types.js";
import { type StorageEvent, sequencerFromTime } from "./events.js";
import { type IngestOutcome, Ingestor } from "./ingest.js";

export interface WatchOptions {
  /** Every outcome of an applied event, with the event. */
  onOutcome?: (outcome: IngestOutcome, event: StorageEvent) => void;
  /** Failures (of the watcher, of a stat, of an apply); the watcher goes on. */
  onError?: (error: Error, key?: string) => void;
  /** How long a path must see no event before it is looked at. */
  quietMs?: number;
}

export interface FolderWatcher {
  /** Stop watching; debounced work not yet started is dropped, running work is awaited. */
  close(): Promise<void>;
  /** Resolves once no debounced or running work is left (events not yet delivered aside). */
  idle(): Promise<void>;
}

/** Why `--watch` cannot serve this instance's storage, or undefined when it can. */
export function watchRefusal(storage: { type: string; localPath(key: string): unknown }) {
  if (storage.type === "local" && typeof storage.localPath("") === "string") return undefined;
  return new ValidationError(
    "--watch is for local-folder storage",
    "S3 storage registers uploads through its bucket events: see `lamin dev` / the ingest function",
  );
}

/** Names of files in the making: editors' locks and swaps, partial downloads, our own temps. */
const TEMPORARY =
  /^(~\$|\.#|\.~)|\.(tmp|temp|part|partial|crdownload|download|swp|swx)$|~$|\.(tmp|old|upload)-[A-Za-z0-9]+$/i;

/** Whether a storage-relative key is lamindb's own or a temporary file (or below one). */
export function ignoredKey(key: string): boolean {
  if (key === "" || key === ".lamindb" || key.startsWith(AUTO_KEY_PREFIX)) return true;
  return key.split("/").some((segment) => TEMPORARY.test(segment));
}

interface Seen {
  size: number;
  mtimeMs: number;
  ino: number;
}

export function watchFolder(instance: Instance, opts: WatchOptions = {}): FolderWatcher {
  const refusal = watchRefusal(instance.storage);
  if (refusal) throw refusal;
  const root = instance.storage.localPath("") as string;
  const quietMs = opts.quietMs ?? 300;
  const ingestor = new Ingestor(instance);
  const report = (error: unknown, key?: string) => {
    try {
      opts.onError?.(error instanceof Error ? error : new Error(String(error)), key);
    } catch {
      // a failing reporter must not stop the watcher either
    }
  };

  const timers = new Map<string, NodeJS.Timeout>();
  /** Per key: the tail of its work, so that its events apply one at a time, in order. */
  const chains = new Map<string, Promise<void>>();
  /** Per key: the stat of the last look that found it changing. */
  const seen = new Map<string, Seen>();
  let busy = 0;
  let closed = false;
  const waiters: (() => void)[] = [];
  const settle = () => {
    if (timers.size === 0 && busy === 0) for (const resolve of waiters.splice(0)) resolve();
  };

  // Date.now() has millisecond resolution: keep sequencers strictly increasing regardless.
  let lastMicros = 0n;
  const nextSequencer = () => {
    const now = BigInt(Date.now()) * 1000n;
    lastMicros = now > lastMicros ? now : lastMicros + 1n;
    return sequencerFromTime(lastMicros);
  };

  const schedule = (key: string) => {
    if (closed || ignoredKey(key)) return;
    clearTimeout(timers.get(key));
    timers.set(
      key,
      setTimeout(() => {
        busy++; // before the timer goes, so idle() never sees a gap
        timers.delete(key);
        serially(key, () => look(key)).finally(() => {
          busy--;
          settle();
        });
      }, quietMs),
    );
  };

  const serially = (key: string, work: () => Promise<void>): Promise<void> => {
    const run = (chains.get(key) ?? Promise.resolve()).then(work).catch((e) => report(e, key));
    chains.set(key, run);
    return run.finally(() => {
      if (chains.get(key) === run) chains.delete(key);
    });
  };

  const apply = async (type: StorageEvent["type"], key: string) => {
    if (closed) return;
    const event: StorageEvent = {
      type,
      bucket: "",
      key,
      sequencer: nextSequencer(),
      name: "watch",
    };
    try {
      opts.onOutcome?.(await ingestor.apply(event), event);
    } catch (error) {
      report(error, key);
    }
  };

  /** Act on what is at `key` now that it has been quiet. */
  const look = async (key: string) => {
    if (closed) return;
    const info = await lstat(join(root, key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
      throw error;
    });
    if (!info) {
      seen.delete(key);
      await apply("removed", key);
      // a deleted folder: its files get no events of their own
      for (const below of await inPlaceKeys(key, "below")) {
        await serially(below, () => apply("removed", below));
      }
    } else if (info.isDirectory()) {
      seen.delete(key);
      // a file replaced by a folder is gone
      if ((await inPlaceKeys(key, "exact")).length > 0) await apply("removed", key);
      await scan(key);
    } else if (info.isSymbolicLink()) {
      // never followed: the ingestor trashes what was registered here (or below a folder the
      // link replaced), or skips it, and says why
      seen.delete(key);
      await apply("created", key);
      for (const below of await inPlaceKeys(key, "below")) {
        await serially(below, () => apply("created", below));
      }
    } else if (info.isFile()) {
      const now = { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
      const before = seen.get(key);
      if (
        !before ||
        before.size !== now.size ||
        before.mtimeMs !== now.mtimeMs ||
        before.ino !== now.ino
      ) {
        seen.set(key, now);
        schedule(key); // look again after another quiet period
        return;
      }
      seen.delete(key);
      await apply("created", key);
    }
    // sockets, fifos: not artifacts
  };

  /** A folder appeared (moved in whole, it gets one event): look at each file below it. */
  const scan = async (key: string) => {
    const entries = await readdir(join(root, key), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      schedule(relative(root, join(entry.parentPath, entry.name)).split(sep).join("/"));
    }
  };

  /** Keys of in-place artifacts on the main branch at `key`, or below it (a folder). */
  const inPlaceKeys = async (key: string, where: "exact" | "below"): Promise<string[]> => {
    const a = t.artifact;
    const rows = await instance.db
      .selectDistinct({ key: a.key })
      .from(a)
      .where(
        and(
          eq(a.storageId, instance.storageRecord.id),
          where === "exact" ? eq(a.key, key) : like(a.key, `${likeEscape(key)}/%`),
          eq(a.keyIsVirtual, false),
          eq(a.branchId, MAIN),
        ),
      );
    return rows.flatMap((r) => (r.key === null ? [] : [r.key])).sort();
  };

  let watcher: FSWatcher;
  try {
    watcher = watch(root, { recursive: true }, (_type, filename) => {
      if (filename) schedule(filename.toString().split(sep).join("/"));
    });
  } catch (error) {
    throw new ValidationError(
      `cannot watch ${root}: ${(error as Error).message}`,
      "check that the storage folder exists and that inotify watches are available",
    );
  }
  watcher.on("error", (error) => report(error));

  return {
    async close() {
      closed = true;
      watcher.close();
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...chains.values()]);
      settle();
    },
    idle() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        settle();
      });
    },
  };
}
