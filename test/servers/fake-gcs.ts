/**
 * A Google Cloud Storage server for the tests, speaking the JSON API that `@google-cloud/storage`
 * uses, built from GCS's documentation (as test/servers/neon-api.ts stands in for Neon's API):
 *
 * - objects: insert (`uploadType=media`, `multipart`, and `resumable` sessions, whole or in
 *   chunks of 256 KiB multiples, with the 308 + `Range` protocol), get (metadata, or
 *   `alt=media` with byte ranges and `x-goog-hash`), list (prefix, delimiter, pages), patch
 *   (metageneration + 1), delete, compose (a composite has a crc32c, no md5Hash, and a
 *   componentCount), rewrite (copy); md5Hash and crc32c; generations (a microsecond clock,
 *   increasing) and metagenerations; the preconditions `ifGenerationMatch` (0: no live object),
 *   `ifGenerationNotMatch`, `ifMetagenerationMatch`, `ifMetagenerationNotMatch`; the
 *   `generation` parameter (only the live generation exists: no versioning);
 * - both path forms: `/storage/v1/b/...` (an endpoint) and `/b/...` (STORAGE_EMULATOR_HOST);
 *   uploads at `/upload/storage/v1/b/...`;
 * - V4 signed URLs (`/{bucket}/{object}?X-Goog-Signature=...`, GOOG4-RSA-SHA256), verified
 *   with the public keys of the service accounts given, GET (with `response-content-*`), HEAD
 *   and PUT;
 * - bucket metadata (GET /b/{bucket}: its location);
 * - notifications: every change is a Pub/Sub push body exactly as a push subscription receives
 *   it (base64 `message.data` of the object resource, `attributes.eventType`,
 *   `objectGeneration`, `overwroteGeneration` / `overwrittenByGeneration`), kept in
 *   `notifications` and emitted as "notification".
 *
 * What it does not model is listed in docs/gcs.md (authentication and IAM, versioning, ...).
 */
import {
  createHash,
  createPublicKey,
  createVerify,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
} from "node:crypto";
import { EventEmitter } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A Pub/Sub push request body (the default, wrapped, format). */
export interface PubSubPush {
  message: {
    attributes: Record<string, string>;
    data: string;
    messageId: string;
    message_id: string;
    publishTime: string;
    publish_time: string;
  };
  subscription: string;
}

export type GcsEventType =
  | "OBJECT_FINALIZE"
  | "OBJECT_METADATA_UPDATE"
  | "OBJECT_DELETE"
  | "OBJECT_ARCHIVE";

interface StoredObject {
  bucket: string;
  name: string;
  data: Buffer;
  generation: bigint;
  metageneration: number;
  contentType: string;
  md5: Buffer | undefined;
  crc32c: number;
  componentCount: number | undefined;
  metadata: Record<string, string> | undefined;
  created: Date;
  updated: Date;
}

interface UploadSession {
  bucket: string;
  name: string;
  contentType: string;
  metadata: Record<string, string> | undefined;
  received: Buffer[];
  bytes: number;
  query: URLSearchParams;
  done?: StoredObject;
  cancelled?: boolean;
}

export interface FakeGcsOptions {
  buckets: string[];
  /** Service accounts whose V4 signatures are accepted: client_email → public key (PEM). */
  signers?: Record<string, string | KeyObject>;
  /** Location of every bucket (GCS answers it in upper case). */
  location?: string;
}

export interface FakeGcs extends EventEmitter {
  /** `http://127.0.0.1:<port>`: an endpoint (`apiEndpoint`) or STORAGE_EMULATOR_HOST. */
  url: string;
  port: number;
  /** Every change as the Pub/Sub push body a subscription would receive, in order of change. */
  notifications: PubSubPush[];
  /** Requests as "METHOD path?query", for assertions. */
  requests: string[];
  /** Buckets whose every request is refused with 403 (as without IAM permission). */
  forbidden: Set<string>;
  /** The live object's bytes and generations, or undefined. */
  object(
    bucket: string,
    name: string,
  ): { data: Buffer; generation: string; metageneration: string } | undefined;
  close(): Promise<void>;
}

/** Resumable chunks other than the last must be multiples of this (GCS persists no more). */
export const RESUMABLE_QUANTUM = 256 * 1024;
const MAX_LIST = 1000;
const SEVEN_DAYS = 7 * 24 * 3600;

// ------------------------------------------------------------------------------------- CRC32C

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), as GCS computes it; `crc` continues an earlier one. */
export function crc32c(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

/** GCS's form of a CRC32C: the 4 bytes big-endian, base64. */
export function crc32cBase64(crc: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc >>> 0);
  return b.toString("base64");
}

// ----------------------------------------------------------------------------------- errors

class GcsError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

const notFound = (what: string) => new GcsError(404, what, "notFound");
const conditionNotMet = () =>
  new GcsError(
    412,
    "At least one of the pre-conditions you specified did not hold.",
    "conditionNotMet",
  );
const invalid = (message: string) => new GcsError(400, message, "invalid");

// ----------------------------------------------------------------------------------- server

export async function startFakeGcs(opts: FakeGcsOptions): Promise<FakeGcs> {
  const buckets = new Map<string, Map<string, StoredObject>>(
    opts.buckets.map((b) => [b, new Map()]),
  );
  const sessions = new Map<string, UploadSession>();
  const signers = new Map(
    Object.entries(opts.signers ?? {}).map(([email, key]) => [
      email,
      typeof key === "string" ? createPublicKey(key) : key,
    ]),
  );
  const location = (opts.location ?? "us-east1").toUpperCase();
  const bucketCreated = new Date();
  let lastGeneration = 0n;
  let messageNo = 0;
  const emitter = new EventEmitter() as FakeGcs;
  const notifications: PubSubPush[] = [];
  const requests: string[] = [];
  const forbidden = new Set<string>();
  let origin = "";

  /** A microsecond timestamp, strictly increasing: GCS generations order writes of a name. */
  const nextGeneration = () => {
    const now = BigInt(Date.now()) * 1000n;
    lastGeneration = now > lastGeneration ? now : lastGeneration + 1n;
    return lastGeneration;
  };

  const bucketOf = (name: string) => {
    if (forbidden.has(name)) {
      throw new GcsError(
        403,
        `caller does not have storage.objects access to the Google Cloud Storage bucket ${name}.`,
        "forbidden",
      );
    }
    const bucket = buckets.get(name);
    if (!bucket) throw notFound("The specified bucket does not exist.");
    return bucket;
  };

  const resource = (o: StoredObject) => {
    const id = `${o.bucket}/${o.name}/${o.generation}`;
    const path = `b/${o.bucket}/o/${encodeURIComponent(o.name)}`;
    return {
      kind: "storage#object",
      id,
      selfLink: `${origin}/storage/v1/${path}`,
      mediaLink: `${origin}/download/storage/v1/${path}?generation=${o.generation}&alt=media`,
      name: o.name,
      bucket: o.bucket,
      generation: String(o.generation),
      metageneration: String(o.metageneration),
      contentType: o.contentType,
      storageClass: "STANDARD",
      size: String(o.data.length),
      ...(o.md5 ? { md5Hash: o.md5.toString("base64") } : {}),
      crc32c: crc32cBase64(o.crc32c),
      ...(o.componentCount !== undefined ? { componentCount: o.componentCount } : {}),
      etag: etagOf(o),
      timeCreated: o.created.toISOString(),
      updated: o.updated.toISOString(),
      timeStorageClassUpdated: o.created.toISOString(),
      ...(o.metadata ? { metadata: o.metadata } : {}),
    };
  };

  const notify = (type: GcsEventType, o: StoredObject, extra: Record<string, string> = {}) => {
    const id = String(++messageNo);
    const now = new Date().toISOString();
    const push: PubSubPush = {
      message: {
        attributes: {
          notificationConfig: `projects/_/buckets/${o.bucket}/notificationConfigs/1`,
          eventType: type,
          payloadFormat: "JSON_API_V1",
          bucketId: o.bucket,
          objectId: o.name,
          objectGeneration: String(o.generation),
          eventTime: (type === "OBJECT_FINALIZE" ? o.created : o.updated).toISOString(),
          ...extra,
        },
        data: Buffer.from(JSON.stringify(resource(o)), "utf8").toString("base64"),
        messageId: id,
        message_id: id,
        publishTime: now,
        publish_time: now,
      },
      subscription: "projects/lamin-test/subscriptions/lamin-events",
    };
    notifications.push(push);
    emitter.emit("notification", push);
  };

  /** Check the preconditions of `query` against the live object (undefined: none). */
  const check = (query: URLSearchParams, live: StoredObject | undefined, read = false) => {
    const gm = query.get("ifGenerationMatch");
    if (gm !== null && String(live?.generation ?? 0n) !== gm) throw conditionNotMet();
    const mm = query.get("ifMetagenerationMatch");
    if (mm !== null && (!live || String(live.metageneration) !== mm)) throw conditionNotMet();
    const gn = query.get("ifGenerationNotMatch");
    const mn = query.get("ifMetagenerationNotMatch");
    const notModified =
      (gn !== null && String(live?.generation ?? 0n) === gn) ||
      (mn !== null && live !== undefined && String(live.metageneration) === mn);
    if (notModified) {
      // reads answer 304 Not Modified, writes 412
      throw read ? new GcsError(304, "Not Modified", "notModified") : conditionNotMet();
    }
  };

  /** The live object `name`, at the `generation` asked for if any (older ones are gone). */
  const live = (bucket: string, name: string, generation: string | null) => {
    const o = bucketOf(bucket).get(name);
    if (!o || (generation !== null && String(o.generation) !== generation)) {
      throw notFound(`No such object: ${bucket}/${name}`);
    }
    return o;
  };

  /** Write a new generation of an object, with the notifications GCS sends for it. */
  const write = (
    bucket: string,
    name: string,
    data: Buffer,
    query: URLSearchParams,
    meta: {
      contentType?: string;
      metadata?: Record<string, string>;
      md5?: Buffer | undefined;
      crc32c?: number;
      componentCount?: number;
    } = {},
  ): StoredObject => {
    checkName(name);
    const objects = bucketOf(bucket);
    const before = objects.get(name);
    check(query, before);
    const now = new Date();
    const o: StoredObject = {
      bucket,
      name,
      data,
      generation: nextGeneration(),
      metageneration: 1,
      contentType: meta.contentType || "application/octet-stream",
      md5: "md5" in meta ? meta.md5 : createHash("md5").update(data).digest(),
      crc32c: meta.crc32c ?? crc32c(data),
      componentCount: meta.componentCount,
      metadata: meta.metadata,
      created: now,
      updated: now,
    };
    objects.set(name, o);
    if (before) notify("OBJECT_DELETE", before, { overwrittenByGeneration: String(o.generation) });
    notify("OBJECT_FINALIZE", o, before ? { overwroteGeneration: String(before.generation) } : {});
    return o;
  };

  // ------------------------------------------------------------------ JSON API routes

  const objectRoute = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    bucket: string,
    rest: string[],
  ): Promise<void> => {
    const method = req.method ?? "GET";
    const q = url.searchParams;
    if (rest.length === 0) {
      if (method === "GET") return json(res, 200, list(bucket, q));
      throw new GcsError(405, `method ${method} not allowed here`, "methodNotAllowed");
    }
    const name = rest[0] as string;
    if (rest[1] === "compose" && method === "POST") {
      const body = (await readJson(req)) as ComposeBody;
      return json(res, 200, resource(compose(bucket, name, body, q)));
    }
    if ((rest[1] === "rewriteTo" || rest[1] === "copyTo") && method === "POST") {
      const [, , b, destBucket, o, destName] = rest;
      if (b !== "b" || o !== "o" || !destBucket || !destName) throw notFound("Not Found");
      const source = live(bucket, name, q.get("sourceGeneration"));
      const sq = new URLSearchParams();
      for (const [k, v] of q) if (!k.startsWith("ifSource")) sq.set(k, v);
      const sourceCheck = new URLSearchParams();
      for (const [k, v] of q) {
        if (k.startsWith("ifSource")) sourceCheck.set(k.replace("ifSource", "if"), v);
      }
      check(sourceCheck, source);
      const body = (await readJson(req)) as {
        contentType?: string;
        metadata?: Record<string, string>;
      };
      const copy = write(destBucket, destName, source.data, sq, {
        contentType: body.contentType ?? source.contentType,
        ...((body.metadata ?? source.metadata)
          ? { metadata: body.metadata ?? source.metadata }
          : {}),
        md5: source.md5,
        crc32c: source.crc32c,
        ...(source.componentCount !== undefined ? { componentCount: source.componentCount } : {}),
      });
      if (rest[1] === "copyTo") return json(res, 200, resource(copy));
      const size = String(copy.data.length);
      return json(res, 200, {
        kind: "storage#rewriteResponse",
        totalBytesRewritten: size,
        objectSize: size,
        done: true,
        resource: resource(copy),
      });
    }
    if (rest.length !== 1) throw notFound("Not Found");
    if (method === "GET") {
      const found = live(bucket, name, q.get("generation"));
      check(q, found, true);
      if (q.get("alt") === "media") return media(req, res, found, {});
      return json(res, 200, resource(found));
    }
    if (method === "DELETE") {
      const o = live(bucket, name, q.get("generation"));
      check(q, o);
      bucketOf(bucket).delete(name);
      notify("OBJECT_DELETE", { ...o, updated: new Date() });
      res.writeHead(204).end();
      return;
    }
    if (method === "PATCH" || method === "PUT") {
      const o = live(bucket, name, q.get("generation"));
      check(q, o);
      const body = (await readJson(req)) as {
        contentType?: string;
        metadata?: Record<string, string> | null;
      };
      if (body.contentType) o.contentType = body.contentType;
      if (body.metadata === null) o.metadata = undefined;
      else if (body.metadata) o.metadata = { ...o.metadata, ...body.metadata };
      o.metageneration += 1;
      o.updated = new Date();
      notify("OBJECT_METADATA_UPDATE", o);
      return json(res, 200, resource(o));
    }
    throw new GcsError(405, `method ${method} not allowed here`, "methodNotAllowed");
  };

  interface ComposeBody {
    sourceObjects?: {
      name?: string;
      generation?: string | number;
      objectPreconditions?: { ifGenerationMatch?: string | number };
    }[];
    destination?: { contentType?: string; metadata?: Record<string, string> };
  }

  const compose = (bucket: string, name: string, body: ComposeBody, q: URLSearchParams) => {
    const sources = body.sourceObjects ?? [];
    if (sources.length === 0 || sources.length > 32) {
      throw invalid("The number of source components provided (must be 1 to 32) is invalid.");
    }
    const parts = sources.map((s) => {
      if (!s.name) throw invalid("Required source object name is missing.");
      const o = live(bucket, s.name, s.generation !== undefined ? String(s.generation) : null);
      const pre = s.objectPreconditions?.ifGenerationMatch;
      if (pre !== undefined && String(o.generation) !== String(pre)) throw conditionNotMet();
      return o;
    });
    const data = Buffer.concat(parts.map((p) => p.data));
    const components = parts.reduce((n, p) => n + (p.componentCount ?? 1), 0);
    if (components > 1024) throw invalid("The composite object would exceed 1024 components.");
    return write(bucket, name, data, q, {
      contentType: body.destination?.contentType ?? "application/octet-stream",
      ...(body.destination?.metadata ? { metadata: body.destination.metadata } : {}),
      md5: undefined, // composite objects have no MD5
      componentCount: components,
    });
  };

  const list = (bucket: string, q: URLSearchParams) => {
    const prefix = q.get("prefix") ?? "";
    const delimiter = q.get("delimiter") ?? "";
    const max = Math.min(Number(q.get("maxResults") ?? MAX_LIST) || MAX_LIST, MAX_LIST);
    const after = q.get("pageToken")
      ? Buffer.from(q.get("pageToken") as string, "base64url").toString("utf8")
      : undefined;
    const start = q.get("startOffset");
    const end = q.get("endOffset");
    const names = [...bucketOf(bucket).keys()]
      .filter((n) => n.startsWith(prefix))
      .filter((n) => start === null || byteCompare(n, start) >= 0)
      .filter((n) => end === null || byteCompare(n, end) < 0)
      .sort(byteCompare);
    const items: StoredObject[] = [];
    const prefixes: string[] = [];
    let last: string | undefined;
    let more = false;
    for (const n of names) {
      const cut = delimiter ? n.indexOf(delimiter, prefix.length) : -1;
      // a prefix's entry sorts as the prefix itself
      const entry = cut >= 0 ? n.slice(0, cut + delimiter.length) : n;
      if (after !== undefined && byteCompare(entry, after) <= 0) continue;
      if (entry === last) continue;
      if (items.length + prefixes.length === max) {
        more = true;
        break;
      }
      if (cut >= 0) {
        prefixes.push(entry);
        if (q.get("includeTrailingDelimiter") === "true" && n === entry) {
          items.push(bucketOf(bucket).get(n) as StoredObject);
        }
      } else items.push(bucketOf(bucket).get(n) as StoredObject);
      last = entry;
    }
    return {
      kind: "storage#objects",
      ...(more && last !== undefined
        ? { nextPageToken: Buffer.from(last, "utf8").toString("base64url") }
        : {}),
      ...(prefixes.length ? { prefixes } : {}),
      ...(items.length ? { items: items.map(resource) } : {}),
    };
  };

  // ------------------------------------------------------------------ uploads

  const upload = async (req: IncomingMessage, res: ServerResponse, url: URL, bucket: string) => {
    const q = url.searchParams;
    const method = req.method ?? "POST";
    const uploadId = q.get("upload_id");
    if (uploadId !== null) return resumable(req, res, uploadId);
    if (method !== "POST") throw new GcsError(405, "uploads are POSTed", "methodNotAllowed");
    bucketOf(bucket);
    const type = q.get("uploadType") ?? "";
    if (type === "media") {
      const name = q.get("name");
      if (!name) throw invalid("Required parameter: name");
      const data = await readBody(req);
      const contentType = req.headers["content-type"];
      verifyHashes(req.headers["x-goog-hash"], data);
      return json(
        res,
        200,
        resource(write(bucket, name, data, q, contentType ? { contentType } : {})),
      );
    }
    if (type === "multipart") {
      const [metaPart, mediaPart] = parseMultipart(
        req.headers["content-type"],
        await readBody(req),
      );
      const meta = JSON.parse(metaPart?.body.toString("utf8") || "{}") as {
        name?: string;
        contentType?: string;
        metadata?: Record<string, string>;
        md5Hash?: string;
        crc32c?: string;
      };
      const name = q.get("name") ?? meta.name;
      if (!name) throw invalid("Required parameter: name");
      const data = mediaPart?.body ?? Buffer.alloc(0);
      if (meta.md5Hash && meta.md5Hash !== createHash("md5").update(data).digest("base64")) {
        throw invalid("Provided MD5 hash does not match the calculated MD5 hash.");
      }
      if (meta.crc32c && meta.crc32c !== crc32cBase64(crc32c(data))) {
        throw invalid("Provided CRC32C does not match the calculated CRC32C.");
      }
      verifyHashes(req.headers["x-goog-hash"], data);
      const contentType = meta.contentType ?? mediaPart?.headers["content-type"];
      return json(
        res,
        200,
        resource(
          write(bucket, name, data, q, {
            ...(contentType ? { contentType } : {}),
            ...(meta.metadata ? { metadata: meta.metadata } : {}),
          }),
        ),
      );
    }
    if (type === "resumable") {
      const body = (await readJson(req)) as {
        name?: string;
        contentType?: string;
        metadata?: Record<string, string>;
      };
      const name = q.get("name") ?? body.name;
      if (!name) throw invalid("Required parameter: name");
      checkName(name);
      // preconditions are checked when the upload is finalised, as GCS does
      const id = randomUUID();
      const contentType =
        (req.headers["x-upload-content-type"] as string | undefined) ?? body.contentType ?? "";
      sessions.set(id, {
        bucket,
        name,
        contentType,
        metadata: body.metadata,
        received: [],
        bytes: 0,
        query: q,
      });
      const location = new URL(`${origin}/upload/storage/v1/b/${bucket}/o`);
      location.searchParams.set("uploadType", "resumable");
      location.searchParams.set("name", name);
      location.searchParams.set("upload_id", id);
      res.writeHead(200, { location: location.href, "content-length": "0" }).end();
      return;
    }
    throw invalid(`Invalid upload type: ${type}`);
  };

  /** A PUT (or DELETE) of a resumable session: a chunk, the last one, or a status query. */
  const resumable = async (req: IncomingMessage, res: ServerResponse, id: string) => {
    const s = sessions.get(id);
    if (!s || s.cancelled) {
      throw new GcsError(404, "No such upload session (it was cancelled or expired).", "notFound");
    }
    if (req.method === "DELETE") {
      s.cancelled = true;
      // 499 "Client Closed Request" is what GCS answers to a cancellation
      res.writeHead(499, { "content-length": "0" }).end();
      return;
    }
    if (req.method !== "PUT" && req.method !== "POST") {
      throw new GcsError(405, "resumable sessions take PUT", "methodNotAllowed");
    }
    const chunk = await readBody(req);
    if (s.done) return json(res, 200, resource(s.done));
    // "bytes a-b/total" (a chunk; total "*" while unknown), "bytes a-*/total" (the rest of the
    // upload in this request, as @google-cloud/storage streams it), "bytes */total" (nothing
    // more: finalise), "bytes */*" (a status query); no header: the whole object at once
    const header = req.headers["content-range"];
    const range = header === undefined ? `bytes 0-*/*` : String(header);
    const m = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/.exec(range);
    if (!m) throw invalid(`Invalid Content-Range: ${range}`);
    let total = m[3] === "*" ? undefined : Number(m[3]);
    if (m[1] !== undefined) {
      const start = Number(m[1]);
      const openEnded = m[2] === "*";
      if (!openEnded && Number(m[2]) - start + 1 !== chunk.length) {
        throw invalid("The Content-Range does not match the length of the body.");
      }
      if (start > s.bytes) {
        throw invalid(
          `Invalid request: the upload offset is ${start}, but ${s.bytes} bytes were persisted.`,
        );
      }
      const end = start + chunk.length; // exclusive
      if (openEnded) {
        if (total !== undefined && total !== end) {
          throw invalid("The upload ended before (or after) its declared size.");
        }
        total = end;
      }
      // bytes resent after an unacknowledged chunk: keep what is new
      let fresh = chunk.subarray(Math.min(chunk.length, s.bytes - start));
      // GCS persists whole 256 KiB units of a chunk that is not the last
      if (total === undefined || end < total) {
        const persisted = s.bytes + fresh.length;
        fresh = fresh.subarray(0, fresh.length - (persisted % RESUMABLE_QUANTUM));
      }
      s.received.push(Buffer.from(fresh));
      s.bytes += fresh.length;
    } else if (chunk.length > 0) {
      throw invalid("A body needs a Content-Range of bytes a-b/total.");
    }
    if (total !== undefined && s.bytes > total) {
      throw invalid("More bytes were sent than the declared size of the upload.");
    }
    if (total !== undefined && s.bytes === total) {
      const data = Buffer.concat(s.received);
      verifyHashes(req.headers["x-goog-hash"], data);
      s.done = write(s.bucket, s.name, data, s.query, {
        ...(s.contentType ? { contentType: s.contentType } : {}),
        ...(s.metadata ? { metadata: s.metadata } : {}),
      });
      s.received = [];
      return json(res, 200, resource(s.done));
    }
    res
      .writeHead(308, {
        "content-length": "0",
        ...(s.bytes > 0 ? { range: `bytes=0-${s.bytes - 1}` } : {}),
      })
      .end();
  };

  // ------------------------------------------------------------------ reading bytes

  const media = (
    req: IncomingMessage,
    res: ServerResponse,
    o: StoredObject,
    overrides: { contentType?: string | null; disposition?: string | null },
  ) => {
    const size = o.data.length;
    const headers: Record<string, string> = {
      "content-type": overrides.contentType || o.contentType,
      "x-goog-generation": String(o.generation),
      "x-goog-metageneration": String(o.metageneration),
      "x-goog-hash": `crc32c=${crc32cBase64(o.crc32c)}${o.md5 ? `,md5=${o.md5.toString("base64")}` : ""}`,
      "x-goog-stored-content-encoding": "identity",
      "x-goog-stored-content-length": String(size),
      ...(o.componentCount !== undefined
        ? { "x-goog-component-count": String(o.componentCount) }
        : {}),
      etag: `"${o.md5 ? o.md5.toString("hex") : etagOf(o)}"`,
      "last-modified": o.updated.toUTCString(),
      "accept-ranges": "bytes",
      ...(overrides.disposition ? { "content-disposition": overrides.disposition } : {}),
    };
    const range = parseRange(req.headers.range, size);
    if (range === "unsatisfiable") {
      res.writeHead(416, { "content-range": `bytes */${size}`, "content-length": "0" }).end();
      return;
    }
    const [start, end] = range ?? [0, size - 1];
    const body = o.data.subarray(start, end + 1);
    headers["content-length"] = String(body.length);
    if (range) headers["content-range"] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  };

  // ------------------------------------------------------------------ signed URLs (XML API)

  const signed = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const method = req.method ?? "GET";
    const [, bucket = "", ...segments] = rawPath(url).split("/");
    const name = segments.map(decodeURIComponent).join("/");
    const q = url.searchParams;
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { "content-type": "application/xml; charset=UTF-8" });
      res.end(
        `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
      );
    };
    if (q.get("X-Goog-Algorithm") !== "GOOG4-RSA-SHA256") {
      return fail(400, "InvalidArgument", "Only GOOG4-RSA-SHA256 is accepted here.");
    }
    const credential = q.get("X-Goog-Credential") ?? "";
    const [email = "", date = "", scopeLocation = "", service, terminator] = credential.split("/");
    const when = q.get("X-Goog-Date") ?? "";
    const expires = Number(q.get("X-Goog-Expires"));
    const signedHeaders = (q.get("X-Goog-SignedHeaders") ?? "").split(";");
    const signature = q.get("X-Goog-Signature") ?? "";
    const at = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(when);
    if (
      !at ||
      service !== "storage" ||
      terminator !== "goog4_request" ||
      when.slice(0, 8) !== date ||
      !Number.isInteger(expires) ||
      expires < 1 ||
      expires > SEVEN_DAYS ||
      !signedHeaders.includes("host")
    ) {
      return fail(400, "AuthorizationQueryParametersError", "Malformed signed URL parameters.");
    }
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number) as number[];
    const signedAt = Date.UTC(
      year as number,
      (month as number) - 1,
      day as number,
      hour as number,
      minute as number,
      second as number,
    );
    if (Date.now() > signedAt + expires * 1000) {
      return fail(400, "ExpiredToken", "Invalid argument: the signed URL has expired.");
    }
    const key = signers.get(email);
    if (!key) return fail(403, "AccessDenied", `Unknown service account ${email}.`);
    const canonicalQuery = [...q]
      .filter(([k]) => k !== "X-Goog-Signature")
      .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join("&");
    const canonicalHeaders = signedHeaders
      .map((h) => {
        // the host without its port: how @google-cloud/storage signs an endpoint with one
        const value = h === "host" ? url.hostname : String(req.headers[h] ?? "");
        return `${h}:${value.trim().replace(/\s{2,}/g, " ")}\n`;
      })
      .join("");
    const canonicalRequest = [
      method,
      `/${bucket}/${name.split("/").map(rfc3986).join("/")}`,
      canonicalQuery,
      canonicalHeaders,
      signedHeaders.join(";"),
      "UNSIGNED-PAYLOAD",
    ].join("\n");
    const toSign = [
      "GOOG4-RSA-SHA256",
      when,
      `${date}/${scopeLocation}/storage/goog4_request`,
      createHash("sha256").update(canonicalRequest).digest("hex"),
    ].join("\n");
    const ok =
      /^[0-9a-f]+$/i.test(signature) &&
      createVerify("RSA-SHA256").update(toSign).verify(key, Buffer.from(signature, "hex"));
    if (!ok) {
      return fail(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
      );
    }
    if (method === "GET" || method === "HEAD") {
      const o = buckets.get(bucket)?.get(name);
      if (!o) return fail(404, "NoSuchKey", "The specified key does not exist.");
      return media(req, res, o, {
        contentType: q.get("response-content-type"),
        disposition: q.get("response-content-disposition"),
      });
    }
    if (method === "PUT") {
      if (!buckets.has(bucket))
        return fail(404, "NoSuchBucket", "The specified bucket does not exist.");
      const data = await readBody(req);
      const contentType = req.headers["content-type"];
      const o = write(
        bucket,
        name,
        data,
        new URLSearchParams(),
        contentType ? { contentType } : {},
      );
      res.writeHead(200, {
        etag: `"${(o.md5 as Buffer).toString("hex")}"`,
        "x-goog-generation": String(o.generation),
        "x-goog-metageneration": "1",
        "x-goog-hash": `crc32c=${crc32cBase64(o.crc32c)},md5=${(o.md5 as Buffer).toString("base64")}`,
        "content-length": "0",
      });
      res.end();
      return;
    }
    return fail(405, "MethodNotAllowed", `${method} is not allowed on a signed URL here.`);
  };

  // ------------------------------------------------------------------ dispatch

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (url.searchParams.has("X-Goog-Signature")) return signed(req, res, url);
    const segments = rawPath(url).split("/").slice(1).map(decodeURIComponent);
    // /upload/storage/v1/b/{bucket}/o
    if (segments[0] === "upload" && segments[1] === "storage" && segments[2] === "v1") {
      if (segments[3] !== "b" || !segments[4] || segments[5] !== "o" || segments.length !== 6) {
        throw notFound("Not Found");
      }
      return upload(req, res, url, segments[4]);
    }
    // /storage/v1/b/... (an endpoint) or /b/... (STORAGE_EMULATOR_HOST)
    const api = segments[0] === "storage" && segments[1] === "v1" ? segments.slice(2) : segments;
    if (api[0] !== "b" || !api[1]) throw notFound("Not Found");
    const bucket = api[1];
    if (api.length === 2) {
      if (req.method !== "GET")
        throw new GcsError(405, "buckets are read only here", "methodNotAllowed");
      bucketOf(bucket);
      return json(res, 200, {
        kind: "storage#bucket",
        id: bucket,
        name: bucket,
        selfLink: `${origin}/storage/v1/b/${bucket}`,
        projectNumber: "123456789012",
        metageneration: "1",
        location,
        locationType: "region",
        storageClass: "STANDARD",
        timeCreated: bucketCreated.toISOString(),
        updated: bucketCreated.toISOString(),
        etag: "CAE=",
      });
    }
    if (api[2] !== "o") throw notFound("Not Found");
    return objectRoute(req, res, url, bucket, api.slice(3));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake-gcs");
    // the host the client used (an IP and port), for the URLs this server hands out
    const host = req.headers.host ?? "";
    const requestUrl = new URL(`http://${host}${req.url ?? "/"}`);
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    route(req, res, requestUrl).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // drain what the client still sends, then answer
      req.resume();
      if (error instanceof GcsError) {
        if (error.status === 304) {
          res.writeHead(304).end();
          return;
        }
        json(res, error.status, {
          error: {
            code: error.status,
            message: error.message,
            errors: [{ message: error.message, domain: "global", reason: error.reason }],
          },
        });
        return;
      }
      json(res, 500, { error: { code: 500, message: String((error as Error).message) } });
    });
  });
  // Google keeps idle connections open for minutes; Node's 5 s default would close a socket the
  // client is about to reuse (EPIPE on a busy machine), which GCS itself never does
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return Object.assign(emitter, {
    url: origin,
    port,
    notifications,
    requests,
    forbidden,
    object(bucket: string, name: string) {
      const o = buckets.get(bucket)?.get(name);
      return (
        o && {
          data: o.data,
          generation: String(o.generation),
          metageneration: String(o.metageneration),
        }
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

// ----------------------------------------------------------------------------------- helpers

/** GCS object names: 1 to 1024 bytes of UTF-8, no carriage return or line feed. */
function checkName(name: string): void {
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes < 1 || bytes > 1024 || /[\r\n]/.test(name) || name === "." || name === "..") {
    throw invalid(`The object name '${name.slice(0, 100)}' is invalid.`);
  }
}

function etagOf(o: StoredObject): string {
  return Buffer.from(`${o.generation}/${o.metageneration}`, "utf8").toString("base64");
}

/** Names in the order GCS lists them: by their UTF-8 bytes. */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** The path as sent, still percent-encoded (URL normalises nothing we rely on). */
function rawPath(url: URL): string {
  return url.pathname;
}

/** RFC 3986 encoding: everything but `A-Z a-z 0-9 - . _ ~`, as V4 signing canonicalises. */
function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function parseRange(
  header: string | undefined,
  size: number,
): [number, number] | undefined | "unsatisfiable" {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined; // GCS ignores a malformed Range
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return [start, end];
}

/** `x-goog-hash: crc32c=...,md5=...` of an upload: what is given must match the bytes. */
function verifyHashes(header: string | string[] | undefined, data: Buffer): void {
  if (!header) return;
  for (const pair of String(header).split(",")) {
    const at = pair.indexOf("=");
    const kind = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
    if (kind === "md5" && value !== createHash("md5").update(data).digest("base64")) {
      throw invalid("Provided MD5 hash does not match the calculated MD5 hash.");
    }
    if (kind === "crc32c" && value !== crc32cBase64(crc32c(data))) {
      throw invalid("Provided CRC32C does not match the calculated CRC32C.");
    }
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req)).toString("utf8");
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw invalid("Parse Error: the request body is not JSON.");
  }
}

/** The parts of a `multipart/related` body: headers (lower-case) and bytes. */
function parseMultipart(
  contentType: string | undefined,
  body: Buffer,
): { headers: Record<string, string>; body: Buffer }[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? "")?.[1];
  if (!boundary || !/^multipart\/related/i.test(contentType ?? "")) {
    throw invalid("A multipart upload needs Content-Type: multipart/related; boundary=...");
  }
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break; // the closing delimiter
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    // "\r\n" after the delimiter, headers, "\r\n\r\n", the body, "\r\n" before the next one
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf("\r\n\r\n");
    const head = split < 0 ? "" : part.subarray(0, split).toString("utf8");
    const headers: Record<string, string> = {};
    for (const line of head.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0)
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, body: split < 0 ? Buffer.alloc(0) : part.subarray(split + 4) });
    at = next;
  }
  if (parts.length !== 2)
    throw invalid("A multipart upload has exactly two parts: metadata, media.");
  return parts;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

// ------------------------------------------------------------------------- credentials

export interface ServiceAccount {
  email: string;
  /** A key file as `gcloud iam service-accounts keys create` writes it (for ADC). */
  keyFile: string;
  /** What {@link startFakeGcs} takes as `signers`. */
  signers: Record<string, string>;
}

/**
 * A service account of its own, with a generated key written to `path`: what signs V4 URLs
 * (GOOGLE_APPLICATION_CREDENTIALS=path). Its token URI leads nowhere: nothing here asks Google
 * for a token, emulator endpoints get no credentials.
 */
export function serviceAccount(path: string): ServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const email = "lamin-test@lamin-test.iam.gserviceaccount.com";
  writeFileSync(
    path,
    JSON.stringify({
      type: "service_account",
      project_id: "lamin-test",
      private_key_id: "0123456789abcdef",
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      client_email: email,
      client_id: "100000000000000000001",
      token_uri: "http://127.0.0.1:1/token",
    }),
    { mode: 0o600 },
  );
  return {
    email,
    keyFile: path,
    signers: { [email]: publicKey.export({ type: "spki", format: "pem" }) as string },
  };
}

// ------------------------------------------------------------------------- event deliveries

/** The object resource a notification carries. */
export function pushedObject(push: PubSubPush): Record<string, unknown> {
  return JSON.parse(Buffer.from(push.message.data, "base64").toString("utf8"));
}

const CLOUD_EVENT_TYPES: Record<GcsEventType, string> = {
  OBJECT_FINALIZE: "google.cloud.storage.object.v1.finalized",
  OBJECT_DELETE: "google.cloud.storage.object.v1.deleted",
  OBJECT_ARCHIVE: "google.cloud.storage.object.v1.archived",
  OBJECT_METADATA_UPDATE: "google.cloud.storage.object.v1.metadataUpdated",
};

/**
 * The same change as Eventarc delivers it: a CloudEvent in binary mode (the object resource as
 * the body, `ce-*` headers) or structured mode (`application/cloudevents+json`).
 */
export function cloudEvent(
  push: PubSubPush,
  mode: "binary" | "structured",
): { headers: Record<string, string>; body: string } {
  const a = push.message.attributes;
  const data = pushedObject(push);
  const meta = {
    specversion: "1.0",
    id: push.message.messageId,
    source: `//storage.googleapis.com/projects/_/buckets/${a.bucketId}`,
    type: CLOUD_EVENT_TYPES[a.eventType as GcsEventType],
    subject: `objects/${a.objectId}`,
    time: a.eventTime as string,
  };
  if (mode === "structured") {
    return {
      headers: { "content-type": "application/cloudevents+json; charset=utf-8" },
      body: JSON.stringify({ ...meta, datacontenttype: "application/json", data }),
    };
  }
  const headers: Record<string, string> = { "content-type": "application/json" };
  for (const [k, v] of Object.entries(meta)) headers[`ce-${k}`] = v;
  return { headers, body: JSON.stringify(data) };
}
