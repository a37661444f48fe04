/**
 * A deployed stage at run time: its hub (opened once per container over the configured driver),
 * the instances the hub records (opened on demand, least recently used closed first), and the
 * provisioner for new ones. Shared by the API, ingest and reconcile functions.
 */
import { openPostgres } from "../../core/db/postgres.js";
import { type Hub, type HubInstanceRecord, hubOn } from "../../core/hub/hub.js";
import { InstancePool, openRecordedInstance } from "../../core/hub/instances.js";
import type { StorageEvent } from "../../core/ingest/events.js";
import type { Instance } from "../../core/instance.js";
import type { StageConfig } from "./stage.js";

export interface StageHub {
  config: StageConfig;
  hub: Hub;
  /** Instances of this stage, opened on demand. */
  instances: InstancePool;
  close(): Promise<void>;
}

export async function openStageHub(config: StageConfig): Promise<StageHub> {
  // a Lambda container serves one request at a time: a few connections are plenty
  const { hub, close } = await hubOn(await openPostgres(config.databaseUrl, { max: 2 }));
  const instances = new InstancePool(openRecordedInstance);
  return {
    config,
    hub,
    instances,
    async close() {
      await instances.close();
      await close();
    },
  };
}

/** How long a storage root → instance answer is trusted before the hub is asked again. */
const ROUTE_TTL_MS = 60_000;

/**
 * Route storage events to the instance whose storage holds the object (`s3://bucket/key`); one
 * hub query per instance and minute, not per event. Undefined: no instance stores it.
 */
export function routeByLocation(stage: StageHub, now = () => Date.now()) {
  const known = new Map<string, { record: HubInstanceRecord; at: number }>();
  return async (event: StorageEvent): Promise<Instance | undefined> => {
    const location = `s3://${event.bucket}/${event.key}`;
    let best: { record: HubInstanceRecord; at: number } | undefined;
    for (const [root, entry] of known) {
      const fresh = now() - entry.at < ROUTE_TTL_MS;
      if (!fresh) known.delete(root);
      else if (
        location.startsWith(`${root}/`) &&
        root.length > (best?.record.storage_root.length ?? 0)
      ) {
        best = entry;
      }
    }
    let record = best?.record;
    if (!record) {
      record = await stage.hub.instanceAtLocation(location);
      if (!record) return undefined;
      known.set(record.storage_root, { record, at: now() });
    }
    return stage.instances.get(record);
  };
}
