// Build dist/: the SDK (dist/index.js: our code, dependencies left to the user's node_modules),
// the CLI (dist/cli/: our code and its pure-JS dependencies in one place, so a short command
// spends no time resolving modules), and type declarations for the SDK. Runs on `npm install`
// (prepare) and before `npm test`.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
const common = {
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
  define: { __VERSION__: JSON.stringify(pkg.version) },
  chunkNames: "chunks/[name]-[hash]",
};
await build({
  ...common,
  entryPoints: { index: "sdk/index.ts" },
  outdir: "dist",
  packages: "external",
});
await build({
  ...common,
  entryPoints: { cli: "cli/main.ts" },
  outdir: "dist/cli",
  // PGlite loads its WASM and data files next to itself; pg may require an optional native addon;
  // s3rver (only `lamin dev`) reads its own files at run time
  external: ["@electric-sql/pglite", "pg", "pg-native", "s3rver"],
  // bundled CommonJS dependencies may call require()
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
});
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
  stdio: "inherit",
});
