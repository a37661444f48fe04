/**
 * moto_server (the AWS emulator in the system Python) as the deployed topology: a bucket whose
 * notifications go to an SQS queue with a dead-letter queue, drained the way Lambda's SQS event
 * source mapping does (batches, partial batch failures, redelivery, maxReceiveCount).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";

/** Where moto_server is, or undefined when this machine has none. */
export function findMoto(): string | undefined {
  const candidates = [process.env.MOTO_SERVER, "/root/.pyenv/shims/moto_server"];
  try {
    candidates.push(execFileSync("sh", ["-c", "command -v moto_server"]).toString().trim());
  } catch {}
  return candidates.find((c): c is string => !!c && existsSync(c));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * moto_server for a test file: its path, or undefined (the file's tests then say they are
 * skipped), except where LAMIN_REQUIRE_MOTO=1 (CI) demands it.
 */
export function requireMoto(): string | undefined {
  const moto = findMoto();
  if (!moto && process.env.LAMIN_REQUIRE_MOTO === "1") {
    throw new Error("LAMIN_REQUIRE_MOTO=1 but moto_server was not found: install moto[server]");
  }
  return moto;
}

export const MOTO_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" };

export interface Moto {
  endpoint: string;
  s3: S3Client;
  sqs: SQSClient;
  process: ChildProcess;
  close(): Promise<void>;
}

export async function startMoto(binary: string): Promise<Moto> {
  const port = await freePort();
  const child = spawn(binary, ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr}`);
    const up = await fetch(`${endpoint}/moto-api/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`moto_server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const config = {
    region: "us-east-1",
    endpoint,
    credentials: MOTO_CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED" as const,
    responseChecksumValidation: "WHEN_REQUIRED" as const,
  };
  return {
    endpoint,
    s3: new S3Client({ ...config, forcePathStyle: true }),
    sqs: new SQSClient(config),
    process: child,
    async close() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

export interface NotifiedBucket {
  bucket: string;
  queueUrl: string;
  dlqUrl: string;
}

/** A bucket whose object events go to a queue; messages received `maxReceiveCount` times go to a DLQ. */
export async function notifiedBucket(
  moto: Moto,
  bucket: string,
  maxReceiveCount = 2,
): Promise<NotifiedBucket> {
  await moto.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const dlq = await moto.sqs.send(new CreateQueueCommand({ QueueName: `${bucket}-dlq` }));
  const dlqArn = await queueArn(moto, dlq.QueueUrl as string);
  const queue = await moto.sqs.send(
    new CreateQueueCommand({
      QueueName: `${bucket}-events`,
      Attributes: {
        VisibilityTimeout: "30",
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl as string;
  await moto.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            QueueArn: await queueArn(moto, queueUrl),
            Events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
          },
        ],
      },
    }),
  );
  return { bucket, queueUrl, dlqUrl: dlq.QueueUrl as string };
}

async function queueArn(moto: Moto, url: string): Promise<string> {
  const attrs = await moto.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  return attrs.Attributes?.QueueArn as string;
}

/** Receive up to `max` messages as a Lambda SQS event. */
export async function receiveBatch(moto: Moto, queueUrl: string, max = 10): Promise<SQSEvent> {
  const got = await moto.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: 0,
      AttributeNames: ["All"],
    }),
  );
  return {
    Records: (got.Messages ?? []).map((m) => ({
      messageId: m.MessageId as string,
      receiptHandle: m.ReceiptHandle as string,
      body: m.Body as string,
      attributes: (m.Attributes ?? {}) as SQSEvent["Records"][number]["attributes"],
      messageAttributes: {},
      md5OfBody: m.MD5OfBody as string,
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:queue",
      awsRegion: "us-east-1",
    })),
  };
}

/** Messages in the queue: visible, in flight (received, not deleted) and delayed. */
async function messagesIn(moto: Moto, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await moto.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return Object.values(Attributes).reduce((n, v) => n + Number(v), 0);
}

/**
 * Drain the queue like Lambda's event source mapping: hand batches to `handler`, delete what it
 * did not report as failed, make failures visible again at once (instead of after the
 * visibility timeout). Returns once the queue stays empty, with nothing in flight. (Draining
 * while messages arrive also keeps moto fast: its ReceiveMessage scans the whole queue.)
 */
export async function drain(
  moto: Moto,
  queueUrl: string,
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>,
  opts: {
    batchSize?: number;
    onBatch?: (event: SQSEvent, failed: string[]) => void;
    /** Keep polling until this settles, like a function subscribed while uploads go on. */
    until?: Promise<unknown>;
  } = {},
): Promise<{ batches: number; messages: number; failures: number }> {
  const totals = { batches: 0, messages: 0, failures: 0 };
  let producing = opts.until !== undefined;
  opts.until?.finally(() => {
    producing = false;
  });
  let empty = 0;
  while (producing || empty < 2) {
    const event = await receiveBatch(moto, queueUrl, opts.batchSize ?? 10);
    if (event.Records.length === 0) {
      // none visible; the queue is done only when none are in flight either: another poller's,
      // or those of a receive whose answer was lost on a busy machine (the SDK retried it),
      // which come back after the visibility timeout, as on SQS
      empty = producing || (await messagesIn(moto, queueUrl)) > 0 ? 0 : empty + 1;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    empty = 0;
    const response = await handler(event);
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    opts.onBatch?.(event, [...failed]);
    totals.batches++;
    totals.messages += event.Records.length;
    totals.failures += failed.size;
    const ok = event.Records.filter((r) => !failed.has(r.messageId));
    const retry = event.Records.filter((r) => failed.has(r.messageId));
    if (ok.length) {
      await moto.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: ok.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    if (retry.length) {
      await moto.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: retry.map((r, i) => ({
            Id: String(i),
            ReceiptHandle: r.receiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
  return totals;
}
