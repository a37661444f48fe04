// Build dist/: the SDK (dist/index.js: our code, dependencies left to the user's node_modules),
// the CLI (dist/cli/: our code and its pure-JS dependencies in one place, so a short command
// spends no time resolving modules), type declarations for the SDK, and the web UI (dist/web/,
// built by Vite from web/). Runs on `npm install`
// (prepare) and before `npm test`.
//
// A build whose inputs (sources, configs, lockfile, this script) hash to the stamp left by the
// last build is skipped: `npm ci` already built, so `npm test` right after need not spend ~13 s
// again. `--force` (or LAMIN_BUILD_FORCE=1) builds anyway.
// The new dist/ is built beside the old one and swapped in with renames, so `lamin` processes
// started meanwhile (other test runs in the same tree) never find dist/ half-written or missing.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { FIRST_LOAD_BUDGET, firstLoadJs } from "./web-size.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const STAMP = ".build-stamp";
const force = process.argv.includes("--force") || process.env.LAMIN_BUILD_FORCE === "1";

/** A hash of everything the build reads from this repository (node_modules via the lockfile). */
function inputsHash() {
  const h = createHash("sha256");
  const add = (rel) => {
    h.update(`\0${rel}\0`);
    h.update(readFileSync(join(root, rel)));
  };
  const walk = (rel) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) add(path);
    }
  };
  for (const dir of ["cli", "core", "functions", "sdk", "web"]) walk(dir);
  for (const file of [
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "tsconfig.build.json",
    "scripts/build.mjs",
  ]) {
    if (existsSync(join(root, file))) add(file);
  }
  h.update(process.version); // another Node may mean another esbuild/tsc binary
  return h.digest("hex");
}

function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

const hash = inputsHash();
const outputs = ["cli/cli.js", "index.js", "types/sdk/index.d.ts", "web/index.html", STAMP];
if (
  !force &&
  outputs.every((f) => existsSync(join(dist, f))) &&
  readFileSync(join(dist, STAMP), "utf8").trim() === hash
) {
  console.log("dist/ is up to date with the sources (node scripts/build.mjs --force rebuilds)");
  process.exit(0);
}

// folders left by a build that was killed (its process is gone)
for (const name of readdirSync(root)) {
  const pid = /^dist\.(?:tmp|old)-(\d+)$/.exec(name)?.[1];
  if (pid && !isRunning(Number(pid))) rmSync(join(root, name), { recursive: true, force: true });
}

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const out = join(root, `dist.tmp-${process.pid}`);
rmSync(out, { recursive: true, force: true });
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
try {
  // the declarations (tsc, a separate process) build while esbuild bundles
  await Promise.all([
    promisify(execFile)(
      process.execPath,
      [
        join(root, "node_modules/typescript/bin/tsc"),
        "-p",
        join(root, "tsconfig.build.json"),
        "--outDir",
        join(out, "types"),
      ],
      { cwd: root, maxBuffer: 64 * 1024 * 1024 },
    ).catch((e) => {
      process.stdout.write(e.stdout ?? "");
      process.stderr.write(e.stderr ?? "");
      throw new Error("tsc -p tsconfig.build.json failed");
    }),
    build({
      ...common,
      entryPoints: { index: join(root, "sdk/index.ts") },
      outdir: out,
      packages: "external",
    }),
    build({
      ...common,
      entryPoints: { cli: join(root, "cli/main.ts") },
      outdir: join(out, "cli"),
      // every command parses what it loads (~1.4 MB with PGlite's own) before its first query:
      // without comments and indentation there is less to read and scan (names stay: stack
      // traces and error classes read as in the sources, and the source maps point there)
      minifyWhitespace: true,
      minifySyntax: true,
      // PGlite loads its WASM and data files next to itself; pg may require an optional native
      // addon; s3rver (only `lamin dev`) reads its own files at run time
      external: ["@electric-sql/pglite", "pg", "pg-native", "s3rver"],
      // bundled CommonJS dependencies may call require()
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    }),
    // the web UI (web/, Vite): hashed files in dist/web/, served at /ui/ by the servers
    import("vite").then(({ build: vite }) =>
      vite({
        configFile: join(root, "web", "vite.config.ts"),
        build: { outDir: join(out, "web"), emptyOutDir: true },
        logLevel: "warn",
      }),
    ),
  ]);
  const web = firstLoadJs(join(out, "web"));
  console.log(
    `web UI: first load ${(web.gzip / 1024).toFixed(1)} KiB of JS gzipped (budget ${FIRST_LOAD_BUDGET / 1024} KiB)`,
  );
  if (web.gzip > FIRST_LOAD_BUDGET) throw new Error("the web UI's first load is over its budget");
  writeFileSync(join(out, STAMP), `${hash}\n`);
  const old = join(root, `dist.old-${process.pid}`);
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(out, dist);
  rmSync(old, { recursive: true, force: true });
} catch (e) {
  rmSync(out, { recursive: true, force: true });
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
