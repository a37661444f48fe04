/**
 * The ingest function: storage events in, registrations out. It accepts what AWS delivers to a
 * Lambda for a bucket (SQS batches of S3 notifications, possibly wrapped by SNS; direct S3
 * notifications; EventBridge "Object Created/Deleted" events) and what self-hosted servers
 * post to the `/events/s3` webhook.
 *
 * SQS batches answer with partial batch failures: only the messages that failed come back, to
 * be retried and, after the queue's maxReceiveCount, dead-lettered. A message that cannot be
 * understood fails the same way. Other shapes throw when something failed, so that Lambda's
 * own retries and on-failure destination take over.
 */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { parseS3Notification, type StorageEvent } from "../../core/ingest/events.js";
import { Ingestor, type IngestResult } from "../../core/ingest/ingest.js";
import type { Instance } from "../../core/instance.js";

/**
 * Where events go: one instance (a stage of its own, `lamin serve`), or per event (a deployed
 * hub, whose bucket holds many instances' storage: undefined = no instance stores this object).
 */
export type IngestTarget =
  | { instance: () => Promise<Instance> }
  | { route: (event: StorageEvent) => Promise<Instance | undefined> };

export type IngestHandlerOptions = IngestTarget & {
  /** One JSON object per handled record; default: a JSON line on stdout (CloudWatch). */
  log?: (entry: Record<string, unknown>) => void;
  /** false for servers that send object keys raw (s3rver); AWS and MinIO URL-encode them. */
  keysEncoded?: boolean;
  concurrency?: number;
};

export type IngestInput = SQSEvent | Record<string, unknown>;

const defaultLog = (entry: Record<string, unknown>) => console.log(JSON.stringify(entry));

export function createIngestHandler(opts: IngestHandlerOptions) {
  const log = opts.log ?? defaultLog;
  const keysEncoded = opts.keysEncoded ?? true;

  const route = "route" in opts ? opts.route : () => opts.instance();

  /** Events grouped by the instance they belong to, each group applied by its own Ingestor. */
  async function apply(events: StorageEvent[]): Promise<IngestResult[]> {
    if (events.length === 0) return [];
    const results = new Array<IngestResult>(events.length);
    const groups = new Map<Instance, number[]>();
    await Promise.all(
      events.map(async (event, i) => {
        try {
          const instance = await route(event);
          if (instance) groups.set(instance, [...(groups.get(instance) ?? []), i]);
          else {
            const reason = `no instance stores s3://${event.bucket}/${event.key}`;
            results[i] = {
              ok: true,
              event,
              outcome: { action: "skipped", key: event.key, reason },
            };
          }
        } catch (error) {
          results[i] = { ok: false, event, error: error as Error };
        }
      }),
    );
    for (const [instance, indexes] of groups) {
      const applied = await new Ingestor(instance).applyAll(
        indexes.map((i) => events[i] as StorageEvent),
        opts.concurrency,
      );
      indexes.forEach((i, j) => {
        results[i] = applied[j] as IngestResult;
      });
    }
    for (const r of results) log(logEntry(r));
    return results;
  }

  /** Events of one notification body, or the reasons its records are not acted on. */
  function parse(body: unknown): StorageEvent[] {
    const events: StorageEvent[] = [];
    for (const item of parseS3Notification(unwrapSns(body), { keysEncoded })) {
      if ("reason" in item) log({ level: "info", action: "ignored", reason: item.reason });
      else events.push(item);
    }
    return events;
  }

  async function sqsBatch(event: SQSEvent): Promise<SQSBatchResponse> {
    const failed = new Set<string>();
    const owner: string[] = []; // message id of each event
    const events: StorageEvent[] = [];
    for (const message of event.Records) {
      try {
        for (const e of parse(JSON.parse(message.body))) {
          events.push(e);
          owner.push(message.messageId);
        }
      } catch (error) {
        failed.add(message.messageId);
        log({
          level: "error",
          action: "unreadable",
          messageId: message.messageId,
          error: (error as Error).message,
          body: message.body.slice(0, 500),
        });
      }
    }
    const results = await apply(events).catch((error: Error) => {
      // an instance could not be opened (database down, bad configuration): all are retried
      log({ level: "error", action: "failed", error: error.message });
      for (const id of owner) failed.add(id);
      return [] as IngestResult[];
    });
    results.forEach((r, i) => {
      if (!r.ok) failed.add(owner[i] as string);
    });
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  }

  /** Direct notifications, EventBridge events and webhook bodies: throws if any record failed. */
  async function notification(body: unknown): Promise<IngestResult[]> {
    const results = await apply(parse(body));
    const failures = results.filter((r) => !r.ok);
    if (failures.length > 0) {
      throw new Error(
        `${failures.length} of ${results.length} storage events failed: ${
          (failures[0] as { error: Error }).error.message
        }`,
      );
    }
    return results;
  }

  return {
    /** The Lambda entry point. */
    async handle(event: IngestInput): Promise<SQSBatchResponse | { processed: number }> {
      if (isSqsEvent(event)) return sqsBatch(event);
      return { processed: (await notification(event)).length };
    },
    sqsBatch,
    notification,
  };
}

function isSqsEvent(event: IngestInput): event is SQSEvent {
  const first = Array.isArray(event.Records) ? (event.Records[0] as Record<string, unknown>) : {};
  return first?.eventSource === "aws:sqs";
}

/** S3 → SNS → SQS delivers the notification as the SNS message. */
function unwrapSns(body: unknown): unknown {
  if (
    typeof body === "object" &&
    body !== null &&
    (body as { Type?: unknown }).Type === "Notification" &&
    typeof (body as { Message?: unknown }).Message === "string"
  ) {
    return JSON.parse((body as { Message: string }).Message);
  }
  return body;
}

function logEntry(r: IngestResult): Record<string, unknown> {
  const { event } = r;
  const base = { event: event.name, bucket: event.bucket, objectKey: event.key };
  if (!r.ok) return { level: "error", ...base, action: "failed", error: r.error.message };
  return { level: r.outcome.action === "skipped" ? "warn" : "info", ...base, ...r.outcome };
}
