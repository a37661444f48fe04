/**
 * Storage events in one shape, whatever delivered them: S3 notification records (direct, in SQS
 * messages, from MinIO-style webhooks or from s3rver), EventBridge "Object Created/Deleted"
 * events, Google Cloud Storage notifications (Pub/Sub push, Eventarc CloudEvents), and files
 * seen by a folder watcher.
 */
import { ValidationError } from "../errors.js";

export interface StorageEvent {
  type: "created" | "removed";
  bucket: string;
  /** Object key, decoded: exactly the key as stored. */
  key: string;
  size?: number;
  /** Without quotes (GCS: the generation). Missing on deletes (and on s3rver copies). */
  etag?: string;
  versionId?: string;
  /** The per-key ordering token: S3's normalised with {@link normaliseSequencer}, or GCS's
   *  generations ({@link gcsSequencer}). */
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

// ------------------------------------------------------------------ Google Cloud Storage

/**
 * GCS orders the writes of one object name by `generation` (a new one per write, increasing) and
 * the metadata updates of one generation by `metageneration`; a deletion ends its generation.
 * Both are int64s, written here as 19 zero-padded decimal digits each (decimal digits are hex
 * digits too, and at equal width string order is numeric order), then 0 for a generation's
 * writes and updates or 1 for its deletion: 39 characters, so S3's 32-character floor and
 * reconcile's all-zero observation sort below every GCS event.
 */
export function gcsSequencer(generation: string, metageneration: string, removed: boolean): string {
  for (const [what, n] of [
    ["generation", generation],
    ["metageneration", metageneration],
  ] as const) {
    if (!/^\d{1,19}$/.test(n)) {
      throw new ValidationError(`invalid ${what} '${n.slice(0, 40)}'`, "expected an int64");
    }
  }
  return normaliseSequencer(
    `${generation.padStart(19, "0")}${metageneration.padStart(19, "0")}${removed ? 1 : 0}`,
  );
}

/** A deletion without its metageneration (payload NONE) orders after every update. */
const LAST_METAGENERATION = "9223372036854775807";

/** What each GCS notification does to the object's key. */
const GCS_EVENT_TYPES: Record<string, StorageEvent["type"]> = {
  OBJECT_FINALIZE: "created",
  // same bytes: registers the object if its OBJECT_FINALIZE never came, else changes nothing
  OBJECT_METADATA_UPDATE: "created",
  OBJECT_DELETE: "removed",
  // versioned buckets: the live generation became noncurrent (deleted, for lamindb)
  OBJECT_ARCHIVE: "removed",
};

/** Eventarc's CloudEvent types of Cloud Storage, as notification event types. */
const CLOUD_EVENT_TYPES: Record<string, string> = {
  "google.cloud.storage.object.v1.finalized": "OBJECT_FINALIZE",
  "google.cloud.storage.object.v1.metadataUpdated": "OBJECT_METADATA_UPDATE",
  "google.cloud.storage.object.v1.deleted": "OBJECT_DELETE",
  "google.cloud.storage.object.v1.archived": "OBJECT_ARCHIVE",
};

/** How a GCS change was delivered: Pub/Sub push, or a CloudEvent (Eventarc), or neither. */
export function gcsDeliveryKind(
  body: unknown,
  headers: Readonly<Record<string, string | undefined>> = {},
): "pubsub" | "cloudevent" | undefined {
  if (isObject(body) && isObject(body.message)) return "pubsub";
  if (headers["ce-type"] !== undefined) return "cloudevent";
  if (isObject(body) && typeof body.specversion === "string" && typeof body.type === "string") {
    return "cloudevent";
  }
  return undefined;
}

/**
 * The event of one GCS notification, as Pub/Sub pushes it (`{"message": {"attributes": {...},
 * "data": base64 of the object resource}}`, payload JSON_API_V1 or NONE) or as Eventarc delivers
 * it: a CloudEvent in binary mode (`ce-*` headers, the object resource as the body; `headers`
 * with lower-case names) or structured mode (`{"specversion", "type", "data", ...}`).
 *
 * A message that cannot be understood throws ValidationError: it is poison, and no retry will
 * make it better. A deletion that is an overwrite (`overwrittenByGeneration`) is ignored: the new
 * generation's OBJECT_FINALIZE registers the key's next version.
 */
export function parseGcsNotification(
  body: unknown,
  headers: Readonly<Record<string, string | undefined>> = {},
): StorageEvent | IgnoredRecord {
  const kind = gcsDeliveryKind(body, headers);
  if (kind === "pubsub") return parsePubSubPush((body as Json).message as Json);
  if (kind === "cloudevent") {
    const structured = headers["ce-type"] === undefined;
    const event = structured ? (body as Json) : undefined;
    const type = String(structured ? event?.type : headers["ce-type"]);
    const eventType = CLOUD_EVENT_TYPES[type];
    if (!eventType) return { reason: `CloudEvent ${type} is not about Cloud Storage objects` };
    const data = structured ? event?.data : body;
    if (!isObject(data) || Array.isArray(data)) {
      throw new ValidationError(
        `CloudEvent ${type} has no object resource as its data`,
        "expected the StorageObjectData of Cloud Storage",
      );
    }
    const subject = String((structured ? event?.subject : headers["ce-subject"]) ?? "");
    const source = String((structured ? event?.source : headers["ce-source"]) ?? "");
    // the object resource names the object; subject and source only stand in when it does not
    // (how a subject encodes a name is not specified)
    return gcsEvent(eventType, data, {
      bucket: data.bucket === undefined ? /\/buckets\/([^/]+)$/.exec(source)?.[1] : undefined,
      objectId:
        data.name === undefined && subject.startsWith("objects/")
          ? subject.slice("objects/".length)
          : undefined,
    });
  }
  throw new ValidationError(
    `not a GCS notification: ${JSON.stringify(body)?.slice(0, 200)}`,
    "expected a Pub/Sub push body ({message: {attributes, data}}) or a Cloud Storage CloudEvent",
  );
}

function parsePubSubPush(message: Json): StorageEvent | IgnoredRecord {
  const attributes = isObject(message.attributes) ? message.attributes : {};
  const eventType = attributes.eventType;
  if (typeof eventType !== "string" || eventType === "") {
    throw new ValidationError(
      "a Pub/Sub message without attributes.eventType is not a Cloud Storage notification",
      "push only the topic of a bucket notification (gcloud storage buckets notifications create) to this route",
    );
  }
  if (typeof attributes.overwrittenByGeneration === "string") {
    return {
      reason: `${eventType} of generation ${String(attributes.objectGeneration)}: overwritten by generation ${attributes.overwrittenByGeneration}, whose OBJECT_FINALIZE registers it`,
    };
  }
  let resource: Json = {};
  if (attributes.payloadFormat !== "NONE") {
    if (typeof message.data !== "string" || message.data === "") {
      throw new ValidationError(
        `${eventType} notification without data`,
        "use the JSON_API_V1 payload format (the default), or NONE",
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(message.data, "base64").toString("utf8"));
    } catch {
      throw new ValidationError(
        `${eventType} notification whose data is not base64 of a JSON object resource`,
      );
    }
    if (!isObject(parsed) || Array.isArray(parsed)) {
      throw new ValidationError(`${eventType} notification whose data is not an object resource`);
    }
    resource = parsed;
  }
  return gcsEvent(eventType, resource, {
    bucket: stringOr(attributes.bucketId),
    objectId: stringOr(attributes.objectId),
    generation: stringOr(attributes.objectGeneration),
  });
}

const stringOr = (v: unknown) => (typeof v === "string" ? v : undefined);

/**
 * One change from its notification type, the object resource (possibly empty: payload NONE) and
 * what the envelope says. Envelope and resource must agree on the object.
 */
function gcsEvent(
  eventType: string,
  object: Json,
  envelope: {
    bucket?: string | undefined;
    objectId?: string | undefined;
    generation?: string | undefined;
  },
): StorageEvent | IgnoredRecord {
  const type = GCS_EVENT_TYPES[eventType];
  if (!type) return { reason: `event ${eventType} is not about object contents` };
  const pick = (what: string, fromEnvelope: string | undefined, fromObject: unknown) => {
    const fromData = typeof fromObject === "string" && fromObject !== "" ? fromObject : undefined;
    if (fromEnvelope !== undefined && fromData !== undefined && fromEnvelope !== fromData) {
      throw new ValidationError(
        `${eventType} notification names two ${what}s: '${fromEnvelope.slice(0, 100)}' and '${fromData.slice(0, 100)}'`,
      );
    }
    const value = fromEnvelope || fromData;
    if (!value) throw new ValidationError(`${eventType} notification without the object's ${what}`);
    return value;
  };
  // the JSON API writes int64s as strings; be lenient with numbers
  const int = (v: unknown) => (typeof v === "number" ? String(v) : v);
  const bucket = pick("bucket", envelope.bucket, object.bucket);
  const key = pick("name", envelope.objectId, object.name);
  const generation = pick("generation", envelope.generation, int(object.generation));
  const known = int(object.metageneration);
  const metageneration =
    typeof known === "string" ? known : type === "removed" ? LAST_METAGENERATION : "1";
  const size = Number(int(object.size));
  return {
    type,
    bucket,
    key,
    ...(object.size !== undefined && Number.isSafeInteger(size) && size >= 0 ? { size } : {}),
    // the generation is what reads of these bytes are pinned to (GcsStorage's etag)
    ...(type === "created" ? { etag: generation } : {}),
    sequencer: gcsSequencer(generation, metageneration, type === "removed"),
    name: eventType,
  };
}
