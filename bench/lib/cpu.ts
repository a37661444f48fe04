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

/** The machine's CPU ticks from /proc/stat: busy (all but idle and iowait) and in all. */
function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Start watching the whole machine; the function returned gives the share of CPU busy since. */
export function machineBusy(): () => number {
  const before = machineTicks();
  return () => {
    const now = machineTicks();
    return (now.busy - before.busy) / Math.max(1, now.total - before.total);
  };
}
