// Bundle the Lambda functions with esbuild: one self-contained ESM file per function,
// `.build/lambda/<name>/index.mjs`, next to its esbuild metafile (`meta.json`) and a copy of
// the SQL migrations (`migrations/`): the folder is what a deploy ships. Everything is
// bundled except `@aws-sdk/*`, which the Lambda Node.js runtime provides.
// Used by `node scripts/bundle.mjs`, test/bundle.test.ts and bench/api.ts.
import { cpSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const REPO = fileURLToPath(new URL("..", import.meta.url));

/** Every Lambda function: its name (the folder under .build/lambda/) and its entry. */
export const LAMBDA_ENTRIES = {
  /** one instance's API (self-hosted on Lambda) */
  api: "functions/api/lambda.ts",
  /** a deployed stage's API: the hub and all its instances */
  hub: "functions/hub/lambda.ts",
  ingest: "functions/ingest/lambda.ts",
  /** the scheduled reconcile and its per-instance worker */
  reconcile: "functions/reconcile/lambda.ts",
};

/** Functions that serve the web UI (api/web.ts). */
const WEB_FUNCTIONS = new Set(["api", "hub"]);

/**
 * CommonJS dependencies (pg and its helpers) call `require("events")` and the like. In an ESM
 * bundle esbuild turns those into a shim that throws "Dynamic require ... is not supported"
 * unless a `require` is in scope, so the bundle defines one. (`node -e` hides the problem: its
 * eval scope has a global `require`, the Lambda runtime does not.)
 */
const REQUIRE_BANNER =
  'import{createRequire as __lambdaCreateRequire}from"node:module";const require=__lambdaCreateRequire(import.meta.url);';

/**
 * zod's `z.locales` re-exports its 40-odd error-message locales as a namespace, which esbuild
 * cannot tree-shake: ~255 KiB of a function's bundle that nothing here uses (messages are
 * English, zod's default, which its schemas register themselves). Functions get `en` only.
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), "..", "locales", "en.js"), namespace: "zod-en" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "zod-en" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

/** How every function is built (benchmarks build their baselines the same way). */
export const LAMBDA_BUILD_OPTIONS = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  minify: true,
  external: ["@aws-sdk/*"],
  banner: { js: REQUIRE_BANNER },
  plugins: [zodEnglishOnly],
};

/**
 * Inputs that belong to the local tools only and must never reach a Lambda: the embedded
 * database, the CLI, local instance setup. `scripts/bundle.mjs` refuses bundles that hold one.
 */
export const LOCAL_ONLY = [
  { pattern: /node_modules\/@electric-sql\/pglite\//, why: "PGlite (embedded database)" },
  { pattern: /(^|\/)core\/db\/pglite[^/]*\.ts$/, why: "the PGlite driver" },
  { pattern: /(^|\/)core\/setup\.ts$/, why: "local instance setup" },
  { pattern: /^cli\//, why: "the CLI" },
  { pattern: /node_modules\/commander\//, why: "the CLI's argument parser" },
];

/** The inputs of a bundle that are local-only, with the reason. */
export function localOnlyInputs(inputs) {
  const hits = [];
  for (const input of inputs) {
    const rule = LOCAL_ONLY.find((r) => r.pattern.test(input));
    if (rule) hits.push({ input, why: rule.why });
  }
  return hits;
}

/** The package (or repository folder) an input path belongs to. */
function ownerOf(input) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (pkg) return pkg[1];
  const parts = input.split("/");
  return parts.length > 2 ? `${parts.slice(0, 2).join("/")}/` : input;
}

/**
 * Bundle one Lambda function.
 *
 * @param {string} name a key of LAMBDA_ENTRIES
 * @param {{ outRoot?: string }} [opts] where the bundles go (default `<repo>/.build/lambda`)
 * @returns {Promise<{ name: string, entry: string, outfile: string, metafile: string,
 *   bytes: number, inputs: string[], contributions: { owner: string, bytes: number }[] }>}
 *   `inputs` are the metafile's input paths relative to the repository; `contributions` are the
 *   bytes each package or folder adds to the output, largest first.
 */
export async function bundleLambda(name, opts = {}) {
  const entry = LAMBDA_ENTRIES[name];
  if (!entry) {
    throw new Error(
      `no Lambda function named '${name}' (known: ${Object.keys(LAMBDA_ENTRIES).join(", ")})`,
    );
  }
  const outdir = join(resolve(opts.outRoot ?? join(REPO, ".build", "lambda")), name);
  const outfile = join(outdir, "index.mjs");
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: [entry],
    outfile,
    ...LAMBDA_BUILD_OPTIONS,
    metafile: true,
    logLevel: "warning",
  });
  // the hub and instances are migrated from the SQL files (core/db/migrate.ts finds
  // `migrations/` beside the bundle): they ship with every function
  // (the journal and the SQL; drizzle-kit's snapshots are for generating, not applying)
  cpSync(join(REPO, "migrations"), join(outdir, "migrations"), {
    recursive: true,
    filter: (src) => !/_snapshot\.json$/.test(src),
  });
  // module packages shipped with this package (pertdb): a server enables them by name, loading
  // their declarations and migrations from here (core/modules/external.ts shippedModuleFolder)
  cpSync(join(REPO, "modules"), join(outdir, "modules"), {
    recursive: true,
    filter: (src) => !/(tsconfig\.json|node_modules)$/.test(src),
  });
  // the web UI's built files (dist/web, from `npm run build`) ship beside the functions that
  // serve it, read from the function's disk: in the package, not in the JS bundle
  if (WEB_FUNCTIONS.has(name) && existsSync(join(REPO, "dist", "web", "index.html"))) {
    cpSync(join(REPO, "dist", "web"), join(outdir, "web"), { recursive: true });
  }
  const metafile = join(outdir, "meta.json");
  writeFileSync(metafile, JSON.stringify(result.metafile));
  const output = Object.values(result.metafile.outputs)[0];
  const perOwner = new Map();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const owner = ownerOf(input);
    perOwner.set(owner, (perOwner.get(owner) ?? 0) + bytesInOutput);
  }
  return {
    name,
    entry,
    outfile,
    metafile,
    bytes: statSync(outfile).size,
    inputs: Object.keys(result.metafile.inputs),
    contributions: [...perOwner]
      .map(([owner, bytes]) => ({ owner, bytes }))
      .sort((a, b) => b.bytes - a.bytes),
  };
}

/** Bundle every Lambda function (or those named), one after the other. */
export async function bundleLambdas(names = Object.keys(LAMBDA_ENTRIES), opts = {}) {
  const bundles = [];
  for (const name of names) bundles.push(await bundleLambda(name, opts));
  return bundles;
}
