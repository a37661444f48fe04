/**
 * The settings Python LaminDB reads (`lamin settings export --python`): written where and as
 * lamindb_setup d6009c83 reads them, and read back by its own loader (`_settings_store.py` with
 * python-dotenv, copied unmodified into test/fixtures/lamindb_setup/), for a Postgres instance
 * with bionty. Embedded and served instances are refused with what to do; a file of another
 * instance is never replaced without --force.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError, type LaminError, ValidationError } from "../core/errors.js";
import type { Instance } from "../core/instance.js";
import { enableModules } from "../core/modules/index.js";
import {
  formatPythonStore,
  type PythonInstanceStore,
  pythonInstanceFile,
  pythonInstanceStore,
  pythonSeesLocal,
  readStoreSources,
  writePythonSettings,
} from "../core/python-settings.js";
import type { InstanceSettings } from "../core/settings.js";
import { instanceIdFromSlug } from "../core/uid.js";
import {
  BACKENDS,
  createInstance,
  laminIn,
  REPO,
  type TestInstance,
  tempDir,
  useTempHome,
} from "./helpers.js";

useTempHome();

const LOADER = join(REPO, "test", "fixtures", "lamindb_setup", "load_instance.py");

/** python3 with what lamindb_setup's settings loader imports (the machine's and CI's have it). */
const hasPython = (() => {
  try {
    execFileSync("python3", ["-c", "import dotenv, pydantic"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasPython && process.env.CI) {
  throw new Error("CI needs python3 with python-dotenv and pydantic for lamindb_setup's loader");
}

interface Loaded {
  file: string;
  store: Record<string, unknown>;
  id: string;
  db: string | null;
  modules: string[];
  storage_region: string | null;
  is_remote: boolean;
  default_instance_file: string | null;
}

/** Run lamindb_setup's loader on `slug` with Python's environment variables. */
function pythonLoad(slug: string, env: Record<string, string>): Loaded {
  const out = execFileSync("python3", [LOADER, slug], {
    env: { PATH: process.env.PATH ?? "", HOME: tempDir("lamin-pyhome-"), ...env },
    encoding: "utf8",
  });
  return JSON.parse(out) as Loaded;
}

const postgresOnly = BACKENDS.includes("postgres");

describe.runIf(postgresOnly)("Python's settings of a Postgres instance with bionty", () => {
  let t: TestInstance;
  let ln: Instance;
  let settingsDir: string;
  const env = () => ({ LAMIN_SETTINGS_DIR: settingsDir });

  beforeAll(async () => {
    t = await createInstance("postgres");
    ln = t.instance;
    await enableModules(ln, ["bionty"]);
    settingsDir = tempDir("lamin-pysettings-");
  });
  afterAll(() => t.dispose());

  const store = async () =>
    pythonInstanceStore(ln.settings, await readStoreSources(ln.db, ln.settings));

  it("writes the instance file lamindb_setup looks for, with its keys in its order", async () => {
    const s = await store();
    const result = writePythonSettings(s, { env: env() });
    expect(result.file).toBe(join(settingsDir, ".lamin", `instance--anonymous--${t.name}.env`));
    expect(result.status).toBe("written");
    expect(statSync(result.file).mode & 0o777).toBe(0o600); // it holds the database URL
    const lines = readFileSync(result.file, "utf8").trimEnd().split("\n");
    expect(lines.map((l) => l.split("=")[0])).toEqual(
      [
        "owner",
        "name",
        "storage_root",
        "storage_region",
        "db",
        "schema_str",
        "id",
        "git_repo",
        "keep_artifacts_local",
        "api_url",
        "schema_id",
        "fine_grained_access",
        "db_permissions",
        "is_clone",
      ].map((k) => `lamindb_instance_${k}`),
    );
    expect(lines).toContain(`lamindb_instance_storage_root=${ln.storageRecord.root}`);
    expect(lines).toContain("lamindb_instance_schema_str=bionty");
    expect(lines).toContain("lamindb_instance_storage_region=null");
    expect(lines).toContain("lamindb_instance_keep_artifacts_local=False");
    expect(lines).toContain(`lamindb_instance_id=${instanceIdFromSlug(`anonymous/${t.name}`)}`);
    // the same again changes nothing
    expect(writePythonSettings(s, { env: env() }).status).toBe("unchanged");
  });

  it.runIf(hasPython || process.env.CI)(
    "is read by lamindb_setup's own loader as this instance, local, and as the default on LAMIN_CURRENT_INSTANCE",
    async () => {
      const s = await store();
      writePythonSettings(s, { env: env() });
      const slug = `anonymous/${t.name}`;
      const got = pythonLoad(slug, { ...env(), LAMIN_CURRENT_INSTANCE: slug });
      expect(got.store).toMatchObject({
        owner: "anonymous",
        name: t.name,
        storage_root: ln.storageRecord.root,
        storage_region: null,
        schema_str: "bionty",
        git_repo: null,
        keep_artifacts_local: false,
        api_url: null,
        fine_grained_access: false,
        is_clone: false,
      });
      expect(got.id).toBe(ln.settings.id);
      expect(got.db).toBe((ln.settings.db as { url: string }).url);
      expect(got.modules).toEqual(["bionty"]);
      // 127.0.0.1 and a local folder: ln.connect(slug) opens it without LaminHub
      expect(got.is_remote).toBe(false);
      expect(pythonSeesLocal(s)).toBe(false === got.is_remote);
      expect(got.default_instance_file).toBe(got.file);
      // LAMIN_ENV names the files as Python does
      const dev = writePythonSettings(s, { env: { ...env(), LAMIN_ENV: "staging" } });
      expect(dev.file).toBe(
        join(settingsDir, ".lamin", `staging--instance--${slug.replace("/", "--")}.env`),
      );
      expect(pythonLoad(slug, { ...env(), LAMIN_ENV: "staging" }).file).toBe(dev.file);
    },
  );

  it("never replaces the file of another instance without force; --current says what it replaced", async () => {
    const s = await store();
    const file = writePythonSettings(s, { env: env() }).file;
    const other = formatPythonStore({ ...s, db: "postgresql://u:secret@db.example:5432/other" });
    writeFileSync(file, other);
    const err = (() => {
      try {
        writePythonSettings(s, { env: env() });
      } catch (e) {
        return e as LaminError;
      }
    })();
    expect(err).toBeInstanceOf(ConflictError);
    expect(err?.message).toMatch(/describes another instance/);
    expect(err?.message).not.toMatch(/secret/); // passwords are never printed
    expect(err?.hint).toMatch(/--force/);
    expect(readFileSync(file, "utf8")).toBe(other);
    const forced = writePythonSettings(s, { env: env(), force: true, current: true });
    expect(forced.status).toBe("written");
    expect(readFileSync(file, "utf8")).toBe(formatPythonStore(s));
    expect(forced.current?.previous).toBeNull();
    expect(readFileSync(join(settingsDir, ".lamin", "current_instance.env"), "utf8")).toBe(
      formatPythonStore(s),
    );
  });
});

describe("Python's settings file format", () => {
  const base = (over: Partial<PythonInstanceStore>): PythonInstanceStore => ({
    owner: "anonymous",
    name: "odd",
    storage_root: "/data/lab",
    storage_region: null,
    db: "postgresql://postgres@127.0.0.1:5432/odd",
    schema_str: null,
    id: instanceIdFromSlug("anonymous/odd"),
    git_repo: null,
    keep_artifacts_local: false,
    api_url: null,
    schema_id: null,
    fine_grained_access: false,
    db_permissions: null,
    is_clone: false,
    ...over,
  });

  it.runIf(hasPython || process.env.CI)(
    "quotes what python-dotenv would change, and Python reads it back unchanged",
    () => {
      const dir = tempDir("lamin-pyformat-");
      const store = base({
        storage_root: "/data/my lab #1/it's \\here",
        db: "postgresql://me:p%40ss#word@db.example:5432/odd?sslmode=require",
        storage_region: "eu-central-1",
      });
      writePythonSettings(store, { env: { LAMIN_SETTINGS_DIR: dir } });
      const got = pythonLoad("anonymous/odd", { LAMIN_SETTINGS_DIR: dir });
      expect(got.store.storage_root).toBe(store.storage_root);
      expect(got.db).toBe(store.db);
      // a database elsewhere: ln.connect(slug) would ask LaminHub (the CLI says so)
      expect(got.is_remote).toBe(true);
      expect(pythonSeesLocal(store)).toBe(false);
    },
  );

  it("refuses values Python would read differently, writing nothing", () => {
    const dir = tempDir("lamin-pyformat-");
    for (const store of [
      base({ db: `postgresql://me:a${"$"}{HOME}b@127.0.0.1:5432/odd` }),
      base({ storage_root: "/data/two\nlines" }),
    ]) {
      expect(() => writePythonSettings(store, { env: { LAMIN_SETTINGS_DIR: dir } })).toThrow(
        ValidationError,
      );
    }
    expect(existsSync(join(dir, ".lamin")) ? readdirSync(join(dir, ".lamin")) : []).toEqual([]);
  });

  it("refuses embedded and served instances with what to do instead", () => {
    const settings = (db: InstanceSettings["db"]): InstanceSettings => ({
      owner: "anonymous",
      name: "emb",
      id: instanceIdFromSlug("anonymous/emb"),
      uid: "x",
      storageRoot: "/data/emb",
      db,
      createdAt: new Date().toISOString(),
    });
    const sources = { storageRoot: "/data/emb", storageRegion: null, modules: [] };
    for (const [db, message, hint] of [
      [
        { kind: "pglite", dataDir: "/data/emb/.lamindb/pglite" },
        /embedded database/,
        /--db postgresql/,
      ],
      [{ kind: "remote", url: "https://x.example", token: "t" }, /through its API/, /export/],
    ] as const) {
      const err = (() => {
        try {
          pythonInstanceStore(settings(db), sources);
        } catch (e) {
          return e as LaminError;
        }
      })();
      expect(err).toBeInstanceOf(ValidationError);
      expect(err?.message).toMatch(message);
      expect(err?.hint).toMatch(hint);
    }
    expect(pythonInstanceFile("anonymous", "emb", { LAMIN_SETTINGS_DIR: "/s" })).toBe(
      "/s/.lamin/instance--anonymous--emb.env",
    );
  });
});

describe.runIf(postgresOnly)("lamin settings export --python and init --python", () => {
  const work = tempDir("lamin-pycli-");
  const pyDir = join(work, "pysettings");
  const { run } = laminIn(work);
  const env = { LAMIN_SETTINGS_DIR: pyDir };
  const lamin = (...args: string[]) =>
    import("./helpers.js").then((h) => h.lamin(args, { cwd: work, env }));

  it("refuses an embedded instance, creating nothing and writing nothing", async () => {
    const r = await lamin("init", "--storage", join(work, "emb"), "--python");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--python needs --db/);
    expect(r.stderr).toMatch(/hint: pass --db postgresql/);
    expect(existsSync(join(work, "emb"))).toBe(false);
    expect(existsSync(pyDir)).toBe(false);
    const made = await run("init", "--storage", join(work, "emb2"));
    expect(made.code).toBe(0);
    const e = await lamin("settings", "export", "--python");
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/cannot open the embedded database/);
    expect(existsSync(pyDir)).toBe(false);
  });

  it("writes them at init and on export, and tells the Python to run", async () => {
    const { postgresUrl } = await import("./helpers.js");
    const { dropDatabase } = await import("../core/db/postgres.js");
    const url = postgresUrl();
    try {
      const name = new URL(url).pathname.slice(1);
      const r = await lamin(
        "init",
        "--storage",
        join(work, "pg"),
        "--db",
        url,
        "--modules",
        "bionty",
        "--python",
      );
      expect(r.code, r.stderr).toBe(0);
      const file = join(pyDir, ".lamin", `instance--anonymous--${name}.env`);
      expect(r.stdout).toContain(`wrote Python's settings of anonymous/${name}: ${file}`);
      expect(r.stdout).toContain(`ln.connect("anonymous/${name}")`);
      expect(readFileSync(file, "utf8")).toContain("lamindb_instance_schema_str=bionty\n");
      // a second init of the same name is refused before anything is made
      const again = await lamin("init", "--storage", join(work, "pg2"), "--db", url, "--python");
      expect(again.code).toBe(4);
      expect(again.stderr).toMatch(
        /Python LaminDB already has settings for an instance anonymous\//,
      );
      expect(existsSync(join(work, "pg2"))).toBe(false);
      const e = await lamin("settings", "export", "--python", "--json");
      expect(e.code, e.stderr).toBe(0);
      const out = JSON.parse(e.stdout) as { file: string; status: string; local: boolean };
      expect(out).toMatchObject({ file, status: "unchanged", local: true });
      expect(e.stdout).not.toContain("lamindb_instance_db"); // no database URL on stdout
      const c = await lamin("connect", name, "--python", "--json");
      expect(c.code, c.stderr).toBe(0);
      expect(JSON.parse(c.stdout)).toMatchObject({ python: { file, status: "unchanged" } });
      const bare = await lamin("settings", "export");
      expect(bare.code).toBe(2);
      expect(bare.stderr).toMatch(/hint: pass --python/);
    } finally {
      await dropDatabase(url).catch(() => {});
    }
  });
  mkdirSync(work, { recursive: true });
});
