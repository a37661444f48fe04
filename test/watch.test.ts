/**
 * `lamin serve --watch`: files dropped into, changed in or deleted from a local storage folder
 * are registered once they settle; lamindb's own files and temporary names are not.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { asc, eq, like } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as t from "../core/db/schema.js";
import { ValidationError } from "../core/errors.js";
import { hashFile } from "../core/hash.js";
import type { IngestOutcome } from "../core/ingest/ingest.js";
import { type FolderWatcher, ignoredKey, watchFolder, watchRefusal } from "../core/ingest/watch.js";
import type { Instance } from "../core/instance.js";
import { MAIN, TRASH } from "../core/registry/common/branch.js";
import {
  createInstance,
  LAMIN_BIN,
  lamin,
  REPO,
  type TestInstance,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";

useTempHome();
// Long enough that a writer pausing between chunks (below) is never mistaken for a finished
// file, even when a busy machine delays the writer's timers several times over.
const QUIET = 400;

let ti: TestInstance;
let instance: Instance;
let root: string;
let watcher: FolderWatcher;
const outcomes: IngestOutcome[] = [];
const errors: { error: Error; key?: string | undefined }[] = [];

beforeAll(async () => {
  ti = await createInstance("pglite");
  ({ instance, root } = ti);
  watcher = watchFolder(instance, {
    quietMs: QUIET,
    onOutcome: (o) => outcomes.push(o),
    onError: (error, key) => errors.push({ error, key }),
  });
});

afterAll(async () => {
  await watcher?.close();
  await ti?.dispose();
});

afterEach(() => {
  expect(errors.map((e) => `${e.key}: ${e.error.message}`)).toEqual([]);
});

const rowsAt = (key: string) =>
  instance.db
    .select()
    .from(t.artifact)
    .where(eq(t.artifact.key, key))
    .orderBy(asc(t.artifact.createdAt), asc(t.artifact.id));

const rowsBelow = (prefix: string) =>
  instance.db
    .select()
    .from(t.artifact)
    .where(like(t.artifact.key, `${prefix}%`))
    .orderBy(asc(t.artifact.key));

/** Poll (letting the watcher finish what it started) until `check` holds, or fail saying what. */
async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    await sleep(QUIET / 2);
    await watcher.idle();
    if (await check()) return;
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Long enough for every event to be delivered and acted on (negative checks). */
async function settled(): Promise<void> {
  await sleep(QUIET * 5);
  await watcher.idle();
}

const file = (key: string) => join(root, key);

describe("watchFolder", () => {
  it("registers a dropped file in place, with the hash of its bytes", async () => {
    mkdirSync(file("raw"), { recursive: true });
    writeFileSync(file("raw/a.csv"), "sample,reads\ns1,1\n");
    await until("raw/a.csv to be registered", async () => (await rowsAt("raw/a.csv")).length > 0);
    const [row] = await rowsAt("raw/a.csv");
    expect(row).toMatchObject({
      hash: (await hashFile(file("raw/a.csv"))).hash,
      keyIsVirtual: false,
      isLatest: true,
      branchId: MAIN,
      storageId: instance.storageRecord.id,
    });
    expect(outcomes.filter((o) => o.key === "raw/a.csv").map((o) => o.action)).toEqual(["created"]);
  });

  it("makes new bytes at the key its next version, and ignores a touch", async () => {
    writeFileSync(file("raw/a.csv"), "sample,reads\ns1,2\n");
    await until("a new version of raw/a.csv", async () => (await rowsAt("raw/a.csv")).length > 1);
    const [v0, v1] = await rowsAt("raw/a.csv");
    expect(v0).toMatchObject({ isLatest: false, branchId: MAIN });
    expect(v1).toMatchObject({
      isLatest: true,
      branchId: MAIN,
      hash: (await hashFile(file("raw/a.csv"))).hash,
    });
    expect(v1?.uid.slice(0, 16)).toBe(v0?.uid.slice(0, 16));

    const later = new Date(Date.now() + 5_000);
    utimesSync(file("raw/a.csv"), later, later);
    await until("the touch to be seen", async () =>
      outcomes.some((o) => o.key === "raw/a.csv" && o.action === "existing"),
    );
    expect(await rowsAt("raw/a.csv")).toHaveLength(2);
  });

  it("trashes the artifact of a deleted file", async () => {
    rmSync(file("raw/a.csv"));
    await until("raw/a.csv to be trashed", async () =>
      (await rowsAt("raw/a.csv")).every((r) => r.branchId === TRASH),
    );
    expect((await rowsAt("raw/a.csv")).every((r) => !r.isLatest)).toBe(true);
  });

  it("registers each file of a folder moved in whole, and trashes them when it goes", async () => {
    const outside = writeTree(join(tempDir(), "batch"), {
      "1.csv": "1",
      "sub/2.csv": "22",
      "sub/deeper/3.csv": "333",
    });
    renameSync(outside, file("batch"));
    await until(
      "the 3 files of batch/ to be registered",
      async () => (await rowsBelow("batch/")).length === 3,
    );
    expect((await rowsBelow("batch/")).map((r) => [r.key, r.branchId])).toEqual([
      ["batch/1.csv", MAIN],
      ["batch/sub/2.csv", MAIN],
      ["batch/sub/deeper/3.csv", MAIN],
    ]);
    // the folder's event and its files' own events make one registration per file
    expect(outcomes.filter((o) => o.key.startsWith("batch/")).map((o) => o.action)).toEqual([
      "created",
      "created",
      "created",
    ]);

    rmSync(file("batch"), { recursive: true });
    await until("batch/ to be trashed", async () =>
      (await rowsBelow("batch/")).every((r) => r.branchId === TRASH),
    );
    expect(await rowsBelow("batch/")).toHaveLength(3);
  });

  it("waits for a file written in slow chunks and registers it once, whole", async () => {
    const key = "slow/big.bin";
    mkdirSync(file("slow"));
    for (let i = 0; i < 5; i++) {
      appendFileSync(file(key), `chunk ${i} `.repeat(1000));
      await sleep(QUIET / 8);
    }
    await until(`${key} to be registered`, async () => (await rowsAt(key)).length > 0);
    await settled();
    const rows = await rowsAt(key);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.hash).toBe((await hashFile(file(key))).hash);
    expect(rows[0]?.size).toBe(5 * 8 * 1000);
  });

  it("ignores lamindb's own files and temporary names, and registers the renamed result", async () => {
    writeTree(root, {
      ".lamindb/notes.txt": "x",
      ".lamindb/AAAAAAAAAAAAAAAAAAAA.csv": "x",
      "dl/report.csv.part": "half",
      "dl/report.csv.crdownload": "half",
      "dl/~$report.xlsx": "lock",
      "dl/.#report.csv": "lock",
      "dl/.~lock.report.csv#": "lock",
      "dl/report.csv.tmp": "x",
    });
    await settled();
    expect(await rowsBelow(".lamindb/")).toEqual([]);
    expect(await rowsBelow("dl/")).toEqual([]);
    expect(outcomes.filter((o) => o.key.startsWith(".lamindb") || o.key.startsWith("dl/"))).toEqual(
      [],
    );

    renameSync(file("dl/report.csv.part"), file("dl/report.csv"));
    await until(
      "dl/report.csv to be registered",
      async () => (await rowsAt("dl/report.csv")).length > 0,
    );
    expect((await rowsBelow("dl/")).map((r) => r.key)).toEqual(["dl/report.csv"]);
  });

  it("tells temporary and own names from data", () => {
    for (const key of [
      ".lamindb/x",
      "a/b.tmp",
      "a.part",
      "x.crdownload",
      "~$a.docx",
      ".#a",
      ".~a",
      "a.csv.tmp-Ab12",
      "t.tmp/x.csv",
    ]) {
      expect(ignoredKey(key), key).toBe(true);
    }
    for (const key of ["raw/a.csv", ".hidden/a.csv", "a.tmpl", "partial/x.csv", "lamindb/x"]) {
      expect(ignoredKey(key), key).toBe(false);
    }
  });

  it("refuses storage that is not a local folder", () => {
    const s3 = { type: "s3", root: "s3://bucket/data", localPath: () => undefined };
    const refusal = watchRefusal(s3);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal?.message).toMatch(/--watch is for local-folder storage/);
    expect(refusal?.hint).toMatch(/bucket events/);
    expect(() => watchFolder({ ...instance, storage: s3 } as unknown as Instance)).toThrow(
      /--watch is for local-folder storage/,
    );
    expect(watchRefusal(instance.storage)).toBeUndefined();
  });
});

describe("lamin serve --watch", () => {
  let server: ChildProcess | undefined;
  let stderr = "";
  let stdout = "";

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    }
  });

  it("registers a file copied into storage while it serves, then stops on SIGTERM", async () => {
    const storage = join(tempDir(), "data");
    const init = await lamin(["init", "--storage", storage, "--name", "watched", "--json"]);
    expect(init.code, init.stderr).toBe(0);
    const child = spawn(
      process.execPath,
      [LAMIN_BIN, "serve", "--watch", "--port", "0", "--json"],
      { cwd: REPO, env: process.env },
    );
    server = child;
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (d) => {
        stdout += d;
        if (stdout.includes("\n")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`lamin serve exited with ${code}: ${stderr}`)));
    });
    expect(JSON.parse(stdout.split("\n")[0] ?? "")).toHaveProperty("url");

    const src = join(tempDir(), "counts.csv");
    writeFileSync(src, "sample,reads\ns1,7\n");
    mkdirSync(join(storage, "drop"));
    copyFileSync(src, join(storage, "drop", "counts.csv"));

    const deadline = Date.now() + 20_000;
    let keys: string[] = [];
    while (!keys.includes("drop/counts.csv") || !stderr.includes("registered drop/counts.csv")) {
      if (Date.now() > deadline) {
        throw new Error(
          `drop/counts.csv was not registered within 20 s; lamin ls showed ${JSON.stringify(keys)}; server stderr:\n${stderr}`,
        );
      }
      await sleep(200);
      const ls = await lamin(["ls", "--json"], { env: { LAMIN_LOCK_TIMEOUT_MS: "500" } });
      expect(ls.code, ls.stderr).toBe(0);
      keys = (JSON.parse(ls.stdout) as { key: string }[]).map((a) => a.key);
    }
    const [uid] = /registered drop\/counts\.csv -> (\w+)/.exec(stderr)?.slice(1) ?? [];
    expect(uid).toMatch(/^[0-9A-Za-z]{20}$/);
    expect(stdout.trim().split("\n")).toHaveLength(1);

    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stdout.trim().split("\n")).toHaveLength(1);
  });
});
