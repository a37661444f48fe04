/**
 * The ingest function on AWS Lambda, subscribed to the instance bucket's events through SQS
 * (or directly, or through EventBridge). Configuration: see ../shared/environment.ts.
 */
import { instanceFromEnvironment } from "../shared/environment.js";
import { createIngestHandler, type IngestInput } from "./handler.js";

const ingest = createIngestHandler({ instance: instanceFromEnvironment });

export const handler = (event: IngestInput) => ingest.handle(event);
