/**
 * Downloads from object storage never pass through the API (issue 19): on an S3 bucket (s3rver)
 * the download routes answer a 302 to a short-lived presigned URL (or that URL as JSON with
 * `url=true`) after the role check, the SDK and `lamin load` read from storage without the API's
 * token, and local storage keeps streaming. Attacks: no token, a reader of another instance, a
 * path out of a folder, a row whose key leaves the storage or whose storage is another one.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApi, startApi } from "../cli/commands/serve.js";
import { queryRows } from "../core/db/client.js";
import type { Instance } from "../core/instance.js";
import { initInstance } from "../core/setup.js";
import { nodeFetch } from "../sdk/node-fetch.js";
import { RemoteInstance } from "../sdk/remote.js";
import { tempDir, useTempHome, writeTree } from "./helpers.js";
import { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from "./servers/s3rver.js";

useTempHome();

const CSV = "gene,count\nCD8A,12\nCD3E,7\n";

describe("downloads on S3 storage", () => {
  let s3: S3rverHandle;
  let ln: Instance;
  let api: RunningApi;
  let work: string;
  let file: string;
  let folder: string;

  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ["dl-lab"] });
    process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
    work = tempDir("lamin-presigned-");
    writeTree(work, {
      "counts.csv": CSV,
      "cells.zarr/a.txt": "alpha\n",
      "cells.zarr/sub/b.txt": "beta\n",
    });
    ln = await initInstance({
      storage: "s3://dl-lab/data",
      name: "dl-s3",
      endpoint: s3.endpoint,
      pgliteDir: join(work, "pglite"),
    });
    file = (await ln.artifacts.save(join(work, "counts.csv"), { key: "raw/counts.csv" })).artifact
      .uid;
    folder = (await ln.artifacts.save(join(work, "cells.zarr"), { key: "data/cells.zarr" }))
      .artifact.uid;
    api = await startApi(ln, { port: 0, host: "127.0.0.1" });
  }, 120_000);
  afterAll(async () => {
    api?.close();
    await ln?.close();
    await s3?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${api.url}${path}`, {
      headers: { authorization: `Bearer ${api.token}`, ...headers },
      redirect: "manual",
    });

  it("answers a 302 to a presigned URL of the bytes, which storage serves without the token", async () => {
    const res = await get(`/artifacts/${file}/download`);
    expect(res.status).toBe(302);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toBe(""); // no byte of the file
    const location = new URL(res.headers.get("location") as string);
    expect(location.origin).toBe(new URL(s3.endpoint).origin);
    expect(location.pathname).toBe(`/dl-lab/data/.lamindb/${file}.csv`);
    expect(location.searchParams.get("X-Amz-Expires")).toBe("300");
    const bytes = await fetch(location);
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get("content-disposition")).toMatch(/^attachment; filename="counts.csv"/);
    expect(await bytes.text()).toBe(CSV);
    // a range is storage's to answer, through the redirect
    const part = await fetch(`${api.url}/artifacts/${file}/download`, {
      headers: { authorization: `Bearer ${api.token}`, range: "bytes=0-9" },
    });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe("gene,count");
  });

  it("answers the URL as JSON with url=true; folder files redirect one by one", async () => {
    const res = await get(`/artifacts/${file}/download?url=true`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { url: string; direct: boolean; expires_in: number };
    expect(body).toMatchObject({ direct: true, expires_in: 300 });
    expect(await (await fetch(body.url)).text()).toBe(CSV);

    const manifest = (await (await get(`/artifacts/${folder}/download`)).json()) as {
      files: { path: string; url: string }[];
    };
    expect(manifest.files.map((f) => f.path)).toEqual(["a.txt", "sub/b.txt"]);
    for (const [f, text] of [
      [manifest.files[1], "beta\n"],
      [manifest.files[0], "alpha\n"],
    ] as const) {
      const redirect = await get(new URL(f?.url ?? "", api.url).pathname);
      expect(redirect.status).toBe(302);
      expect(new URL(redirect.headers.get("location") as string).origin).toBe(
        new URL(s3.endpoint).origin,
      );
      expect(await (await fetch(redirect.headers.get("location") as string)).text()).toBe(text);
    }
  });

  it("signs nothing for a caller without a valid token, or for a path out of the folder", async () => {
    for (const headers of [{}, { authorization: "Bearer not-a-token" }] as Record<
      string,
      string
    >[]) {
      const res = await fetch(`${api.url}/artifacts/${file}/download?url=true`, {
        headers,
        redirect: "manual",
      });
      expect(res.status).toBe(401);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).not.toContain("X-Amz-Signature");
    }
    for (const path of ["..%2F..%2Fcounts.csv", "sub%2F..%2F..%2Fx", "%2Fetc%2Fpasswd"]) {
      const res = await get(`/artifacts/${folder}/files/${path}`);
      expect(res.status, path).toBe(400);
      expect(res.headers.get("location")).toBeNull();
    }
  });

  it("never signs a key outside the artifact's storage", async () => {
    writeTree(work, { "escape.csv": "a row of its own to tamper with\n" });
    const target = (await ln.artifacts.save(join(work, "escape.csv"), { key: "raw/escape.csv" }))
      .artifact.uid;
    await ln.db.execute(
      sql`UPDATE lamindb_artifact SET _real_key = '../other-bucket/secret.csv' WHERE uid = ${target}`,
    );
    try {
      const res = await get(`/artifacts/${target}/download?url=true`);
      expect(res.status).toBe(400);
      expect(await res.text()).not.toContain("X-Amz-Signature");
    } finally {
      await ln.db.execute(sql`UPDATE lamindb_artifact SET _real_key = NULL WHERE uid = ${target}`);
    }
    const [other] = await queryRows<{ id: number }>(
      ln.db,
      sql`INSERT INTO lamindb_storage (uid, root, type, created_by_id) SELECT 'otherStor001', 's3://someone-elses-bucket', 's3', created_by_id FROM lamindb_storage LIMIT 1 RETURNING id`,
    );
    await ln.db.execute(
      sql`UPDATE lamindb_artifact SET storage_id = ${other?.id} WHERE uid = ${target}`,
    );
    const res = await get(`/artifacts/${target}/download`);
    expect(res.status).toBe(422);
    expect(res.headers.get("location")).toBeNull();
    expect(((await res.json()) as { detail: string }).detail).toMatch(/another storage/);
  });

  it("the SDK loads from storage: the API answers redirects, storage never sees the token", async () => {
    const seen: { url: string; status: number; auth: boolean }[] = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await nodeFetch(input as string, init);
      const url = typeof input === "string" ? input : (input as URL).toString();
      const auth = new Headers(init?.headers).has("authorization");
      seen.push({ url, status: res.status, auth });
      return res;
    };
    const remote = new RemoteInstance(api.url, { token: api.token, fetch: recording });
    const loaded = await remote.artifacts.load(file, { to: join(work, "sdk") });
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(loaded.path, "utf8")).toBe(CSV);
    const dir = await remote.artifacts.load(folder, { to: join(work, "sdk") });
    expect(readFileSync(join(dir.path, "sub", "b.txt"), "utf8")).toBe("beta\n");
    const toStorage = seen.filter((s) => s.url.startsWith(s3.endpoint));
    expect(toStorage).toHaveLength(3); // counts.csv, a.txt, sub/b.txt
    expect(toStorage.every((s) => s.status === 200 && !s.auth)).toBe(true);
    const downloads = seen.filter(
      (s) => s.url.startsWith(api.url) && /\/(download|files\/)/.test(s.url),
    );
    expect(downloads.map((d) => d.status).sort()).toEqual([200, 302, 302, 302]); // the folder's manifest, then redirects;
  });
});

describe("downloads on local storage", () => {
  let ln: Instance;
  let api: RunningApi;
  let uid: string;

  beforeAll(async () => {
    const work = tempDir("lamin-local-dl-");
    writeTree(work, { "counts.csv": CSV });
    ln = await initInstance({ storage: join(work, "storage"), name: "dl-local" });
    uid = (await ln.artifacts.save(join(work, "counts.csv"), { key: "raw/counts.csv" })).artifact
      .uid;
    api = await startApi(ln, { port: 0, host: "127.0.0.1" });
  }, 120_000);
  afterAll(async () => {
    api?.close();
    await ln?.close();
  });

  it("streams the bytes through the API; url=true names the route itself", async () => {
    const auth = { authorization: `Bearer ${api.token}` };
    const res = await fetch(`${api.url}/artifacts/${uid}/download`, { headers: auth });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(CSV);
    const named = await fetch(`${api.url}/artifacts/${uid}/download?url=true`, { headers: auth });
    expect(await named.json()).toEqual({ url: `/artifacts/${uid}/download`, direct: false });
  });
});

describe("the SDK's fetch", () => {
  let storage: Server;
  let api: Server;
  const received: (string | undefined)[] = [];

  beforeAll(async () => {
    storage = createServer((req, res) => {
      received.push(req.headers.authorization);
      res.end("bytes");
    });
    await new Promise<void>((r) => storage.listen(0, "127.0.0.1", r));
    const target = `http://127.0.0.1:${(storage.address() as AddressInfo).port}/object`;
    api = createServer((req, res) => {
      if (req.url === "/same") res.writeHead(302, { location: "/landing" }).end();
      else if (req.url === "/landing") res.end(String(req.headers.authorization));
      else res.writeHead(302, { location: target }).end();
    });
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
  });
  afterAll(() => {
    storage?.close();
    api?.close();
  });

  it("drops the token on a redirect to another origin, keeps it on the same one", async () => {
    const base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const headers = { authorization: "Bearer secret" };
    expect(await (await nodeFetch(`${base}/elsewhere`, { headers })).text()).toBe("bytes");
    expect(received).toEqual([undefined]);
    expect(await (await nodeFetch(`${base}/same`, { headers })).text()).toBe("Bearer secret");
    const manual = await nodeFetch(`${base}/elsewhere`, { headers, redirect: "manual" });
    expect(manual.status).toBe(302);
  });
});
