/**
 * Writes the rows of an instance made and filled by this checkout's SDK, for
 * test/parity/upgrade.test.ts: an embedded instance with bionty, data in every registry (runs
 * and their inputs, versions, a folder, collections, features and their values on artifacts and
 * runs, schemas and composites, labels, records, projects, bionty annotations and parents, a
 * storage event), every table as JSON rows. Run it in a checkout of the version to upgrade from
 * (test/fixtures/upgrade/main-37425ca.json was written at 37425ca, main before LaminDB 2.9 parity):
 *
 *   npx tsx scripts/upgrade-fixture.ts test/fixtures/upgrade/main-37425ca.json
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { sql } from "drizzle-orm";

const out = process.argv[2];
if (!out) {
  console.error("usage: npx tsx scripts/upgrade-fixture.ts path/to/fixture.json");
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), "lamin-upgrade-fixture-"));
process.env.LAMIN_HOME = join(work, "home");
process.env.LAMIN_CACHE_DIR = join(work, "cache");
delete process.env.LAMIN_INSTANCE;

const { queryRows } = await import("../core/db/client.js");
const { Ingestor } = await import("../core/ingest/ingest.js");
const { addParent, enableModules } = await import("../core/modules/index.js");
const { initInstance } = await import("../core/setup.js");

const file = (name: string, content: string) => {
  const path = join(work, "files", name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
};
const root = join(work, "storage");
const ln = await initInstance({ storage: root, name: "upgrade-fixture" });
try {
  await enableModules(ln, ["bionty"]);
  const script = (name: string) => file(name, `echo ${name}\n`);

  // features, labels with types and parents, records, projects
  for (const [name, dtype] of [
    ["temperature", "float"],
    ["n_cells", "int"],
    ["donor", "str"],
    ["batch", "cat[ULabel]"],
    ["sample", "cat[Record]"],
    ["study", "cat[Project]"],
    ["cell_type", "cat[bionty.CellType]"],
    ["cell_line", "cat[bionty.CellLine]"],
    ["tissue", "cat[bionty.Tissue]"],
    ["disease", "cat[bionty.Disease]"],
    ["organism", "cat[bionty.Organism]"],
    ["marker", "cat[bionty.Gene]"],
    ["protein", "cat[bionty.Protein]"],
    ["gene", "str"],
  ] as const) {
    await ln.features.create({ name, dtype });
  }
  const batchType = await ln.ulabels.create({ name: "Batch", is_type: true });
  await ln.ulabels.create({ name: "batch 1", type: batchType.record.uid });
  await ln.ulabels.create({ name: "batch 2", type: batchType.record.uid, parents: ["batch 1"] });
  const sampleType = await ln.records.create({ name: "Sample", is_type: true });
  await ln.records.create({ name: "s1", type: sampleType.record.uid });
  await ln.projects.create({ name: "Atlas" });
  await addParent(ln, "celltype", "CL:0000084", "CL:0000542");
  await addParent(ln, "cellline", "EFO:0002067", "EFO:0001185");

  // schemas: a feature set, a composite, and an artifact validated with it
  await ln.schemas.create({ name: "cells", features: ["donor", "cell_type"] });
  await ln.schemas.create({ name: "genes", features: ["gene"] });
  await ln.schemas.create({ name: "cells_genes", components: { obs: "cells", var: "genes" } });

  // a run makes artifacts (a file, a folder, versions) and a collection
  const first = await ln.track({ path: script("make.sh"), captureProcess: false });
  const a = await ln.artifacts.save(file("a.csv", "donor,cell_type\nd1,T cell\n"), {
    key: "data/a.csv",
    description: "first",
  });
  await ln.artifacts.save(file("a2.csv", "donor,cell_type\nd2,T cell\n"), { key: "data/a.csv" });
  const folder = join(work, "files", "set");
  file("set/obs.csv", "donor,cell_type\nd1,lymphocyte\n");
  file("set/var.csv", "gene\nCD8A\n");
  await ln.artifacts.save(folder, { key: "data/set", schema: "cells_genes" });
  const b = await ln.artifacts.save(file("b.txt", "b\n"), { key: "notes/b.txt" });
  const keyless = await ln.artifacts.save(file("c.bin", "c\n"), { description: "no key" });
  const trashed = await ln.artifacts.save(file("d.txt", "d\n"), { key: "notes/d.txt" });
  await ln.artifacts.delete(trashed.artifact.uid);
  await ln.collections.create({
    key: "sets/ab",
    artifacts: [a.artifact.uid, b.artifact.uid],
    description: "a and b",
  });
  await ln.annotations.of("run", first.run.uid).add({
    temperature: 21.5,
    batch: "batch 1",
    sample: "s1",
    study: "Atlas",
  });
  await ln.finish();

  // another run reads them and saves one again (inputs, recreating runs)
  const second = await ln.track({ path: script("read.sh"), captureProcess: false });
  await ln.artifacts.load(b.artifact.uid, { to: join(work, "loaded") });
  await ln.collections.load({ key: "sets/ab" }, { to: join(work, "loaded-set") });
  await ln.artifacts.save(file("c-again.bin", "c\n"), { description: "no key" });
  await ln.collections.create({ key: "sets/ab", artifacts: [a.artifact.uid, b.artifact.uid] });
  await ln.finish();
  void second;

  // feature values of artifacts: json values, labels, records, projects, bionty records
  await ln.artifacts.features(a.artifact.uid).add({
    temperature: 37.5,
    n_cells: 1200,
    donor: "d1",
    batch: ["batch 1", "batch 2"],
    sample: "s1",
    study: "Atlas",
    cell_type: ["T cell", "lymphocyte"],
  });
  await ln.artifacts.features(keyless.artifact.uid).add({
    temperature: 37.5,
    batch: "batch 2",
    cell_line: "HeLa",
    tissue: "tissue",
    disease: "cancer",
    organism: "human",
    marker: "CD8A",
    protein: "T-cell surface glycoprotein CD4",
  });

  // a storage event: an object written into the storage folder
  file("placed.txt", "placed\n");
  mkdirSync(join(root, "events"), { recursive: true });
  writeFileSync(join(root, "events", "placed.txt"), "placed\n");
  await new Ingestor(ln).apply({
    type: "created",
    bucket: "",
    key: "events/placed.txt",
    sequencer: "00000000000000000000000000000001",
    name: "fixture",
  });

  const tables = await queryRows<{ name: string }>(
    ln.db,
    sql`SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const rows: Record<string, unknown[]> = {};
  for (const { name } of tables) {
    const [r] = await queryRows<{ rows: unknown[] }>(
      ln.db,
      sql`SELECT coalesce(json_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text), '[]'::json) AS rows
        FROM ${sql.identifier(name)} t`,
    );
    rows[name] = r?.rows ?? [];
  }
  const target = resolve(out);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, `${JSON.stringify({ tables: rows }, null, 1)}\n`);
  const counts = Object.entries(rows).map(([t, r]) => `${t} ${r.length}`);
  console.log(`wrote ${target}\n${counts.join("\n")}`);
} finally {
  await ln.close();
  rmSync(work, { recursive: true, force: true });
}
