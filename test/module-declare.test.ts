/**
 * Module declarations as data: what checkDeclaration refuses (every field of a hostile or
 * mistaken package), and the SQL the migration writer derives from two declarations.
 */
import { describe, expect, it } from "vitest";
import { diffTables } from "../core/modules/ddl.js";
import {
  checkDeclaration,
  type ModuleDeclaration,
  pgName,
  requiredModules,
  tablesOf,
} from "../core/modules/declare.js";

const base = (): ModuleDeclaration => ({
  name: "mylab",
  registries: {
    Sample: {
      fields: { name: { type: "string", required: true }, weight: { type: "float" } },
      links: ["artifacts"],
    },
  },
});

const refused = (decl: unknown, message: RegExp) =>
  expect(() => checkDeclaration(decl, "index.js")).toThrow(message);

describe("checkDeclaration", () => {
  it("accepts the scaffold's shape", () => {
    expect(checkDeclaration(base()).name).toBe("mylab");
  });

  it("refuses names that would reach into SQL or shadow the core", () => {
    refused(null, /declares no module/);
    refused({ ...base(), name: 'x"; DROP TABLE lamindb_artifact; --' }, /invalid module name/);
    refused({ ...base(), name: "lamindb" }, /taken by LaminDB's core/);
    refused({ ...base(), name: "django" }, /taken by LaminDB's core/);
    refused({ ...base(), name: "My_Lab" }, /invalid module name/);
    refused({ ...base(), tablePrefix: "lamindb" }, /taken by LaminDB's core/);
    refused(
      { name: "mylab", registries: { 'Sample"': { fields: { name: { type: "string" } } } } },
      /registry name/,
    );
    refused(
      {
        name: "mylab",
        registries: { Sample: { fields: { 'name" text); --': { type: "string" } } } },
      },
      /the field/,
    );
    refused(
      { name: "mylab", registries: { Sample: { fields: { id: { type: "string" } } } } },
      /the field 'Sample.id'/,
    );
    refused(
      { name: "mylab", registries: { Sample: { fields: { name: { type: "varchar" } } } } },
      /without a valid type/,
    );
  });

  it("refuses what would make a broken schema", () => {
    refused({ name: "mylab", registries: {} }, /no registries/);
    refused({ name: "mylab", registries: { Sample: { fields: {} } } }, /without fields/);
    refused(
      { name: "mylab", registries: { Sample: { fields: { label: { type: "string" } } } } },
      /without a name field/,
    );
    refused(
      { name: "mylab", registries: { Sample: { fields: { name: { type: "string", max: 0 } } } } },
      /max 0/,
    );
    refused(
      {
        name: "mylab",
        registries: {
          Sample: {
            fields: { name: { type: "string" }, donor: { type: "ref", to: "lamindb_user" } },
          },
        },
      },
      /pointing to "lamindb_user"/,
    );
    refused(
      {
        name: "mylab",
        registries: {
          Sample: {
            fields: {
              name: { type: "string" },
              a: { type: "ref", to: "Sample" },
              a_id: { type: "integer" },
            },
          },
        },
      },
      /two fields of Sample on the column a_id/,
    );
    refused(
      { ...base(), registries: { Sample: { ...base().registries.Sample, links: ["runs"] } } },
      /links/,
    );
    refused(
      {
        name: "mylab",
        registries: {
          Sample: { fields: { name: { type: "string" } } },
          SAMPLE: { fields: { name: { type: "string" } } },
        },
      },
      /share the table mylab_sample/,
    );
  });
});

describe("links into another module, durations, seeds", () => {
  const linked = (): ModuleDeclaration => ({
    name: "mylab",
    registries: {
      Sample: {
        fields: {
          name: { type: "string", required: true },
          source: { type: "ref", to: "bionty.Source" },
          genes: { type: "many", to: "bionty.Gene" },
          incubation: { type: "duration" },
        },
        seed: [{ name: "reference", incubation: "PT2H" }],
      },
    },
  });

  it("points a ref and a many field at another module's tables, a duration at interval", () => {
    const decl = checkDeclaration(linked());
    const tables = tablesOf(decl);
    const sample = tables.find((t) => t.name === "mylab_sample");
    expect(sample?.columns.find((c) => c.name === "source_id")).toMatchObject({
      type: "integer",
      references: { table: "bionty_source", column: "id" },
    });
    expect(sample?.columns.find((c) => c.name === "incubation")?.type).toBe("interval");
    const genes = tables.find((t) => t.name === "mylab_sample_genes");
    expect(genes?.columns.map((c) => c.name)).toEqual(["id", "sample_id", "gene_id"]);
    expect(genes?.columns[2]?.references?.table).toBe("bionty_gene");
    expect([...requiredModules(decl).entries()]).toEqual([
      ["bionty", new Set(["bionty_source", "bionty_gene"])],
    ]);
  });

  it("refuses a target in no module, in itself, or hostile; seed rows of unknown fields or refs", () => {
    const field = (to: unknown) => ({
      name: "mylab",
      registries: { Sample: { fields: { name: { type: "string" }, x: { type: "ref", to } } } },
    });
    refused(field("bionty.gene"), /pointing to "bionty.gene"/);
    refused(field("mylab.Sample"), /pointing to "mylab.Sample"/);
    refused(field('bionty.Gene"; DROP TABLE x; --'), /pointing to/);
    refused(field("lamindb.Artifact"), /pointing to "lamindb.Artifact"/);
    refused(field("Bionty.Gene"), /pointing to/);
    const seeded = (seed: unknown) => {
      const d = linked() as unknown as { registries: { Sample: { seed: unknown } } };
      d.registries.Sample.seed = seed;
      return d;
    };
    refused(seeded({ name: "x" }), /Sample.seed that is not a list/);
    refused(seeded([{ nope: 1 }]), /Sample.seed\[0\].nope/);
    refused(seeded([{ name: "x", source: "s" }]), /Sample.seed\[0\].source/);
    refused(seeded([{ name: { $gt: 1 } }]), /Sample.seed\[0\].name = \{"\$gt":1\}/);
  });
});

describe("the migration writer", () => {
  it("creates tables, their keys to the core, and unique link rows", () => {
    const sql = diffTables([], tablesOf(base())).join(";\n");
    expect(sql).toContain('CREATE TABLE "mylab_sample"');
    expect(sql).toContain('CREATE TABLE "mylab_artifactsample"');
    expect(sql).toContain('REFERENCES "lamindb_user"("id")');
    expect(sql).toContain('CREATE UNIQUE INDEX "mylab_artifactsample_with_feature"');
    expect(diffTables(tablesOf(base()), tablesOf(base()))).toEqual([]);
  });

  it("adds, alters and drops columns; a rename is a drop and an add, said in a comment", () => {
    const next = base();
    const sample = next.registries.Sample as NonNullable<ModuleDeclaration["registries"][string]>;
    sample.fields = {
      name: { type: "string", max: 100, required: true },
      mass: { type: "float" },
      batch: { type: "integer", unique: true },
    };
    const statements = diffTables(tablesOf(base()), tablesOf(next));
    expect(statements).toContain(
      'ALTER TABLE "mylab_sample" ALTER COLUMN "name" SET DATA TYPE varchar(100) USING "name"::varchar(100)',
    );
    expect(
      statements.some(
        (s) => s.includes('DROP COLUMN "weight"') && s.includes("a rename is a drop and an add"),
      ),
    ).toBe(true);
    expect(statements).toContain('ALTER TABLE "mylab_sample" ADD COLUMN "mass" double precision');
    expect(statements).toContain(
      'CREATE UNIQUE INDEX "mylab_sample_batch_key" ON "mylab_sample" ("batch")',
    );
  });

  it("drops a registry no longer declared, with its link table, keys first", () => {
    const two = base();
    two.registries.Donor = { fields: { name: { type: "string" } } };
    (two.registries.Sample as { fields: Record<string, unknown> }).fields.donor = {
      type: "ref",
      to: "Donor",
    };
    const statements = diffTables(tablesOf(two), tablesOf(base()));
    const dropKey = statements.findIndex((s) =>
      s.includes('DROP CONSTRAINT IF EXISTS "mylab_sample_donor_id'),
    );
    const dropTable = statements.findIndex((s) => s.includes('DROP TABLE "mylab_donor"'));
    expect(dropKey).toBeGreaterThanOrEqual(0);
    expect(dropTable).toBeGreaterThan(dropKey);
  });

  it("keeps identifiers within Postgres' 63 bytes, distinct", () => {
    const a = pgName(`${"x".repeat(60)}_first_fk`);
    const b = pgName(`${"x".repeat(60)}_second_fk`);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(pgName("short")).toBe("short");
  });
});
