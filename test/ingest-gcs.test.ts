/**
 * Registration driven by Cloud Storage notifications, through the webhook `POST /events/gcs` as
 * a Pub/Sub push subscription (and Eventarc) calls it, against a GCS server started here: uploads
 * with any client become artifacts with a local save's hash; overwrites version, deletes trash;
 * duplicated and reordered pushes change nothing they should not; a poison message is answered
 * so that Pub/Sub stops redelivering it, and logged; what a push may not do, it does not.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Storage } from "@google-cloud/storage";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import * as t from "../core/db/schema.js";
import { hashFile } from "../core/hash.js";
import type { Instance } from "../core/instance.js";
import { initInstance } from "../core/setup.js";
import { createApp } from "../functions/api/app.js";
import { BACKENDS, createInstance, postgresUrl, tempDir, useTempHome } from "./helpers.js";
import {
  cloudEvent,
  type FakeGcs,
  type PubSubPush,
  pushedObject,
  serviceAccount,
  startFakeGcs,
} from "./servers/fake-gcs.js";

const BUCKET = "lab-gcs";
const PREFIX = "data";
const TOKEN = "lnt_push-token-of-the-test-0123456789";

/** Deterministic shuffles: the same orders on every run. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe.each(BACKENDS)("Cloud Storage notifications on %s", (backend) => {
  let gcs: FakeGcs;
  let instance: Instance;
  let app: ReturnType<typeof createApp>;
  let db: string | undefined;
  let credentials: string | undefined;
  const local = tempDir("lamin-ingest-gcs-");
  const errors: string[] = [];

  const client = () => new Storage({ apiEndpoint: gcs.url }).bucket(BUCKET);

  /** Upload with the SDK (as `gcloud storage cp` would): the pushes the upload caused. */
  async function put(key: string, body: string | Buffer): Promise<PubSubPush[]> {
    const from = gcs.notifications.length;
    await client().file(`${PREFIX}/${key}`).save(body, { resumable: false });
    return gcs.notifications.slice(from);
  }

  async function remove(key: string): Promise<PubSubPush[]> {
    const from = gcs.notifications.length;
    await client().file(`${PREFIX}/${key}`).delete();
    return gcs.notifications.slice(from);
  }

  /** Deliver a body as Pub/Sub does: POST, JSON, the token in the push endpoint's query. */
  function push(
    body: unknown,
    opts: { token?: string | null; headers?: Record<string, string> } = {},
  ) {
    const token = opts.token === undefined ? TOKEN : opts.token;
    return app.request(
      `/events/gcs${token === null ? "" : `?token=${encodeURIComponent(token)}`}`,
      {
        method: "POST",
        headers: { "content-type": "application/json", ...opts.headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      },
    );
  }

  async function outcomes(
    res: Response,
  ): Promise<{ action: string; reason?: string; uid?: string }[]> {
    expect(res.status, await res.clone().text()).toBe(200);
    return ((await res.json()) as { outcomes: { action: string }[] }).outcomes;
  }

  async function pushAll(bodies: readonly PubSubPush[]) {
    const out = [];
    for (const b of bodies) out.push(...(await outcomes(await push(b))));
    return out;
  }

  async function localHash(body: string | Buffer) {
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

  const artifactCount = async () =>
    (await instance.db.select({ n: sql<number>`count(*)::int` }).from(t.artifact))[0]?.n ?? 0;

  beforeAll(async () => {
    useTempHome();
    const account = serviceAccount(join(local, "key.json"));
    credentials = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = account.keyFile;
    gcs = await startFakeGcs({ buckets: [BUCKET, "elsewhere"], signers: account.signers });
    db = backend === "postgres" ? postgresUrl() : undefined;
    instance = await initInstance({
      storage: `gs://${BUCKET}/${PREFIX}`,
      name: `ingest-gcs-${backend}`,
      endpoint: gcs.url,
      pgliteDir: join(local, "pglite"),
      ...(db ? { db } : {}),
    });
    app = createApp({ instance: () => instance, authorize: (token) => token === TOKEN });
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      errors.push(args.map(String).join(" "));
    });
  }, 60_000);

  afterEach(() => {
    // no line of any log ever holds the token of the push endpoint
    for (const line of errors) expect(line).not.toContain(TOKEN);
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    if (credentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    else process.env.GOOGLE_APPLICATION_CREDENTIALS = credentials;
    await instance?.close();
    await gcs?.close();
    if (db) {
      const { dropDatabase } = await import("../core/db/postgres.js");
      await dropDatabase(db).catch(() => {});
    }
  });

  it("registers an upload pushed by Pub/Sub with a local save's hash, reading nothing", async () => {
    const body = "gene,count\nCD8A,12\n";
    const [finalize] = await put("raw/counts.csv", body);
    expect(finalize?.message.attributes.eventType).toBe("OBJECT_FINALIZE");
    const [outcome] = await outcomes(await push(finalize));
    expect(outcome).toMatchObject({ action: "created", key: "raw/counts.csv", bytesRead: 0 });
    const artifact = await instance.artifacts.get({ key: "raw/counts.csv" });
    const expected = await localHash(body);
    expect(artifact).toMatchObject({
      uid: outcome?.uid,
      hash: expected.hash,
      hash_type: "md5",
      size: expected.size,
      suffix: ".csv",
      is_latest: true,
      path: `gs://${BUCKET}/${PREFIX}/raw/counts.csv`,
    });
    // the generation beside the hash, as reconcile compares it
    const [row] = await rowsAt("raw/counts.csv");
    expect(row?.aux).toEqual({ etag: finalize?.message.attributes.objectGeneration });
    // redelivered (Pub/Sub delivers at least once): nothing new
    expect(await outcomes(await push(finalize))).toEqual([
      expect.objectContaining({ action: "duplicate" }),
    ]);
    expect(await rowsAt("raw/counts.csv")).toHaveLength(1);
  });

  it("versions an overwrite, ignores a metadata update's bytes, trashes a delete", async () => {
    const got = await pushAll(await put("runs/model.pt", "weights v1"));
    const v2 = await put("runs/model.pt", "weights v2");
    // the overwrite: OBJECT_DELETE of v1 (overwrittenByGeneration), then OBJECT_FINALIZE of v2
    expect(v2.map((p) => p.message.attributes.eventType)).toEqual([
      "OBJECT_DELETE",
      "OBJECT_FINALIZE",
    ]);
    got.push(...(await pushAll(v2)));
    const from = gcs.notifications.length;
    await client()
      .file(`${PREFIX}/runs/model.pt`)
      .setMetadata({ metadata: { run: "42" } });
    got.push(...(await pushAll(gcs.notifications.slice(from))));
    got.push(...(await pushAll(await remove("runs/model.pt"))));
    expect(got.map((o) => o.action)).toEqual([
      "created",
      "ignored", // v1's deletion by the overwrite: v2's finalize registers the key's next version
      "new-version",
      "existing", // a metadata update, same generation: nothing read, nothing new
      "trashed",
    ]);
    expect(got[1]?.reason).toMatch(/overwritten by generation/);
    expect(got[2]?.uid?.slice(0, 16)).toBe(got[0]?.uid?.slice(0, 16));
    expect((await rowsAt("runs/model.pt")).map((r) => [r.branchId, r.isLatest])).toEqual([
      [-1, false],
      [-1, false],
    ]);
    // uploaded again after the delete: the family goes on
    const v3 = await put("runs/model.pt", "weights v3");
    expect(await pushAll(v3)).toEqual([
      expect.objectContaining({ action: "new-version", uid: expect.stringMatching(/0002$/) }),
    ]);
  });

  it("ends in the same state whatever the order of the pushes, and however often they come", async () => {
    // write, overwrite, update, overwrite, delete, write again: the last generation wins
    const history: PubSubPush[][] = [];
    for (let round = 0; round < 4; round++) {
      const key = `order/k${round}.txt`;
      const pushes = [
        ...(await put(key, "one")),
        ...(await put(key, "two")),
        ...(await (async () => {
          const from = gcs.notifications.length;
          await client()
            .file(`${PREFIX}/${key}`)
            .setMetadata({ metadata: { r: String(round) } });
          return gcs.notifications.slice(from);
        })()),
        ...(await put(key, "three")),
        ...(await remove(key)),
        ...(await put(key, "four")),
      ];
      history.push(pushes);
    }
    for (const [round, pushes] of history.entries()) {
      const key = `order/k${round}.txt`;
      // each push twice, in an order of its own
      const deliveries =
        round === 0 ? [...pushes, ...pushes] : shuffled([...pushes, ...pushes], round);
      await pushAll(deliveries);
      const rows = await rowsAt(key);
      const live = rows.filter((r) => r.branchId === 1 && r.isLatest);
      expect(live).toHaveLength(1);
      expect(live[0]?.hash).toBe((await localHash("four")).hash);
      // never two rows for the same bytes, never a latest that is not the newest generation
      expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
      const state = await instance.db
        .select()
        .from(t.storageObject)
        .where(
          and(
            eq(t.storageObject.storageId, instance.storageRecord.id),
            eq(t.storageObject.key, key),
          ),
        );
      const last = pushes.at(-1)?.message.attributes.objectGeneration as string;
      expect(state[0]).toMatchObject({ etag: last, deleted: false });
    }
  });

  it("answers a poison message 200 (so Pub/Sub stops redelivering it), logs it, and goes on", async () => {
    const [good] = await put("poison/after.csv", "fine\n");
    const envelope = good as PubSubPush;
    const before = await artifactCount();
    errors.length = 0;
    const poison = [
      // data that is no base64 of a JSON object
      { ...envelope, message: { ...envelope.message, data: "%%%not base64 json%%%" } },
      // no event type
      { ...envelope, message: { ...envelope.message, attributes: { bucketId: BUCKET } } },
      // attributes and object resource naming two objects
      {
        ...envelope,
        message: {
          ...envelope.message,
          attributes: { ...envelope.message.attributes, objectId: `${PREFIX}/poison/other.csv` },
        },
      },
      // a generation that is no int64
      {
        ...envelope,
        message: {
          ...envelope.message,
          attributes: { ...envelope.message.attributes, objectGeneration: "12ab" },
          data: Buffer.from(
            JSON.stringify({ ...pushedObject(envelope), generation: "12ab" }),
          ).toString("base64"),
        },
      },
    ];
    for (const body of poison) {
      expect(await outcomes(await push(body))).toEqual([
        { action: "rejected", reason: expect.any(String) },
      ]);
    }
    expect(await artifactCount()).toBe(before);
    const logged = errors.map((e) => JSON.parse(e) as Record<string, unknown>);
    expect(logged).toHaveLength(poison.length);
    for (const entry of logged) {
      expect(entry).toMatchObject({
        level: "error",
        route: "/events/gcs",
        action: "rejected",
        messageId: envelope.message.messageId,
      });
    }
    // the messages after it are not held up
    expect(await outcomes(await push(envelope))).toEqual([
      expect.objectContaining({ action: "created", key: "poison/after.csv" }),
    ]);
    // what is no delivery at all is the sender's mistake: 400, nothing logged as a message
    const notADelivery = await push({ hello: "world" });
    expect(notADelivery.status).toBe(400);
    expect((await push("not json")).status).toBe(400);
  });

  it("takes Eventarc's CloudEvents, binary and structured, and Pub/Sub's NONE payload", async () => {
    const [a] = await put("ce/binary.csv", "binary");
    const [b] = await put("ce/structured.csv", "structured");
    const [c] = await put("ce/none.csv", "no payload");
    const binary = cloudEvent(a as PubSubPush, "binary");
    const structured = cloudEvent(b as PubSubPush, "structured");
    const res1 = await push(binary.body, { headers: binary.headers });
    expect(await outcomes(res1)).toEqual([
      expect.objectContaining({ action: "created", key: "ce/binary.csv" }),
    ]);
    const res2 = await push(structured.body, { headers: structured.headers });
    expect(await outcomes(res2)).toEqual([
      expect.objectContaining({ action: "created", key: "ce/structured.csv" }),
    ]);
    const none = c as PubSubPush;
    const bare = {
      ...none,
      message: {
        ...none.message,
        data: "",
        attributes: { ...none.message.attributes, payloadFormat: "NONE" },
      },
    };
    expect(await outcomes(await push(bare))).toEqual([
      expect.objectContaining({ action: "created", key: "ce/none.csv" }),
    ]);
    expect((await instance.artifacts.get({ key: "ce/none.csv" })).hash).toBe(
      (await localHash("no payload")).hash,
    );
    // an event of a kind that is not about object contents is acknowledged, not acted on
    const other = cloudEvent(a as PubSubPush, "binary");
    const ignored = await push(other.body, {
      headers: { ...other.headers, "ce-type": "google.cloud.storage.bucket.v1.updated" },
    });
    expect(await outcomes(ignored)).toEqual([expect.objectContaining({ action: "ignored" })]);
  });

  it("reads a composite object (no md5Hash) to register it, with a local save's hash", async () => {
    const parts = [Buffer.alloc(300_000, 1), Buffer.alloc(200_000, 2)];
    await put("comp/a.part", parts[0] as Buffer);
    await put("comp/b.part", parts[1] as Buffer);
    const from = gcs.notifications.length;
    await client().combine(
      [`${PREFIX}/comp/a.part`, `${PREFIX}/comp/b.part`],
      `${PREFIX}/comp/whole.bin`,
    );
    const [finalize] = gcs.notifications.slice(from);
    expect(pushedObject(finalize as PubSubPush)).not.toHaveProperty("md5Hash");
    expect(await outcomes(await push(finalize))).toEqual([
      expect.objectContaining({ action: "created", key: "comp/whole.bin", bytesRead: 500_000 }),
    ]);
    expect((await instance.artifacts.get({ key: "comp/whole.bin" })).hash).toBe(
      (await localHash(Buffer.concat(parts))).hash,
    );
  });

  it("believes storage, not the message: forged sizes, hashes, generations and places register nothing false", async () => {
    const [real] = await put("forged/real.csv", "the real bytes");
    const envelope = real as PubSubPush;
    const resource = pushedObject(envelope);
    const forge = (attributes: Record<string, string>, object: Record<string, unknown>) => ({
      ...envelope,
      message: {
        ...envelope.message,
        attributes: { ...envelope.message.attributes, ...attributes },
        data: Buffer.from(JSON.stringify({ ...resource, ...object })).toString("base64"),
      },
    });
    const before = await artifactCount();
    // a generation the object never had: the read pinned to it finds nothing to register
    const wrongGeneration = forge(
      { objectGeneration: "1000000000000001" },
      { generation: "1000000000000001" },
    );
    expect(await outcomes(await push(wrongGeneration))).toEqual([
      expect.objectContaining({ action: "stale" }),
    ]);
    // another bucket, and a key outside the instance's prefix: not this instance's
    const otherBucket = forge({ bucketId: "elsewhere" }, { bucket: "elsewhere" });
    expect(await outcomes(await push(otherBucket))).toEqual([
      expect.objectContaining({
        action: "skipped",
        reason: `bucket elsewhere is not this instance's storage (gs://${BUCKET}/${PREFIX})`,
      }),
    ]);
    const outside = forge({ objectId: "private/x.csv" }, { name: "private/x.csv" });
    expect(await outcomes(await push(outside))).toEqual([
      expect.objectContaining({ action: "skipped", reason: "outside the storage prefix data/" }),
    ]);
    const dotted = forge({ objectId: `${PREFIX}/a/../b.csv` }, { name: `${PREFIX}/a/../b.csv` });
    expect(await outcomes(await push(dotted))).toEqual([
      expect.objectContaining({ action: "skipped" }),
    ]);
    expect(await artifactCount()).toBe(before);
    // the message's own md5Hash and size are never believed: the hash is the object's
    const lying = forge({}, { md5Hash: "1B2M2Y8AsgTpgAmY7PhCfg==", size: "0" });
    expect(await outcomes(await push(lying))).toEqual([
      expect.objectContaining({ action: "created" }),
    ]);
    expect(await instance.artifacts.get({ key: "forged/real.csv" })).toMatchObject({
      hash: (await localHash("the real bytes")).hash,
      size: 14,
    });
  });

  it("completes an upload through the API's signed URL by its notification; downloads by a signed URL", async () => {
    const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const body = "through a signed url\n";
    const h = await localHash(body);
    const started = await app.request("/artifacts/uploads", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({
        name: "signed.csv",
        key: "api/signed.csv",
        size: h.size,
        hash: h.hash,
        hash_type: "md5",
      }),
    });
    expect(started.status).toBe(200);
    const ticket = (await started.json()) as {
      artifact: { uid: string };
      upload: { url: string; direct?: boolean };
    };
    expect(ticket.upload.direct).toBe(true);
    expect(new URL(ticket.upload.url).searchParams.get("X-Goog-Algorithm")).toBe(
      "GOOG4-RSA-SHA256",
    );
    const from = gcs.notifications.length;
    expect((await fetch(ticket.upload.url, { method: "PUT", body })).status).toBe(200);
    const [finalize] = gcs.notifications.slice(from);
    expect(await outcomes(await push(finalize))).toEqual([
      expect.objectContaining({ action: "completed", uid: ticket.artifact.uid }),
    ]);
    expect((await instance.artifacts.get(ticket.artifact.uid)).upload_complete).toBe(true);
    const download = await app.request(`/artifacts/${ticket.artifact.uid}/download?redirect=true`, {
      headers: auth,
    });
    expect(download.status).toBe(302);
    const signed = download.headers.get("location") as string;
    expect(signed.startsWith(gcs.url)).toBe(true);
    const got = await fetch(signed);
    expect(got.headers.get("content-disposition")).toMatch(/^attachment; filename="signed\.csv"/);
    expect(await got.text()).toBe(body);
  });

  describe("who may push", () => {
    it("no token, a wrong one, or the token on another route: 401, and nothing registered", async () => {
      const [finalize] = await put("auth/a.csv", "a");
      const before = await artifactCount();
      const none = await push(finalize, { token: null });
      expect(none.status).toBe(401);
      expect((await push(finalize, { token: "lnt_wrong" })).status).toBe(401);
      expect((await push(finalize, { token: "" })).status).toBe(401);
      // the query string authenticates this one route only
      const elsewhere = await app.request(`/artifacts?token=${TOKEN}`);
      expect(elsewhere.status).toBe(401);
      const upload = await app.request(`/artifacts/uploads?token=${TOKEN}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          name: "x.csv",
          size: 1,
          hash: "AAAAAAAAAAAAAAAAAAAAAA",
          hash_type: "md5",
        }),
      });
      expect(upload.status).toBe(401);
      const s3Hook = await app.request(`/events/s3?token=${TOKEN}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ Records: [] }),
      });
      expect(s3Hook.status).toBe(401);
      expect(await artifactCount()).toBe(before);
      // with the token: the push applies; Google's OIDC header beside it is not ours to check
      const res = await push(finalize, {
        headers: { authorization: "Bearer eyJhbGciOiJSUzI1NiJ9.google.oidc" },
      });
      expect(await outcomes(res)).toEqual([expect.objectContaining({ action: "created" })]);
      // and the bearer header of the API works too
      const [other] = await put("auth/b.csv", "b");
      const viaHeader = await app.request("/events/gcs", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(other),
      });
      expect(await outcomes(viaHeader)).toEqual([expect.objectContaining({ action: "created" })]);
    });

    it("a read-only caller is refused (403) and nothing is registered", async () => {
      const readOnly = createApp({
        instance: () => instance,
        authorize: (token) => token === TOKEN,
        role: () => "read",
      });
      const [finalize] = await put("auth/read.csv", "r");
      const before = await artifactCount();
      const res = await readOnly.request(`/events/gcs?token=${TOKEN}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(finalize),
      });
      expect(res.status).toBe(403);
      expect(await artifactCount()).toBe(before);
    });
  });

  it("reconciles what no push told: uploads registered, deletions trashed", async () => {
    await pushAll(await put("rec/gone.csv", "will vanish"));
    await put("rec/new.csv", "nobody told"); // pushes lost
    await remove("rec/gone.csv");
    const report = await instance.reconcile();
    expect(report.registered.find((c) => c.key === "rec/new.csv")?.action).toBe("created");
    expect(report.trashed.find((c) => c.key === "rec/gone.csv")?.action).toBe("trashed");
    const again = await instance.reconcile();
    expect([...again.registered, ...again.changed, ...again.trashed]).toEqual([]);
  });
});

describe("Cloud Storage notifications to the wrong instance", () => {
  beforeAll(() => {
    useTempHome();
  });

  it("an instance whose storage is not the bucket refuses the push (400), so it waits for the right one", async () => {
    const folder = await createInstance("pglite");
    try {
      const other = createApp({ instance: () => folder.instance, authorize: (t) => t === TOKEN });
      const push: PubSubPush = {
        message: {
          attributes: {
            eventType: "OBJECT_FINALIZE",
            payloadFormat: "JSON_API_V1",
            bucketId: BUCKET,
            objectId: `${PREFIX}/misdirected.csv`,
            objectGeneration: "1700000000000001",
          },
          data: Buffer.from(
            JSON.stringify({
              bucket: BUCKET,
              name: `${PREFIX}/misdirected.csv`,
              generation: "1700000000000001",
              metageneration: "1",
              size: "1",
            }),
          ).toString("base64"),
          messageId: "1",
          message_id: "1",
          publishTime: new Date().toISOString(),
          publish_time: new Date().toISOString(),
        },
        subscription: "projects/p/subscriptions/s",
      };
      const before = (await folder.instance.artifacts.list()).items.length;
      const res = await other.request(`/events/gcs?token=${TOKEN}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(push),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        detail: expect.stringMatching(/not a Cloud Storage bucket/),
      });
      expect((await folder.instance.artifacts.list()).items.length).toBe(before);
    } finally {
      await folder.dispose();
    }
  });
});
