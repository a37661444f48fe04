/**
 * The built `lamin` driven as a new user would: one subprocess per command, settings in a
 * temporary LAMIN_HOME. Help and version, a whole session on an embedded instance, switching
 * instances, bad input that must change nothing, Postgres (when DATABASE_URL is set) and progress.
 * Every command that opens an embedded database costs a PGlite start (about 2 s of CPU), so assertions
 * are grouped, and the suites below run side by side, each on its own instance and settings folder.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it, test } from "vitest";
import { dropDatabase } from "../core/db/postgres.js";
import { hashFolder } from "../core/hash.js";
import type { Artifact } from "../core/registry/artifacts/artifacts.js";
import {
  type CliResult,
  lamin,
  postgresUrl,
  REPO,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";

const home = useTempHome();
const work = tempDir("lamin-cli-");
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

type Saved = Artifact & { status: string };

type Env = Record<string, string>;

/** Run `lamin` in the work folder. */
const run = (args: string[], env?: Env) => lamin(args, { cwd: work, ...(env ? { env } : {}) });

/** Run a command that must succeed with --json and return its parsed document. */
async function json<T>(args: string[], env?: Env): Promise<T> {
  const r = await run([...args, "--json"], env);
  expect(r.code, `lamin ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** A failure: exit code, one `error:` line and a `hint:` line on stderr, the JSON error on stdout. */
function expectFailure(r: CliResult, code: number, type: string, message: RegExp): void {
  const context = JSON.stringify(r, null, 2);
  expect(r.code, context).toBe(code);
  expect(
    r.stderr.split("\n").filter((l) => l.startsWith("error: ")),
    context,
  ).toHaveLength(1);
  expect(r.stderr, context).toMatch(/^hint: \S.*$/m);
  expect(JSON.parse(r.stdout), context).toEqual({
    error: { type, message: expect.stringMatching(message), hint: expect.any(String) },
  });
}

/** LaminDB's hash of a small file: base64url md5 without padding. */
const md5 = (content: string | Buffer) => createHash("md5").update(content).digest("base64url");

/** Every file below `<root>/.lamindb` with its size, except the embedded database and its lock. */
function storedFiles(root: string): Record<string, number> {
  const meta = join(root, ".lamindb");
  const out: Record<string, number> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(meta, path);
      if (rel === "pglite" || rel === "pglite.lock") continue;
      if (entry.isDirectory()) walk(path);
      else out[rel] = statSync(path).size;
    }
  };
  walk(meta);
  return out;
}

const listOf = (items: Artifact[]) => items.map((a) => `${a.key}@${a.version}`);

describe("lamin --version, --help", () => {
  it("answers without an instance, and rejects unknown options with a hint", async () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
    const [version, help, saveHelp, unknown, unknownJson] = await Promise.all([
      run(["--version"]),
      run(["--help"]),
      run(["save", "--help"]),
      run(["ls", "--bogus"]),
      run(["save", "x.csv", "--bogus", "--json"]),
    ]);
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    expect(help.code).toBe(0);
    for (const cmd of ["init", "connect", "info", "save", "ls", "list", "describe", "load"])
      expect(help.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, "m"));
    expect(help.stdout).toMatch(/-v, --version/);
    expect(saveHelp.code).toBe(0);
    for (const option of ["--key <key>", "--description <text>", "--kind <kind>", "--json"])
      expect(saveHelp.stdout).toContain(option);
    expect(saveHelp.stdout).toMatch(/dataset.*model/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown option '--bogus'$/m);
    expect(unknown.stderr).toMatch(/^hint: .*--help/m);
    expect(unknown.stdout).toBe("");
    expectFailure(unknownJson, 2, "validation", /unknown option '--bogus'/);
  });
});

describe.concurrent("lamin on an embedded instance", { timeout: 120_000 }, () => {
  // the suite runs next to the others; its steps run in order
  const it = test.sequential;
  const root = join(work, "mydir");
  const src = join(work, "src");
  const v0Content = "a,b\n1,2\n";
  const v1Content = "a,b\n1,2\n3,4\n";
  let info: Record<string, unknown>;
  let v0: Saved;
  let v1: Saved;
  let folder: Saved;
  let docUid = "";
  let between = "";

  beforeAll(() => {
    writeTree(src, {
      "a.csv": v0Content,
      "b.txt": "hello\n",
      "d/x.txt": "x".repeat(100),
      "d/sub/y.txt": "y".repeat(200),
    });
  });

  it("init creates the database, the storage marker and the settings", async () => {
    const r = await run(["init", "--storage", "./mydir", "--name", "first"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("anonymous/first");
    expect(r.stdout).toContain(root);
    expect(existsSync(join(root, ".lamindb", "pglite"))).toBe(true);
    const marker = readFileSync(join(root, ".lamindb", "storage_uid.txt"), "utf8").split("\n");
    expect(marker[0]).toMatch(/^[0-9A-Za-z]{12}$/);
    expect(marker).toContain("instance_slug=anonymous/first");
    expect(existsSync(join(home, "instances", "first.json"))).toBe(true);

    info = await json(["info"]);
    expect(info).toEqual({
      instance: "anonymous/first",
      name: "first",
      uid: expect.stringMatching(/^[0-9A-Za-z]{12}$/),
      storage: root,
      database: { kind: "pglite", location: join(root, ".lamindb", "pglite") },
      user: "anonymous",
      branch: "main",
      current: true,
    });
    expect(marker).toContain(`instance_uid=${info.uid}`);
  });

  it("save registers a file, dedups the same content, and versions new content", async () => {
    v0 = await json(["save", "src/a.csv", "--key", "raw/a.csv"]);
    expect(v0).toMatchObject({
      status: "created",
      key: "raw/a.csv",
      suffix: ".csv",
      size: 8,
      hash: md5(v0Content),
      hash_type: "md5",
      n_files: null,
      version: "0000",
      is_latest: true,
      branch: "main",
      storage: root,
      path: join(root, ".lamindb", `${v0.uid}.csv`),
    });
    expect(v0.uid).toMatch(/^[0-9A-Za-z]{16}0000$/);
    expect(Date.parse(v0.created_at)).not.toBeNaN();
    expect(readFileSync(v0.path, "utf8")).toBe(v0Content);
    const files = storedFiles(root);
    expect(files).toEqual({ "storage_uid.txt": expect.any(Number), [`${v0.uid}.csv`]: 8 });

    const again = await json<Saved>(["save", "src/a.csv", "--key", "raw/a.csv"]);
    expect(again).toMatchObject({ status: "existing", uid: v0.uid, version: "0000" });
    expect(storedFiles(root)).toEqual(files);

    between = new Date().toISOString();
    writeFileSync(join(src, "a.csv"), v1Content);
    v1 = await json(["save", "src/a.csv", "--key", "raw/a.csv"]);
    expect(v1).toMatchObject({
      status: "new-version",
      uid: `${v0.uid.slice(0, 16)}0001`,
      version: "0001",
      is_latest: true,
      size: 12,
      hash: md5(v1Content),
    });
    expect(readFileSync(v1.path, "utf8")).toBe(v1Content);
    expect(readFileSync(v0.path, "utf8")).toBe(v0Content);
  });

  it("save registers a folder with an md5-d hash, and speaks plainly without --json", async () => {
    folder = await json(["save", "src/d", "--key", "folders/d", "--description", "a folder"]);
    expect(folder).toMatchObject({
      status: "created",
      key: "folders/d",
      description: "a folder",
      suffix: "",
      size: 300,
      hash: (await hashFolder(join(src, "d"))).hash,
      hash_type: "md5-d",
      n_files: 2,
      version: "0000",
      is_latest: true,
      path: join(root, ".lamindb", folder.uid.slice(0, 16)),
    });
    expect(readFileSync(join(folder.path, "sub", "y.txt"), "utf8")).toBe("y".repeat(200));

    const r = await run(["save", "src/b.txt", "--key", "docs/b.txt"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^saved docs\/b\.txt -> [0-9A-Za-z]{20} \(version 0000, .*md5 /);
    docUid = /-> ([0-9A-Za-z]{20}) /.exec(r.stdout)?.[1] ?? "";
  });

  it("ls lists the latest versions, newest first; list artifacts is the same", async () => {
    const latest = await json<Artifact[]>(["ls"]);
    expect(Array.isArray(latest)).toBe(true);
    expect(latest.map((a) => a.uid)).toEqual([docUid, folder.uid, v1.uid]);
    expect(latest[0]).toMatchObject({
      key: "docs/b.txt",
      suffix: ".txt",
      size: 6,
      hash: md5("hello\n"),
      space: "all",
    });
    for (const a of latest)
      for (const field of [
        "uid",
        "key",
        "suffix",
        "size",
        "hash",
        "hash_type",
        "n_files",
        "version",
        "is_latest",
        "storage",
        "created_at",
      ])
        expect(a).toHaveProperty(field);
    expect(await json(["list", "artifacts"])).toEqual(latest);
  });

  it("ls filters by key prefix, versions, suffix, hash, creation time and lookups", async () => {
    const raw = await json<Artifact[]>(["ls", "--key-prefix", "raw/", "--all-versions"]);
    expect(raw.map((a) => [a.uid, a.is_latest])).toEqual([
      [v1.uid, true],
      [v0.uid, false],
    ]);
    const byHash = await json<Artifact[]>(["ls", "--hash", folder.hash ?? ""]);
    expect(byHash.map((a) => a.uid)).toEqual([folder.uid]);
    // created after `between`: v1, the folder, b.txt; smaller than 10 bytes: v0, b.txt
    const both = await json<Artifact[]>([
      "ls",
      "--all-versions",
      "--created-after",
      between,
      "--filter",
      "size__lt=10",
    ]);
    expect(listOf(both)).toEqual(["docs/b.txt@0000"]);
    // human output: a table with uid and key, here filtered by suffix
    const r = await run(["ls", "--suffix", ".txt"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^uid\s+version\s+size\s+created_at\s+key/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${docUid}\\s+0000\\s.*docs/b\\.txt$`)),
    ]);
  });

  it("describe shows an artifact and its versions, by uid or key", async () => {
    const described = await json<Artifact & { versions: Partial<Artifact>[] }>([
      "describe",
      v0.uid,
    ]);
    expect(described).toMatchObject({
      uid: v0.uid,
      key: "raw/a.csv",
      is_latest: false,
      hash: v0.hash,
      size: 8,
      version: "0000",
      space: "all",
    });
    expect(described.versions).toEqual([
      expect.objectContaining({ uid: v1.uid, version: "0001", is_latest: true, branch: "main" }),
      expect.objectContaining({ uid: v0.uid, version: "0000", is_latest: false, branch: "main" }),
    ]);
    const r = await run(["describe", "--key", "raw/a.csv"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Artifact ${v1.uid}$`, "m"));
    expect(r.stdout).toMatch(/^\s+key\s+raw\/a\.csv$/m);
    expect(r.stdout).toMatch(/^\s+version\s+0001 \(latest\)$/m);
    expect(r.stdout).toMatch(/^\s+space\s+all$/m);
    expect(r.stdout).toContain(v0.uid);
  });

  it("load gives back the bytes of any version", async () => {
    const out = join(work, "out");
    const r = await run(["load", v0.uid, "--to", out]);
    expect(r.code, r.stderr).toBe(0);
    const path = r.stdout.trim();
    expect(path.startsWith(out)).toBe(true);
    expect(readFileSync(path)).toEqual(Buffer.from(v0Content));
  });

  it("delete moves to the trash, restore brings back, --permanent removes row and bytes", async () => {
    const r = await run(["delete", v1.uid]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(v1.uid);
    expect(r.stdout).toMatch(/trash/);
    const trash = await json<Artifact[]>(["ls", "--trash"]);
    expect(trash.map((a) => [a.uid, a.branch])).toEqual([[v1.uid, "trash"]]);
    expect(existsSync(v1.path)).toBe(true);

    const restored = await json<Artifact>(["restore", v1.uid]);
    expect(restored).toMatchObject({ uid: v1.uid, branch: "main", is_latest: true });

    const gone = await json<Artifact & { deleted: string }>(["delete", v1.uid, "--permanent"]);
    expect(gone).toMatchObject({ uid: v1.uid, deleted: "permanent" });
    expect(existsSync(v1.path)).toBe(false);
    expect(existsSync(v0.path)).toBe(true);
  });
});

describe.concurrent("lamin with bad input, progress and two instances", {
  timeout: 120_000,
}, () => {
  const it = test.sequential;
  // settings of their own: these commands must not see or move the session's current instance
  const env = { LAMIN_HOME: tempDir("lamin-home-") };
  const root = join(work, "checks");
  const other = join(work, "other");
  afterAll(() => rmSync(env.LAMIN_HOME, { recursive: true, force: true }));

  const snapshot = async () => ({
    artifacts: await json<Artifact[]>(["ls", "--all-versions"], env),
    files: storedFiles(root),
    marker: readFileSync(join(root, ".lamindb", "storage_uid.txt"), "utf8"),
    settings: readdirSync(join(env.LAMIN_HOME, "instances")).sort(),
    current: readFileSync(join(env.LAMIN_HOME, "current-instance"), "utf8"),
  });

  it("init --json describes the new instance", async () => {
    const created = await json(["init", "--storage", "./checks"], env);
    expect(created).toMatchObject({ name: "checks", storage: root, current: true });
  });

  it("save with no instance connected fails and creates nothing", async () => {
    const fresh = tempDir("lamin-home-");
    writeFileSync(join(work, "lonely.txt"), "no instance for me\n");
    const r = await run(["save", "lonely.txt", "--key", "docs/lonely.txt", "--json"], {
      LAMIN_HOME: fresh,
    });
    expectFailure(r, 3, "not-found", /no instance is connected/);
    expect(r.stderr).toMatch(/^hint: .*lamin init/m);
    expect(readdirSync(fresh)).toEqual([]);
    rmSync(fresh, { recursive: true, force: true });
  });

  it("saving a large file shows progress on stderr when asked to", async () => {
    writeFileSync(join(work, "big.bin"), Buffer.alloc(20 * 1024 * 1024, 7));
    const shown = await run(["save", "big.bin", "--key", "big/big.bin"], {
      ...env,
      LAMIN_PROGRESS: "1",
    });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stderr).toMatch(/^hashing big\.bin: .*20 MiB \(100%\)$/m);
    expect(shown.stdout).toMatch(/^saved big\/big\.bin -> /);
  });

  it("every rejected command leaves storage, database and settings as they were", async () => {
    const before = await snapshot();
    expect(before.artifacts.map((a) => a.key)).toEqual(["big/big.bin"]);
    mkdirSync(join(work, "empty"));
    writeFileSync(join(work, "ok.csv"), "ok\n");
    const cases: [string[], number, string, RegExp][] = [
      [["save", "missing.csv", "--key", "m/missing.csv"], 2, "validation", /does not exist/],
      [["save", "empty", "--key", "e/empty"], 2, "validation", /contains no files/],
      [["save", "ok.csv", "--key", "a/../ok.csv"], 2, "validation", /'\.\.'/],
      [["save", "ok.csv", "--key", ".lamindb/ok.csv"], 2, "validation", /\.lamindb/],
      [["save", "ok.csv", "--key", "x/ok.parquet"], 2, "validation", /ends in '\.parquet'/],
      [["describe", "AAAAAAAAAAAAAAAA0000"], 3, "not-found", /no artifact with uid/],
      [["describe", "AAAAAAAAAAAAAAAA0000", "--key", "k"], 2, "validation", /not both/],
      [["ls", "--filter", "nope=1"], 2, "validation", /unknown field 'nope'/],
      [["ls", "--limit", "abc"], 2, "validation", /--limit must be a whole number/],
      [
        ["init", "--storage", "./checks", "--name", "third"],
        4,
        "conflict",
        /already managed by anonymous\/checks/,
      ],
      [
        ["init", "--storage", "./fresh", "--name", "checks"],
        4,
        "conflict",
        /named 'checks' already exists/,
      ],
      [
        ["init", "--storage", "./pg", "--db", "postgresql://postgres@127.0.0.1:1/nope"],
        5,
        "unavailable",
        /cannot connect to Postgres/,
      ],
    ];
    for (const [args, code, type, message] of cases) {
      expectFailure(await run([...args, "--json"], env), code, type, message);
    }
    expect(existsSync(join(work, "fresh"))).toBe(false);
    expect(existsSync(join(work, "pg"))).toBe(false);
    expect(await snapshot()).toEqual(before);
  });

  it("connect switches between instances; disconnect forgets the current one", async () => {
    const checks = await json<Record<string, unknown>>(["info"], env);
    const second = await json(["init", "--storage", "./other", "--name", "second"], env);
    expect(second).toMatchObject({ name: "second", storage: other, current: true });
    expect(await json(["ls"], env)).toEqual([]);

    const instances = await json<Record<string, unknown>[]>(["list", "instances"], env);
    expect(instances.map((s) => [s.name, s.current, s.storage])).toEqual([
      ["checks", false, root],
      ["second", true, other],
    ]);
    expect(await json(["connect", "checks"], env)).toMatchObject({ name: "checks", current: true });
    expect(await json(["info"], env)).toEqual(checks);

    expect(await json(["disconnect"], env)).toEqual({ disconnected: "checks" });
    expectFailure(await run(["info", "--json"], env), 3, "not-found", /no instance is connected/);
    const unknown = await run(["connect", "nope", "--json"], env);
    expectFailure(unknown, 3, "not-found", /no instance named 'nope'/);
    expect(unknown.stderr).toMatch(/^hint: known instances: checks, second$/m);
  });
});

if (process.env.DATABASE_URL) {
  describe.concurrent("lamin on a Postgres instance", () => {
    const it = test.sequential;
    const url = postgresUrl();
    const pgHome = tempDir("lamin-home-");
    const env = { LAMIN_HOME: pgHome };
    afterAll(async () => {
      await dropDatabase(url).catch(() => {});
      rmSync(pgHome, { recursive: true, force: true });
    });

    it("init creates the database; save and ls go through it", async () => {
      const storage = join(work, "pgstore");
      const created = await json<Record<string, unknown>>(
        ["init", "--storage", storage, "--db", url, "--name", "pg"],
        env,
      );
      expect(created).toMatchObject({
        name: "pg",
        storage,
        database: { kind: "postgres", location: expect.stringContaining(new URL(url).pathname) },
      });
      expect(existsSync(join(storage, ".lamindb", "storage_uid.txt"))).toBe(true);
      expect(existsSync(join(storage, ".lamindb", "pglite"))).toBe(false);
      writeFileSync(join(work, "pg.txt"), "on postgres\n");
      const saved = await json<Saved>(["save", "pg.txt", "--key", "pg/pg.txt"], env);
      expect(saved).toMatchObject({ status: "created", storage, hash: md5("on postgres\n") });
      expect(readFileSync(saved.path, "utf8")).toBe("on postgres\n");
      expect((await json<Artifact[]>(["ls"], env)).map((a) => a.uid)).toEqual([saved.uid]);
    });
  });
}

describe("lamin's outputs say what they mean", { timeout: 180_000 }, () => {
  const it = test.sequential;
  const env = { LAMIN_HOME: tempDir("lamin-home-") };
  const dir = join(work, "outputs");
  const root = join(dir, "store");
  let v0: Saved;
  let v1: Saved;
  afterAll(() => rmSync(env.LAMIN_HOME, { recursive: true, force: true }));
  const here = (args: string[], extra: Env = {}) =>
    lamin(args, { cwd: dir, env: { ...env, ...extra } });
  const ok = async (args: string[], extra: Env = {}) => {
    const r = await here(args, extra);
    expect(r.code, `lamin ${args.join(" ")}: ${r.stderr}`).toBe(0);
    return r;
  };
  const data = async <T>(args: string[]) => JSON.parse((await ok([...args, "--json"])).stdout) as T;

  it("ls names older versions in words; describe's versions are a table", async () => {
    mkdirSync(dir, { recursive: true });
    await ok(["init", "--storage", root]);
    writeFileSync(join(dir, "a.csv"), "old\n");
    v0 = await data<Saved>(["save", "a.csv", "--key", "raw/a.csv"]);
    writeFileSync(join(dir, "a.csv"), "new!\n");
    v1 = await data<Saved>(["save", "a.csv", "--key", "raw/a.csv"]);
    const ls = (await ok(["ls", "--all-versions"])).stdout;
    expect(ls).not.toContain("*");
    expect(ls).toMatch(new RegExp(`^${v0.uid}\\s+0000 \\(older version\\)\\s`, "m"));
    expect(ls).toMatch(new RegExp(`^${v1.uid}\\s+0001\\s+\\d`, "m"));

    const lines = (await ok(["describe", "--key", "raw/a.csv"])).stdout.split("\n");
    const header = lines.findIndex((l) => /^\s+uid\s+version\s+created_at\s+branch$/.test(l));
    expect(header, lines.join("\n")).toBeGreaterThan(0);
    const rows = lines.slice(header + 1, header + 3);
    expect(rows).toEqual([
      expect.stringMatching(new RegExp(`^\\s+${v1.uid}\\s+0001\\s+\\S+ \\S+\\s+main\\s+latest$`)),
      expect.stringMatching(new RegExp(`^\\s+${v0.uid}\\s+0000\\s+\\S+ \\S+\\s+main$`)),
    ]);
    // every column starts where its header does
    const starts = (l: string) => [...l.matchAll(/\S+( \d\d:\S+)?/g)].map((m) => m.index);
    for (const row of rows) expect(starts(row).slice(0, 4)).toEqual(starts(lines[header] ?? ""));
  });

  it("--order-by takes every sortable field; an unknown operator is called one", async () => {
    writeFileSync(join(dir, "big.txt"), "x".repeat(100));
    await ok(["save", "big.txt", "--key", "big.txt"]);
    for (const [order, keys] of [
      ["size", ["raw/a.csv", "big.txt"]],
      ["-size", ["big.txt", "raw/a.csv"]],
      ["key", ["big.txt", "raw/a.csv"]],
      ["-suffix", ["big.txt", "raw/a.csv"]],
    ] as const) {
      const items = await data<Artifact[]>(["ls", "--order-by", order]);
      expect(items.map((a) => a.key)).toEqual(keys);
    }
    const help = (await ok(["ls", "--help"])).stdout.replace(/\s+/g, " ");
    expect(help).toMatch(
      /--order-by <field> created_at, updated_at, id, key, description, size or suffix/,
    );
    const bad = await here(["ls", "--filter", "size__biggerthan=3"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^error: unknown operator 'biggerthan' in filter 'size__biggerthan'/m,
    );
    expect(bad.stderr).toMatch(/^hint: operators: exact, .*isnull/m);
  });

  it("load --to never replaces a different file of the same name unless --force", async () => {
    const out = join(dir, "out");
    await ok(["load", "--key", "raw/a.csv", "--to", out]);
    expect(readFileSync(join(out, "a.csv"), "utf8")).toBe("new!\n");
    await ok(["load", "--key", "raw/a.csv", "--to", out]); // the same bytes: fine
    const older = await here(["load", v0.uid, "--to", out]);
    expect(older.code, older.stderr).toBe(4);
    expect(older.stderr).toMatch(/holds other content than .* \(an older version, 0000\)/);
    expect(older.stderr).toMatch(/^hint: .*--force/m);
    expect(readFileSync(join(out, "a.csv"), "utf8")).toBe("new!\n");
    await ok(["load", v0.uid, "--to", out, "--force"]);
    expect(readFileSync(join(out, "a.csv"), "utf8")).toBe("old\n");
  });

  it("run ls shows transform keys, ulabel list type names, search artifact latest versions", async () => {
    writeFileSync(join(dir, "step.sh"), "echo step\n");
    await ok(["track", "step.sh"]);
    await ok(["finish"]);
    expect((await ok(["run", "ls"])).stdout).toMatch(/^\S+\s+completed\s+\S+ \S+\s+step\.sh$/m);

    await ok(["ulabel", "create", "Tissues", "--is-type"]);
    await ok(["ulabel", "create", "lung", "--type", "Tissues"]);
    const labels = (await ok(["ulabel", "list"])).stdout;
    expect(labels).toMatch(/^\S+\s+lung\s+Tissues$/m);
    expect(labels).toMatch(/^\S+\s+Tissues\s+\(is a type\)$/m);

    const hits = await data<{ uid: string }[]>(["search", "artifact", "a.csv"]);
    expect(hits.map((h) => h.uid)).toEqual([v1.uid]);
  });

  it("validate's hint does not speak of saving", async () => {
    await ok(["feature", "create", "sample", "--dtype", "str"]);
    await ok(["schema", "create", "only-sample", "--features", "sample", "--maximal"]);
    const r = await here(["validate", "a.csv", "--schema", "only-sample"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hint: fix the data .*then validate again$/m);
    expect(r.stderr).not.toMatch(/nothing was saved/);
  });

  it("hashing progress runs to 100% also when sha1-fl reads only part of the file", async () => {
    writeFileSync(join(dir, "60mib.bin"), Buffer.alloc(60 * 1024 * 1024, 3));
    const r = await ok(["save", "60mib.bin", "--key", "big/60mib.bin"], { LAMIN_PROGRESS: "1" });
    const percents = [...r.stderr.matchAll(/^hashing 60mib\.bin: .*\((\d+)%\)$/gm)].map((m) =>
      Number(m[1]),
    );
    expect(percents.length, r.stderr).toBeGreaterThan(0);
    expect(Math.max(...percents)).toBe(100);
    expect(percents.at(-1)).toBe(100);
  });

  it("reconcile exits 6 with a hint when bytes are missing, and counts in English", async () => {
    rmSync(join(root, ".lamindb", `${v1.uid}.csv`));
    const r = await here(["reconcile"]);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stdout).toMatch(
      new RegExp(`^MISSING BYTES \\(not repairable here\\): .*${v1.uid}`, "m"),
    );
    expect(r.stdout).toMatch(/^1 difference, \d+ objects? unchanged$/m);
    expect(r.stderr).toMatch(
      /^error: reconcile cannot repair 1 artifact whose bytes are missing$/m,
    );
    expect(r.stderr).toMatch(/^hint: restore missing bytes from a backup/m);
    const json = await here(["reconcile", "--json"]);
    expect(json.code).toBe(6);
    expect(JSON.parse(json.stdout).missingBytes).toHaveLength(1);
  });
});

describe("local instances: reattach a folder, forget, one uid each", {
  timeout: 180_000,
}, () => {
  const it = test.sequential;
  const dir = join(work, "local-instances");
  const homes = { a: tempDir("lamin-home-"), b: tempDir("lamin-home-"), c: tempDir("lamin-home-") };
  afterAll(() => {
    for (const home of Object.values(homes)) rmSync(home, { recursive: true, force: true });
  });
  const as = (home: string, args: string[]) => lamin(args, { cwd: dir, env: { LAMIN_HOME: home } });
  const data = async <T>(home: string, args: string[]) => {
    const r = await as(home, [...args, "--json"]);
    expect(r.code, `lamin ${args.join(" ")}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  let uid = "";

  it("two unrelated instances named mydir get different uids", async () => {
    mkdirSync(dir, { recursive: true });
    const one = await data<{ uid: string; name: string }>(homes.a, [
      "init",
      "--storage",
      "./lab1/mydir",
    ]);
    const two = await data<{ uid: string; name: string }>(homes.b, [
      "init",
      "--storage",
      "./lab2/mydir",
    ]);
    expect([one.name, two.name]).toEqual(["mydir", "mydir"]);
    expect(one.uid).not.toBe(two.uid);
    uid = one.uid;
    writeFileSync(join(dir, "kept.csv"), "kept\n");
    await data(homes.a, ["save", "kept.csv", "--key", "kept.csv"]);
  });

  it("connect ./mydir remembers a folder this machine does not know, from its marker", async () => {
    const connected = await data<{ uid: string; name: string; current: boolean }>(homes.c, [
      "connect",
      "./lab1/mydir",
    ]);
    expect(connected).toMatchObject({ uid, name: "mydir", current: true });
    const items = await data<Artifact[]>(homes.c, ["ls"]);
    expect(items.map((a) => a.key)).toEqual(["kept.csv"]);
    const nothing = await as(homes.c, ["connect", "./lab3"]);
    expect(nothing.code).toBe(3);
    expect(nothing.stderr).toMatch(/holds no embedded instance/);
    expect(nothing.stderr).toMatch(/^hint: create one with `lamin init --storage \.\/lab3`/m);
  });

  it("init --storage on such a folder adopts it; on a known one it says which instance it is", async () => {
    const fresh = tempDir("lamin-home-");
    const adopted = await data<{ uid: string; name: string }>(fresh, [
      "init",
      "--storage",
      "./lab1/mydir",
    ]);
    expect(adopted).toMatchObject({ uid, name: "mydir" });
    const said = tempDir("lamin-home-");
    const told = await as(said, ["init", "--storage", "./lab1/mydir"]);
    expect(told.code, told.stderr).toBe(0);
    expect(told.stderr + told.stdout).toMatch(/taking back the instance whose database is in/);
    expect(told.stderr + told.stdout).not.toMatch(/creating instance/);
    expect(told.stdout).toMatch(/artifacts and records are as they were/);
    rmSync(said, { recursive: true, force: true });
    const again = await as(fresh, ["init", "--storage", "./lab1/mydir", "--name", "other"]);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/already managed by anonymous\/mydir/);
    rmSync(fresh, { recursive: true, force: true });
  });

  it("delete instance NAME forgets it after a confirmation; the folder stays and comes back", async () => {
    const unconfirmed = await as(homes.c, ["delete", "instance", "mydir"]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/^hint: pass --force/m);
    expect((await data<unknown[]>(homes.c, ["list", "instances"])).length).toBe(1);
    const forgotten = await as(homes.c, ["delete", "instance", "mydir", "--force"]);
    expect(forgotten.code, forgotten.stderr).toBe(0);
    expect(forgotten.stdout).toMatch(/lamin connect .*lab1\/mydir` brings it back/);
    expect(await data<unknown[]>(homes.c, ["list", "instances"])).toEqual([]);
    expect(existsSync(join(dir, "lab1", "mydir", ".lamindb", "pglite"))).toBe(true);
    expect(await data(homes.c, ["connect", "./lab1/mydir"])).toMatchObject({ uid });
    const unknown = await as(homes.c, ["delete", "instance", "nope", "--force"]);
    expect(unknown.code).toBe(3);
  });
});
