/**
 * Modules (bionty): enabling applies the module's migrations and seeds its data in one
 * transaction, recorded in django_migrations under app `lns_bionty` (and bionty's own migrations
 * under `bionty`, for Python); uids follow bionty's rule;
 * search ranks exact and synonym matches first; lookupModuleValues validates values for
 * `cat[bionty.*]` features; parents stay acyclic; `lamin migrate status|deploy` applies what is
 * pending, and a migration failing halfway changes nothing. SDK on every backend, CLI on both.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, test } from "vitest";
import { queryRows } from "../core/db/client.js";
import { dropDatabase } from "../core/db/postgres.js";
import {
  addParent,
  biontyUid,
  deployMigrations,
  enableModules,
  instanceMigrationStatus,
  listModules,
  lookupModuleValues,
  parseModuleNames,
  searchRegistry,
} from "../core/modules/index.js";
import { loadInstanceSettings } from "../core/settings.js";
import { initInstance } from "../core/setup.js";
import {
  BACKENDS,
  type CliResult,
  createInstance,
  lamin,
  postgresUrl,
  REPO,
  type TestInstance,
  tempDir,
  useTempHome,
} from "./helpers.js";

const home = useTempHome();
const work = tempDir("lamin-modules-");
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

/** laminspec hash_vectors.json, kind `bionty_uid`. */
const BIONTY_UID_VECTORS = [
  ["CL:0000084", "22LvKd01YyNA1a"],
  ["UBERON:0000955", "1fIFAQJYGhqy07"],
] as const;

/** A copy of migrations/ with extra migrations appended to one app's journal. */
function migrationsWith(app: string, extra: Record<string, string[]>): string {
  const dir = join(tempDir("lamin-migrations-"), "migrations");
  cpSync(join(REPO, "migrations"), dir, { recursive: true });
  const journalPath = join(dir, app, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as {
    entries: { idx: number; tag: string }[];
  };
  for (const [tag, statements] of Object.entries(extra)) {
    journal.entries.push({ idx: journal.entries.length, tag });
    writeFileSync(join(dir, app, `${tag}.sql`), statements.join("\n--> statement-breakpoint\n"));
  }
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

/** What `migrations/bionty` holds: the module ships these. */
const BIONTY_MIGRATIONS = [
  "0000_initial",
  "0001_parents_acyclic",
  "0002_artifact_links",
  "0003_lamindb_2_9_prepare",
  "0004_lamindb_2_9",
  "0005_parents_acyclic_2_9",
];
/** What Python's bionty 2.4 finds recorded (see core/modules/bionty/index.ts). */
const BIONTY_PYTHON = ["0064_squashed", "0065_lamindb_v2_2", "0065_squashed"];
const EXTRA = { "0006_extra": ["ALTER TABLE bionty_celltype ADD COLUMN extra_note text"] };
const BROKEN = {
  "0007_broken": [
    "ALTER TABLE bionty_tissue ADD COLUMN half_done text",
    "ALTER TABLE bionty_nope ADD COLUMN x int",
  ],
};

describe("bionty uids", () => {
  it("derive from the ontology id as bionty does (hash vectors)", () => {
    for (const [input, uid] of BIONTY_UID_VECTORS) expect(biontyUid(input)).toBe(uid);
    expect(biontyUid("ENSG00000010610")).toHaveLength(14);
  });

  it("unknown module names fail with the known ones", () => {
    expect(parseModuleNames("bionty, bionty")).toEqual(["bionty"]);
    expect(() => parseModuleNames("bionty,nope")).toThrow(/unknown module 'nope'/);
    try {
      parseModuleNames("nope");
    } catch (error) {
      expect((error as { hint?: string }).hint).toBe("known modules: bionty");
      expect((error as { kind?: string }).kind).toBe("validation");
    }
  });
});

const columnExists = async (t: TestInstance, table: string, column: string) =>
  (
    await queryRows(
      t.instance.db,
      sql`SELECT 1 FROM information_schema.columns WHERE table_name = ${table} AND column_name = ${column}`,
    )
  ).length > 0;

// suites run side by side (each on its own instance), the steps of a suite one after the other
describe.concurrent.each(BACKENDS)("modules on %s", (backend) => {
  const it = test.sequential;
  let t: TestInstance;
  beforeAll(async () => {
    t = await createInstance(backend);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("refuses unknown modules and registries of modules not enabled", async () => {
    await expect(enableModules(t.instance, ["nope"])).rejects.toThrow(/unknown module 'nope'/);
    expect((await listModules(t.instance)).map((m) => [m.name, m.enabled])).toEqual([
      ["bionty", false],
    ]);
    const err = await searchRegistry(t.instance, "celltype", "t cell").catch((e) => e);
    expect(err.kind).toBe("not-found");
    expect(err.hint).toMatch(/lamin module enable bionty/);
    await expect(searchRegistry(t.instance, "bionty.Nope", "x")).rejects.toThrow(
      /unknown registry 'bionty.Nope'/,
    );
  });

  it("enables bionty: migrations under app lns_bionty, seeded data, uids per bionty", async () => {
    const [result] = await enableModules(t.instance, ["bionty"]);
    expect(result?.applied).toEqual(BIONTY_MIGRATIONS);
    expect(result?.seeded?.inserted).toMatchObject({ CellType: 35, Tissue: 24, Organism: 6 });
    expect(result?.seeded?.parents).toBeGreaterThan(50);
    const history = await queryRows<{ name: string }>(
      t.instance.db,
      sql`SELECT name FROM django_migrations WHERE app = 'lns_bionty' ORDER BY id`,
    );
    expect(history.map((h) => h.name)).toEqual(BIONTY_MIGRATIONS);
    const python = await queryRows<{ name: string }>(
      t.instance.db,
      sql`SELECT name FROM django_migrations WHERE app = 'bionty' ORDER BY id`,
    );
    expect(python.map((h) => h.name)).toEqual(BIONTY_PYTHON);
    expect((await listModules(t.instance))[0]?.enabled).toBe(true);

    for (const [ontologyId, uid] of BIONTY_UID_VECTORS) {
      const table = ontologyId.startsWith("CL:") ? "bionty_celltype" : "bionty_tissue";
      const rows = await queryRows<{ uid: string; created_by_id: number; branch_id: number }>(
        t.instance.db,
        sql`SELECT uid, created_by_id, branch_id FROM ${sql.identifier(table)} WHERE ontology_id = ${ontologyId}`,
      );
      expect(rows).toEqual([{ uid, created_by_id: t.instance.user.id, branch_id: 1 }]);
    }
    const genes = await queryRows<{ uid: string; ensembl_gene_id: string; organism: string }>(
      t.instance.db,
      sql`SELECT g.uid, g.ensembl_gene_id, o.name AS organism FROM bionty_gene g JOIN bionty_organism o ON o.id = g.organism_id`,
    );
    for (const g of genes) expect(g.uid).toBe(biontyUid(g.ensembl_gene_id));
    expect(genes.find((g) => g.ensembl_gene_id === "ENSMUSG00000023274")?.organism).toBe("mouse");
    const [tcell] = await queryRows<{ synonyms: string; parents: string[] }>(
      t.instance.db,
      sql`SELECT c.synonyms, array_agg(p.name ORDER BY p.name) AS parents FROM bionty_celltype c
          JOIN bionty_celltype_parents l ON l.from_celltype_id = c.id
          JOIN bionty_celltype p ON p.id = l.to_celltype_id
          WHERE c.ontology_id = 'CL:0000084' GROUP BY c.synonyms`,
    );
    expect(tcell?.synonyms.split("|")).toContain("T lymphocyte");
    expect(tcell?.parents).toEqual(["lymphocyte"]);

    // enabling again changes nothing
    expect(await enableModules(t.instance, ["bionty"])).toEqual([
      { module: "bionty", applied: [] },
    ]);
  });

  it("search ranks exact names, then synonyms, then prefixes and similar spellings", async () => {
    const first = async (registry: string, text: string) =>
      (await searchRegistry(t.instance, registry, text)).hits[0];
    const tcell = await searchRegistry(t.instance, "celltype", "t cell");
    expect(tcell.registry).toBe("bionty.CellType");
    expect(tcell.hits[0]).toMatchObject({ name: "T cell", id: "CL:0000084", match: "name" });
    expect(tcell.hits.map((h) => h.name)).toContain("regulatory T cell");
    expect(await first("bionty.CellType", "T lymphocyte")).toMatchObject({
      name: "T cell",
      match: "synonym",
    });
    expect(await first("CellType", "t-cell")).toMatchObject({ name: "T cell" });
    expect(await first("cell_type", "CL:0000084")).toMatchObject({ name: "T cell", match: "id" });
    expect(await first("celltype", "lymphocite")).toMatchObject({
      name: "lymphocyte",
      match: "fuzzy",
    });
    // an exact synonym outranks names that merely start with the text
    expect(await first("celltype", "NK cell")).toMatchObject({ name: "natural killer cell" });
    expect(await first("tissue", "brain")).toMatchObject({
      name: "brain",
      id: "UBERON:0000955",
      match: "name",
    });
    expect(await first("gene", "CD45")).toMatchObject({ name: "PTPRC", match: "synonym" });
    expect(await first("disease", "alzheimer")).toMatchObject({ name: "Alzheimer disease" });
    expect((await searchRegistry(t.instance, "organism", "zzzz")).hits).toEqual([]);
    const limited = await searchRegistry(t.instance, "celltype", "cell", { limit: 3 });
    expect(limited.hits).toHaveLength(3);
    expect(limited.hits[0]?.name).toBe("cell");
  });

  it("lookupModuleValues validates values for cat[bionty.*] features", async () => {
    const byId = await lookupModuleValues(t.instance, "cat[bionty.CellType.ontology_id]", [
      "CL:0000084",
      "CL:9999999",
      "CL:0000084",
    ]);
    expect(byId).toMatchObject({
      registry: "bionty.CellType",
      field: "ontology_id",
      found: [{ value: "CL:0000084", uid: "22LvKd01YyNA1a", name: "T cell", id: "CL:0000084" }],
    });
    expect(byId.missing.map((m) => m.value)).toEqual(["CL:9999999"]);

    const byName = await lookupModuleValues(t.instance, "bionty.CellType", [
      "T cell",
      "T-lymphocyte",
      "B cel",
      "t cell",
    ]);
    expect(byName.field).toBe("name");
    expect(byName.found.map((f) => f.value)).toEqual(["T cell"]);
    expect(byName.missing).toEqual([
      { value: "T-lymphocyte", synonymOf: "T cell", closeMatches: expect.any(Array) },
      { value: "B cel", closeMatches: expect.arrayContaining(["B cell"]) },
      { value: "t cell", closeMatches: expect.arrayContaining(["T cell"]) },
    ]);
    expect(byName.missing[1]?.closeMatches[0]).toBe("B cell");

    const genes = await lookupModuleValues(t.instance, "bionty.Gene.ensembl_gene_id", [
      "ENSG00000010610",
    ]);
    expect(genes.found[0]).toMatchObject({ name: "CD4", id: "ENSG00000010610" });
    expect(await lookupModuleValues(t.instance, "bionty.Tissue", [])).toMatchObject({
      found: [],
      missing: [],
    });
    await expect(lookupModuleValues(t.instance, "bionty.CellType.color", ["x"])).rejects.toThrow(
      /has no field 'color'/,
    );
    await expect(
      lookupModuleValues(t.instance, "cat[bionty.Tissue.ontology_id|bionty.CellType]", ["x"]),
    ).rejects.toThrow(/cannot look up values/);
  });

  it("refuses parents that would make a cycle", async () => {
    // lymphocyte is an ancestor of T cell: T cell cannot become its parent
    const err = await addParent(t.instance, "celltype", "CL:0000542", "CL:0000084").catch((e) => e);
    expect(err.kind).toBe("validation");
    expect(err.message).toMatch(/cyclic parents/);
    await expect(addParent(t.instance, "celltype", "CL:0000084", "CL:0000084")).rejects.toThrow(
      /cyclic parents/,
    );
    // also in SQL, whoever writes the link
    await expect(
      t.instance.db.execute(
        sql`INSERT INTO bionty_tissue_parents (from_tissue_id, to_tissue_id)
            SELECT a.id, b.id FROM bionty_tissue a, bionty_tissue b
            WHERE a.ontology_id = 'UBERON:0000062' AND b.ontology_id = 'UBERON:0000955'`,
      ),
    ).rejects.toThrow();
    expect(await addParent(t.instance, "celltype", "CL:0000084", "CL:0000542")).toEqual({
      added: false,
    });
    expect(await addParent(t.instance, "celltype", "CL:0000815", "CL:0000624")).toEqual({
      added: true,
    });
    await expect(addParent(t.instance, "gene", "a", "b")).rejects.toThrow(/has no parents/);
    await expect(addParent(t.instance, "celltype", "CL:0000084", "CL:1")).rejects.toThrow(
      /no bionty.CellType with ontology_id 'CL:1'/,
    );
  });

  it("deploys pending migrations; one failing halfway changes nothing", async () => {
    expect(await instanceMigrationStatus(t.instance)).toEqual([
      expect.objectContaining({ app: "lns", pending: [] }),
      {
        app: "lns_bionty",
        applied: BIONTY_MIGRATIONS,
        pending: [],
        python: { app: "bionty", recorded: BIONTY_PYTHON, missing: [] },
      },
    ]);
    // an injected migrations folder (the CLI test below uses LAMIN_MIGRATIONS_DIR)
    const extra = { migrationsDir: migrationsWith("bionty", EXTRA) };
    expect((await instanceMigrationStatus(t.instance, extra))[1]?.pending).toEqual(["0006_extra"]);
    const { applied } = await deployMigrations(t.instance, extra);
    expect(applied).toEqual({ lns: [], lns_bionty: ["0006_extra"] });
    expect(await columnExists(t, "bionty_celltype", "extra_note")).toBe(true);
    expect((await instanceMigrationStatus(t.instance, extra))[1]?.pending).toEqual([]);

    const broken = { migrationsDir: migrationsWith("bionty", { ...EXTRA, ...BROKEN }) };
    const err = await deployMigrations(t.instance, broken).catch((e) => e);
    expect(err.message).toMatch(/migration lns_bionty\/0007_broken failed/);
    expect(err.hint).toMatch(/nothing was changed/);
    expect(await columnExists(t, "bionty_tissue", "half_done")).toBe(false);
    expect((await instanceMigrationStatus(t.instance, broken))[1]?.pending).toEqual([
      "0007_broken",
    ]);
  });

  it("init with modules enables them; unknown modules fail before anything is made", async () => {
    const root = join(tempDir(), "storage");
    const name = `m-${backend}-bad`;
    await expect(initInstance({ storage: root, name, modules: ["nope"] })).rejects.toThrow(
      /unknown module 'nope'/,
    );
    expect(existsSync(root)).toBe(false);
    expect(loadInstanceSettings(name)).toBeUndefined();

    const db = backend === "postgres" ? postgresUrl() : undefined;
    const instance = await initInstance({
      storage: root,
      name: `m-${backend}`,
      modules: ["bionty"],
      ...(db ? { db } : {}),
    });
    try {
      expect((await listModules(instance))[0]?.enabled).toBe(true);
      const { hits } = await searchRegistry(instance, "tissue", "encephalon");
      expect(hits[0]).toMatchObject({ uid: "1fIFAQJYGhqy07", match: "synonym" });
    } finally {
      await instance.close();
      if (db) await dropDatabase(db).catch(() => {});
      rmSync(join(root, ".."), { recursive: true, force: true });
    }
  });
});

/** `lamin` in its own settings folder, as a user would run it. */
function cli(name: string) {
  const env = { LAMIN_HOME: join(work, name, "home") };
  const run = (args: string[], extra: Record<string, string> = {}) =>
    lamin(args, { cwd: work, env: { ...env, ...extra } });
  const json = async <T>(args: string[], extra: Record<string, string> = {}): Promise<T> => {
    const r = await run([...args, "--json"], extra);
    expect(r.code, `lamin ${args.join(" ")}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  return { env, run, json, storage: join(work, name, "storage") };
}

function expectFailure(r: CliResult, code: number, message: RegExp, hint?: RegExp) {
  expect(r.code, JSON.stringify(r)).toBe(code);
  expect(r.stderr).toMatch(message);
  if (hint) expect(r.stderr).toMatch(hint);
  expect(r.stderr.split("\n").filter((l) => l.startsWith("error: "))).toHaveLength(1);
}

type Status = { apps: { app: string; pending: string[] }[] };

// every command starts its own PGlite: give a busy machine room
const CLI_TIMEOUT = { timeout: 180_000 };

describe.concurrent("lamin module | bionty", CLI_TIMEOUT, () => {
  const it = test.sequential;
  const { run, json, storage } = cli("bio");

  it("init --modules, module list/enable, bionty search/lookup", async () => {
    expectFailure(
      await run(["init", "--storage", storage, "--modules", "bionty,nope"]),
      2,
      /unknown module 'nope'/,
      /hint: known modules: bionty/,
    );
    expect(existsSync(storage)).toBe(false);
    await json(["init", "--storage", storage, "--modules", "bionty"]);

    const modules = await json<{ name: string; enabled: boolean }[]>(["module", "list"]);
    expect(modules.map((m) => [m.name, m.enabled])).toEqual([["bionty", true]]);
    // not bionty: an npm package of that name, which is not installed
    expectFailure(
      await run(["module", "enable", "nope"]),
      3,
      /cannot find the module package 'nope'/,
    );

    const found = await json<{ hits: { name: string; match: string }[] }>([
      "bionty",
      "search",
      "celltype",
      "t cell",
    ]);
    expect(found.hits[0]).toMatchObject({ name: "T cell", match: "name" });
    const text = await run(["bionty", "search", "CellType", "T lymphocyte"]);
    expect(text.stdout.split("\n")[1]).toMatch(/^22LvKd01YyNA1a\s+T cell\s+CL:0000084\s+synonym/);
    expectFailure(
      await run(["bionty", "search", "colour", "red"]),
      2,
      /unknown registry 'bionty.colour'/,
    );

    const lookup = await run([
      "bionty",
      "lookup",
      "CellType.ontology_id",
      "CL:0000084",
      "CL:9999999",
      "--json",
    ]);
    expect(lookup.code).toBe(3);
    expect(JSON.parse(lookup.stdout)).toMatchObject({
      found: [{ value: "CL:0000084", name: "T cell" }],
      missing: [{ value: "CL:9999999" }],
    });
    const ok = await run(["bionty", "lookup", "Tissue", "brain"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/found\s+brain\s+\(brain, UBERON:0000955\)/);
  });
});

describe.concurrent("lamin migrate", CLI_TIMEOUT, () => {
  const it = test.sequential;
  const { run, json, storage } = cli("mig");

  it("status and deploy: pending becomes applied; a failing migration changes nothing", async () => {
    await json(["init", "--storage", storage]);
    const [enabled] = await json<{ applied: string[]; seeded: { inserted: object } }[]>([
      "module",
      "enable",
      "bionty",
    ]);
    expect(enabled?.applied).toEqual(BIONTY_MIGRATIONS);
    expect(enabled?.seeded.inserted).toMatchObject({ CellType: 35 });
    const status = await json<Status>(["migrate", "status"]);
    expect(status.apps.map((a) => [a.app, a.pending])).toEqual([
      ["lns", []],
      ["lns_bionty", []],
    ]);

    const extra = { LAMIN_MIGRATIONS_DIR: migrationsWith("bionty", EXTRA) };
    const pending = await run(["migrate", "status"], extra);
    expect(pending.stdout).toMatch(/lns_bionty\s+6\s+0006_extra/);
    expect(pending.stdout).toMatch(/lamindb\s+20\/20\s+-/);
    expect(pending.stdout).toMatch(/bionty\s+3\/3\s+-/);
    expect(pending.stdout).toMatch(/lamin migrate deploy/);
    expect(await json(["migrate", "deploy"], extra)).toMatchObject({
      applied: { lns: [], lns_bionty: ["0006_extra"] },
    });

    const broken = { LAMIN_MIGRATIONS_DIR: migrationsWith("bionty", { ...EXTRA, ...BROKEN }) };
    expectFailure(
      await run(["migrate", "deploy"], broken),
      5,
      /migration lns_bionty\/0007_broken failed/,
      /nothing was changed/,
    );
    const after = await json<Status>(["migrate", "status"], broken);
    expect(after.apps[1]?.pending).toEqual(["0007_broken"]);
  });

  it("migrate create runs drizzle-kit in a checkout; names and places are checked", async () => {
    expectFailure(await run(["migrate", "create", "Bad Name"]), 2, /invalid migration name/);
    expectFailure(
      await run(["migrate", "create", "x", "--module", "nope"]),
      3,
      /cannot find the module package 'nope'/,
    );
    // outside a checkout of the repository
    expectFailure(await run(["migrate", "create", "x"]), 2, /runs in a checkout/);
    // in the checkout, with the schema in sync: nothing is written
    const r = await lamin(["migrate", "create", "noop", "--module", "bionty", "--json"], {
      cwd: REPO,
      env: cli("create").env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ app: "lns_bionty", created: [] });
  });
});

describe.concurrent("lamin on Postgres with modules", CLI_TIMEOUT, () => {
  const { json, storage } = cli("pg");
  it.runIf(BACKENDS.includes("postgres"))("init --db --modules on Postgres", async () => {
    const url = postgresUrl();
    try {
      await json(["init", "--storage", storage, "--db", url, "--modules", "bionty"]);
      const found = await json<{ hits: { uid: string }[] }>([
        "bionty",
        "search",
        "tissue",
        "brain",
      ]);
      expect(found.hits[0]?.uid).toBe("1fIFAQJYGhqy07");
      const status = await json<Status>(["migrate", "status"]);
      expect(status.apps.map((a) => a.app)).toEqual(["lns", "lns_bionty"]);
    } finally {
      await dropDatabase(url).catch(() => {});
    }
  });
});
