/**
 * Attacks on `lamin dev`'s S3 endpoint (issue 13 item 6), each against a real `lamin dev` process:
 * unsigned, wrongly signed, expired and tampered requests; keys that climb out of the data folder;
 * requests that used to kill the process (and the API with it); a crash's leftovers; uploads cut
 * short. Each asserts the refusal and that nothing happened: no file outside `--dir`, no object,
 * no artifact, and the endpoint and its events still working.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lamin, startLamin, stopChild, tempDir, useTempHome } from "../helpers.js";
import { s3Client } from "../servers/s3rver.js";

useTempHome();
const work = tempDir("lamin-dev-attack-");
const dir = join(work, "dev");

interface Ready {
  s3_endpoint: string;
  api_url: string;
  token: string;
  access_key_id: string;
  secret_access_key: string;
}

type Dev = Awaited<ReturnType<typeof startLamin<Ready>>>;
let dev: Dev;
let s3: S3Client;

async function startDev(extra: string[] = []): Promise<Dev> {
  return startLamin<Ready>([
    "dev",
    "--json",
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
    ...extra,
  ]);
}

function credentials() {
  return { accessKeyId: dev.ready.access_key_id, secretAccessKey: dev.ready.secret_access_key };
}

/** The files below `root`, relative, `skip` (a folder name at the top) left out. */
function filesBelow(root: string, skip?: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .filter((rel) => !skip || !rel.startsWith(`${skip}/`))
    .sort();
}

/** Files in the test's folder outside `--dir`: only what the test planted there. */
const outside = () => filesBelow(work, "dev");

/** Whether the endpoint's store holds an object at `key` of the bucket. */
const stored = (key: string) => existsSync(join(dir, "s3", "lab", `${key}._S3rver_object`));

interface SentRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

/**
 * A client with the dev credentials (or `creds`), configured as lamin's own (or with the SDK's
 * `defaults`: streams go up aws-chunked); `before` changes each request before it is signed (a
 * crafted path is then signed as sent), `after` changes it once signed (tampering).
 */
function client(
  opts: {
    creds?: { accessKeyId: string; secretAccessKey: string };
    defaults?: boolean;
    before?: (r: SentRequest) => void;
    after?: (r: SentRequest) => void;
  } = {},
): S3Client {
  const creds = opts.creds ?? credentials();
  const c = opts.defaults
    ? new S3Client({
        region: "us-east-1",
        endpoint: dev.ready.s3_endpoint,
        forcePathStyle: true,
        credentials: creds,
      })
    : s3Client(dev.ready.s3_endpoint, creds);
  const change =
    (fn: (r: SentRequest) => void) =>
    (next: (args: { request: unknown }) => Promise<unknown>) =>
    async (args: { request: unknown }) => {
      fn(args.request as SentRequest);
      return next(args);
    };
  if (opts.before)
    c.middlewareStack.add(change(opts.before) as never, { step: "build", priority: "low" });
  // the deserialize step runs after signing (finalizeRequest), right before the request is sent
  if (opts.after) c.middlewareStack.add(change(opts.after) as never, { step: "deserialize" });
  return c;
}

interface Refusal {
  status: number | undefined;
  code: string;
  message: string;
}

/** The S3 error a request ended with; a request that succeeds fails the test. */
async function refused(p: Promise<unknown>): Promise<Refusal> {
  try {
    await p;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode, code: e.name, message: e.message };
  }
  throw new Error("the request was accepted");
}

/** One HTTP request exactly as given (no URL normalisation), its status and body. */
function raw(
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(dev.ready.s3_endpoint);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, method, path, headers: opts.headers, agent: false },
      (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** Bytes written on a fresh connection, then `end` (close politely) or `destroy` (cut short). */
function socketSend(text: string | Buffer, close: "end" | "destroy" = "end"): Promise<string> {
  const { hostname, port } = new URL(dev.ready.s3_endpoint);
  return new Promise((resolve) => {
    let answer = "";
    const socket = connect(Number(port), hostname, () => {
      socket.write(text);
      if (close === "destroy") setTimeout(() => socket.destroy(), 200);
    });
    socket.on("data", (d) => {
      answer += d;
    });
    socket.on("error", () => resolve(answer));
    socket.on("close", () => resolve(answer));
  });
}

/** The artifact the API knows at `key` of the storage root, or undefined. */
async function artifact(key: string): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(`${dev.ready.api_url}/artifacts/by-key?key=${encodeURIComponent(key)}`, {
    headers: { authorization: `Bearer ${dev.ready.token}` },
  });
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** Wait until an artifact is registered at `key` (events are asynchronous). */
async function registered(key: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const found = await artifact(key);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${key} was never registered`);
}

let canaries = 0;
/** The process is up, and an ordinary upload still becomes an artifact. */
async function stillWorks(): Promise<void> {
  expect(dev.child.exitCode, dev.stderr()).toBeNull();
  const key = `canary-${++canaries}.txt`;
  await s3.send(
    new PutObjectCommand({ Bucket: "lab", Key: `data/${key}`, Body: `canary ${canaries}` }),
  );
  await registered(key);
}

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

beforeAll(async () => {
  dev = await startDev();
  s3 = client();
  await s3.send(
    new PutObjectCommand({ Bucket: "lab", Key: "data/secret.csv", Body: "top,secret\n" }),
  );
}, 60_000);

afterAll(async () => {
  await stopChild(dev?.child);
  rmSync(work, { recursive: true, force: true });
});

describe("lamin dev's S3 endpoint refuses requests it cannot attribute", () => {
  it("answers unsigned requests with 403 AccessDenied XML, and stores and reveals nothing", async () => {
    const put = await raw("PUT", "/lab/data/unsigned.csv", { body: "a,b\n1,2\n" });
    expect(put.status).toBe(403);
    expect(put.body).toContain("<Code>AccessDenied</Code>");
    const get = await raw("GET", "/lab/data/secret.csv");
    expect(get.status).toBe(403);
    expect(get.body).not.toContain("top,secret");
    const list = await raw("GET", "/lab?list-type=2");
    expect(list.status).toBe(403);
    expect(list.body).not.toContain("secret.csv");
    await stillWorks();
    expect(stored("data/unsigned.csv")).toBe(false);
    expect(await artifact("unsigned.csv")).toBeUndefined();
  });

  it("refuses a wrong secret, an unknown key id, and requests changed after signing", async () => {
    const put = (c: S3Client, key: string, body = "x,y\n1,2\n") =>
      refused(c.send(new PutObjectCommand({ Bucket: "lab", Key: `data/${key}`, Body: body })));
    const { accessKeyId } = credentials();
    expect(
      await put(client({ creds: { accessKeyId, secretAccessKey: "guessed" } }), "wrong.csv"),
    ).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
    expect(
      await put(
        client({ creds: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } }),
        "s3rver.csv",
      ),
    ).toMatchObject({ status: 403, code: "InvalidAccessKeyId" });
    const moved = client({
      after: (r) => {
        r.path = "/lab/data/moved.csv";
      },
    });
    expect(await put(moved, "signed-for.csv")).toMatchObject({
      status: 403,
      code: "SignatureDoesNotMatch",
    });
    const retyped = client({
      after: (r) => {
        r.headers["content-type"] = "text/html";
      },
    });
    expect(await put(retyped, "retyped.csv")).toMatchObject({
      status: 403,
      code: "SignatureDoesNotMatch",
    });
    // an unsigned x-amz- header could turn a signed PUT into a copy of another object
    const extra = client({
      after: (r) => {
        r.headers["x-amz-copy-source"] = "lab/data/secret.csv";
      },
    });
    expect(await put(extra, "extra.csv")).toMatchObject({ status: 403, code: "AccessDenied" });
    const swapped = client({
      after: (r) => {
        r.body = "X,Y\n9,9\n";
      },
    });
    expect(await put(swapped, "swapped.csv")).toMatchObject({
      status: 400,
      code: "XAmzContentSHA256Mismatch",
    });
    await stillWorks();
    for (const key of ["wrong", "s3rver", "moved", "signed-for", "retyped", "extra", "swapped"]) {
      expect(stored(`data/${key}.csv`), key).toBe(false);
      expect(await artifact(`${key}.csv`), key).toBeUndefined();
    }
  });

  it("refuses expired presigned URLs, and presigned URLs used for another key or method", async () => {
    const putUrl = (key: string, signingDate = new Date()) =>
      getSignedUrl(s3, new PutObjectCommand({ Bucket: "lab", Key: `data/${key}` }), {
        expiresIn: 60,
        signingDate,
      });
    const pathOf = (url: string) => {
      const u = new URL(url);
      return `${u.pathname}${u.search}`;
    };
    const expired = await raw(
      "PUT",
      pathOf(await putUrl("late.csv", new Date(Date.now() - 120_000))),
      {
        body: "late\n",
      },
    );
    expect(expired.status).toBe(403);
    expect(expired.body).toMatch(/<Code>AccessDenied<\/Code>.*expired/s);
    const good = pathOf(await putUrl("pre.csv"));
    const elsewhere = await raw("PUT", good.replace("/pre.csv?", "/elsewhere.csv?"), {
      body: "x\n",
    });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toContain("<Code>SignatureDoesNotMatch</Code>");
    const forged = await raw(
      "PUT",
      good.replace(/X-Amz-Signature=(.)/, (_, c) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`),
      {
        body: "x\n",
      },
    );
    expect(forged.status).toBe(403);
    const getUrl = await getSignedUrl(
      s3,
      new GetObjectCommand({ Bucket: "lab", Key: "data/secret.csv" }),
    );
    const asPut = await raw("PUT", pathOf(getUrl), { body: "overwritten\n" });
    expect(asPut.status).toBe(403);
    await stillWorks();
    for (const key of ["late", "elsewhere"]) expect(stored(`data/${key}.csv`), key).toBe(false);
    expect(readFileSync(join(dir, "s3", "lab", "data", "secret.csv._S3rver_object"), "utf8")).toBe(
      "top,secret\n",
    );
    // the URL as issued works
    expect((await raw("PUT", good, { body: "p,q\n" })).status).toBe(200);
    expect(await registered("pre.csv")).toMatchObject({ size: 4 });
  });
});

describe("lamin dev's S3 endpoint keeps objects inside its folder", () => {
  it("refuses keys that climb out (../, encoded, absolute, backslashes, NUL) with 400", async () => {
    const put = (c: S3Client, key = "data/placeholder.csv") =>
      refused(c.send(new PutObjectCommand({ Bucket: "lab", Key: key, Body: "escaped\n" })));
    const at = (path: string) =>
      client({
        before: (r) => {
          r.path = path;
        },
      });
    const attempts = [
      await put(s3, "../../../escaped-1"),
      await put(s3, "data/../../../../escaped-2"),
      await put(at("/lab/data/%2E%2E/%2e%2e/%2E%2E/%2E%2E/escaped-3")),
      await put(at("/lab/..%2F..%2F..%2Fescaped-4")),
      await put(at("/%2E%2E/escaped-5")),
      await put(s3, "/escaped-6"),
      await put(s3, "data\\..\\..\\escaped-7"),
      await put(s3, "data/escaped-8\u0000.csv"),
    ];
    for (const attempt of attempts) {
      expect(attempt.status, JSON.stringify(attempt)).toBe(400);
      expect(attempt.message, JSON.stringify(attempt)).toMatch(/key|bucket/i);
    }
    await stillWorks();
    expect(outside()).toEqual([]);
    expect(filesBelow(dir).filter((f) => f.includes("escaped"))).toEqual([]);
  });

  it("neither reads nor deletes files outside through copy sources, batch deletes or upload ids", async () => {
    writeFileSync(join(work, "victim._S3rver_object"), "victim bytes\n");
    const copy = await refused(
      s3.send(
        new CopyObjectCommand({
          Bucket: "lab",
          Key: "data/copied.csv",
          CopySource: "lab/../../../victim",
        }),
      ),
    );
    expect(copy.status).toBe(400);
    const remove = await refused(
      s3.send(
        new DeleteObjectsCommand({
          Bucket: "lab",
          Delete: { Objects: [{ Key: "../../../victim" }] },
        }),
      ),
    );
    expect(remove.status).toBe(400);
    const part = await refused(
      s3.send(
        new UploadPartCommand({
          Bucket: "lab",
          Key: "data/part.bin",
          UploadId: "../../../../uploaded",
          PartNumber: 1,
          Body: "part\n",
        }),
      ),
    );
    expect(part.status).toBeGreaterThanOrEqual(400);
    expect(part.status).toBeLessThan(500);
    await stillWorks();
    expect(stored("data/copied.csv")).toBe(false);
    expect(outside()).toEqual(["victim._S3rver_object"]);
    expect(readFileSync(join(work, "victim._S3rver_object"), "utf8")).toBe("victim bytes\n");
  });
});

describe("lamin dev's S3 endpoint survives bad requests", () => {
  it("refuses a 300-byte and a 1,100-byte key segment with KeyTooLongError, and stays up", async () => {
    for (const segment of ["a".repeat(300), "b".repeat(1100)]) {
      const r = await refused(
        s3.send(new PutObjectCommand({ Bucket: "lab", Key: `data/${segment}`, Body: "long\n" })),
      );
      expect(r).toMatchObject({ status: 400, code: "KeyTooLongError" });
    }
    await stillWorks();
    expect(filesBelow(dir).filter((f) => f.includes("aaaa") || f.includes("bbbb"))).toEqual([]);
  });

  it("refuses malformed XML, and a multipart upload completed with parts never sent", async () => {
    for (const xml of ["<Delete><Object><Key>data/secret.csv</Key></Object>", "not xml at all"]) {
      const c = client({
        before: (r) => {
          r.body = xml;
          r.headers["content-length"] = String(Buffer.byteLength(xml));
        },
      });
      const r = await refused(
        c.send(
          new DeleteObjectsCommand({ Bucket: "lab", Delete: { Objects: [{ Key: "data/x" }] } }),
        ),
      );
      expect(r).toMatchObject({ status: 400, code: "MalformedXML" });
    }
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "lab", Key: "data/never.bin" }),
    );
    const complete = await refused(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "lab",
          Key: "data/never.bin",
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: `"${md5("never")}"` }] },
        }),
      ),
    );
    expect(complete).toMatchObject({ status: 400, code: "InvalidPart" });
    await stillWorks();
    expect(stored("data/secret.csv")).toBe(true);
    expect(stored("data/never.bin")).toBe(false);
  });

  it("refuses an aws-chunked body that carries less than it declared, storing nothing", async () => {
    // the body of a streamed upload is not signed: it can be swapped once the request is
    const short = client({
      defaults: true,
      after: (r) => {
        r.body = "3\r\nabc\r\n0\r\n\r\n";
      },
    });
    const r = await refused(
      short.send(
        new PutObjectCommand({
          Bucket: "lab",
          Key: "data/short.csv",
          Body: Readable.from([Buffer.from("abcdef")]),
          ContentLength: 6,
        }),
      ),
    );
    expect(r).toMatchObject({ status: 400, code: "IncompleteBody" });
    await stillWorks();
    expect(stored("data/short.csv")).toBe(false);
    expect(await artifact("short.csv")).toBeUndefined();
  });

  it("refuses a huge header section with an S3-style error, and stays up", async () => {
    const { host } = new URL(dev.ready.s3_endpoint);
    const answer = await socketSend(
      `GET /lab/data/secret.csv HTTP/1.1\r\nHost: ${host}\r\nX-Filler: ${"x".repeat(40_000)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain("<Code>RequestHeaderSectionTooLarge</Code>");
    await stillWorks();
  });
});

describe("lamin dev's S3 endpoint and uploads cut short", () => {
  it("neither keeps nor registers an upload cut short, new or over an existing object", async () => {
    const original = "A".repeat(1000);
    await s3.send(new PutObjectCommand({ Bucket: "lab", Key: "data/over.bin", Body: original }));
    const before = await registered("over.bin");
    const { host } = new URL(dev.ready.s3_endpoint);
    const cut = async (key: string, declared: number, sent: string) => {
      const url = new URL(
        await getSignedUrl(s3, new PutObjectCommand({ Bucket: "lab", Key: `data/${key}` })),
      );
      await socketSend(
        `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${declared}\r\n\r\n${sent}`,
        "destroy",
      );
    };
    await cut("cut.bin", 1000, "C".repeat(500));
    await cut("over.bin", 2000, "B".repeat(1000));
    await stillWorks();
    expect(stored("data/cut.bin")).toBe(false);
    const got = await s3.send(new GetObjectCommand({ Bucket: "lab", Key: "data/over.bin" }));
    expect(await got.Body?.transformToString()).toBe(original);
    const reconciled = await lamin(["reconcile", "--json"]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const report = JSON.parse(reconciled.stdout) as Record<string, { key: string }[]>;
    const touched = [...(report.registered ?? []), ...(report.changed ?? [])].map((r) => r.key);
    expect(touched).not.toContain("cut.bin");
    expect(touched).not.toContain("over.bin");
    expect(await artifact("cut.bin")).toBeUndefined();
    expect(await artifact("over.bin")).toMatchObject({ uid: before.uid, hash: before.hash });
  });
});

describe("lamin dev restarted on a folder a crash left behind, listening on all interfaces", () => {
  const a = "crash,a\n1,2\n";
  const b = "crash,b\n3,4\n";

  beforeAll(async () => {
    await s3.send(new PutObjectCommand({ Bucket: "lab", Key: "data/crash-a.csv", Body: a }));
    await s3.send(new PutObjectCommand({ Bucket: "lab", Key: "data/crash-b.csv", Body: b }));
    await registered("crash-a.csv");
    await registered("crash-b.csv");
    await stopChild(dev.child);
    // what a kill between s3rver's truncate and write leaves: empty metadata and checksum files
    truncateSync(join(dir, "s3", "lab", "data", "crash-a.csv._S3rver_metadata.json"), 0);
    truncateSync(join(dir, "s3", "lab", "data", "crash-b.csv._S3rver_object.md5"), 0);
    dev = await startDev(["--host", "0.0.0.0"]);
    s3 = client();
  }, 60_000);

  it("repairs the broken entries, says which, and lists and registers as before", async () => {
    expect(dev.stderr()).toContain("data/crash-a.csv");
    expect(dev.stderr()).toContain("data/crash-b.csv");
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: "lab", Prefix: "data/crash-" }),
    );
    expect(listed.Contents?.map((o) => [o.Key, o.ETag])).toEqual([
      ["data/crash-a.csv", `"${md5(a)}"`],
      ["data/crash-b.csv", `"${md5(b)}"`],
    ]);
    const got = await s3.send(new GetObjectCommand({ Bucket: "lab", Key: "data/crash-a.csv" }));
    expect(await got.Body?.transformToString()).toBe(a);
    await stillWorks();
  });

  it("repairs metadata broken while it runs, when a listing reads it", async () => {
    writeFileSync(join(dir, "s3", "lab", "data", "crash-b.csv._S3rver_metadata.json"), "{");
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: "lab", Prefix: "data/crash-b" }),
    );
    expect(listed.Contents?.map((o) => o.Key)).toEqual(["data/crash-b.csv"]);
    expect(dev.stderr()).toMatch(/repaired s3:\/\/lab\/data\/crash-b\.csv: its metadata file/);
  });

  it("warns that it listens beyond loopback, and still refuses unsigned requests", async () => {
    expect(dev.stderr()).toMatch(/^warning: .*0\.0\.0\.0.*not a production/m);
    const put = await raw("PUT", "/lab/data/from-afar.csv", { body: "a\n" });
    expect(put.status).toBe(403);
    expect(stored("data/from-afar.csv")).toBe(false);
  });
});
