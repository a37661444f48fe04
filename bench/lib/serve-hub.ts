/**
 * The hub server for bench/hub.ts, in a process of its own (so that the load generator does not
 * share its event loop), built as `lamin hub serve` builds it: openHub on a Postgres URL,
 * createHubApp, listenOn. Run with `node --import tsx bench/lib/serve-hub.ts <hub database url>`.
 *
 * The hub's own settings apply (LAMIN_HUB_MAX_CONNECTIONS, LAMIN_HUB_INSTANCE_CONNECTIONS). Listens on
 * 127.0.0.1, port 0, and prints one JSON line `{"port": N}` once it listens, then, on each
 * SIGUSR2, `{"open": <instances in the pool>, "opened": <connections opened so far>, "rss",
 * "heapUsed" (bytes), "gcMs", "gcMaxMs", "gcMajor", "insideP99", "loopDelayMax", ...}` (the budget's
 * stats, the process's memory, and since the last signal: its garbage collection, total, longest
 * pause and how many were major;
 * the time requests spent inside it, arrival to response, p50/p99/max; its event loop's delay). SIGTERM closes it. With BENCH_CPU_PROFILE=<prefix>, the first SIGUSR2 also
 * starts the V8 CPU profiler, the next stops it and adds `"profile": <path>` to its line, and so
 * on: each profile covers exactly the requests between two signals (bench/lib/profile.ts).
 */
import { constants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { listenOn } from "../../cli/commands/serve.js";
import { serverBudget } from "../../core/db/postgres.js";
import { openHub } from "../../core/hub/open.js";
import { createHubApp } from "../../functions/hub/app.js";
import { quantile } from "./common.js";
import { cpuProfiler } from "./profile.js";

const url = process.argv[2];
if (!url) {
  console.error("usage: serve-hub.ts <hub database url>");
  process.exit(2);
}
const opened = await openHub(url);
const app = createHubApp({ hub: opened.hub });
/** How long each request took inside this process, from its arrival to its response, ms. */
let inside: number[] = [];
const timed = async (request: Request) => {
  const t0 = performance.now();
  try {
    return await app.fetch(request);
  } finally {
    inside.push(performance.now() - t0);
  }
};
const { url: served, server } = await listenOn(timed, { port: 0, host: "127.0.0.1" });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(served).port) })}\n`);
const budget = await serverBudget(url);
/** Garbage collection since the last signal: its total and its longest pause, ms. */
let gc = { ms: 0, maxMs: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.ms += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
  }
}).observe({ entryTypes: ["gc"] });
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const quantileOf = (xs: number[], q: number) => (xs.length ? quantile(xs, q) : 0);
const profilePrefix = process.env.BENCH_CPU_PROFILE;
const profiler = profilePrefix ? await cpuProfiler(profilePrefix) : undefined;
process.on("SIGUSR2", async () => {
  // the figures first: they describe the run that ends here, not the profiler's own work
  const { rss, heapUsed } = process.memoryUsage();
  const stats = {
    open: app.pool.size,
    rss,
    heapUsed,
    gcMs: gc.ms,
    gcMaxMs: gc.maxMs,
    insideP50: quantileOf(inside, 0.5),
    insideP99: quantileOf(inside, 0.99),
    insideMax: quantileOf(inside, 1),
    loopDelayP99: loopDelay.percentile(99) / 1e6,
    loopDelayMax: loopDelay.max / 1e6,
    gcMajor: gc.major,
    ...budget.stats(),
  };
  gc = { ms: 0, maxMs: 0, major: 0 };
  inside = [];
  loopDelay.reset();
  const profiled = profiler ? await profiler.toggle() : {};
  process.stdout.write(`${JSON.stringify({ ...stats, ...profiled })}\n`);
});
const stop = () => {
  server.close();
  app
    .close()
    .then(() => opened.close())
    .finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
