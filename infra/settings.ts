/**
 * The numbers of the deployment, in one place: the functions' sizes and time limits and the
 * queue's, which depend on each other. Plain values (no SST globals), so the tests read the
 * same constants the infrastructure is built from.
 */

/** Lambda runtime of every function (Node 20 is past its end of life on Lambda). */
export const RUNTIME = "nodejs22.x";
/** Graviton: cheaper per GB-second than x86_64, and the bundles are plain JavaScript. */
export const ARCHITECTURE = "arm64";

/** Time limit of the ingest function, in seconds. */
export const INGEST_TIMEOUT_SECONDS = 60;

/**
 * How long a message stays hidden once the ingest function took it. AWS advises at least six
 * times the function's timeout, so a batch that is retried by the event source mapping is not
 * handed to a second function while the first still works on it.
 */
export const INGEST_VISIBILITY_SECONDS = 6 * INGEST_TIMEOUT_SECONDS;

/** Deliveries of an event before it goes to the dead-letter queue. */
export const INGEST_MAX_RECEIVES = 5;

/** How long failed events stay in the dead-letter queue (the SQS maximum: 14 days). */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 60 * 60;

/** Events handed to one ingest invocation, and how long to wait to fill a batch. */
export const INGEST_BATCH = { size: 10, windowSeconds: 5 } as const;

/**
 * At most this many ingest functions run at once (the event source mapping's maximum
 * concurrency): every one holds database connections, and a Neon compute accepts a bounded
 * number of them.
 */
export const INGEST_MAX_CONCURRENCY = 10;

/** The API: time limit (seconds) and memory (MB). */
export const API_TIMEOUT_SECONDS = 30;
export const API_MEMORY_MB = 1024;

/** Memory of the ingest function (MB): it hashes objects of up to 100 MiB as they stream by. */
export const INGEST_MEMORY_MB = 1024;

/** The scheduled reconcile: it lists the instances and hands each to a worker. */
export const RECONCILE_TIMEOUT_SECONDS = 60;
export const RECONCILE_MEMORY_MB = 512;
/** One instance's reconcile, which lists its storage: Lambda's longest run (15 minutes). */
export const RECONCILE_WORKER_TIMEOUT_SECONDS = 15 * 60;
export const RECONCILE_WORKER_MEMORY_MB = 1024;
/** When the reconcile runs. */
export const RECONCILE_SCHEDULE = "rate(1 day)";
/** Retries of a failed scheduled run (EventBridge Scheduler; reconcile is idempotent). */
export const RECONCILE_RETRIES = 2;

/** Incomplete multipart uploads are aborted (and their parts deleted) after this many days. */
export const ABORT_INCOMPLETE_UPLOADS_DAYS = 7;

/** S3 events that reach the ingest queue: an object appeared (or changed), or vanished. */
export const STORAGE_EVENTS = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"] as const;

/** The stage whose data outlives `sst remove`. */
export const PRODUCTION_STAGE = "production";

/**
 * Each function's prebuilt bundle (a name of `LAMBDA_ENTRIES` in scripts/bundle-lambda.mjs) and
 * the folder it is deployed from, `<root>/<folder>/index.mjs`. No two functions share a folder:
 * SST writes each function's links (`resource.enc`) into its bundle folder, so Reconcile and
 * ReconcileWorker, which link different things, each get their own copy of `reconcile`.
 */
export const FUNCTION_BUNDLES = {
  Api: { bundle: "hub", folder: "hub" },
  Ingest: { bundle: "ingest", folder: "ingest" },
  ReconcileWorker: { bundle: "reconcile", folder: "reconcile-worker" },
  Reconcile: { bundle: "reconcile", folder: "reconcile" },
} as const;
export type FunctionName = keyof typeof FUNCTION_BUNDLES;

/** Where the bundles go, relative to the repository (what `sst deploy` zips). */
export const DEFAULT_BUNDLE_ROOT = ".build/lambda";

/**
 * Environment variable that puts the bundles elsewhere (tests use a temporary folder so they
 * never overwrite `.build/lambda` under another test).
 */
export const BUNDLE_ROOT_ENV = "LAMIN_LAMBDA_OUT_ROOT";
