/**
 * `lamin track FILE` / `lamin finish`: runs of shell pipelines; `lamin lineage`; `lamin collection
 * create | ls | members | load`. All but `lineage` (which also asks a server's API) need the
 * instance's database in this process: a local instance that no `lamin serve` holds.
 */
import { existsSync, statSync } from "node:fs";
import {
  ConflictError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from "../../core/errors.js";
import type { Instance } from "../../core/instance.js";
import { clearActiveRun, loadActiveRun, saveActiveRun } from "../../core/registry/active-run.js";
import type { LineageDirection, LineageGraph } from "../../core/registry/lineage.js";
import type { Collection, CollectionRef, RunStatus } from "../../core/registry/records.js";
import { resolveInstanceSettings } from "../../core/settings.js";
import type { RemoteInstance } from "../../sdk/remote.js";
import { formatBytes, note, printJson, say, table } from "../output.js";
import { openTarget, type Target } from "../target.js";

interface Json {
  json?: boolean;
}

const isLocal = (target: Target): target is Target & Instance => "db" in target && "runs" in target;

/** Run `fn` on the current instance opened in this process, with `lamin track`'s run resumed. */
async function withLocal<T>(what: string, fn: (ln: Instance) => Promise<T>): Promise<T> {
  const target = await openTarget();
  try {
    if (!isLocal(target)) {
      throw new UnavailableError(
        `${what} needs the instance's database in this process, but it is reached through a server`,
        "stop `lamin serve` for this instance (or run it where the database is)",
      );
    }
    const { resumeActiveRun } = await import("../../core/registry/tracking.js");
    await resumeActiveRun(target);
    return await fn(target);
  } finally {
    await target.close();
  }
}

/**
 * Before `lamin save` / `lamin load`: attribute them to the run `lamin track` started. Over a
 * server the run cannot be recorded: say so.
 */
export async function attachActiveRun(target: Target): Promise<void> {
  const name = isLocal(target) ? target.settings.name : resolveInstanceSettings().name;
  const active = loadActiveRun(name);
  if (!active) return;
  if (isLocal(target)) {
    const { resumeActiveRun } = await import("../../core/registry/tracking.js");
    await resumeActiveRun(target);
  } else {
    note(
      `note: run ${active.run} (lamin track) is not recorded for this command: the instance is reached through a server`,
    );
  }
}

function wholeNumber(value: string, option: string, hint: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new ValidationError(`${option} must be a whole number, got '${value}'`, hint);
  }
  return n;
}

// ------------------------------------------------------------------ track / finish

export async function trackCommand(
  file: string,
  opts: Json & { uid?: string; key?: string; params?: string; description?: string },
) {
  const info = existsSync(file) ? statSync(file) : undefined;
  if (!info?.isFile()) {
    throw new ValidationError(
      `cannot track ${file}: ${info ? "not a regular file" : "no such file"}`,
      "give the path of the script the pipeline runs, e.g. lamin track pipe.sh",
    );
  }
  let params: Record<string, unknown> | undefined;
  if (opts.params !== undefined) {
    try {
      params = JSON.parse(opts.params) as Record<string, unknown>;
    } catch {
      throw new ValidationError("--params is not JSON", `e.g. --params '{"threads": 8}'`);
    }
  }
  const tracking = await import("../../core/registry/tracking.js");
  const settings = resolveInstanceSettings();
  const active = loadActiveRun(settings.name);
  if (active) {
    throw new ConflictError(
      `run ${active.run} of ${active.key} is still being tracked`,
      "end it first with `lamin finish` (or `lamin finish --status errored`)",
    );
  }
  const result = await withLocal("lamin track", (ln) =>
    tracking.startRun(ln, {
      path: file,
      kind: "script",
      captureProcess: false,
      cliArgs: "",
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.key !== undefined ? { key: opts.key } : {}),
      ...(opts.description !== undefined ? { description: opts.description } : {}),
      ...(params !== undefined ? { params } : {}),
    }),
  );
  saveActiveRun({
    instance: settings.name,
    run: result.run.uid,
    transform: result.transform.uid,
    key: result.transform.key,
    started_at: result.run.started_at,
  });
  if (opts.json) {
    return printJson({
      run: result.run,
      transform: result.transform,
      transform_status: result.transformStatus,
    });
  }
  const tr = result.transform;
  const how =
    result.transformStatus === "new-version"
      ? "new version"
      : result.transformStatus === "created"
        ? "new"
        : "same";
  say(
    `tracking run ${result.run.uid} of ${tr.key} (transform ${tr.uid}, ${how}, version ${tr.version})`,
  );
  note("lamin save / lamin load now belong to this run; end it with `lamin finish`");
}

export async function finishCommand(opts: Json & { status?: string }) {
  const status = (opts.status ?? "completed") as "completed" | "errored" | "aborted";
  if (!["completed", "errored", "aborted"].includes(status)) {
    throw new ValidationError(
      `invalid --status '${opts.status}'`,
      "use completed, errored or aborted",
    );
  }
  const tracking = await import("../../core/registry/tracking.js");
  const settings = resolveInstanceSettings();
  const active = loadActiveRun(settings.name);
  if (!active) {
    throw new NotFoundError(
      "no run is being tracked",
      "start one with `lamin track SCRIPT` before `lamin finish`",
    );
  }
  const run = await withLocal("lamin finish", (ln) =>
    tracking.endRun(ln, { runUid: active.run, status }),
  );
  clearActiveRun(settings.name);
  if (opts.json) return printJson(run);
  say(`finished run ${run.uid} of ${active.key} (${run.status as RunStatus})`);
}

// ------------------------------------------------------------------ lineage

export async function lineageCommand(
  uid: string | undefined,
  opts: Json & {
    key?: string;
    upstream?: boolean;
    downstream?: boolean;
    depth: string;
    format: string;
  },
) {
  if (uid && opts.key !== undefined) throw new ValidationError("give a uid or --key, not both");
  if (!uid && opts.key === undefined) {
    throw new ValidationError(
      "which artifact? give its uid or --key KEY",
      "find it with `lamin ls`",
    );
  }
  const depth = wholeNumber(opts.depth, "--depth", "e.g. --depth 10 (1-100)");
  const direction: LineageDirection =
    opts.upstream && !opts.downstream
      ? "upstream"
      : opts.downstream && !opts.upstream
        ? "downstream"
        : "both";
  const format = opts.json ? "json" : opts.format;
  if (!["text", "json", "mermaid", "dot", "svg"].includes(format)) {
    throw new ValidationError(
      `invalid --format '${format}'`,
      "use text, json, mermaid, dot or svg",
    );
  }
  const mod = await import("../../core/registry/lineage.js");
  mod.lineageOptions({ direction, depth }); // bad options fail before the database opens
  const ref: { uid: string } | { key: string } = uid ? { uid } : { key: opts.key as string };
  const target = await openTarget();
  let graph: LineageGraph;
  try {
    if (isLocal(target)) graph = await mod.lineage(target, ref, { direction, depth });
    else {
      // through `lamin serve` (or a remote instance): its API route
      const remote = target as unknown as RemoteInstance;
      const found = "uid" in ref ? ref.uid : (await remote.artifacts.get(ref)).uid;
      graph = await remote.artifacts.request<LineageGraph>(
        `${remote.url}/artifacts/${encodeURIComponent(found)}/lineage?direction=${direction}&depth=${depth}`,
        {},
        "getting the lineage",
      );
    }
  } finally {
    await target.close();
  }
  if (format === "json") return printJson(graph);
  const text =
    format === "mermaid"
      ? mod.toMermaid(graph)
      : format === "dot"
        ? mod.toDot(graph)
        : format === "svg"
          ? mod.toSvg(graph)
          : mod.toText(graph);
  process.stdout.write(text);
}

// ------------------------------------------------------------------ collections

const UID = /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/;

/** A positional KEY|UID (a uid first, then a key), or --key. */
async function findCollection(
  ln: Instance,
  ref: string | undefined,
  key: string | undefined,
): Promise<Collection> {
  if (ref && key !== undefined) throw new ValidationError("give a key or uid, or --key, not both");
  if (key !== undefined) return ln.collections.get({ key });
  if (!ref) {
    throw new ValidationError(
      "which collection? give its key or uid",
      "list them with `lamin collection ls`",
    );
  }
  if (UID.test(ref)) {
    try {
      return await ln.collections.get(ref);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  const byKey: CollectionRef = { key: ref };
  return ln.collections.get(byKey);
}

export async function collectionCreate(
  key: string,
  uids: string[],
  opts: Json & { description?: string; versionTag?: string },
) {
  const result = await withLocal("lamin collection create", (ln) =>
    ln.collections.create({
      key,
      artifacts: uids,
      ...(opts.description !== undefined ? { description: opts.description } : {}),
      ...(opts.versionTag !== undefined ? { version_tag: opts.versionTag } : {}),
    }),
  );
  if (result.note) note(`note: ${result.note}`);
  if (opts.json) return printJson({ ...result.record, status: result.status });
  const c = result.record;
  const verb =
    result.status === "created"
      ? "created"
      : result.status === "new-version"
        ? "created new version of"
        : result.status === "restored"
          ? "restored from trash:"
          : "already collected:";
  say(
    `${verb} ${c.key} -> ${c.uid} (version ${c.version}, ${c.artifacts.length} artifacts, hash ${c.hash})`,
  );
}

export async function collectionList(opts: Json & { limit: string }) {
  const limit = wholeNumber(opts.limit, "--limit", "e.g. --limit 50");
  const page = await withLocal("lamin collection ls", (ln) => ln.collections.list({ limit }));
  if (opts.json) return printJson(page.items);
  if (page.items.length === 0) return say("no collections");
  say(
    table(
      ["uid", "version", "artifacts", "created_at", "key"],
      page.items.map((c) => [
        c.uid,
        c.version + (c.is_latest ? "" : "*"),
        String(c.artifacts.length),
        c.created_at.slice(0, 19).replace("T", " "),
        c.key,
      ]),
    ),
  );
}

export async function collectionMembers(ref: string | undefined, opts: Json & { key?: string }) {
  const { collection, members } = await withLocal("lamin collection members", async (ln) => {
    const collection = await findCollection(ln, ref, opts.key);
    return { collection, members: await ln.collections.members(collection.uid) };
  });
  if (opts.json) return printJson({ ...collection, members });
  say(`Collection ${collection.uid}  ${collection.key}  (version ${collection.version})`);
  say(
    table(
      ["#", "uid", "size", "key / description"],
      members.map((a, i) => [
        String(i + 1),
        a.uid,
        formatBytes(a.size),
        a.key ?? a.description ?? "",
      ]),
    ),
  );
}

export async function collectionLoad(
  ref: string | undefined,
  opts: Json & { key?: string; to?: string },
) {
  const { collection, files } = await withLocal("lamin collection load", async (ln) => {
    const found = await findCollection(ln, ref, opts.key);
    return ln.collections.load(found.uid, opts.to !== undefined ? { to: opts.to } : {});
  });
  if (opts.json) return printJson({ ...collection, files });
  for (const f of files) say(f.path);
}
