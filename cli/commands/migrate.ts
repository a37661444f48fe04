/** `lamin migrate create | deploy | status`: the schema of the current instance and its modules. */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { MigrationStatus } from "../../core/db/migrate.js";
import { NotFoundError, UnavailableError, ValidationError } from "../../core/errors.js";
import type { ModuleChangeRequest } from "../../core/modules/declared.js";
import {
  BUILTIN_MODULES,
  deployMigrations,
  getModule,
  type HasDb,
  instanceMigrationStatus,
  pendingMigrations,
} from "../../core/modules/index.js";
import { resolveInstanceSettings } from "../../core/settings.js";
import { note, printJson, say, table } from "../output.js";
import { localServer } from "../server.js";

interface Json {
  json?: boolean;
}

/**
 * Run `fn` on the current instance's database, opened directly (never through `lamin serve`):
 * migrations and modules change the schema, which only the machine holding the database may do.
 */
export async function withInstanceDatabase<T>(
  fn: (db: HasDb, owner: string) => Promise<T>,
): Promise<T> {
  const settings = resolveInstanceSettings();
  if (settings.db.kind === "remote") {
    throw new UnavailableError(
      `'${settings.name}' is reached through its API (${settings.db.url}); its schema is changed where its database is`,
      "run the command on the machine (or with the DATABASE_URL) of that instance",
    );
  }
  const server = await localServer(settings);
  if (server) {
    // it holds the database for as long as it runs: waiting for it would wait forever
    throw new UnavailableError(
      `'${settings.name}' is held by \`lamin serve\` (process ${server.pid}); a schema change needs the database to itself`,
      "stop the server, run this command, then start the server again",
    );
  }
  const { openInstanceDatabase } = await import("../../core/setup.js");
  const database = await openInstanceDatabase(settings.name, {
    purpose: "lamin migrate",
    onWait: (holder) =>
      note(
        `waiting for process ${holder.pid}${holder.purpose ? ` (${holder.purpose})` : ""}, which has the instance database open ...`,
      ),
  });
  try {
    return await fn(database, settings.owner);
  } finally {
    await database.close();
  }
}

/**
 * Reading the status changes nothing: a running `lamin serve`, or the hub of an instance on one,
 * answers it from its database.
 */
async function servedStatus(): Promise<MigrationStatus[] | undefined> {
  const settings = resolveInstanceSettings();
  // an instance on a hub answers what it has (its modules as the instance keeps them)
  const server = settings.db.kind === "remote" ? settings.db : await localServer(settings);
  if (!server) return undefined;
  const res = await fetch(`${server.url}/modules/migrations`, {
    headers: { authorization: `Bearer ${server.token}` },
  });
  if (!res.ok) {
    const { failure } = await import("../../sdk/remote-http.js");
    throw await failure(res, "reading the migration status");
  }
  return (await res.json()) as MigrationStatus[];
}

/**
 * Our migrations per app (`lns`, `lns_<module>`), then what Python LaminDB finds recorded in
 * django_migrations (`lamindb`, `bionty`): its `lamin migrate deploy` has nothing to do once
 * every row is there.
 */
export async function status(opts: Json) {
  const apps =
    (await servedStatus()) ??
    (await withInstanceDatabase((db) => instanceMigrationStatus(db, { packages: true })));
  if (opts.json) return printJson({ instance: resolveInstanceSettings().name, apps });
  say(
    table(
      ["app", "applied", "pending"],
      apps.map((a) => [a.app, String(a.applied.length), a.pending.join(", ") || "-"]),
    ),
  );
  const python = apps.flatMap((a) => (a.python ? [a.python] : []));
  say("\nfor Python LaminDB (its migrations recorded as applied):");
  say(
    table(
      ["app", "recorded", "missing"],
      python.map((p) => [
        p.app,
        `${p.recorded.length}/${p.recorded.length + p.missing.length}`,
        p.missing.length ? `${p.missing.length} (recorded once the schema is there)` : "-",
      ]),
    ),
  );
  if (apps.some((a) => a.pending.length || a.python?.missing.length)) {
    say("\napply them with: lamin migrate deploy");
  }
}

/**
 * `lamin migrate deploy` on an instance reached over HTTP (a hub's): each module of its own
 * package that it has and this machine has the package of is sent its declaration; the server
 * writes and applies the SQL (or, dry, answers it). Its core is migrated by the server itself.
 */
async function deployRemote(opts: Json & { dryRun?: boolean }) {
  const { withTarget } = await import("../target.js");
  const modules = await withTarget((ln) => ln.modules.list());
  const requestFor = packageRequests(opts);
  const changes = [];
  for (const m of modules) {
    if (!m.enabled || !m.package || BUILTIN_MODULES.has(m.name)) continue;
    const req = await requestFor(m.name);
    if (!req) continue;
    changes.push(
      await withTarget((ln) => ln.modules.change(m.name, { ...req, dryRun: opts.dryRun === true })),
    );
  }
  const instance = resolveInstanceSettings().name;
  if (opts.json) return printJson({ instance, changes });
  const done = changes.filter((c) => c.statements.length > 0 || c.applied.length > 0);
  if (done.length === 0) return say("nothing to apply: the instance is up to date");
  for (const c of done) {
    if (opts.dryRun) {
      say(`-- ${c.module}: ${c.applied.join(", ")}`);
      for (const statement of c.statements) say(`${statement.replace(/;\s*$/, "")};`);
      say("");
    } else for (const n of c.applied) say(`applied lns_${c.module}/${n}`);
  }
  if (opts.dryRun) say("dry run: nothing applied; run without --dry-run to apply");
}

/**
 * What a server is sent for each module, by name, read once per command from its package on
 * this machine; undefined (and a note) when this machine has no package of it.
 */
function packageRequests(opts: Json) {
  const known = new Map<string, ModuleChangeRequest | undefined>();
  return async (name: string): Promise<ModuleChangeRequest | undefined> => {
    if (known.has(name)) return known.get(name);
    const { changeRequest } = await import("./module.js");
    let req: ModuleChangeRequest | undefined;
    try {
      req = (await changeRequest(name)).req;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      if (!opts.json) note(`${name}: no package of it on this machine, skipped`);
    }
    known.set(name, req);
    return req;
  };
}

/** One instance's outcome of a deploy across a hub's instances. */
interface InstanceDeploy {
  instance: string;
  module: string;
  applied?: string[];
  statements?: string[];
  /** Why it was not deployed there (e.g. not an admin of it): the others go on. */
  error?: string;
}

/**
 * `lamin migrate deploy --all-instances`: every instance of the hub that the account administers
 * and that has one of the modules whose package this machine has, reported per instance (the
 * hub checks the admin role on each again).
 */
async function deployEverywhere(opts: Json & { dryRun?: boolean }) {
  const { hubClient, requireHubLogin } = await import("../../sdk/hub.js");
  const { RemoteInstance } = await import("../../sdk/remote.js");
  const login = requireHubLogin();
  const requestFor = packageRequests(opts);
  const report: InstanceDeploy[] = [];
  const hub = hubClient(login);
  for (const i of await hub.instances()) {
    const slug = `${i.owner}/${i.name}`;
    // a schema change is an admin's: instances the account only reads or writes are not its own
    const { role } = await hub.instance(i.owner, i.name);
    if (role !== "owner" && role !== "admin") continue;
    const ln = new RemoteInstance(`${login.hub.replace(/\/$/, "")}/instances/${slug}`, {
      token: login.key,
    });
    try {
      const enabled = (await ln.modules.list()).filter(
        (m) => m.enabled && m.package && !BUILTIN_MODULES.has(m.name),
      );
      for (const m of enabled) {
        const req = await requestFor(m.name);
        if (!req) continue;
        try {
          const c = await ln.modules.change(m.name, { ...req, dryRun: opts.dryRun === true });
          report.push({
            instance: slug,
            module: m.name,
            applied: c.applied,
            statements: c.statements,
          });
        } catch (error) {
          report.push({ instance: slug, module: m.name, error: (error as Error).message });
        }
      }
    } finally {
      await ln.close();
    }
  }
  // an instance that failed fails the command; the others' changes stay (each is its own)
  if (report.some((r) => r.error)) process.exitCode = 1;
  if (opts.json) return printJson({ deployed: report });
  if (report.length === 0) return say("no instance has a module whose package is on this machine");
  say(
    table(
      ["instance", "module", opts.dryRun ? "would apply" : "applied"],
      report.map((r) => [
        r.instance,
        r.module,
        r.error ? `failed: ${r.error}` : r.applied?.join(", ") || "-",
      ]),
    ),
  );
}

export async function deploy(opts: Json & { dryRun?: boolean; allInstances?: boolean }) {
  if (opts.allInstances) return deployEverywhere(opts);
  if (resolveInstanceSettings().db.kind === "remote") return deployRemote(opts);
  if (opts.dryRun) {
    const pending = await withInstanceDatabase((db) => pendingMigrations(db, { packages: true }));
    if (opts.json) return printJson({ instance: resolveInstanceSettings().name, pending });
    if (pending.length === 0) return say("nothing to apply: the instance is up to date");
    for (const m of pending) {
      say(`-- ${m.app}/${m.name}`);
      for (const statement of m.statements) say(`${statement.replace(/;\s*$/, "")};`);
      say("");
    }
    return say(
      `dry run: ${pending.length} migration(s) not applied; run without --dry-run to apply`,
    );
  }
  const { applied } = await withInstanceDatabase((db, owner) =>
    deployMigrations(db, { owner, packages: true }),
  );
  if (opts.json) return printJson({ instance: resolveInstanceSettings().name, applied });
  const entries = Object.entries(applied).filter(([, names]) => names.length > 0);
  if (entries.length === 0) return say("nothing to apply: the instance is up to date");
  for (const [app, names] of entries) {
    // our apps are lns and lns_<module>; the others are the rows Python LaminDB reads
    if (app === "lns" || app.startsWith("lns_")) for (const n of names) say(`applied ${app}/${n}`);
    else say(`recorded ${names.length} migrations of ${app} for Python LaminDB`);
  }
}

/** The checkout of this repository that `cwd` is in (where drizzle-kit and the schemas are). */
function findCheckout(from: string, config: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && existsSync(join(dir, config))) {
      try {
        if (JSON.parse(readFileSync(pkg, "utf8")).name === "lamindb-serverless") return dir;
      } catch {}
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

const journalTags = (folder: string): string[] => {
  const path = join(folder, "meta", "_journal.json");
  if (!existsSync(path)) return [];
  return (JSON.parse(readFileSync(path, "utf8")) as { entries: { tag: string }[] }).entries.map(
    (e) => e.tag,
  );
};

/**
 * A module of its own package: write its next migration from its declarations (no checkout of
 * this repository and no drizzle-kit needed).
 */
async function createForPackage(spec: string, name: string | undefined, opts: Json) {
  const { loadModuleSpec } = await import("./module.js");
  const { createModuleMigration } = await import("../../core/modules/external.js");
  const module = getModule(
    await loadModuleSpec(spec),
  ) as import("../../core/modules/external.js").ExternalModule;
  const created = createModuleMigration(module, name);
  if (opts.json) {
    return printJson({
      app: `lns_${module.name}`,
      created: created ? [created.file] : [],
      statements: created?.statements ?? [],
    });
  }
  if (!created) return say(`no changes to the declarations of ${module.name}: nothing to migrate`);
  say(`created ${created.file} (${created.statements.length} statements)`);
  say(
    "review it, commit it with the module, then: lamin module enable (first time) or lamin migrate deploy",
  );
}

/** Generate a migration from the difference between a schema file and its migrations folder. */
export async function create(name: string | undefined, opts: Json & { module?: string }) {
  if (opts.module && !BUILTIN_MODULES.has(opts.module)) {
    return createForPackage(opts.module, name, opts);
  }
  if (name === undefined) {
    throw new ValidationError(
      "a migration of the core needs a name",
      "e.g. lamin migrate create add_cell_marker",
    );
  }
  if (!/^[a-z0-9][a-z0-9_]{0,62}$/.test(name)) {
    throw new ValidationError(
      `invalid migration name '${name}'`,
      "use lower-case letters, digits and '_', e.g. add_cell_marker",
    );
  }
  const module = opts.module ? getModule(opts.module) : undefined;
  const config = module?.drizzleConfig ?? "drizzle.config.ts";
  const root = findCheckout(process.cwd(), config);
  if (!root) {
    throw new ValidationError(
      "lamin migrate create runs in a checkout of lamindb-serverless",
      "cd into the repository: it diffs the drizzle schema files against migrations/",
    );
  }
  const bin = join(root, "node_modules", "drizzle-kit", "bin.cjs");
  if (!existsSync(bin)) {
    throw new UnavailableError("drizzle-kit is not installed", `run npm install in ${root}`);
  }
  const folder = join(root, "migrations", module?.name ?? "instance");
  const before = new Set(journalTags(folder));
  const output = await new Promise<{ code: number; text: string }>((done, fail) => {
    const child = spawn(process.execPath, [bin, "generate", "--config", config, "--name", name], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: "0" },
    });
    let text = "";
    child.stdout.on("data", (d) => {
      text += d;
    });
    child.stderr.on("data", (d) => {
      text += d;
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code: code ?? 1, text }));
  });
  if (output.code !== 0) {
    const last = output.text.trim().split("\n").filter(Boolean).pop() ?? "no output";
    throw new UnavailableError(
      `drizzle-kit generate failed: ${last}`,
      `run it yourself for the whole output: npx drizzle-kit generate --config ${config}`,
    );
  }
  const created = journalTags(folder)
    .filter((t) => !before.has(t))
    .map((t) => join("migrations", module?.name ?? "instance", `${t}.sql`));
  if (opts.json) return printJson({ app: module ? `lns_${module.name}` : "lns", created });
  if (created.length === 0) return say("no schema changes: nothing to migrate");
  for (const file of created) say(`created ${file}`);
  say("review it, then apply it with: lamin migrate deploy");
}
