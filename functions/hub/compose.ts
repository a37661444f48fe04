/**
 * The hub app with instance provisioning wired in: one composition for `lamin hub serve` and the
 * deployed API function. Without a provisioner (`refusal` says why), creating an instance
 * answers that error and deleting one only forgets it. `storage` is where instances may go (and
 * the endpoints they are reached through): the operator's configuration, checked here, at start.
 */
import type { Hub } from "../../core/hub/hub.js";
import {
  type DatabaseProvisioner,
  deprovisionInstance,
  NeonProvisioner,
  PostgresProvisioner,
  ProvisionError,
  provisionInstance,
  provisionLogEntry,
} from "../../core/hub/provision.js";
import { type StorageConfig, StoragePolicy } from "../../core/hub/storage-policy.js";
import { type StageConfig, stageStorageRoot } from "../shared/stage.js";
import { createHubApp, type HubApp, type HubAppOptions } from "./app.js";

export function composeHubApp(
  hub: Hub,
  opts: Omit<HubAppOptions, "hub" | "provision" | "deprovision"> & {
    provisioner: DatabaseProvisioner | { refusal: unknown };
    storage: StorageConfig;
  },
): HubApp {
  const { provisioner, storage, ...rest } = opts;
  const policy = new StoragePolicy(storage);
  if ("refusal" in provisioner) {
    return createHubApp({
      ...rest,
      hub,
      provision: async () => {
        throw provisioner.refusal;
      },
    });
  }
  return createHubApp({
    ...rest,
    hub,
    provision: ({ owner, name, storageRoot, storageEndpoint }) =>
      logged(
        provisionInstance(
          hub,
          provisioner,
          {
            owner,
            name,
            ...(storageRoot !== undefined ? { storageRoot } : {}),
            ...(storageEndpoint !== undefined ? { storageEndpoint } : {}),
          },
          policy,
        ),
      ),
    deprovision: async (owner, name) => {
      await deprovisionInstance(hub, provisioner, owner, name);
    },
  });
}

/** A provisioning that failed is logged with its cause: the caller's answer has none. */
async function logged<T>(provisioning: Promise<T>): Promise<T> {
  try {
    return await provisioning;
  } catch (error) {
    if (error instanceof ProvisionError) console.error(JSON.stringify(provisionLogEntry(error)));
    throw error;
  }
}

/** Instance databases: through Neon's API when its key is linked, else on the hub's server. */
export function stageProvisioner(config: StageConfig): DatabaseProvisioner {
  return config.neon
    ? new NeonProvisioner({ apiKey: config.neon.apiKey, projectId: config.neon.projectId })
    : new PostgresProvisioner(config.databaseUrl);
}

/**
 * A deployed stage's storage: its bucket, `s3://bucket/<owner>/<name>` by default, and nothing
 * else (no local folder exists for a Lambda to hand out); its endpoint only where configured.
 */
export function stageStorage(config: StageConfig): StorageConfig {
  const root = stageStorageRoot(config);
  if (!root) return {};
  return {
    default: { root, ...(config.storageEndpoint ? { endpoint: config.storageEndpoint } : {}) },
  };
}
