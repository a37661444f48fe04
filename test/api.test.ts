/**
 * The HTTP API through `app.request`, on each database: the upload flow for files and folders,
 * listing with filters and cursors, get/versions/update/trash/restore/delete, downloads, and
 * bad input of every kind answered as problem+json with the right status and no server internals.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { hashFile, hashFolder } from "../core/hash.js";
import type { Instance } from "../core/instance.js";
import type { Artifact } from "../core/registry/artifacts/artifacts.js";
import { createApp } from "../functions/api/app.js";
import type { Problem } from "../functions/api/problem.js";
import {
  BACKENDS,
  createInstance,
  managedFiles,
  REPO,
  type TestInstance,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";

useTempHome();

const TOKEN = "lnt_api-test-token-0123456789";

// an error the API did not expect is logged and answered 500: none may happen here
const logged = vi.spyOn(console, "error");
afterEach(() => {
  expect(logged).not.toHaveBeenCalled();
});
const STEM = 16;

interface Ticket {
  status: string;
  artifact: Artifact;
  note?: string;
  upload?: { method: "PUT"; url?: string; file_url_template?: string; complete_url: string };
}
interface Page {
  items: Artifact[];
  next_cursor?: string;
}
interface Manifest {
  artifact: Artifact;
  files: { path: string; size: number; url: string }[];
}

describe.each(BACKENDS)("HTTP API on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir();
    app = createApp({ instance: () => ln, authorize: (token) => token === TOKEN });
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  interface CallOptions {
    /** Sent as JSON (with content-type application/json). */
    json?: unknown;
    /** Sent as is. */
    body?: string | Uint8Array;
    headers?: Record<string, string>;
    /** null: no Authorization header. */
    token?: string | null;
  }

  const call = (method: string, path: string, opts: CallOptions = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? TOKEN : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | Uint8Array | undefined = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers["content-type"] ??= "application/json";
    }
    return app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  };

  const ok = async <T>(res: Response, status = 200): Promise<T> => {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    return JSON.parse(text) as T;
  };

  /** A problem+json answer with a stable type, a title, a detail, and nothing of the server. */
  const expectProblem = async (res: Response, status: number, kind: string): Promise<Problem> => {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = JSON.parse(text) as Problem;
    expect(body.type).toBe(`urn:lamindb-serverless:problem:${kind}`);
    expect(body.status).toBe(status);
    expect(body.title).toEqual(expect.any(String));
    expect(body.detail).toEqual(expect.any(String));
    expect(body.detail.length).toBeGreaterThan(0);
    expect(Object.keys(body).sort()).toEqual(
      ["detail", "status", "title", "type", ...("hint" in body ? ["hint"] : [])].sort(),
    );
    // no stack trace, no file of the server
    expect(text).not.toMatch(/\bat .*:\d+:\d+|\n\s+at\s|"stack"/);
    expect(text).not.toMatch(/node_modules|\.ts:\d|\.js:\d/);
    expect(text).not.toContain(REPO);
    expect(text).not.toContain(tmpdir());
    return body;
  };

  const file = (name: string, content: string | Uint8Array) => {
    const path = join(work, name);
    writeTree(work, { [name]: content });
    return path;
  };

  /** Declare a local file for upload, the way a client does: name, size and LaminDB hash. */
  const declareFile = async (
    path: string,
    extra: { key?: string; description?: string; version_tag?: string } = {},
  ) => {
    const h = await hashFile(path);
    const name = path.split("/").pop() ?? "";
    return { name, size: h.size, hash: h.hash, hash_type: h.hashType, ...extra };
  };

  /** The whole upload of a file: declare, PUT the bytes, complete. */
  const uploadFile = async (path: string, extra: { key?: string; description?: string }) => {
    const ticket = await ok<Ticket>(
      await call("POST", "/artifacts/uploads", { json: await declareFile(path, extra) }),
    );
    if (ticket.status !== "pending") return { ticket, artifact: ticket.artifact };
    const url = ticket.upload?.url ?? "";
    const put = await call("PUT", url, { body: new Uint8Array(readFileSync(path)) });
    expect(put.status, await put.clone().text()).toBe(204);
    const artifact = await ok<Artifact>(await call("POST", ticket.upload?.complete_url ?? ""));
    return { ticket, artifact };
  };

  const artifactCount = async () =>
    (await ln.artifacts.list({ allVersions: true, limit: 10_000 })).items.length +
    (await ln.artifacts.list({ trash: true, limit: 10_000 })).items.length;

  // ------------------------------------------------------------------ public routes

  describe("public routes", () => {
    it("GET /health needs no token", async () => {
      expect(await ok(await call("GET", "/health", { token: null }))).toEqual({ ok: true });
    });

    it("GET /docs is an HTML page without a token", async () => {
      const res = await call("GET", "/docs", { token: null });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toMatch(/^<!doctype html>/i);
      expect(html).toContain("/openapi.json");
    });

    it("GET /openapi.json is an OpenAPI 3.1 document of every route, without a token", async () => {
      type Operation = {
        responses?: Record<string, { description?: string; content?: unknown }>;
        parameters?: { name: string; in: string; required?: boolean }[];
        requestBody?: { content?: Record<string, unknown> };
      };
      const doc = await ok<{
        openapi: string;
        info: { title: string; version: string };
        paths: Record<string, Record<string, Operation>>;
        components?: {
          schemas?: Record<string, unknown>;
          securitySchemes?: Record<string, unknown>;
        };
        security?: Record<string, string[]>[];
      }>(await call("GET", "/openapi.json", { token: null }));
      expect(doc.openapi).toMatch(/^3\.1\./);
      expect(doc.info.title).toEqual(expect.any(String));
      expect(doc.info.version).toEqual(expect.any(String));
      expect(doc.components?.securitySchemes?.bearer).toEqual({ type: "http", scheme: "bearer" });
      expect(doc.security).toEqual([{ bearer: [] }]);
      const methods = new Set([
        "get",
        "put",
        "post",
        "delete",
        "options",
        "head",
        "patch",
        "trace",
      ]);
      const operations: string[] = [];
      for (const [path, item] of Object.entries(doc.paths)) {
        expect(path.startsWith("/"), path).toBe(true);
        const ops = Object.entries(item).filter(([m]) => methods.has(m));
        expect(ops.length, path).toBeGreaterThan(0);
        const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        for (const [method, op] of ops) {
          operations.push(`${method.toUpperCase()} ${path}`);
          const codes = Object.keys(op.responses ?? {});
          expect(codes.length, `${method} ${path}`).toBeGreaterThan(0);
          for (const code of codes) {
            expect(code).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
            expect(op.responses?.[code]?.description, `${method} ${path} ${code}`).toEqual(
              expect.any(String),
            );
          }
          // every {param} of the path is a required path parameter
          for (const name of templated) {
            const param = op.parameters?.find((p) => p.name === name && p.in === "path");
            expect(param?.required, `${method} ${path} {${name}}`).toBe(true);
          }
        }
      }
      // every $ref points at a component that exists
      const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)];
      expect(refs.length).toBeGreaterThan(0);
      for (const [, name] of refs) expect(doc.components?.schemas, name).toHaveProperty(name ?? "");
      expect(operations).toEqual(
        expect.arrayContaining([
          "GET /artifacts",
          "GET /artifacts/by-key",
          "GET /artifacts/{uid}",
          "PATCH /artifacts/{uid}",
          "DELETE /artifacts/{uid}",
          "GET /artifacts/{uid}/versions",
          "POST /artifacts/{uid}/restore",
          "POST /artifacts/uploads",
          "PUT /artifacts/uploads/{uid}/content",
          "PUT /artifacts/uploads/{uid}/files/{path}",
          "POST /artifacts/uploads/{uid}/complete",
          "GET /artifacts/{uid}/download",
          "GET /artifacts/{uid}/files/{path}",
        ]),
      );
      // errors are documented as problem+json
      const listOp = doc.paths["/artifacts"]?.get;
      expect(listOp?.responses?.["400"]?.content).toHaveProperty(["application/problem+json"]);
      expect(doc.paths["/artifacts/uploads"]?.post?.requestBody?.content).toHaveProperty([
        "application/json",
      ]);
    });
  });

  // ------------------------------------------------------------------ auth

  describe("authentication", () => {
    it("refuses a request without a token with 401 and www-authenticate", async () => {
      const res = await call("GET", "/artifacts", { token: null });
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      const p = await expectProblem(res, 401, "unauthenticated");
      expect(p.detail).toMatch(/needs an access token/);
    });

    it("refuses a wrong or malformed token with 401", async () => {
      for (const headers of [
        { authorization: "Bearer lnt_wrong" },
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: `Basic ${TOKEN}` },
        { authorization: "Bearer" },
        { authorization: `Bearer ${TOKEN} extra` },
      ]) {
        const res = await call("GET", "/artifacts", { token: null, headers });
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
        const p = await expectProblem(res, 401, "unauthenticated");
        expect(p.detail).toMatch(/not valid/);
      }
    });

    it("protects writes and uploads too", async () => {
      const res = await call("POST", "/artifacts/uploads", { token: null, json: {} });
      await expectProblem(res, 401, "unauthenticated");
      const put = await call("PUT", "/artifacts/uploads/aaaaaaaaaaaaaaaa0000/content", {
        token: null,
        body: "x",
      });
      await expectProblem(put, 401, "unauthenticated");
    });
  });

  // ------------------------------------------------------------------ uploads

  describe("uploading a file", () => {
    it("declares, PUTs and completes; the artifact is what a local save makes of the same bytes", async () => {
      const bytes = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) % 256);
      const path = file("upload/counts.csv", bytes);
      const declared = await declareFile(path, { key: "up/counts.csv", description: "counts" });
      const ticket = await ok<Ticket>(await call("POST", "/artifacts/uploads", { json: declared }));
      expect(ticket.status).toBe("pending");
      expect((ticket as { outcome?: string }).outcome).toBe("created");
      expect(ticket.artifact).toMatchObject({
        key: "up/counts.csv",
        upload_complete: false,
        hash: declared.hash,
        size: 3000,
      });
      const uid = ticket.artifact.uid;
      expect(ticket.upload).toEqual({
        method: "PUT",
        url: `/artifacts/uploads/${uid}/content`,
        complete_url: `/artifacts/uploads/${uid}/complete`,
      });
      // not there yet
      const early = await call("GET", `/artifacts/${uid}/download`);
      await expectProblem(early, 422, "integrity");

      const put = await call("PUT", ticket.upload?.url ?? "", {
        body: bytes,
        headers: { "content-type": "application/octet-stream" },
      });
      expect(put.status).toBe(204);
      const artifact = await ok<Artifact>(await call("POST", ticket.upload?.complete_url ?? ""));
      expect(artifact).toMatchObject({
        uid,
        key: "up/counts.csv",
        description: "counts",
        suffix: ".csv",
        size: 3000,
        hash: declared.hash,
        hash_type: "md5",
        upload_complete: true,
        is_latest: true,
        branch: "main",
      });
      expect(new Uint8Array(readFileSync(artifact.path))).toEqual(bytes);
      // completing twice is harmless
      expect(
        (await ok<Artifact>(await call("POST", `/artifacts/uploads/${uid}/complete`))).uid,
      ).toBe(uid);
      // a local save of the same bytes finds it: same content, same hash
      const local = await ln.artifacts.save(path, { key: "up/counts.csv" });
      expect(local.status).toBe("existing");
      expect(local.artifact.uid).toBe(uid);
      expect(local.artifact.hash).toBe(artifact.hash);
      const loaded = await ln.artifacts.load(uid, { to: join(work, "loaded") });
      expect(new Uint8Array(readFileSync(loaded.path))).toEqual(bytes);
    });

    it("gets the hash a local save computes, for bytes saved locally first", async () => {
      const path = file("upload/local-first.txt", "local first\n");
      const saved = await ln.artifacts.save(path, { key: "up/local-first.txt" });
      const ticket = await ok<Ticket>(
        await call("POST", "/artifacts/uploads", {
          json: await declareFile(path, { key: "up/local-first.txt" }),
        }),
      );
      expect(ticket.status).toBe("existing");
      expect(ticket.upload).toBeUndefined();
      expect(ticket.artifact.uid).toBe(saved.artifact.uid);
      expect(ticket.artifact.hash).toBe(saved.artifact.hash);
    });

    it("answers the same content again with status existing and no upload", async () => {
      const path = join(work, "upload/counts.csv");
      const before = managedFiles(t.root);
      const ticket = await ok<Ticket>(
        await call("POST", "/artifacts/uploads", {
          json: await declareFile(path, { key: "up/counts.csv" }),
        }),
      );
      expect(ticket.status).toBe("existing");
      expect(ticket.upload).toBeUndefined();
      expect(ticket.artifact.key).toBe("up/counts.csv");
      // under another key: the existing artifact, with a note that says so
      const other = await ok<Ticket>(
        await call("POST", "/artifacts/uploads", {
          json: await declareFile(path, { key: "up/elsewhere.csv" }),
        }),
      );
      expect(other.status).toBe("existing");
      expect(other.upload).toBeUndefined();
      expect(other.artifact.uid).toBe(ticket.artifact.uid);
      expect(other.note).toMatch(/up\/counts\.csv/);
      expect(managedFiles(t.root)).toEqual(before);
    });

    it("makes a new version for new content under the same key", async () => {
      const v0 = await ln.artifacts.get({ key: "up/counts.csv" });
      const path = file("upload/counts.csv", "new,content\n1,2\n");
      const { ticket, artifact } = await uploadFile(path, { key: "up/counts.csv" });
      // the ticket is pending and says so: the uid is the next version of the key's family
      expect(ticket.status).toBe("pending");
      expect((ticket as { outcome?: string }).outcome).toBe("new-version");
      expect(artifact.uid).toBe(`${v0.uid.slice(0, STEM)}0001`);
      expect(artifact).toMatchObject({ is_latest: true, upload_complete: true });
      expect(artifact.hash).toBe((await hashFile(path)).hash);
      const versions = await ok<Artifact[]>(await call("GET", `/artifacts/${v0.uid}/versions`));
      expect(versions.map((v) => [v.uid, v.is_latest])).toEqual([
        [artifact.uid, true],
        [v0.uid, false],
      ]);
    });
  });

  describe("uploading a folder", () => {
    const tree = {
      "a.txt": "alpha",
      "sub/b.csv": "x,y\n1,2\n",
      "sub/c d.bin": Uint8Array.from({ length: 700 }, (_, i) => i % 256),
      "ü/%percent.txt": "encoded names",
    };
    let dir: string;
    let uid: string;

    it("PUTs each file to file_url_template and completes with the md5-d hash", async () => {
      dir = writeTree(join(work, "cells.zarr"), tree);
      const h = await hashFolder(dir);
      const ticket = await ok<Ticket>(
        await call("POST", "/artifacts/uploads", {
          json: {
            name: "cells.zarr",
            size: h.size,
            hash: h.hash,
            hash_type: "md5-d",
            n_files: h.nFiles,
            key: "folders/cells.zarr",
          },
        }),
      );
      expect(ticket.status).toBe("pending");
      uid = ticket.artifact.uid;
      expect(ticket.upload).toEqual({
        method: "PUT",
        file_url_template: `/artifacts/uploads/${uid}/files/{path}`,
        complete_url: `/artifacts/uploads/${uid}/complete`,
      });
      // the whole file upload route is refused for a folder upload
      await expectProblem(
        await call("PUT", `/artifacts/uploads/${uid}/content`, { body: "x" }),
        400,
        "validation",
      );
      for (const f of h.files) {
        const url = (ticket.upload?.file_url_template ?? "").replace(
          "{path}",
          encodeURIComponent(f.relPath),
        );
        const res = await call("PUT", url, {
          body: new Uint8Array(readFileSync(join(dir, f.relPath))),
        });
        expect(res.status, `${f.relPath}: ${await res.clone().text()}`).toBe(204);
      }
      const artifact = await ok<Artifact>(await call("POST", ticket.upload?.complete_url ?? ""));
      expect(artifact).toMatchObject({
        uid,
        key: "folders/cells.zarr",
        suffix: ".zarr",
        hash: h.hash,
        hash_type: "md5-d",
        n_files: 4,
        size: h.size,
        upload_complete: true,
      });
      expect(readFileSync(join(artifact.path, "ü/%percent.txt"), "utf8")).toBe("encoded names");
      const local = await ln.artifacts.save(dir, { key: "folders/cells.zarr" });
      expect(local.status).toBe("existing");
      expect(local.artifact.uid).toBe(uid);
      expect((await hashFolder(artifact.path)).hash).toBe(h.hash);
    });

    it("answers the same folder again with status existing and no upload", async () => {
      const h = await hashFolder(dir);
      const ticket = await ok<Ticket>(
        await call("POST", "/artifacts/uploads", {
          json: {
            name: "cells.zarr",
            size: h.size,
            hash: h.hash,
            hash_type: "md5-d",
            n_files: h.nFiles,
            key: "folders/cells.zarr",
          },
        }),
      );
      expect(ticket).toMatchObject({ status: "existing", artifact: { uid } });
      expect(ticket.upload).toBeUndefined();
    });

    it("downloads a manifest, then each file from its url", async () => {
      const manifest = await ok<Manifest>(await call("GET", `/artifacts/${uid}/download`));
      expect(manifest.artifact.uid).toBe(uid);
      expect(manifest.files.map((f) => f.path)).toEqual(Object.keys(tree).sort());
      for (const f of manifest.files) {
        // each segment encoded, `/` kept: an encoded `/` is what the hub refuses as ambiguous
        expect(f.url).toBe(
          `/artifacts/${uid}/files/${f.path.split("/").map(encodeURIComponent).join("/")}`,
        );
        const res = await call("GET", f.url);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("application/octet-stream");
        const got = new Uint8Array(await res.arrayBuffer());
        const want = tree[f.path as keyof typeof tree];
        expect(got).toEqual(typeof want === "string" ? new TextEncoder().encode(want) : want);
        expect(res.headers.get("content-length")).toBe(String(f.size));
        expect(f.size).toBe(got.length);
      }
    });

    it("refuses folder file paths that leave the folder, and missing files", async () => {
      const h = await hashFolder(dir);
      writeTree(dir, { "a.txt": "changed alpha" });
      const changed = await hashFolder(dir);
      expect(changed.hash).not.toBe(h.hash);
      const ticket = await ok<Ticket>(
        await call("POST", "/artifacts/uploads", {
          json: {
            name: "cells.zarr",
            size: changed.size,
            hash: changed.hash,
            hash_type: "md5-d",
            n_files: changed.nFiles,
            key: "folders/cells.zarr",
          },
        }),
      );
      expect(ticket.status).toBe("pending");
      const base = `/artifacts/uploads/${ticket.artifact.uid}/files/`;
      for (const path of [
        "..%2F..%2Fetc%2Fpasswd",
        "..%2F..%2F..%2Fescaped.txt",
        "%2Fetc%2Fpasswd",
        "a%2F..%2F..%2Fx",
        "..",
        "a%2F.%2Fb",
        "a%5C..%5Cb",
        "sub%2F%2Fb.csv",
      ]) {
        const res = await call("PUT", base + path, { body: "pwned" });
        // `..` alone is normalised away by URL parsing and matches no route
        if (path === "..") await expectProblem(res, 404, "not-found");
        else {
          const p = await expectProblem(res, 400, "validation");
          expect(p.detail).toMatch(/invalid file path/);
        }
      }
      expect(existsSync(join(t.root, "etc"))).toBe(false);
      expect(existsSync(join(t.root, ".lamindb", "etc"))).toBe(false);
      expect(existsSync(join(t.root, "escaped.txt"))).toBe(false);
      expect(existsSync(join(t.root, "..", "escaped.txt"))).toBe(false);
      const stray = readdirSync(join(t.root, ".lamindb"), { recursive: true }).map(String);
      expect(stray.filter((p) => p.includes("passwd") || p.includes("pwned"))).toEqual([]);
      // downloading: same rules, and a file that is not there is a 404
      await expectProblem(
        await call("GET", `/artifacts/${uid}/files/..%2F..%2Fpglite%2FPG_VERSION`),
        400,
        "validation",
      );
      await expectProblem(
        await call("GET", `/artifacts/${uid}/files/${encodeURIComponent("sub/none.csv")}`),
        404,
        "not-found",
      );
      // completing without the files: the upload is dropped and the version was never made
      await expectProblem(
        await call("POST", `/artifacts/uploads/${ticket.artifact.uid}/complete`),
        422,
        "integrity",
      );
      await expectProblem(await call("GET", `/artifacts/${ticket.artifact.uid}`), 404, "not-found");
      expect((await ok<Artifact>(await call("GET", `/artifacts/${uid}`))).is_latest).toBe(true);
    });
  });

  describe("bad uploads", () => {
    it("refuses more bytes than declared with 413 and keeps nothing", async () => {
      const path = file("bad/limit.txt", "0123456789");
      const ticket = await ok<Ticket>(
        await call("POST", "/artifacts/uploads", {
          json: await declareFile(path, { key: "bad/limit.txt" }),
        }),
      );
      const before = managedFiles(t.root);
      const res = await call("PUT", ticket.upload?.url ?? "", {
        body: new Uint8Array(1 << 20).fill(65),
      });
      const p = await expectProblem(res, 413, "too-large");
      expect(p.detail).toMatch(/more than the declared 10 bytes/);
      expect(managedFiles(t.root)).toEqual(before);
      expect(existsSync(ticket.artifact.path)).toBe(false);
      // the right bytes still go through afterwards
      const put = await call("PUT", ticket.upload?.url ?? "", { body: "0123456789" });
      expect(put.status).toBe(204);
      const done = await ok<Artifact>(await call("POST", ticket.upload?.complete_url ?? ""));
      expect(done.upload_complete).toBe(true);
    });

    it("refuses bytes whose hash differs from the declared one with 422, registering nothing", async () => {
      const path = file("bad/declared.txt", "the declared content");
      const ticket = await ok<Ticket>(
        await call("POST", "/artifacts/uploads", {
          json: await declareFile(path, { key: "bad/declared.txt" }),
        }),
      );
      const uid = ticket.artifact.uid;
      const count = await artifactCount();
      // same length, other bytes
      const put = await call("PUT", ticket.upload?.url ?? "", { body: "THE DECLARED CONTENT" });
      expect(put.status).toBe(204);
      const p = await expectProblem(
        await call("POST", ticket.upload?.complete_url ?? ""),
        422,
        "integrity",
      );
      expect(p.detail).toMatch(/not the declared/);
      expect(p.hint).toMatch(/not registered/);
      await expectProblem(await call("GET", `/artifacts/${uid}`), 404, "not-found");
      await expectProblem(
        await call("GET", "/artifacts/by-key?key=bad%2Fdeclared.txt"),
        404,
        "not-found",
      );
      expect(await artifactCount()).toBe(count - 1);
      expect(existsSync(ticket.artifact.path)).toBe(false);
      // and the upload URL is gone
      await expectProblem(
        await call("PUT", ticket.upload?.url ?? "", { body: "the declared content" }),
        404,
        "not-found",
      );
    });

    it("refuses uploads to a uid that is not a pending upload", async () => {
      const done = await ln.artifacts.get({ key: "up/counts.csv" });
      const p = await expectProblem(
        await call("PUT", `/artifacts/uploads/${done.uid}/content`, { body: "x" }),
        404,
        "not-found",
      );
      expect(p.detail).toMatch(/no pending upload/);
      await expectProblem(
        await call("PUT", "/artifacts/uploads/aaaaaaaaaaaaaaaa0000/content", { body: "x" }),
        404,
        "not-found",
      );
      await expectProblem(
        await call("PUT", `/artifacts/uploads/${done.uid}/files/a.txt`, { body: "x" }),
        404,
        "not-found",
      );
      await expectProblem(
        await call("POST", "/artifacts/uploads/aaaaaaaaaaaaaaaa0000/complete"),
        404,
        "not-found",
      );
      await expectProblem(
        await call("PUT", "/artifacts/uploads/not-a-uid/content", { body: "x" }),
        400,
        "validation",
      );
      // completing an artifact that is already complete just returns it
      expect(
        (await ok<Artifact>(await call("POST", `/artifacts/uploads/${done.uid}/complete`))).uid,
      ).toBe(done.uid);
    });

    it("validates the declaration: types, unknown fields, hashes, names and keys", async () => {
      const good = {
        name: "v.csv",
        size: 3,
        hash: "AAAAAAAAAAAAAAAAAAAAAA",
        hash_type: "md5",
        key: "val/v.csv",
      };
      const count = await artifactCount();
      const cases: [unknown, RegExp][] = [
        [{ ...good, size: "3" }, /size/],
        [{ ...good, size: -1 }, /size/],
        [{ ...good, size: 1.5 }, /size/],
        [{ ...good, name: 42 }, /name/],
        [{ ...good, hash_type: "sha256" }, /hash_type/],
        [{ ...good, hash: "short" }, /hash/],
        [{ ...good, hash: "AAAAAAAAAAAAAAAAAAAA$$" }, /not a LaminDB hash/],
        [{ ...good, key: 7 }, /key/],
        [{ ...good, admin: true }, /admin|unrecognized/i],
        [{ ...good, hash_type: "md5-d" }, /n_files/],
        [{ ...good, hash_type: "sha1-fl" }, /sha1-fl/],
        [{ ...good, name: "../v.csv" }, /invalid name/],
        [{ ...good, name: ".." }, /invalid name/],
        [{ ...good, key: "val/v.txt" }, /ends in/],
        [{ name: "v.csv", size: 3, hash: good.hash, hash_type: "md5" }, /key or a description/],
        [[good], /expected object/],
        ["just a string", /expected object/],
        [null, /expected object/],
      ];
      for (const [json, detail] of cases) {
        const res = await call("POST", "/artifacts/uploads", { json });
        const p = await expectProblem(res, 400, "validation");
        expect(p.detail, JSON.stringify(json)).toMatch(detail);
      }
      // prototype keys are unknown fields like any other
      const proto = JSON.stringify(good).replace(/}$/, ',"__proto__":{"admin":true}}');
      await expectProblem(
        await call("POST", "/artifacts/uploads", {
          body: proto,
          headers: { "content-type": "application/json" },
        }),
        400,
        "validation",
      );
      expect(await artifactCount()).toBe(count);
    });

    it("refuses path traversal in keys", async () => {
      const count = await artifactCount();
      for (const key of [
        "../x.csv",
        "a/../../x.csv",
        "./x.csv",
        "my.lamindb/x.csv",
        "..\\x.csv",
        ".lamindb/x.csv",
        "data/.lamindb/x.csv",
        "x\u0000.csv",
      ]) {
        const res = await call("POST", "/artifacts/uploads", {
          json: { name: "x.csv", size: 1, hash: "AAAAAAAAAAAAAAAAAAAAAA", hash_type: "md5", key },
        });
        const p = await expectProblem(res, 400, "validation");
        expect(p.detail).toMatch(/invalid key/);
      }
      // `.lamindb/x` also for PATCH and for lookups by key
      const target = await ln.artifacts.get({ key: "up/local-first.txt" });
      for (const key of ["../x.txt", ".lamindb/x.txt", "x.lamindb/x.txt"]) {
        await expectProblem(
          await call("PATCH", `/artifacts/${target.uid}`, { json: { key } }),
          400,
          "validation",
        );
        await expectProblem(
          await call("GET", `/artifacts/by-key?key=${encodeURIComponent(key)}`),
          400,
          "validation",
        );
      }
      expect(await artifactCount()).toBe(count);
      expect((await ln.artifacts.get(target.uid)).key).toBe("up/local-first.txt");
    });

    it("answers malformed JSON, a missing content type and an oversized body with problems", async () => {
      const bad = await call("POST", "/artifacts/uploads", {
        body: '{"name": "x.csv", "size": ',
        headers: { "content-type": "application/json" },
      });
      const p = await expectProblem(bad, 400, "validation");
      expect(p.detail).toMatch(/JSON/);
      await expectProblem(
        await call("PATCH", "/artifacts/aaaaaaaaaaaaaaaa0000", {
          body: "{description: nope}",
          headers: { "content-type": "application/json" },
        }),
        400,
        "validation",
      );
      await expectProblem(
        await call("POST", "/artifacts/uploads", { body: '{"name":"x.csv"}' }),
        415,
        "payload",
      );
      // > 1 MiB of JSON, with and without a content-length
      const big = JSON.stringify({ name: "x.csv", description: "d".repeat(1024 * 1024 + 10) });
      const tooLarge = await call("POST", "/artifacts/uploads", {
        body: big,
        headers: { "content-type": "application/json" },
      });
      expect((await expectProblem(tooLarge, 413, "too-large")).detail).toMatch(/too large/);
      const withLength = await call("POST", "/artifacts/uploads", {
        body: big,
        headers: { "content-type": "application/json", "content-length": String(big.length) },
      });
      await expectProblem(withLength, 413, "too-large");
      const patch = await call("PATCH", "/artifacts/aaaaaaaaaaaaaaaa0000", {
        json: { description: "d".repeat(1024 * 1024 + 10) },
      });
      await expectProblem(patch, 413, "too-large");
    });
  });

  // ------------------------------------------------------------------ reading

  describe("listing and getting", () => {
    const listed: Artifact[] = [];

    beforeAll(async () => {
      const items: [string, string][] = [
        ["list/a.csv", "1"],
        ["list/b.csv", "22"],
        ["list/c.txt", "333"],
        ["list/d.csv", "4444"],
        ["list/sub/e.txt", "55555"],
        ["list/f.csv", "666666"],
      ];
      for (const [key, content] of items) {
        const path = file(`list-src/${key.replaceAll("/", "_")}`, content);
        listed.push((await ln.artifacts.save(path, { key })).artifact);
        // keep creation times apart, so the created_at filters below have clear answers
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });

    const keys = (page: Page) => page.items.map((a) => a.key);
    const list = async (query: string) => ok<Page>(await call("GET", `/artifacts?${query}`));

    it("lists the latest artifacts newest first, filtered by key__startswith", async () => {
      const page = await list("key__startswith=list%2F");
      expect(keys(page)).toEqual(listed.map((a) => a.key).reverse());
      expect(page.next_cursor).toBeUndefined();
      expect(page.items[0]).toEqual(listed.at(-1));
    });

    it("filters by suffix, size__gt, hash and created_at__gt, and orders", async () => {
      expect(keys(await list("key__startswith=list/&suffix=.csv&order_by=created_at"))).toEqual([
        "list/a.csv",
        "list/b.csv",
        "list/d.csv",
        "list/f.csv",
      ]);
      expect(keys(await list("key__startswith=list/&size__gt=3&order_by=created_at"))).toEqual([
        "list/d.csv",
        "list/sub/e.txt",
        "list/f.csv",
      ]);
      expect(keys(await list("key__startswith=list/&size__lte=2&order_by=-created_at"))).toEqual([
        "list/b.csv",
        "list/a.csv",
      ]);
      expect(keys(await list(`hash=${listed[2]?.hash}`))).toEqual(["list/c.txt"]);
      const after = new Date(Date.parse(listed[2]?.created_at ?? "") + 1).toISOString();
      expect(
        keys(
          await list(
            `key__startswith=list/&created_at__gt=${encodeURIComponent(after)}&order_by=created_at`,
          ),
        ),
      ).toEqual(["list/d.csv", "list/sub/e.txt", "list/f.csv"]);
      expect(keys(await list("key__startswith=list/&key__endswith=.txt&order_by=id"))).toEqual([
        "list/c.txt",
        "list/sub/e.txt",
      ]);
      expect(keys(await list("key__in=list/a.csv,list/f.csv&order_by=-id"))).toEqual([
        "list/f.csv",
        "list/a.csv",
      ]);
    });

    it("pages with limit and next_cursor without gaps or repeats", async () => {
      for (const order of ["-created_at", "-id", "id"]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await list(
            `key__startswith=list/&limit=4&order_by=${order}${cursor ? `&cursor=${cursor}` : ""}`,
          );
          expect(page.items.length).toBeLessThanOrEqual(4);
          seen.push(...keys(page).map(String));
          cursor = page.next_cursor;
          pages++;
        } while (cursor && pages < 10);
        const want = listed.map((a) => String(a.key));
        expect(seen, order).toEqual(order.startsWith("-") ? [...want].reverse() : want);
        expect(pages).toBe(2);
      }
      // a cursor of another ordering, or garbage, is a 400
      const first = await list("key__startswith=list/&limit=2");
      await expectProblem(
        await call("GET", `/artifacts?limit=2&order_by=id&cursor=${first.next_cursor}`),
        400,
        "validation",
      );
      await expectProblem(await call("GET", "/artifacts?cursor=%27%3B--"), 400, "validation");
    });

    it("gets one artifact by uid, by stem, and by key", async () => {
      const a = listed[0] as Artifact;
      expect(await ok<Artifact>(await call("GET", `/artifacts/${a.uid}`))).toEqual(a);
      expect(await ok<Artifact>(await call("GET", `/artifacts/${a.uid.slice(0, STEM)}`))).toEqual(
        a,
      );
      expect(
        await ok<Artifact>(
          await call("GET", `/artifacts/by-key?key=${encodeURIComponent("list/a.csv")}`),
        ),
      ).toEqual(a);
      // the stem of a family gives its latest version
      const v0 = await ln.artifacts.get({ key: "up/counts.csv" });
      const latest = await ok<Artifact>(await call("GET", `/artifacts/${v0.uid.slice(0, STEM)}`));
      expect(latest.uid.slice(0, STEM)).toBe(v0.uid.slice(0, STEM));
      expect(latest.is_latest).toBe(true);
    });

    it("downloads a file with its length and hash", async () => {
      const a = listed[3] as Artifact;
      const res = await call("GET", `/artifacts/${a.uid}/download`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/octet-stream");
      expect(res.headers.get("content-length")).toBe("4");
      expect(res.headers.get("x-lamin-hash")).toBe(`md5:${a.hash}`);
      expect(await res.text()).toBe("4444");
      // a file artifact has no files below it
      await expectProblem(await call("GET", `/artifacts/${a.uid}/files/x`), 400, "validation");
    });

    it("answers bytes that vanished from storage with 422, not 500", async () => {
      const path = file("vanish/gone.txt", "soon gone");
      const { artifact } = await ln.artifacts.save(path, { key: "vanish/gone.txt" });
      rmSync(artifact.path);
      const p = await expectProblem(
        await call("GET", `/artifacts/${artifact.uid}/download`),
        422,
        "integrity",
      );
      expect(p.detail).toMatch(/missing/);
      expect(p.detail).not.toContain(t.root);
      await ln.artifacts.delete(artifact.uid, { permanent: true });
    });

    it("refuses unknown filter fields and operators", async () => {
      for (const query of [
        "bogus=1",
        "key__regex=.*",
        "key__startswith__x=a",
        "size__contains=1",
        "is_latest__gt=true",
        "created_by=anonymous",
        "storage_id=1",
        "_aux=1",
      ]) {
        const p = await expectProblem(await call("GET", `/artifacts?${query}`), 400, "validation");
        expect(p.detail).toMatch(/unknown field|unknown operator|does not apply/);
      }
      for (const query of [
        "size__gt=abc",
        "created_at__gt=yesterday",
        "limit=0",
        "limit=10001",
        "limit=ten",
        // ordered by key, description, size, suffix, created_at, updated_at, id: not by hash
        "order_by=hash",
        "order_by=created_at%3B%20DROP%20TABLE%20lamindb_artifact",
        "trash=maybe",
        "is_latest=perhaps",
      ]) {
        await expectProblem(await call("GET", `/artifacts?${query}`), 400, "validation");
      }
    });

    it("treats SQL-injection strings as data: 400 or an empty result, never 500", async () => {
      const count = await artifactCount();
      const injections = [
        "' OR '1'='1",
        "x'; DROP TABLE lamindb_artifact; --",
        "%' OR 1=1 --",
        "\\'; SELECT pg_sleep(10); --",
        '" OR ""="',
        "list/%",
        "list/_.csv",
      ];
      for (const value of injections) {
        for (const field of [
          "key",
          "key__startswith",
          "key__contains",
          "description__icontains",
          "hash",
          "uid",
        ]) {
          const res = await call("GET", `/artifacts?${field}=${encodeURIComponent(value)}`);
          expect(res.status, `${field}=${value}`).toBeLessThan(500);
          if (res.status === 200) expect(((await res.json()) as Page).items).toEqual([]);
          else await expectProblem(res, 400, "validation");
        }
        // in a field name
        await expectProblem(
          await call("GET", `/artifacts?${encodeURIComponent(`key) OR 1=1 --${value}`)}=1`),
          400,
          "validation",
        );
        // as a uid and as a key
        await expectProblem(
          await call("GET", `/artifacts/${encodeURIComponent(value)}`),
          400,
          "validation",
        );
        const byKey = await call("GET", `/artifacts/by-key?key=${encodeURIComponent(value)}`);
        expect([400, 404]).toContain(byKey.status);
        await expectProblem(byKey, byKey.status, byKey.status === 400 ? "validation" : "not-found");
      }
      for (const value of ["1 OR 1=1", "1; DROP TABLE lamindb_artifact", "1)--"]) {
        await expectProblem(
          await call("GET", `/artifacts?size__gt=${encodeURIComponent(value)}`),
          400,
          "validation",
        );
      }
      // a key that looks like SQL is only a key
      const key = "inj/x'); DROP TABLE lamindb_artifact;--.csv";
      const { artifact } = await uploadFile(file("inj/x.csv", "injected?"), { key });
      expect(artifact.key).toBe(key);
      const found = await ok<Artifact>(
        await call("GET", `/artifacts/by-key?key=${encodeURIComponent(key)}`),
      );
      expect(found.uid).toBe(artifact.uid);
      expect(keys(await list(`key__startswith=${encodeURIComponent("inj/x')")}`))).toEqual([key]);
      expect(await artifactCount()).toBe(count + 1);
    });

    it("answers unknown and malformed uids and unknown routes with problems", async () => {
      await expectProblem(await call("GET", "/artifacts/aaaaaaaaaaaaaaaa0000"), 404, "not-found");
      await expectProblem(await call("GET", "/artifacts/aaaaaaaaaaaaaaaa"), 404, "not-found");
      for (const path of [
        "/artifacts/aaaaaaaaaaaaaaaa0000/versions",
        "/artifacts/aaaaaaaaaaaaaaaa0000/download",
      ]) {
        await expectProblem(await call("GET", path), 404, "not-found");
      }
      await expectProblem(
        await call("DELETE", "/artifacts/aaaaaaaaaaaaaaaa0000"),
        404,
        "not-found",
      );
      await expectProblem(
        await call("POST", "/artifacts/aaaaaaaaaaaaaaaa0000/restore"),
        404,
        "not-found",
      );
      await expectProblem(
        await call("PATCH", "/artifacts/aaaaaaaaaaaaaaaa0000", { json: { description: "x" } }),
        404,
        "not-found",
      );
      for (const uid of [
        "short",
        "aaaaaaaaaaaaaaaa00000",
        "aaaaaaaaaaaaaaaa-000",
        "%C3%BCaaaaaaaaaaaaaaa0000",
      ]) {
        const p = await expectProblem(await call("GET", `/artifacts/${uid}`), 400, "validation");
        expect(p.detail).toMatch(/uid/);
      }
      await expectProblem(await call("GET", "/artifacts/by-key"), 400, "validation");
      await expectProblem(await call("GET", "/nope"), 404, "not-found");
      await expectProblem(await call("POST", "/artifacts"), 404, "not-found");
      await expectProblem(await call("GET", "/artifacts/a/b/c/d"), 404, "not-found");
      await expectProblem(
        await call("DELETE", `/artifacts/${listed[0]?.uid}?permanent=yes`),
        400,
        "validation",
      );
    });
  });

  // ------------------------------------------------------------------ changing

  describe("updating, trashing, restoring, deleting", () => {
    let a: Artifact;
    let b: Artifact;

    beforeAll(async () => {
      a = (await ln.artifacts.save(file("patch/a.csv", "a"), { key: "patch/a.csv" })).artifact;
      b = (await ln.artifacts.save(file("patch/b.csv", "b"), { key: "patch/b.csv" })).artifact;
    });

    it("changes the description and the key", async () => {
      const described = await ok<Artifact>(
        await call("PATCH", `/artifacts/${a.uid}`, { json: { description: "the a table" } }),
      );
      expect(described).toMatchObject({
        uid: a.uid,
        description: "the a table",
        key: "patch/a.csv",
      });
      const cleared = await ok<Artifact>(
        await call("PATCH", `/artifacts/${a.uid}`, { json: { description: null } }),
      );
      expect(cleared.description).toBeNull();
      const moved = await ok<Artifact>(
        await call("PATCH", `/artifacts/${a.uid}`, { json: { key: "patch/renamed/a.csv" } }),
      );
      expect(moved.key).toBe("patch/renamed/a.csv");
      expect(readFileSync(moved.path, "utf8")).toBe("a"); // bytes stay where they are
      expect(
        (await ok<Artifact>(await call("GET", "/artifacts/by-key?key=patch%2Frenamed%2Fa.csv")))
          .uid,
      ).toBe(a.uid);
      // nothing to change: returned as is
      expect(
        (await ok<Artifact>(await call("PATCH", `/artifacts/${a.uid}`, { json: {} }))).key,
      ).toBe("patch/renamed/a.csv");
    });

    it("answers 409 when the key is the latest of another artifact, 400 when the suffix changes", async () => {
      const p = await expectProblem(
        await call("PATCH", `/artifacts/${b.uid}`, { json: { key: "patch/renamed/a.csv" } }),
        409,
        "conflict",
      );
      expect(p.detail).toMatch(/already used/);
      const s = await expectProblem(
        await call("PATCH", `/artifacts/${b.uid}`, { json: { key: "patch/b.txt" } }),
        400,
        "validation",
      );
      expect(s.detail).toMatch(/ends in '\.txt'/);
      for (const json of [
        { key: 5 },
        { description: ["x"] },
        { key: "" },
        { hash: "AAAAAAAAAAAAAAAAAAAAAA" },
        { is_latest: false },
        [],
      ]) {
        await expectProblem(
          await call("PATCH", `/artifacts/${b.uid}`, { json }),
          400,
          "validation",
        );
      }
      expect(await ln.artifacts.get(b.uid)).toMatchObject({
        key: "patch/b.csv",
        description: null,
      });
    });

    it("moves to the trash, restores, and deletes for good", async () => {
      const trashed = await ok<Artifact>(await call("DELETE", `/artifacts/${b.uid}`));
      expect(trashed).toMatchObject({ uid: b.uid, branch: "trash" });
      const main = await ok<Page>(await call("GET", "/artifacts?key__startswith=patch%2F"));
      expect(main.items.map((x) => x.uid)).not.toContain(b.uid);
      const trash = await ok<Page>(
        await call("GET", "/artifacts?trash=true&key__startswith=patch%2F"),
      );
      expect(trash.items.map((x) => x.uid)).toEqual([b.uid]);
      await expectProblem(
        await call("GET", "/artifacts/by-key?key=patch%2Fb.csv"),
        404,
        "not-found",
      );
      await expectProblem(await call("DELETE", `/artifacts/${b.uid}`), 409, "conflict");

      const restored = await ok<Artifact>(await call("POST", `/artifacts/${b.uid}/restore`));
      expect(restored).toMatchObject({ uid: b.uid, branch: "main", is_latest: true });
      await expectProblem(await call("POST", `/artifacts/${b.uid}/restore`), 409, "conflict");

      expect(existsSync(b.path)).toBe(true);
      const gone = await ok<Artifact>(await call("DELETE", `/artifacts/${b.uid}?permanent=true`));
      expect(gone.uid).toBe(b.uid);
      expect(existsSync(b.path)).toBe(false);
      await expectProblem(await call("GET", `/artifacts/${b.uid}`), 404, "not-found");
      await expectProblem(
        await call("DELETE", `/artifacts/${b.uid}?permanent=true`),
        404,
        "not-found",
      );
    });
  });
});
