/**
 * The ingest queue: S3 events wait here for the ingest function. A message that fails
 * INGEST_MAX_RECEIVES times moves to the dead-letter queue and stays there 14 days; the daily
 * reconcile repairs what it missed in the meantime.
 */
import {
  DEAD_LETTER_RETENTION_SECONDS,
  INGEST_BATCH,
  INGEST_MAX_CONCURRENCY,
  INGEST_MAX_RECEIVES,
  INGEST_VISIBILITY_SECONDS,
} from "./settings.js";

export function ingestQueue() {
  const deadLetters = new sst.aws.Queue("IngestDeadLetters", {
    transform: { queue: { messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS } },
  });
  const queue = new sst.aws.Queue("IngestQueue", {
    visibilityTimeout: `${INGEST_VISIBILITY_SECONDS} seconds`,
    dlq: { queue: deadLetters.arn, retry: INGEST_MAX_RECEIVES },
  });
  return { queue, deadLetters };
}

/**
 * The ingest function takes the queue's messages in batches and reports the ones it could not
 * register (partial batch responses), so only those come back.
 */
export function subscribeIngest(queue: sst.aws.Queue, ingest: sst.aws.Function) {
  return queue.subscribe(ingest.arn, {
    batch: {
      size: INGEST_BATCH.size,
      window: `${INGEST_BATCH.windowSeconds} seconds`,
      partialResponses: true,
    },
    transform: {
      eventSourceMapping: { scalingConfig: { maximumConcurrency: INGEST_MAX_CONCURRENCY } },
    },
  });
}
