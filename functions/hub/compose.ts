/**
 * The hub app with instance provisioning wired in: one composition for `lamin hub serve` and the
 * deployed API function. Without a provisioner (`refusal` says why), creating an instance
 * answers that error and deleting one only forgets it.
 */
import type { Hub } from "../../core/hub/hub.js";
import {
  type DatabaseProvisioner,
  deprovisionInstance,
  NeonProvisioner,
  PostgresProvisioner,
  provisionInstance,
} from "../../core/hub/provision.js";
import type { StageConfig } from "../shared/stage.js";
import { createHubApp, type HubApp, type HubAppOptions } from "./app.js";

export function composeHubApp(
  hub: Hub,
  opts: Omit<HubAppOptions, "hub" | "provision" | "deprovision"> & {
    provisioner: DatabaseProvisioner | { refusal: unknown };
  },
): HubApp {
  const { provisioner, ...rest } = opts;
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
      provisionInstance(hub, provisioner, {
        owner,
        name,
        storageRoot,
        ...(storageEndpoint ? { storageEndpoint } : {}),
      }),
    deprovision: async (owner, name) => {
      await deprovisionInstance(hub, provisioner, owner, name);
    },
  });
}

/** Instance databases: through Neon's API when its key is linked, else on the hub's server. */
export function stageProvisioner(config: StageConfig): DatabaseProvisioner {
  return config.neon
    ? new NeonProvisioner({ apiKey: config.neon.apiKey, projectId: config.neon.projectId })
    : new PostgresProvisioner(config.databaseUrl);
}
