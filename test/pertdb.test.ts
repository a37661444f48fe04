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
import { type ModuleDeclaration, tablesOf } from "../core/modules/declare.js";
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

/** pertdb's links to bionty (ManyToManyField to bionty.Gene, ...), in its migration 0001. */
const BIONTY_LINK_TABLES = [
  "wetlab_perturbationtarget_genes",
  "wetlab_perturbationtarget_pathways",
  "wetlab_perturbationtarget_proteins",
  "wetlab_biologic_proteins",
];

it("ships its migration, written from its declarations by lamin migrate create", () => {
  const sqlText = readFileSync(
    join(REPO, "modules", "pertdb", "migrations", "0000_initial.sql"),
    "utf8",
  );
  for (const table of PERTDB_TABLES) expect(sqlText).toContain(`CREATE TABLE "${table}"`);
  const links = readFileSync(
    join(REPO, "modules", "pertdb", "migrations", "0001_bionty_links.sql"),
    "utf8",
  );
  for (const table of BIONTY_LINK_TABLES) expect(links).toContain(`CREATE TABLE "${table}"`);
  expect(links).toContain(
    'ALTER TABLE "wetlab_compoundperturbation" ADD COLUMN "duration" interval',
  );
  expect(links).toMatch(/"wetlab_compound" ADD CONSTRAINT .* REFERENCES "bionty_source"\("id"\)/);
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

it("upgrades an instance that has pertdb's 0000: deploy wants bionty first, then adds the links and the seed", async () => {
  const work = tempDir("lamin-pertdb-upgrade-");
  const env = { LAMIN_HOME: join(work, "home"), LAMIN_CACHE_DIR: join(work, "home", "cache") };
  const cli = (...args: string[]) => lamin(args, { cwd: work, env });
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    expect(r.code, `lamin ${args.join(" ")}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  // the package as it was at 0000: its declaration without the bionty links, one migration
  const old = join(work, "pertdb");
  cpSync(join(REPO, "modules", "pertdb"), old, { recursive: true });
  const journal = JSON.parse(
    readFileSync(join(old, "migrations", "meta", "_journal.json"), "utf8"),
  );
  expect(journal.entries.map((e: { tag: string }) => e.tag)).toContain("0001_bionty_links");
  const decl = structuredClone(
    ((await import(join(REPO, "modules", "pertdb", "index.js"))) as { default: ModuleDeclaration })
      .default,
  );
  const added = new Set(["source", "genes", "pathways", "proteins", "duration"]);
  for (const r of Object.values(decl.registries)) {
    delete r.seed;
    for (const f of Object.keys(r.fields)) if (added.has(f)) delete r.fields[f];
  }
  writeFileSync(join(old, "index.js"), `export default ${JSON.stringify(decl)};\n`);
  journal.entries = journal.entries.filter((e: { tag: string }) => e.tag === "0000_initial");
  writeFileSync(join(old, "migrations", "meta", "_journal.json"), JSON.stringify(journal));
  writeFileSync(
    join(old, "migrations", "meta", "snapshot.json"),
    JSON.stringify({ module: "pertdb", tables: tablesOf(decl) }),
  );
  rmSync(join(old, "migrations", "0001_bionty_links.sql"));
  await ok("init", "--storage", join(work, "store"), "--name", "pert-upgrade");
  expect(await ok("module", "enable", old)).toMatch(/applied 0000_initial/);
  await ok("module", "create", "pertdb.Compound", "name=mine");

  // the package now: deploy is refused until bionty is enabled, and nothing is applied
  cpSync(join(REPO, "modules", "pertdb"), old, { recursive: true });
  expectRefusal(await cli("migrate", "deploy"), 2, /links to module 'bionty'/);
  await ok("module", "enable", "bionty");
  expect(await ok("migrate", "deploy")).toMatch(/applied lns_pertdb\/0001_bionty_links/);
  const compounds = JSON.parse(await ok("module", "records", "pertdb.Compound", "--json")) as {
    name: string;
  }[];
  expect(compounds.map((c) => c.name)).toEqual(expect.arrayContaining(["mine", "imatinib"]));
  expect(compounds).toHaveLength(9);
  rmSync(work, { recursive: true, force: true });
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
    // pertdb links to bionty's registries: refused, with nothing changed, until bionty is on
    expectRefusal(
      await cli("module", "enable", "pertdb"),
      2,
      /links to module 'bionty'.*not enabled[\s\S]*hint: enable bionty first/,
    );
    const before = await json<{ apps: { app: string }[] }>("migrate", "status");
    expect(before.apps.map((a) => a.app)).not.toContain("lns_pertdb");

    const enabled = await json<
      { module: string; applied: string[]; seeded?: { inserted: Record<string, number> } }[]
    >("module", "enable", "bionty", "pertdb");
    expect(enabled[1]).toEqual(
      expect.objectContaining({ module: "pertdb", applied: ["0000_initial", "0001_bionty_links"] }),
    );
    expect(enabled[1]?.seeded?.inserted.Compound).toBe(8);
    const status = await json<{ apps: { app: string; applied: string[] }[] }>("migrate", "status");
    expect(status.apps.map((a) => a.app)).toContain("lns_pertdb");

    // the seed: well-known compounds with their ChEMBL ids, once (enabling again adds none)
    const compounds = await json<{ name: string; chembl_id: string; smiles: string }[]>(
      "module",
      "records",
      "pertdb.Compound",
    );
    const imatinib = compounds.find((c) => c.chembl_id === "CHEMBL941") as unknown as {
      uid: string;
      name: string;
      smiles: string;
    };
    expect(imatinib.name).toBe("imatinib");
    expect(imatinib.smiles).toBe("Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1");
    expect(compounds.map((c) => c.chembl_id)).toEqual(
      expect.arrayContaining(["CHEMBL25", "CHEMBL504", "CHEMBL553"]),
    );
    const again = await json<{ applied: string[] }[]>("module", "enable", "pertdb");
    expect(again[0]?.applied).toEqual([]);
    expect(await json<unknown[]>("module", "records", "pertdb.Compound")).toHaveLength(
      compounds.length,
    );

    // targets link to bionty's genes (wetlab_perturbationtarget_genes), by symbol or uid
    const egfr = await json<{ uid: string; genes: string[] }>(
      "module",
      "create",
      "pertdb.PerturbationTarget",
      "name=EGFR",
      "genes=EGFR",
    );
    const gene = await json<{ hits: { uid: string; name: string; id: string }[] }>(
      "bionty",
      "search",
      "Gene",
      "EGFR",
    );
    expect(gene.hits[0]?.id).toBe("ENSG00000146648");
    expect(egfr.genes).toEqual([gene.hits[0]?.uid]);
    expectRefusal(
      await cli("module", "create", "pertdb.PerturbationTarget", "name=x", "genes=NOSUCHGENE"),
      3,
      /no bionty.Gene with uid or symbol 'NOSUCHGENE'/,
    );
    await json("module", "create", "pertdb.PerturbationTarget", "name=ABL1");
    const lapatinib = await json<{ targets: string[] }>(
      "module",
      "create",
      "pertdb.Compound",
      "name=lapatinib",
      "targets=EGFR,ABL1",
    );
    expect(lapatinib.targets).toHaveLength(2);
    expect(lapatinib.targets).toContain(egfr.uid);
    expectRefusal(
      await cli("module", "create", "pertdb.Compound", "name=x", "targets=NOPE"),
      3,
      /no pertdb.PerturbationTarget/,
    );
    // a duration (Postgres interval) round-trips as ISO 8601
    const treated = await json<{ compound: string; duration: string }>(
      "module",
      "create",
      "pertdb.CompoundPerturbation",
      "name=imatinib 1uM",
      "concentration=1",
      "concentration_unit=uM",
      "duration=P1DT2H30M",
      "compound=imatinib",
    );
    expect(treated.compound).toBe(imatinib.uid);
    expect(treated.duration).toBe("P1DT2H30M");
    const listed = await json<{ duration: string }[]>(
      "module",
      "records",
      "pertdb.CompoundPerturbation",
    );
    expect(listed.map((r) => r.duration)).toEqual(["P1DT2H30M"]);
    expectRefusal(
      await cli("module", "create", "pertdb.EnvironmentalPerturbation", "name=heat", "duration=2h"),
      2,
      /duration must be an ISO 8601 duration/,
    );

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
