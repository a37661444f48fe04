/**
 * A module of one's own, as a user makes it, with the built CLI as subprocesses, on PGlite and
 * Postgres: `lamin module new` scaffolds a package in a temporary folder; two registries are
 * declared (Sample links to artifacts and points to a Donor); `lamin migrate create --module`
 * writes the SQL; `lamin module enable` applies it (recorded under lns_mylab); records are
 * created, a feature `cat[mylab.Sample]` annotates an artifact, artifacts are queried by it,
 * searched and validated; a field is added, `migrate create` + `migrate deploy --dry-run` +
 * `migrate deploy` apply it; a migration that fails changes nothing; clashing names and a
 * missing package are refused with a clear error.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { dropDatabase } from "../core/db/postgres.js";
import {
  BACKENDS,
  expectRefusal,
  lamin,
  postgresUrl,
  REPO,
  startLamin,
  stopChild,
  tempDir,
  useTempHome,
} from "./helpers.js";

// every step is a `lamin` process (1-5 s each on a busy machine)
vi.setConfig({ testTimeout: 300_000 });
const home = useTempHome();
const databases: string[] = [];
afterAll(async () => {
  for (const db of databases) await dropDatabase(db).catch(() => {});
  rmSync(home, { recursive: true, force: true });
});

const DECLARATION = (extra = "") => `// @ts-check
/** @import { ModuleDeclaration } from "lamindb-serverless" */

/** @type {ModuleDeclaration} */
export default {
  name: "mylab",
  description: "samples and donors of the lab",
  registries: {
    Donor: {
      fields: {
        name: { type: "string", max: 64, required: true, unique: true },
        age: { type: "integer" },
      },
    },
    Sample: {
      doc: "A biological sample",
      fields: {
        name: { type: "string", max: 100, required: true, unique: true },
        donor: { type: "ref", to: "Donor" },
        weight: { type: "float" },${extra}
      },
      links: ["artifacts", "records"],
    },
  },
};
`;

describe.each(BACKENDS)("a module package of one's own (%s)", (backend) => {
  const work = tempDir("lamin-module-pkg-");
  const env = { LAMIN_HOME: join(work, "home"), LAMIN_CACHE_DIR: join(work, "home", "cache") };
  const cli = (...args: string[]) => lamin(args, { cwd: work, env });
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    expect(r.code, `lamin ${args.join(" ")}\n${r.stdout}\n${r.stderr}`).toBe(0);
    return r;
  };
  const json = async <T>(...args: string[]) =>
    JSON.parse((await ok(...args, "--json")).stdout) as T;
  const pkg = join(work, "mylab");
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("scaffolds a package whose declarations type-check against this package's SDK", async () => {
    const made = await json<{ files: string[] }>("module", "new", "mylab");
    expect(made.files.map((f) => f.slice(pkg.length + 1)).sort()).toEqual([
      ".gitignore",
      "README.md",
      "index.js",
      "migrations/.gitkeep",
      "package.json",
      "tsconfig.json",
    ]);
    const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
    expect(manifest.peerDependencies).toHaveProperty("lamindb-serverless");
    expect(manifest.type).toBe("module");
    // a second scaffold into the same folder is refused
    expectRefusal(await cli("module", "new", "mylab"), 4, /exists and is not empty/);
    writeFileSync(join(pkg, "index.js"), DECLARATION());
    // tsc checks the JSDoc types once the peer dependency is installed (here: this checkout)
    mkdirSync(join(pkg, "node_modules"));
    symlinkSync(REPO, join(pkg, "node_modules", "lamindb-serverless"));
    const tsc = spawnSync(process.execPath, [TSC, "-p", pkg], { encoding: "utf8" });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    writeFileSync(join(pkg, "bad.js"), DECLARATION().replace('type: "float"', 'type: "floaty"'));
    const bad = spawnTsc(pkg, "bad.js");
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/floaty/);
    rmSync(join(pkg, "bad.js"));
    rmSync(join(pkg, "node_modules"), { recursive: true });
  });

  it("writes the initial migration from the declarations", async () => {
    const created = await json<{ app: string; created: string[]; statements: string[] }>(
      "migrate",
      "create",
      "--module",
      "./mylab",
    );
    expect(created.app).toBe("lns_mylab");
    expect(created.created).toEqual([join(pkg, "migrations", "0000_initial.sql")]);
    const sqlText = readFileSync(join(pkg, "migrations", "0000_initial.sql"), "utf8");
    for (const table of [
      "mylab_donor",
      "mylab_sample",
      "mylab_artifactsample",
      "mylab_recordsample",
    ]) {
      expect(sqlText).toContain(`CREATE TABLE "${table}"`);
    }
    expect(sqlText).toContain('REFERENCES "lamindb_artifact"("id") ON DELETE CASCADE');
    // nothing changed: nothing to write
    expect(
      (await json<{ created: string[] }>("migrate", "create", "--module", "./mylab")).created,
    ).toEqual([]);
  });

  it("enables the module on a new instance, recorded under its app", async () => {
    const db = backend === "postgres" ? postgresUrl() : undefined;
    if (db) databases.push(db);
    await ok(
      "init",
      "--storage",
      join(work, "store"),
      "--name",
      `mp-${backend}`,
      ...(db ? ["--db", db] : []),
    );
    const enabled = await json<{ module: string; applied: string[] }[]>(
      "module",
      "enable",
      "./mylab",
    );
    expect(enabled).toEqual([
      expect.objectContaining({ module: "mylab", applied: ["0000_initial"] }),
    ]);
    const status = await json<{ apps: { app: string; applied: string[] }[] }>("migrate", "status");
    expect(status.apps.find((a) => a.app === "lns_mylab")?.applied).toEqual(["0000_initial"]);
    const modules = await json<{ name: string; enabled: boolean; registries: string[] }[]>(
      "module",
      "list",
    );
    expect(modules.find((m) => m.name === "mylab")).toEqual(
      expect.objectContaining({ enabled: true, registries: ["mylab.Donor", "mylab.Sample"] }),
    );
    // enabling again applies nothing; by name, from the folder this machine remembers
    expect((await json<{ applied: string[] }[]>("module", "enable", "mylab"))[0]?.applied).toEqual(
      [],
    );
  });

  it("annotates with its records, queries, searches and validates by them", async () => {
    const donor = await json<{ uid: string }>(
      "module",
      "create",
      "mylab.Donor",
      "name=D1",
      "age=41",
    );
    const s1 = await json<Record<string, unknown>>(
      "module",
      "create",
      "mylab.Sample",
      "name=S1",
      "donor=D1",
      "weight=1.5",
    );
    expect(s1).toEqual(expect.objectContaining({ name: "S1", donor: donor.uid, weight: 1.5 }));
    await ok("module", "create", "mylab.Sample", "name=S2");
    // values are checked against the declaration; nothing is written when one is wrong
    expectRefusal(
      await cli("module", "create", "mylab.Sample", "name=S3", "weight=heavy"),
      2,
      /weight must be a number/,
    );
    expectRefusal(
      await cli("module", "create", "mylab.Sample", "name=S3", "colour=red"),
      2,
      /has no field 'colour'/,
    );
    expectRefusal(
      await cli("module", "create", "mylab.Sample", "name=S3", "donor=D9"),
      3,
      /no mylab.Donor/,
    );
    expectRefusal(await cli("module", "create", "mylab.Sample", "name=S1"), 4, /exists already/);
    const samples = await json<{ name: string }[]>("module", "records", "mylab.Sample");
    expect(samples.map((s) => s.name)).toEqual(["S2", "S1"]);

    writeFileSync(join(work, "a.csv"), "x,y\n1,2\n");
    writeFileSync(join(work, "b.csv"), "x,y\n3,4\n");
    const a = await json<{ uid: string }>("save", "a.csv", "--key", "a.csv");
    const b = await json<{ uid: string }>("save", "b.csv", "--key", "b.csv");
    await ok("feature", "create", "sample", "--dtype", "cat[mylab.Sample]");
    const annotated = await json<{ features: Record<string, unknown> }>(
      "annotate",
      a.uid,
      "--features",
      "sample=S1",
    );
    expect(annotated.features).toEqual({ sample: "S1" });
    await ok("annotate", b.uid, "--features", "sample=S2");
    expectRefusal(
      await cli("annotate", b.uid, "--features", "sample=S9"),
      2,
      /not mylab\.Sample\.name: 'S9'/,
    );
    const byS1 = await json<{ uid: string }[]>("ls", "--features", "sample=S1");
    expect(byS1.map((i) => i.uid)).toEqual([a.uid]);

    const found = await json<{ hits: { name: string; match: string }[] }>(
      "module",
      "search",
      "mylab.Sample",
      "S1",
    );
    expect(found.hits[0]).toEqual(expect.objectContaining({ name: "S1", match: "name" }));
    const lookup = await cli("module", "lookup", "mylab.Sample", "S1", "S7");
    expect(lookup.code).toBe(3);
    expect(lookup.stdout).toMatch(/found {4}S1/);
    expect(lookup.stdout).toMatch(/missing {2}S7/);
  });

  it("through `lamin serve`: the generic module routes create and list records", async () => {
    const { child, ready } = await startLamin<{ url: string; token: string }>(
      ["serve", "--port", "0", "--json"],
      env,
    );
    try {
      // the CLI goes through the running server (it holds the embedded database)
      const s3 = await json<{ uid: string; name: string }>(
        "module",
        "create",
        "mylab.Sample",
        "name=S3",
        "donor=D1",
      );
      expect(s3.name).toBe("S3");
      const headers = {
        authorization: `Bearer ${ready.token}`,
        "content-type": "application/json",
      };
      const listed = await fetch(`${ready.url}/modules/records/mylab.Sample?name=S3`, { headers });
      expect(listed.status).toBe(200);
      expect(((await listed.json()) as { uid: string }[]).map((r) => r.uid)).toEqual([s3.uid]);
      const byUid = await fetch(`${ready.url}/modules/records/mylab.Sample?uid=${s3.uid}`, {
        headers,
      });
      expect(((await byUid.json()) as { name: string }[]).map((r) => r.name)).toEqual(["S3"]);
      const hostileUid = encodeURIComponent("x' OR '1'='1");
      expect(
        (await fetch(`${ready.url}/modules/records/mylab.Sample?uid=${hostileUid}`, { headers }))
          .status,
      ).toBe(400);
      // hostile input: unknown fields, wrong types, a registry that is not one, are 4xx
      const post = (registry: string, body: unknown) =>
        fetch(`${ready.url}/modules/records/${encodeURIComponent(registry)}`, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
        });
      expect((await post("mylab.Sample", { name: "S5", id: 1 })).status).toBe(400);
      expect((await post("mylab.Sample", { name: ["S5"] })).status).toBe(400);
      expect((await post("mylab.Sample", { name: "x".repeat(101) })).status).toBe(400);
      expect((await post("mylab.Nope", { name: "S5" })).status).toBe(400);
      expect((await post("bionty.CellType", { name: "S5" })).status).toBe(400);
      expect((await post("mylab.Sample", { name: "S3" })).status).toBe(409);
      const records = await fetch(`${ready.url}/modules/records/mylab.Sample`, { headers });
      expect(((await records.json()) as { name: string }[]).map((r) => r.name)).toEqual([
        "S3",
        "S2",
        "S1",
      ]);
    } finally {
      await stopChild(child);
    }
  });

  it("changes: a new field is migrated with a dry run first; a failing migration changes nothing", async () => {
    writeFileSync(
      join(pkg, "index.js"),
      DECLARATION('\n        tissue: { type: "string", max: 64 },'),
    );
    // the instance refuses to migrate while the declarations are ahead of the migrations
    expectRefusal(await cli("migrate", "deploy"), 2, /changed since its last migration/);
    const created = await json<{ created: string[]; statements: string[] }>(
      "migrate",
      "create",
      "add_tissue",
      "--module",
      "./mylab",
    );
    expect(created.statements).toEqual([
      'ALTER TABLE "mylab_sample" ADD COLUMN "tissue" varchar(64)',
    ]);
    const dry = await ok("migrate", "deploy", "--dry-run");
    expect(dry.stdout).toContain("-- lns_mylab/0001_add_tissue");
    expect(dry.stdout).toContain('ALTER TABLE "mylab_sample" ADD COLUMN "tissue" varchar(64);');
    // the dry run applied nothing
    expect(
      (await json<{ apps: { app: string; pending: string[] }[] }>("migrate", "status")).apps.find(
        (x) => x.app === "lns_mylab",
      )?.pending,
    ).toEqual(["0001_add_tissue"]);
    const deployed = await json<{ applied: Record<string, string[]> }>("migrate", "deploy");
    expect(deployed.applied.lns_mylab).toEqual(["0001_add_tissue"]);
    const s4 = await json<Record<string, unknown>>(
      "module",
      "create",
      "mylab.Sample",
      "name=S4",
      "tissue=liver",
    );
    expect(s4.tissue).toBe("liver");

    // a required field without a default cannot be added to a table with records
    writeFileSync(
      join(pkg, "index.js"),
      DECLARATION(
        '\n        tissue: { type: "string", max: 64 },\n        batch: { type: "string", required: true },',
      ),
    );
    await ok("migrate", "create", "add_batch", "--module", "./mylab");
    const failed = await cli("migrate", "deploy");
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/lns_mylab\/0002_add_batch failed.*contains null values/);
    expect(failed.stderr).toMatch(/nothing was changed/);
    const after = await json<{ apps: { app: string; applied: string[]; pending: string[] }[] }>(
      "migrate",
      "status",
    );
    expect(after.apps.find((x) => x.app === "lns_mylab")).toEqual(
      expect.objectContaining({
        applied: ["0000_initial", "0001_add_tissue"],
        pending: ["0002_add_batch"],
      }),
    );
    // fixed by hand (a default for the records there), it applies
    const file = join(pkg, "migrations", "0002_add_batch.sql");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(
        "varchar(255) NOT NULL",
        "varchar(255) DEFAULT 'b0' NOT NULL",
      ),
    );
    expect(
      (await json<{ applied: Record<string, string[]> }>("migrate", "deploy")).applied.lns_mylab,
    ).toEqual(["0002_add_batch"]);
    // the records were kept through the failed attempt, and have the new field now
    const kept = await json<{ name: string; batch: string }[]>("module", "records", "mylab.Sample");
    expect(kept.map((r) => [r.name, r.batch])).toEqual([
      ["S4", "b0"],
      ["S3", "b0"],
      ["S2", "b0"],
      ["S1", "b0"],
    ]);
  });

  it("refuses clashing names before anything changes, and says what is missing", async () => {
    expectRefusal(
      await cli("module", "new", "lamindb", "--dir", "x1"),
      2,
      /taken by LaminDB's core/,
    );
    expectRefusal(
      await cli("module", "new", "bionty", "--dir", "x2"),
      2,
      /taken by a module of this build/,
    );
    const other = join(work, "other");
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, "package.json"), JSON.stringify({ name: "other", type: "module" }));
    writeFileSync(
      join(other, "index.js"),
      DECLARATION().replace('name: "mylab"', 'name: "bionty"'),
    );
    expectRefusal(
      await cli("migrate", "create", "--module", "./other"),
      2,
      /taken by a module of this build/,
    );
    // a second package declaring the name of an enabled module is refused
    writeFileSync(join(other, "index.js"), DECLARATION());
    expectRefusal(
      await cli("module", "enable", "./mylab", "./other"),
      2,
      /two packages declare the module 'mylab'/,
    );
    // a missing package: a clear error, not a crash
    expectRefusal(await cli("module", "enable", "./nowhere"), 3, /no module package at/);
    expectRefusal(
      await cli("module", "enable", "not-installed-module"),
      3,
      /cannot find the module package 'not-installed-module'/,
    );
    renameSync(pkg, `${pkg}-moved`);
    try {
      // the instance keeps the declaration it was migrated to: no package needed to use it
      const listed = await json<{ name: string; description: string }[]>("module", "list");
      expect(listed.find((m) => m.name === "mylab")?.description).toBe(
        "samples and donors of the lab",
      );
      expect((await json<{ name: string }[]>("module", "records", "mylab.Sample")).length).toBe(4);
      expect(
        (await json<{ applied: Record<string, string[]> }>("migrate", "deploy")).applied.lns_mylab,
      ).toEqual([]);
      // changing it needs the package: a clear error
      expectRefusal(
        await cli("module", "enable", "mylab"),
        3,
        /cannot find the module package 'mylab'/,
      );
      expect(await json<unknown[]>("ls")).toHaveLength(2);
    } finally {
      renameSync(`${pkg}-moved`, pkg);
    }
    expect((await json<{ name: string }[]>("module", "records", "mylab.Sample")).length).toBe(4);
  });

  it("updates and deletes records; a record made while a run is tracked is its output", async () => {
    writeFileSync(join(work, "step.sh"), "echo step\n");
    const tracked = await json<{ run: { uid: string } }>("track", "step.sh");
    const made = await json<{ uid: string; run: string | null }>(
      "module",
      "create",
      "mylab.Donor",
      "name=D9",
      "age=30",
    );
    expect(made.run).toBe(tracked.run.uid);
    await ok("finish");
    const changed = await json<{ uid: string; age: number; run: string | null }>(
      "module",
      "update",
      "mylab.Donor",
      made.uid,
      "age=31",
    );
    expect(changed).toMatchObject({ uid: made.uid, age: 31, run: tracked.run.uid });
    // bad input changes nothing
    expectRefusal(
      await cli("module", "update", "mylab.Donor", made.uid, "age=old"),
      2,
      /age must be a whole number/,
    );
    expectRefusal(
      await cli("module", "update", "mylab.Donor", made.uid, "nope=1"),
      2,
      /has no field 'nope'/,
    );
    expectRefusal(
      await cli("module", "update", "mylab.Donor", "AAAAAAAAAAAA", "age=1"),
      3,
      /no mylab.Donor with uid 'AAAAAAAAAAAA'/,
    );
    expectRefusal(
      await cli("module", "update", "mylab.Donor", made.uid, "name=D1"),
      4,
      /exists already/,
    );
    const donors = () =>
      json<{ uid: string; name: string; age: number }[]>("module", "records", "mylab.Donor");
    expect((await donors()).find((d) => d.uid === made.uid)).toMatchObject({ name: "D9", age: 31 });
    // a sample points to D1: deleting it for good is refused; to the trash is fine
    const d1 = (await donors()).find((d) => d.name === "D1") as { uid: string };
    expectRefusal(
      await cli("module", "delete", "mylab.Donor", d1.uid, "--permanent"),
      4,
      /still used/,
    );
    expect(await json("module", "delete", "mylab.Donor", made.uid)).toEqual({
      uid: made.uid,
      deleted: "trash",
    });
    expect((await donors()).map((d) => d.uid)).not.toContain(made.uid);
    expectRefusal(
      await cli("module", "update", "mylab.Donor", made.uid, "age=2"),
      3,
      /no mylab.Donor/,
    );
    expect(await json("module", "delete", "mylab.Donor", made.uid, "--permanent")).toEqual({
      uid: made.uid,
      deleted: "permanent",
    });
    expectRefusal(
      await cli("module", "delete", "mylab.Donor", made.uid, "--permanent"),
      3,
      /no mylab.Donor/,
    );
    expect((await donors()).map((d) => d.name)).toContain("D1");
  });

  it("disables: refused with what would be lost, then --force drops its tables in one go", async () => {
    expectRefusal(await cli("module", "disable", "bionty"), 2, /compiled into this build/);
    expectRefusal(await cli("module", "disable", "nolab"), 2, /'nolab' is not enabled/);
    const refused = await cli("module", "disable", "mylab");
    expectRefusal(
      refused,
      4,
      /would lose 2 rows in mylab_artifactsample, 1 rows in mylab_donor, 4 rows in mylab_sample, feature 'sample'/,
    );
    expect(refused.stderr).toMatch(/nothing was changed/);
    expect((await json<{ name: string }[]>("module", "records", "mylab.Sample")).length).toBe(4);

    const disabled = await json<{
      tables: string[];
      rows: Record<string, number>;
      features: string[];
    }>("module", "disable", "mylab", "--force");
    expect(disabled.tables.sort()).toEqual([
      "mylab_artifactsample",
      "mylab_donor",
      "mylab_recordsample",
      "mylab_sample",
    ]);
    expect(disabled.rows).toEqual(
      expect.objectContaining({ mylab_sample: 4, mylab_donor: 1, mylab_artifactsample: 2 }),
    );
    expect(disabled.features).toEqual(["sample"]);
    const status = await json<{ apps: { app: string }[] }>("migrate", "status");
    expect(status.apps.map((a) => a.app)).not.toContain("lns_mylab");
    expect((await json<{ name: string }[]>("module", "list")).map((m) => m.name)).not.toContain(
      "mylab",
    );
    // its records and its feature say what is wrong; artifacts are untouched
    const gone = await cli("module", "records", "mylab.Sample");
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/mylab/);
    expect(gone.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(await json<unknown[]>("ls")).toHaveLength(2);
    expectRefusal(await cli("module", "disable", "mylab"), 2, /'mylab' is not enabled/);

    // enabled again, every migration applies to new, empty tables
    const again = await json<{ applied: string[] }[]>("module", "enable", "mylab");
    expect(again[0]?.applied).toEqual(["0000_initial", "0001_add_tissue", "0002_add_batch"]);
    expect(await json<unknown[]>("module", "records", "mylab.Sample")).toEqual([]);
  });
});

const TSC = join(REPO, "node_modules", "typescript", "bin", "tsc");

function spawnTsc(dir: string, file: string) {
  // the scaffold's tsconfig includes index.js; check another file with the same options
  const config = join(dir, "tsconfig.bad.json");
  writeFileSync(config, JSON.stringify({ extends: "./tsconfig.json", include: [file] }));
  const result = spawnSync(process.execPath, [TSC, "-p", config], { encoding: "utf8" });
  rmSync(config);
  return result;
}
