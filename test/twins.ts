/**
 * Twin instances for "the same in process as through `lamin serve`" tests: every command runs
 * against two instances made alike, one opened by each command in its own process (`local`) and
 * one held by a running `lamin serve` (`served`, each command goes through its API). Exit codes,
 * stdout and stderr must be equal once uids, hashes, times and folders are taken out.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { type CliResult, lamin, startLamin, stopChild, tempDir } from "./helpers.js";

export type Side = "local" | "served";
export const SIDES: Side[] = ["local", "served"];
type PerSide<T> = Record<Side, T>;
type Args = string[] | ((side: Side) => string[]);

/**
 * Make the twins before the file's tests (`init` arguments, then `prepare` on each side while no
 * server holds the database, e.g. enabling a module) and start the server; remove it all after.
 */
export function twins(
  prefix: string,
  opts: { init?: string[]; prepare?: (side: Side) => Promise<void> } = {},
) {
  const work = tempDir(prefix);
  const dirs: PerSide<string> = { local: join(work, "local"), served: join(work, "served") };
  const envs: PerSide<Record<string, string>> = {
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
  const write = (name: string, text: string) => {
    for (const side of SIDES) writeFileSync(join(dirs[side], name), text);
  };

  /** Output without what differs between twins: folders, uids, hashes, times. */
  const normalize = (text: string, side: Side) =>
    text
      .replaceAll(dirs[side], "<dir>")
      .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?/g, "<time>")
      .replace(/(?<![\w-])(?![a-z]{22})[\w-]{22}(?![\w-])/g, "<hash>")
      .replace(/\b(?![a-z]+\b)[0-9A-Za-z]{8}(?:[0-9A-Za-z]{4}){0,3}\b/g, "<uid>");

  /**
   * Run a command on both twins (the arguments may differ per side, e.g. a uid) and expect the
   * same exit code, stdout and stderr. `unordered`: lines whose order follows the uids (random
   * per twin) are compared as sets.
   */
  async function both(args: Args, code = 0, unordered = false): Promise<PerSide<CliResult>> {
    const same = (text: string, side: Side) => {
      const lines = normalize(text, side).split("\n");
      return unordered ? lines.sort() : lines;
    };
    const argsOf = (side: Side) => (typeof args === "function" ? args(side) : args);
    const [local, served] = (await Promise.all(SIDES.map((side) => run(side, argsOf(side))))) as [
      CliResult,
      CliResult,
    ];
    const r: PerSide<CliResult> = { local, served };
    const shown = JSON.stringify({ args: argsOf("served"), r }, null, 2);
    expect(local.code, shown).toBe(code);
    expect(served.code, shown).toBe(code);
    expect(same(served.stdout, "served"), shown).toEqual(same(local.stdout, "local"));
    expect(same(served.stderr, "served"), shown).toEqual(same(local.stderr, "local"));
    return r;
  }

  /** `both` with --json: the parsed outputs per side. */
  async function bothJson<T>(args: Args, code = 0): Promise<PerSide<T>> {
    const argsOf = (side: Side) => [...(typeof args === "function" ? args(side) : args), "--json"];
    const r = await both(argsOf, code);
    return { local: JSON.parse(r.local.stdout) as T, served: JSON.parse(r.served.stdout) as T };
  }

  beforeAll(async () => {
    for (const side of SIDES) {
      mkdirSync(envs[side].LAMIN_HOME as string, { recursive: true });
      const init = await run(side, [
        "init",
        "--storage",
        "./data",
        "--name",
        "twin",
        ...(opts.init ?? []),
        "--json",
      ]);
      expect(init.code, init.stderr).toBe(0);
      await opts.prepare?.(side);
    }
    ({ child: server } = await startLamin(["serve", "--port", "0", "--json"], envs.served));
  });

  afterAll(async () => {
    await stopChild(server);
    rmSync(work, { recursive: true, force: true });
  });

  return { dirs, envs, run, write, both, bothJson };
}
