/**
 * Where the CLI and SDK remember instances: `$LAMIN_HOME` (default `~/.config/lamindb-serverless`;
 * never `~/.lamin`, which belongs to Python LaminDB). One JSON file per instance plus a pointer to
 * the current one. `LAMIN_INSTANCE` overrides the current instance for one process.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { redact } from "./db/client.js";
import { NotFoundError, ValidationError } from "./errors.js";
import { processAlive } from "./util/process.js";

export type DatabaseSettings =
  | { kind: "pglite"; dataDir: string }
  | { kind: "postgres"; url: string }
  /** reached over HTTPS through its API (`lamin connect https://...`) */
  | { kind: "remote"; url: string; token: string };

export interface InstanceSettings {
  owner: string;
  name: string;
  /** LaminDB's instance id, 32 hex: uuid5 of the slug, random for an embedded instance in a folder. */
  id: string;
  /** 12-character base62 instance uid. */
  uid: string;
  storageRoot: string;
  /** S3-compatible endpoint URL of `s3://` storage (absent: AWS, or AWS_ENDPOINT_URL_S3). */
  storageEndpoint?: string;
  /** Region of `s3://` storage. */
  storageRegion?: string;
  db: DatabaseSettings;
  createdAt: string;
  /** The branch this machine writes to (`lamin switch`); absent: main. */
  branch?: string;
  /** The space this machine's saves go to (`lamin switch --space`); absent: all. */
  space?: string;
}

/** How to reach an instance's storage (see core/storage/open.ts). */
export function storageOptions(settings: InstanceSettings): { endpoint?: string; region?: string } {
  return {
    ...(settings.storageEndpoint ? { endpoint: settings.storageEndpoint } : {}),
    ...(settings.storageRegion ? { region: settings.storageRegion } : {}),
  };
}

/** How an instance's database is reached, safe to show: passwords are masked. */
export function describeDatabase(db: DatabaseSettings): {
  kind: DatabaseSettings["kind"];
  location: string;
} {
  return { kind: db.kind, location: db.kind === "pglite" ? db.dataDir : redact(db.url) };
}

export function laminHome(): string {
  if (process.env.LAMIN_HOME) return process.env.LAMIN_HOME;
  const config = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(config, "lamindb-serverless");
}

/**
 * Loaded files and PGlite templates: LAMIN_CACHE_DIR, else `$LAMIN_HOME/cache` when LAMIN_HOME
 * is set (everything of a settings folder stays in it), else the user's cache folder.
 */
export function cacheDir(): string {
  if (process.env.LAMIN_CACHE_DIR) return process.env.LAMIN_CACHE_DIR;
  if (process.env.LAMIN_HOME) return join(process.env.LAMIN_HOME, "cache");
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cache, "lamindb-serverless");
}

/** Where templates of new embedded databases are cached (see core/db/pglite-template.ts). */
export function templateDir(): string {
  return process.env.LAMIN_TEMPLATE_DIR || join(cacheDir(), "templates");
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function validateInstanceName(name: string): string {
  if (!NAME.test(name)) {
    throw new ValidationError(
      `invalid instance name '${name}'`,
      "use 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit (pass --name)",
    );
  }
  return name;
}

const instancesDir = () => join(laminHome(), "instances");
const instanceFile = (name: string) => join(instancesDir(), `${name}.json`);
const currentFile = () => join(laminHome(), "current-instance");

function writeAtomic(path: string, text: string, mode = 0o644): void {
  mkdirSync(join(path, ".."), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

export function saveInstanceSettings(settings: InstanceSettings): void {
  // may hold a token or a database password: readable by the owner only
  writeAtomic(instanceFile(settings.name), `${JSON.stringify(settings, null, 2)}\n`, 0o600);
}

export function loadInstanceSettings(name: string): InstanceSettings | undefined {
  const bare = name.includes("/") ? (name.split("/").pop() ?? name) : name;
  const file = instanceFile(bare);
  if (!NAME.test(bare) || !existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as InstanceSettings;
}

export function listInstanceSettings(): InstanceSettings[] {
  if (!existsSync(instancesDir())) return [];
  return readdirSync(instancesDir())
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(instancesDir(), f), "utf8")) as InstanceSettings)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function removeInstanceSettings(name: string): void {
  rmSync(instanceFile(name), { force: true });
  if (currentInstanceName() === name) rmSync(currentFile(), { force: true });
}

export function setCurrentInstance(name: string): void {
  writeAtomic(currentFile(), `${name}\n`);
}

export function currentInstanceName(): string | undefined {
  if (process.env.LAMIN_INSTANCE) return process.env.LAMIN_INSTANCE;
  try {
    return readFileSync(currentFile(), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The settings of `name`, or of the current instance; a clear error when there is none. */
export function resolveInstanceSettings(name?: string): InstanceSettings {
  const wanted = name ?? currentInstanceName();
  if (!wanted) {
    throw new NotFoundError(
      "no instance is connected",
      "create one with `lamin init --storage ./mydir` or connect with `lamin connect NAME`",
    );
  }
  const settings = loadInstanceSettings(wanted);
  if (!settings) {
    const known = listInstanceSettings().map((s) => s.name);
    throw new NotFoundError(
      `no instance named '${wanted}'`,
      known.length
        ? `known instances: ${known.join(", ")}`
        : "create one with `lamin init --storage ./mydir`",
    );
  }
  return settings;
}

/** A `lamin serve` running on this machine: other commands go through it. */
export interface LocalServer {
  url: string;
  token: string;
  pid: number;
  /** When the server registered (ISO): a process started later has only reused its pid. */
  startedAt?: string;
}

const serverFile = (name: string) => join(laminHome(), "servers", `${name}.json`);

export function registerServer(name: string, server: LocalServer): void {
  writeAtomic(serverFile(name), JSON.stringify(server), 0o600);
}

export function unregisterServer(name: string): void {
  rmSync(serverFile(name), { force: true });
}

/**
 * The registered server of instance `name`, if its process is alive (not a zombie, not a pid
 * reused since). Whether it answers is for its clients to check (cli/server.ts).
 */
export function runningServer(name: string): LocalServer | undefined {
  let server: LocalServer;
  try {
    server = JSON.parse(readFileSync(serverFile(name), "utf8")) as LocalServer;
  } catch {
    return undefined;
  }
  const since = server.startedAt ? new Date(server.startedAt) : undefined;
  if (processAlive(server.pid, since && !Number.isNaN(since.getTime()) ? since : undefined)) {
    return server;
  }
  unregisterServer(name); // left behind by a server that died
  return undefined;
}
