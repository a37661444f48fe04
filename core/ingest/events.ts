/**
 * Storage events in one shape, whatever delivered them: S3 notification records (direct, in SQS
 * messages, from MinIO-style webhooks or from s3rver), EventBridge "Object Created/Deleted"
 * events, and files seen by a folder watcher.
 */
import { ValidationError } from "../errors.js";

export interface StorageEvent {
  type: "created" | "removed";
  bucket: string;
  /** Object key, decoded: exactly the key as stored. */
  key: string;
  size?: number;
  /** Without quotes. Missing on deletes (and on s3rver copies). */
  etag?: string;
  versionId?: string;
  /** S3's per-key ordering token, normalised with {@link normaliseSequencer}. */
  sequencer: string;
  /** The provider's event name, for logs (`ObjectCreated:Put`, `Object Deleted`, ...). */
  name: string;
}

/** A record that is understood and deliberately not acted on (e.g. `s3:TestEvent`). */
export interface IgnoredRecord {
  reason: string;
}

const SEQUENCER_WIDTH = 32;

/**
 * S3 sequencers are hex strings of varying length; AWS compares them after right-padding the
 * shorter one with zeros. Padding to a fixed width makes plain string order do the same.
 */
export function normaliseSequencer(sequencer: string): string {
  if (!/^[0-9a-fA-F]{1,128}$/.test(sequencer)) {
    throw new ValidationError(`invalid sequencer '${sequencer.slice(0, 40)}'`, "expected hex");
  }
  return sequencer.toUpperCase().padEnd(Math.max(SEQUENCER_WIDTH, sequencer.length), "0");
}

/**
 * A sequencer for sources that have none (folder watchers, moto, webhooks of servers that omit
 * it): the time in microseconds, so later observations sort after earlier ones.
 */
export function sequencerFromTime(micros: bigint): string {
  return normaliseSequencer(micros.toString(16).padStart(14, "0"));
}

/** Microseconds since the epoch of an ISO time; a time without a zone is UTC (moto's). */
export function isoToMicros(time: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/i.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3] ?? "Z"}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1000n + BigInt((m[2] ?? "").padEnd(6, "0").slice(0, 6));
}

/** S3 URL-encodes keys in notifications, with `+` for spaces. */
export function decodeS3Key(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, " "));
  } catch {
    throw new ValidationError(`undecodable object key '${key.slice(0, 200)}'`);
  }
}

const stripQuotes = (etag: string) => etag.replace(/^"+|"+$/g, "");

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null;

/**
 * The events of an S3 notification body (`{"Records": [...]}`, or one record). `keysEncoded`
 * is true for AWS and MinIO, which URL-encode keys, and false for s3rver, which sends them raw.
 * A record that cannot be understood throws: its message is poison and must be retried, then
 * dead-lettered, not silently dropped.
 */
export function parseS3Notification(
  body: unknown,
  opts: { keysEncoded: boolean } = { keysEncoded: true },
): (StorageEvent | IgnoredRecord)[] {
  if (isObject(body) && body.Event === "s3:TestEvent") return [{ reason: "s3:TestEvent" }];
  if (isObject(body) && isObject(body.detail) && typeof body["detail-type"] === "string") {
    return [parseEventBridge(body)];
  }
  const records = isObject(body) && Array.isArray(body.Records) ? body.Records : [body];
  return records.map((record) => parseS3Record(record, opts.keysEncoded));
}

function parseS3Record(record: unknown, keysEncoded: boolean): StorageEvent | IgnoredRecord {
  const s3 = isObject(record) && isObject(record.s3) ? record.s3 : undefined;
  const object = s3 && isObject(s3.object) ? s3.object : undefined;
  const bucket = s3 && isObject(s3.bucket) ? s3.bucket.name : undefined;
  const name = isObject(record) ? String(record.eventName ?? "") : "";
  if (!object || typeof bucket !== "string" || typeof object.key !== "string" || !name) {
    throw new ValidationError(
      `not an S3 event record: ${JSON.stringify(record)?.slice(0, 200)}`,
      "expected Records[].eventName, s3.bucket.name and s3.object.key",
    );
  }
  const type = eventType(name.replace(/^s3:/, ""));
  if (!type) return { reason: `event ${name} is not about object contents` };
  const key = keysEncoded ? decodeS3Key(object.key) : object.key;
  return {
    type,
    bucket,
    key,
    ...(typeof object.size === "number" ? { size: object.size } : {}),
    ...(typeof object.eTag === "string" && object.eTag ? { etag: stripQuotes(object.eTag) } : {}),
    ...(typeof object.versionId === "string" && object.versionId
      ? { versionId: object.versionId }
      : {}),
    sequencer: sequencerOf(object.sequencer, isObject(record) ? record.eventTime : undefined),
    name,
  };
}

/** EventBridge keys are not URL-encoded. */
function parseEventBridge(event: Json): StorageEvent | IgnoredRecord {
  const detail = event.detail as Json;
  const kind = event["detail-type"];
  const type = kind === "Object Created" ? "created" : kind === "Object Deleted" ? "removed" : null;
  if (!type) return { reason: `EventBridge ${String(kind)} is not about object contents` };
  const object = isObject(detail.object) ? detail.object : undefined;
  const bucket = isObject(detail.bucket) ? detail.bucket.name : undefined;
  if (!object || typeof object.key !== "string" || typeof bucket !== "string") {
    throw new ValidationError(
      `not an EventBridge S3 event: ${JSON.stringify(event).slice(0, 200)}`,
      "expected detail.bucket.name and detail.object.key",
    );
  }
  return {
    type,
    bucket,
    key: object.key,
    ...(typeof object.size === "number" ? { size: object.size } : {}),
    ...(typeof object.etag === "string" && object.etag ? { etag: stripQuotes(object.etag) } : {}),
    ...(typeof object["version-id"] === "string" ? { versionId: object["version-id"] } : {}),
    sequencer: sequencerOf(object.sequencer, event.time),
    name: `${kind}${typeof detail.reason === "string" ? ` (${detail.reason})` : ""}`,
  };
}

function eventType(name: string): StorageEvent["type"] | undefined {
  if (name.startsWith("ObjectCreated:")) return "created";
  if (name.startsWith("ObjectRemoved:")) return "removed";
  return undefined; // restores, replication, lifecycle transitions, tagging, ACLs
}

function sequencerOf(sequencer: unknown, time: unknown): string {
  if (typeof sequencer === "string" && sequencer) return normaliseSequencer(sequencer);
  const micros = typeof time === "string" ? isoToMicros(time) : undefined;
  if (micros === undefined) {
    throw new ValidationError(
      "event has neither a sequencer nor an eventTime",
      "events need one of them to be put in order",
    );
  }
  return sequencerFromTime(micros);
}
