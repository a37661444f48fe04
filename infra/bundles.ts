/**
 * The Lambda bundles that `sst deploy` ships: built by `scripts/bundle-lambda.mjs` (the same
 * builder the bundle tests run) into `<root>/<name>/index.mjs`, and handed to SST as prebuilt
 * folders (`bundle` + `handler`), so SST does not bundle the functions a second time.
 */
import { cpSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  BUNDLE_ROOT_ENV,
  DEFAULT_BUNDLE_ROOT,
  FUNCTION_BUNDLES,
  type FunctionName,
} from "./settings.js";

type BundleScript = typeof import("../scripts/bundle-lambda.mjs");

/** What a function needs to use a prebuilt bundle: the folder SST zips and the handler in it. */
export interface PrebuiltBundle {
  bundle: string;
  handler: string;
}

/** The folder holding every bundle: `.build/lambda`, unless LAMIN_LAMBDA_OUT_ROOT says otherwise. */
export function bundleRoot(): string {
  return process.env[BUNDLE_ROOT_ENV] || DEFAULT_BUNDLE_ROOT;
}

/**
 * Build the bundles (each once, one after the other), give every function its own folder
 * (a byte-for-byte copy where two functions run the same bundle), and return where each
 * function's folder is. Fails, and with it the deploy, when a bundle does not build.
 */
export async function buildBundles(): Promise<Record<FunctionName, PrebuiltBundle>> {
  const root = bundleRoot();
  // Imported from its file at run time, not through a literal import: SST bundles sst.config.ts
  // and what it imports into .sst/platform/, where the script would find the repository (and
  // esbuild) relative to the wrong folder.
  const script = pathToFileURL(resolve("scripts", "bundle-lambda.mjs")).href;
  const { bundleLambda } = (await import(script)) as BundleScript;
  const built = new Map<string, string>();
  for (const { bundle } of Object.values(FUNCTION_BUNDLES)) {
    if (!built.has(bundle)) {
      built.set(bundle, (await bundleLambda(bundle, { outRoot: resolve(root) })).outfile);
    }
  }
  const folders = {} as Record<FunctionName, PrebuiltBundle>;
  for (const [fn, { bundle, folder }] of Object.entries(FUNCTION_BUNDLES)) {
    const dir = join(root, folder);
    if (folder !== bundle) {
      rmSync(dir, { recursive: true, force: true });
      // the whole folder (the code and its migrations), but not the other function's links
      cpSync(dirname(built.get(bundle) as string), dir, {
        recursive: true,
        filter: (src) => basename(src) !== "resource.enc",
      });
    }
    folders[fn as FunctionName] = { bundle: dir, handler: "index.handler" };
  }
  return folders;
}
