/**
 * pertdb, shipped as a module package (modules/pertdb) built as any module of one's own: no
 * private hooks. `lamin module enable pertdb` finds it by name, creates LaminDB's pertdb tables
 * (`wetlab_*`, with their artifact links and many-to-many tables) under app lns_pertdb; its
 * records link to each other, annotate artifacts as `cat[pertdb.Compound]`, and are searched.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { dropDatabase } from "../core/db/postgres.js";
import {
  BACKENDS,
  expectRefusal,
  lamin,
  postgresUrl,
  REPO,
  tempDir,
  useTempHome,
} from "./helpers.js";

vi.setConfig({ testTimeout: 300_000 });
const home = useTempHome();
const databases: string[] = [];
afterAll(async () => {
  for (const db of databases) await dropDatabase(db).catch(() => {});
  rmSync(home, { recursive: true, force: true });
});

/** LaminDB's pertdb tables (pertdb/migrations/0001_initial.py, db_table). */
const PERTDB_TABLES = [
  "wetlab_compound",
  "wetlab_biologic",
  "wetlab_geneticperturbation",
  "wetlab_compoundperturbation",
  "wetlab_environmentalperturbation",
  "wetlab_combinationperturbation",
  "wetlab_perturbationtarget",
  "wetlab_artifactcompound",
  "wetlab_artifactbiologic",
  "wetlab_artifactgeneticperturbation",
  "wetlab_artifactcompoundperturbation",
  "wetlab_artifactenvironmentalperturbation",
  "wetlab_artifactcombinationperturbation",
  "wetlab_artifactperturbationtarget",
  "wetlab_compound_targets",
  "wetlab_geneticperturbation_targets",
];

it("ships its migration, written from its declarations by lamin migrate create", () => {
  const sqlText = readFileSync(
    join(REPO, "modules", "pertdb", "migrations", "0000_initial.sql"),
    "utf8",
  );
  for (const table of PERTDB_TABLES) expect(sqlText).toContain(`CREATE TABLE "${table}"`);
});

it("type-checks against this package's ModuleDeclaration, as a module of one's own does", () => {
  const copy = join(tempDir("lamin-pertdb-tsc-"), "pertdb");
  cpSync(join(REPO, "modules", "pertdb"), copy, { recursive: true });
  mkdirSync(join(copy, "node_modules"));
  symlinkSync(REPO, join(copy, "node_modules", "lamindb-serverless"));
  const tsc = join(REPO, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", copy], { encoding: "utf8" });
  expect(result.status, result.stdout + result.stderr).toBe(0);
  rmSync(join(copy, ".."), { recursive: true, force: true });
});

describe.each(BACKENDS)("pertdb (%s)", (backend) => {
  const work = tempDir("lamin-pertdb-");
  const env = { LAMIN_HOME: join(work, "home"), LAMIN_CACHE_DIR: join(work, "home", "cache") };
  const cli = (...args: string[]) => lamin(args, { cwd: work, env });
  const json = async <T>(...args: string[]) => {
    const r = await cli(...args, "--json");
    expect(r.code, `lamin ${args.join(" ")}\n${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("is enabled by name and used like any registry", async () => {
    const db = backend === "postgres" ? postgresUrl() : undefined;
    if (db) databases.push(db);
    await json(
      "init",
      "--storage",
      join(work, "store"),
      "--name",
      `pert-${backend}`,
      ...(db ? ["--db", db] : []),
    );
    const enabled = await json<{ module: string; applied: string[] }[]>(
      "module",
      "enable",
      "pertdb",
    );
    expect(enabled[0]).toEqual(
      expect.objectContaining({ module: "pertdb", applied: ["0000_initial"] }),
    );
    const status = await json<{ apps: { app: string; applied: string[] }[] }>("migrate", "status");
    expect(status.apps.map((a) => a.app)).toContain("lns_pertdb");

    const egfr = await json<{ uid: string }>(
      "module",
      "create",
      "pertdb.PerturbationTarget",
      "name=EGFR",
    );
    await json("module", "create", "pertdb.PerturbationTarget", "name=ABL1");
    const imatinib = await json<{ uid: string; targets: string[]; chembl_id: string }>(
      "module",
      "create",
      "pertdb.Compound",
      "name=imatinib",
      "chembl_id=CHEMBL941",
      "targets=ABL1",
    );
    expect(imatinib.chembl_id).toBe("CHEMBL941");
    const erlotinib = await json<{ targets: string[] }>(
      "module",
      "create",
      "pertdb.Compound",
      "name=erlotinib",
      "targets=EGFR,ABL1",
    );
    expect(erlotinib.targets).toHaveLength(2);
    expect(erlotinib.targets).toContain(egfr.uid);
    expectRefusal(
      await cli("module", "create", "pertdb.Compound", "name=x", "targets=NOPE"),
      3,
      /no pertdb.PerturbationTarget/,
    );
    const treated = await json<{ compound: string }>(
      "module",
      "create",
      "pertdb.CompoundPerturbation",
      "name=imatinib 1uM",
      "concentration=1",
      "concentration_unit=uM",
      "compound=imatinib",
    );
    expect(treated.compound).toBe(imatinib.uid);

    writeFileSync(join(work, "screen.csv"), "well,viability\nA1,0.5\n");
    const artifact = await json<{ uid: string }>("save", "screen.csv", "--key", "screen.csv");
    await json("feature", "create", "compound", "--dtype", "cat[pertdb.Compound]");
    const annotated = await json<{ features: Record<string, unknown> }>(
      "annotate",
      artifact.uid,
      "--features",
      "compound=imatinib",
    );
    expect(annotated.features).toEqual({ compound: "imatinib" });
    // by its identifier field too
    await json("feature", "create", "compound_id", "--dtype", "cat[pertdb.Compound.chembl_id]");
    await json("annotate", artifact.uid, "--features", "compound_id=CHEMBL941");
    const found = await json<{ uid: string }[]>("ls", "--features", "compound=imatinib");
    expect(found.map((a) => a.uid)).toEqual([artifact.uid]);
    const hits = await json<{ hits: { name: string }[] }>(
      "module",
      "search",
      "pertdb.Compound",
      "imatinib",
    );
    expect(hits.hits[0]?.name).toBe("imatinib");
  });
});
