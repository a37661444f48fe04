/**
 * The stage's Lambda functions, each from its prebuilt bundle:
 *
 * - Api: the hub and every instance of the stage (`/instances/{owner}/{name}/...`), behind a
 *   Function URL.
 * - Ingest: registers the objects the bucket's events name (from the ingest queue).
 * - Reconcile: run daily; lists the instances and hands each one to ReconcileWorker, which
 *   compares one instance's storage with its registry (up to Lambda's 15 minutes).
 *
 * Every function reads the database and storage through SST links (the secrets and the
 * bucket) and runs on Node 22, arm64.
 */
import type { PrebuiltBundle } from "./bundles.js";
import type { Secrets } from "./secrets.js";
import {
  API_MEMORY_MB,
  API_TIMEOUT_SECONDS,
  ARCHITECTURE,
  type FunctionName,
  INGEST_MEMORY_MB,
  INGEST_TIMEOUT_SECONDS,
  RECONCILE_MEMORY_MB,
  RECONCILE_RETRIES,
  RECONCILE_SCHEDULE,
  RECONCILE_TIMEOUT_SECONDS,
  RECONCILE_WORKER_MEMORY_MB,
  RECONCILE_WORKER_TIMEOUT_SECONDS,
  RUNTIME,
} from "./settings.js";

export interface FunctionInputs {
  secrets: Secrets;
  bucket: sst.aws.Bucket;
  queue: sst.aws.Queue;
  bundles: Record<FunctionName, PrebuiltBundle>;
}

export function functions({ secrets, bucket, queue, bundles }: FunctionInputs) {
  /** A function from a prebuilt bundle, with what every function shares. */
  function lambda(
    name: FunctionName,
    args: Omit<
      sst.aws.FunctionArgs,
      "handler" | "bundle" | "link" | "runtime" | "architecture" | "environment"
    >,
    moreLinks: unknown[] = [],
  ) {
    return new sst.aws.Function(name, {
      ...bundles[name],
      runtime: RUNTIME,
      architecture: ARCHITECTURE,
      link: [secrets.databaseUrl, secrets.neonApiKey, secrets.neonProjectId, bucket, ...moreLinks],
      environment: { LAMIN_DB_DRIVER: "neon", LAMIN_STAGE: $app.stage },
      ...args,
    });
  }

  const api = lambda("Api", {
    url: true,
    timeout: `${API_TIMEOUT_SECONDS} seconds`,
    memory: `${API_MEMORY_MB} MB`,
  });

  const ingest = lambda("Ingest", {
    timeout: `${INGEST_TIMEOUT_SECONDS} seconds`,
    memory: `${INGEST_MEMORY_MB} MB`,
    // subscribed by ARN (queue.ts), so SST does not add the consumer's rights itself
    permissions: [
      {
        actions: [
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sqs:GetQueueUrl",
          "sqs:ReceiveMessage",
        ],
        resources: [queue.arn],
      },
    ],
  });

  const reconcileWorker = lambda("ReconcileWorker", {
    timeout: `${RECONCILE_WORKER_TIMEOUT_SECONDS} seconds`,
    memory: `${RECONCILE_WORKER_MEMORY_MB} MB`,
  });

  // linking the worker grants lambda:InvokeFunction on it and gives the code its name
  const reconcile = lambda(
    "Reconcile",
    { timeout: `${RECONCILE_TIMEOUT_SECONDS} seconds`, memory: `${RECONCILE_MEMORY_MB} MB` },
    [reconcileWorker],
  );

  const schedule = new sst.aws.CronV2("ReconcileSchedule", {
    schedule: RECONCILE_SCHEDULE,
    function: reconcile,
    retries: RECONCILE_RETRIES,
  });

  return { api, ingest, reconcile, reconcileWorker, schedule };
}
