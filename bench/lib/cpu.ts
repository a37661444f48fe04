/** CPU time of processes on this machine, from /proc: what a request costs a server. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const TICK_MS =
  1000 / (Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100);

/** User + system CPU of a process in ms (from /proc), undefined when it is gone or unreadable. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
  } catch {
    return undefined;
  }
}

/** CPU used by `pids` since `before` (only processes alive at both ends count). */
export function cpuSince(before: Map<number, number | undefined>): number | undefined {
  let total: number | undefined;
  for (const [pid, t0] of before) {
    const t1 = cpuMs(pid);
    if (t0 !== undefined && t1 !== undefined) total = (total ?? 0) + t1 - t0;
  }
  return total;
}

export const snapshot = (pids: readonly number[]) => new Map(pids.map((pid) => [pid, cpuMs(pid)]));
