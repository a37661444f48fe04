/**
 * The GCS server the tests start (servers/fake-gcs.ts), checked against what Google documents
 * for the JSON API (cloud.google.com/storage/docs/json_api, .../performing-resumable-uploads,
 * .../request-preconditions, .../pubsub-notifications), with plain HTTP: a stand-in that
 * drifted from GCS would make every GCS test prove nothing.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  crc32c,
  crc32cBase64,
  type FakeGcs,
  pushedObject,
  RESUMABLE_QUANTUM,
  startFakeGcs,
} from "./servers/fake-gcs.js";

const B = "docs-bucket";
let gcs: FakeGcs;

beforeAll(async () => {
  gcs = await startFakeGcs({ buckets: [B], location: "europe-west4" });
});

afterAll(async () => {
  await gcs?.close();
});

const api = (path: string) => `${gcs.url}/storage/v1/b/${B}/o${path}`;
const enc = encodeURIComponent;

async function insert(name: string, body: string | Buffer, query = ""): Promise<Response> {
  return fetch(`${gcs.url}/upload/storage/v1/b/${B}/o?uploadType=media&name=${enc(name)}${query}`, {
    method: "POST",
    body,
  });
}

async function meta(name: string): Promise<Record<string, string>> {
  return (await fetch(api(`/${enc(name)}`))).json() as Promise<Record<string, string>>;
}

describe("fake GCS: the JSON API as documented", () => {
  it("CRC32C is Castagnoli's (RFC 3720 check value), base64 of 4 big-endian bytes", () => {
    expect(crc32c(Buffer.from("123456789")).toString(16)).toBe("e3069283");
    expect(crc32c(Buffer.from("6789"), crc32c(Buffer.from("12345")))).toBe(
      crc32c(Buffer.from("123456789")),
    );
    expect(crc32cBase64(0xe3069283)).toBe("4waSgw==");
  });

  it("object resources: int64s as strings, md5Hash and crc32c, both path forms, the bucket's location", async () => {
    const res = await insert("a/b c.txt", "hello");
    expect(res.status).toBe(200);
    const o = (await res.json()) as Record<string, unknown>;
    expect(o).toMatchObject({
      kind: "storage#object",
      name: "a/b c.txt",
      bucket: B,
      size: "5",
      metageneration: "1",
      md5Hash: createHash("md5").update("hello").digest("base64"),
      crc32c: crc32cBase64(crc32c(Buffer.from("hello"))),
    });
    expect(o.generation).toMatch(/^\d{16}$/); // microseconds since the epoch
    expect(await meta("a/b c.txt")).toEqual(o);
    expect(await (await fetch(`${gcs.url}/b/${B}/o/${enc("a/b c.txt")}`)).json()).toEqual(o);
    const bucket = (await (await fetch(`${gcs.url}/storage/v1/b/${B}`)).json()) as object;
    expect(bucket).toMatchObject({ kind: "storage#bucket", name: B, location: "EUROPE-WEST4" });
    const missing = await fetch(api(`/${enc("nope")}`));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      error: { code: 404, errors: [{ reason: "notFound" }] },
    });
    expect((await fetch(`${gcs.url}/storage/v1/b/no-bucket/o`)).status).toBe(404);
  });

  it("alt=media: whole, ranges (206, Content-Range), suffixes, 416; x-goog-hash of the object", async () => {
    await insert("range.txt", "0123456789");
    const whole = await fetch(api("/range.txt?alt=media"));
    expect(whole.status).toBe(200);
    expect(await whole.text()).toBe("0123456789");
    expect(whole.headers.get("x-goog-hash")).toBe(
      `crc32c=${crc32cBase64(crc32c(Buffer.from("0123456789")))},md5=${createHash("md5").update("0123456789").digest("base64")}`,
    );
    expect(whole.headers.get("x-goog-stored-content-encoding")).toBe("identity");
    const part = await fetch(api("/range.txt?alt=media"), { headers: { range: "bytes=2-4" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 2-4/10");
    expect(await part.text()).toBe("234");
    const suffix = await fetch(api("/range.txt?alt=media"), { headers: { range: "bytes=-3" } });
    expect(await suffix.text()).toBe("789");
    const open = await fetch(api("/range.txt?alt=media"), { headers: { range: "bytes=7-" } });
    expect(await open.text()).toBe("789");
    const beyond = await fetch(api("/range.txt?alt=media"), { headers: { range: "bytes=10-" } });
    expect(beyond.status).toBe(416);
  });

  it("lists by prefix, folds names at the delimiter into prefixes, and pages with nextPageToken", async () => {
    for (const n of ["l/1", "l/2", "l/3", "l/d/x", "l/d/y", "l/e/z", "lx"]) await insert(n, n);
    const folded = (await (await fetch(api(`?prefix=l%2F&delimiter=%2F`))).json()) as {
      items: { name: string }[];
      prefixes: string[];
    };
    expect(folded.items.map((i) => i.name)).toEqual(["l/1", "l/2", "l/3"]);
    expect(folded.prefixes).toEqual(["l/d/", "l/e/"]);
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = (await (
        await fetch(api(`?prefix=l%2F&maxResults=2${token ? `&pageToken=${token}` : ""}`))
      ).json()) as { items?: { name: string }[]; nextPageToken?: string };
      names.push(...(page.items ?? []).map((i) => i.name));
      token = page.nextPageToken;
      pages++;
    } while (token);
    expect(names).toEqual(["l/1", "l/2", "l/3", "l/d/x", "l/d/y", "l/e/z"]);
    expect(pages).toBe(3);
  });

  it("resumable: a session URI, chunks persisted in 256 KiB units (308 + Range), status, finalise; cancel", async () => {
    const start = await fetch(
      `${gcs.url}/upload/storage/v1/b/${B}/o?uploadType=resumable&name=big.bin`,
      { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
    );
    expect(start.status).toBe(200);
    const session = start.headers.get("location") as string;
    expect(session).toMatch(/upload_id=/);
    const data = Buffer.alloc(RESUMABLE_QUANTUM * 2 + 100, 7);
    // 300 KiB sent, not the last chunk: only the first 256 KiB are persisted
    const first = data.subarray(0, 300 * 1024);
    const r1 = await fetch(session, {
      method: "PUT",
      headers: { "content-range": `bytes 0-${first.length - 1}/*` },
      body: first,
    });
    expect(r1.status).toBe(308);
    expect(r1.headers.get("range")).toBe(`bytes=0-${RESUMABLE_QUANTUM - 1}`);
    const status = await fetch(session, {
      method: "PUT",
      headers: { "content-range": "bytes */*" },
    });
    expect(status.status).toBe(308);
    expect(status.headers.get("range")).toBe(`bytes=0-${RESUMABLE_QUANTUM - 1}`);
    expect(gcs.object(B, "big.bin")).toBeUndefined();
    // the client resends from the persisted offset, to the end
    const rest = data.subarray(RESUMABLE_QUANTUM);
    const r2 = await fetch(session, {
      method: "PUT",
      headers: {
        "content-range": `bytes ${RESUMABLE_QUANTUM}-${data.length - 1}/${data.length}`,
        "x-goog-hash": `crc32c=${crc32cBase64(crc32c(data))}`,
      },
      body: rest,
    });
    expect(r2.status).toBe(200);
    expect(((await r2.json()) as { size: string }).size).toBe(String(data.length));
    expect(gcs.object(B, "big.bin")?.data.equals(data)).toBe(true);

    const other = await fetch(
      `${gcs.url}/upload/storage/v1/b/${B}/o?uploadType=resumable&name=cancelled.bin`,
      { method: "POST" },
    );
    const uri = other.headers.get("location") as string;
    expect((await fetch(uri, { method: "DELETE" })).status).toBe(499);
    const late = await fetch(uri, {
      method: "PUT",
      headers: { "content-range": "bytes 0-0/1" },
      body: "x",
    });
    expect(late.status).toBe(404);
    expect(gcs.object(B, "cancelled.bin")).toBeUndefined();
  });

  it("refuses an upload whose x-goog-hash does not match its bytes, storing nothing", async () => {
    const res = await insert("bad-hash.txt", "data");
    expect(res.status).toBe(200);
    const bad = await fetch(
      `${gcs.url}/upload/storage/v1/b/${B}/o?uploadType=media&name=bad2.txt`,
      {
        method: "POST",
        headers: { "x-goog-hash": `md5=${createHash("md5").update("other").digest("base64")}` },
        body: "data",
      },
    );
    expect(bad.status).toBe(400);
    expect(gcs.object(B, "bad2.txt")).toBeUndefined();
  });

  it("preconditions: ifGenerationMatch (0: absent), ifMetagenerationMatch, 304 on NotMatch reads", async () => {
    const made = (await (await insert("pre.txt", "v1")).json()) as { generation: string };
    const exists = await insert("pre.txt", "v2", "&ifGenerationMatch=0");
    expect(exists.status).toBe(412);
    expect(await exists.json()).toMatchObject({
      error: { errors: [{ reason: "conditionNotMet" }] },
    });
    expect(gcs.object(B, "pre.txt")?.data.toString()).toBe("v1");
    expect((await insert("fresh.txt", "v1", "&ifGenerationMatch=0")).status).toBe(200);
    const wrong = await fetch(api(`/pre.txt?ifGenerationMatch=1`), { method: "DELETE" });
    expect(wrong.status).toBe(412);
    expect(gcs.object(B, "pre.txt")).toBeDefined();
    expect((await fetch(api(`/pre.txt?ifMetagenerationMatch=2`))).status).toBe(412);
    expect((await fetch(api(`/pre.txt?ifGenerationNotMatch=${made.generation}`))).status).toBe(304);
    const ok = await fetch(api(`/pre.txt?ifGenerationMatch=${made.generation}`), {
      method: "DELETE",
    });
    expect(ok.status).toBe(204);
    expect(gcs.object(B, "pre.txt")).toBeUndefined();
  });

  it("generations: a write makes a newer one, the old one is gone; a patch bumps the metageneration", async () => {
    const v1 = (await (await insert("gen.txt", "one")).json()) as { generation: string };
    const v2 = (await (await insert("gen.txt", "two")).json()) as { generation: string };
    expect(BigInt(v2.generation)).toBeGreaterThan(BigInt(v1.generation));
    expect((await fetch(api(`/gen.txt?alt=media&generation=${v1.generation}`))).status).toBe(404);
    expect(await (await fetch(api(`/gen.txt?alt=media&generation=${v2.generation}`))).text()).toBe(
      "two",
    );
    const patched = await fetch(api("/gen.txt"), {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ metadata: { lab: "x" } }),
    });
    expect(await patched.json()).toMatchObject({
      generation: v2.generation,
      metageneration: "2",
      metadata: { lab: "x" },
    });
  });

  it("compose: the bytes in order, a crc32c and componentCount, no md5Hash; at most 32 sources", async () => {
    await insert("c1", "abc");
    await insert("c2", "def");
    const res = await fetch(api(`/${enc("c/whole")}/compose`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sourceObjects: [{ name: "c1" }, { name: "c2" }, { name: "c1" }] }),
    });
    const whole = (await res.json()) as Record<string, unknown>;
    expect(whole).toMatchObject({
      size: "9",
      componentCount: 3,
      crc32c: crc32cBase64(crc32c(Buffer.from("abcdefabc"))),
    });
    expect(whole).not.toHaveProperty("md5Hash");
    const tooMany = await fetch(api("/c%2Fx/compose"), {
      method: "POST",
      body: JSON.stringify({ sourceObjects: Array.from({ length: 33 }, () => ({ name: "c1" })) }),
    });
    expect(tooMany.status).toBe(400);
  });

  it("notifications: Pub/Sub push bodies with the object resource in base64 data and GCS's attributes", async () => {
    const from = gcs.notifications.length;
    const v1 = (await (await insert("n.txt", "one")).json()) as { generation: string };
    const v2 = (await (await insert("n.txt", "two")).json()) as { generation: string };
    await fetch(api("/n.txt"), {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ metadata: { a: "b" } }),
    });
    await fetch(api("/n.txt"), { method: "DELETE" });
    const pushes = gcs.notifications.slice(from);
    expect(pushes.map((p) => p.message.attributes.eventType)).toEqual([
      "OBJECT_FINALIZE",
      "OBJECT_DELETE", // v1, overwritten
      "OBJECT_FINALIZE",
      "OBJECT_METADATA_UPDATE",
      "OBJECT_DELETE",
    ]);
    const [, overwritten, finalize, update, deleted] = pushes;
    expect(overwritten?.message.attributes).toMatchObject({
      objectGeneration: v1.generation,
      overwrittenByGeneration: v2.generation,
    });
    expect(finalize?.message.attributes).toMatchObject({
      bucketId: B,
      objectId: "n.txt",
      objectGeneration: v2.generation,
      overwroteGeneration: v1.generation,
      payloadFormat: "JSON_API_V1",
      notificationConfig: `projects/_/buckets/${B}/notificationConfigs/1`,
    });
    expect(finalize?.message.messageId).toBe(finalize?.message.message_id);
    expect(pushedObject(finalize as never)).toMatchObject({ name: "n.txt", size: "3" });
    expect(pushedObject(update as never)).toMatchObject({ metageneration: "2" });
    expect(pushedObject(deleted as never)).toMatchObject({
      generation: v2.generation,
      metageneration: "2",
    });
    expect(deleted?.subscription).toMatch(/^projects\/[^/]+\/subscriptions\//);
  });
});
