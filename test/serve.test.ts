/**
 * `lamin serve` as a user runs it: other commands go through the running server, collaborators
 * connect by URL, and the SDK's `connect(url)` works like a local instance.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../sdk/index.js";
import { lamin, startLamin, stopChild, tempDir, useTempHome, writeTree } from "./helpers.js";

const home = useTempHome();
const work = tempDir();
let server: ChildProcess;
let url = "";
let token = "";
let uiUrl = "";

beforeAll(async () => {
  const init = await lamin(["init", "--storage", join(work, "data"), "--name", "served", "--json"]);
  expect(init.code, init.stderr).toBe(0);
  let ready: { url: string; token: string; ui_url: string };
  ({ child: server, ready } = await startLamin<typeof ready>(["serve", "--port", "0", "--json"]));
  ({ url, token, ui_url: uiUrl } = ready);
});

afterAll(() => stopChild(server));

// A local open would wait for the server's lock: a short timeout proves commands went through it.
const viaServer = { LAMIN_LOCK_TIMEOUT_MS: "500" };

describe("lamin serve", () => {
  it("prints one JSON line with its URL and token, and answers /health without a token", async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(token).toMatch(/^lnt_[0-9A-Za-z]{30,}$/);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const denied = await fetch(`${url}/artifacts`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get("content-type")).toBe("application/problem+json");
  });

  it("serves the built web UI, and signs a browser in once with its one-time link", async () => {
    const page = await fetch(`${url}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
    expect(script).toBeTruthy();
    const asset = await fetch(`${url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    // the link holds a one-time code, not the token
    expect(uiUrl).toMatch(new RegExp(`^${url}/ui/\\?code=`));
    expect(uiUrl).not.toContain(token);
    const code = new URL(uiUrl).searchParams.get("code");
    const redeem = () =>
      fetch(`${url}/session`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-lamin-csrf": "1" },
        body: JSON.stringify({ code }),
      });
    const first = await redeem();
    expect(first.status).toBe(200);
    const cookie = (first.headers.get("set-cookie") ?? "").split(";")[0] as string;
    expect((await fetch(`${url}/artifacts`, { headers: { cookie } })).status).toBe(200);
    expect((await redeem()).status).toBe(401);
  });

  it("serves other lamin commands of the instance while it holds the database", async () => {
    const file = join(work, "counts.csv");
    writeFileSync(file, "sample,reads\ns1,1\n");
    const saved = await lamin(["save", file, "--key", "raw/counts.csv", "--json"], {
      env: viaServer,
    });
    expect(saved.code, saved.stderr).toBe(0);
    const artifact = JSON.parse(saved.stdout);
    expect(artifact).toMatchObject({
      key: "raw/counts.csv",
      hash_type: "md5",
      version: "0000",
      status: "created",
    });
    const again = await lamin(["save", file, "--key", "raw/counts.csv", "--json"], {
      env: viaServer,
    });
    expect(JSON.parse(again.stdout)).toMatchObject({ uid: artifact.uid, status: "existing" });
    writeFileSync(file, "sample,reads\ns1,2\n");
    const v1 = await lamin(["save", file, "--key", "raw/counts.csv", "--json"], { env: viaServer });
    expect(JSON.parse(v1.stdout)).toMatchObject({ version: "0001", status: "new-version" });

    const ls = await lamin(["ls", "--json", "--key-prefix", "raw/"], { env: viaServer });
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout).map((a: { version: string }) => a.version)).toEqual(["0001"]);
    const out = join(work, "out");
    const loaded = await lamin(["load", artifact.uid, "--to", out, "--json"], { env: viaServer });
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(readFileSync(join(out, "counts.csv"), "utf8")).toBe("sample,reads\ns1,1\n");
    const trashed = await lamin(["delete", "--key", "raw/counts.csv", "--json"], {
      env: viaServer,
    });
    expect(JSON.parse(trashed.stdout)).toMatchObject({ branch: "trash" });
    const restored = await lamin(["restore", JSON.parse(trashed.stdout).uid, "--json"], {
      env: viaServer,
    });
    expect(JSON.parse(restored.stdout)).toMatchObject({ branch: "main", is_latest: true });
    const missing = await lamin(["describe", "0000000000000000", "--json"], { env: viaServer });
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout).error.type).toBe("not-found");
  });

  it("a second serve says at once where the instance is served; migrate status reads through it", async () => {
    const second = await lamin(["serve", "--port", "0"], { env: viaServer });
    expect(second.code, second.stderr).toBe(4);
    expect(second.stderr).toContain(`error: 'served' is already served at ${url} (process `);
    expect(second.stderr).toMatch(/^hint: use that server/m);
    expect(second.stderr).not.toMatch(/waiting for process/);
    const status = await lamin(["migrate", "status", "--json"], { env: viaServer });
    expect(status.code, status.stderr).toBe(0);
    const apps = JSON.parse(status.stdout).apps as { app: string; pending: string[] }[];
    expect(apps.find((a) => a.app === "lns")).toMatchObject({ pending: [] });
  });

  it("lets a collaborator connect by URL and token, with files and folders", async () => {
    const other = {
      LAMIN_HOME: join(home, "collaborator"),
      LAMIN_CACHE_DIR: join(home, "collaborator-cache"),
    };
    mkdirSync(other.LAMIN_HOME, { recursive: true });
    const refused = await lamin(["connect", url, "--token", "lnt_wrong", "--json"], { env: other });
    expect(refused.code).toBe(7);
    expect(JSON.parse(refused.stdout).error.type).toBe("unauthenticated");
    const noToken = await lamin(["connect", url], { env: { ...other, LAMIN_API_TOKEN: "" } });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/hint: pass --token/);

    const connected = await lamin(["connect", url, "--token", token, "--json"], { env: other });
    expect(connected.code, connected.stderr).toBe(0);
    expect(JSON.parse(connected.stdout)).toMatchObject({
      instance: "anonymous/served",
      database: { kind: "remote" },
    });
    const folder = writeTree(join(work, "images"), { "a.txt": "a", "sub/b.txt": "b" });
    const saved = await lamin(["save", folder, "--key", "images", "--json"], { env: other });
    expect(saved.code, saved.stderr).toBe(0);
    expect(JSON.parse(saved.stdout)).toMatchObject({
      hash_type: "md5-d",
      n_files: 2,
      upload_complete: true,
    });
    const out = join(work, "collab-out");
    const loaded = await lamin(["load", "--key", "images", "--to", out], { env: other });
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(readFileSync(join(out, "images", "sub", "b.txt"), "utf8")).toBe("b");
    const info = await lamin(["info", "--json"], { env: other });
    expect(JSON.stringify(JSON.parse(info.stdout))).not.toContain(token);
  });

  it("answers the SDK's connect(url) with the same operations as a local instance", async () => {
    const remote = await connect(url as `http://${string}`, { token });
    const file = join(work, "sdk.json");
    writeFileSync(file, '{"x": 1}');
    const { artifact, status } = await remote.artifacts.save(file, { key: "sdk/x.json" });
    expect(status).toBe("created");
    const page = await remote.artifacts.list({ filter: { key__startswith: "sdk/" } });
    expect(page.items.map((a) => a.uid)).toEqual([artifact.uid]);
    expect(
      (await remote.artifacts.update(artifact.uid, { description: "from the SDK" })).description,
    ).toBe("from the SDK");
    await expect(remote.artifacts.list({ filter: { nope: 1 } })).rejects.toMatchObject({
      kind: "validation",
    });
    await expect(remote.artifacts.get("0000000000000000")).rejects.toMatchObject({
      kind: "not-found",
    });
    await remote.close();
    await expect(connect("http://127.0.0.1:1", { token })).resolves.toBeDefined();
    const unreachable = await connect("http://127.0.0.1:1", { token });
    await expect(unreachable.artifacts.list()).rejects.toMatchObject({ kind: "unavailable" });
  });

  it("stops on SIGTERM and hands the instance back to local commands", async () => {
    const exited = new Promise<number | null>((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    expect(await exited).toBe(0);
    const ls = await lamin(["ls", "--json"], { env: { LAMIN_LOCK_TIMEOUT_MS: "5000" } });
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout).length).toBeGreaterThan(0);
  });
});
