/**
 * The settings Python LaminDB (`lamindb_setup`, d6009c83) reads for a self-managed instance, so
 * that `import lamindb as ln; ln.connect("owner/name")` opens an instance made here without
 * LaminHub: its `InstanceSettingsStore` (core/_settings_store.py), written as its
 * `save_instance_settings` writes it (core/_settings_save.py) to
 * `<settings dir>/instance--<owner>--<name>.env`, the file `_connect_instance` looks for first.
 *
 * `~/.lamin` is Python's folder: nothing here writes to it unless asked (`lamin settings export
 * --python`, `lamin init --python`), and a file describing another instance is never replaced
 * without `force`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { type Db, queryRows, redact } from "./db/client.js";
import { ConflictError, ValidationError } from "./errors.js";
import { enabledModules } from "./modules/index.js";
import type { InstanceSettings } from "./settings.js";

/** `lamindb_setup`'s InstanceSettingsStore, field for field and in its order (values as written). */
export interface PythonInstanceStore {
  owner: string;
  name: string;
  storage_root: string;
  storage_region: string | null;
  db: string | null;
  schema_str: string | null;
  id: string;
  git_repo: string | null;
  keep_artifacts_local: boolean | null;
  api_url: string | null;
  schema_id: string | null;
  fine_grained_access: boolean;
  db_permissions: string | null;
  is_clone: boolean;
}

const PREFIX = "lamindb_instance_";

/** `settings_dir` of `_settings_store.py`: `$LAMIN_SETTINGS_DIR/.lamin`, else `~/.lamin`. */
export function pythonSettingsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LAMIN_SETTINGS_DIR
    ? join(env.LAMIN_SETTINGS_DIR, ".lamin")
    : join(homedir(), ".lamin");
}

/** `get_settings_file_name_prefix()`: `<LAMIN_ENV>--` outside the prod environment. */
function envPrefix(env: NodeJS.ProcessEnv): string {
  return env.LAMIN_ENV && env.LAMIN_ENV !== "prod" ? `${env.LAMIN_ENV}--` : "";
}

/** `instance_settings_file(name, owner)`. */
export function pythonInstanceFile(
  owner: string,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return join(pythonSettingsDir(env), `${envPrefix(env)}instance--${owner}--${name}.env`);
}

/** `current_instance_settings_file()`: the instance `import lamindb` connects to by default. */
export function pythonCurrentInstanceFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(pythonSettingsDir(env), `${envPrefix(env)}current_instance.env`);
}

/** What the instance's database and storage rows say, as Python will look them up. */
export interface StoreSources {
  /** `lamindb_storage.root` of the default storage (Python finds its row by this root). */
  storageRoot: string;
  /** `lamindb_storage.region` (kept for cloud storage; Python writes none for a folder). */
  storageRegion: string | null;
  /** Enabled modules, e.g. `["bionty"]` (Python's `schema_str`). */
  modules: string[];
}

/** An embedded (PGlite) or served instance has no database URL Python could use: say what to do. */
export function assertPythonCanOpen(
  settings: InstanceSettings,
): asserts settings is InstanceSettings & { db: { kind: "postgres"; url: string } } {
  const slug = `${settings.owner}/${settings.name}`;
  if (settings.db.kind === "pglite") {
    throw new ValidationError(
      `Python LaminDB cannot open the embedded database of '${slug}' (PGlite, in ${settings.db.dataDir}): it needs a Postgres server`,
      "to share an instance with Python, create it on Postgres: lamin init --storage DIR --db postgresql://USER@HOST:5432/DBNAME --python (see docs/python.md)",
    );
  }
  if (settings.db.kind === "remote") {
    throw new ValidationError(
      `'${slug}' is reached through its API (${settings.db.url}); Python LaminDB needs the database URL of the instance`,
      "run `lamin settings export --python` where the instance's Postgres URL is known (the machine that runs `lamin serve` for it)",
    );
  }
}

/**
 * The store of an instance whose database is on a Postgres server. An embedded (PGlite) or
 * served instance has no database URL Python could use: refused with what to do instead.
 */
export function pythonInstanceStore(
  settings: InstanceSettings,
  sources: StoreSources,
): PythonInstanceStore {
  assertPythonCanOpen(settings);
  return {
    owner: settings.owner,
    name: settings.name,
    storage_root: sources.storageRoot.replace(/\/+$/, ""),
    storage_region: sources.storageRoot.includes("://") ? sources.storageRegion : null,
    // LaminDsn accepts the scheme `postgresql` only
    db: settings.db.url.replace(/^postgres:\/\//, "postgresql://"),
    schema_str: sources.modules.length ? [...sources.modules].sort().join(",") : null,
    id: settings.id.replaceAll("-", "").toLowerCase(),
    git_repo: null,
    keep_artifacts_local: false,
    api_url: null,
    schema_id: null,
    fine_grained_access: false,
    db_permissions: null,
    is_clone: false,
  };
}

/**
 * Python's `is_local_db_url` and `check_is_instance_remote` (core/_settings_instance.py): a
 * "remote" instance makes `ln.connect(slug)` ask LaminHub; a local one is opened from its file.
 */
export function pythonSeesLocal(store: PythonInstanceStore): boolean {
  const db = store.db;
  const localDb =
    db === null ||
    db.startsWith("sqlite://") ||
    ["@localhost:", "@0.0.0.0:", "@127.0.0.1"].some((host) => db.includes(host));
  // fsspec.utils.get_protocol: what stands before the first '::' or '://', else "file"
  const protocol = /^(.*?)(::|:\/\/)/.exec(store.storage_root)?.[1] ?? "file";
  return localDb && protocol === "file" && !store.storage_root.startsWith("create-s3");
}

/** A value as python-dotenv reads it back unchanged: raw when plain (as Python writes), else quoted. */
function envValue(field: string, value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new ValidationError(
      `the ${field} of the instance contains a line break, which Python's settings file cannot hold`,
      "use a storage folder and database URL without line breaks",
    );
  }
  if (value.includes("${")) {
    // python-dotenv expands ${...} in every value, quoted or not
    throw new ValidationError(
      `the ${field} of the instance contains '\${', which Python's settings reader would expand as a variable`,
      "percent-encode the '$' (%24) in the database URL, or rename the folder",
    );
  }
  if (/^[^\s#'"\\`]*$/.test(value)) return value;
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** The file `save_instance_settings` writes: `lamindb_instance_<field>=<value>` lines, `null` for None. */
export function formatPythonStore(store: PythonInstanceStore): string {
  return Object.entries(store)
    .map(([field, value]) => {
      const text =
        value === null ? "null" : typeof value === "boolean" ? (value ? "True" : "False") : value;
      return `${PREFIX}${field}=${envValue(field, text)}\n`;
    })
    .join("");
}

/** Lines `lamindb_instance_<field>=<value>` of an existing file (enough to compare with ours). */
function readStoreLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?lamindb_instance_([a-z_]+)\s*=(.*)$/.exec(line);
    if (m) out[m[1] as string] = (m[2] as string).trim();
  }
  return out;
}

/** The sources of the store, read from the instance's database. */
export async function readStoreSources(db: Db, settings: InstanceSettings): Promise<StoreSources> {
  const [row] = await queryRows<{ root: string; region: string | null }>(
    db,
    sql`SELECT root, region FROM lamindb_storage WHERE instance_uid = ${settings.uid}
      ORDER BY id LIMIT 1`,
  );
  return {
    storageRoot: row?.root ?? settings.storageRoot,
    storageRegion: row?.region ?? settings.storageRegion ?? null,
    modules: await enabledModules(db),
  };
}

export interface PythonExport {
  /** The instance settings file Python reads. */
  file: string;
  /** `unchanged`: the file already said exactly this. */
  status: "written" | "unchanged";
  /** Python's default instance file, when `current` was asked (and what it named before). */
  current?: { file: string; previous: string | null };
  /** Whether Python opens the instance without asking LaminHub (`ln.connect(slug)` works). */
  local: boolean;
  store: PythonInstanceStore;
}

/** Why an existing file describes another instance (field names; database URLs redacted). */
function differences(existing: Record<string, string>, ours: Record<string, string>): string[] {
  return ["owner", "name", "storage_root", "db", "id", "schema_str"]
    .filter((f) => existing[f] !== ours[f])
    .map((f) =>
      f === "db"
        ? `db ${redact(existing[f] ?? "(none)")} here, ${redact(ours[f] ?? "(none)")} now`
        : `${f} '${existing[f] ?? "(none)"}' here, '${ours[f] ?? "(none)"}' now`,
    );
}

function writePrivate(path: string, text: string): void {
  // holds the database URL (and its password): readable by the owner only
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * Write the store where Python reads it. A file of the same instance is rewritten; a file that
 * describes another instance (other storage, database, id or modules) is left alone unless
 * `force`. `current` also makes it Python's default instance (`current_instance.env`).
 */
export function writePythonSettings(
  store: PythonInstanceStore,
  opts: { force?: boolean; current?: boolean; env?: NodeJS.ProcessEnv } = {},
): PythonExport {
  const env = opts.env ?? process.env;
  const file = pythonInstanceFile(store.owner, store.name, env);
  const text = formatPythonStore(store);
  let status: PythonExport["status"] = "written";
  if (existsSync(file)) {
    const existing = readFileSync(file, "utf8");
    const diff = differences(readStoreLines(existing), readStoreLines(text));
    if (existing === text) status = "unchanged";
    else if (diff.length && !opts.force) {
      throw new ConflictError(
        `${file} describes another instance than ${store.owner}/${store.name} here: ${diff.join("; ")}`,
        "move that file away if it is stale, or pass --force to replace it",
      );
    }
  }
  mkdirSync(pythonSettingsDir(env), { recursive: true });
  if (status === "written") writePrivate(file, text);
  const result: PythonExport = { file, status, local: pythonSeesLocal(store), store };
  if (opts.current) {
    const currentFile = pythonCurrentInstanceFile(env);
    const before = existsSync(currentFile)
      ? readStoreLines(readFileSync(currentFile, "utf8"))
      : undefined;
    // Python's `_persist` copies the instance file to current_instance.env
    writePrivate(currentFile, text);
    result.current = {
      file: currentFile,
      previous: before?.owner && before.name ? `${before.owner}/${before.name}` : null,
    };
  }
  return result;
}

/** Refuse early (before an instance is made) when Python already has a file for this slug. */
export function assertPythonSlugFree(
  owner: string,
  name: string,
  opts: { force?: boolean; env?: NodeJS.ProcessEnv } = {},
): void {
  const file = pythonInstanceFile(owner, name, opts.env ?? process.env);
  if (existsSync(file) && !opts.force) {
    throw new ConflictError(
      `Python LaminDB already has settings for an instance ${owner}/${name}: ${file}`,
      "pick another --name, move that file away if it is stale, or pass --force to replace it",
    );
  }
}

/** The Python that opens the instance, for docs and the CLI's output. */
export function pythonUsage(result: Pick<PythonExport, "store" | "local" | "current">): string[] {
  const slug = `${result.store.owner}/${result.store.name}`;
  const modules = result.store.schema_str ? ` (pip install ${result.store.schema_str})` : "";
  if (result.local) {
    return [
      `pip install lamindb${modules}`,
      `python -c 'import lamindb as ln; ln.connect("${slug}")'`,
    ];
  }
  // a remote database or bucket: ln.connect(slug) would ask LaminHub; the import does not
  return [
    `pip install lamindb${modules}`,
    result.current
      ? "python -c 'import lamindb as ln'  # connects to it: it is Python's current instance"
      : `LAMIN_CURRENT_INSTANCE=${slug} python -c 'import lamindb as ln'  # connects on import`,
  ];
}
