/**
 * The hub from the command line: `lamin hub serve | create-account` (the operator's side),
 * `lamin login | logout`, `lamin init owner/name`, `lamin connect owner/name`,
 * `lamin collaborator ...`, `lamin keys ...` and `lamin delete instance owner/name` (a user's).
 */
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { ConflictError, LaminError, UnavailableError, ValidationError } from "../../core/errors.js";
import {
  type InstanceSettings,
  laminHome,
  listInstanceSettings,
  loadInstanceSettings,
  removeInstanceSettings,
  saveInstanceSettings,
  setCurrentInstance,
  validateInstanceName,
} from "../../core/settings.js";
import {
  type HubClient,
  type HubRole,
  hubClient,
  loadHubLogin,
  removeHubLogin,
  requireHubLogin,
  requireSlug,
  saveHubLogin,
} from "../../sdk/hub.js";
import { note, printJson, say, table } from "../output.js";

declare const __VERSION__: string;

interface Json {
  json?: boolean;
}

/** A date as `2026-01-31 12:00` (UTC). */
const formatDate = (iso: string) => iso.replace("T", " ").slice(0, 16);

// ---- the operator's side: the hub database ----

/** `--dir` (PGlite), else DATABASE_URL (Postgres), else `$LAMIN_HOME/hub` (PGlite). */
function hubDatabase(dir?: string): string | { pgliteDir: string } {
  if (dir) return { pgliteDir: resolve(dir) };
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const linked = sstSecret("DatabaseUrl");
  if (linked) return linked;
  return { pgliteDir: join(laminHome(), "hub") };
}

/**
 * A secret of a deployed stage, under `npx sst shell --stage S -- lamin hub ...`: SST passes
 * linked resources as `SST_RESOURCE_<Name>` JSON. So a deployed hub is administered from a
 * laptop with the stage's own database secret, never copied by hand.
 */
function sstSecret(name: string): string | undefined {
  const raw = process.env[`SST_RESOURCE_${name}`];
  if (!raw) return undefined;
  try {
    const value = (JSON.parse(raw) as { value?: unknown }).value;
    return typeof value === "string" && value !== "" ? value : undefined;
  } catch {
    throw new ValidationError(
      `SST_RESOURCE_${name} is not the JSON SST writes`,
      "run the command under `npx sst shell --stage STAGE --`, or set DATABASE_URL",
    );
  }
}

/**
 * Where a hub on PGlite keeps its embedded instances' databases: beside its own (`./hub` is a
 * database folder; `./hub-instances/<owner>--<name>--<id>` are the instances'), as its lock is.
 */
const instancesDir = (pgliteDir: string) => `${pgliteDir}-instances`;

/** Open the hub database; a PGlite folder held by another process is a clear error at once. */
async function openHubDatabase(dir?: string) {
  const target = hubDatabase(dir);
  if (typeof target !== "string") {
    mkdirSync(dirname(target.pgliteDir), { recursive: true });
    const { readLockHolder } = await import("../../core/db/pglite-lock.js");
    const holder = readLockHolder(`${target.pgliteDir}.lock`);
    if (holder && holder.pid !== process.pid && isAlive(holder.pid)) {
      throw new UnavailableError(
        `the hub database in ${target.pgliteDir} is in use by process ${holder.pid}${holder.purpose ? ` (${holder.purpose})` : ""}`,
        "stop `lamin hub serve` first (an embedded database has one process at a time), or keep the hub database on Postgres (DATABASE_URL)",
      );
    }
  }
  const { openHub } = await import("../../core/hub/open.js");
  return openHub(target);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Where `lamin hub serve` lets instances go: `LAMIN_HUB_DEFAULT_STORAGE` (by default, at
 * `<root>/<owner>/<name>`) and the allow-list of `--storage-allow` (else
 * `LAMIN_HUB_STORAGE_ALLOW`); S3 roots reached through `AWS_ENDPOINT_URL_S3` unless an entry
 * names its own (`s3://bucket/prefix@http://host:port`), GCS roots through STORAGE_EMULATOR_HOST
 * (else Google) unless an entry names its own. The hub database's folder and this
 * process's $LAMIN_HOME are never an instance's storage.
 */
async function serveStorage(dir: string | undefined, allowOption: string | undefined) {
  const { parseStorageAreas } = await import("../../core/hub/storage-policy.js");
  const root = process.env.LAMIN_HUB_DEFAULT_STORAGE;
  const endpoint = process.env.AWS_ENDPOINT_URL_S3;
  const allow = parseStorageAreas(allowOption ?? process.env.LAMIN_HUB_STORAGE_ALLOW ?? "");
  const cloud = (r: string) => /^(s3|gs):\/\//.test(r);
  // AWS_ENDPOINT_URL_S3 is for S3 areas; GCS ones read STORAGE_EMULATOR_HOST themselves
  const withEndpoint = (a: { root: string; endpoint?: string }) =>
    a.endpoint === undefined && endpoint && a.root.startsWith("s3://") ? { ...a, endpoint } : a;
  const database = hubDatabase(dir);
  return {
    ...(root ? { default: withEndpoint({ root: cloud(root) ? root : resolve(root) }) } : {}),
    allow: allow.map(withEndpoint),
    reserved: [
      ...(typeof database === "string"
        ? []
        : [database.pgliteDir, instancesDir(database.pgliteDir)]),
      laminHome(),
    ],
  };
}

export async function hubServe(
  opts: Json & { dir?: string; port: string; host: string; storageAllow?: string },
) {
  const { parsePort, listenOn, stopOnSignals } = await import("./serve.js");
  const { builtWebUi, storageOrigins } = await import("../../functions/api/web.js");
  const { gcsEndpoint } = await import("../../core/storage/gcs.js");
  const { sessionKeys } = await import("../../functions/api/session.js");
  const { randomBytes } = await import("node:crypto");
  const port = parsePort(opts.port);
  const [{ composeHubApp }, { provisionerFromEnv }] = await Promise.all([
    import("../../functions/hub/compose.js"),
    import("../../core/hub/provision.js"),
  ]);
  // checked before the database is opened: a wrong setting stops here, with what to fix
  const storage = await serveStorage(opts.dir, opts.storageAllow);
  const { StoragePolicy } = await import("../../core/hub/storage-policy.js");
  const areas = new StoragePolicy(storage).describe();
  const allAreas = [...(storage.default ? [storage.default] : []), ...(storage.allow ?? [])];
  const s3Areas = allAreas.filter((a) => a.root.startsWith("s3://"));
  const gcsAreas = allAreas.filter((a) => a.root.startsWith("gs://"));
  const opened = await openHubDatabase(opts.dir);
  // instances' databases: a Postgres server (DATABASE_URL) or Neon (NEON_API_KEY); a hub whose
  // own database is PGlite makes them PGlite folders beside it, served by this process
  const database = hubDatabase(opts.dir);
  const embedded =
    typeof database === "string" ? undefined : await import("../../core/hub/pglite-provisioner.js");
  let provisioner: Parameters<typeof composeHubApp>[1]["provisioner"];
  try {
    provisioner = provisionerFromEnv();
  } catch (refusal) {
    provisioner =
      embedded && typeof database !== "string"
        ? new embedded.PgliteProvisioner(instancesDir(database.pgliteDir))
        : { refusal };
  }
  const app = composeHubApp(opened.hub, {
    provisioner,
    // a hub that made embedded instances opens them, whatever provisions new ones now
    ...(embedded ? { openInstance: embedded.openEmbeddedRecord } : {}),
    storage,
    // behind a reverse proxy, say how many: its x-forwarded-for entries then name the client
    trustedProxies: Number(process.env.LAMIN_TRUSTED_PROXIES ?? 0),
    ...(typeof __VERSION__ === "string" ? { version: __VERSION__ } : {}),
    web: builtWebUi(),
    // browsers upload straight to the instances' object storage: its endpoints, AWS or Google
    storageOrigins: storageOrigins(
      [...s3Areas.map((a) => a.endpoint), ...gcsAreas.map((a) => gcsEndpoint(a.endpoint))],
      s3Areas.some((a) => !a.endpoint),
    ),
    // browser sessions: LAMIN_SESSION_SECRET keeps them across restarts (and several servers)
    sessionKeys: sessionKeys(process.env.LAMIN_SESSION_SECRET || randomBytes(32)),
  });
  let server: Awaited<ReturnType<typeof listenOn>>["server"];
  let url: string;
  try {
    ({ url, server } = await listenOn(app.fetch, { port, host: opts.host }));
  } catch (error) {
    await app.close().catch(() => {});
    await opened.close().catch(() => {});
    throw error;
  }
  // the operator's socket: `lamin hub create-account` while this process holds the database
  const operator =
    typeof database === "string"
      ? undefined
      : await import("../hub-operator.js").then(({ serveOperatorSocket, operatorSocket }) =>
          serveOperatorSocket(opened.hub, operatorSocket(database.pgliteDir)).catch(
            (error: Error) => {
              note(`note: no operator socket (${error.message}): stop the hub to add accounts`);
              return undefined;
            },
          ),
        );
  stopOnSignals(async () => {
    server.close();
    operator?.close();
    await app.close();
    await opened.close();
  });
  if (opts.json) process.stdout.write(`${JSON.stringify({ url, ui_url: `${url}/ui/` })}\n`);
  else {
    const where = typeof hubDatabase(opts.dir) === "string" ? "Postgres (DATABASE_URL)" : "PGlite";
    say(`hub serving at ${url} (hub database on ${where})`);
    say(`docs:    ${url}/docs`);
    say(`web UI:  ${url}/ui/  (sign in with an API key)`);
    say("accounts: lamin hub create-account HANDLE; Ctrl-C stops it");
    if (areas.length > 0) say(`storage: instances go inside ${areas.join(", ")}`);
  }
  if (areas.length === 0) {
    note(
      "note: no storage is allowed, so instances cannot be created: pass --storage-allow /srv/lamin,s3://bucket/prefix,gs://bucket/prefix (or set LAMIN_HUB_STORAGE_ALLOW or LAMIN_HUB_DEFAULT_STORAGE)",
    );
  }
  if ("refusal" in provisioner) {
    note(
      `note: instances cannot be created: ${(provisioner.refusal as Error).message} (set DATABASE_URL or NEON_API_KEY)`,
    );
  }
}

/**
 * An operator's change: through the socket of a `lamin hub serve` that holds the PGlite hub
 * database, else on the database itself.
 */
async function asOperator<T>(
  dir: string | undefined,
  route: "/accounts" | "/members",
  body: Record<string, unknown>,
  direct: (hub: import("../../core/hub/hub.js").Hub) => Promise<T>,
): Promise<T> {
  const target = hubDatabase(dir);
  const operator = await import("../hub-operator.js");
  if (typeof target !== "string") {
    const served = await operator.askOperatorSocket<T>(
      operator.operatorSocket(target.pgliteDir),
      route,
      body,
    );
    if (served !== undefined) return served;
  }
  const opened = await openHubDatabase(dir);
  try {
    return await direct(opened.hub);
  } finally {
    await opened.close();
  }
}

export async function createAccount(handle: string, opts: Json & { dir?: string; org?: boolean }) {
  const { operatorCreateAccount } = await import("../hub-operator.js");
  const body = { handle, org: opts.org === true };
  const account = await asOperator(opts.dir, "/accounts", body, (hub) =>
    operatorCreateAccount(hub, body),
  );
  if (opts.json) return printJson(account);
  say(`created ${account.kind === "org" ? "organisation" : "account"} ${account.handle}`);
  say(`API key (shown once; store it now): ${account.key}`);
  say(`next: lamin login --hub URL --key ${account.key}`);
}

/** Admin: make `handle` a member (or admin) of organisation `org`, or remove them. */
export async function setMember(
  org: string,
  handle: string,
  opts: Json & { dir?: string; role?: string; remove?: boolean },
) {
  const { operatorSetMember } = await import("../hub-operator.js");
  const body = {
    org,
    handle,
    ...(opts.role !== undefined ? { role: opts.role } : {}),
    ...(opts.remove ? { remove: true } : {}),
  };
  const { members } = await asOperator(opts.dir, "/members", body, (hub) =>
    operatorSetMember(hub, body),
  );
  if (opts.json) return printJson({ org, members });
  say(
    opts.remove
      ? `removed ${handle} from ${org}`
      : `${handle} is ${opts.role ?? "member"} of ${org}`,
  );
}

// ---- a user's side: login ----

export async function login(opts: Json & { hub?: string; key?: string }) {
  const url = opts.hub ?? process.env.LAMIN_HUB_URL;
  const key = opts.key ?? process.env.LAMIN_API_KEY;
  if (!url || !key) {
    throw new ValidationError(
      `logging in needs ${url ? "an API key" : "the hub's URL"}`,
      "pass --hub URL --key KEY (or set LAMIN_HUB_URL and LAMIN_API_KEY)",
    );
  }
  if (!/^https?:\/\//i.test(url)) {
    throw new ValidationError(`'${url}' is not a URL`, "pass --hub http(s)://...");
  }
  const { HubClient } = await import("../../sdk/hub.js");
  const client = new HubClient(url, key);
  const account = await client.account().catch((error: unknown) => {
    // the hub's own hint speaks HTTP (an Authorization header); say what to do on this command line
    if ((error as LaminError)?.kind !== "unauthenticated") throw error;
    throw new LaminError(
      "unauthenticated",
      `the hub at ${client.url} does not accept this API key (mistyped, revoked or expired)`,
      "check the key you pass with --key: `lamin hub create-account` and `lamin keys create` print a key once; an admin can make you a new one",
    );
  });
  saveHubLogin({ hub: client.url, key, handle: account.handle });
  if (opts.json) printJson({ hub: client.url, handle: account.handle });
  else say(`logged in to ${client.url} as ${account.handle}`);
}

export async function logout(opts: Json) {
  const had = removeHubLogin();
  if (opts.json) printJson({ logged_out: had });
  else say(had ? "logged out (the key stays valid; lamin keys revoke ends it)" : "not logged in");
}

// ---- instances on the hub ----

/** Remember `owner/name` of the hub under its name (or `as`), and make it current. */
async function remember(
  client: HubClient,
  key: string,
  owner: string,
  name: string,
  as?: string,
): Promise<InstanceSettings> {
  const record = await client.instance(owner, name);
  const url = client.instanceUrl(record.owner, record.name);
  const { RemoteInstance } = await import("../../sdk/remote.js");
  const info = (await new RemoteInstance(url, { token: key }).describe()) as { uid?: string };
  const localName = validateInstanceName(as ?? record.name);
  const existing = loadInstanceSettings(localName);
  if (existing && !(existing.db.kind === "remote" && existing.db.url === url)) {
    throw new ConflictError(
      `an instance named '${localName}' is already known here`,
      "pass --name to remember this one under another name",
    );
  }
  const { instanceUidFromId } = await import("../../core/uid.js");
  const settings: InstanceSettings = {
    owner: record.owner,
    name: localName,
    id: record.id,
    uid: info.uid ?? instanceUidFromId(record.id),
    storageRoot: record.storage_root,
    ...(record.storage_endpoint ? { storageEndpoint: record.storage_endpoint } : {}),
    db: { kind: "remote", url, token: key },
    createdAt: record.created_at,
  };
  saveInstanceSettings(settings);
  setCurrentInstance(settings.name);
  return settings;
}

async function printConnected(settings: InstanceSettings, json: boolean | undefined) {
  const { summary } = await import("./instance.js");
  if (json) printJson(summary(settings));
  else say(`connected to ${settings.owner}/${settings.name} (${describeUrl(settings)})`);
}

const describeUrl = (s: InstanceSettings) => (s.db.kind === "remote" ? s.db.url : s.storageRoot);

export async function initOnHub(
  slug: string,
  opts: Json & { storage?: string; name?: string; db?: string; endpointUrl?: string },
) {
  const { owner, name } = requireSlug(slug);
  if (opts.name || opts.db) {
    throw new ValidationError(
      "an instance on the hub takes its name from the slug and its database from the hub",
      "drop --name and --db, or create a local instance with `lamin init --storage DIR`",
    );
  }
  const login = requireHubLogin();
  const client = hubClient(login);
  // no --storage: the hub's default (a deployed hub puts instances in its bucket)
  const bucket = /^(s3|gs):\/\//.test(opts.storage ?? "");
  const storageRoot = opts.storage && (bucket ? opts.storage : resolve(opts.storage));
  if (!opts.json) note(`creating ${owner}/${name} on ${client.url} ...`);
  await client.createInstance({
    owner,
    name,
    ...(storageRoot ? { storageRoot } : {}),
    ...(bucket && opts.endpointUrl ? { storageEndpoint: opts.endpointUrl } : {}),
  });
  const settings = await remember(client, login.key, owner, name);
  if (opts.json) return printConnected(settings, true);
  say(`created ${owner}/${name} on ${client.url}`);
  say(`storage   ${settings.storageRoot}`);
  say(`\nsaved as the current instance; next: lamin save FILE --key KEY`);
}

export async function connectSlug(slug: string, opts: Json & { name?: string }) {
  const { owner, name } = requireSlug(slug);
  const login = requireHubLogin();
  const settings = await remember(hubClient(login), login.key, owner, name, opts.name);
  await printConnected(settings, opts.json);
}

export async function deleteInstance(slug: string, opts: Json & { force?: boolean }) {
  const { owner, name } = requireSlug(slug);
  const client = hubClient();
  if (!opts.force) {
    if (!process.stdin.isTTY) {
      throw new ValidationError(
        `deleting ${owner}/${name} needs a confirmation`,
        "pass --force to delete without asking (its database goes; its storage stays)",
      );
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl
      .question(
        `this deletes ${owner}/${name} and its database for good (storage stays); type ${owner}/${name} to confirm: `,
      )
      .finally(() => rl.close());
    if (answer.trim() !== `${owner}/${name}`) {
      throw new ValidationError("not deleted: the confirmation did not match", "type the slug");
    }
  }
  const record = await client.deleteInstance(owner, name);
  // forget it here too
  const url = client.instanceUrl(owner, name);
  for (const s of listInstanceSettings()) {
    if (s.db.kind === "remote" && s.db.url === url) removeInstanceSettings(s.name);
  }
  if (opts.json) printJson({ deleted: `${record.owner}/${record.name}` });
  else say(`deleted ${record.owner}/${record.name} (its storage ${record.storage_root} stays)`);
}

// ---- collaborators ----

const ROLES = ["read", "write", "admin"] as const;

function validateRole(role: string): HubRole {
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new ValidationError(`invalid role '${role}'`, "pass --role read, write or admin");
  }
  return role as HubRole;
}

export async function setCollaborator(slug: string, handle: string, opts: Json & { role: string }) {
  const { owner, name } = requireSlug(slug);
  const grant = await hubClient().setCollaborator(owner, name, handle, validateRole(opts.role));
  if (opts.json) printJson({ instance: `${owner}/${name}`, ...grant });
  else say(`${grant.handle} has role ${grant.role} on ${owner}/${name}`);
}

export async function listCollaborators(slug: string, opts: Json) {
  const { owner, name } = requireSlug(slug);
  const all = await hubClient().collaborators(owner, name);
  if (opts.json) return printJson(all);
  if (all.length === 0) return say(`no collaborators on ${owner}/${name} (besides its owner)`);
  say(
    table(
      ["handle", "role"],
      all.map((c) => [c.handle, c.role]),
    ),
  );
}

export async function removeCollaborator(slug: string, handle: string, opts: Json) {
  const { owner, name } = requireSlug(slug);
  await hubClient().removeCollaborator(owner, name, handle);
  if (opts.json) printJson({ instance: `${owner}/${name}`, removed: handle });
  else say(`removed ${handle} from ${owner}/${name}`);
}

/** `lamin collaborator space-add|space-update owner/name HANDLE SPACE --role R`. */
export async function setSpaceCollaborator(
  slug: string,
  handle: string,
  space: string,
  opts: Json & { role: string },
) {
  const { owner, name } = requireSlug(slug);
  const grant = await hubClient().setSpaceCollaborator(
    owner,
    name,
    handle,
    space,
    validateRole(opts.role),
  );
  if (opts.json) printJson({ instance: `${owner}/${name}`, ...grant });
  else say(`${grant.handle} has role ${grant.role} in space ${grant.space} of ${owner}/${name}`);
}

export async function listSpaceCollaborators(slug: string, opts: Json) {
  const { owner, name } = requireSlug(slug);
  const all = await hubClient().spaceCollaborators(owner, name);
  if (opts.json) return printJson(all);
  if (all.length === 0) {
    return say(`no space roles on ${owner}/${name}: every collaborator sees space all only`);
  }
  say(
    table(
      ["space", "handle", "role"],
      all.map((c) => [c.space, c.handle, c.role]),
    ),
  );
}

export async function removeSpaceCollaborator(
  slug: string,
  handle: string,
  space: string,
  opts: Json,
) {
  const { owner, name } = requireSlug(slug);
  await hubClient().removeSpaceCollaborator(owner, name, handle, space);
  if (opts.json) printJson({ instance: `${owner}/${name}`, space, removed: handle });
  else say(`removed ${handle} from space ${space} of ${owner}/${name}`);
}

// ---- API keys ----

export async function listKeys(opts: Json) {
  const keys = await hubClient().keys();
  if (opts.json) return printJson(keys);
  const current = loadHubLogin()?.key;
  say(
    table(
      ["id", "prefix", "name", "created", "expires", "state", "last used"],
      keys.map((k) => [
        String(k.id),
        k.prefix,
        k.name ?? "",
        formatDate(k.created_at),
        k.expires_at ? formatDate(k.expires_at) : "never",
        k.revoked_at
          ? "revoked"
          : k.expires_at && Date.parse(k.expires_at) <= Date.now()
            ? "expired"
            : current?.includes(k.prefix)
              ? "live (this one)"
              : "live",
        k.last_used_at ? formatDate(k.last_used_at) : "-",
      ]),
    ),
  );
}

export async function createKey(opts: Json & { name?: string; expiresInDays?: string }) {
  let expiresAt: Date | undefined;
  if (opts.expiresInDays !== undefined) {
    const days = Number(opts.expiresInDays);
    if (!Number.isFinite(days) || days <= 0) {
      throw new ValidationError(
        `invalid --expires-in-days '${opts.expiresInDays}'`,
        "pass a positive number of days",
      );
    }
    expiresAt = new Date(Date.now() + days * 86_400_000);
  }
  const key = await hubClient().createKey({
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    ...(expiresAt ? { expiresAt } : {}),
  });
  if (opts.json) return printJson(key);
  say(`API key ${key.id} (shown once; store it now): ${key.key}`);
  if (key.expires_at) say(`expires ${formatDate(key.expires_at)}`);
}

export async function revokeKey(id: string | undefined, opts: Json & { all?: boolean }) {
  if (!id === !opts.all) {
    throw new ValidationError(
      id ? "pass a key id or --all, not both" : "which key?",
      "pass the key's id or prefix (lamin keys list), or --all",
    );
  }
  const client = hubClient();
  if (opts.all) {
    const revoked = await client.revokeAllKeys();
    if (opts.json) return printJson({ revoked });
    say(`revoked ${revoked} key(s), the one of this login included: lamin login with a new key`);
    return;
  }
  const key = await client.revokeKey(id as string);
  if (opts.json) return printJson(key);
  say(`revoked key ${key.id} (${key.prefix})`);
}
