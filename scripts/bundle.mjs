// `node scripts/bundle.mjs [name ...]`: bundle the Lambda functions into .build/lambda/<name>/
// (see scripts/bundle-lambda.mjs) and print their sizes and largest parts. Exits non-zero when a
// bundle fails or pulls in local-only code (PGlite, the CLI, local setup).
import { relative } from "node:path";
import { bundleLambdas, LAMBDA_ENTRIES, localOnlyInputs, REPO } from "./bundle-lambda.mjs";

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in LAMBDA_ENTRIES));
if (unknown.length > 0) {
  console.error(
    `error: no Lambda function named ${unknown.join(", ")}\nhint: choose from ${Object.keys(LAMBDA_ENTRIES).join(", ")}`,
  );
  process.exit(2);
}

let failed = false;
for (const bundle of await bundleLambdas(names.length > 0 ? names : undefined)) {
  console.log(
    `${bundle.name}: ${relative(REPO, bundle.outfile)} ${kib(bundle.bytes)} (${bundle.inputs.length} inputs; metafile ${relative(REPO, bundle.metafile)})`,
  );
  for (const { owner, bytes } of bundle.contributions.slice(0, 8)) {
    console.log(`  ${owner.padEnd(36)} ${kib(bytes).padStart(11)}`);
  }
  const local = localOnlyInputs(bundle.inputs);
  if (local.length > 0) {
    failed = true;
    console.error(`error: the ${bundle.name} bundle pulls in local-only code:`);
    for (const { input, why } of local.slice(0, 10)) console.error(`  ${input} (${why})`);
    console.error("hint: import the Postgres driver and core modules directly, not core/index.ts");
  }
}
if (failed) process.exit(1);
