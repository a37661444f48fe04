/**
 * The README's SDK walk-through as a script: `npx tsx examples/quickstart.ts [WORKDIR]`.
 * It creates an instance in WORKDIR (default: a new temporary folder) and prints what it does.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { init, ValidationError } from "lamindb-serverless";

const work = process.argv[2] ?? mkdtempSync(join(tmpdir(), "lamin-quickstart-"));
const ln = await init({ storage: join(work, "mydir"), name: `quickstart-${Date.now()}` });
try {
  const csv = join(work, "counts.csv");
  writeFileSync(csv, "sample,reads\ns1,1200\n");
  const { artifact, status } = await ln.artifacts.save(csv, { key: "raw/counts.csv" });
  console.log(`${status} ${artifact.key} as ${artifact.uid} (hash ${artifact.hash})`);

  writeFileSync(csv, "sample,reads\ns1,1200\ns2,800\n");
  const v2 = await ln.artifacts.save(csv, { key: "raw/counts.csv" });
  console.log(`${v2.status} ${v2.artifact.uid}`);

  const { items } = await ln.artifacts.list({ filter: { key__startswith: "raw/", size__gt: 10 } });
  console.log(`listed ${items.length}: ${items.map((a) => `${a.key}@${a.version}`).join(", ")}`);

  const history = await ln.artifacts.versions(artifact.uid);
  console.log(`versions: ${history.map((a) => a.version).join(", ")}`);

  const { path } = await ln.artifacts.load(
    { key: "raw/counts.csv" },
    { to: join(work, "downloads") },
  );
  console.log(`loaded to ${path}`);

  await ln.artifacts.delete(v2.artifact.uid);
  console.log(`latest after delete: ${(await ln.artifacts.get(artifact.uid.slice(0, 16))).uid}`);
  await ln.artifacts.restore(v2.artifact.uid);

  await ln.artifacts.save(csv, { key: "../outside.csv" }).catch((error) => {
    if (!(error instanceof ValidationError)) throw error;
    console.log(`rejected: ${error.message} (hint: ${error.hint})`);
  });
} finally {
  await ln.close();
}
