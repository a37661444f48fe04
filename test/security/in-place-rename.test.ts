/**
 * The key of an artifact registered in place (`_key_is_virtual = false`: its key is where its
 * bytes are, as the watcher, reconcile and storage events register them) changed through
 * `PATCH /artifacts/{uid}` (issue 13, item 5). LaminDB moves the bytes with the key and refuses
 * when the destination exists; so do we, on local and S3 storage. The attacks: a rename onto
 * bytes that are already there (another artifact's, or a file nobody registered), out of the
 * root, into lamindb's own folder, or through a link to a folder outside.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../core/db/client.js";
import {
  parseS3Notification,
  type StorageEvent,
  sequencerFromTime,
} from "../../core/ingest/events.js";
import { Ingestor } from "../../core/ingest/ingest.js";
import { reconcile } from "../../core/ingest/reconcile.js";
import type { Instance } from "../../core/instance.js";
import { initInstance } from "../../core/setup.js";
import { createApp } from "../../functions/api/app.js";
import {
  createInstance,
  snapshotTables,
  type TestInstance,
  tempDir,
  useTempHome,
} from "../helpers.js";
import { type S3rverHandle, startS3rver } from "../servers/s3rver.js";

useTempHome();

/** Artifact rows and the per-key event bookkeeping, to compare before and after a refusal. */
async function snapshot(instance: Instance): Promise<string> {
  const objects = await queryRows(
    instance.db,
    sql`SELECT * FROM lns_storage_object ORDER BY storage_id, key`,
  );
  return (await snapshotTables(instance.db, ["lamindb_artifact"])) + JSON.stringify(objects);
}
const TOKEN = "rename-test-token";

const apiOf = (instance: Instance) => {
  const app = createApp({ instance: () => instance, authorize: (t) => t === TOKEN });
  return async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // object storage answers downloads with a presigned URL: follow it as a client does
    const location = res.status === 302 ? res.headers.get("location") : null;
    const final = location ? await fetch(location) : res;
    const text = await final.text();
    return { status: final.status, text, json: () => JSON.parse(text) };
  };
};

/** Register what is in storage in place, as reconcile does; the uid registered at each key. */
async function registerInPlace(instance: Instance): Promise<Record<string, string>> {
  const report = await reconcile(instance);
  return Object.fromEntries(
    [...report.registered, ...report.changed].map((c) => [c.key, c.uid as string]),
  );
}

describe("renaming an artifact registered in place, local storage", () => {
  let ti: TestInstance;
  let instance: Instance;
  let root: string;
  let api: ReturnType<typeof apiOf>;
  const file = (key: string) => join(root, ...key.split("/"));
  const write = (key: string, text: string) => {
    mkdirSync(join(file(key), ".."), { recursive: true });
    writeFileSync(file(key), text);
  };

  beforeAll(async () => {
    ti = await createInstance("pglite");
    ({ instance, root } = ti);
    api = apiOf(instance);
  });
  afterAll(() => ti?.dispose());

  it("moves the bytes with the key; the artifact, its versions and reconcile agree", async () => {
    write("raw/a.csv", "a-bytes v1");
    const v0 = (await registerInPlace(instance))["raw/a.csv"] as string;
    write("raw/a.csv", "a-bytes v2");
    const v1 = (await registerInPlace(instance))["raw/a.csv"] as string;
    expect(v1.slice(0, 16)).toBe(v0.slice(0, 16));

    const res = await api("PATCH", `/artifacts/${v1}`, { key: "moved/a2.csv" });
    expect(res.status, res.text).toBe(200);
    expect(res.json()).toMatchObject({ uid: v1, key: "moved/a2.csv", path: file("moved/a2.csv") });
    expect(readFileSync(file("moved/a2.csv"), "utf8")).toBe("a-bytes v2");
    expect(existsSync(file("raw/a.csv"))).toBe(false);
    // the family moved with its bytes: a new file at the old key starts a new one
    const versions = await api("GET", `/artifacts/${v1}/versions`);
    expect(versions.json().map((v: { key: string }) => v.key)).toEqual([
      "moved/a2.csv",
      "moved/a2.csv",
    ]);
    const download = await api("GET", `/artifacts/${v1}/download`);
    expect(download.status).toBe(200);
    expect(download.text).toBe("a-bytes v2");
    const out = tempDir("lamin-load-");
    const loaded = await instance.artifacts.load(v1, { to: out });
    expect(readFileSync(loaded.path, "utf8")).toBe("a-bytes v2");
    const after = await reconcile(instance, { dryRun: true });
    expect([after.registered, after.changed, after.trashed]).toEqual([[], [], []]);

    // a saved artifact's key is virtual: a name, its bytes stay under .lamindb/
    const src = join(tempDir(), "v.csv");
    writeFileSync(src, "virtual");
    const { artifact } = await instance.artifacts.save(src, { key: "virtual/v.csv" });
    const renamed = await api("PATCH", `/artifacts/${artifact.uid}`, { key: "virtual/w.csv" });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.json()).toMatchObject({ key: "virtual/w.csv", path: artifact.path });
    expect(readFileSync(artifact.path, "utf8")).toBe("virtual");

    // an older version's bytes were overwritten in place: it has none to move
    const older = await api("PATCH", `/artifacts/${v0}`, { key: "moved/old.csv" });
    expect(older.status, older.text).toBe(409);
    expect(older.json().hint).toContain(v1);
  });

  it("refuses a rename onto bytes already at the new key, and changes nothing", async () => {
    write("raw/b.csv", "b-bytes");
    write("raw/c.csv", "c-bytes");
    write("raw/d.csv", "d-bytes");
    const { "raw/b.csv": b, "raw/c.csv": c, "raw/d.csv": d } = await registerInPlace(instance);
    // another artifact's bytes, trashed but still in storage; and bytes nobody registered
    expect((await api("DELETE", `/artifacts/${c}`)).status).toBe(200);
    write("raw/unregistered.csv", "nobody registered these bytes");
    const before = await snapshot(instance);

    for (const onto of ["raw/unregistered.csv", "raw/c.csv", "raw/b.csv"]) {
      const res = await api("PATCH", `/artifacts/${d}`, { key: onto });
      expect(res.status, `${onto}: ${res.text}`).toBe(409);
      expect(res.json().hint).toBeTruthy();
    }
    expect(await snapshot(instance)).toBe(before);
    expect(readFileSync(file("raw/d.csv"), "utf8")).toBe("d-bytes");
    expect(readFileSync(file("raw/b.csv"), "utf8")).toBe("b-bytes");
    expect(readFileSync(file("raw/c.csv"), "utf8")).toBe("c-bytes");
    expect(readFileSync(file("raw/unregistered.csv"), "utf8")).toBe(
      "nobody registered these bytes",
    );
    expect((await api("GET", `/artifacts/${b}/download`)).text).toBe("b-bytes");
  });

  it("refuses keys out of the root, into .lamindb/ or through a link, and writes nothing", async () => {
    write("raw/e.csv", "e-bytes");
    const e = (await registerInPlace(instance))["raw/e.csv"] as string;
    const outside = tempDir("lamin-outside-");
    symlinkSync(outside, join(root, "linkdir"));
    const before = await snapshot(instance);
    const attempts: [string, number][] = [
      ["../escape.csv", 400],
      ["raw/../../escape.csv", 400],
      ["/tmp/abs.csv", 400],
      [".lamindb/e.csv", 400],
      ["linkdir/e.csv", 422],
    ];
    for (const [key, status] of attempts) {
      const res = await api("PATCH", `/artifacts/${e}`, { key });
      expect(res.status, `${key}: ${res.text}`).toBe(status);
    }
    expect(await snapshot(instance)).toBe(before);
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(root, "..", "escape.csv"))).toBe(false);
    expect(readFileSync(file("raw/e.csv"), "utf8")).toBe("e-bytes");
  });
});

describe("renaming an artifact registered in place, S3 storage", () => {
  const BUCKET = "rename";
  let s3: S3rverHandle;
  let instance: Instance;
  let api: ReturnType<typeof apiOf>;
  const put = (key: string, body: string) =>
    s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `data/${key}`, Body: body }));
  const text = async (key: string) => {
    const out = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `data/${key}` }));
    return out.Body?.transformToString();
  };
  const exists = (key: string) =>
    s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `data/${key}` })).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    s3 = await startS3rver({ buckets: [BUCKET] });
    process.env.AWS_ACCESS_KEY_ID = "S3RVER";
    process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
    instance = await initInstance({
      storage: `s3://${BUCKET}/data`,
      name: "rename-s3",
      endpoint: s3.endpoint,
      pgliteDir: join(tempDir(), "pglite"),
    });
    api = apiOf(instance);
  });
  afterAll(async () => {
    await instance?.close();
    await s3?.close();
  });

  it("moves the object with the key, and refuses a destination that exists", async () => {
    await put("raw/s.csv", "s-bytes");
    await put("raw/taken.csv", "taken-bytes");
    const uid = (await registerInPlace(instance))["raw/s.csv"] as string;
    const before = await snapshot(instance);
    const refused = await api("PATCH", `/artifacts/${uid}`, { key: "raw/taken.csv" });
    expect(refused.status, refused.text).toBe(409);
    expect(await snapshot(instance)).toBe(before);
    expect(await text("raw/taken.csv")).toBe("taken-bytes");
    expect(await text("raw/s.csv")).toBe("s-bytes");

    const events: StorageEvent[] = [];
    s3.server.on("event", (n: unknown) => {
      for (const e of parseS3Notification(n, { keysEncoded: false })) {
        if (!("reason" in e)) events.push(e);
      }
    });
    const res = await api("PATCH", `/artifacts/${uid}`, { key: "moved/s.csv" });
    expect(res.status, res.text).toBe(200);
    // the bucket's events for the move arrive later and change nothing: s3rver sends the copy's;
    // AWS also sends the delete's (DeleteObjects has none in s3rver), made up here
    await expect.poll(() => events.map((e) => e.key)).toContain("data/moved/s.csv");
    events.push({
      type: "removed",
      bucket: BUCKET,
      key: "data/raw/s.csv",
      sequencer: sequencerFromTime(BigInt(Date.now()) * 1000n),
      name: "ObjectRemoved:DeleteMarkerCreated",
    });
    const outcomes = await new Ingestor(instance).applyAll(events);
    expect(
      outcomes.map((r) => (r.ok ? `${r.outcome.action} ${r.outcome.key}` : r.error.message)),
    ).toEqual(["existing moved/s.csv", "skipped raw/s.csv"]);
    expect(await instance.artifacts.get(uid)).toMatchObject({ key: "moved/s.csv", branch: "main" });
    expect(res.json()).toMatchObject({
      key: "moved/s.csv",
      path: `s3://${BUCKET}/data/moved/s.csv`,
    });
    expect(await text("moved/s.csv")).toBe("s-bytes");
    expect(await exists("raw/s.csv")).toBe(false);
    expect((await api("GET", `/artifacts/${uid}/download`)).text).toBe("s-bytes");
    const after = await reconcile(instance, { dryRun: true });
    expect([after.registered, after.changed, after.trashed]).toEqual([[], [], []]);
  });
});
