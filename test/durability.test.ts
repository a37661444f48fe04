/**
 * What happens when things go wrong or happen at once: a save interrupted between the row and the
 * bytes, several processes saving at the same moment, two processes wanting one PGlite folder.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { IntegrityError } from "../core/errors.js";
import { openInstance } from "../core/setup.js";
import {
  BACKENDS,
  createInstance,
  LAMIN_BIN,
  lamin,
  managedFiles,
  REPO,
  tempDir,
  useTempHome,
} from "./helpers.js";

useTempHome();

describe.each(BACKENDS)("an interrupted save on %s", (backend) => {
  it("leaves a flagged row that the next save of the same file completes", async () => {
    const t = await createInstance(backend);
    try {
      const work = tempDir();
      const path = join(work, "big.bin");
      writeFileSync(path, "payload that never reached storage");
      let ln = t.instance;
      // The process "dies" inside the copy: the row is written, the bytes are not.
      let reachedCopy!: () => void;
      const inCopy = new Promise<void>((resolve) => {
        reachedCopy = resolve;
      });
      ln.storage.putFile = () => {
        reachedCopy();
        return new Promise<void>(() => {});
      };
      void ln.artifacts.save(path, { key: "crash/big.bin" });
      await inCopy;
      await ln.close();

      ln = await openInstance(t.name);
      const [half] = (await ln.artifacts.list({ filter: { key: "crash/big.bin" } })).items;
      expect(half?.upload_complete).toBe(false);
      expect(existsSync(half?.path ?? "")).toBe(false);
      const err = await ln.artifacts.load(half?.uid ?? "").catch((e) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      expect(err.hint).toMatch(/save the same file again/);

      const again = await ln.artifacts.save(path, { key: "crash/big.bin" });
      expect(again.status).toBe("repaired");
      expect(again.artifact).toMatchObject({ uid: half?.uid, upload_complete: true });
      expect(readFileSync(again.artifact.path, "utf8")).toBe("payload that never reached storage");
      const rows = await queryRows(
        ln.db,
        sql`SELECT uid FROM lamindb_artifact WHERE key = 'crash/big.bin'`,
      );
      expect(rows).toHaveLength(1);
      await ln.close();
    } finally {
      await t.dispose();
    }
  });
});

/** Start `lamin` processes together and wait for all of them. */
function runTogether(argsList: string[][], env: Record<string, string>) {
  return Promise.all(
    argsList.map(
      (args) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, [LAMIN_BIN, ...args], {
            cwd: REPO,
            env: { ...process.env, ...env },
          });
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (d) => {
            stdout += d;
          });
          child.stderr.on("data", (d) => {
            stderr += d;
          });
          child.on("close", (code) => resolve({ code, stdout, stderr }));
        }),
    ),
  );
}

describe.runIf(BACKENDS.includes("postgres"))(
  "concurrent saves from several processes on Postgres",
  () => {
    let t: Awaited<ReturnType<typeof createInstance>>;
    let work: string;
    const env = () => ({ LAMIN_INSTANCE: t.name });

    beforeAll(async () => {
      t = await createInstance("postgres");
      work = tempDir();
    });
    afterAll(() => t?.dispose());

    it("end with one artifact when they save the same content under one key", async () => {
      const path = join(work, "same.csv");
      writeFileSync(path, "id\n1\n2\n3\n");
      const results = await runTogether(
        Array.from({ length: 6 }, () => ["save", path, "--key", "race/same.csv", "--json"]),
        env(),
      );
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const uids = new Set(results.map((r) => JSON.parse(r.stdout).uid));
      expect(uids.size).toBe(1);
      const rows = await queryRows(
        t.instance.db,
        sql`SELECT uid FROM lamindb_artifact WHERE hash = ${JSON.parse(results[0]?.stdout ?? "{}").hash}`,
      );
      expect(rows).toHaveLength(1);
    });

    it("end with one artifact when they save the same content without a key", async () => {
      const path = join(work, "nokey.txt");
      writeFileSync(path, "no key, same bytes");
      const results = await runTogether(
        Array.from({ length: 6 }, () => ["save", path, "--description", "same bytes", "--json"]),
        env(),
      );
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      expect(new Set(results.map((r) => JSON.parse(r.stdout).uid)).size).toBe(1);
    });

    it("line up different contents under one key as consecutive versions with one latest", async () => {
      const paths = Array.from({ length: 5 }, (_, i) => {
        const p = join(work, `v${i}.txt`);
        writeFileSync(p, `content ${i}`);
        return p;
      });
      const results = await runTogether(
        paths.map((p) => ["save", p, "--key", "race/versions.txt", "--json"]),
        env(),
      );
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const rows = await queryRows<{ uid: string; is_latest: boolean }>(
        t.instance.db,
        sql`SELECT uid, is_latest FROM lamindb_artifact WHERE key = 'race/versions.txt' ORDER BY uid`,
      );
      expect(rows.map((r) => r.uid.slice(16))).toEqual(["0000", "0001", "0002", "0003", "0004"]);
      expect(new Set(rows.map((r) => r.uid.slice(0, 16))).size).toBe(1);
      expect(rows.filter((r) => r.is_latest).map((r) => r.uid.slice(16))).toEqual(["0004"]);
    });
  },
);

describe("one process per PGlite folder", () => {
  let t: Awaited<ReturnType<typeof createInstance>>;

  beforeAll(async () => {
    t = await createInstance("pglite");
    const work = tempDir();
    writeFileSync(join(work, "x.txt"), "x");
    await t.instance.artifacts.save(join(work, "x.txt"), { key: "x.txt" });
  });
  afterAll(() => t?.dispose());

  it("makes a second process wait with a message, then go on", async () => {
    const child = spawn(process.execPath, [LAMIN_BIN, "ls", "--json"], {
      cwd: REPO,
      env: { ...process.env, LAMIN_INSTANCE: t.name, LAMIN_LOCK_TIMEOUT_MS: "60000" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    const waiting = new Promise<void>((resolve) => {
      child.stderr.on("data", (d) => {
        stderr += d;
        if (stderr.includes("waiting for process")) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await waiting;
    expect(stderr).toContain(`waiting for process ${process.pid}`);
    await t.instance.close(); // releases the folder
    expect(await exited).toBe(0);
    expect(JSON.parse(stdout).map((a: { key: string }) => a.key)).toEqual(["x.txt"]);
    t.instance = await openInstance(t.name);
  });

  it("gives up after the timeout with a clear error", async () => {
    const r = await lamin(["ls"], {
      env: { LAMIN_INSTANCE: t.name, LAMIN_LOCK_TIMEOUT_MS: "300" },
    });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/error: the instance database is in use by process \d+/);
    expect(r.stderr).toMatch(/hint: /);
  });

  it("takes over the lock of a process that died", async () => {
    await t.instance.close();
    const lockPath = join(t.root, ".lamindb", "pglite.lock");
    writeFileSync(
      lockPath,
      JSON.stringify({
        pid: 2 ** 22 + 12345,
        host: (await import("node:os")).hostname(),
        startedAt: "x",
      }),
    );
    const r = await lamin(["ls", "--json"], {
      env: { LAMIN_INSTANCE: t.name, LAMIN_LOCK_TIMEOUT_MS: "5000" },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(lockPath)).toBe(false);
    expect(managedFiles(t.root)).toHaveLength(1);
    t.instance = await openInstance(t.name);
  });
});
