/**
 * Whether the process that wrote a record (a lock, a server's registration) still runs. A pid
 * alone is not enough: a killed process's pid is a zombie until its parent reaps it, and pids
 * are reused, so a live pid may be another program. Linux tells both apart through /proc;
 * elsewhere a live pid counts as the writer.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc's times (USER_HZ, 100 on every Linux that Node runs on). */
const TICKS_PER_SECOND = 100;
/** /proc/stat's boot time has whole seconds: a process may seem to start up to 1 s late. */
const START_SLACK_MS = 2000;

/**
 * Whether `pid` runs and is not a zombie; with `since` (when the record was written), also that
 * it started no later, i.e. is not a newer process that got the pid.
 */
export function processAlive(pid: number, since?: Date): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false; // EPERM: another user's
  }
  const proc = linuxProcess(pid);
  if (!proc) return true;
  if (proc.zombie) return false;
  return !(since && proc.startedAt.getTime() > since.getTime() + START_SLACK_MS);
}

function linuxProcess(pid: number): { zombie: boolean; startedAt: Date } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // after "pid (comm) ": state is field 3, starttime field 22 (comm may hold spaces and parens)
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    const ticks = Number(fields[19]);
    if (!Number.isFinite(boot) || !Number.isFinite(ticks)) return undefined;
    return {
      zombie: fields[0] === "Z" || fields[0] === "X",
      startedAt: new Date((boot + ticks / TICKS_PER_SECOND) * 1000),
    };
  } catch {
    return undefined; // not Linux, or the process is gone meanwhile
  }
}
