/**
 * Features, labels, annotation, search, schemas, validation, collections and run tracking work
 * the same through a running `lamin serve` as in process: every command runs against two twin
 * instances, one opened by each command (in process) and one held by `lamin serve` (each command
 * goes through its API), and their exit codes, outputs and errors must be equal once uids,
 * hashes, times and folders are taken out. Bad inputs must change nothing on either side.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, lamin, startLamin, stopChild, tempDir } from "./helpers.js";

const work = tempDir("lamin-remote-cli-");
type Side = "local" | "served";
const SIDES: Side[] = ["local", "served"];
const dirs = { local: join(work, "local"), served: join(work, "served") };
const envs: Record<Side, Record<string, string>> = {
  local: { LAMIN_HOME: join(dirs.local, "home"), LAMIN_CACHE_DIR: join(dirs.local, "cache") },
  // a local open would wait for the server's lock: a short timeout proves commands went through it
  served: {
    LAMIN_HOME: join(dirs.served, "home"),
    LAMIN_CACHE_DIR: join(dirs.served, "cache"),
    LAMIN_LOCK_TIMEOUT_MS: "500",
  },
};
let server: ChildProcess | undefined;

const run = (side: Side, args: string[]) => lamin(args, { cwd: dirs[side], env: envs[side] });

/** Both sides' files, written alike. */
function write(name: string, text: string): void {
  for (const side of SIDES) writeFileSync(join(dirs[side], name), text);
}

/** Output without what differs between twins: folders, uids, hashes, times. */
function normalize(text: string, side: Side): string {
  return text
    .replaceAll(dirs[side], "<dir>")
    .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?/g, "<time>")
    .replace(/(?<![\w-])(?![a-z]{22})[\w-]{22}(?![\w-])/g, "<hash>")
    .replace(/\b(?![a-z]+\b)[0-9A-Za-z]{8}(?:[0-9A-Za-z]{4}){0,3}\b/g, "<uid>");
}

/**
 * Run a command on both twins (the arguments may differ per side, e.g. a uid) and expect the same
 * exit code, stdout and stderr; returns both results. `unordered`: lines whose order follows the
 * uids (random per twin) are compared as sets.
 */
async function both(
  args: string[] | ((side: Side) => string[]),
  code = 0,
  unordered = false,
): Promise<Record<Side, CliResult>> {
  const same = (text: string, side: Side) => {
    const lines = normalize(text, side).split("\n");
    return unordered ? lines.sort() : lines;
  };
  const argsOf = (side: Side) => (typeof args === "function" ? args(side) : args);
  const [local, served] = (await Promise.all(SIDES.map((side) => run(side, argsOf(side))))) as [
    CliResult,
    CliResult,
  ];
  const r: Record<Side, CliResult> = { local, served };
  const shown = JSON.stringify({ args: argsOf("served"), r }, null, 2);
  expect(local.code, shown).toBe(code);
  expect(served.code, shown).toBe(code);
  expect(same(served.stdout, "served"), shown).toEqual(same(local.stdout, "local"));
  expect(same(served.stderr, "served"), shown).toEqual(same(local.stderr, "local"));
  return r;
}

/** `both` with --json: the parsed outputs per side. */
async function bothJson<T>(
  args: string[] | ((side: Side) => string[]),
  code = 0,
): Promise<Record<Side, T>> {
  const argsOf = (side: Side) => [...(typeof args === "function" ? args(side) : args), "--json"];
  const r = await both(argsOf, code);
  return { local: JSON.parse(r.local.stdout) as T, served: JSON.parse(r.served.stdout) as T };
}

/** Per side: a value that differs between twins (a uid). */
const uids: Record<string, Record<Side, string>> = {};
const uid = (name: string) => (side: Side) => (uids[name] as Record<Side, string>)[side];

beforeAll(async () => {
  for (const side of SIDES) {
    mkdirSync(envs[side].LAMIN_HOME as string, { recursive: true });
    const init = await run(side, ["init", "--storage", "./data", "--name", "twin", "--json"]);
    expect(init.code, init.stderr).toBe(0);
  }
  ({ child: server } = await startLamin(["serve", "--port", "0", "--json"], envs.served));
});

afterAll(async () => {
  await stopChild(server);
  rmSync(work, { recursive: true, force: true });
});

describe("the same commands in process and through `lamin serve`", () => {
  it("features, labels, records, annotation (bad inputs change nothing) and search", async () => {
    await both(["feature", "create", "temperature", "--dtype", "float"]);
    await both(["feature", "create", "cell_type", "--dtype", "cat"]);
    await both(["feature", "create", "sample", "--dtype", "str", "--not-nullable"]);
    await both(["feature", "create", "temperature", "--dtype", "int"], 4);
    await both(["feature", "create", "bad", "--dtype", "float64"], 2);
    await both(["ulabel", "create", "CellTypes", "--is-type"]);
    await both(["ulabel", "create", "T-cell", "--type", "CellTypes"]);
    await both(["ulabel", "create", "T-cell", "--type", "CellTypes"]);
    await both(["project", "create", "P", "--abbr", "p"]);
    await both(["record", "create", "r1"]);
    await bothJson(["project", "create", "P"]);
    for (const registry of ["feature", "ulabel", "project", "record"]) {
      await both([registry, "list"]);
      await bothJson([registry, "list", "--limit", "2"]);
    }
    await both(["feature", "list", "--limit", "x"], 2);

    write("a.csv", "sample,temperature,cell_type\ns1,37.5,T-cell\n");
    const a = await bothJson<{ uid: string }>(["save", "a.csv", "--key", "raw/a.csv"]);
    uids.a = { local: a.local.uid, served: a.served.uid };

    await both((s) => [
      "annotate",
      uid("a")(s),
      "--features",
      "temperature=37.5",
      "cell_type=T-cell",
      "--project",
      "P",
      "--ulabel",
      "T-cell",
    ]);
    const before = await both((s) => ["annotate", uid("a")(s)]);
    expect(before.served.stdout).toContain("temperature = 37.5");
    // each bad input: the same error, and nothing written
    for (const bad of [
      ["--features", "temperature=abc"],
      ["--features", "cell_type=B-cell"],
      ["--features", "nope=1"],
      ["--features", "temperature=38", "cell_type=B-cell"],
      ["--project", "NoSuch"],
      ["--features", "novalue"],
    ]) {
      await both((s) => ["annotate", uid("a")(s), ...bad], 2);
      await bothJson((s) => ["annotate", uid("a")(s), ...bad], 2);
    }
    await both(["annotate", "0000000000000000", "--features", "temperature=1"], 3);
    const after = await both((s) => ["annotate", uid("a")(s)]);
    expect(after.served.stdout).toBe(before.served.stdout);
    await bothJson((s) => ["annotate", uid("a")(s), "--remove", "temperature"]);
    await both((s) => ["annotate", uid("a")(s), "--features", "temperature=38"]);

    await both(["search", "ulabel", "t cell"]);
    await bothJson(["search", "feature", "temp", "--limit", "5"]);
    await both(["search", "nope", "x"], 2);
    await both(["ls", "--features", "temperature__gt=30", "cell_type=T-cell"]);
    await both(["ls", "--features", "temperature__gt=40"]);
  }, 180_000);

  it("schemas, validation and save --schema (nothing saved when invalid)", async () => {
    await both(["schema", "create", "samples", "--features", "sample,temperature,cell_type"]);
    await both(["schema", "create", "strict", "--features", "sample,cell_type", "--maximal"]);
    await both(["schema", "create", "samples", "--features", "sample"], 4);
    await both(["schema", "create", "broken", "--features", "sample,nope"], 2);
    await both(["schema", "list"]);
    await bothJson(["schema", "list"]);

    write("good.csv", "sample,temperature,cell_type\ns2,36.5,T-cell\n");
    write("bad.csv", "sample,temperature,cell_type,extra\n,hot,B-cell,1\n");
    write("notes.txt", "hello\n");
    await both(["validate", "good.csv", "--schema", "samples"]);
    await bothJson(["validate", "good.csv", "--schema", "samples"]);
    await both(["validate", "bad.csv", "--schema", "strict"], 2);
    const report = await bothJson<{ error: { report: { valid: boolean } } }>(
      ["validate", "bad.csv", "--schema", "samples"],
      2,
    );
    expect(report.served.error.report.valid).toBe(false);
    await both(["validate", "good.csv", "--schema", "nosuch"], 3);
    await both(["validate", "missing.csv", "--schema", "samples"], 2);
    await both(["validate", "notes.txt", "--schema", "samples"], 2);

    const count = async () => (await bothJson<unknown[]>(["ls", "--all-versions"])).served.length;
    const n = await count();
    await both(["save", "bad.csv", "--key", "raw/bad.csv", "--schema", "samples"], 2);
    await bothJson(["save", "bad.csv", "--key", "raw/bad.csv", "--schema", "strict"], 2);
    await both(["save", "good.csv", "--key", "raw/good.csv", "--schema", "nosuch"], 3);
    expect(await count()).toBe(n);

    const good = await bothJson<{ uid: string; status: string }>([
      "save",
      "good.csv",
      "--key",
      "raw/good.csv",
      "--schema",
      "samples",
    ]);
    expect(good.served.status).toBe("created");
    uids.good = { local: good.local.uid, served: good.served.uid };
    // linked like in process: the values LaminDB annotates (categorical columns' labels)
    const annotated = await both((s) => ["annotate", uid("good")(s)]);
    expect(annotated.served.stdout).toContain("cell_type = T-cell");
    // the same content again: the existing artifact, validated and linked again
    const again = await bothJson<{ status: string }>([
      "save",
      "good.csv",
      "--key",
      "raw/good.csv",
      "--schema",
      "samples",
    ]);
    expect(again.served.status).toBe("existing");
  }, 180_000);

  it("collections: create, ls, members, load", async () => {
    const create = (s: Side) => ["collection", "create", "ds/x", uid("a")(s), uid("good")(s)];
    const c = await bothJson<{ uid: string; status: string }>(create);
    expect(c.served.status).toBe("created");
    await both(create);
    await both(["collection", "create", "ds/y", "0000000000000000"], 2);
    await both(["collection", "ls"]);
    await both(["collection", "members", "ds/x"]);
    await bothJson((s) => ["collection", "members", c[s].uid]);
    await both(["collection", "members", "--key", "ds/x"]);
    await both(["collection", "members", "ds/nope"], 3);
    await both(["collection", "load", "ds/x", "--to", "out"]);
    expect(readFileSync(join(dirs.served, "out", "good.csv"), "utf8")).toContain("s2,36.5");
    await both(["collection", "load", "ds/nope"], 3);
  }, 180_000);

  it("track, save and load in the run, finish; runs by features", async () => {
    write("pipe.sh", "echo step\n");
    write("o.txt", "out\n");
    await both(["track", "pipe.sh", "--params", '{"threads": 2}']);
    await both(["track", "pipe.sh"], 4);
    await both(["load", "--key", "raw/a.csv", "--to", "in"]);
    const saved = await bothJson<{ run: string | null }>(["save", "o.txt", "--key", "out/o.txt"]);
    expect(saved.served.run).toMatch(/^[0-9A-Za-z]{16}$/);
    await both(["collection", "load", "ds/x", "--to", "in2"]);
    const finished = await bothJson<{ uid: string; status: string }>(["finish"]);
    expect(finished.served).toMatchObject({ uid: saved.served.run, status: "completed" });
    uids.run = { local: finished.local.uid, served: finished.served.uid };
    await both(["finish"], 3);
    // the run's output, made from its inputs: the lineage says the same on both sides
    // a run's inputs are listed by uid: the same lines, in another order on each twin
    await both(["lineage", "--key", "out/o.txt"], 0, true);
    await both(["lineage", "--key", "raw/a.csv", "--downstream"], 0, true);

    await both((s) => ["annotate", uid("run")(s), "--run", "--features", "temperature=40"]);
    await both((s) => ["annotate", uid("run")(s), "--run", "--features", "temperature=x"], 2);
    await both(["run", "ls"]);
    const hot = await bothJson<{ uid: string }[]>([
      "run",
      "ls",
      "--features",
      "temperature__gt=30",
    ]);
    expect(hot.served.map((r) => r.uid)).toEqual([uids.run?.served]);
    await both(["run", "ls", "--features", "temperature__gt=50"]);
    await both(["run", "ls", "--features", "nope=1"], 2);
    await both(["run", "ls", "--transform", "pipe.sh", "--status", "completed"]);
  }, 180_000);
});
