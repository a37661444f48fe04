/**
 * Symbolic links in local storage (issue 13, item 5), against `lamin serve` as a user runs it:
 * a link below the storage root is never followed, whichever path registers files (S3-style
 * events, the watcher, reconcile) and whichever route reads them (download, folder files,
 * `lamin load`), also when the link was swapped in after the artifact was registered. A secret
 * file outside the root stands for what an attacker with write access to the storage folder
 * would want to read through the server; its bytes must never come back.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashFolder } from "../../core/hash.js";
import {
  createInstance,
  lamin,
  managedFiles,
  startLamin,
  stopChild,
  tempDir,
  useTempHome,
} from "../helpers.js";

useTempHome();
const work = tempDir("lamin-links-");
const outside = tempDir("lamin-outside-");
const SECRET = `TOP-SECRET-${Math.random().toString(36).slice(2)}`;
const secretFile = join(outside, "secret.txt");
const secretDir = join(outside, "secret-dir");

interface Served {
  child: ChildProcess;
  url: string;
  token: string;
  root: string;
  env: Record<string, string>;
}
let plain: Served;
let watched: Served;

async function serve(name: string, watch: boolean): Promise<Served> {
  const root = join(work, name);
  const init = await lamin(["init", "--storage", root, "--name", name, "--json"]);
  expect(init.code, init.stderr).toBe(0);
  const env = { LAMIN_INSTANCE: name };
  const { child, ready } = await startLamin<{ url: string; token: string }>(
    ["serve", "--port", "0", "--json", ...(watch ? ["--watch"] : [])],
    env,
  );
  return { child, ...ready, root, env };
}

beforeAll(async () => {
  writeFileSync(secretFile, SECRET);
  mkdirSync(secretDir);
  writeFileSync(join(secretDir, "inner.txt"), SECRET);
  writeFileSync(join(secretDir, "f.txt"), SECRET);
  [plain, watched] = await Promise.all([serve("links", false), serve("watched", true)]);
});

afterAll(async () => {
  await Promise.all([stopChild(plain?.child), stopChild(watched?.child)]);
});

/** A request with the server's token; the body as text, checked never to hold the secret. */
async function call(s: Served, path: string, init: RequestInit = {}) {
  const res = await fetch(`${s.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${s.token}`,
      "content-type": "application/json",
      ...init.headers,
    },
  });
  const text = await res.text();
  expect(text).not.toContain(SECRET);
  return { status: res.status, text, json: () => JSON.parse(text) };
}

interface Row {
  uid: string;
  key: string | null;
  branch: string;
}

/** Every artifact of the instance, all versions, trash included. */
async function allArtifacts(s: Served): Promise<Row[]> {
  const main = await call(s, "/artifacts?all_versions=true&limit=1000");
  const trash = await call(s, "/artifacts?trash=true&limit=1000");
  return [...main.json().items, ...trash.json().items];
}

const keysOf = (rows: Row[]) => rows.map((r) => r.key).sort();

/** S3-format records for objects at `keys` of a local storage (bucket ""), keys sent raw. */
function notification(keys: string[]) {
  return {
    Records: keys.map((key) => ({
      eventName: "s3:ObjectCreated:Put",
      eventTime: new Date().toISOString(),
      s3: { bucket: { name: "" }, object: { key } },
    })),
  };
}

const postEvents = (s: Served, keys: string[]) =>
  call(s, "/events/s3?keys=raw", { method: "POST", body: JSON.stringify(notification(keys)) });

/** Every route that hands out an artifact's bytes refuses, and none returns the secret. */
async function expectNotServed(s: Served, uid: string, files: string[] = []) {
  const download = await call(s, `/artifacts/${uid}/download`);
  expect(download.status, download.text).toBe(422);
  expect(download.json().detail).toMatch(/symbolic link/);
  for (const file of files) {
    const one = await call(s, `/artifacts/${uid}/files/${encodeURIComponent(file)}`);
    expect(one.status, one.text).toBeGreaterThanOrEqual(400);
  }
  const to = tempDir("lamin-load-");
  const load = await lamin(["load", uid, "--to", to], { env: s.env });
  expect(load.code, load.stderr).toBe(6);
  expect(load.stderr).toMatch(/symbolic link/);
  expect(`${load.stdout}${load.stderr}`).not.toContain(SECRET);
  expect(readdirSync(to)).toEqual([]);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const got = await probe();
    if (got !== undefined) return got;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("symbolic links in local storage", () => {
  it("POST /events/s3 neither registers nor serves a link to a file or folder outside the root", async () => {
    symlinkSync(secretFile, join(plain.root, "evil.txt"));
    symlinkSync(secretDir, join(plain.root, "evil-dir"));
    const before = await allArtifacts(plain);
    const res = await postEvents(plain, ["evil.txt", "evil-dir/inner.txt", "evil-dir"]);
    expect(res.status, res.text).toBe(200);
    const outcomes = res.json().outcomes as { action: string; reason?: string }[];
    expect(outcomes.map((o) => o.action)).toEqual(["skipped", "skipped", "skipped"]);
    for (const o of outcomes) expect(o.reason).toMatch(/symbolic link/);
    expect(await allArtifacts(plain)).toEqual(before);
  });

  it("reconcile skips links; a registered file swapped for a link is trashed and never served", async () => {
    writeFileSync(join(plain.root, "r-a.txt"), "a");
    mkdirSync(join(plain.root, "r"));
    writeFileSync(join(plain.root, "r", "b.txt"), "b");
    symlinkSync(secretFile, join(plain.root, "r", "link.txt"));
    symlinkSync(secretDir, join(plain.root, "r", "linkdir"));
    const first = await call(plain, "/reconcile", { method: "POST" });
    expect(first.status, first.text).toBe(200);
    const registered = first.json().registered as { key: string; uid: string }[];
    expect(registered.map((c) => c.key).sort()).toEqual(["r-a.txt", "r/b.txt"]);
    const a = registered.find((c) => c.key === "r-a.txt") as { uid: string };

    rmSync(join(plain.root, "r-a.txt"));
    symlinkSync(secretFile, join(plain.root, "r-a.txt"));
    const second = await call(plain, "/reconcile", { method: "POST" });
    expect(second.json().trashed).toEqual([
      expect.objectContaining({ key: "r-a.txt", uid: a.uid, action: "trashed" }),
    ]);
    expect(second.json().registered).toEqual([]);
    await expectNotServed(plain, a.uid);
    expect(keysOf(await allArtifacts(plain))).not.toContain("r/link.txt");
  });

  it("a managed file or folder whose bytes are swapped for a link after saving is never served", async () => {
    const file = join(work, "plain.txt");
    writeFileSync(file, "plain bytes");
    const saved = await lamin(["save", file, "--key", "m/plain.txt", "--json"], { env: plain.env });
    expect(saved.code, saved.stderr).toBe(0);
    const fileUid = JSON.parse(saved.stdout).uid as string;
    const stored = join(plain.root, ".lamindb", `${fileUid}.txt`);
    rmSync(stored);
    symlinkSync(secretFile, stored);
    await expectNotServed(plain, fileUid);

    const folder = join(work, "folder");
    mkdirSync(folder);
    writeFileSync(join(folder, "f.txt"), "f");
    writeFileSync(join(folder, "g.txt"), "g");
    const savedDir = await lamin(["save", folder, "--key", "m/folder", "--json"], {
      env: plain.env,
    });
    expect(savedDir.code, savedDir.stderr).toBe(0);
    const dirUid = JSON.parse(savedDir.stdout).uid as string;
    const storedDir = join(plain.root, ".lamindb", dirUid.slice(0, 16));
    rmSync(join(storedDir, "f.txt"));
    symlinkSync(secretFile, join(storedDir, "f.txt"));
    await expectNotServed(plain, dirUid, ["f.txt"]);
    // the whole folder swapped for a link to a folder outside
    renameSync(storedDir, `${storedDir}-aside`);
    symlinkSync(secretDir, storedDir);
    await expectNotServed(plain, dirUid, ["f.txt"]);
  });

  it("a folder on the way to registered bytes swapped for a link is not followed", async () => {
    mkdirSync(join(plain.root, "deep", "dir"), { recursive: true });
    writeFileSync(join(plain.root, "deep", "dir", "f.txt"), "deep bytes");
    const res = await postEvents(plain, ["deep/dir/f.txt"]);
    const [outcome] = res.json().outcomes as { action: string; uid: string }[];
    expect(outcome?.action).toBe("created");
    renameSync(join(plain.root, "deep", "dir"), join(plain.root, "deep", "dir-aside"));
    symlinkSync(secretDir, join(plain.root, "deep", "dir"));
    await expectNotServed(plain, outcome?.uid as string);
    // an event for the swapped key changes nothing but to trash what is no longer a file
    const again = await postEvents(plain, ["deep/dir/f.txt"]);
    expect(again.json().outcomes).toEqual([
      expect.objectContaining({
        action: "trashed",
        reason: expect.stringMatching(/symbolic link/),
      }),
    ]);
  });

  it("the watcher skips links dropped into storage and trashes a file swapped for one", async () => {
    const w = join(watched.root, "w");
    mkdirSync(w);
    writeFileSync(join(w, "real.txt"), "real");
    const real = await until("w/real.txt to be registered", async () =>
      (await allArtifacts(watched)).find((r) => r.key === "w/real.txt"),
    );
    symlinkSync(secretFile, join(w, "link.txt"));
    symlinkSync(secretDir, join(w, "linkdir"));
    rmSync(join(w, "real.txt"));
    symlinkSync(secretFile, join(w, "real.txt"));
    writeFileSync(join(w, "after.txt"), "after"); // settles after the links: a marker
    await until("w/real.txt to be trashed", async () => {
      const rows = await allArtifacts(watched);
      const after = rows.some((r) => r.key === "w/after.txt");
      return after && rows.find((r) => r.uid === real.uid)?.branch === "trash" ? true : undefined;
    });
    expect(keysOf(await allArtifacts(watched))).toEqual(["w/after.txt", "w/real.txt"]);
    await expectNotServed(watched, real.uid);
  });
});

describe("writing into local storage", () => {
  it("an upload never writes through a link planted where its bytes go", async () => {
    const folder = join(work, "to-upload");
    mkdirSync(folder);
    writeFileSync(join(folder, "a.txt"), "uploaded");
    const h = await hashFolder(folder);
    const started = await call(plain, "/artifacts/uploads", {
      method: "POST",
      body: JSON.stringify({
        name: "to-upload",
        key: "up/folder",
        size: h.size,
        hash: h.hash,
        hash_type: h.hashType,
        n_files: h.nFiles,
      }),
    });
    expect(started.status, started.text).toBe(200);
    const ticket = started.json();
    // someone who can write to the storage folder plants a link at the staging folder
    const target = tempDir("lamin-plant-");
    const staging = join(plain.root, ".lamindb", `${ticket.artifact.uid.slice(0, 16)}.upload-0000`);
    symlinkSync(target, staging);
    const put = await call(
      plain,
      new URL(ticket.upload.file_url_template.replace("{path}", "a.txt"), plain.url).pathname,
      { method: "PUT", body: "uploaded", headers: { "content-type": "application/octet-stream" } },
    );
    expect(put.status, put.text).toBe(422);
    expect(put.json().detail).toMatch(/symbolic link/);
    expect(readdirSync(target)).toEqual([]);
  });
});

describe("saving a folder that holds symbolic links", () => {
  it("refuses a link out of the folder unless --follow-links; links inside it are followed", async () => {
    const folder = join(work, "with-links");
    mkdirSync(folder);
    writeFileSync(join(folder, "inside.txt"), "inside");
    symlinkSync(join(folder, "inside.txt"), join(folder, "alias.txt"));
    symlinkSync(secretFile, join(folder, "leak.txt"));
    const before = { rows: await allArtifacts(plain), files: managedFiles(plain.root) };

    const refused = await lamin(["save", folder, "--key", "links/folder"], { env: plain.env });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/leak\.txt.*symbolic link.*outside/);
    expect(refused.stderr).toMatch(/hint: .*--follow-links/);
    expect(await allArtifacts(plain)).toEqual(before.rows);
    expect(managedFiles(plain.root)).toEqual(before.files);

    // in process (no server) the same rule holds
    const ti = await createInstance("pglite");
    try {
      await expect(ti.instance.artifacts.save(folder, { key: "f" })).rejects.toMatchObject({
        kind: "validation",
        message: expect.stringMatching(/leak\.txt/),
      });
      expect(managedFiles(ti.root)).toEqual([]);
      const followed = await ti.instance.artifacts.save(folder, { key: "f", followLinks: true });
      expect(followed.artifact.n_files).toBe(3);
    } finally {
      await ti.dispose();
    }

    const explicit = await lamin(
      ["save", folder, "--key", "links/folder", "--follow-links", "--json"],
      { env: plain.env },
    );
    expect(explicit.code, explicit.stderr).toBe(0);
    expect(JSON.parse(explicit.stdout)).toMatchObject({ n_files: 3 });

    rmSync(join(folder, "leak.txt"));
    const inside = await lamin(["save", folder, "--key", "links/inside", "--json"], {
      env: plain.env,
    });
    expect(inside.code, inside.stderr).toBe(0);
    expect(JSON.parse(inside.stdout)).toMatchObject({ n_files: 2 });
  });
});
