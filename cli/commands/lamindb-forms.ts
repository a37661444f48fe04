/**
 * The `lamin` commands as LaminDB users type them (lamin-cli's __main__.py), beside this
 * project's own verbs: `load|describe|delete artifact --uid X`, `save --project --space --branch
 * --stem-uid`, `get`, `update`, `create project|branch`, `settings`, and `track` without a file
 * (the shell script that runs it, as lamin-cli's _context.py finds it).
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { NotFoundError, ValidationError } from "../../core/errors.js";
import { cacheDir, laminHome, resolveInstanceSettings } from "../../core/settings.js";
import { printJson, say } from "../output.js";
import { type Target, withTarget } from "../target.js";

interface Json {
  json?: boolean;
}

/** LaminDB's entity words: `lamin load artifact --uid X` names the registry first. */
const ENTITIES = new Set([
  "artifact",
  "transform",
  "collection",
  "record",
  "project",
  "ulabel",
  "branch",
  "run",
  "schema",
  "feature",
  "space",
]);

/**
 * The artifact uid of `lamin VERB [uid-or-entity] [--uid X]`: a uid as this project takes it, or
 * LaminDB's `artifact --uid X`. Other registries are refused with what works.
 */
export function artifactUid(
  verb: string,
  given: string | undefined,
  opts: { uid?: string },
): string | undefined {
  if (given !== undefined && ENTITIES.has(given)) {
    if (given !== "artifact") {
      throw new ValidationError(
        `lamin ${verb} ${given} is not supported here`,
        `artifacts: lamin ${verb} artifact --uid UID (or --key KEY)`,
      );
    }
    return opts.uid;
  }
  if (given !== undefined && opts.uid !== undefined) {
    throw new ValidationError(`give the uid once: ${given} or --uid ${opts.uid}`);
  }
  return given ?? opts.uid;
}

/** `lamin save PATH` with LaminDB's --project, --space, --branch, --stem-uid. */
export async function saveWithForms(
  path: string,
  opts: Json & {
    key?: string;
    description?: string;
    project?: string;
    space?: string;
    branch?: string;
    stemUid?: string;
    [option: string]: unknown;
  },
) {
  const { stemUid, ...rest } = opts;
  let key = opts.key;
  if (stemUid !== undefined) {
    // LaminDB: the new artifact revises the newest version of the family with this stem
    if (!/^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/.test(stemUid)) {
      throw new ValidationError(
        `'${stemUid.slice(0, 40)}' is not an artifact stem uid`,
        "the stem is the first 16 characters of an artifact's uid",
      );
    }
    const family = await withTarget((t) => t.artifacts.get(stemUid.slice(0, 16)));
    if (family.key === null) {
      throw new ValidationError(
        `the artifacts of stem ${stemUid.slice(0, 16)} have no key: versions follow a key here`,
        "save it with --key KEY, or give that family a key first: lamin update artifact --uid UID --new-key KEY",
      );
    }
    if (key !== undefined && key !== family.key) {
      throw new ValidationError(
        `--key '${key}' is not the key of stem ${stemUid.slice(0, 16)} ('${family.key}')`,
        "omit --key: a new version keeps its family's key",
      );
    }
    key = family.key;
    // LaminDB's process_revises: a new version keeps its family's description unless given one
    if (rest.description === undefined && family.description !== null) {
      rest.description = family.description;
    }
  }
  const { save } = await import("./artifacts.js");
  return save(path, { ...rest, ...(key !== undefined ? { key } : {}) } as Parameters<
    typeof save
  >[1]);
}

/** `lamin create project|branch|space NAME`. */
export async function createEntity(
  registry: string,
  name: string | undefined,
  opts: Json & { description?: string },
) {
  if (registry !== "branch" && registry !== "project" && registry !== "space") {
    throw new ValidationError(
      `cannot create '${registry}' with lamin create`,
      "lamin create branch NAME, lamin create project NAME, lamin create space NAME",
    );
  }
  if (!name) {
    throw new ValidationError(
      "specify a name",
      "e.g. lamin create branch my_branch, lamin create project my_project, lamin create space lab-a",
    );
  }
  if (registry === "branch") return (await import("./branches.js")).createBranch(name, opts);
  if (registry === "space") return (await import("./spaces.js")).createSpace(name, opts);
  const { projectCreate } = await import("./annotations.js");
  return projectCreate(name, opts.description !== undefined ? { ...opts } : opts);
}

type EntityOptions = Json & {
  uid?: string;
  key?: string;
  name?: string;
  status?: string | boolean;
  description?: string | boolean;
  newKey?: string;
  space?: string;
};

/** `lamin get [entity] [--uid|--key|--name] [--status|--description]`: a field, or a description. */
export async function getEntity(entity: string | undefined, opts: EntityOptions) {
  const what = entity ?? "artifact";
  if (opts.status && opts.description) {
    throw new ValidationError("pass only one of --status or --description");
  }
  if (what === "branch") {
    const branch = await withTarget((t) => t.branches.get(opts.name ?? opts.uid ?? t.branch.name));
    if (opts.description)
      return opts.json ? printJson(branch.description) : say(branch.description ?? "");
    if (opts.status) return opts.json ? printJson(branch.status) : say(branch.status);
    return opts.json ? printJson(branch) : say(describeObject({ ...branch }));
  }
  if (isDescribed(what)) {
    if (opts.status) {
      throw new ValidationError("--status is only for branches", "lamin get branch --status");
    }
    const record = await withTarget((t) => findDescribed(t, what, opts));
    if (opts.description) {
      return opts.json ? printJson(record.description) : say(record.description ?? "");
    }
    return opts.json ? printJson(record) : say(describeObject({ ...record }));
  }
  if (what !== "artifact") {
    throw new ValidationError(
      `lamin get ${what} is not supported here`,
      "lamin get artifact|transform|collection --key KEY [--description], lamin get project --name NAME, lamin get branch [--name NAME] --status",
    );
  }
  if (opts.status)
    throw new ValidationError("--status is only for branches", "lamin get branch --status");
  if (opts.description) {
    const { refFrom } = await import("./artifacts.js");
    const artifact = await withTarget((t) => t.artifacts.get(refFrom(opts.uid, opts)));
    return opts.json ? printJson(artifact.description) : say(artifact.description ?? "");
  }
  const { describe } = await import("./artifacts.js");
  return describe(opts.uid, opts);
}

/** `lamin update artifact|branch [--uid|--key|--name] --description D | --status S`. */
export async function updateEntity(entity: string, opts: EntityOptions) {
  if (entity === "branch") {
    if (opts.newKey !== undefined) throw new ValidationError("a branch has no key");
    if (opts.space !== undefined) {
      throw new ValidationError(
        "--space moves an artifact, not a branch",
        "lamin update artifact --key KEY --space NAME",
      );
    }
    return (await import("./branches.js")).updateBranch(
      opts as Parameters<typeof import("./branches.js").updateBranch>[0],
    );
  }
  if (isDescribed(entity)) {
    if (opts.status !== undefined || opts.newKey !== undefined || opts.space !== undefined) {
      throw new ValidationError(
        `lamin update ${entity} changes only the description`,
        `lamin update ${entity} ${entity === "project" ? "--name NAME" : "--key KEY"} --description "..."`,
      );
    }
    if (typeof opts.description !== "string") {
      throw new ValidationError("nothing to update", 'pass --description "..."');
    }
    const description = opts.description;
    const updated = await withTarget(async (t) => {
      const { uid } = await findDescribed(t, entity, opts);
      return t[`${entity}s`].updateDescription(uid, description);
    });
    if (opts.json) return printJson(updated);
    return say(`updated ${entity} ${updated.uid}: description`);
  }
  if (entity !== "artifact") {
    throw new ValidationError(
      `lamin update ${entity} is not supported here`,
      'lamin update artifact|transform|collection --key KEY --description "..."; lamin update project --name NAME --description "..."; lamin update branch --status review',
    );
  }
  if (opts.status !== undefined) {
    throw new ValidationError(
      "--status is only for branches",
      "lamin update branch --status review",
    );
  }
  const description = typeof opts.description === "string" ? opts.description : undefined;
  if (description === undefined && opts.newKey === undefined && opts.space === undefined) {
    throw new ValidationError(
      "nothing to update",
      'pass --description "..." (or --new-key KEY to rename the artifact, --space S to move it)',
    );
  }
  const { refFrom } = await import("./artifacts.js");
  const ref = refFrom(opts.uid, opts);
  const artifact = await withTarget((t) =>
    t.artifacts.update(ref, {
      ...(description !== undefined ? { description } : {}),
      ...(opts.newKey !== undefined ? { key: opts.newKey } : {}),
      ...(opts.space !== undefined ? { space: opts.space } : {}),
    }),
  );
  if (opts.json) return printJson(artifact);
  say(
    `updated artifact ${artifact.uid}${description !== undefined ? ": description" : ""}${opts.newKey !== undefined ? `: key ${artifact.key}` : ""}${opts.space !== undefined ? `: moved to space ${opts.space}` : ""}`,
  );
}

/** The registries LaminDB's `get`/`update --description` take besides artifacts and branches. */
const DESCRIBED = ["transform", "collection", "project"] as const;
type Described = (typeof DESCRIBED)[number];
const isDescribed = (entity: string): entity is Described =>
  (DESCRIBED as readonly string[]).includes(entity);

/**
 * The record `--uid`, `--key` (transforms and collections: the latest version) or `--name`
 * (projects) name, as LaminDB's `_resolve_entity_for_get_update`.
 */
async function findDescribed(
  t: Target,
  entity: Described,
  opts: EntityOptions,
): Promise<{ uid: string; description: string | null }> {
  const by = entity === "project" ? "name" : "key";
  const value = opts.uid ?? (by === "name" ? opts.name : opts.key);
  if (!value) {
    throw new ValidationError(
      `which ${entity}? pass --uid or --${by}`,
      `e.g. lamin get ${entity} --${by} ${entity === "project" ? "my_project" : "KEY"} --description`,
    );
  }
  if (opts.uid) return t[`${entity}s`].get(opts.uid);
  if (entity === "collection") return t.collections.get({ key: value });
  const filter = by === "key" ? { key: value, is_latest: true } : { name: value };
  const registry = entity === "project" ? t.projects : t.transforms;
  const [hit] = (await registry.list({ filter, limit: 1 })).items;
  if (!hit) {
    throw new NotFoundError(
      `no ${entity} with ${by} '${value}'`,
      `list them with lamin search ${entity} TEXT, or pass --uid`,
    );
  }
  return hit;
}

/** `lamin settings`: what this machine uses (LaminDB prints `ln.setup.settings`). */
export async function showSettings(opts: Json) {
  const s = resolveInstanceSettings();
  const settings = {
    instance: `${s.owner}/${s.name}`,
    storage: s.storageRoot,
    branch: s.branch ?? "main",
    space: s.space ?? "all",
    user: s.owner,
    settings_dir: laminHome(),
    cache_dir: cacheDir(),
  };
  if (opts.json) return printJson(settings);
  say(describeObject(settings));
}

function describeObject(o: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(o).map((k) => k.length));
  return Object.entries(o)
    .map(([k, v]) => `${k.padEnd(width)}  ${v === null || v === undefined ? "" : String(v)}`)
    .join("\n");
}

/**
 * The script of the shell that runs `lamin track` without a file (lamin-cli: the parent
 * process's command line, `bash script.sh`), or a clear refusal.
 */
export function shellScript(): string {
  const shells = new Set(["bash", "sh", "zsh", "dash", "ksh"]);
  let args: string[] = [];
  try {
    args = readFileSync(`/proc/${process.ppid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    // not Linux, or the parent is gone
  }
  const [shell, script] = args;
  if (shell && shells.has(basename(shell)) && script && !script.startsWith("-")) return script;
  throw new ValidationError(
    "cannot tell which script runs `lamin track`",
    "put `lamin track` in a shell script and run it (sh script.sh), or name the script: lamin track FILE",
  );
}

type AnnotateOptions = Json & {
  uid?: string;
  key?: string;
  registry?: "artifact" | "run" | "record";
  run?: boolean;
  readme?: string;
  comment?: string;
  features?: string[];
  ulabel?: string[];
  project?: string[];
  record?: string[];
  remove?: string[];
};

/**
 * `lamin annotate [artifact|run|record] [--uid X | --key K]` with LaminDB's `--readme FILE` and
 * `--comment TEXT` beside this project's form (`lamin annotate UID ...`).
 */
export async function annotateWithForms(given: string | undefined, opts: AnnotateOptions) {
  let uid = given;
  const { readme, comment, uid: uidOption, ...rest } = opts;
  const registry = { ...rest };
  if (given !== undefined && ENTITIES.has(given)) {
    if (given !== "artifact" && given !== "run" && given !== "record") {
      throw new ValidationError(
        `lamin annotate ${given} is not supported here`,
        "lamin annotate artifact|run|record --uid UID (an artifact also by --key KEY)",
      );
    }
    if (opts.registry !== undefined && opts.registry !== given) {
      throw new ValidationError(
        `${given} and --registry ${opts.registry} name different registries`,
      );
    }
    registry.registry = given;
    uid = uidOption;
  } else if (uidOption !== undefined) {
    if (given !== undefined)
      throw new ValidationError(`give the uid once: ${given} or --uid ${uidOption}`);
    uid = uidOption;
  }
  const { annotate } = await import("./annotations.js");
  const labels = rest.features ?? rest.ulabel ?? rest.project ?? rest.record ?? rest.remove;
  const parts = [labels, readme, comment].filter((p) => p !== undefined).length;
  if (opts.json && parts > 1) {
    throw new ValidationError(
      "--json prints one document: annotate with labels, --readme and --comment one at a time",
    );
  }
  if (labels !== undefined || (readme === undefined && comment === undefined)) {
    await annotate(uid, registry);
  }
  if (readme === undefined && comment === undefined) return;
  const owner = registry.run ? "run" : (registry.registry ?? "artifact");
  let ownerUid = uid;
  if (ownerUid === undefined) {
    if (owner !== "artifact" || opts.key === undefined) {
      throw new ValidationError(
        `which ${owner}? give --uid UID`,
        "e.g. lamin annotate artifact --uid UID --readme README.md",
      );
    }
    const key = opts.key;
    ownerUid = (await withTarget((t) => t.artifacts.get({ key }))).uid;
  }
  const blocks = await import("./blocks.js");
  const json = opts.json ? { json: true } : {};
  if (readme !== undefined) await blocks.readmeSet(readme, { [owner]: ownerUid, ...json });
  if (comment !== undefined)
    await blocks.blockComment(undefined, { [owner]: ownerUid, text: comment, ...json });
}
