/**
 * Google Cloud Storage against a GCS server started here (test/servers/fake-gcs.ts), beyond the
 * cases every backend shares (storage-interface.test.ts): roots and endpoints (an endpoint URL,
 * or STORAGE_EMULATOR_HOST and its path form), resumable uploads, composite objects (no
 * md5Hash), reads pinned to a generation, V4 signed URLs, errors in the domain's terms, and
 * `lamin` on an instance whose storage is a bucket.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Storage } from "@google-cloud/storage";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NotFoundError, UnavailableError, ValidationError } from "../core/errors.js";
import { hashFile, hashString } from "../core/hash.js";
import type { Artifact } from "../core/registry/artifacts/artifacts.js";
import { GcsStorage } from "../core/storage/gcs.js";
import { openStorage } from "../core/storage/open.js";
import { SigningUnavailableError, StaleObjectError } from "../core/storage/types.js";
import {
  type CliResult,
  lamin,
  startLamin,
  stopChild,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";
import {
  type FakeGcs,
  type ServiceAccount,
  serviceAccount,
  startFakeGcs,
} from "./servers/fake-gcs.js";
import { collect, MiB, patternFile } from "./storage-files.js";

const BUCKET = "lamin-gcs";
const ENV = [
  "GOOGLE_APPLICATION_CREDENTIALS",
  "STORAGE_EMULATOR_HOST",
  "METADATA_SERVER_DETECTION",
];

let gcs: FakeGcs;
let work: string;
let account: ServiceAccount;
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  work = tempDir();
  account = serviceAccount(join(work, "service-account.json"));
  gcs = await startFakeGcs({ buckets: [BUCKET, "other-bucket"], signers: account.signers });
});

afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

afterAll(async () => {
  await gcs?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A client of the SDK of our own, as a user's `gcloud storage cp` or script would be. */
const sdk = () => new Storage({ apiEndpoint: gcs.url });

describe("GcsStorage", () => {
  let storage: GcsStorage;
  beforeAll(() => {
    storage = new GcsStorage(`gs://${BUCKET}/root/`, { endpoint: gcs.url });
  });

  it("names its root, bucket and prefix; openStorage picks it for gs:// roots", () => {
    expect(storage).toMatchObject({
      type: "gs",
      root: `gs://${BUCKET}/root`,
      bucket: BUCKET,
      prefix: "root",
      endpoint: gcs.url,
    });
    expect(openStorage(`gs://${BUCKET}`, { endpoint: gcs.url })).toMatchObject({
      root: `gs://${BUCKET}`,
      prefix: "",
    });
    expect(openStorage("gs://bucket/x")).toBeInstanceOf(GcsStorage);
    expect(() => openStorage("gs://", {})).toThrow(/not a GCS storage root/);
    expect(() => openStorage("gs://b1/x", { endpoint: "not a url" })).toThrow(/endpoint URL/);
    process.env.STORAGE_EMULATOR_HOST = "http://127.0.0.1:9";
    expect(() => new GcsStorage("gs://b1/x", { endpoint: gcs.url })).toThrow(
      /STORAGE_EMULATOR_HOST \(http:\/\/127\.0\.0\.1:9\) and the storage's endpoint .* differ/,
    );
  });

  it("honours STORAGE_EMULATOR_HOST, whose API paths have no /storage/v1", async () => {
    process.env.STORAGE_EMULATOR_HOST = gcs.url;
    const viaEnv = new GcsStorage(`gs://${BUCKET}/env`);
    expect(viaEnv.endpoint).toBeUndefined(); // the settings keep no endpoint: the variable is read each time
    expect(viaEnv.reachedAt).toBe(gcs.url);
    const from = gcs.requests.length;
    await viaEnv.writeText("a.txt", "via the emulator variable");
    expect(await viaEnv.readText("a.txt")).toBe("via the emulator variable");
    expect(await viaEnv.head("a.txt")).toMatchObject({ size: 25 });
    const seen = gcs.requests.slice(from);
    expect(seen).toContain("GET /b/lamin-gcs/o/env%2Fa.txt");
    expect(seen.some((r) => r.startsWith("POST /upload/storage/v1/b/lamin-gcs/o?"))).toBe(true);
    await viaEnv.delete("a.txt");
  });

  it("sends files above 8 MiB in a resumable upload of chunks, smaller ones in one request", async () => {
    const from = gcs.requests.length;
    await storage.writeText("up/small.txt", "small");
    const small = gcs.requests.slice(from);
    expect(small).toEqual([
      expect.stringMatching(
        /^POST \/upload\/storage\/v1\/b\/lamin-gcs\/o\?uploadType=multipart&name=root%2Fup%2Fsmall\.txt$/,
      ),
    ]);

    const src = patternFile(join(work, "40mib.bin"), 40);
    const start = gcs.requests.length;
    const progress: number[] = [];
    await storage.putFile(src, "up/40mib.bin", (n) => progress.push(n));
    const requests = gcs.requests.slice(start);
    expect(requests[0]).toMatch(
      /^POST \/upload\/storage\/v1\/b\/lamin-gcs\/o\?.*uploadType=resumable/,
    );
    // 16 MiB chunks: 16 + 16 + 8
    expect(
      requests.filter((r) => r.startsWith("PUT /upload/storage/v1/") && r.includes("upload_id=")),
    ).toHaveLength(3);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(40 * MiB);
    expect(gcs.object(BUCKET, "root/up/40mib.bin")?.data.equals(readFileSync(src))).toBe(true);
    await storage.delete("up");
    rmSync(src);
  });

  it("reads composite objects (no md5Hash) to hash them, the same hash as a local file", async () => {
    const bucket = sdk().bucket(BUCKET);
    const parts = [randomBytes(300_000), randomBytes(200_000)];
    await bucket.file("root/comp/a").save(parts[0] as Buffer, { resumable: false });
    await bucket.file("root/comp/b").save(parts[1] as Buffer, { resumable: false });
    await bucket.combine(["root/comp/a", "root/comp/b"], "root/comp/whole.bin");
    const [meta] = await bucket.file("root/comp/whole.bin").getMetadata();
    expect(meta.md5Hash).toBeUndefined();
    expect(meta.componentCount).toBe(2);
    writeFileSync(join(work, "whole.bin"), Buffer.concat(parts));
    const before = storage.bytesRead;
    const got = await storage.hashObject("comp/whole.bin");
    expect(got).toMatchObject({
      ...(await hashFile(join(work, "whole.bin"))),
      etag: String(meta.generation),
      bytesRead: 500_000,
    });
    expect(storage.bytesRead - before).toBe(500_000);
    // a plain object of the same bytes takes the hash from its md5Hash, reading nothing
    await bucket.file("root/comp/plain.bin").save(Buffer.concat(parts), { resumable: false });
    expect(await storage.hashObject("comp/plain.bin")).toMatchObject({
      hash: got.hash,
      bytesRead: 0,
    });
    await storage.delete("comp");
  });

  it("reads the generation it opened: an object overwritten meanwhile is stale, not mixed", async () => {
    await storage.writeText("pin/x.txt", "first version");
    const opened = await storage.openRead("pin/x.txt");
    await storage.writeText("pin/x.txt", "second version");
    await expect(collect(opened.stream)).rejects.toBeInstanceOf(StaleObjectError);
    const again = await storage.openRead("pin/x.txt");
    expect((await collect(again.stream)).toString()).toBe("second version");
    expect((await storage.hashObject("pin/x.txt")).hash).toBe(hashString("second version"));
    await storage.delete("pin");
  });

  describe("V4 signed URLs", () => {
    it("name one object, one method and one period: anything else is refused and writes nothing", async () => {
      process.env.GOOGLE_APPLICATION_CREDENTIALS = account.keyFile;
      const body = randomBytes(1000);
      const put = await storage.presignPut("signed/a.bin", 300);
      expect(new URL(put).searchParams.get("X-Goog-Algorithm")).toBe("GOOG4-RSA-SHA256");
      // another object, the URL used for a GET, a forged signature
      const other = put.replace("signed/a.bin", "signed/b.bin");
      expect((await fetch(other, { method: "PUT", body })).status).toBe(403);
      expect((await fetch(put)).status).toBe(403);
      const forged = put.replace(
        /X-Goog-Signature=([0-9a-f])/,
        (_, c) => `X-Goog-Signature=${c === "0" ? "1" : "0"}`,
      );
      expect((await fetch(forged, { method: "PUT", body })).status).toBe(403);
      expect(await storage.exists("signed/b.bin")).toBe(false);
      expect(await storage.exists("signed/a.bin")).toBe(false);
      // expired: valid from 5 minutes ago until a second from now, used two seconds from now
      const [short] = await sdk()
        .bucket(BUCKET)
        .file("root/signed/a.bin")
        .getSignedUrl({
          version: "v4",
          action: "write",
          accessibleAt: Date.now() - 300_000,
          expires: Date.now() + 1000,
        });
      await new Promise((r) => setTimeout(r, 2000));
      const expired = await fetch(short, { method: "PUT", body });
      expect(expired.status).toBe(400);
      expect(await expired.text()).toMatch(/ExpiredToken/);
      expect(await storage.exists("signed/a.bin")).toBe(false);
      expect((await fetch(put, { method: "PUT", body })).status).toBe(200);
      expect(gcs.object(BUCKET, "root/signed/a.bin")?.data.equals(body)).toBe(true);
      await storage.delete("signed");
    });

    it("without a service account to sign with, say what is missing", async () => {
      delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      process.env.METADATA_SERVER_DETECTION = "none"; // no metadata server to ask
      const unsigned = new GcsStorage(`gs://${BUCKET}/root`, { endpoint: gcs.url });
      await expect(unsigned.presignPut("x.bin", 60)).rejects.toBeInstanceOf(
        SigningUnavailableError,
      );
      await expect(unsigned.presignPut("x.bin", 60)).rejects.toMatchObject({
        kind: "permission",
        hint: expect.stringMatching(/GOOGLE_APPLICATION_CREDENTIALS/),
      });
    });
  });

  it("says which bucket is missing, when access is denied, and when GCS cannot be reached", async () => {
    const missing = new GcsStorage("gs://no-such-bucket/x", { endpoint: gcs.url });
    await expect(missing.checkBucket()).rejects.toThrow(
      /bucket no-such-bucket does not exist \(at http:\/\/127\.0\.0\.1:\d+\)/,
    );
    await expect(missing.checkBucket()).rejects.toMatchObject({
      hint: expect.stringMatching(/gcloud storage buckets create gs:\/\/no-such-bucket/),
    });
    await expect(missing.writeText("a.txt", "a")).rejects.toBeInstanceOf(NotFoundError);
    await expect(missing.readText("a.txt")).rejects.toThrow(/bucket no-such-bucket does not exist/);

    gcs.forbidden.add("other-bucket");
    try {
      const denied = new GcsStorage("gs://other-bucket/x", { endpoint: gcs.url });
      await expect(denied.readText("a.txt")).rejects.toMatchObject({
        kind: "permission",
        message: expect.stringMatching(
          /^access to gs:\/\/other-bucket\/x\/a\.txt was denied \(403\)/,
        ),
        hint: expect.stringMatching(/IAM/),
      });
      await expect(denied.checkBucket()).rejects.toMatchObject({ kind: "permission" });
    } finally {
      gcs.forbidden.delete("other-bucket");
    }

    // (the SDK retries a refused connection for a while: not here)
    const nowhere = "http://127.0.0.1:1";
    const down = new GcsStorage(`gs://${BUCKET}`, {
      endpoint: nowhere,
      client: new Storage({ apiEndpoint: nowhere, retryOptions: { autoRetry: false } }),
    });
    const error = await down.readText("a.txt").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toMatch(
      /^Google Cloud Storage at http:\/\/127\.0\.0\.1:1 is unavailable \(ECONNREFUSED\)/,
    );

    // (Google itself is never asked here: without credentials the SDK sends the request
    // anonymously, and Google's 401 is a permission error like the 403 above)
    expect(() => new GcsStorage("gs://x/y", { endpoint: "ftp://host" })).toThrow(ValidationError);
  });
});

describe("lamin with GCS storage", () => {
  let home: string;
  const run = (args: string[], extra: Record<string, string> = {}) =>
    lamin(args, {
      cwd: work,
      env: {
        GOOGLE_APPLICATION_CREDENTIALS: account.keyFile,
        STORAGE_EMULATOR_HOST: "",
        METADATA_SERVER_DETECTION: "none",
        // an S3 endpoint in the environment is never taken for a GCS one
        AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9",
        LAMIN_PROGRESS: "1",
        ...extra,
      },
    });
  const ok = <T>(r: CliResult): T => {
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(() => {
    home = useTempHome();
  });

  it("init, save (small and 60 MiB), load back verified, delete, reconcile", async () => {
    const created = ok<Record<string, unknown>>(
      await run([
        "init",
        "--storage",
        `gs://${BUCKET}/instance`,
        "--endpoint-url",
        gcs.url,
        "--name",
        "gcsinst",
        "--json",
      ]),
    );
    expect(created).toMatchObject({
      name: "gcsinst",
      storage: `gs://${BUCKET}/instance`,
      endpoint: gcs.url,
      database: { kind: "pglite", location: join(home, "pglite", "gcsinst") },
    });
    const storage = new GcsStorage(`gs://${BUCKET}/instance`, { endpoint: gcs.url });
    expect(await storage.readText(".lamindb/storage_uid.txt")).toMatch(
      /instance_slug=anonymous\/gcsinst/,
    );

    writeTree(work, { "counts.csv": "gene,count\nCD8A,12\n" });
    const small = ok<Artifact>(
      await run(["save", "counts.csv", "--key", "raw/counts.csv", "--json"]),
    );
    expect(small).toMatchObject({
      storage: `gs://${BUCKET}/instance`,
      path: `gs://${BUCKET}/instance/.lamindb/${small.uid}.csv`,
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

    // bytes changed behind lamindb's back: load refuses them
    await storage.writeText(`.lamindb/${small.uid}.csv`, "gene,count\nCD8A,13\n");
    const tampered = await run(["load", small.uid, "--to", join(work, "tampered"), "--json"]);
    expect(tampered.code).not.toBe(0);
    expect(tampered.stdout).toMatch(/do not match its hash/);

    // an object uploaded with another client, registered by reconcile
    await sdk()
      .bucket(BUCKET)
      .file("instance/raw/uploaded.txt")
      .save("from gcloud", { resumable: false });
    const report = ok<{ registered: { key: string }[] }>(await run(["reconcile", "--json"]));
    expect(report.registered.map((r) => r.key)).toContain("raw/uploaded.txt");
    const found = ok<Artifact>(await run(["describe", "--key", "raw/uploaded.txt", "--json"]));
    expect(found.hash).toBe(hashString("from gcloud"));

    const gone = await run(["delete", bigArtifact.uid, "--permanent", "--json"]);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gcs.object(BUCKET, `instance/.lamindb/${bigArtifact.uid}.bin`)).toBeUndefined();

    const info = await run(["info"]);
    expect(info.stdout).toMatch(
      new RegExp(`storage +gs://${BUCKET}/instance \\(endpoint ${gcs.url}\\)`),
    );
    rmSync(big);
  }, 60_000);

  it("lamin serve: Pub/Sub pushes at /events/gcs?token=; uploads through it without a service account", async () => {
    // user credentials cannot sign URLs: the server starts, and bytes go through it instead
    const { child, ready } = await startLamin<{ url: string; token: string }>(
      ["serve", "--port", "0", "--json"],
      {
        GOOGLE_APPLICATION_CREDENTIALS: "",
        METADATA_SERVER_DETECTION: "none",
        STORAGE_EMULATOR_HOST: "",
      },
    );
    try {
      const from = gcs.notifications.length;
      await sdk().bucket(BUCKET).file("instance/pushed/p.csv").save("pushed", { resumable: false });
      const [finalize] = gcs.notifications.slice(from);
      const pushed = await fetch(`${ready.url}/events/gcs?token=${ready.token}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(finalize),
      });
      expect(await pushed.json()).toEqual({
        outcomes: [expect.objectContaining({ action: "created", key: "pushed/p.csv" })],
      });
      expect(
        (await fetch(`${ready.url}/events/gcs?token=lnt_wrong`, { method: "POST", body: "{}" }))
          .status,
      ).toBe(401);

      const auth = { authorization: `Bearer ${ready.token}`, "content-type": "application/json" };
      const body = "through the server\n";
      writeFileSync(join(work, "through.csv"), body);
      const h = await hashFile(join(work, "through.csv"));
      const started = await fetch(`${ready.url}/artifacts/uploads`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          name: "through.csv",
          key: "api/through.csv",
          size: h.size,
          hash: h.hash,
          hash_type: "md5",
        }),
      });
      const ticket = (await started.json()) as {
        artifact: { uid: string };
        upload: { url: string; direct?: boolean; complete_url: string };
      };
      expect(ticket.upload.direct).toBeUndefined();
      expect(ticket.upload.url).toMatch(/\/artifacts\/uploads\/[A-Za-z0-9]+\/content$/);
      const put = await fetch(`${ready.url}${ticket.upload.url}`, {
        method: "PUT",
        headers: {
          authorization: `Bearer ${ready.token}`,
          "content-type": "application/octet-stream",
        },
        body,
      });
      expect(put.status, await put.clone().text()).toBeLessThan(300);
      const done = await fetch(`${ready.url}${ticket.upload.complete_url}`, {
        method: "POST",
        headers: auth,
      });
      expect(await done.json()).toMatchObject({ uid: ticket.artifact.uid, upload_complete: true });
      // downloads too: no redirect to a URL that cannot be signed, the bytes themselves
      const got = await fetch(
        `${ready.url}/artifacts/${ticket.artifact.uid}/download?redirect=true`,
        {
          headers: auth,
          redirect: "manual",
        },
      );
      expect(got.status).toBe(200);
      expect(await got.text()).toBe(body);
    } finally {
      await stopChild(child);
    }
  }, 60_000);

  it("takes the emulator from STORAGE_EMULATOR_HOST; a missing bucket leaves nothing behind", async () => {
    const viaEnv = ok<Record<string, unknown>>(
      await run(["init", "--storage", `gs://${BUCKET}/via-env`, "--name", "gcsenv", "--json"], {
        STORAGE_EMULATOR_HOST: gcs.url,
      }),
    );
    expect(viaEnv).toMatchObject({ storage: `gs://${BUCKET}/via-env` });
    expect(viaEnv).not.toHaveProperty("endpoint");
    expect(gcs.object(BUCKET, "via-env/.lamindb/storage_uid.txt")).toBeDefined();

    const before = ok<{ name: string }[]>(await run(["list", "instances", "--json"]));
    const failed = await run(
      ["init", "--storage", "gs://missing-bucket/x", "--name", "nob", "--json"],
      { STORAGE_EMULATOR_HOST: gcs.url },
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
