/**
 * kill -9 of the servers while a client uploads through them: `lamin serve` (an embedded
 * instance; the server writes the bytes) and `lamin dev` (S3 storage; the client writes to the
 * S3 endpoint in the same process). The client gets one typed line and exit 5; the acknowledged
 * version stays the latest; the interrupted one is shown as incomplete; reconcile's dry run says
 * exactly what its real run then does (it completed nothing it could not verify, removed
 * nothing it did not announce); saving again completes the upload.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReconcileReport } from "../../core/ingest/reconcile.js";
import type { Artifact } from "../../core/registry/artifacts/artifacts.js";
import {
  createInstance,
  lamin,
  startLamin,
  stopChild,
  type TestInstance,
  tempDir,
  useTempHome,
} from "../helpers.js";
import {
  backdate,
  bigFile,
  expectTypedFailure,
  killHard,
  namesMatching,
  type Running,
  sizeOf,
  spawnLamin,
  waitFor,
} from "./support.js";

const home = useTempHome();
const work = tempDir("lamin-faults-");
const md5 = (path: string) => createHash("md5").update(readFileSync(path)).digest("hex");
const big = bigFile(join(work, "big.bin"), 192);
const TMP = /\.tmp-[A-Za-z0-9]{8}$/;
const HOURS_AGO = new Date(Date.now() - 2 * 3600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Env = Record<string, string>;
const cli = (args: string[], env: Env) => lamin(args, { cwd: work, env });
async function json<T>(args: string[], env: Env): Promise<T> {
  const r = await cli([...args, "--json"], env);
  expect(r.code, `lamin ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** A real run of reconcile lists what its dry run listed, and every step succeeded. */
async function reconcileTwice(env: Env) {
  const planned = await json<ReconcileReport>(["reconcile", "--dry-run"], env);
  const done = await json<ReconcileReport>(["reconcile"], env);
  const strip = (report: ReconcileReport) =>
    Object.fromEntries(
      Object.entries(report)
        .filter(([k]) => k !== "dryRun")
        .map(([k, v]) => [
          k,
          Array.isArray(v)
            ? v.map((c) => (typeof c === "object" ? { ...c, action: undefined } : c))
            : v,
        ]),
    );
  expect(strip(done)).toEqual(strip(planned));
  for (const c of Object.values(done).filter(Array.isArray).flat()) {
    if (typeof c === "object") expect(c.action, JSON.stringify(c)).not.toBe("skipped");
  }
  return { planned, done };
}

/** The client's save, once its server is killed: one typed line, exit 5, nothing printed. */
async function expectCutOff(save: Running) {
  const { code } = await save.exited;
  const r = { code: code ?? -1, stdout: save.stdout(), stderr: save.stderr() };
  expectTypedFailure(r, 5, /cannot reach http:\/\/127\.0\.0\.1:\d+/);
  expect(r.stdout).toBe("");
}

describe("kill -9 of lamin serve while it receives an upload", () => {
  let t: TestInstance;
  let server: Running | undefined;
  const env = () => ({ LAMIN_INSTANCE: t.name });
  const managed = () => join(t.root, ".lamindb");

  beforeAll(async () => {
    t = await createInstance("pglite");
    await t.instance.close();
  });
  afterAll(async () => {
    if (server) await killHard(server);
    await t?.dispose();
  });

  it("leaves the previous version the latest, and the upload completes when saved again", async () => {
    const v1Path = join(work, "v1.bin");
    writeFileSync(v1Path, "acknowledged before the crash");
    const v1 = await json<Artifact>(["save", v1Path, "--key", "served/big.bin"], env());

    server = spawnLamin(["serve", "--port", "0", "--json"], { env: env() });
    await waitFor("the server to listen", () => server?.stdout().includes("\n"), {
      running: server,
    });
    const save = spawnLamin(["save", big, "--key", "served/big.bin"], { cwd: work, env: env() });
    // the server streams the upload into a partial file: kill it mid-stream
    const tmp = await waitFor(
      "the upload to reach the server",
      () => namesMatching(managed(), TMP).find((n) => sizeOf(join(managed(), n)) > 0),
      { running: save },
    );
    await killHard(server);
    server = undefined;
    await expectCutOff(save);

    // the dead server is not in the way: commands open the instance themselves
    const latest = await json<Artifact[]>(["ls", "--key-prefix", "served/"], env());
    expect(latest.map((a) => [a.uid, a.upload_complete])).toEqual([[v1.uid, true]]);
    const all = await json<Artifact[]>(["ls", "--key-prefix", "served/", "--all-versions"], env());
    const broken = all.find((a) => a.uid !== v1.uid);
    expect(broken).toMatchObject({ upload_complete: false, is_latest: false });
    const out = mkdtempSync(join(work, "out-"));
    const loaded = await json<{ local_path: string }>(
      ["load", "--key", "served/big.bin", "--to", out],
      env(),
    );
    expect(readFileSync(loaded.local_path, "utf8")).toBe("acknowledged before the crash");

    backdate(join(managed(), tmp), HOURS_AGO);
    const { done } = await reconcileTwice(env());
    expect(done.partial.map((c) => [c.key, c.action])).toEqual([[`.lamindb/${tmp}`, "removed"]]);
    expect(done.waiting.map((c) => c.uid)).toEqual([broken?.uid]);

    const again = await json<Artifact & { status: string }>(
      ["save", big, "--key", "served/big.bin"],
      env(),
    );
    expect(again).toMatchObject({ uid: broken?.uid, status: "repaired", is_latest: true });
    const bytes = await json<{ local_path: string }>(
      ["load", "--key", "served/big.bin", "--to", mkdtempSync(join(work, "out-"))],
      env(),
    );
    expect(md5(bytes.local_path)).toBe(md5(big));
  });
});

describe("kill -9 of lamin dev while a client uploads to its S3 endpoint", () => {
  const dir = join(work, "dev");
  const env = { LAMIN_HOME: join(home, "dev-home"), LAMIN_CACHE_DIR: join(home, "dev-cache") };
  let dev: Awaited<ReturnType<typeof startLamin>>["child"] | undefined;
  const startDev = async (extra: Env = {}) => {
    dev = (
      await startLamin(["dev", "--dir", dir, "--port", "0", "--s3-port", "0", "--json"], {
        ...env,
        ...extra,
      })
    ).child;
  };
  const objects = () => join(dir, "s3", "lamin-dev", "data", ".lamindb");
  // an artifact's object (`<uid>[suffix]`), not the storage marker the instance writes first
  const OBJECT = /^[0-9A-Za-z]{20}[^/]*\._S3rver_object$/;

  afterAll(async () => {
    await stopChild(dev);
  });

  it("keeps the interrupted upload pending (never completed from partial bytes) until it expires", async () => {
    await startDev();
    const save = spawnLamin(["save", big, "--key", "dev/big.bin"], { cwd: work, env });
    // the S3 endpoint receives a body into its spool folder before the store sees it: kill the
    // whole dev process while bytes arrive there
    const spool = join(dir, "tmp");
    await waitFor(
      "the upload to reach the S3 endpoint",
      () => namesMatching(spool, /^[0-9a-f]{24}$/).find((n) => sizeOf(join(spool, n)) > 0),
      { running: save },
    );
    const killed = new Promise((resolve) => dev?.once("exit", resolve));
    dev?.kill("SIGKILL");
    await killed;
    dev = undefined;
    await expectCutOff(save);

    await startDev();
    const [half, ...more] = await json<Artifact[]>(["ls", "--all-versions"], env);
    expect(more).toEqual([]);
    expect(half).toMatchObject({ key: "dev/big.bin", upload_complete: false });
    expect((await cli(["ls"], env)).stdout).toMatch(/dev\/big\.bin\s+\(incomplete\)$/m);

    // a body cut short never reaches the store: the plan waits, and the run does just that
    const first = await reconcileTwice(env);
    expect(first.done.completed).toEqual([]);
    expect(first.done.waiting).toEqual([
      expect.objectContaining({
        uid: half?.uid,
        detail: expect.stringMatching(/no bytes yet| of 201326592 bytes written/),
      }),
    ]);
    const still = await json<Artifact[]>(["ls", "--all-versions"], env);
    expect(still.map((a) => [a.uid, a.upload_complete])).toEqual([[half?.uid, false]]);

    // once older than LAMIN_UPLOAD_EXPIRY (the server's setting), it goes with its bytes
    await stopChild(dev);
    await startDev({ LAMIN_UPLOAD_EXPIRY: "1s" });
    const expired = await reconcileTwice(env);
    expect(expired.done.expired.map((c) => [c.uid, c.action])).toEqual([[half?.uid, "expired"]]);
    expect(await json<Artifact[]>(["ls", "--all-versions"], env)).toEqual([]);
    expect(namesMatching(objects(), OBJECT)).toEqual([]);

    const saved = await json<Artifact & { status: string }>(
      ["save", big, "--key", "dev/big.bin"],
      env,
    );
    expect(saved).toMatchObject({ status: "created", upload_complete: true });
    const loaded = await json<{ local_path: string }>(
      ["load", "--key", "dev/big.bin", "--to", mkdtempSync(join(work, "out-"))],
      env,
    );
    expect(md5(loaded.local_path)).toBe(md5(big));
  });
});
