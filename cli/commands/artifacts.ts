/** `lamin save | ls | describe | load | delete | restore` over the current instance. */
import { basename } from "node:path";
import { NotFoundError, ValidationError } from "../../core/errors.js";
import type {
  Artifact,
  ArtifactRef,
  OrderBy,
  SaveStatus,
} from "../../core/registry/artifacts/artifacts.js";
import { type Filter, parseFilterArgs } from "../../core/registry/model/query.js";
import { resolveInstanceSettings } from "../../core/settings.js";
import { assertSavable } from "../../core/storage/roots.js";
import { formatBytes, note, printJson, say, table } from "../output.js";
import { progressPrinter } from "../progress.js";
import { type Target, withTarget } from "../target.js";
import { attachActiveRun } from "./tracking.js";

interface Json {
  json?: boolean;
}

export function refFrom(uid: string | undefined, opts: { key?: string }): ArtifactRef {
  if (uid && opts.key !== undefined) {
    throw new ValidationError("give a uid or --key, not both");
  }
  if (uid) return { uid };
  if (opts.key !== undefined) return { key: opts.key };
  throw new ValidationError("which artifact? give its uid or --key KEY", "find it with `lamin ls`");
}

/** The uid of the project a name or uid names, checked before anything is saved (as LaminDB). */
async function projectOf(ln: Target, ref: string): Promise<string> {
  const [byName] = (await ln.projects.list({ filter: { name: ref }, limit: 1 })).items;
  if (byName) return byName.uid;
  const byUid = /^[0-9A-Za-z]{12}$/.test(ref)
    ? await ln.projects.get(ref).catch(() => undefined)
    : undefined;
  if (byUid) return byUid.uid;
  throw new NotFoundError(`no project '${ref}'`, `create it first: lamin create project ${ref}`);
}

const VERB: Record<SaveStatus, string> = {
  created: "saved",
  "new-version": "saved new version of",
  existing: "already saved:",
  restored: "restored from trash:",
  repaired: "completed interrupted save of",
};

export async function save(
  path: string,
  opts: Json & {
    key?: string;
    description?: string;
    kind?: string;
    versionTag?: string;
    schema?: string;
    followLinks?: boolean;
    /** LaminDB's forms (cli/commands/lamindb-forms.ts): this save's branch, a project to link. */
    branch?: string;
    project?: string;
    /** The space to save it in (name or uid; default all). */
    space?: string;
  },
) {
  const settings = resolveInstanceSettings();
  // also when a local `lamin serve` saves it: this process reads the folder, the server never sees its path
  if (settings.db.kind !== "remote") await assertSavable(path, settings);
  const progress = progressPrinter(basename(path));
  const result = await withTarget(async (ln) => {
    await attachActiveRun(ln);
    if (opts.branch !== undefined) await ln.useBranch(opts.branch);
    const project = opts.project !== undefined ? await projectOf(ln, opts.project) : undefined;
    const saved = await ln.artifacts
      .save(path, {
        ...(opts.schema !== undefined ? { schema: opts.schema } : {}),
        ...(opts.key !== undefined ? { key: opts.key } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
        ...(opts.kind !== undefined ? { kind: opts.kind } : {}),
        ...(opts.versionTag !== undefined ? { versionTag: opts.versionTag } : {}),
        ...(opts.followLinks ? { followLinks: true } : {}),
        // LaminDB: --space, else the space `lamin switch --space` chose, else all
        ...((opts.space ?? settings.space) !== undefined
          ? { space: opts.space ?? settings.space }
          : {}),
        onProgress: progress,
      })
      .finally(() => progress.end());
    if (project)
      await ln.annotations.add("artifact", saved.artifact.uid, {}, { projects: [project] });
    return saved;
  });
  if (result.note) note(`note: ${result.note}`);
  if (opts.json) return printJson({ ...result.artifact, status: result.status });
  const a = result.artifact;
  say(
    `${VERB[result.status]} ${a.key ?? a.description ?? ""} -> ${a.uid} (version ${a.version}, ${formatBytes(a.size)}${a.n_files ? `, ${a.n_files} files` : ""}, ${a.hash_type} ${a.hash})`,
  );
}

export async function list(
  opts: Json & {
    keyPrefix?: string;
    suffix?: string;
    hash?: string;
    createdBy?: string;
    createdAfter?: string;
    createdBefore?: string;
    filter?: string[];
    features?: string[];
    ulabel?: string;
    project?: string;
    allVersions?: boolean;
    trash?: boolean;
    orderBy: string;
    limit: string;
  },
) {
  const filter: Filter = {
    ...parseFilterArgs(opts.filter ?? []),
    ...(opts.keyPrefix !== undefined ? { key__startswith: opts.keyPrefix } : {}),
    ...(opts.suffix !== undefined ? { suffix: opts.suffix } : {}),
    ...(opts.hash !== undefined ? { hash: opts.hash } : {}),
    ...(opts.createdBy !== undefined ? { created_by__handle: opts.createdBy } : {}),
    ...(opts.createdAfter !== undefined ? { created_at__gt: opts.createdAfter } : {}),
    ...(opts.createdBefore !== undefined ? { created_at__lt: opts.createdBefore } : {}),
    ...(opts.ulabel !== undefined ? { ulabels__name: opts.ulabel } : {}),
    ...(opts.project !== undefined ? { projects__name: opts.project } : {}),
  };
  const features = opts.features ? parseFilterArgs(opts.features) : undefined;
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit))
    throw new ValidationError(
      `--limit must be a whole number, got '${opts.limit}'`,
      "pass e.g. --limit 50 (at most 10000)",
    );
  const page = await withTarget((ln) =>
    ln.artifacts.list({
      filter,
      ...(features ? { features } : {}),
      allVersions: opts.allVersions === true,
      trash: opts.trash === true,
      orderBy: opts.orderBy as OrderBy,
      limit,
    }),
  );
  if (opts.json) return printJson(page.items);
  if (page.items.length === 0) return say(opts.trash ? "the trash is empty" : "no artifacts match");
  say(
    table(
      ["uid", "version", "size", "created_at", "key / description"],
      page.items.map((a) => [
        a.uid,
        a.version + (a.is_latest || opts.trash ? "" : ` ${OLDER}`),
        formatBytes(a.size),
        a.created_at.slice(0, 19).replace("T", " "),
        (a.key ?? a.description ?? "") + (a.upload_complete ? "" : `  ${INCOMPLETE}`),
      ]),
    ),
  );
  if (page.items.some((a) => !a.upload_complete)) say(INCOMPLETE_LEGEND);
  if (page.nextCursor) note(`(showing the first ${limit}; raise --limit to see more)`);
}

/** How `ls --all-versions` marks a version that is not its family's latest. */
const OLDER = "(older version)";

/** How `ls` and `describe` mark an artifact whose bytes were never completely written. */
const INCOMPLETE = "(incomplete)";
const INCOMPLETE_LEGEND =
  "(incomplete): its save or upload did not finish, its bytes are not all in storage; save the same file again to complete it (`lamin reconcile` removes it once older than LAMIN_UPLOAD_EXPIRY, 24 h by default)";

function describeLines(a: Artifact, versions: Artifact[]): string[] {
  const lines = [
    `Artifact ${a.uid}${a.branch === "trash" ? "  [in trash]" : ""}${a.upload_complete ? "" : "  [upload incomplete]"}`,
    `  key          ${a.key ?? "-"}`,
    `  description  ${a.description ?? "-"}`,
    `  kind         ${a.kind ?? "-"}`,
    `  suffix       ${a.suffix || "-"}`,
    `  size         ${formatBytes(a.size)}${a.n_files ? ` in ${a.n_files} files` : ""}`,
    `  hash         ${a.hash} (${a.hash_type})`,
    `  version      ${a.version}${a.is_latest ? " (latest)" : ""}`,
    `  path         ${a.path}`,
    `  space        ${a.space}`,
    `  created      ${a.created_at} by ${a.created_by}`,
  ];
  if (versions.length > 1) {
    lines.push("  versions");
    const rows = versions.map((v) => [
      v.uid,
      v.version,
      v.created_at.slice(0, 19).replace("T", " "),
      v.branch,
      [v.is_latest ? "latest" : "", v.upload_complete ? "" : INCOMPLETE].filter(Boolean).join(" "),
    ]);
    const versionTable = table(["uid", "version", "created_at", "branch", ""], rows);
    for (const line of versionTable.split("\n")) lines.push(`    ${line}`);
  }
  return lines;
}

export async function describe(uid: string | undefined, opts: Json & { key?: string }) {
  const ref = refFrom(uid, opts);
  const { artifact, versions } = await withTarget(async (ln) => ({
    artifact: await ln.artifacts.get(ref),
    versions: await ln.artifacts.versions(ref),
  }));
  if (opts.json)
    return printJson({
      ...artifact,
      versions: versions.map((v) => ({
        uid: v.uid,
        version: v.version,
        is_latest: v.is_latest,
        branch: v.branch,
        upload_complete: v.upload_complete,
        created_at: v.created_at,
      })),
    });
  say(describeLines(artifact, versions).join("\n"));
}

export async function load(
  uid: string | undefined,
  opts: Json & { key?: string; to?: string; force?: boolean },
) {
  const ref = refFrom(uid, opts);
  const { path, artifact } = await withTarget(async (ln) => {
    await attachActiveRun(ln);
    return ln.artifacts.load(ref, {
      ...(opts.to !== undefined ? { to: opts.to } : {}),
      ...(opts.force ? { overwrite: true } : {}),
    });
  });
  if (opts.json) return printJson({ ...artifact, local_path: path });
  say(path);
}

export async function remove(
  uid: string | undefined,
  opts: Json & { key?: string; permanent?: boolean },
) {
  const ref = refFrom(uid, opts);
  const artifact = await withTarget((ln) =>
    ln.artifacts.delete(ref, { permanent: opts.permanent === true }),
  );
  if (opts.json) return printJson({ ...artifact, deleted: opts.permanent ? "permanent" : "trash" });
  say(
    opts.permanent
      ? `deleted ${artifact.uid} for good`
      : `moved ${artifact.uid} to the trash (undo: lamin restore ${artifact.uid})`,
  );
}

export async function restore(uid: string | undefined, opts: Json & { key?: string }) {
  const ref = refFrom(uid, opts);
  const artifact = await withTarget((ln) => ln.artifacts.restore(ref));
  if (opts.json) return printJson(artifact);
  say(`restored ${artifact.uid}${artifact.key ? ` (${artifact.key})` : ""}`);
}
