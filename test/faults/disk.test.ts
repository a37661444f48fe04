/**
 * The disk under an instance is full or read-only: storage on a 2 MiB tmpfs, an embedded
 * database on a tmpfs that fills up, storage bound read-only. Every client gets a typed error
 * that says which (the CLI exits 5 for a full disk and 7 for a refused one; HTTP answers 507 or
 * 403 problem+json), never "[object Object]" or "this is a bug", and nothing is registered.
 * Mounting needs root on Linux; elsewhere the suite is skipped with the reason printed.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase } from "../../core/db/postgres.js";
import { InsufficientStorageError } from "../../core/errors.js";
import type { Instance } from "../../core/instance.js";
import type { Artifact } from "../../core/registry/artifacts/artifacts.js";
import { initInstance, openInstance } from "../../core/setup.js";
import { createApp } from "../../functions/api/app.js";
import { lamin, postgresUrl, startLamin, stopChild, tempDir, useTempHome } from "../helpers.js";
import {
  bigFile,
  canMount,
  expectNoInternals,
  expectTypedFailure,
  fillDisk,
  mountReadOnly,
  mountTmpfs,
  unmount,
} from "./support.js";

useTempHome();
const mounting = canMount();
if (!mounting.ok) console.warn(`skipping the disk faults: ${mounting.reason}`);
const skip = !mounting.ok;

const work = tempDir("lamin-disk-");
const mounts: string[] = [];
function mounted(name: string, size: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  mountTmpfs(dir, size);
  mounts.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of mounts.reverse()) {
    try {
      unmount(dir);
    } catch {}
  }
  rmSync(work, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string>) => lamin(args, { cwd: work, env });

/** An upload through the API: declare it, then PUT its bytes; the PUT's answer. */
async function uploadThrough(app: ReturnType<typeof createApp>, path: string, key: string) {
  const { hashFile } = await import("../../core/hash.js");
  const h = await hashFile(path);
  const headers = { authorization: "Bearer t", "content-type": "application/json" };
  const declared = await app.request("/artifacts/uploads", {
    method: "POST",
    headers,
    body: JSON.stringify({
      name: key.split("/").pop(),
      key,
      size: h.size,
      hash: h.hash,
      hash_type: h.hashType,
    }),
  });
  const text = await declared.text();
  expect(declared.status, text).toBe(200);
  const ticket = JSON.parse(text) as { artifact: Artifact; upload: { url: string } };
  const { readFileSync } = await import("node:fs");
  return app.request(ticket.upload.url, {
    method: "PUT",
    headers: { authorization: "Bearer t", "content-type": "application/octet-stream" },
    body: readFileSync(path),
  });
}

describe.skipIf(skip)("storage on a full 2 MiB disk (database on Postgres)", () => {
  let ln: Instance;
  let db: string;
  const env = { LAMIN_INSTANCE: "fulldisk" };

  beforeAll(async () => {
    db = postgresUrl();
    ln = await initInstance({ storage: join(mounted("tiny", "2m"), "s"), name: "fulldisk", db });
  });
  afterAll(async () => {
    await ln?.close().catch(() => {});
    await dropDatabase(db).catch(() => {});
  });

  it("lamin save says the disk is full, exits 5, and registers nothing", async () => {
    const file = bigFile(join(work, "three.bin"), 4);
    expectTypedFailure(
      await cli(["save", file, "--key", "big/three.bin"], env),
      5,
      /could not write .*three\.bin to storage .*: the disk is full \(ENOSPC\)/,
    );
    const r = await cli(["ls", "--all-versions", "--json"], env);
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(readdirSync(join(ln.storage.root, ".lamindb"))).toEqual(["storage_uid.txt"]);
  });

  it("an upload over HTTP is answered 507 problem+json, and a client through lamin serve exits 5", async () => {
    const app = createApp({ instance: () => ln, authorize: () => true });
    const res = await uploadThrough(app, join(work, "three.bin"), "big/over-http.bin");
    expect(res.status).toBe(507);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({
      status: 507,
      detail: "the server cannot write its files: the disk is full (ENOSPC)",
    });
    expectNoInternals(body);

    const { child } = await startLamin(["serve", "--port", "0", "--json"], env);
    try {
      expectTypedFailure(
        await cli(["save", join(work, "three.bin"), "--key", "big/served.bin"], env),
        5,
        /the disk is full \(ENOSPC\)/,
      );
    } finally {
      await stopChild(child);
    }
    expect(readdirSync(join(ln.storage.root, ".lamindb"))).toEqual(["storage_uid.txt"]);
  });
});

describe.skipIf(skip)("an embedded database whose disk is full", () => {
  it("lamin init on a disk too small says so, exits 5, and leaves nothing", async () => {
    const small = mounted("small", "10m");
    expectTypedFailure(
      await cli(["init", "--storage", join(small, "s"), "--name", "small"], {}),
      5,
      /the disk is full \(ENOSPC\)/,
    );
    expect(readdirSync(small)).toEqual([]);
  });

  it("a full disk stops saves and starts with a typed error; freeing space brings it all back", async () => {
    const disk = mounted("pglite", "96m");
    const env = { LAMIN_INSTANCE: "pgfull" };
    const init = await cli(["init", "--storage", join(disk, "s"), "--name", "pgfull"], {});
    expect(init.code, init.stderr).toBe(0);
    const small = join(work, "small.txt");
    writeFileSync(small, "saved before the disk filled up");
    expect((await cli(["save", small, "--key", "kept.txt"], env)).code).toBe(0);

    // the database's own writes: Postgres's "could not extend file" (53100), in words
    const ln = await openInstance("pgfull");
    const filler = fillDisk(disk, 512 * 1024);
    const error = await ln.db
      .execute(
        sql`CREATE TABLE fill AS SELECT md5(random()::text) AS x FROM generate_series(1, 200000)`,
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(InsufficientStorageError);
    expect((error as Error).message).toMatch(/^the database's disk is full: could not /);
    expectNoInternals((error as Error).message);
    await ln.close();

    // storage: the bytes do not fit
    expectTypedFailure(
      await cli(["save", bigFile(join(work, "two.bin"), 4), "--key", "two.bin"], env),
      5,
      /the disk is full \(ENOSPC\)/,
    );
    // nothing left at all: the database cannot even start
    rmSync(filler);
    fillDisk(disk, 0);
    expectTypedFailure(
      await cli(["ls"], env),
      5,
      /the embedded database in .* cannot start: (its|the) disk is full/,
    );
    rmSync(filler);
    const back = await cli(["ls", "--json"], env);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout).map((a: Artifact) => a.key)).toEqual(["kept.txt"]);
  });
});

describe.skipIf(skip)("storage on a read-only file system (database on Postgres)", () => {
  let ln: Instance;
  let db: string;
  let root: string;
  const env = { LAMIN_INSTANCE: "readonly" };

  beforeAll(async () => {
    db = postgresUrl();
    root = join(work, "ro-storage");
    ln = await initInstance({ storage: root, name: "readonly", db });
    const file = join(work, "before.txt");
    writeFileSync(file, "saved while it was writable");
    await ln.artifacts.save(file, { key: "before.txt" });
    mountReadOnly(root);
    mounts.push(root);
  });
  afterAll(async () => {
    await ln?.close().catch(() => {});
    await dropDatabase(db).catch(() => {});
  });

  it("a save says the file system is read-only and exits 7; what was saved still loads", async () => {
    const file = join(work, "after.txt");
    writeFileSync(file, "cannot be stored");
    expectTypedFailure(
      await cli(["save", file, "--key", "after.txt"], env),
      7,
      /could not write .*after\.txt to storage .*: the file system is read-only \(EROFS\)/,
    );
    const listed = await cli(["ls", "--all-versions", "--json"], env);
    expect(JSON.parse(listed.stdout).map((a: Artifact) => a.key)).toEqual(["before.txt"]);
    const out = tempDir("lamin-load-");
    expect((await cli(["load", "--key", "before.txt", "--to", out], env)).code).toBe(0);
    // loading into a read-only folder: the same words, about that folder
    expectTypedFailure(
      await cli(["load", "--key", "before.txt", "--to", join(root, "copy")], env),
      7,
      /cannot write .*: the file system is read-only \(EROFS\)/,
    );
  });

  it("an upload over HTTP is answered 403 problem+json that says why", async () => {
    const app = createApp({ instance: () => ln, authorize: () => true });
    const file = join(work, "http.txt");
    writeFileSync(file, "over http");
    const res = await uploadThrough(app, file, "http.txt");
    expect(res.status).toBe(403);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({
      detail: "the server cannot write its files: the file system is read-only (EROFS)",
    });
    expectNoInternals(body);
  });
});
