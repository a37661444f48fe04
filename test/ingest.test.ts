/**
 * Event-driven registration against a real S3-compatible server (s3rver): uploads become
 * artifacts with a local save's hash; duplicated, reordered and concurrent events change nothing
 * they should not; the webhook and reconcile reach the same code.
 */
import type { EventEmitter } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as t from "../core/db/schema.js";
import { hashFile } from "../core/hash.js";
import { parseS3Notification, type StorageEvent } from "../core/ingest/events.js";
import { Ingestor } from "../core/ingest/ingest.js";
import type { Instance } from "../core/instance.js";
import { initInstance } from "../core/setup.js";
import { createApp } from "../functions/api/app.js";
import { createIngestHandler } from "../functions/ingest/handler.js";
import { BACKENDS, postgresUrl, tempDir, useTempHome } from "./helpers.js";
import { startS3rver } from "./servers/s3rver.js";

const BUCKET = "lab";
const PREFIX = "data";

type S3Server = Awaited<ReturnType<typeof startS3rver>>;

/** What s3rver emitted, by object key, in order. */
class EventLog {
  private readonly events: StorageEvent[] = [];
  constructor(server: EventEmitter) {
    server.on("event", (notification: unknown) => {
      for (const e of parseS3Notification(notification, { keysEncoded: false })) {
        if (!("reason" in e)) this.events.push(e);
      }
    });
  }
  /** The events for `objectKey` once `count` have arrived. */
  async for(objectKey: string, count = 1): Promise<StorageEvent[]> {
    for (let i = 0; i < 200; i++) {
      const found = this.events.filter((e) => e.key === objectKey);
      if (found.length >= count) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no event for ${objectKey}`);
  }
}

describe.each(BACKENDS)("storage events on %s", (backend) => {
  let s3: S3Server;
  let events: EventLog;
  let instance: Instance;
  let ingestor: Ingestor;
  let db: string | undefined;
  const local = tempDir("lamin-ingest-");

  /** Upload `body` at `key` (below the prefix) and return the event it caused. */
  async function put(key: string, body: string | Uint8Array): Promise<StorageEvent> {
    const objectKey = `${PREFIX}/${key}`;
    const before = await events.for(objectKey, 0);
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: objectKey, Body: body }));
    return (await events.for(objectKey, before.length + 1)).at(-1) as StorageEvent;
  }

  async function remove(key: string): Promise<StorageEvent> {
    const objectKey = `${PREFIX}/${key}`;
    const before = await events.for(objectKey, 0);
    await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: objectKey }));
    return (await events.for(objectKey, before.length + 1)).at(-1) as StorageEvent;
  }

  /** The hash `lamin save` gives the same bytes. */
  async function localHash(body: string | Uint8Array) {
    const path = join(local, `f-${Math.random()}`);
    writeFileSync(path, body);
    return hashFile(path);
  }

  function rowsAt(key: string) {
    return instance.db
      .select()
      .from(t.artifact)
      .where(and(eq(t.artifact.key, key), eq(t.artifact.storageId, instance.storageRecord.id)))
      .orderBy(t.artifact.id);
  }

  beforeAll(async () => {
    useTempHome();
    s3 = await startS3rver({ buckets: [BUCKET] });
    events = new EventLog(s3.server as unknown as EventEmitter);
    process.env.AWS_ACCESS_KEY_ID = "S3RVER";
    process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
    db = backend === "postgres" ? postgresUrl() : undefined;
    instance = await initInstance({
      storage: `s3://${BUCKET}/${PREFIX}`,
      name: `ingest-${backend}`,
      endpoint: s3.endpoint,
      pgliteDir: join(local, "pglite"),
      ...(db ? { db } : {}),
    });
    ingestor = new Ingestor(instance);
  }, 60_000);

  afterAll(async () => {
    await instance?.close();
    await s3?.close();
    if (db) {
      const { dropDatabase } = await import("../core/db/postgres.js");
      await dropDatabase(db).catch(() => {});
    }
  });

  it("registers an upload at its key with a local save's hash, keeping the ETag", async () => {
    const body = "gene,count\nCD8A,12\n";
    const outcome = await ingestor.apply(await put("raw/counts.csv", body));
    expect(outcome).toMatchObject({ action: "created", key: "raw/counts.csv", bytesRead: 0 });
    const artifact = await instance.artifacts.get({ key: "raw/counts.csv" });
    const expected = await localHash(body);
    expect(artifact).toMatchObject({
      uid: outcome.uid,
      hash: expected.hash,
      hash_type: "md5",
      size: expected.size,
      suffix: ".csv",
      is_latest: true,
      upload_complete: true,
      path: `s3://${BUCKET}/${PREFIX}/raw/counts.csv`,
    });
    const [row] = await rowsAt("raw/counts.csv");
    expect(row?.keyIsVirtual).toBe(false);
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/raw/counts.csv` }),
    );
    expect(row?.aux).toEqual({ etag: head.ETag?.replaceAll('"', "") });
    // the artifact loads back through the storage like any other
    const loaded = await instance.artifacts.load(artifact.uid, { to: join(local, "out") });
    expect((await hashFile(loaded.path)).hash).toBe(expected.hash);
  });

  it("versions an overwritten key, trashes a deleted one, and continues the family on re-upload", async () => {
    const v1 = await ingestor.apply(await put("runs/model.pt", "weights v1"));
    const v2 = await ingestor.apply(await put("runs/model.pt", "weights v2"));
    expect(v1.action).toBe("created");
    expect(v2).toMatchObject({ action: "new-version" });
    expect(v2.uid?.slice(0, 16)).toBe(v1.uid?.slice(0, 16));
    expect(v2.uid?.slice(16)).toBe("0001");
    const latest = await instance.artifacts.get({ key: "runs/model.pt" });
    expect(latest.uid).toBe(v2.uid);
    expect(latest.hash).toBe((await localHash("weights v2")).hash);

    const gone = await ingestor.apply(await remove("runs/model.pt"));
    expect(gone).toMatchObject({ action: "trashed", reason: "2 versions moved to the trash" });
    const rows = await rowsAt("runs/model.pt");
    expect(rows.map((r) => [r.branchId, r.isLatest])).toEqual([
      [-1, false],
      [-1, false],
    ]);
    await expect(instance.artifacts.get({ key: "runs/model.pt" })).rejects.toThrow();

    const v3 = await ingestor.apply(await put("runs/model.pt", "weights v3"));
    expect(v3).toMatchObject({ action: "new-version" });
    expect(v3.uid?.slice(16)).toBe("0002");
    // the same bytes as a trashed version come back as that version, restored
    const back = await ingestor.apply(await put("runs/model.pt", "weights v1"));
    expect(back).toMatchObject({ action: "restored", uid: v1.uid });
  });

  it("applies a duplicated event once and never rolls a key back", async () => {
    const e1 = await put("order/a.txt", "first");
    const e2 = await put("order/a.txt", "second");
    expect(e2.sequencer > e1.sequencer).toBe(true);
    // the later event first: the object holds its bytes
    expect((await ingestor.apply(e2)).action).toBe("created");
    expect(await ingestor.apply(e1)).toMatchObject({ action: "stale" });
    expect(await ingestor.apply(e2)).toMatchObject({ action: "duplicate" });
    const rows = await rowsAt("order/a.txt");
    expect(rows).toHaveLength(1);
    expect(rows[0]?.hash).toBe((await localHash("second")).hash);

    // an event whose bytes were replaced since is stale: the newer event registers them
    const e3 = await put("order/b.txt", "one");
    const e4 = await put("order/b.txt", "two");
    expect(await ingestor.apply(e3)).toMatchObject({ action: "stale" });
    expect(await ingestor.apply(e4)).toMatchObject({ action: "created" });
  });

  it("never resurrects a deleted object, whatever the order of its events", async () => {
    const created = await put("order/c.txt", "short-lived");
    const removed = await remove("order/c.txt");
    // the delete arrives first: nothing to trash yet, but the key remembers it
    expect(await ingestor.apply(removed)).toMatchObject({ action: "skipped" });
    expect(await ingestor.apply(created)).toMatchObject({ action: "stale" });
    expect(await rowsAt("order/c.txt")).toHaveLength(0);

    // in order: created, then deleted; a replay of either changes nothing
    const again = await put("order/d.txt", "x");
    expect((await ingestor.apply(again)).action).toBe("created");
    const bye = await remove("order/d.txt");
    expect((await ingestor.apply(bye)).action).toBe("trashed");
    expect((await ingestor.apply(again)).action).toBe("stale");
    expect((await ingestor.apply(bye)).action).toBe("duplicate");
    expect((await rowsAt("order/d.txt")).map((r) => r.branchId)).toEqual([-1]);
  });

  it("settles concurrent events for one key in the database: one row set, one latest", async () => {
    const event = await put("race/same.csv", "a,b\n");
    // ten functions handling the same event at once
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => new Ingestor(instance).apply(event)),
    );
    expect(outcomes.filter((o) => o.action === "created")).toHaveLength(1);
    expect(await rowsAt("race/same.csv")).toHaveLength(1);

    // versions registered concurrently with sequencers in random order: the newest wins
    const hashed = await Promise.all(
      ["v1", "v2", "v3", "v4", "v5"].map(async (body, i) => ({
        ...(await localHash(body)),
        etag: `etag-${i}`,
        bytesRead: 0,
        sequencer: `00000000000000000000000000000${i + 1}`.slice(-32),
      })),
    );
    const shuffled = [3, 0, 4, 1, 2].map((i) => hashed[i] as (typeof hashed)[number]);
    await Promise.all(
      shuffled.map((h) => new Ingestor(instance).register("race/versions.csv", h, h.sequencer)),
    );
    const rows = await rowsAt("race/versions.csv");
    const latest = rows.filter((r) => r.isLatest && r.branchId === 1);
    expect(latest).toHaveLength(1);
    expect(latest[0]?.hash).toBe(hashed[4]?.hash);
    expect(new Set(rows.map((r) => r.uid)).size).toBe(rows.length);
  });

  it("skips, with a reason, what cannot be an artifact, without failing the rest", async () => {
    const outside = await s3.client
      .send(new PutObjectCommand({ Bucket: BUCKET, Key: "elsewhere/x.csv", Body: "x" }))
      .then(() => events.for("elsewhere/x.csv"));
    const forged = (key: string): StorageEvent => ({
      type: "created",
      bucket: BUCKET,
      key,
      sequencer: "0000000000000000000000000000000A",
      name: "ObjectCreated:Put",
    });
    const gone = await put("gone/soon.csv", "bye");
    await remove("gone/soon.csv");
    const ok = await put("batch/ok.csv", "fine");
    const results = await ingestor.applyAll([
      outside[0] as StorageEvent,
      forged(`${PREFIX}/a/../b.csv`),
      forged(`${PREFIX}/.lamindb/storage_uid.txt`),
      { ...forged("lab2/x.csv"), bucket: "other-bucket" },
      gone,
      ok,
    ]);
    const reasons = results.map((r) =>
      r.ok ? `${r.outcome.action}: ${r.outcome.reason}` : "failed",
    );
    expect(reasons).toEqual([
      "skipped: outside the storage prefix data/",
      "skipped: invalid artifact key: it contains a '..' segment",
      "skipped: lamindb's own file, not an artifact",
      `skipped: bucket other-bucket is not this instance's storage (s3://${BUCKET}/${PREFIX})`,
      "skipped: the object was deleted before it was read",
      "created: undefined",
    ]);
  });

  it("registers unicode, spaces, plus signs and very long keys exactly", async () => {
    // ~900 characters (s3rver keeps objects as files: no path segment may exceed 255 bytes)
    const key = `ünï cødé+plus/${Array(9).fill("long-".repeat(20)).join("/")}/😀 %2B.csv`;
    expect(key.length).toBeGreaterThan(900);
    const outcome = await ingestor.apply(await put(key, "1,2\n"));
    expect(outcome.action).toBe("created");
    expect((await instance.artifacts.get({ key })).key).toBe(key);
  });

  it("completes an upload started through the API with its event, never registering twice", async () => {
    const body = "upload,through,api\n";
    const h = await localHash(body);
    const ticket = await instance.artifacts.prepareUpload({
      name: "sheet.csv",
      key: "uploads/sheet.csv",
      size: h.size,
      hash: h.hash,
      hash_type: "md5",
    });
    expect(ticket.status).toBe("pending");
    const uploadKey = ticket.upload?.key as string;
    expect(uploadKey).toMatch(/^\.lamindb\/[A-Za-z0-9]{20}\.csv$/);
    const event = await put(uploadKey, body);
    expect(await ingestor.apply(event)).toMatchObject({
      action: "completed",
      uid: ticket.artifact.uid,
    });
    expect(await ingestor.apply(event)).toMatchObject({ action: "duplicate" });
    // the client completing it too is harmless
    expect((await instance.artifacts.completeUpload(ticket.artifact.uid)).upload_complete).toBe(
      true,
    );
    const same = await instance.db
      .select({ n: sql<number>`count(*)::int` })
      .from(t.artifact)
      .where(eq(t.artifact.hash, h.hash));
    expect(same[0]?.n).toBe(1);
    // bytes no artifact awaits are left alone, with a reason
    const stray = await put(".lamindb/AAAAAAAAAAAAAAAAAAAA.csv", "stray");
    expect(await ingestor.apply(stray)).toMatchObject({
      action: "skipped",
      reason: expect.stringContaining("no artifact AAAAAAAAAAAAAAAAAAAA awaits"),
    });
  });

  it("handles direct S3 notifications and EventBridge events in the Lambda handler", async () => {
    const logs: Record<string, unknown>[] = [];
    const handler = createIngestHandler({
      instance: async () => instance,
      log: (e) => logs.push(e),
    });
    const direct = await put("lambda/direct.csv", "direct");
    const notification = {
      Records: [
        {
          eventVersion: "2.1",
          eventSource: "aws:s3",
          eventTime: new Date().toISOString(),
          eventName: direct.name,
          s3: {
            bucket: { name: BUCKET },
            object: {
              key: `${PREFIX}/lambda/direct.csv`,
              size: 6,
              eTag: direct.etag,
              sequencer: "0B",
            },
          },
        },
      ],
    };
    expect(await handler.handle(notification)).toEqual({ processed: 1 });
    await put("lambda/bridge.csv", "bridge");
    const bridge = {
      version: "0",
      "detail-type": "Object Created",
      source: "aws.s3",
      time: new Date().toISOString(),
      detail: {
        bucket: { name: BUCKET },
        object: { key: `${PREFIX}/lambda/bridge.csv`, size: 6, sequencer: "0C" },
        reason: "PutObject",
      },
    };
    expect(await handler.handle(bridge)).toEqual({ processed: 1 });
    expect(logs.map((l) => l.action)).toEqual(["created", "created"]);
    // outside SQS a failure throws, so that Lambda retries and dead-letters the event
    await expect(handler.handle({ Records: [{ nonsense: true }] })).rejects.toThrow(
      /not an S3 event record/,
    );
  });

  it("takes S3 records at POST /events/s3, with the API's token", async () => {
    const app = createApp({ instance: () => instance, authorize: (token) => token === "s3cret" });
    await s3.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/hook/a b.csv`, Body: "hook" }),
    );
    const [event] = await events.for(`${PREFIX}/hook/a b.csv`);
    const notification = {
      EventName: "s3:ObjectCreated:Put",
      Key: `${BUCKET}/${PREFIX}/hook/a b.csv`,
      Records: [
        {
          eventVersion: "2.0",
          eventSource: "minio:s3",
          eventTime: new Date().toISOString(),
          eventName: "s3:ObjectCreated:Put",
          s3: {
            bucket: { name: BUCKET },
            object: {
              key: `${PREFIX}/hook/a+b.csv`,
              size: 4,
              eTag: event?.etag,
              sequencer: "17F0A1B2C3D4E5F6",
            },
          },
        },
      ],
    };
    const post = (body: unknown, token = "s3cret") =>
      app.request("/events/s3", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const res = await post(notification);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      outcomes: [expect.objectContaining({ action: "created", key: "hook/a b.csv" })],
    });
    expect((await post(notification, "wrong")).status).toBe(401);
    const bad = await post({ Records: [{ nothing: true }] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ detail: expect.stringContaining("not an S3 event") });
  });

  it("reconciles what events missed, reports before repairing, and is idempotent", async () => {
    await ingestor.apply(await put("rec/gone.csv", "will vanish"));
    await ingestor.apply(await put("rec/changed.csv", "before"));
    await ingestor.apply(await put("rec/same.csv", "stays"));
    // events that never arrive
    await put("rec/new.csv", "nobody told");
    await remove("rec/gone.csv");
    await put("rec/changed.csv", "after");
    const h = await localHash("pending bytes");
    const ticket = await instance.artifacts.prepareUpload({
      name: "p.csv",
      key: "rec/pending.csv",
      size: h.size,
      hash: h.hash,
      hash_type: "md5",
    });
    await put(ticket.upload?.key as string, "pending bytes");
    const never = await localHash("never sent");
    const waiting = await instance.artifacts.prepareUpload({
      name: "w.csv",
      key: "rec/waiting.csv",
      size: never.size,
      hash: never.hash,
      hash_type: "md5",
    });

    const count = async () =>
      (await instance.db.select({ n: sql<number>`count(*)::int` }).from(t.artifact))[0]?.n;
    const before = await count();
    const dry = await instance.reconcile({ dryRun: true });
    // only this test's keys: earlier tests left rows without objects (race/) on purpose
    const keys = (changes: { key: string }[]) =>
      changes
        .map((c) => c.key)
        .filter((k) => k.startsWith("rec/") || k.startsWith(".lamindb/"))
        .sort();
    expect(keys(dry.registered)).toContain("rec/new.csv");
    expect(keys(dry.changed)).toEqual(["rec/changed.csv"]);
    expect(keys(dry.trashed)).toEqual(["rec/gone.csv"]);
    expect(keys(dry.completed)).toEqual([ticket.upload?.key]);
    expect(dry.waiting.map((c) => c.uid)).toContain(waiting.artifact.uid);
    expect(await count()).toBe(before);
    expect((await instance.artifacts.get({ key: "rec/gone.csv" })).branch).toBe("main");

    const done = await instance.reconcile();
    expect(done.registered.find((c) => c.key === "rec/new.csv")?.action).toBe("created");
    expect(done.changed[0]).toMatchObject({ key: "rec/changed.csv", action: "new-version" });
    expect(done.trashed.find((c) => c.key === "rec/gone.csv")?.action).toBe("trashed");
    expect(done.completed[0]).toMatchObject({ action: "completed" });
    expect((await instance.artifacts.get({ key: "rec/changed.csv" })).hash).toBe(
      (await localHash("after")).hash,
    );
    expect((await instance.artifacts.get(ticket.artifact.uid)).upload_complete).toBe(true);

    const again = await instance.reconcile();
    expect([...again.registered, ...again.changed, ...again.trashed, ...again.completed]).toEqual(
      [],
    );
    expect(again.unchanged).toBeGreaterThan(5);
  });
});
