/**
 * `ln.track()` / `ln.finish()` (LaminDB's `_context.py`, `_finish.py`) and their CLI twins
 * `lamin track FILE` / `lamin finish`.
 *
 * track: the script becomes a Transform (key = its path relative to the git repository or the
 * current folder, kind `script`, source_code = its text, hash = hash_string(source); same key and
 * source: the same transform; new source: its next version; `uid` pins the family across
 * renames), and a Run starts (status `started`, params, cli_args, and in `extra_data.environment`
 * the Node version, platform and the hash of package-lock.json). While it is tracked, artifacts
 * saved get the run's `run_id` and artifacts loaded become its inputs.
 *
 * finish: status `completed` (0), `finished_at`, and the captured stdout/stderr saved as the run's
 * report artifact (kind `__lamindb_run__`). In a script tracked by `ln.track()`, an uncaught
 * error marks the run `errored` (1) and a SIGINT/SIGTERM `aborted` (2), logs still saved.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { eq, sql } from "drizzle-orm";
import * as t from "../../db/schema.js";
import { ConflictError, NotFoundError, ValidationError } from "../../errors.js";
import { hashFile } from "../../hash.js";
import type { Instance } from "../../instance.js";
import { cacheDir } from "../../settings.js";
import { internalSave, RUN_FILE_KIND } from "../artifacts/artifacts.js";
import type { CreateStatus } from "../records/base.js";
import { findPlan } from "../records/plans.js";
import { RUN_STATUS_CODES, type Run } from "../records/runs.js";
import type { Transform, TransformKind } from "../records/transforms.js";
import { loadActiveRun } from "./active-run.js";
import { currentRun, setCurrentRun } from "./run-context.js";

export interface TrackOptions {
  /** Pin the transform's identity: a 12-character uid stem (or a full 16-character uid). */
  uid?: string;
  /** The script (default: the file Node is running, `process.argv[1]`). */
  path?: string;
  /** Transform key (default: the path relative to the git repository or the current folder). */
  key?: string;
  description?: string;
  /** Default `script`. */
  kind?: TransformKind;
  /** Parameters of this run, stored as JSON. */
  params?: Record<string, unknown>;
  /** The run's plan: the uid or key of a saved artifact (LaminDB's `ln.track(plan=...)`). */
  plan?: string;
  /**
   * Capture stdout/stderr for the run's report, and mark the run errored on an uncaught error
   * (default true for `ln.track()`; the CLI's `lamin track` leaves the shell alone).
   */
  captureProcess?: boolean;
}

export interface TrackResult {
  transform: Transform;
  /** How the transform was found: `created`, `new-version`, `existing`, `restored`. */
  transformStatus: CreateStatus;
  run: Run;
}

export type EndStatus = "completed" | "errored" | "aborted";

/** The process-level state of an `ln.track()` run: log capture and exit hooks. */
interface Capture {
  chunks: string[];
  size: number;
  restore(): void;
}

const captures = new WeakMap<object, Capture>();
/** At most this much of the log is kept for the report (the rest is cut). */
const MAX_LOG = 10 * 1024 * 1024;

/**
 * The transform key of a script: its path relative to the enclosing git repository, else to the
 * current folder when inside it, else its file name (LaminDB: relative to the dev dir).
 */
export function transformKey(path: string): string {
  const abs = resolve(path);
  let dir = dirname(abs);
  for (;;) {
    if (existsSync(join(dir, ".git"))) return toPosix(relative(dir, abs));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith("..") && !rel.startsWith(sep) ? toPosix(rel) : basename(abs);
}

const toPosix = (p: string) => p.split(sep).join("/");

/** Node version, platform and the hash of the nearest package-lock.json (the run environment). */
export async function environment(from: string): Promise<Record<string, unknown>> {
  const env: Record<string, unknown> = {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  };
  let dir = resolve(from);
  for (;;) {
    const lock = join(dir, "package-lock.json");
    if (existsSync(lock)) {
      env.package_lock = { path: lock, hash: (await hashFile(lock)).hash };
      break;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return env;
}

/**
 * Record the transform of a script and start a run of it; the instance tracks the run until
 * `endRun`. Nothing is written when the script cannot be read or the options are wrong.
 */
export async function startRun(
  instance: Instance,
  opts: TrackOptions & { cliArgs?: string },
): Promise<TrackResult> {
  const running = currentRun(instance);
  if (running) {
    throw new ConflictError(
      `run ${running.uid} is already being tracked`,
      "call finish() before tracking another run",
    );
  }
  const path = opts.path ?? process.argv[1];
  if (!path) {
    throw new ValidationError(
      "which script? none is running (process.argv[1] is empty)",
      "pass { path } to track()",
    );
  }
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info?.isFile()) {
    throw new ValidationError(
      `cannot track ${path}: ${info ? "not a regular file" : "no such file"}`,
      "pass the path of the script that runs",
    );
  }
  if (opts.params !== undefined && (typeof opts.params !== "object" || Array.isArray(opts.params)))
    throw new ValidationError("params must be a JSON object", 'e.g. { "learning_rate": 0.01 }');
  // the plan first: an unknown one writes nothing
  if (opts.plan !== undefined) await findPlan(instance.artifacts, opts.plan);
  const source = readFileSync(path, "utf8");
  const created = await instance.transforms.create({
    key: opts.key ?? transformKey(path),
    kind: opts.kind ?? "script",
    source_code: source,
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
  });
  const env = await environment(dirname(resolve(path)));
  const { record: run } = await instance.runs.create({
    transform: created.record.uid,
    ...(opts.params !== undefined ? { params: opts.params } : {}),
    ...(opts.plan !== undefined ? { plan: opts.plan } : {}),
  });
  const cliArgs = (opts.cliArgs ?? process.argv.slice(2).join(" ")).slice(0, 1024);
  const [row] = await instance.db
    .update(t.run)
    .set({ extraData: { environment: env }, cliArgs: cliArgs || null })
    .where(eq(t.run.uid, run.uid))
    .returning({ id: t.run.id });
  setCurrentRun(instance, { id: (row as { id: number }).id, uid: run.uid });
  return { transform: created.record, transformStatus: created.status, run };
}

/**
 * End the tracked run (or the run `runUid`): status, `finished_at`, and the log as its report.
 * The instance stops attributing saves and loads to it.
 */
export async function endRun(
  instance: Instance,
  opts: { status?: EndStatus; log?: string; runUid?: string } = {},
): Promise<Run> {
  const uid = opts.runUid ?? currentRun(instance)?.uid;
  if (!uid) {
    throw new NotFoundError(
      "no run is being tracked",
      "call track() first (in the shell: `lamin track SCRIPT`)",
    );
  }
  if (currentRun(instance)?.uid === uid) setCurrentRun(instance, undefined);
  const status = opts.status ?? "completed";
  let reportId: number | null = null;
  if (opts.log) {
    // LaminDB writes `run_logs_<uid>.txt` to the cache and saves it as the run's report
    const dir = join(cacheDir(), "run-logs");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `run_logs_${uid}.txt`);
    writeFileSync(file, opts.log);
    const { artifact } = await instance.artifacts.save(
      file,
      internalSave({ description: `log streams of run ${uid}`, kind: RUN_FILE_KIND }),
    );
    rmSync(file, { force: true });
    const [a] = await instance.db
      .select({ id: t.artifact.id })
      .from(t.artifact)
      .where(eq(t.artifact.uid, artifact.uid));
    reportId = a?.id ?? null;
  }
  const done = await instance.db
    .update(t.run)
    .set({
      statusCode: RUN_STATUS_CODES[status],
      finishedAt: sql`now()`,
      updatedAt: sql`now()`,
      ...(reportId !== null ? { reportId } : {}),
    })
    .where(eq(t.run.uid, uid))
    .returning({ id: t.run.id });
  if (done.length === 0) throw new NotFoundError(`no run with uid ${uid}`, "was it deleted?");
  return instance.runs.get(uid);
}

/** `ln.track()`: start a run of the running script, capturing its output and its failure. */
export async function track(instance: Instance, arg?: string | TrackOptions): Promise<TrackResult> {
  const opts: TrackOptions = typeof arg === "string" ? { uid: arg } : (arg ?? {});
  const result = await startRun(instance, opts);
  if (opts.captureProcess !== false) captureProcess(instance);
  return result;
}

/** `ln.finish()`: the tracked run is completed; its captured log becomes its report. */
export async function finish(instance: Instance, opts: { status?: EndStatus } = {}): Promise<Run> {
  const capture = captures.get(instance);
  captures.delete(instance);
  capture?.restore();
  return endRun(instance, {
    ...(opts.status ? { status: opts.status } : {}),
    ...(capture ? { log: capture.chunks.join("") } : {}),
  });
}

/** Tee stdout/stderr into the run's log; on an uncaught error or a signal, end the run and exit. */
function captureProcess(instance: Instance): void {
  const capture: Capture = { chunks: [], size: 0, restore: () => {} };
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const tee = (stream: NodeJS.WriteStream, original: typeof process.stdout.write) =>
    function (this: unknown, chunk: unknown, ...rest: unknown[]) {
      if (capture.size < MAX_LOG) {
        const text =
          typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString();
        capture.chunks.push(text);
        capture.size += text.length;
      }
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    } as typeof process.stdout.write;
  process.stdout.write = tee(process.stdout, originals.out);
  process.stderr.write = tee(process.stderr, originals.err);

  const end = (status: EndStatus, exitCode: number) => {
    finish(instance, { status })
      .catch((e: unknown) => {
        originals.err.call(process.stderr, `lamindb: could not record the run's end: ${e}\n`);
      })
      .finally(() => {
        instance
          .close()
          .catch(() => {})
          .finally(() => process.exit(exitCode));
      });
  };
  const onError = (error: unknown) => {
    // what Node would have printed, into the log too
    const text = error instanceof Error ? (error.stack ?? String(error)) : String(error);
    process.stderr.write(`${text}\n`);
    end("errored", 1);
  };
  const onSignal = (signal: NodeJS.Signals) => end("aborted", signal === "SIGINT" ? 130 : 143);
  process.on("uncaughtException", onError);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  capture.restore = () => {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
    process.off("uncaughtException", onError);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  captures.set(instance, capture);
}

// ------------------------------------------------------------------ the CLI's active run

/** Attribute the instance's saves and loads to the run `lamin track` started (if any). */
export async function resumeActiveRun(instance: Instance): Promise<string | undefined> {
  const active = loadActiveRun(instance.settings.name);
  if (!active) return undefined;
  const [row] = await instance.db
    .select({ id: t.run.id })
    .from(t.run)
    .where(eq(t.run.uid, active.run));
  if (!row) return undefined; // the run was deleted: nothing to attribute to
  setCurrentRun(instance, { id: row.id, uid: active.run });
  return active.run;
}
