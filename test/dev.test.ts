/**
 * `lamin dev` as a user runs it: one command starts an S3 endpoint, an instance stored in its
 * bucket, the API and the event wiring; an upload with a plain S3 client shows up in `lamin ls`.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lamin, startLamin, stopChild, tempDir, useTempHome } from "./helpers.js";

useTempHome();
const work = tempDir("lamin-dev-");

interface Ready {
  s3_endpoint: string;
  storage_root: string;
  api_url: string;
  token: string;
}

/** Start `lamin dev --json` and wait for its line. */
async function startDev(args: string[]): Promise<{ child: ChildProcess; ready: Ready }> {
  return startLamin<Ready>(["dev", "--json", ...args]);
}

const stop = stopChild;

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
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }, 60_000);

  afterAll(() => stop(dev));

  it("prints where everything is, once ready", () => {
    expect(ready).toEqual({
      s3_endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      storage_root: "s3://lab/data",
      api_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      token: expect.stringMatching(/^lnt_/),
    });
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
    const items = await listed("local/x.csv");
    expect(items.length).toBeGreaterThan(0);
  }, 30_000);

  it("refuses a bucket name S3 would refuse, before starting anything", async () => {
    const r = await lamin(["dev", "--bucket", "Not_A_Bucket", "--dir", join(work, "other")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("invalid bucket name 'Not_A_Bucket'");
  });
});
