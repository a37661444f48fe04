/** Storage events in every shape that delivers them, parsed into one. */
import { describe, expect, it } from "vitest";
import { ValidationError } from "../core/errors.js";
import {
  decodeS3Key,
  isoToMicros,
  normaliseSequencer,
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
