/**
 * What the HTTP benchmarks share: servers from bench/lib/ started in child processes (they print
 * JSON lines, the first with their `port`), and one-request-at-a-time timing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Agent, get as httpGet } from "node:http";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { REPO, Tally } from "./common.js";

/** A request of a sequential run: its path and headers. */
export interface Req {
  path: string;
  headers?: Record<string, string>;
}

export interface Server {
  url: string;
  pid: number;
  message(key: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Start a bench/lib server script in a child process and wait for its port. */
export async function startServer(script: string, args: string[], extra: NodeJS.ProcessEnv) {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO, "bench", "lib", script), ...args],
    { cwd: REPO, env: { ...process.env, ...extra }, stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const waiting: { key: string; resolve: (m: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    const i = waiting.findIndex((w) => w.key in message);
    if (i >= 0) waiting.splice(i, 1)[0]?.resolve(message);
  });
  const message = (key: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script}: no '${key}'`)), 60_000);
      waiting.push({
        key,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      exited.then((code) => reject(new Error(`${script} exited (${code})`)));
    });
  const { port } = await message("port");
  const server: Server = {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    message,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
  return server;
}

/** One GET over `agent`: undefined when it answered 200, else what went wrong. */
function getOnce(agent: Agent, url: string, { path, headers }: Req): Promise<string | undefined> {
  return new Promise<string | undefined>((resolve) => {
    httpGet(`${url}${path}`, { agent, headers: headers ?? {} }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
    }).once("error", (e) => resolve(e.message));
  });
}

/**
 * One HTTP GET at a time over a kept-alive connection; per-request ms. A request that fails or
 * answers other than 200 throws, or, with `onFailure`, is reported there and left out.
 */
export async function sequentialHttp(
  url: string,
  next: () => Req,
  n: number,
  onFailure?: (what: string) => void,
): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const req = next();
      const t0 = performance.now();
      const failed = await getOnce(agent, url, req);
      if (failed === undefined) times.push(performance.now() - t0);
      else if (onFailure) onFailure(failed);
      else throw new Error(`${req.path}: ${failed}`);
    }
  } finally {
    agent.destroy();
  }
  return times;
}

/** A request of a paced run: to `url` (else the run's), counted under `tag` (else ""). */
export type PacedReq = Req & { url?: string; tag?: string };

/**
 * An open-loop run, as clients that do not wait for each other: `rate` GETs a second for
 * `seconds`, each sent at its scheduled time (evenly spaced) over at most `connections`
 * kept-alive connections per server; a request that finds them all busy waits for one. Latency
 * counts from the scheduled time, so a server that falls behind shows it rather than being asked
 * less (no coordinated omission). Times and failures come by tag; failures are left out of times.
 * `stallMs`: the longest this process's event loop was blocked meanwhile (its own stalls delay
 * sends and read as latency: requests to two servers interleaved in one run share them).
 */
export async function pacedHttp(
  url: string,
  next: () => PacedReq,
  opts: { rate: number; seconds: number; connections: number },
): Promise<{ times: Map<string, number[]>; failures: Map<string, Tally>; stallMs: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
  const times = new Map<string, number[]>();
  const failures = new Map<string, Tally>();
  const inFlight: Promise<void>[] = [];
  const total = Math.round(opts.rate * opts.seconds);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const start = performance.now();
  try {
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / opts.rate;
      const wait = due - performance.now();
      if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
      const req = next();
      const tag = req.tag ?? "";
      inFlight.push(
        getOnce(agent, req.url ?? url, req).then((failed) => {
          if (failed === undefined) {
            const mine = times.get(tag) ?? [];
            mine.push(performance.now() - due);
            times.set(tag, mine);
          } else {
            const mine = failures.get(tag) ?? new Tally();
            mine.add(failed);
            failures.set(tag, mine);
          }
        }),
      );
    }
    await Promise.all(inFlight);
  } finally {
    loop.disable();
    agent.destroy();
  }
  return { times, failures, stallMs: loop.max / 1e6 };
}

export async function sequential(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}
