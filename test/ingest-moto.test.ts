/**
 * The deployed topology on moto (AWS's emulator): a bucket notifies an SQS queue with a
 * dead-letter queue; the ingest function drains it in SQS-batch shape. moto gives AWS's exact
 * multipart ETags (`<md5 of part md5s>-<n>`) and its duplicate events (Put and
 * CompleteMultipartUpload for one multipart upload).
 *
 * moto_server is in this machine's Python and in CI (.ci/run sets LAMIN_REQUIRE_MOTO=1, so it
 * cannot be skipped there); elsewhere these tests say they are skipped.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { and, eq, like, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as t from "../core/db/schema.js";
import { HASH_CHUNK, hashFile } from "../core/hash.js";
import type { Instance } from "../core/instance.js";
import { initInstance } from "../core/setup.js";
import { mapLimit } from "../core/util/concurrency.js";
import { createIngestHandler } from "../functions/ingest/handler.js";
import { postgresUrl, tempDir, useTempHome } from "./helpers.js";
import {
  drain,
  MOTO_CREDENTIALS,
  type Moto,
  type NotifiedBucket,
  notifiedBucket,
  requireMoto,
  startMoto,
} from "./servers/moto.js";

const moto = requireMoto();
if (!moto) console.warn("moto_server not found: the deployed-topology tests are skipped");

const MiB = 1024 * 1024;
const PREFIX = "data";

/** Deterministic bytes, fast to make at any size: a random MiB, varied per MiB. */
function bytes(size: number, seed: number): Buffer {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += 4) block.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
  const out = Buffer.alloc(size);
  for (let off = 0, n = 0; off < size; off += MiB, n++) {
    block.writeUInt32LE(n ^ seed, 0);
    block.copy(out, off, 0, Math.min(MiB, size - off));
  }
  return out;
}

describe.skipIf(!moto)("ingest through S3 → SQS → the ingest function (moto)", () => {
  let aws: Moto;
  let bucket: NotifiedBucket;
  let instance: Instance;
  let db: string | undefined;
  const local = tempDir("lamin-moto-");
  const logs: Record<string, unknown>[] = [];
  let ingest: ReturnType<typeof createIngestHandler>;

  const run = (until?: Promise<unknown>) =>
    drain(aws, bucket.queueUrl, (event) => ingest.sqsBatch(event), until ? { until } : {});
  const outcomesFor = (key: string) => logs.filter((l) => l.key === key);

  beforeAll(async () => {
    useTempHome();
    aws = await startMoto(moto as string);
    bucket = await notifiedBucket(aws, "lab-moto");
    process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
    db = process.env.DATABASE_URL ? postgresUrl() : undefined;
    instance = await initInstance({
      storage: `s3://${bucket.bucket}/${PREFIX}`,
      name: "moto",
      endpoint: aws.endpoint,
      pgliteDir: join(local, "pglite"),
      ...(db ? { db } : {}),
    });
    ingest = createIngestHandler({ instance: async () => instance, log: (e) => logs.push(e) });
    await run(); // moto's s3:TestEvent
  }, 60_000);

  afterAll(async () => {
    await instance?.close();
    await aws?.close();
    if (db) {
      const { dropDatabase } = await import("../core/db/postgres.js");
      await dropDatabase(db).catch(() => {});
    }
  });

  it("hashes single and multipart uploads of every size like a local save, reading at most 100 MiB", async () => {
    const sizes = [0, 1, 50 * MiB, 50 * MiB + 1, 120 * MiB];
    const expected = new Map<string, { hash: string; size: number; multipart: boolean }>();
    for (const [i, size] of sizes.entries()) {
      const body = bytes(size, i + 1);
      const path = join(local, `body-${size}`);
      writeFileSync(path, body);
      const { hash } = await hashFile(path);
      const single = `sizes/single-${size}.bin`;
      const multi = `sizes/multi-${size}.bin`;
      await aws.s3.send(
        new PutObjectCommand({ Bucket: bucket.bucket, Key: `${PREFIX}/${single}`, Body: body }),
      );
      await multipart(`${PREFIX}/${multi}`, body, 16 * MiB);
      expected.set(single, { hash, size, multipart: false });
      expected.set(multi, { hash, size, multipart: true });
    }
    const drained = await run();
    expect(drained.failures).toBe(0);
    for (const [key, want] of expected) {
      const artifact = await instance.artifacts.get({ key });
      expect(artifact, key).toMatchObject({ hash: want.hash, size: want.size });
      expect(artifact.hash_type).toBe(want.size > HASH_CHUNK ? "sha1-fl" : "md5");
      // moto sends Put and CompleteMultipartUpload for a multipart upload: one artifact
      expect(await instance.artifacts.versions({ key })).toHaveLength(1);
      const read = outcomesFor(key)
        .map((l) => l.bytesRead)
        .filter((n): n is number => typeof n === "number");
      const reuseEtag = !want.multipart && want.size <= HASH_CHUNK;
      const expectedRead = want.size > HASH_CHUNK ? 2 * HASH_CHUNK : reuseEtag ? 0 : want.size;
      expect(read, key).toEqual([expectedRead]);
    }
    const multiEtag = await instance.db
      .select({ aux: t.artifact.aux })
      .from(t.artifact)
      .where(eq(t.artifact.key, "sizes/multi-125829120.bin"));
    expect(multiEtag[0]?.aux).toEqual({ etag: expect.stringMatching(/^[0-9a-f]{32}-8$/) });
  }, 120_000);

  it("ends 1,000 parallel uploads in exactly 1,000 artifacts", async () => {
    const uploads = mapLimit(
      Array.from({ length: 1000 }, (_, i) => i),
      32,
      (i) =>
        aws.s3.send(
          new PutObjectCommand({
            Bucket: bucket.bucket,
            Key: `${PREFIX}/bulk/sample-${i}.csv`,
            Body: `sample,${i}\n`,
          }),
        ),
    );
    // three pollers, as Lambda scales its SQS pollers with the backlog
    const drained = await Promise.all([run(uploads), run(uploads), run(uploads)]);
    // SQS delivers at least once (moto too, with concurrent pollers): duplicates change nothing
    expect(drained.reduce((n, d) => n + d.messages, 0)).toBeGreaterThanOrEqual(1000);
    expect(drained.reduce((n, d) => n + d.failures, 0)).toBe(0);
    const [count] = await instance.db
      .select({ n: sql<number>`count(*)::int`, keys: sql<number>`count(distinct key)::int` })
      .from(t.artifact)
      .where(and(like(t.artifact.key, "bulk/%"), eq(t.artifact.branchId, 1)));
    expect(count).toEqual({ n: 1000, keys: 1000 });
  }, 300_000); // generous: moto slows down with a long queue, and more on a busy machine

  it("versions overwrites and trashes deletes arriving through the queue, in any order", async () => {
    const key = `${PREFIX}/flow/table.csv`;
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: "v1" }));
    await run();
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: "v2" }));
    await aws.s3.send(new DeleteObjectCommand({ Bucket: bucket.bucket, Key: key }));
    // the batch handler sees the overwrite and the delete together, maybe out of order
    await run();
    const versions = await instance.db
      .select({ uid: t.artifact.uid, branchId: t.artifact.branchId })
      .from(t.artifact)
      .where(eq(t.artifact.key, "flow/table.csv"));
    expect(versions.every((v) => v.branchId === -1)).toBe(true);
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: "v3" }));
    await run();
    expect((await instance.artifacts.get({ key: "flow/table.csv" })).hash).toBeTruthy();
  });

  it("sends a poison message to the dead-letter queue after the retries; the batch goes on", async () => {
    for (const body of ["not json", JSON.stringify({ Records: [{ eventName: "nope" }] })]) {
      await aws.sqs.send(new SendMessageCommand({ QueueUrl: bucket.queueUrl, MessageBody: body }));
    }
    await aws.s3.send(
      new PutObjectCommand({ Bucket: bucket.bucket, Key: `${PREFIX}/poison/ok.csv`, Body: "ok" }),
    );
    const drained = await run();
    expect(drained.failures).toBe(4); // two poison messages, each received twice
    expect((await instance.artifacts.get({ key: "poison/ok.csv" })).size).toBe(2);
    const dead = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: bucket.dlqUrl, MaxNumberOfMessages: 10 }),
    );
    expect((dead.Messages ?? []).map((m) => m.Body).sort()).toEqual([
      "not json",
      JSON.stringify({ Records: [{ eventName: "nope" }] }),
    ]);
    expect(logs.some((l) => l.action === "unreadable")).toBe(true);
  });

  async function multipart(key: string, body: Buffer, partSize: number) {
    const { UploadId } = await aws.s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket.bucket, Key: key }),
    );
    const parts = [];
    for (let n = 1, off = 0; off < body.length || n === 1; n++, off += partSize) {
      const { ETag } = await aws.s3.send(
        new UploadPartCommand({
          Bucket: bucket.bucket,
          Key: key,
          UploadId,
          PartNumber: n,
          Body: body.subarray(off, off + partSize),
        }),
      );
      parts.push({ ETag, PartNumber: n });
    }
    await aws.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket.bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  }
});
