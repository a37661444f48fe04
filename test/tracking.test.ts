/**
 * Runs: `ln.track()` / `ln.finish()` in process and in child scripts (an uncaught error marks the
 * run errored), transform hash (vector `transform_source_code`), reuse, versions and pinned uid
 * stems, outputs and inputs of a run (no self-loops), and the CLI's `lamin track` / `lamin finish`
 * around `lamin save` / `lamin load`.
 */
import { execFile } from "node:child_process";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors.js";
import { hashString } from "../core/hash.js";
import { setCurrentRun } from "../core/registry/lineage/run-context.js";
import { openInstance } from "../core/setup.js";
import {
  BACKENDS,
  createInstance,
  lamin,
  REPO,
  type TestInstance,
  tempDir,
  useTempHome,
} from "./helpers.js";

const home = useTempHome();
const execFileP = promisify(execFile);

const vectors = JSON.parse(readFileSync("/work/shared/reference/hash_vectors.json", "utf8")) as {
  vectors: { name: string; hash: string; how_to_generate: string }[];
};
const SOURCE_VECTOR = vectors.vectors.find((v) => v.name === "transform_source_code") as {
  hash: string;
};
const VECTOR_SOURCE = 'import lamindb as ln\nln.track()\nprint("hi")\nln.finish()\n';

describe.each(BACKENDS)("tracking on %s", (backend) => {
  let t: TestInstance;
  let work: string;

  beforeAll(async () => {
    t = await createInstance(backend);
    work = tempDir();
  });
  afterAll(async () => {
    await t?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const ln = () => t.instance;
  const count = async (table: string) =>
    (await queryRows<{ n: number }>(ln().db, sql.raw(`SELECT count(*)::int AS n FROM ${table}`)))[0]
      ?.n;
  const counts = async () => ({
    transforms: await count("lamindb_transform"),
    runs: await count("lamindb_run"),
    artifacts: await count("lamindb_artifact"),
    inputs: await count("lamindb_artifact_input_of_runs"),
  });
  const script = (name: string, text: string) => {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  };

  it("hashes the source like LaminDB (vector transform_source_code)", async () => {
    expect(hashString(VECTOR_SOURCE)).toBe(SOURCE_VECTOR.hash);
    const path = script("vector.py", VECTOR_SOURCE);
    const { transform, run, transformStatus } = await ln().track({ path, captureProcess: false });
    expect(transformStatus).toBe("created");
    expect(transform).toMatchObject({
      key: "vector.py", // outside the repo and the current folder: the file name
      kind: "script",
      hash: SOURCE_VECTOR.hash,
      source_code: VECTOR_SOURCE,
      version: "0000",
      is_latest: true,
    });
    expect(run).toMatchObject({ status: "started", transform: transform.uid, finished_at: null });
    const [row] = await queryRows<{ extra_data: { environment: Record<string, unknown> } }>(
      ln().db,
      sql`SELECT extra_data FROM lamindb_run WHERE uid = ${run.uid}`,
    );
    expect(row?.extra_data.environment).toMatchObject({ node: process.version });
    const done = await ln().finish();
    expect(done).toMatchObject({ uid: run.uid, status: "completed" });
    expect(done.finished_at).not.toBeNull();
  });

  it("reuses the transform for the same source and versions a changed one", async () => {
    const path = script("step.sh", "echo one\n");
    const first = await ln().track({ path, captureProcess: false });
    await ln().finish();
    const again = await ln().track({ path, captureProcess: false });
    await ln().finish();
    expect(again.transformStatus).toBe("existing");
    expect(again.transform.uid).toBe(first.transform.uid);
    expect(again.run.uid).not.toBe(first.run.uid);
    writeFileSync(path, "echo two\n");
    const changed = await ln().track({ path, captureProcess: false });
    await ln().finish();
    expect(changed.transformStatus).toBe("new-version");
    expect(changed.transform.uid).toBe(`${first.transform.uid.slice(0, 12)}0001`);
    expect(changed.transform.is_latest).toBe(true);
    expect((await ln().transforms.get(first.transform.uid)).is_latest).toBe(false);
  });

  it("pins the transform with a uid stem across renames", async () => {
    const stem = `pin${backend === "postgres" ? "P" : "L"}abcdefgh`.slice(0, 12);
    const path = script("old-name.sh", "echo pinned\n");
    const a = await ln().track({ uid: stem, path, captureProcess: false });
    await ln().finish();
    expect(a.transform.uid).toBe(`${stem}0000`);
    const moved = join(work, "new-name.sh");
    renameSync(path, moved);
    const b = await ln().track({ uid: stem, path: moved, captureProcess: false });
    await ln().finish();
    expect(b.transform.uid).toBe(`${stem}0000`);
    expect(b.transform.key).toBe("new-name.sh");
    writeFileSync(moved, "echo pinned, changed\n");
    const c = await ln().track({ uid: stem, path: moved, captureProcess: false });
    await ln().finish();
    expect(c.transformStatus).toBe("new-version");
    expect(c.transform.uid).toBe(`${stem}0001`);
    await expect(ln().track({ uid: "short", path: moved })).rejects.toThrow(ValidationError);
  });

  it("records outputs and inputs of a run, without self-loops, and saves the log", async () => {
    const before = writeFile("before.csv", `x\n${backend}-before\n`);
    const { artifact: input } = await ln().artifacts.save(before, { key: "track/before.csv" });
    const path = script("io.sh", "echo io\n");
    const { run } = await ln().track({ path });
    process.stdout.write("hello from the run\n");
    await ln().artifacts.load(input.uid, { to: join(work, "dl") });
    const out = writeFile("out.csv", `x\n${backend}-out\n`);
    const { artifact: output } = await ln().artifacts.save(out, { key: "track/out.csv" });
    expect(output.run).toBe(run.uid);
    await ln().artifacts.load(output.uid, { to: join(work, "dl2") }); // its own output: no input
    const done = await ln().finish();
    expect(done.status).toBe("completed");
    const inputs = await queryRows<{ uid: string }>(
      ln().db,
      sql`SELECT a.uid FROM lamindb_artifact_input_of_runs i
        JOIN lamindb_artifact a ON a.id = i.artifact_id
        JOIN lamindb_run r ON r.id = i.run_id WHERE r.uid = ${run.uid}`,
    );
    expect(inputs.map((r) => r.uid)).toEqual([input.uid]);
    const [report] = await queryRows<{ uid: string; kind: string; description: string }>(
      ln().db,
      sql`SELECT a.uid, a.kind, a.description FROM lamindb_run r
        JOIN lamindb_artifact a ON a.id = r.report_id WHERE r.uid = ${run.uid}`,
    );
    expect(report).toMatchObject({
      kind: "__lamindb_run__",
      description: `log streams of run ${run.uid}`,
    });
    const { path: log } = await ln().artifacts.load((report as { uid: string }).uid, {
      to: join(work, "log"),
    });
    expect(readFileSync(log, "utf8")).toContain("hello from the run");
    // after finish, saves belong to no run
    const later = writeFile("later.csv", `x\n${backend}-later\n`);
    expect((await ln().artifacts.save(later, { key: "track/later.csv" })).artifact.run).toBeNull();
  });

  it("refuses finish without track, a second track, and a missing script, changing nothing", async () => {
    const before = await counts();
    await expect(ln().finish()).rejects.toThrow(NotFoundError);
    await expect(
      ln().track({ path: join(work, "missing.sh"), captureProcess: false }),
    ).rejects.toThrow(ValidationError);
    await expect(
      ln().track({ path: script("p.sh", "x"), params: [] as never, captureProcess: false }),
    ).rejects.toThrow(ValidationError);
    expect(await counts()).toEqual(before);
    const path = script("twice.sh", "echo twice\n");
    await ln().track({ path, captureProcess: false });
    await expect(ln().track({ path, captureProcess: false })).rejects.toThrow(ConflictError);
    await ln().finish();
    setCurrentRun(ln(), undefined);
  });

  describe("in child processes", () => {
    // the embedded database is held by one process at a time: hand it to the children
    beforeAll(async () => {
      await t.instance.close();
    });
    afterAll(async () => {
      t.instance = await openInstance(t.name);
    });
    const env = { LAMIN_HOME: home, LAMIN_INSTANCE: "" };
    const node = async (file: string) => {
      try {
        const r = await execFileP(process.execPath, [file], {
          cwd: work,
          env: { ...process.env, ...env, LAMIN_INSTANCE: t.name },
        });
        return { code: 0, ...r };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const dist = join(REPO, "dist", "index.js");

    it("marks a run errored when the script throws, and completed when it finishes", async () => {
      const bad = script(
        "bad.mjs",
        `import { connect } from ${JSON.stringify(dist)};
const ln = await connect();
const { run } = await ln.track({ params: { n: 1 } });
console.log("RUN " + run.uid);
throw new Error("boom in the script");
`,
      );
      const good = script(
        "good.mjs",
        `import { connect } from ${JSON.stringify(dist)};
const ln = await connect();
const { run } = await ln.track();
console.log("RUN " + run.uid);
await ln.finish();
await ln.close();
`,
      );
      const failed = await node(bad);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain("boom in the script");
      const ok = await node(good);
      expect(ok.code, ok.stderr).toBe(0);
      const badUid = /RUN (\w+)/.exec(failed.stdout)?.[1] as string;
      const goodUid = /RUN (\w+)/.exec(ok.stdout)?.[1] as string;
      const reopened = await openInstance(t.name);
      try {
        const errored = await reopened.runs.get(badUid);
        expect(errored).toMatchObject({ status: "errored", params: { n: 1 } });
        expect(errored.finished_at).not.toBeNull();
        expect((await reopened.runs.get(goodUid)).status).toBe("completed");
        const [log] = await queryRows<{ uid: string }>(
          reopened.db,
          sql`SELECT a.uid FROM lamindb_run r JOIN lamindb_artifact a ON a.id = r.report_id
            WHERE r.uid = ${badUid}`,
        );
        const { path } = await reopened.artifacts.load((log as { uid: string }).uid, {
          to: join(work, "badlog"),
        });
        expect(readFileSync(path, "utf8")).toContain("boom in the script");
      } finally {
        await reopened.close();
      }
    });

    it("marks a run aborted on SIGTERM", async () => {
      const killed = script(
        "killed.mjs",
        `import { connect } from ${JSON.stringify(dist)};
const ln = await connect();
const { run } = await ln.track();
console.log("RUN " + run.uid);
process.kill(process.pid, "SIGTERM");
await new Promise((resolve) => setTimeout(resolve, 10_000));
`,
      );
      const result = await node(killed);
      expect(result.code).toBe(143);
      const uid = /RUN (\w+)/.exec(result.stdout)?.[1] as string;
      const reopened = await openInstance(t.name);
      try {
        expect((await reopened.runs.get(uid)).status).toBe("aborted");
      } finally {
        await reopened.close();
      }
    });

    it("tracks a shell pipeline with lamin track / save / load / finish", async () => {
      const cli = (args: string[]) =>
        lamin(args, { cwd: work, env: { ...env, LAMIN_INSTANCE: t.name } });
      const nofinish = await cli(["finish", "--json"]);
      expect(nofinish.code).toBe(3);
      expect(nofinish.stderr).toMatch(/no run is being tracked/);
      const missing = await cli(["track", "nope.sh"]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/no such file/);

      writeFile("in.txt", `in ${backend}\n`);
      const saved = JSON.parse(
        (await cli(["save", "in.txt", "--key", "pipe/in.txt", "--json"])).stdout,
      );
      expect(saved.run).toBeNull();
      script("pipe.sh", "lamin load --key pipe/in.txt\nlamin save out.txt --key pipe/out.txt\n");
      const tracked = await cli(["track", "pipe.sh", "--json"]);
      expect(tracked.code, tracked.stderr).toBe(0);
      const { run, transform } = JSON.parse(tracked.stdout);
      expect(transform).toMatchObject({ key: "pipe.sh", kind: "script" });
      expect((await cli(["track", "pipe.sh"])).code).toBe(4); // one active run at a time
      expect((await cli(["load", "--key", "pipe/in.txt", "--to", join(work, "pl")])).code).toBe(0);
      writeFile("out.txt", `out ${backend}\n`);
      const out = JSON.parse(
        (await cli(["save", "out.txt", "--key", "pipe/out.txt", "--json"])).stdout,
      );
      expect(out.run).toBe(run.uid);
      const finished = await cli(["finish", "--json"]);
      expect(finished.code, finished.stderr).toBe(0);
      expect(JSON.parse(finished.stdout)).toMatchObject({ uid: run.uid, status: "completed" });
      const lineage = JSON.parse(
        (await cli(["lineage", "--key", "pipe/out.txt", "--upstream", "--json"])).stdout,
      );
      expect(lineage.edges).toEqual(
        expect.arrayContaining([
          { from: saved.uid, to: run.uid, kind: "input" },
          { from: run.uid, to: out.uid, kind: "output" },
        ]),
      );
      // after finish, a save belongs to no run
      writeFile("after.txt", `after ${backend}\n`);
      const after = JSON.parse(
        (await cli(["save", "after.txt", "--key", "pipe/after.txt", "--json"])).stdout,
      );
      expect(after.run).toBeNull();
    });
  });

  function writeFile(name: string, text: string): string {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  }
});
