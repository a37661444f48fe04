// Types of scripts/bundle-lambda.mjs, for the TypeScript that imports it (tests, benchmarks).

export declare const REPO: string;

/** Every Lambda function: its name (the folder under .build/lambda/) and its entry. */
export declare const LAMBDA_ENTRIES: Readonly<Record<string, string>>;
export declare const LAMBDA_BUILD_OPTIONS: import("esbuild").BuildOptions;

/** Inputs that belong to the local tools only and must never reach a Lambda. */
export declare const LOCAL_ONLY: readonly { pattern: RegExp; why: string }[];

export interface LambdaBundle {
  name: string;
  /** The entry, relative to the repository. */
  entry: string;
  /** The bundle: `<outRoot>/<name>/index.mjs`. */
  outfile: string;
  /** esbuild's metafile, next to the bundle. */
  metafile: string;
  /** Size of the bundle. */
  bytes: number;
  /** Every input esbuild read, relative to the repository (node_modules/... for packages). */
  inputs: string[];
  /** Bytes each package or repository folder adds to the output, largest first. */
  contributions: { owner: string; bytes: number }[];
}

export declare function localOnlyInputs(
  inputs: readonly string[],
): { input: string; why: string }[];

export declare function bundleLambda(
  name: string,
  opts?: { outRoot?: string },
): Promise<LambdaBundle>;

export declare function bundleLambdas(
  names?: readonly string[],
  opts?: { outRoot?: string },
): Promise<LambdaBundle[]>;
