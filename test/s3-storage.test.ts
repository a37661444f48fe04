/**
 * S3 storage against a real S3 server (s3rver, in this process): every StorageBackend method,
 * the hashing policy (what is read, and how much), errors in the domain's terms, and `lamin`
 * on an instance whose storage is a bucket.
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LaminError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from "../core/errors.js";
import { HASH_CHUNK, hashFile, hashFolder, hashString } from "../core/hash.js";
import type { Artifact } from "../core/registry/artifacts/artifacts.js";
import { LocalStorage } from "../core/storage/local.js";
import { openStorage } from "../core/storage/open.js";
import { S3Storage } from "../core/storage/s3.js";
import { StaleObjectError } from "../core/storage/types.js";
import { type CliResult, lamin, tempDir, useTempHome, writeTree } from "./helpers.js";
import { S3RVER_CREDENTIALS, type S3rverHandle, s3Client, startS3rver } from "./servers/s3rver.js";

const MiB = 1024 * 1024;
const BUCKET = "lamin-test";

/**
 * A file of `mib` MiB that is cheap to write yet never repeats a MiB: one random block with a
 * counter in its first bytes (random data for 60 MiB would cost more than the test itself).
 */
function patternFile(path: string, mib: number): string {
  const block = randomBytes(MiB);
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < mib; i++) {
      block.writeUInt32BE(i, 0);
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function keysBelow(storage: S3Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of storage.listObjects(prefix)) keys.push(o.key);
  return keys;
}

let s3: S3rverHandle;
let work: string;

beforeAll(async () => {
  s3 = await startS3rver({ buckets: [BUCKET] });
  work = tempDir();
});

afterAll(async () => {
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
});

describe("S3Storage", () => {
  let storage: S3Storage;
  beforeAll(() => {
    storage = new S3Storage(`s3://${BUCKET}/root/`, { endpoint: s3.endpoint, client: s3.client });
  });

  it("names its root, bucket and prefix; openStorage picks it for s3:// roots", async () => {
    expect(storage).toMatchObject({ root: `s3://${BUCKET}/root`, bucket: BUCKET, prefix: "root" });
    expect(storage.type).toBe("s3");
    expect(storage.localPath("a")).toBeUndefined();
    const bare = openStorage(`s3://${BUCKET}`, { endpoint: s3.endpoint });
    expect(bare).toBeInstanceOf(S3Storage);
    expect(bare).toMatchObject({ root: `s3://${BUCKET}`, prefix: "", endpoint: s3.endpoint });
    expect(openStorage(work)).toBeInstanceOf(LocalStorage);
    expect(() => openStorage("gs://bucket/x")).toThrow(/Google Cloud Storage is not supported yet/);
    expect(() => openStorage("ftp://host/x")).toThrow(ValidationError);
    expect(() => openStorage("s3://", {})).toThrow(/not an S3 storage root/);
    expect(() => openStorage("s3://b1/x", { endpoint: "not a url" })).toThrow(/endpoint URL/);
    await expect(storage.head("../escape")).rejects.toThrow(ValidationError);
  });

  it("writes, reads, heads and lists files", async () => {
    await storage.writeText("notes/hello.txt", "hello world\n");
    expect(await storage.readText("notes/hello.txt")).toBe("hello world\n");
    expect(await storage.readText("notes/missing.txt")).toBeUndefined();
    const src = writeTree(join(work, "small"), { "a.csv": "x,y\n1,2\n" });
    const progress: number[] = [];
    await storage.putFile(join(src, "a.csv"), "notes/a.csv", (n) => progress.push(n));
    expect(progress).toEqual([8]);
    const head = await storage.head("notes/a.csv");
    expect(head).toMatchObject({
      key: "notes/a.csv",
      size: 8,
      etag: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(await storage.head("notes/nope.csv")).toBeUndefined();
    expect(await storage.exists("notes/a.csv")).toBe(true);
    expect(await storage.exists("notes")).toBe(true); // a folder, through its objects
    expect(await storage.exists("nothing")).toBe(false);
    const dest = join(work, "out", "a.csv");
    await storage.getFile("notes/a.csv", dest);
    expect(readFileSync(dest, "utf8")).toBe("x,y\n1,2\n");
    const opened = await storage.openRead("notes/a.csv");
    expect(opened.size).toBe(8);
    expect((await collect(opened.stream)).toString()).toBe("x,y\n1,2\n");
    expect(await keysBelow(storage, "notes/")).toEqual(["notes/a.csv", "notes/hello.txt"]);
    expect(await keysBelow(storage, "notes/h")).toEqual(["notes/hello.txt"]);
    // objects of the bucket outside the root are not the storage's
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "rootless.txt", Body: "x" }));
    await storage.delete("notes");
    expect(await keysBelow(storage, "")).toEqual([]);
    await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "rootless.txt" }));
  });

  it("uploads 20 MiB in parallel parts with progress, and downloads it byte-exact", async () => {
    const src = patternFile(join(work, "20mib.bin"), 20);
    const multipart: string[] = [];
    const onEvent = (e: { Records: { eventName: string; s3: { object: { key: string } } }[] }) => {
      for (const r of e.Records)
        if (r.eventName === "ObjectCreated:Post") multipart.push(r.s3.object.key);
    };
    s3.server.on("event", onEvent);
    const progress: number[] = [];
    try {
      await storage.putFile(src, "big/20mib.bin", (n) => progress.push(n));
    } finally {
      s3.server.off("event", onEvent);
    }
    // s3rver reports CompleteMultipartUpload as ObjectCreated:Post
    expect(multipart).toEqual(["root/big/20mib.bin"]);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(20 * MiB);
    expect((await storage.head("big/20mib.bin"))?.size).toBe(20 * MiB);
    const dest = join(work, "down", "20mib.bin");
    const before = storage.bytesRead;
    await storage.getFile("big/20mib.bin", dest);
    expect(storage.bytesRead - before).toBe(20 * MiB);
    expect(readFileSync(dest).equals(readFileSync(src))).toBe(true);
    await storage.delete("big/20mib.bin");
    expect(await storage.exists("big/20mib.bin")).toBe(false);
  });

  it("puts folders whole (replacing the older one), gets them back, hashes them like hashFolder", async () => {
    const v1 = writeTree(join(work, "folder-v1"), {
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
    const down = join(work, "folder-down");
    await storage.getFolder("dir", down);
    expect(await hashFolder(down)).toEqual(await hashFolder(v1));

    const v2 = writeTree(join(work, "folder-v2"), { "a.txt": "alpha 2", "new.txt": "n" });
    await storage.putFolder(v2, ["a.txt", "new.txt"], "dir");
    expect((await storage.listFiles("dir")).map((f) => f.path)).toEqual(["a.txt", "new.txt"]);
    expect(await storage.hashStored("dir", true)).toEqual(await hashFolder(v2));

    await storage.delete("dir");
    expect(await storage.exists("dir")).toBe(false);
    await expect(storage.listFiles("dir")).rejects.toThrow(NotFoundError);
    await storage.delete("dir"); // missing is fine
  });

  it("moves files and folders, with keys that need encoding", async () => {
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
    await storage.delete("odd");
    await storage.delete("to");
  });

  it("putStream keeps what fits in maxBytes and nothing of what does not", async () => {
    const chunks = async function* (n: number, size: number) {
      for (let i = 0; i < n; i++) yield new Uint8Array(size).fill(i);
    };
    expect(await storage.putStream("stream/ok.bin", chunks(3, 1000), 3000)).toBe(3000);
    expect((await storage.head("stream/ok.bin"))?.size).toBe(3000);
    // 10 MiB: more than a part, so it goes up as a multipart upload
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

  it("presigns a PUT and a GET that work with plain fetch, byte-exact", async () => {
    const body = randomBytes(100_000);
    const put = await storage.presignPut("presigned/blob.bin", 300);
    expect(put).not.toMatch(/x-amz-checksum/); // a checksum of an empty body would be refused
    expect((await fetch(put, { method: "PUT", body })).status).toBe(200);
    const get = await fetch(await storage.presignGet("presigned/blob.bin", 300));
    expect(get.status).toBe(200);
    expect(Buffer.from(await get.arrayBuffer()).equals(body)).toBe(true);
    await storage.delete("presigned");
  });

  describe("hashObject", () => {
    let file50: string;
    let file60: string;
    beforeAll(async () => {
      file50 = patternFile(join(work, "50mib.bin"), 50);
      file60 = patternFile(join(work, "60mib.bin"), 60);
      await storage.putFile(file50, "hash/50mib.bin");
      await storage.putFile(file60, "hash/60mib.bin");
      await storage.writeText("hash/small.txt", "small");
    }, 60_000);

    it("takes the hash of objects up to 50 MiB from a plain-MD5 ETag, reading nothing", async () => {
      const before = storage.bytesRead;
      const small = await storage.hashObject("hash/small.txt");
      expect(small).toMatchObject({ size: 5, hashType: "md5", bytesRead: 0 });
      expect(small.hash).toBe(hashString("small"));
      const fifty = await storage.hashObject("hash/50mib.bin");
      expect(fifty.size).toBe(HASH_CHUNK);
      expect(fifty).toMatchObject({ ...(await hashFile(file50)), bytesRead: 0 });
      expect(fifty.etag).toBe((await storage.head("hash/50mib.bin"))?.etag);
      expect(storage.bytesRead).toBe(before);
    });

    it("reads the first and last 50 MiB of a larger object, and nothing else", async () => {
      const before = storage.bytesRead;
      const sixty = await storage.hashObject("hash/60mib.bin");
      expect(sixty).toMatchObject({ ...(await hashFile(file60)), hashType: "sha1-fl" });
      expect(sixty.bytesRead).toBe(2 * HASH_CHUNK);
      expect(storage.bytesRead - before).toBe(2 * HASH_CHUNK);
    });

    it("reads an object whose ETag is not an MD5 (multipart on S3)", async () => {
      // s3rver gives multipart uploads a plain MD5; S3 gives "<md5 of part md5s>-<parts>"
      const client = s3Client(s3.endpoint);
      client.middlewareStack.add(
        (next) => async (args) => {
          const result = await next(args);
          const output = result.output as { ETag?: string };
          if (output.ETag) output.ETag = `"${output.ETag.replaceAll('"', "")}-2"`;
          return result;
        },
        { step: "initialize" },
      );
      const multipartLike = new S3Storage(storage.root, { endpoint: s3.endpoint, client });
      const got = await multipartLike.hashObject("hash/small.txt");
      expect(got).toMatchObject({ size: 5, hashType: "md5", bytesRead: 5 });
      expect(got.etag).toMatch(/-2$/);
      expect(got.hash).toBe((await storage.hashObject("hash/small.txt")).hash);
      client.destroy();
    });

    it("reads only the version named by ifEtag; a missing object is not found", async () => {
      const { etag } = (await storage.head("hash/small.txt")) ?? { etag: "" };
      expect((await storage.hashObject("hash/small.txt", { ifEtag: etag })).etag).toBe(etag);
      await expect(
        storage.hashObject("hash/small.txt", { ifEtag: "0123456789abcdef0123456789abcdef" }),
      ).rejects.toBeInstanceOf(StaleObjectError);
      await expect(storage.hashObject("hash/none.txt")).rejects.toBeInstanceOf(NotFoundError);
      await expect(storage.hashObject("hash/none.txt", { ifEtag: etag })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
  });

  it("says which bucket is missing, when access is denied, and when S3 cannot be reached", async () => {
    const missing = new S3Storage("s3://no-such-bucket/x", {
      endpoint: s3.endpoint,
      client: s3.client,
    });
    await expect(missing.checkBucket()).rejects.toThrow(
      /bucket no-such-bucket does not exist \(at http:\/\/127\.0\.0\.1:\d+\)/,
    );
    await expect(missing.writeText("a.txt", "a")).rejects.toBeInstanceOf(NotFoundError);
    await expect(missing.readText("a.txt")).rejects.toThrow(/bucket no-such-bucket does not exist/);

    const wrong = s3Client(s3.endpoint, { accessKeyId: "WRONG", secretAccessKey: "WRONG" });
    const denied = new S3Storage(storage.root, { endpoint: s3.endpoint, client: wrong });
    const deniedA = {
      kind: "permission",
      message: expect.stringMatching(
        /^access to s3:\/\/lamin-test\/root\/a.txt was denied \(InvalidAccessKeyId\)/,
      ),
      hint: expect.stringMatching(/credentials/),
    };
    await expect(denied.readText("a.txt")).rejects.toMatchObject(deniedA);
    await expect(denied.writeText("a.txt", "")).rejects.toMatchObject(deniedA);
    // a HEAD answer has no body to name the error: the status says it
    await expect(denied.checkBucket()).rejects.toMatchObject({ kind: "permission" });
    wrong.destroy();

    const down = new S3Storage(`s3://${BUCKET}`, {
      endpoint: "http://127.0.0.1:1",
      client: s3Client("http://127.0.0.1:1"),
    });
    const error = await down.readText("a.txt").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as LaminError).message).toMatch(/S3 at http:\/\/127\.0\.0\.1:1 is unavailable/);
    down.client.destroy();
  });
});

describe("LocalStorage: head, hashObject, listObjects", () => {
  it("describes files like objects, and hashes them like hashFile", async () => {
    const root = writeTree(join(work, "local-root"), {
      "a.txt": "alpha",
      "d/b.txt": "beta",
      "d/e/c.txt": "gamma",
      "dx.txt": "x",
    });
    const storage = new LocalStorage(root);
    const head = await storage.head("d/b.txt");
    expect(head).toMatchObject({ key: "d/b.txt", size: 4, etag: expect.stringMatching(/-4$/) });
    expect(await storage.head("d")).toBeUndefined();
    expect(await storage.head("none")).toBeUndefined();
    const hashed = await storage.hashObject("d/b.txt", { ifEtag: head?.etag ?? "" });
    expect(hashed).toEqual({
      ...(await hashFile(join(root, "d/b.txt"))),
      etag: head?.etag,
      bytesRead: 4,
    });
    await expect(storage.hashObject("d/b.txt", { ifEtag: "1-4" })).rejects.toBeInstanceOf(
      StaleObjectError,
    );
    await expect(storage.hashObject("none")).rejects.toBeInstanceOf(NotFoundError);
    const keys = async (prefix: string) => {
      const out: string[] = [];
      for await (const o of storage.listObjects(prefix)) out.push(o.key);
      return out;
    };
    expect(await keys("")).toEqual(["a.txt", "d/b.txt", "d/e/c.txt", "dx.txt"]);
    expect(await keys("d/")).toEqual(["d/b.txt", "d/e/c.txt"]);
    expect(await keys("d")).toEqual(["d/b.txt", "d/e/c.txt", "dx.txt"]);
    expect(await keys("nothing/")).toEqual([]);
  });
});

describe("lamin with S3 storage", () => {
  let home: string;
  const env = () => ({
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: "",
    AWS_ENDPOINT_URL: "",
    LAMIN_PROGRESS: "1",
  });
  const run = (args: string[], extra: Record<string, string> = {}) =>
    lamin(args, { cwd: work, env: { ...env(), ...extra } });
  const ok = <T>(r: CliResult): T => {
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(() => {
    home = useTempHome();
  });

  it("init, save (small and 60 MiB), load back byte-exact, info", async () => {
    const created = ok<Record<string, unknown>>(
      await run([
        "init",
        "--storage",
        `s3://${BUCKET}/instance`,
        "--endpoint-url",
        s3.endpoint,
        "--name",
        "s3inst",
        "--json",
      ]),
    );
    expect(created).toMatchObject({
      name: "s3inst",
      storage: `s3://${BUCKET}/instance`,
      endpoint: s3.endpoint,
      database: { kind: "pglite", location: join(home, "pglite", "s3inst") },
    });
    const storage = new S3Storage(`s3://${BUCKET}/instance`, {
      endpoint: s3.endpoint,
      client: s3.client,
    });
    expect(await storage.readText(".lamindb/storage_uid.txt")).toMatch(
      /instance_slug=anonymous\/s3inst/,
    );

    writeTree(work, { "counts.csv": "gene,count\nCD8A,12\n" });
    const small = ok<Artifact>(
      await run(["save", "counts.csv", "--key", "raw/counts.csv", "--json"]),
    );
    expect(small).toMatchObject({
      storage: `s3://${BUCKET}/instance`,
      path: `s3://${BUCKET}/instance/.lamindb/${small.uid}.csv`,
      hash: (await hashFile(join(work, "counts.csv"))).hash,
    });
    expect(await storage.readText(`.lamindb/${small.uid}.csv`)).toBe("gene,count\nCD8A,12\n");

    const big = patternFile(join(work, "big.bin"), 60);
    const saved = await run(["save", "big.bin", "--key", "data/big.bin", "--json"]);
    const bigArtifact = ok<Artifact>(saved);
    const bigHash = await hashFile(big);
    expect(bigArtifact).toMatchObject({
      size: bigHash.size,
      hash: bigHash.hash,
      hash_type: "sha1-fl",
    });
    expect(saved.stderr).toMatch(/copying big\.bin: 60 MiB\/60 MiB \(100%\)/);

    const loaded = ok<{ local_path: string }>(
      await run(["load", "--key", "data/big.bin", "--to", join(work, "loaded"), "--json"]),
    );
    expect(readFileSync(loaded.local_path).equals(readFileSync(big))).toBe(true);
    const cached = ok<{ local_path: string }>(await run(["load", small.uid, "--json"]));
    expect(cached.local_path.startsWith(join(home, "cache"))).toBe(true);
    expect(readFileSync(cached.local_path, "utf8")).toBe("gene,count\nCD8A,12\n");

    const info = await run(["info"]);
    expect(info.stdout).toMatch(
      new RegExp(`storage +s3://${BUCKET}/instance \\(endpoint ${s3.endpoint}\\)`),
    );
  }, 60_000);

  it("a failed init (missing bucket) leaves no settings and no database behind", async () => {
    const before = ok<{ name: string }[]>(await run(["list", "instances", "--json"]));
    // the endpoint from AWS_ENDPOINT_URL_S3, as the AWS CLI takes it
    const failed = await run(
      ["init", "--storage", "s3://missing-bucket/x", "--name", "nob", "--json"],
      {
        AWS_ENDPOINT_URL_S3: s3.endpoint,
      },
    );
    expect(failed.code).toBe(3);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      error: {
        type: "not-found",
        message: expect.stringMatching(/bucket missing-bucket does not exist/),
      },
    });
    expect(ok<unknown[]>(await run(["list", "instances", "--json"]))).toEqual(before);
    expect(existsSync(join(home, "instances", "nob.json"))).toBe(false);
    expect(existsSync(join(home, "pglite", "nob"))).toBe(false);
  });
});
