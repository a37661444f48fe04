// `npm run bench`: run every bench/*.ts in turn with tsx, output streamed as it comes.
// `npm run bench -- save startup` runs only the benchmarks whose names are given.
// Exits non-zero when a benchmark fails (the others still run) or a named one does not exist.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;
if (!existsSync(tsx)) {
  console.error("error: node_modules/.bin/tsx is missing\nhint: run `npm install` first");
  process.exit(1);
}

const all = readdirSync(`${root}bench`)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2).map((a) => a.replace(/^bench\//, "").replace(/\.ts$/, ""));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(
    `error: no benchmark named ${unknown.join(", ")}\nhint: choose from ${all.join(", ")}`,
  );
  process.exit(2);
}
const names = wanted.length > 0 ? wanted : all;
if (names.length === 0) {
  console.error("error: bench/ holds no *.ts benchmark");
  process.exit(1);
}
if (!process.env.DATABASE_URL) {
  console.log("note: DATABASE_URL is not set, so the Postgres parts are skipped\n");
}

const failed = [];
for (const name of names) {
  console.log(`=== bench/${name}.ts`);
  const t0 = performance.now();
  const r = spawnSync(tsx, [`bench/${name}.ts`], { cwd: root, stdio: "inherit" });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    console.log(`=== bench/${name}.ts FAILED (${why}) after ${seconds} s\n`);
    failed.push(name);
  } else {
    console.log(`=== bench/${name}.ts done in ${seconds} s\n`);
  }
}
if (failed.length > 0) {
  console.error(`${failed.length} of ${names.length} benchmarks failed: ${failed.join(", ")}`);
  process.exit(1);
}
