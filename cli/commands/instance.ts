/** `lamin init | connect | disconnect | info | list instances`. */
import { existsSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ConflictError, NotFoundError, ValidationError } from "../../core/errors.js";
import { ANONYMOUS } from "../../core/instance.js";
import { assertPythonSlugFree } from "../../core/python-settings.js";
import {
  currentInstanceName,
  describeDatabase,
  type InstanceSettings,
  laminHome,
  loadInstanceSettings,
  removeInstanceSettings,
  resolveInstanceSettings,
  saveInstanceSettings,
  setCurrentInstance,
  unregisterServer,
  validateInstanceName,
} from "../../core/settings.js";
import {
  adoptLocalInstance,
  databaseName,
  initInstance,
  knownInstances,
  PGLITE_DIR,
} from "../../core/setup.js";
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
  // LaminDB's default: the current folder (`lamin init` in a project folder)
  const storage = opts.storage ?? ".";
  if (opts.python) checkPythonBeforeInit(opts);
  // a folder that holds an embedded instance is taken back as it is (core's initInstance)
  const takingBack = !opts.db && !opts.modules && existsSync(join(resolve(storage), PGLITE_DIR));
  if (!opts.json) {
    const where = opts.storage ?? `the current folder (${resolve(storage)})`;
    note(
      takingBack
        ? `taking back the instance whose database is in ${where} ...`
        : `creating instance in ${where} ...`,
    );
  }
  const instance = await initInstance({
    storage,
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
    say(
      takingBack
        ? "\nits artifacts and records are as they were; it is the current instance (lamin ls)"
        : "\nsaved as the current instance; next: lamin save FILE --key KEY",
    );
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
    : /[/\\]/.test(target) || /^\.{1,2}$/.test(target)
      ? await adoptFolder(target, opts)
      : (loadInstanceSettings(target) ?? (await adoptFolder(target, opts)));
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

/**
 * A storage folder of an embedded instance this machine does not know (made on another machine,
 * or its settings were lost): remember it from its marker. A known instance's folder connects it.
 */
async function adoptFolder(target: string, opts: { name?: string }): Promise<InstanceSettings> {
  const path = target.startsWith("~/") ? join(homedir(), target.slice(2)) : target;
  const looksLikeName = !/[/\\]/.test(target) && !existsSync(path);
  if (looksLikeName) return resolveInstanceSettings(target); // its "no instance named" error
  const found = await adoptLocalInstance(path, opts.name ? { name: opts.name } : {});
  if (!found) {
    throw new NotFoundError(
      `${resolve(path)} holds no embedded instance (no .lamindb/storage_uid.txt with its database .lamindb/pglite)`,
      `create one with \`lamin init --storage ${target}\`, or connect by name (lamin list instances)`,
    );
  }
  if (!found.adopted) return found.settings;
  note(
    `remembered ${found.settings.owner}/${found.settings.name} (uid ${found.settings.uid}) from its storage folder`,
  );
  return found.settings;
}

/**
 * `lamin delete instance NAME`: forget a local instance on this machine, after a confirmation.
 * Nothing in its storage is removed (its embedded database is there too), so `lamin connect DIR`
 * brings it back; a running `lamin serve` of it must be stopped first.
 */
export async function forgetInstance(name: string, opts: Json & { force?: boolean }) {
  const settings = resolveInstanceSettings(name);
  if (settings.db.kind !== "remote") {
    const { localServer } = await import("../server.js");
    const server = await localServer(settings);
    if (server) {
      throw new ConflictError(
        `'${name}' is served at ${server.url} (process ${server.pid})`,
        "stop that server first (Ctrl-C where it runs)",
      );
    }
  }
  if (!opts.force) {
    if (!process.stdin.isTTY) {
      throw new ValidationError(
        `forgetting instance '${name}' needs a confirmation`,
        "pass --force to forget it without asking (its storage and database stay)",
      );
    }
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl
      .question(
        `this forgets '${name}' on this machine (its storage stays); type ${name} to confirm: `,
      )
      .finally(() => rl.close());
    if (answer.trim() !== name) {
      throw new ValidationError("not forgotten: the confirmation did not match", "type the name");
    }
  }
  removeInstanceSettings(settings.name);
  unregisterServer(settings.name); // a record of a server that is gone
  const stays =
    settings.db.kind === "pglite" && !settings.db.dataDir.startsWith(settings.storageRoot)
      ? `its storage ${settings.storageRoot} and its database ${settings.db.dataDir} stay`
      : `its storage ${settings.storageRoot} stays`;
  const back =
    settings.db.kind === "pglite" && settings.db.dataDir.startsWith(settings.storageRoot)
      ? `; \`lamin connect ${settings.storageRoot}\` brings it back`
      : "";
  if (opts.json) printJson({ forgotten: settings.name, storage: settings.storageRoot });
  else say(`forgot ${settings.owner}/${settings.name} on this machine (${stays}${back})`);
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
