/**
 * CPU profiles of the servers the HTTP benchmarks start: the V8 profiler in the server process
 * (started and stopped around a load run, so the profile holds exactly that run), and a summary
 * of where its busy samples went.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { fmtMs, REPO } from "./common.js";

/**
 * In a server: each `toggle()` starts the profiler, or stops it and writes
 * `<prefix>-<n>.cpuprofile`, returning `{ profiling: true }` or `{ profile: path }`.
 */
export async function cpuProfiler(prefix: string) {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 250 });
  let running = false;
  let written = 0;
  return {
    async toggle(): Promise<{ profiling: true } | { profile: string }> {
      if (!running) {
        running = true;
        await session.post("Profiler.start");
        return { profiling: true };
      }
      running = false;
      const { profile } = await session.post("Profiler.stop");
      const path = `${prefix}-${++written}.cpuprofile`;
      writeFileSync(path, JSON.stringify(profile));
      return { profile: path };
    },
  };
}

/** Where a `.cpuprofile` spent its busy samples: self time by package or folder, and by function. */
export function summarizeProfile(path: string) {
  const profile = JSON.parse(readFileSync(path, "utf8")) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const owner = (url: string, fn: string): string => {
    if (!url) return fn.startsWith("(") ? fn : "(native: V8 builtins, I/O)";
    if (url.startsWith("node:")) return "node internals";
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (pkg) return pkg[1] as string;
    const parts = url.replace(`file://${REPO}`, "").split("/");
    return parts.length > 2 ? `${parts.slice(0, 2).join("/")}/` : parts.join("/");
  };
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === "(idle)") {
      idle += us;
      continue;
    }
    busy += us;
    const o = owner(frame.url, frame.functionName);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    const file = frame.url.split("/").at(-1);
    const f = `${frame.functionName || "(anonymous)"} (${frame.url ? `${o} ${file}:${frame.lineNumber + 1}` : o})`;
    byFunction.set(f, (byFunction.get(f) ?? 0) + us);
  }
  const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
  return { busy, idle, owners: top(byOwner, 12), functions: top(byFunction, 15) };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Print the summary of a profile under `title`. */
export function printProfile(title: string, path: string): void {
  const { busy, idle, owners, functions } = summarizeProfile(path);
  console.log(
    `\n  ${title}: busy ${fmtMs(busy / 1000)}, idle ${fmtMs(idle / 1000)}; self time of the busy part`,
  );
  for (const [o, us] of owners) {
    console.log(
      `    ${o.padEnd(42)} ${fmtMs(us / 1000).padStart(9)} ${pct(us / busy).padStart(5)}`,
    );
  }
  console.log(
    "    hottest functions (samples are wall-clock: writev also holds the time the server waited for a CPU after waking its peer):",
  );
  for (const [f, us] of functions) {
    console.log(`    ${pct(us / busy).padStart(5)}  ${f.slice(0, 100)}`);
  }
}
