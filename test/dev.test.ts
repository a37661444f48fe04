/**
 * `lamin dev` as a user runs it: one command starts an S3 endpoint, an instance stored in its
 * bucket, the API and the event wiring; an upload with a plain S3 client shows up in `lamin ls`.
 */
import { type ChildProcess, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lamin, startLamin, stopChild, tempDir, useTempHome } from "./helpers.js";

useTempHome();
const work = tempDir("lamin-dev-");

interface Ready {
  s3_endpoint: string;
  storage_root: string;
  api_url: string;
  token: string;
  access_key_id: string;
  secret_access_key: string;
}

/** Start `lamin dev --json` and wait for its line. */
async function startDev(args: string[]): Promise<{ child: ChildProcess; ready: Ready }> {
  return startLamin<Ready>(["dev", "--json", ...args]);
}

const stop = stopChild;

const md5Base64 = (bytes: Buffer) =>
  createHash("md5").update(bytes).digest("base64url").replace(/=+$/, "");

/** A python3 that has boto3 (moto's dependency, so CI's has it), or undefined. */
function pythonWithBoto3(): string | undefined {
  const probe = spawnSync("python3", ["-c", "import boto3"], { encoding: "utf8" });
  return probe.status === 0 ? "python3" : undefined;
}

/** Poll `lamin ls --json` until `key` is listed (events are asynchronous). */
async function listed(key: string, present = true): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100; i++) {
    const ls = await lamin(["ls", "--json"]);
    expect(ls.code, ls.stderr).toBe(0);
    const items = JSON.parse(ls.stdout) as Record<string, unknown>[];
    if (items.some((a) => a.key === key) === present) return items;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${key} was ${present ? "never listed" : "still listed"} after 10 s`);
}

describe("lamin dev", () => {
  let dev: ChildProcess | undefined;
  let ready: Ready;
  let s3: S3Client;
  const dir = join(work, ".lamin-dev");

  beforeAll(async () => {
    ({ child: dev, ready } = await startDev([
      "--dir",
      dir,
      "--port",
      "0",
      "--s3-port",
      "0",
      "--bucket",
      "lab",
      "--prefix",
      "data",
    ]));
    s3 = new S3Client({
      region: "us-east-1",
      endpoint: ready.s3_endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: ready.access_key_id, secretAccessKey: ready.secret_access_key },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }, 60_000);

  afterAll(async () => {
    await stop(dev);
    rmSync(work, { recursive: true, force: true });
  });

  it("prints where everything is, once ready", () => {
    expect(ready).toEqual({
      s3_endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      storage_root: "s3://lab/data",
      api_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      token: expect.stringMatching(/^lnt_/),
      // the web UI, signed in by a one-time code (never the token in the URL)
      ui_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/ui\/\?code=[\w-]{32}$/),
      access_key_id: expect.stringMatching(/^LDEV[0-9A-F]{16}$/),
      secret_access_key: expect.stringMatching(/^[\w-]{40}$/),
    });
    // the keys are the data folder's, readable by its owner only
    expect(statSync(join(dir, "s3-credentials.json")).mode & 0o077).toBe(0);
  });

  it("registers an upload by any S3 client; lamin ls in another process shows it", async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: "lab", Key: "data/f.csv", Body: "gene,count\nA,1\n" }),
    );
    const items = await listed("f.csv");
    expect(items.find((a) => a.key === "f.csv")).toMatchObject({
      hash_type: "md5",
      size: 15,
      storage: "s3://lab/data",
    });
    const info = await lamin(["info", "--json"]);
    expect(JSON.parse(info.stdout)).toMatchObject({ instance: "anonymous/dev" });
  });

  it("trashes a deleted object, and lamin save goes to the bucket without a second registration", async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: "lab", Key: "data/f.csv" }));
    await listed("f.csv", false);
    const file = join(work, "local.csv");
    await import("node:fs").then((fs) => fs.writeFileSync(file, "x,y\n1,2\n"));
    const saved = await lamin(["save", file, "--key", "local/x.csv", "--json"]);
    expect(saved.code, saved.stderr).toBe(0);
    expect(JSON.parse(saved.stdout)).toMatchObject({ status: "created", upload_complete: true });
    const reconciled = await lamin(["reconcile", "--json"]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(JSON.parse(reconciled.stdout)).toMatchObject({
      registered: [],
      changed: [],
      trashed: [],
      missingBytes: [],
      unclaimed: [],
    });
  });

  it("registers what the AWS SDK sends with its default settings: aws-chunked streams, multipart uploads", async () => {
    // default checksums: a stream goes up aws-chunked with a trailing checksum, unsigned
    const sdk = new S3Client({
      region: "eu-west-1",
      endpoint: ready.s3_endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: ready.access_key_id, secretAccessKey: ready.secret_access_key },
    });
    const chunks = [Buffer.from("gene,count\n"), Buffer.from("B,2\n")];
    await sdk.send(
      new PutObjectCommand({
        Bucket: "lab",
        Key: "data/sdk/streamed.csv",
        Body: Readable.from(chunks),
        ContentLength: 15,
      }),
    );
    const big = Buffer.alloc(6 * 1024 * 1024, "x");
    await new Upload({
      client: sdk,
      params: { Bucket: "lab", Key: "data/sdk/parts.txt", Body: Readable.from([big]) },
    }).done();
    const items = await listed("sdk/parts.txt");
    expect(items.find((a) => a.key === "sdk/streamed.csv")).toMatchObject({
      size: 15,
      hash: md5Base64(Buffer.concat(chunks)),
    });
    expect(items.find((a) => a.key === "sdk/parts.txt")).toMatchObject({ size: big.length });
    const got = await sdk.send(
      new GetObjectCommand({ Bucket: "lab", Key: "data/sdk/streamed.csv" }),
    );
    expect(await got.Body?.transformToString()).toBe("gene,count\nB,2\n");
    // lamin load reads it back through the API and checks the hash
    const load = await lamin(["load", "--key", "sdk/streamed.csv", "--to", join(work, "loaded")]);
    expect(load.code, load.stderr).toBe(0);
    expect(readFileSync(join(work, "loaded", "streamed.csv"), "utf8")).toBe("gene,count\nB,2\n");
  });

  it("registers uploads by botocore, as `aws s3 cp` sends them (single and multipart)", async (ctx) => {
    const python = pythonWithBoto3();
    if (!python) {
      if (process.env.LAMIN_REQUIRE_MOTO === "1")
        throw new Error("boto3 (moto's dependency) is missing");
      console.warn("skipped: no python3 with boto3 on this machine");
      ctx.skip();
      return;
    }
    writeFileSync(join(work, "small.csv"), "a,b\n1,2\n");
    writeFileSync(join(work, "large.bin"), Buffer.alloc(6 * 1024 * 1024, "y"));
    const script = [
      "import sys, boto3",
      "from boto3.s3.transfer import TransferConfig",
      "s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1')",
      "cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)",
      "s3.upload_file(sys.argv[2], 'lab', 'data/boto/small.csv', Config=cfg)",
      "s3.upload_file(sys.argv[3], 'lab', 'data/boto/large.bin', Config=cfg)",
    ].join("\n");
    const run = spawnSync(
      python,
      ["-c", script, ready.s3_endpoint, join(work, "small.csv"), join(work, "large.bin")],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: ready.access_key_id,
          AWS_SECRET_ACCESS_KEY: ready.secret_access_key,
        },
        encoding: "utf8",
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const items = await listed("boto/large.bin");
    expect(items.find((a) => a.key === "boto/small.csv")).toMatchObject({ size: 8 });
    expect(items.find((a) => a.key === "boto/large.bin")).toMatchObject({ size: 6 * 1024 * 1024 });
  });

  it("keeps the instance in its folder: a second run reopens it", async () => {
    await stop(dev);
    const again = await startDev([
      "--dir",
      dir,
      "--port",
      "0",
      "--s3-port",
      "0",
      "--bucket",
      "lab",
    ]);
    dev = again.child;
    // the same keys: clients configured on the first run keep working
    expect(again.ready.access_key_id).toBe(ready.access_key_id);
    expect(again.ready.secret_access_key).toBe(ready.secret_access_key);
    const items = await listed("local/x.csv");
    expect(items.length).toBeGreaterThan(0);
  }, 30_000);

  it("refuses a bucket name S3 would refuse, before starting anything", async () => {
    const r = await lamin(["dev", "--bucket", "Not_A_Bucket", "--dir", join(work, "other")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("invalid bucket name 'Not_A_Bucket'");
  });
});
