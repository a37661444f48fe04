/** `lamin init | connect | disconnect | info | list instances`. */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ConflictError, ValidationError } from "../../core/errors.js";
import { ANONYMOUS } from "../../core/instance.js";
import { assertPythonSlugFree } from "../../core/python-settings.js";
import {
  currentInstanceName,
  describeDatabase,
  type InstanceSettings,
  laminHome,
  loadInstanceSettings,
  resolveInstanceSettings,
  saveInstanceSettings,
  setCurrentInstance,
  validateInstanceName,
} from "../../core/settings.js";
import { databaseName, initInstance, knownInstances } from "../../core/setup.js";
import { instanceIdFromSlug } from "../../core/uid.js";
import { note, printJson, say, table } from "../output.js";

interface Json {
  json?: boolean;
}

export function summary(s: InstanceSettings) {
  return {
    instance: `${s.owner}/${s.name}`,
    name: s.name,
    uid: s.uid,
    storage: s.storageRoot,
    ...(s.storageEndpoint ? { endpoint: s.storageEndpoint } : {}),
    database: describeDatabase(s.db),
    user: s.owner,
    branch: s.branch ?? "main",
    current: currentInstanceName() === s.name,
  };
}

function printSummary(s: InstanceSettings): void {
  const info = summary(s);
  say(`instance  ${info.instance} (uid ${info.uid})`);
  say(`storage   ${info.storage}${info.endpoint ? ` (endpoint ${info.endpoint})` : ""}`);
  say(`database  ${info.database.kind}: ${info.database.location}`);
  say(`user      ${info.user}`);
  say(`branch    ${info.branch}`);
}

export async function init(
  opts: Json & {
    storage?: string;
    name?: string;
    db?: string;
    endpointUrl?: string;
    modules?: string;
    python?: boolean;
  },
) {
  if (!opts.storage) {
    throw new ValidationError(
      "no storage given",
      "pass --storage ./mydir (or s3://bucket/prefix); only an instance on a hub (owner/name) may omit it",
    );
  }
  if (opts.python) checkPythonBeforeInit(opts);
  if (!opts.json) note(`creating instance in ${opts.storage} ...`);
  const instance = await initInstance({
    storage: opts.storage,
    ...(opts.name ? { name: opts.name } : {}),
    ...(opts.db ? { db: opts.db } : {}),
    ...(opts.endpointUrl ? { endpoint: opts.endpointUrl } : {}),
    ...(opts.modules ? { modules: opts.modules.split(",") } : {}),
  });
  await instance.close();
  const py = opts.python ? await import("./python.js") : undefined;
  const python = py && (await py.exportForPython(instance.settings, {}));
  if (opts.json) {
    printJson({
      ...summary(instance.settings),
      ...(py && python ? { python: py.exportSummary(python) } : {}),
    });
  } else {
    printSummary(instance.settings);
    if (opts.modules) say(`modules   ${opts.modules}`);
    say(`\nsaved as the current instance; next: lamin save FILE --key KEY`);
    if (py && python) py.report(python, false);
  }
}

/**
 * `init --python`: Python can open only a Postgres instance, and its settings file for this
 * owner/name must be free (a new instance is never written over another one's file).
 */
function checkPythonBeforeInit(opts: { db?: string; name?: string }): void {
  if (!opts.db) {
    throw new ValidationError(
      "--python needs --db: Python LaminDB cannot open the embedded database (PGlite), it needs a Postgres server",
      "pass --db postgresql://USER@HOST:5432/DBNAME (see docs/python.md)",
    );
  }
  assertPythonSlugFree(ANONYMOUS.handle, opts.name ?? databaseName(opts.db));
}

export function pythonNeedsLocalInit(): never {
  throw new ValidationError(
    "--python is for instances on a Postgres server of yours: an instance on a hub is reached through its API",
    "lamin init --storage DIR --db postgresql://... --python",
  );
}

export async function connect(
  target: string,
  opts: Json & { token?: string; name?: string; python?: boolean },
) {
  const settings = /^https?:\/\//i.test(target)
    ? await rememberServer(target, opts)
    : resolveInstanceSettings(target);
  const py = opts.python ? await import("./python.js") : undefined;
  const python = py && (await py.exportForPython(settings, {}));
  setCurrentInstance(settings.name);
  if (opts.json) {
    printJson({
      ...summary(settings),
      ...(py && python ? { python: py.exportSummary(python) } : {}),
    });
  } else {
    const where = settings.db.kind === "remote" ? settings.db.url : settings.storageRoot;
    say(`connected to ${settings.owner}/${settings.name} (${where})`);
    if (py && python) py.report(python, false);
  }
}

/** Ask a server which instance it serves, and remember it under its name. */
async function rememberServer(
  url: string,
  opts: { token?: string; name?: string },
): Promise<InstanceSettings> {
  const token = opts.token ?? process.env.LAMIN_API_TOKEN;
  if (!token) {
    throw new ValidationError(
      "connecting to a server needs its access token",
      "pass --token (lamin serve prints it) or set LAMIN_API_TOKEN",
    );
  }
  const { RemoteInstance } = await import("../../sdk/remote.js");
  const info = (await new RemoteInstance(url, { token }).describe()) as {
    instance: string;
    uid: string;
    storage: { root: string };
  };
  const [owner = "anonymous", remoteName = ""] = info.instance.split("/");
  const name = validateInstanceName(opts.name ?? remoteName);
  const existing = loadInstanceSettings(name);
  if (existing && !(existing.db.kind === "remote" && existing.db.url === url)) {
    throw new ConflictError(
      `an instance named '${name}' is already known here`,
      "pass --name to remember this one under another name",
    );
  }
  const settings: InstanceSettings = {
    owner,
    name,
    id: instanceIdFromSlug(`${owner}/${remoteName}`),
    uid: info.uid,
    storageRoot: info.storage.root,
    db: { kind: "remote", url: url.replace(/\/+$/, ""), token },
    createdAt: new Date().toISOString(),
  };
  saveInstanceSettings(settings);
  return settings;
}

export async function disconnect(opts: Json) {
  const name = currentInstanceName();
  rmSync(join(laminHome(), "current-instance"), { force: true });
  if (opts.json) printJson({ disconnected: name ?? null });
  else say(name ? `disconnected from ${name}` : "no instance was connected");
}

export async function info(opts: Json) {
  const settings = resolveInstanceSettings();
  if (opts.json) printJson(summary(settings));
  else printSummary(settings);
}

export async function listInstances(opts: Json) {
  const all = knownInstances().map(summary);
  if (opts.json) return printJson(all);
  if (all.length === 0) return say("no instances yet: lamin init --storage ./mydir");
  say(
    table(
      ["", "name", "database", "storage"],
      all.map((s) => [s.current ? "*" : "", s.name, s.database.kind, s.storage]),
    ),
  );
}
