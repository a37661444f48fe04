/** Storage events in every shape that delivers them, parsed into one. */
import { describe, expect, it } from "vitest";
import { ValidationError } from "../core/errors.js";
import {
  decodeS3Key,
  gcsSequencer,
  isoToMicros,
  normaliseSequencer,
  parseGcsNotification,
  parseS3Notification,
  sequencerFromTime,
} from "../core/ingest/events.js";

const record = (name: string, object: Record<string, unknown>, extra = {}) => ({
  eventVersion: "2.1",
  eventSource: "aws:s3",
  eventTime: "2026-11-25T04:48:41.025Z",
  eventName: name,
  s3: { bucket: { name: "lab-bucket" }, object },
  ...extra,
});

describe("S3 notifications", () => {
  it("decode keys as S3 encodes them: + is a space, %2B a plus, unicode and slashes", () => {
    const [event] = parseS3Notification({
      Records: [
        record("ObjectCreated:Put", {
          key: "raw%2Fmy+file%2B%C3%BCn%C3%AF%F0%9F%98%80.csv",
          size: 5,
          eTag: '"5d41402abc4b2a76b9719d911017c592"',
          sequencer: "0062E99A88DC407460",
        }),
      ],
    });
    expect(event).toEqual({
      type: "created",
      bucket: "lab-bucket",
      key: "raw/my file+ünï😀.csv",
      size: 5,
      etag: "5d41402abc4b2a76b9719d911017c592",
      sequencer: normaliseSequencer("0062E99A88DC407460"),
      name: "ObjectCreated:Put",
    });
    expect(decodeS3Key("a+b%20c")).toBe("a b c");
  });

  it("keep raw keys raw for servers that do not encode them (s3rver)", () => {
    const [event] = parseS3Notification(
      { Records: [record("ObjectCreated:Post", { key: "a+b%.txt", size: 1, sequencer: "1A" })] },
      { keysEncoded: false },
    );
    expect(event).toMatchObject({ type: "created", key: "a+b%.txt" });
  });

  it("read deletes, versions and copies; ignore the test event and other event kinds", () => {
    const events = parseS3Notification({
      Records: [
        record("ObjectRemoved:Delete", { key: "a.csv", sequencer: "2B" }),
        record("ObjectCreated:Copy", { key: "b.csv", size: 3, versionId: "v1", sequencer: "2C" }),
        record("ObjectRestore:Completed", { key: "c.csv" }),
      ],
    });
    expect(events[0]).toMatchObject({ type: "removed", key: "a.csv" });
    expect(events[1]).toMatchObject({ type: "created", key: "b.csv", versionId: "v1" });
    expect(events[1]).not.toHaveProperty("etag");
    expect(events[2]).toEqual({ reason: expect.stringContaining("ObjectRestore") });
    expect(
      parseS3Notification({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "b" }),
    ).toEqual([{ reason: "s3:TestEvent" }]);
  });

  it("read EventBridge's Object Created / Object Deleted", () => {
    const [created] = parseS3Notification({
      "detail-type": "Object Created",
      source: "aws.s3",
      time: "2026-11-25T04:48:41Z",
      detail: {
        bucket: { name: "lab-bucket" },
        object: { key: "raw/x y.csv", size: 9, etag: "abc", sequencer: "00AA" },
        reason: "PutObject",
      },
    });
    expect(created).toMatchObject({
      type: "created",
      key: "raw/x y.csv",
      size: 9,
      etag: "abc",
      name: "Object Created (PutObject)",
    });
    const [deleted] = parseS3Notification({
      "detail-type": "Object Deleted",
      time: "2026-11-25T04:48:41Z",
      detail: { bucket: { name: "lab-bucket" }, object: { key: "raw/x y.csv", sequencer: "00AB" } },
    });
    expect(deleted).toMatchObject({ type: "removed" });
  });

  it("reject records that are not S3 events, so their message is retried and dead-lettered", () => {
    for (const bad of [{ Records: [{ foo: 1 }] }, { hello: "world" }, null, "text"]) {
      expect(() => parseS3Notification(bad)).toThrow(ValidationError);
    }
    expect(() =>
      parseS3Notification({ Records: [record("ObjectCreated:Put", { key: "%E0%A4%A" })] }),
    ).toThrow(/undecodable/);
    expect(() =>
      parseS3Notification({
        Records: [record("ObjectCreated:Put", { key: "a" }, { eventTime: "yesterday" })],
      }),
    ).toThrow(/sequencer/);
  });
});

describe("sequencers", () => {
  it("compare like AWS: right-padded with zeros, then as strings", () => {
    // AWS: "0055AED6DCD90281E5" is later than "0055AED6DCD9028" padded
    expect(normaliseSequencer("0055AED6DCD90281E5") > normaliseSequencer("0055AED6DCD9028")).toBe(
      true,
    );
    expect(normaliseSequencer("1a")).toBe(normaliseSequencer("1A0"));
    expect(() => normaliseSequencer("xyz")).toThrow(ValidationError);
  });

  it("fall back to the event time in microseconds, zone-less times being UTC (moto)", () => {
    expect(isoToMicros("2026-11-25T04:48:41.025620")).toBe(
      BigInt(Date.parse("2026-11-25T04:48:41Z")) * 1000n + 25620n,
    );
    expect(isoToMicros("2026-11-25T04:48:41+01:00")).toBe(
      BigInt(Date.parse("2026-11-25T03:48:41Z")) * 1000n,
    );
    const [a] = parseS3Notification({
      Records: [
        record("ObjectCreated:Put", { key: "k" }, { eventTime: "2026-11-25T04:48:41.025620" }),
      ],
    });
    const [b] = parseS3Notification({
      Records: [
        record("ObjectCreated:Put", { key: "k" }, { eventTime: "2026-11-25T04:48:41.025621" }),
      ],
    });
    expect((b as { sequencer: string }).sequencer > (a as { sequencer: string }).sequencer).toBe(
      true,
    );
    expect(sequencerFromTime(2n) > sequencerFromTime(1n)).toBe(true);
  });
});

/** A Pub/Sub push body exactly as GCS's notifications arrive (payload JSON_API_V1). */
function gcsPush(
  eventType: string,
  object: Record<string, unknown>,
  extra: Record<string, string> = {},
) {
  return {
    message: {
      attributes: {
        notificationConfig: "projects/_/buckets/lab-bucket/notificationConfigs/3",
        eventType,
        payloadFormat: "JSON_API_V1",
        bucketId: "lab-bucket",
        objectId: String(object.name),
        objectGeneration: String(object.generation),
        eventTime: "2026-11-25T04:48:41.025Z",
        ...extra,
      },
      data: Buffer.from(JSON.stringify({ bucket: "lab-bucket", ...object })).toString("base64"),
      messageId: "4242",
      message_id: "4242",
      publishTime: "2026-11-25T04:48:41.5Z",
      publish_time: "2026-11-25T04:48:41.5Z",
    },
    subscription: "projects/lab/subscriptions/lamin",
  };
}

describe("GCS notifications", () => {
  const object = {
    kind: "storage#object",
    name: "raw/my file+ünï😀.csv",
    generation: "1764046121025620",
    metageneration: "1",
    size: "5",
    md5Hash: "XUFAKrxLKna5cZ2REBfFkg==",
    crc32c: "mnG7TA==",
  };

  it("read Pub/Sub pushes: base64 data, attributes, names as stored (no encoding)", () => {
    expect(parseGcsNotification(gcsPush("OBJECT_FINALIZE", object))).toEqual({
      type: "created",
      bucket: "lab-bucket",
      key: "raw/my file+ünï😀.csv",
      size: 5,
      etag: "1764046121025620",
      sequencer: gcsSequencer("1764046121025620", "1", false),
      name: "OBJECT_FINALIZE",
    });
    const update = parseGcsNotification(
      gcsPush("OBJECT_METADATA_UPDATE", { ...object, metageneration: "3" }),
    );
    expect(update).toMatchObject({ type: "created", etag: object.generation });
    const deleted = parseGcsNotification(gcsPush("OBJECT_DELETE", object));
    expect(deleted).toMatchObject({ type: "removed", key: object.name });
    expect(deleted).not.toHaveProperty("etag");
    expect(parseGcsNotification(gcsPush("OBJECT_ARCHIVE", object))).toMatchObject({
      type: "removed",
    });
  });

  it("ignore the deletion of an overwritten generation, and kinds that are not about contents", () => {
    const overwritten = gcsPush("OBJECT_DELETE", object, {
      overwrittenByGeneration: "1764046121999999",
    });
    expect(parseGcsNotification(overwritten)).toEqual({
      reason: expect.stringMatching(/overwritten by generation 1764046121999999/),
    });
    expect(parseGcsNotification(gcsPush("OBJECT_RESTORE", object))).toEqual({
      reason: expect.stringContaining("OBJECT_RESTORE"),
    });
  });

  it("order by generation, then metageneration, then deletion: as numbers, whatever their digits", () => {
    const seq = (g: string, m: string, removed = false) => gcsSequencer(g, m, removed);
    const ordered = [
      seq("999", "1"),
      seq("999", "1", true),
      seq("1000", "1"),
      seq("1000", "2"),
      seq("1000", "10"),
      seq("1000", "10", true),
      seq("1764046121025620", "1"),
    ];
    expect([...ordered].sort()).toEqual(ordered);
    // reconcile's observations (and S3's 32-digit floor) sort below every GCS event
    expect(normaliseSequencer("0") < (ordered[0] as string)).toBe(true);
    // a deletion without its metageneration (payload NONE) follows every update of it
    const bare = parseGcsNotification({
      message: {
        attributes: {
          eventType: "OBJECT_DELETE",
          payloadFormat: "NONE",
          bucketId: "lab-bucket",
          objectId: "a.csv",
          objectGeneration: "1000",
        },
        messageId: "1",
      },
    });
    expect(bare).toMatchObject({ type: "removed", key: "a.csv" });
    expect((bare as { sequencer: string }).sequencer > seq("1000", "999999")).toBe(true);
    expect(() => gcsSequencer("12a", "1", false)).toThrow(ValidationError);
    expect(() => gcsSequencer("1".repeat(20), "1", false)).toThrow(ValidationError);
  });

  it("read Eventarc's CloudEvents, binary (ce-* headers) and structured", () => {
    const headers = {
      "ce-specversion": "1.0",
      "ce-type": "google.cloud.storage.object.v1.finalized",
      "ce-source": "//storage.googleapis.com/projects/_/buckets/lab-bucket",
      "ce-subject": `objects/${object.name}`,
      "ce-id": "77",
    };
    const binary = parseGcsNotification({ ...object, bucket: "lab-bucket" }, headers);
    expect(binary).toMatchObject({ type: "created", bucket: "lab-bucket", key: object.name });
    const structured = parseGcsNotification({
      specversion: "1.0",
      type: "google.cloud.storage.object.v1.deleted",
      source: "//storage.googleapis.com/projects/_/buckets/lab-bucket",
      subject: "objects/x/y.csv",
      id: "78",
      // a resource without bucket and name: source and subject stand in
      data: { generation: "5", metageneration: "2" },
    });
    expect(structured).toMatchObject({ type: "removed", bucket: "lab-bucket", key: "x/y.csv" });
    expect(
      parseGcsNotification(object, {
        ...headers,
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
      }),
    ).toEqual({ reason: expect.stringContaining("not about Cloud Storage objects") });
  });

  it("reject what cannot be understood: poison, which no retry makes better", () => {
    const good = gcsPush("OBJECT_FINALIZE", object);
    const bad: unknown[] = [
      { hello: "world" },
      null,
      { message: { attributes: {}, data: good.message.data } },
      { message: { ...good.message, data: "not base64 json!" } },
      { message: { ...good.message, data: "" } },
      { message: { ...good.message, data: Buffer.from("[1,2]").toString("base64") } },
      gcsPush("OBJECT_FINALIZE", { ...object, generation: "-1" }),
      gcsPush("OBJECT_FINALIZE", { ...object, name: "other.csv" }, { objectId: object.name }),
      {
        message: {
          attributes: { eventType: "OBJECT_FINALIZE", payloadFormat: "NONE", bucketId: "b" },
        },
      },
    ];
    for (const body of bad)
      expect(() => parseGcsNotification(body), JSON.stringify(body)).toThrow(ValidationError);
    expect(() =>
      parseGcsNotification("[]", { "ce-type": "google.cloud.storage.object.v1.finalized" }),
    ).toThrow(/no object resource/);
  });
});
