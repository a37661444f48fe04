/**
 * The web UI's sessions and pages, attacked over HTTP (the browser tests are in web-ui.test.ts):
 * a cookie write forged by another site, a tampered or expired cookie, a sign-in link used
 * twice, an artifact's HTML served so that it would run in the UI's origin, and the pages' CSP.
 * Every refusal is checked to have changed nothing.
 */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken, tokenMatches } from "../../core/auth.js";
import type { Instance } from "../../core/instance.js";
import { initInstance } from "../../core/setup.js";
import { createApp } from "../../functions/api/app.js";
import {
  CSRF_HEADER,
  OneTimeCodes,
  SESSION_COOKIE,
  SESSION_SECONDS,
  sessionKeys,
} from "../../functions/api/session.js";
import type { WebFiles } from "../../functions/api/web.js";
import {
  createInstance,
  snapshotTables,
  type TestInstance,
  tempDir,
  useTempHome,
} from "../helpers.js";
import { startS3rver } from "../servers/s3rver.js";
import { HOSTILE_HTML } from "../web/seed.js";

useTempHome();

const TOKEN = "lnt_web-session-test-token";
const ORIGIN = "http://ui.test";
const TABLES = ["lamindb_artifact", "lamindb_ulabel", "lamindb_artifactulabel"];

/** A stand-in build of the UI: what the server does with it is under test, not Vite's output. */
const WEB: WebFiles = {
  read: (path) =>
    ({
      "index.html": new TextEncoder().encode("<!doctype html><title>ui</title>"),
      "assets/app-abc123.js": new TextEncoder().encode("console.log(1)"),
    })[path],
};

describe("web UI sessions and pages", () => {
  let t: TestInstance;
  let work: string;
  let uid: string;
  let htmlUid: string;
  const keys = sessionKeys(randomBytes(32));
  const codes = new OneTimeCodes();
  let app: ReturnType<typeof createApp>;

  const call = (path: string, init: RequestInit & { cookie?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.cookie) headers.set("cookie", `${SESSION_COOKIE}=${init.cookie}`);
    return app.request(`${ORIGIN}${path}`, { ...init, headers });
  };
  const cookieOf = (res: Response) =>
    /lamin_session=([^;]*)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
  // (ORIGIN has no port: the cookie's name is the plain one; with a port it names the port)

  beforeAll(async () => {
    t = await createInstance("pglite");
    work = tempDir();
    const write = async (name: string, content: string) => {
      const path = join(work, name);
      writeFileSync(path, content);
      return (await t.instance.artifacts.save(path, { key: `x/${name}` })).artifact.uid;
    };
    uid = await write("a.csv", "a,b\n1,2\n");
    htmlUid = await write("evil.html", HOSTILE_HTML);
    await t.instance.ulabels.create({ name: "T cell" });
    const digest = hashToken(TOKEN);
    app = createApp({
      instance: () => t.instance,
      authorize: (token) => token !== undefined && tokenMatches(token, digest),
      web: WEB,
      session: { keys, codes },
    });
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  const signIn = async () => {
    const res = await call("/session", {
      method: "POST",
      headers: { "content-type": "application/json", [CSRF_HEADER]: "1", origin: ORIGIN },
      body: JSON.stringify({ token: TOKEN }),
    });
    expect(res.status).toBe(200);
    const cookie = cookieOf(res) as string;
    expect(cookie).toBeTruthy();
    return { res, cookie };
  };

  it("signs in: an HttpOnly, SameSite=Strict cookie that does not hold the token", async () => {
    const { res, cookie } = await signIn();
    const set = res.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Strict/i);
    expect(set).not.toMatch(/Secure/); // plain HTTP here; HTTPS gets Secure (next test)
    expect(decodeURIComponent(cookie)).not.toContain(TOKEN);
    const me = await call("/session", { cookie });
    expect(await me.json()).toMatchObject({ service: "instance", signed_in: true });
    const list = await call("/artifacts", { cookie });
    expect(list.status).toBe(200);
  });

  it("names the cookie by the server's port: servers on one host keep their own sessions", async () => {
    const res = await app.request("http://127.0.0.1:8123/session", {
      method: "POST",
      headers: { "content-type": "application/json", [CSRF_HEADER]: "1" },
      body: JSON.stringify({ token: TOKEN }),
    });
    const set = res.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/^lamin_session_8123=/);
    const cookie = /^lamin_session_8123=([^;]*)/.exec(set)?.[1];
    const mine = await app.request("http://127.0.0.1:8123/artifacts", {
      headers: { cookie: `lamin_session_8123=${cookie}` },
    });
    expect(mine.status).toBe(200);
    // the cookie of the server on another port is not this server's session
    const other = await app.request("http://127.0.0.1:8124/artifacts", {
      headers: { cookie: `lamin_session_8123=${cookie}` },
    });
    expect(other.status).toBe(401);
  });

  it("marks the cookie Secure over HTTPS", async () => {
    const res = await app.request("https://ui.test/session", {
      method: "POST",
      headers: { "content-type": "application/json", [CSRF_HEADER]: "1" },
      body: JSON.stringify({ token: TOKEN }),
    });
    expect(res.headers.get("set-cookie")).toMatch(/; Secure/);
  });

  it("refuses a wrong token at sign-in, and sets no cookie", async () => {
    const res = await call("/session", {
      method: "POST",
      headers: { "content-type": "application/json", [CSRF_HEADER]: "1" },
      body: JSON.stringify({ token: "lnt_wrong" }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("refuses a sign-in another site forges (no UI header, or another origin)", async () => {
    const attempts: Record<string, string>[] = [
      { "content-type": "text/plain" },
      { "content-type": "application/json", [CSRF_HEADER]: "1", origin: "https://evil.test" },
    ];
    for (const headers of attempts) {
      const res = await call("/session", {
        method: "POST",
        headers,
        body: JSON.stringify({ token: TOKEN }),
      });
      expect(res.status).toBe(403);
      expect(res.headers.get("set-cookie")).toBeNull();
    }
  });

  it("refuses cookie writes forged by another site, and changes nothing", async () => {
    const { cookie } = await signIn();
    const before = await snapshotTables(t.instance.database.db, TABLES);
    const forged: [string, RequestInit][] = [
      // a cross-site form: no custom header possible
      [`/artifacts/${uid}`, { method: "PATCH", body: JSON.stringify({ description: "forged" }) }],
      [`/artifacts/${uid}`, { method: "DELETE" }],
      [
        `/artifacts/${uid}/features`,
        { method: "POST", body: JSON.stringify({ ulabels: ["T cell"] }) },
      ],
      // the header, but from another origin (a page that got around CORS would still say so)
      [
        `/artifacts/${uid}`,
        {
          method: "PATCH",
          headers: { [CSRF_HEADER]: "1", origin: "https://evil.test" },
          body: JSON.stringify({ description: "forged" }),
        },
      ],
    ];
    for (const [path, init] of forged) {
      const headers = new Headers(init.headers);
      headers.set("content-type", "application/json");
      const res = await call(path, { ...init, headers, cookie });
      expect(res.status, `${init.method} ${path}`).toBe(403);
      expect(((await res.json()) as { detail: string }).detail).toMatch(
        /must come from the web UI/,
      );
    }
    expect(await snapshotTables(t.instance.database.db, TABLES)).toBe(before);
    // the same write from the UI goes through
    const ok = await call(`/artifacts/${uid}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", [CSRF_HEADER]: "1", origin: ORIGIN },
      body: JSON.stringify({ description: "from the UI" }),
      cookie,
    });
    expect(ok.status).toBe(200);
    expect((await t.instance.artifacts.get(uid)).description).toBe("from the UI");
  });

  it("refuses a tampered, foreign or expired cookie", async () => {
    const { cookie } = await signIn();
    const parts = cookie.split(".");
    const flipped = `${parts[0]}.${(parts[1] as string).slice(0, -2)}AA.${parts[2]}`;
    const foreign = sessionKeys(randomBytes(32)).seal(TOKEN);
    const expired = keys.seal(TOKEN, Date.now() - (SESSION_SECONDS + 60) * 1000);
    for (const bad of [flipped, foreign, expired, "garbage"]) {
      const res = await call("/artifacts", { cookie: bad });
      expect(res.status).toBe(401);
      const me = await call("/session", { cookie: bad });
      expect(await me.json()).toMatchObject({ signed_in: false });
    }
  });

  it("signs in once with a one-time link, never twice", async () => {
    const code = codes.issue(TOKEN);
    const redeem = () =>
      call("/session", {
        method: "POST",
        headers: { "content-type": "application/json", [CSRF_HEADER]: "1" },
        body: JSON.stringify({ code }),
      });
    const first = await redeem();
    expect(first.status).toBe(200);
    expect(cookieOf(first)).toBeTruthy();
    const again = await redeem();
    expect(again.status).toBe(401);
    expect(again.headers.get("set-cookie")).toBeNull();
  });

  it("serves an artifact's bytes so that a browser never renders them in the UI's origin", async () => {
    const res = await call(`/artifacts/${htmlUid}/download`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="evil.html"/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toMatch(/^sandbox/);
    expect(await res.text()).toBe(HOSTILE_HTML);
  });

  it("answers range requests (previews read the first bytes or a Parquet footer)", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const first = await call(`/artifacts/${uid}/download`, {
      headers: { ...auth, range: "bytes=0-2" },
    });
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe("bytes 0-2/8");
    expect(await first.text()).toBe("a,b");
    const tail = await call(`/artifacts/${uid}/download`, {
      headers: { ...auth, range: "bytes=-4" },
    });
    expect(tail.status).toBe(206);
    expect(await tail.text()).toBe("1,2\n");
    const past = await call(`/artifacts/${uid}/download`, {
      headers: { ...auth, range: "bytes=99-" },
    });
    expect(past.status).toBe(416);
  });

  it("serves pages with a strict CSP, hashed assets immutable, index.html never cached", async () => {
    for (const path of ["/ui/", "/ui/artifacts/xyz", "/ui/registries/runs"]) {
      const page = await call(path);
      expect(page.status).toBe(200);
      const csp = page.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(page.headers.get("cache-control")).toBe("no-cache");
    }
    const asset = await call("/ui/assets/app-abc123.js");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(asset.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect((await call("/ui/assets/missing.js")).status).toBe(404);
    expect((await call("/ui/assets/..%2Findex.html")).status).toBe(404);
    const root = await call("/");
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/ui/");
    // the pages hold no data: the API still needs a credential
    expect((await call("/artifacts")).status).toBe(401);
  });
});

describe("web UI downloads from object storage", () => {
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  let ln: Instance;
  let work: string;
  let htmlUid: string;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ["ui-bucket"] });
    process.env.AWS_ACCESS_KEY_ID = "S3RVER";
    process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
    work = tempDir();
    ln = await initInstance({
      storage: "s3://ui-bucket/data",
      name: "ui-s3",
      endpoint: s3.endpoint,
      pgliteDir: join(work, "pglite"),
    });
    const path = join(work, "evil.html");
    writeFileSync(path, HOSTILE_HTML);
    htmlUid = (await ln.artifacts.save(path, { key: "x/evil.html" })).artifact.uid;
    const digest = hashToken(TOKEN);
    app = createApp({
      instance: () => ln,
      authorize: (token) => token !== undefined && tokenMatches(token, digest),
    });
  });
  afterAll(async () => {
    await ln?.close();
    await s3?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("redirects the download button to a presigned URL that answers as an attachment", async () => {
    const res = await app.request(`/artifacts/${htmlUid}/download?redirect=true`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location") as string);
    expect(location.origin).toBe(s3.endpoint);
    expect(location.searchParams.get("response-content-disposition")).toMatch(
      /^attachment; filename="evil.html"/,
    );
    expect(location.searchParams.get("X-Amz-Expires")).toBe("300");
    const bytes = await fetch(location);
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get("content-disposition")).toMatch(/^attachment/);
    expect(await bytes.text()).toBe(HOSTILE_HTML);
    // without the token: no URL at all
    const anonymous = await app.request(`/artifacts/${htmlUid}/download?redirect=true`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("location")).toBeNull();
  });
});
