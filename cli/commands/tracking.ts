/**
 * `lamin track FILE` / `lamin finish`: runs of shell pipelines; `lamin lineage`; `lamin collection
 * create | ls | members | load`. In process or through the instance's server (cli/target.ts): the
 * active run stays in a file on this machine (core/registry/lineage/active-run.ts) and is resumed in
 * process, or sent along with every write over HTTP (`lamin-run`).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConflictError, NotFoundError, ValidationError } from "../../core/errors.js";
import {
  clearActiveRun,
  loadActiveRun,
  saveActiveRun,
} from "../../core/registry/lineage/active-run.js";
import type { LineageDirection, LineageGraph } from "../../core/registry/lineage/lineage.js";
import type { Collection, CollectionRef, RunStatus } from "../../core/registry/records.js";
import { resolveInstanceSettings } from "../../core/settings.js";
import { formatBytes, note, printJson, say, table } from "../output.js";
import { either, type Target, withTarget } from "../target.js";

interface Json {
  json?: boolean;
}

/** Run `fn` on the current instance with `lamin track`'s run attached (in process or over HTTP). */
const withInstance = <T>(fn: (ln: Target) => Promise<T>): Promise<T> =>
  withTarget(async (ln) => {
    await attachActiveRun(ln);
    return fn(ln);
  });

/** Before a command writes or reads: attribute it to the run `lamin track` started. */
export async function attachActiveRun(target: Target): Promise<void> {
  await either(
    target,
    async (ln) => {
      const { resumeActiveRun } = await import("../../core/registry/lineage/tracking.js");
      await resumeActiveRun(ln);
    },
    async (remote) => remote.useRun(loadActiveRun(resolveInstanceSettings().name)?.run),
  );
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
  opts: Json & { uid?: string; key?: string; params?: string; description?: string; plan?: string },
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
  const tracking = await import("../../core/registry/lineage/tracking.js");
  const settings = resolveInstanceSettings();
  const active = loadActiveRun(settings.name);
  if (active) {
    throw new ConflictError(
      `run ${active.run} of ${active.key} is still being tracked`,
      "end it first with `lamin finish` (or `lamin finish --status errored`)",
    );
  }
  const track = {
    path: file,
    kind: "script" as const,
    captureProcess: false,
    cliArgs: "",
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.key !== undefined ? { key: opts.key } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    ...(params !== undefined ? { params } : {}),
    ...(opts.plan !== undefined ? { plan: opts.plan } : {}),
  };
  const result = await withTarget((target) =>
    either(
      target,
      (ln) => tracking.startRun(ln, track),
      // over HTTP: the same transform and run through the API, the script and its environment
      // read here
      async (remote) => {
        // the plan first: an unknown one writes nothing
        if (track.plan !== undefined) {
          const { findPlan } = await import("../../core/registry/records/plans.js");
          await findPlan(remote.artifacts, track.plan);
        }
        const transform = await remote.transforms.create({
          key: track.key ?? tracking.transformKey(file),
          kind: track.kind,
          source_code: readFileSync(file, "utf8"),
          ...(track.description !== undefined ? { description: track.description } : {}),
          ...(track.uid !== undefined ? { uid: track.uid } : {}),
        });
        const environment = await tracking.environment(dirname(resolve(file)));
        const { record: run } = await remote.runs.create({
          transform: transform.record.uid,
          extra_data: { environment },
          ...(track.params !== undefined ? { params: track.params } : {}),
          ...(track.plan !== undefined ? { plan: track.plan } : {}),
        });
        return { transform: transform.record, transformStatus: transform.status, run };
      },
    ),
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
  const settings = resolveInstanceSettings();
  const active = loadActiveRun(settings.name);
  if (!active) {
    throw new NotFoundError(
      "no run is being tracked",
      "start one with `lamin track SCRIPT` before `lamin finish`",
    );
  }
  const tracking = await import("../../core/registry/lineage/tracking.js");
  const run = await withTarget((ln) =>
    either(
      ln,
      (local) => tracking.endRun(local, { runUid: active.run, status }),
      (remote) => remote.runs.finish(active.run, status),
    ),
  );
  clearActiveRun(settings.name);
  if (opts.json) return printJson(run);
  say(`finished run ${run.uid} of ${active.key} (${run.status as RunStatus})`);
}

/** `lamin run ls`: runs, newest first, by fields, feature values and labels. */
export async function runList(
  opts: Json & {
    filter?: string[];
    features?: string[];
    transform?: string;
    status?: string;
    ulabel?: string;
    project?: string;
    limit: string;
  },
) {
  const { parseFilterArgs } = await import("../../core/registry/model/query.js");
  const limit = wholeNumber(opts.limit, "--limit", "e.g. --limit 50");
  const filter = {
    ...parseFilterArgs(opts.filter ?? []),
    ...(opts.transform !== undefined ? { transform__key: opts.transform } : {}),
    ...(opts.status !== undefined ? { status: opts.status } : {}),
    ...(opts.ulabel !== undefined ? { ulabels__name: opts.ulabel } : {}),
    ...(opts.project !== undefined ? { projects__name: opts.project } : {}),
  };
  const features = opts.features ? parseFilterArgs(opts.features) : undefined;
  const { page, keys } = await withTarget(async (ln) => {
    const page = await ln.runs.list({ filter, ...(features ? { features } : {}), limit });
    if (opts.json || page.items.length === 0) return { page, keys: new Map<string, string>() };
    // people know a transform by its key (the script's path), not its uid: one query for all
    const uids = [...new Set(page.items.map((r) => r.transform))];
    const transforms = await ln.transforms.list({
      filter: { uid__in: uids.join(",") },
      limit: uids.length,
    });
    return { page, keys: new Map(transforms.items.map((t) => [t.uid, t.key ?? t.uid])) };
  });
  if (opts.json) return printJson(page.items);
  if (page.items.length === 0) return say("no runs match");
  say(
    table(
      ["uid", "status", "started_at", "transform"],
      page.items.map((r) => [
        r.uid,
        r.status,
        r.started_at.slice(0, 19).replace("T", " "),
        keys.get(r.transform) ?? r.transform,
      ]),
    ),
  );
  if (page.nextCursor) note(`(showing the first ${limit}; raise --limit to see more)`);
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
  const mod = await import("../../core/registry/lineage/lineage.js");
  mod.lineageOptions({ direction, depth }); // bad options fail before the database opens
  const ref: { uid: string } | { key: string } = uid ? { uid } : { key: opts.key as string };
  const graph = await withTarget((target) =>
    either(
      target,
      (ln) => mod.lineage(ln, ref, { direction, depth }),
      // through `lamin serve` (or a remote instance): its API route
      async (remote) => {
        const found = "uid" in ref ? ref.uid : (await remote.artifacts.get(ref)).uid;
        return remote.artifacts.request<LineageGraph>(
          `${remote.url}/artifacts/${encodeURIComponent(found)}/lineage?direction=${direction}&depth=${depth}`,
          {},
          "getting the lineage",
        );
      },
    ),
  );
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
  ln: Target,
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
  const result = await withInstance((ln) =>
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
  const page = await withTarget((ln) => ln.collections.list({ limit }));
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
  const { collection, members } = await withTarget(async (ln) => {
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
  const { collection, files } = await withInstance(async (ln) => {
    const found = await findCollection(ln, ref, opts.key);
    return ln.collections.load(found.uid, opts.to !== undefined ? { to: opts.to } : {});
  });
  if (opts.json) return printJson({ ...collection, files });
  for (const f of files) say(f.path);
}
