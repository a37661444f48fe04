/**
 * What the functions of a deployed stage (sst.config.ts) need, read once per container: from
 * SST's links in Lambda (`Resource.DatabaseUrl.value`, `Resource.Storage.name`, ...), else from
 * the environment, so the same handlers run under tests, benchmarks and `sst dev` alike.
 *
 * | link (sst.config.ts)  | environment fallback       | meaning                                  |
 * |-----------------------|----------------------------|------------------------------------------|
 * | DatabaseUrl.value     | DATABASE_URL               | the hub database (instances: same server)|
 * | Storage.name          | LAMIN_STORAGE_BUCKET       | the stage's bucket: instances' storage   |
 * | NeonApiKey.value      | NEON_API_KEY               | optional: instance databases via Neon API|
 * | NeonProjectId.value   | NEON_PROJECT_ID            | with it, the Neon project                |
 * | ReconcileWorker.name  | LAMIN_RECONCILE_WORKER     | the function a reconcile fans out to     |
 * |                       | LAMIN_STORAGE_ENDPOINT     | S3-compatible endpoint (local only)      |
 */
/** A linked resource's fields by name, or undefined when it is not linked. */
export type Links = (name: string) => Record<string, unknown> | undefined;

export interface StageConfig {
  databaseUrl: string;
  bucket?: string;
  storageEndpoint?: string;
  neon?: { apiKey: string; projectId: string };
  reconcileWorker?: string;
}

/** SST marks an unset optional secret with this placeholder (see infra/). */
const UNSET = new Set(["", "none"]);

export function stageConfig(links: Links = () => undefined, env = process.env): StageConfig {
  const field = (link: string, key: string, fallback: string): string | undefined => {
    const value = links(link)?.[key] ?? env[fallback];
    return typeof value === "string" && !UNSET.has(value) ? value : undefined;
  };
  const databaseUrl = field("DatabaseUrl", "value", "DATABASE_URL");
  if (!databaseUrl) {
    throw new Error("DATABASE_URL is not set: the hub needs it (or link the DatabaseUrl secret)");
  }
  const bucket = field("Storage", "name", "LAMIN_STORAGE_BUCKET");
  const storageEndpoint = env.LAMIN_STORAGE_ENDPOINT;
  const apiKey = field("NeonApiKey", "value", "NEON_API_KEY");
  const projectId = field("NeonProjectId", "value", "NEON_PROJECT_ID");
  if (apiKey && !projectId) {
    throw new Error("the Neon API key is set but the Neon project id is not: set NeonProjectId");
  }
  const reconcileWorker = field("ReconcileWorker", "name", "LAMIN_RECONCILE_WORKER");
  return {
    databaseUrl,
    ...(bucket ? { bucket } : {}),
    ...(storageEndpoint ? { storageEndpoint } : {}),
    ...(apiKey && projectId ? { neon: { apiKey, projectId } } : {}),
    ...(reconcileWorker ? { reconcileWorker } : {}),
  };
}

/** `s3://bucket`: where a stage's instances keep their storage, `<root>/<owner>/<name>`. */
export function stageStorageRoot(config: StageConfig): string | undefined {
  return config.bucket ? `s3://${config.bucket}` : undefined;
}
