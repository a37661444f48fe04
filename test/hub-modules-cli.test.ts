/**
 * Modules of an instance on a hub, with the built CLI as subprocesses (`lamin connect
 * owner/name`): `lamin module enable ./mylab` sends the package's declaration (data) and the hub
 * writes and applies the SQL; `lamin module enable pertdb` enables a module bundled with the
 * hub by name; records are made and read through the hub; a changed declaration goes out with
 * `lamin migrate deploy` (its `--dry-run` prints the SQL); a migration that fails, a clash of
 * table prefixes and a reader enabling a module change nothing. The hub runs embedded (PGlite
 * instances) and on Postgres.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { randomBase62 } from "../core/uid.js";
import { type CliResult, lamin, serveHubFor, stopChild, tempDir } from "./helpers.js";

vi.setConfig({ testTimeout: 300_000 });

const DECLARATION = (extra = "", donorExtra = "") => `// @ts-check
/** @type {import("lamindb-serverless").ModuleDeclaration} */
export default {
  name: "mylab",
  registries: {
    Donor: {
      fields: {
        name: { type: "string", max: 64, required: true, unique: true },${donorExtra}
      },
    },
    Sample: {
      fields: {
        name: { type: "string", required: true, unique: true },
        donor: { type: "ref", to: "Donor" },${extra}
      },
      links: ["artifacts"],
    },
  },
};
`;

const BACKENDS = [
  ["embedded", { DATABASE_URL: "" }],
  ...(process.env.DATABASE_URL ? [["postgres", {}] as const] : []),
] as const;

describe.each(BACKENDS)("modules of an instance on a hub (%s)", (_backend, hubEnv) => {
  const work = tempDir("lamin-hub-modules-");
  const hubDir = join(work, "hub");
  const operator = { LAMIN_HOME: join(work, "operator"), ...hubEnv };
  const alice = { LAMIN_HOME: join(work, "alice"), LAMIN_CACHE_DIR: join(work, "alice-cache") };
  const bob = { LAMIN_HOME: join(work, "bob"), LAMIN_CACHE_DIR: join(work, "bob-cache") };
  const slug = `alice/mods-${randomBase62(6).toLowerCase()}`;
  const slug2 = `${slug}-2`;
  let server: ChildProcess | undefined;
  let url = "";

  const as = (env: Record<string, string>, ...args: string[]) => lamin(args, { cwd: work, env });
  const ok = async (env: Record<string, string>, ...args: string[]) => {
    const r = await as(env, ...args);
    expect(r.code, `lamin ${args.join(" ")}\n${r.stdout}\n${r.stderr}`).toBe(0);
    return r;
  };
  const json = async <T>(env: Record<string, string>, ...args: string[]): Promise<T> =>
    JSON.parse((await ok(env, ...args, "--json")).stdout) as T;
  const fails = (r: CliResult, code: number, message: RegExp) => {
    const shown = JSON.stringify(r, null, 2);
    expect(r.code, shown).toBe(code);
    expect(r.stderr, shown).toMatch(message);
  };
  const pkg = join(work, "mylab");
  const declare = (extra = "", donorExtra = "") =>
    writeFileSync(join(pkg, "index.js"), DECLARATION(extra, donorExtra));

  beforeAll(async () => {
    ({ server, url } = await serveHubFor({
      hubDir,
      storageAllow: work,
      operator,
      users: { alice, bob },
    }));
    await ok(alice, "init", slug, "--storage", join(work, "lab"));
    await ok(alice, "collaborator", "add", slug, "bob", "--role", "read");
    await ok(bob, "connect", slug);
  }, 180_000);

  afterAll(async () => {
    if (url) {
      for (const s of [slug, slug2]) await as(alice, "delete", "instance", s, "--force");
    }
    await stopChild(server);
  });

  it("enables a package's declaration and a bundled module through the hub", async () => {
    await ok(alice, "module", "new", "mylab");
    declare();
    await ok(alice, "migrate", "create", "--module", "./mylab");
    // a reader may not change the schema, and nothing changes
    fails(await as(bob, "module", "enable", "./mylab"), 7, /this needs admin/);
    const enabled = await json<{ module: string; applied: string[]; statements: string[] }[]>(
      alice,
      "module",
      "enable",
      "./mylab",
    );
    expect(enabled[0]).toMatchObject({ module: "mylab", applied: ["0000_initial"] });
    expect(enabled[0]?.statements.join("\n")).toMatch(/CREATE TABLE "mylab_sample"/);
    // again: nothing to do
    expect((await ok(alice, "module", "enable", "./mylab")).stdout).toMatch(/already enabled/);
    // pertdb points into bionty: refused until bionty is enabled, then both in order
    fails(await as(alice, "module", "enable", "pertdb"), 2, /enable bionty first/);
    const pert = await json<{ applied: string[] }[]>(alice, "module", "enable", "bionty", "pertdb");
    expect(pert[1]?.applied).toEqual(["0000_initial", "0001_bionty_links"]);

    const listed = await json<{ name: string; enabled: boolean; registries: string[] }[]>(
      bob,
      "module",
      "list",
    );
    expect(listed.find((m) => m.name === "mylab")).toMatchObject({
      enabled: true,
      registries: ["mylab.Donor", "mylab.Sample"],
    });
    expect(listed.find((m) => m.name === "pertdb")?.enabled).toBe(true);

    await ok(alice, "module", "create", "mylab.Donor", "name=D1");
    await ok(alice, "module", "create", "mylab.Sample", "name=S1", "donor=D1");
    await ok(alice, "module", "create", "pertdb.Compound", "name=nilotinib");
    const compounds = await json<{ name: string }[]>(bob, "module", "records", "pertdb.Compound");
    // its seed (8 compounds, aspirin among them) and the new one
    expect(compounds.map((c) => c.name)).toEqual(expect.arrayContaining(["nilotinib", "aspirin"]));
    expect(compounds).toHaveLength(9);
    const samples = await json<{ name: string; donor: string }[]>(
      bob,
      "module",
      "records",
      "mylab.Sample",
    );
    expect(samples.map((s) => s.name)).toEqual(["S1"]);
    // changed and deleted through the hub: writers may, readers may not
    const s1 = samples[0] as unknown as { uid: string };
    fails(
      await as(bob, "module", "update", "mylab.Sample", s1.uid, "name=S1b"),
      7,
      /this needs write/,
    );
    fails(await as(bob, "module", "delete", "mylab.Sample", s1.uid), 7, /this needs write/);
    const renamed = await json<{ name: string }>(
      alice,
      "module",
      "update",
      "mylab.Sample",
      s1.uid,
      "name=S1b",
    );
    expect(renamed.name).toBe("S1b");
    await ok(alice, "module", "update", "mylab.Sample", s1.uid, "name=S1");
    const gone = await json<{ uid: string }>(alice, "module", "create", "mylab.Donor", "name=Dx");
    expect(await json(alice, "module", "delete", "mylab.Donor", gone.uid, "--permanent")).toEqual({
      uid: gone.uid,
      deleted: "permanent",
    });
    // a feature of the module's registry validates values through the hub
    await ok(alice, "feature", "create", "sample", "--dtype", "cat[mylab.Sample]");
    const looked = await as(bob, "module", "lookup", "mylab.Sample", "S1", "S9", "--json");
    expect(looked.code).toBe(3);
    expect(JSON.parse(looked.stdout).missing.map((m: { value: string }) => m.value)).toEqual([
      "S9",
    ]);
  });

  it("refuses a module whose tables would be another's, before anything changes", async () => {
    const clash = join(work, "clash");
    await ok(alice, "module", "new", "clash");
    writeFileSync(
      join(clash, "index.js"),
      `export default { name: "clash", tablePrefix: "wetlab", registries: { Compound: { fields: { name: { type: "string" } } } } };\n`,
    );
    await ok(alice, "migrate", "create", "--module", "./clash");
    fails(await as(alice, "module", "enable", "./clash"), 4, /as module 'pertdb' does/);
    const listed = await json<{ name: string }[]>(alice, "module", "list");
    expect(listed.map((m) => m.name)).not.toContain("clash");
  });

  it("deploys a changed declaration (dry run first); a failing migration changes nothing", async () => {
    declare(`\n        tissue: { type: "string" },`);
    await ok(alice, "migrate", "create", "add_tissue", "--module", "./mylab");
    const dry = await ok(alice, "migrate", "deploy", "--dry-run");
    expect(dry.stdout).toMatch(/ALTER TABLE "mylab_sample" ADD COLUMN "tissue" varchar\(255\)/);
    expect(dry.stdout).toMatch(/dry run/);
    // nothing applied by the dry run
    fails(
      await as(alice, "module", "create", "mylab.Sample", "name=S2", "tissue=brain"),
      2,
      /tissue/,
    );
    // what the instance has, as its hub answers it
    const status = await json<{ apps: { app: string; applied: string[]; pending: string[] }[] }>(
      bob,
      "migrate",
      "status",
    );
    expect(status.apps.find((a) => a.app === "lns_mylab")).toMatchObject({
      applied: ["0000_initial"],
      pending: [],
    });
    const deployed = await json<{ changes: { module: string; applied: string[] }[] }>(
      alice,
      "migrate",
      "deploy",
    );
    expect(deployed.changes).toContainEqual(
      expect.objectContaining({ module: "mylab", applied: ["0001_add_tissue"] }),
    );
    await ok(alice, "module", "create", "mylab.Sample", "name=S2", "tissue=brain");
    expect(
      (
        await json<{ name: string; tissue: string | null }[]>(
          bob,
          "module",
          "records",
          "mylab.Sample",
        )
      ).find((s) => s.name === "S2")?.tissue,
    ).toBe("brain");

    // a required field on a registry with records: the ALTER fails, and nothing changes
    declare(
      `\n        tissue: { type: "string" },`,
      `\n        country: { type: "string", required: true },`,
    );
    await ok(alice, "migrate", "create", "add_country", "--module", "./mylab");
    const failed = await as(alice, "migrate", "deploy");
    expect(failed.code, failed.stderr).not.toBe(0);
    expect(failed.stderr).toMatch(/0002_add_country failed/);
    expect(failed.stderr).toMatch(/nothing was changed/);
    const donors = await json<Record<string, unknown>[]>(alice, "module", "records", "mylab.Donor");
    expect(donors.map((d) => d.name)).toEqual(["D1"]);
    expect(Object.keys(donors[0] ?? {})).not.toContain("country");
    // the instance still has its declaration as deployed: records work as before
    await ok(alice, "module", "create", "mylab.Sample", "name=S3", "tissue=liver");
    expect(readFileSync(join(pkg, "migrations", "0002_add_country.sql"), "utf8")).toMatch(
      /NOT NULL/,
    );
  });

  it("deploys to every instance of the hub that has the module, reporting each", async () => {
    // a second instance with the module as the package is now (country, on no records yet)
    await ok(alice, "init", slug2, "--storage", join(work, "lab2"));
    const first = await json<{ applied: string[] }[]>(alice, "module", "enable", "./mylab");
    expect(first[0]?.applied).toEqual(["0000_initial", "0001_add_tissue", "0002_add_country"]);
    declare(
      `\n        tissue: { type: "string" },`,
      `\n        country: { type: "string", required: true },\n        age: { type: "integer" },`,
    );
    await ok(alice, "migrate", "create", "add_age", "--module", "./mylab");
    type Report = {
      deployed: { instance: string; module: string; applied?: string[]; error?: string }[];
    };
    const dry = await json<Report>(alice, "migrate", "deploy", "--all-instances", "--dry-run");
    expect(dry.deployed.find((d) => d.instance === slug2)).toMatchObject({
      module: "mylab",
      applied: ["0003_add_age"],
    });
    // the first instance cannot take the required country (it has donors): it fails alone
    const r = await as(alice, "migrate", "deploy", "--all-instances", "--json");
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.deployed.find((d) => d.instance === slug2)?.applied).toEqual(["0003_add_age"]);
    expect(report.deployed.find((d) => d.instance === slug)?.error).toMatch(/failed/);
    await ok(alice, "module", "create", "mylab.Donor", "name=D2", "country=NL", "age=40");
    // a reader of the first instance deploys nothing there
    expect((await json<Report>(bob, "migrate", "deploy", "--all-instances")).deployed).toEqual([]);
    // the first one is as it was
    await ok(alice, "connect", slug);
    fails(await as(alice, "module", "create", "mylab.Donor", "name=D3", "age=40"), 2, /age/);
  });
});
