/**
 * S3 storage against a real S3 server (s3rver, in this process), beyond the cases every backend
 * shares (storage-interface.test.ts): roots, multipart uploads, ETags that are no MD5, errors in
 * the domain's terms, and `lamin` on an instance whose storage is a bucket.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LaminError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from "../core/errors.js";
import { hashFile } from "../core/hash.js";
import type { Artifact } from "../core/registry/artifacts/artifacts.js";
import { GcsStorage } from "../core/storage/gcs.js";
import { LocalStorage } from "../core/storage/local.js";
import { openStorage } from "../core/storage/open.js";
import { S3Storage } from "../core/storage/s3.js";
import { StaleObjectError } from "../core/storage/types.js";
import { type CliResult, lamin, tempDir, useTempHome, writeTree } from "./helpers.js";
import { S3RVER_CREDENTIALS, type S3rverHandle, s3Client, startS3rver } from "./servers/s3rver.js";
import { MiB, patternFile } from "./storage-files.js";

const BUCKET = "lamin-test";

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
    expect(openStorage("gs://bucket/x")).toBeInstanceOf(GcsStorage);
    expect(() => openStorage("ftp://host/x")).toThrow(ValidationError);
    expect(() => openStorage("s3://", {})).toThrow(/not an S3 storage root/);
    expect(() => openStorage("s3://b1/x", { endpoint: "not a url" })).toThrow(/endpoint URL/);
    await expect(storage.head("../escape")).rejects.toThrow(ValidationError);
  });

  it("uploads a file above 8 MiB as one multipart upload, in parallel parts with progress", async () => {
    const src = patternFile(join(work, "9mib.bin"), 9);
    const multipart: string[] = [];
    const onEvent = (e: { Records: { eventName: string; s3: { object: { key: string } } }[] }) => {
      for (const r of e.Records)
        if (r.eventName === "ObjectCreated:Post") multipart.push(r.s3.object.key);
    };
    s3.server.on("event", onEvent);
    const progress: number[] = [];
    try {
      await storage.putFile(src, "big/9mib.bin", (n) => progress.push(n));
    } finally {
      s3.server.off("event", onEvent);
    }
    // s3rver reports CompleteMultipartUpload as ObjectCreated:Post
    expect(multipart).toEqual(["root/big/9mib.bin"]);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toBe(9 * MiB);
    await storage.delete("big");
  });

  it("reads an object whose ETag is not an MD5 (multipart on S3)", async () => {
    await storage.writeText("hash/small.txt", "small");
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
    await storage.delete("hash");
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
    expect((error as LaminError).message).toMatch(
      /^the S3 endpoint http:\/\/127\.0\.0\.1:1 is unreachable \(ECONNREFUSED\)/,
    );
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

  it("a save to an S3 endpoint that no longer answers says it is unreachable (exit 5)", async () => {
    const gone = await startS3rver({ buckets: [BUCKET] });
    const made = await run([
      "init",
      "--storage",
      `s3://${BUCKET}/gone`,
      "--endpoint-url",
      gone.endpoint,
      "--name",
      "gone",
    ]);
    expect(made.code, made.stderr).toBe(0);
    await gone.close();
    writeTree(work, { "late.csv": "a\n" });
    const r = await run(["save", "late.csv", "--key", "late.csv"], { LAMIN_INSTANCE: "gone" });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain(`the S3 endpoint ${gone.endpoint} is unreachable (ECONNREFUSED)`);
    expect(r.stderr).toMatch(/^hint: check that the S3 server runs/m);
  });
});
