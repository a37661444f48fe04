/**
 * The storage interface, the same cases on each backend: a local folder, S3 (s3rver) and Google
 * Cloud Storage (test/servers/fake-gcs.ts). Writing, reading, ranges, listing, folders, moves,
 * bounded streams, the hashing policy (what is read, and how much), and for object stores
 * presigned URLs. What only one backend does is tested in its own file (s3-storage, gcs-storage).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors.js";
import { HASH_CHUNK, hashFile, hashFolder, hashString } from "../core/hash.js";
import { GcsStorage } from "../core/storage/gcs.js";
import { LocalStorage } from "../core/storage/local.js";
import { S3Storage } from "../core/storage/s3.js";
import { StaleObjectError, type StorageBackend } from "../core/storage/types.js";
import { tempDir, writeTree } from "./helpers.js";
import { type FakeGcs, serviceAccount, startFakeGcs } from "./servers/fake-gcs.js";
import { type S3rverHandle, startS3rver } from "./servers/s3rver.js";
import { collect, MiB, patternFile } from "./storage-files.js";

const BUCKET = "lamin-test";

interface Target {
  storage: StorageBackend & { bytesRead?: number };
  /** Put an object next to the root, outside it: never listed as the storage's. */
  putOutside(name: string, body: string): Promise<void>;
  /** Object stores take hashes from their MD5 metadata and sign URLs; a folder reads. */
  objectStore: boolean;
}

let work: string;
let s3: S3rverHandle;
let gcs: FakeGcs;
let credentials: string | undefined;
const targets = new Map<string, Target>();

beforeAll(async () => {
  work = tempDir();
  s3 = await startS3rver({ buckets: [BUCKET] });
  // signed URLs need a service account: ours, whose public key the server checks them with
  const account = serviceAccount(join(work, "service-account.json"));
  credentials = process.env.GOOGLE_APPLICATION_CREDENTIALS;
  process.env.GOOGLE_APPLICATION_CREDENTIALS = account.keyFile;
  gcs = await startFakeGcs({ buckets: [BUCKET], signers: account.signers });
  const local = join(work, "local", "root");
  mkdirSync(local, { recursive: true });
  targets.set("local", {
    storage: new LocalStorage(local),
    putOutside: async (name, body) => writeFileSync(join(work, "local", name), body),
    objectStore: false,
  });
  const s3Storage = new S3Storage(`s3://${BUCKET}/root/`, {
    endpoint: s3.endpoint,
    client: s3.client,
  });
  const bare = new S3Storage(`s3://${BUCKET}`, { endpoint: s3.endpoint, client: s3.client });
  targets.set("s3", {
    storage: s3Storage,
    putOutside: (name, body) => bare.writeText(name, body),
    objectStore: true,
  });
  const gcsStorage = new GcsStorage(`gs://${BUCKET}/root/`, { endpoint: gcs.url });
  const gcsBare = new GcsStorage(`gs://${BUCKET}`, { endpoint: gcs.url });
  targets.set("gcs", {
    storage: gcsStorage,
    putOutside: (name, body) => gcsBare.writeText(name, body),
    objectStore: true,
  });
}, 60_000);

afterAll(async () => {
  if (credentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  else process.env.GOOGLE_APPLICATION_CREDENTIALS = credentials;
  await s3?.close();
  await gcs?.close();
  rmSync(work, { recursive: true, force: true });
});

async function keysBelow(storage: StorageBackend, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of storage.listObjects(prefix)) keys.push(o.key);
  return keys;
}

describe.each(["local", "s3", "gcs"])("%s storage", (name) => {
  const t = () => targets.get(name) as Target;
  const dir = (what: string) => join(work, name, what);

  it("writes, reads, heads and lists files; objects outside the root are not its own", async () => {
    const { storage } = t();
    await storage.writeText("notes/hello.txt", "hello world\n");
    expect(await storage.readText("notes/hello.txt")).toBe("hello world\n");
    expect(await storage.readText("notes/missing.txt")).toBeUndefined();
    const src = writeTree(dir("small"), { "a.csv": "x,y\n1,2\n" });
    const progress: number[] = [];
    await storage.putFile(join(src, "a.csv"), "notes/a.csv", (n) => progress.push(n));
    expect(progress).toEqual([8]);
    const head = await storage.head("notes/a.csv");
    expect(head).toMatchObject({ key: "notes/a.csv", size: 8, etag: expect.any(String) });
    expect(head?.etag).not.toBe("");
    expect(await storage.head("notes/nope.csv")).toBeUndefined();
    expect(await storage.head("notes")).toBeUndefined(); // a folder is no object
    expect(await storage.exists("notes/a.csv")).toBe(true);
    expect(await storage.exists("notes")).toBe(true);
    expect(await storage.exists("nothing")).toBe(false);
    const dest = join(dir("out"), "a.csv");
    await storage.getFile("notes/a.csv", dest);
    expect(readFileSync(dest, "utf8")).toBe("x,y\n1,2\n");
    const opened = await storage.openRead("notes/a.csv");
    expect(opened.size).toBe(8);
    expect((await collect(opened.stream)).toString()).toBe("x,y\n1,2\n");
    const ranged = await storage.openRead("notes/a.csv", { start: 2, end: 4 });
    expect(ranged.size).toBe(8);
    expect((await collect(ranged.stream)).toString()).toBe("y\n1");
    const tail = await storage.openRead("notes/a.csv", { start: 4 });
    expect((await collect(tail.stream)).toString()).toBe("1,2\n");
    expect(await keysBelow(storage, "notes/")).toEqual(["notes/a.csv", "notes/hello.txt"]);
    expect(await keysBelow(storage, "notes/h")).toEqual(["notes/hello.txt"]);
    await t().putOutside("rootless.txt", "x");
    expect(await keysBelow(storage, "")).toEqual(["notes/a.csv", "notes/hello.txt"]);
    await storage.delete("notes");
    expect(await keysBelow(storage, "")).toEqual([]);
    await storage.delete("notes"); // missing is fine
    await expect(storage.head("../escape")).rejects.toThrow(ValidationError);
  });

  it("uploads 20 MiB with progress, and downloads it byte-exact", async () => {
    const { storage } = t();
    const src = patternFile(join(work, `${name}-20mib.bin`), 20);
    const progress: number[] = [];
    await storage.putFile(src, "big/20mib.bin", (n) => progress.push(n));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(20 * MiB);
    expect((await storage.head("big/20mib.bin"))?.size).toBe(20 * MiB);
    const dest = join(dir("down"), "20mib.bin");
    const before = storage.bytesRead;
    await storage.getFile("big/20mib.bin", dest);
    if (before !== undefined) expect((storage.bytesRead ?? 0) - before).toBe(20 * MiB);
    expect(readFileSync(dest).equals(readFileSync(src))).toBe(true);
    await storage.delete("big/20mib.bin");
    expect(await storage.exists("big/20mib.bin")).toBe(false);
    rmSync(src);
  });

  it("puts folders whole (replacing the older one), gets them back, hashes them like hashFolder", async () => {
    const { storage } = t();
    const v1 = writeTree(dir("folder-v1"), {
      "a.txt": "alpha",
      "sub/b.txt": "beta",
      "sub/deep/c.bin": new Uint8Array([0, 1, 2, 255]),
    });
    const progress: number[] = [];
    await storage.putFolder(v1, ["a.txt", "sub/b.txt", "sub/deep/c.bin"], "dir", (n) =>
      progress.push(n),
    );
    expect(progress.sort()).toEqual([1, 2, 3]);
    expect(await storage.listFiles("dir")).toEqual([
      { path: "a.txt", size: 5 },
      { path: "sub/b.txt", size: 4 },
      { path: "sub/deep/c.bin", size: 4 },
    ]);
    expect(await storage.hashStored("dir", true)).toEqual(await hashFolder(v1));
    const down = dir("folder-down");
    await storage.getFolder("dir", down);
    expect(await hashFolder(down)).toEqual(await hashFolder(v1));

    const v2 = writeTree(dir("folder-v2"), { "a.txt": "alpha 2", "new.txt": "n" });
    await storage.putFolder(v2, ["a.txt", "new.txt"], "dir");
    expect((await storage.listFiles("dir")).map((f) => f.path)).toEqual(["a.txt", "new.txt"]);
    expect(await storage.hashStored("dir", true)).toEqual(await hashFolder(v2));

    await storage.delete("dir");
    expect(await storage.exists("dir")).toBe(false);
    await expect(storage.listFiles("dir")).rejects.toThrow();
    if (t().objectStore) await expect(storage.listFiles("dir")).rejects.toThrow(NotFoundError);
  });

  it("moves files and folders, with keys that need encoding; refuses to move onto a key", async () => {
    const { storage } = t();
    const odd = "odd/my file+ü&=?%😀.txt";
    await storage.writeText(odd, "odd");
    await storage.move(odd, "odd/renamed (1).txt");
    expect(await storage.head(odd)).toBeUndefined();
    expect(await storage.readText("odd/renamed (1).txt")).toBe("odd");

    await storage.writeText("from/x.txt", "x");
    await storage.writeText("from/y/z.txt", "z");
    await storage.writeText("to/stale.txt", "replaced by the move");
    await storage.move("from", "to");
    expect(await keysBelow(storage, "from")).toEqual([]);
    expect(await keysBelow(storage, "to/")).toEqual(["to/x.txt", "to/y/z.txt"]);

    await storage.writeText("taken.txt", "here first");
    await expect(
      storage.move("odd/renamed (1).txt", "taken.txt", { replace: false }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await storage.readText("taken.txt")).toBe("here first");
    expect(await storage.readText("odd/renamed (1).txt")).toBe("odd");
    for (const key of ["odd", "to", "taken.txt"]) await storage.delete(key);
  });

  it("putStream keeps what fits in maxBytes and nothing of what does not", async () => {
    const { storage } = t();
    const chunks = async function* (n: number, size: number) {
      for (let i = 0; i < n; i++) yield new Uint8Array(size).fill(i);
    };
    expect(await storage.putStream("stream/ok.bin", chunks(3, 1000), 3000)).toBe(3000);
    expect((await storage.head("stream/ok.bin"))?.size).toBe(3000);
    // 10 MiB: more than a part (S3) or a resumable chunk's worth of buffering
    expect(await storage.putStream("stream/big.bin", chunks(10, MiB), 10 * MiB)).toBe(10 * MiB);
    expect((await storage.head("stream/big.bin"))?.size).toBe(10 * MiB);
    for (const [n, size] of [
      [4, 1000],
      [12, MiB],
    ] as const) {
      const refused = storage.putStream("stream/too-big.bin", chunks(n, size), 3 * size);
      await expect(refused).rejects.toMatchObject({ kind: "too-large" });
      expect(await storage.exists("stream/too-big.bin")).toBe(false);
    }
    await storage.delete("stream");
  });

  it("presigns a PUT and a GET (a download) that work with plain fetch, byte-exact", async () => {
    const { storage } = t();
    if (!t().objectStore) {
      // a folder's bytes go through the server itself
      expect(storage.presignPut).toBeUndefined();
      expect(storage.presignGet).toBeUndefined();
      return;
    }
    const body = randomBytes(100_000);
    const put = (await storage.presignPut?.("presigned/blob ü.bin", 300)) as string;
    expect(put).not.toMatch(/x-amz-checksum/); // a checksum of an empty body would be refused
    expect((await fetch(put, { method: "PUT", body })).status).toBe(200);
    const get = await fetch(
      (await storage.presignGet?.("presigned/blob ü.bin", 300, {
        attachment: "blob ü.bin",
      })) as string,
    );
    expect(get.status).toBe(200);
    expect(get.headers.get("content-disposition")).toMatch(/^attachment; filename="blob _\.bin"/);
    expect(Buffer.from(await get.arrayBuffer()).equals(body)).toBe(true);
    await storage.delete("presigned");
  });

  describe("hashObject", () => {
    let file50: string;
    let file60: string;
    beforeAll(async () => {
      const { storage } = t();
      file50 = patternFile(join(work, `${name}-50mib.bin`), 50);
      file60 = patternFile(join(work, `${name}-60mib.bin`), 60);
      await storage.putFile(file50, "hash/50mib.bin");
      await storage.putFile(file60, "hash/60mib.bin");
      await storage.writeText("hash/small.txt", "small");
    }, 60_000);
    afterAll(async () => {
      await t().storage.delete("hash");
      rmSync(file50, { force: true });
      rmSync(file60, { force: true });
    });

    it("hashes objects up to 50 MiB like hashFile: from MD5 metadata on object stores, reading nothing", async () => {
      const { storage, objectStore } = t();
      const before = storage.bytesRead;
      const small = await storage.hashObject("hash/small.txt");
      expect(small).toMatchObject({ size: 5, hashType: "md5", bytesRead: objectStore ? 0 : 5 });
      expect(small.hash).toBe(hashString("small"));
      const fifty = await storage.hashObject("hash/50mib.bin");
      expect(fifty.size).toBe(HASH_CHUNK);
      expect(fifty).toMatchObject({
        ...(await hashFile(file50)),
        bytesRead: objectStore ? 0 : HASH_CHUNK,
      });
      expect(fifty.etag).toBe((await storage.head("hash/50mib.bin"))?.etag);
      if (objectStore) expect(storage.bytesRead).toBe(before);
    });

    it("reads the first and last 50 MiB of a larger object, and nothing else", async () => {
      const { storage } = t();
      const before = storage.bytesRead;
      const sixty = await storage.hashObject("hash/60mib.bin");
      expect(sixty).toMatchObject({ ...(await hashFile(file60)), hashType: "sha1-fl" });
      expect(sixty.bytesRead).toBe(2 * HASH_CHUNK);
      if (before !== undefined) expect((storage.bytesRead ?? 0) - before).toBe(2 * HASH_CHUNK);
    });

    it("reads only the version named by ifEtag; a missing object is not found", async () => {
      const { storage } = t();
      const { etag } = (await storage.head("hash/small.txt")) ?? { etag: "" };
      expect((await storage.hashObject("hash/small.txt", { ifEtag: etag })).etag).toBe(etag);
      await storage.writeText("hash/small.txt", "small, rewritten");
      const newer = (await storage.head("hash/small.txt"))?.etag;
      expect(newer).not.toBe(etag);
      await expect(storage.hashObject("hash/small.txt", { ifEtag: etag })).rejects.toBeInstanceOf(
        StaleObjectError,
      );
      expect((await storage.hashObject("hash/small.txt")).hash).toBe(
        hashString("small, rewritten"),
      );
      await expect(storage.hashObject("hash/none.txt")).rejects.toBeInstanceOf(NotFoundError);
      await expect(storage.hashObject("hash/none.txt", { ifEtag: etag })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
  });
});
