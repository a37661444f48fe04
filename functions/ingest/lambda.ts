/**
 * The ingest function, subscribed to the bucket's events through SQS (or directly, or through
 * EventBridge). Two configurations:
 * - a deployed stage (sst.config.ts `Ingest`): the bucket holds the storage of many instances;
 *   each event goes to the instance whose storage holds the object (../shared/stage.ts);
 * - one instance of its own (`LAMIN_INSTANCE` set, see ../shared/environment.ts).
 */
import { instanceFromEnvironment } from "../shared/environment.js";
import { once } from "../shared/once.js";
import { sstLinks } from "../shared/sst-links.js";
import { stageConfig } from "../shared/stage.js";
import { openStageHub, routeByLocation } from "../shared/stage-hub.js";
import { createIngestHandler, type IngestInput } from "./handler.js";

const stageRoute = once(async () => routeByLocation(await openStageHub(stageConfig(sstLinks))));

const ingest = process.env.LAMIN_INSTANCE
  ? createIngestHandler({ instance: instanceFromEnvironment })
  : createIngestHandler({ route: async (event) => (await stageRoute())(event) });

export const handler = (event: IngestInput) => ingest.handle(event);
