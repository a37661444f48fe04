/**
 * The declarations an instance keeps (`lns_module`), in process on PGlite and Postgres: enabling
 * a package keeps its declaration and the SQL applied; a module is used from there without its
 * package; a declaration sent as data is migrated by SQL written here (dry run first), and a
 * failing one changes nothing; hostile declarations are refused before anything changes; two
 * instances in one process each resolve their own module of the same name; an instance enabled
 * before declarations were kept gets its declaration back from its package, and an older
 * package never takes back a newer declaration.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it, vi } from "vitest";
import { queryRows } from "../core/db/client.js";
import { dropDatabase } from "../core/db/postgres.js";
import { LaminError } from "../core/errors.js";
import type { Instance } from "../core/instance.js";
import { changeModule } from "../core/modules/declared.js";
import {
  createModuleMigration,
  type ExternalModule,
  loadModuleFolder,
} from "../core/modules/external.js";
import {
  deployMigrations,
  enableModules,
  instanceModules,
  registerModule,
} from "../core/modules/index.js";
import { initInstance } from "../core/setup.js";
import { BACKENDS, postgresUrl, tempDir, useTempHome } from "./helpers.js";

vi.setConfig({ testTimeout: 120_000 });
const home = useTempHome();
const databases: string[] = [];
afterAll(async () => {
  for (const db of databases) await dropDatabase(db).catch(() => {});
  rmSync(home, { recursive: true, force: true });
});

const declaration = (name: string, fields: Record<string, unknown> = {}) => ({
  name,
  registries: {
    Sample: {
      fields: { name: { type: "string", required: true, unique: true }, ...fields },
      links: ["artifacts"],
    },
  },
});

type Kept = { name: string; digest: string; declaration: unknown; migrations: unknown };
const kept = async (ln: Instance, name: string): Promise<Kept | undefined> =>
  (
    await queryRows<Kept>(
      ln.db,
      sql`SELECT name, digest, declaration, migrations FROM lns_module WHERE name = ${name}`,
    )
  )[0];
const applied = async (ln: Instance, app: string) =>
  (
    await queryRows<{ name: string }>(
      ln.db,
      sql`SELECT name FROM django_migrations WHERE app = ${app} ORDER BY id`,
    )
  ).map((r) => r.name);

describe.each(BACKENDS)("declarations kept by the instance (%s)", (backend) => {
  const work = tempDir("lamin-module-stored-");
  const open = async (name: string) => {
    const db = backend === "postgres" ? postgresUrl() : undefined;
    if (db) databases.push(db);
    return initInstance({ storage: join(work, name), name, ...(db ? { db } : {}) });
  };
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("keeps a package's declaration, serves without it, and backfills an older instance", async () => {
    const name = `kept${backend.slice(0, 2)}`;
    const pkg = join(work, name);
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name, type: "module" }));
    writeFileSync(
      join(pkg, "index.js"),
      `export default ${JSON.stringify(declaration(name, { weight: { type: "float" } }))};\n`,
    );
    const module = registerModule(await loadModuleFolder(pkg)) as ExternalModule;
    expect(createModuleMigration(module)?.statements.length).toBeGreaterThan(0);
    const ln = await open(`${name}-a`);
    try {
      expect((await enableModules(ln, [name]))[0]?.applied).toEqual(["0000_initial"]);
      const row = await kept(ln, name);
      expect(row?.declaration).toEqual(declaration(name, { weight: { type: "float" } }));
      // as its migration file has them
      expect(row?.migrations).toEqual([
        { name: "0000_initial", statements: module.migrations().migrations[0]?.statements },
      ]);
      // what the instance uses comes from the database, not the package
      const scoped = (await instanceModules(ln.db)).get(name) as ExternalModule;
      expect(scoped.origin).toMatch(/lns_module/);
      await ln.modules.create(`${name}.Sample`, { name: "S1", weight: 2 });

      // an instance enabled before declarations were kept: the next deploy keeps it
      await ln.db.execute(sql`DELETE FROM lns_module`);
      expect(((await instanceModules(ln.db)).get(name) as ExternalModule).origin).toBe(pkg);
      await deployMigrations(ln, { packages: true });
      expect((await kept(ln, name))?.digest).toBe(row?.digest);

      // a newer declaration sent as data; the (older) package does not take it back
      const newer = declaration(name, { weight: { type: "float" }, tissue: { type: "string" } });
      const change = await changeModule(ln, name, { declaration: newer });
      expect(change).toMatchObject({ applied: ["0001_update"], dryRun: false });
      const after = await kept(ln, name);
      expect(after?.digest).not.toBe(row?.digest);
      await deployMigrations(ln, { packages: true });
      expect((await kept(ln, name))?.digest).toBe(after?.digest);
      await ln.modules.create(`${name}.Sample`, { name: "S2", tissue: "brain" });
    } finally {
      await ln.close();
    }
  });

  it("migrates a declaration sent as data: dry run, apply, failing SQL changes nothing", async () => {
    const ln = await open(`declared-${backend}`);
    try {
      const dry = await changeModule(ln, "mylab", {
        declaration: declaration("mylab"),
        migrations: ["0000_initial"],
        dryRun: true,
      });
      expect(dry).toMatchObject({ applied: ["0000_initial"], dryRun: true });
      expect(dry.statements.join("\n")).toMatch(/CREATE TABLE "mylab_sample"/);
      expect(await kept(ln, "mylab").catch(() => undefined)).toBeUndefined();
      expect(await applied(ln, "lns_mylab")).toEqual([]);

      await changeModule(ln, "mylab", { declaration: declaration("mylab") });
      await ln.modules.create("mylab.Sample", { name: "S1" });
      const before = await kept(ln, "mylab");
      // a required field on a registry with records: Postgres refuses the ALTER; nothing changes
      const failed = await changeModule(ln, "mylab", {
        declaration: declaration("mylab", { donor: { type: "string", required: true } }),
      }).catch((error: unknown) => error as LaminError);
      expect(failed).toBeInstanceOf(LaminError);
      expect((failed as LaminError).message).toMatch(/migration lns_mylab\/0001_update failed/);
      expect((failed as LaminError).hint).toMatch(/nothing was changed/);
      expect(await kept(ln, "mylab")).toEqual(before);
      expect(await applied(ln, "lns_mylab")).toEqual(["0000_initial"]);
      expect((await ln.modules.records("mylab.Sample")).map((r) => r.name)).toEqual(["S1"]);

      // hostile or mistaken: refused before anything changes
      const refused = async (modName: string, req: object, message: RegExp) => {
        await expect(changeModule(ln, modName, req)).rejects.toThrow(message);
      };
      await refused("../../etc", {}, /invalid module name/);
      await refused("nothere", {}, /not bundled with this server/);
      await refused("lns", { declaration: declaration("lns") }, /taken by LaminDB's core/);
      await refused(
        "evil",
        { declaration: { ...declaration("evil"), tablePrefix: "bionty" } },
        /as module 'bionty' does/,
      );
      await refused(
        "evil",
        { declaration: { ...declaration("evil"), tablePrefix: "mylab" } },
        /as module 'mylab' does/,
      );
      await refused(
        "evil",
        { declaration: { ...declaration("evil"), tablePrefix: "wetlab" } },
        /as module 'pertdb' does/,
      );
      await refused(
        "evil",
        { declaration: { name: "evil", registries: { 'X"; DROP TABLE x; --': { fields: {} } } } },
        /registry name/,
      );
      await refused("pertdb", { declaration: declaration("pertdb") }, /bundled with this server/);
      await refused(
        "mylab",
        { declaration: declaration("mylab"), migrations: ["0001_x; DROP TABLE y"] },
        /invalid migration name/,
      );
      // a table left by hand is never taken over
      await ln.db.execute(sql`CREATE TABLE "handmade_sample" (id integer)`);
      await refused(
        "handmade",
        { declaration: declaration("handmade") },
        /would create handmade_sample, which exist/,
      );
      expect(await applied(ln, "lns_evil")).toEqual([]);
      expect(await applied(ln, "lns_handmade")).toEqual([]);

      // a declaration pointing into bionty: refused while bionty is off, nothing changed; then
      // applied with its seed, its links to bionty's genes and a duration
      const linked = {
        name: "screens",
        registries: {
          Target: {
            fields: {
              name: { type: "string", required: true },
              genes: { type: "many", to: "bionty.Gene" },
              incubation: { type: "duration" },
            },
            seed: [{ name: "control", incubation: "PT1H" }],
          },
        },
      };
      await refused("screens", { declaration: linked }, /links to module 'bionty'.*not enabled/);
      expect(await applied(ln, "lns_screens")).toEqual([]);
      expect(await kept(ln, "screens").catch(() => undefined)).toBeUndefined();
      await enableModules(ln, ["bionty"]);
      await changeModule(ln, "screens", { declaration: linked });
      const seeded = await ln.modules.records("screens.Target");
      expect(seeded.map((r) => [r.name, r.incubation])).toEqual([["control", "PT1H"]]);
      const made = await ln.modules.create("screens.Target", {
        name: "EGFR",
        genes: ["EGFR"],
        incubation: "P2DT30M",
      });
      expect(made.genes).toHaveLength(1);
      expect(made.incubation).toBe("P2DT30M");
    } finally {
      await ln.close();
    }
  });

  it("two instances in one process: each its own module of the same name", async () => {
    const a = await open(`same-a-${backend}`);
    const b = await open(`same-b-${backend}`);
    try {
      await changeModule(a, "shared", { declaration: declaration("shared") });
      await changeModule(b, "shared", {
        declaration: {
          name: "shared",
          registries: { Plate: { fields: { name: { type: "string" } } } },
        },
      });
      await a.modules.create("shared.Sample", { name: "S1" });
      await b.modules.create("shared.Plate", { name: "P1" });
      await expect(a.modules.records("shared.Plate")).rejects.toThrow(/unknown registry/);
      await expect(b.modules.records("shared.Sample")).rejects.toThrow(/unknown registry/);
      expect((await a.modules.list()).find((m) => m.name === "shared")?.registries).toEqual([
        "shared.Sample",
      ]);
      expect((await b.modules.list()).find((m) => m.name === "shared")?.registries).toEqual([
        "shared.Plate",
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
