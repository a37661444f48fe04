/**
 * Helpers shared by the benchmarks (this folder is not a benchmark itself: `scripts/bench.mjs`
 * runs only `bench/*.ts`).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const LAMIN_BIN = join(REPO, "bin", "lamin.js");
/** Bring dist/ up to date: scripts/build.mjs rebuilds only when the sources changed. */
export function ensureBuilt(): void {
  const r = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: REPO, stdio: "inherit" });
  if (r.status !== 0) throw new Error("`node scripts/build.mjs` failed");
}

/** The environment for a `lamin` subprocess with its own settings folder. */
export function laminEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LAMIN_HOME: home,
    LAMIN_CACHE_DIR: join(home, "cache"),
    NO_COLOR: "1",
  };
  delete env.LAMIN_INSTANCE;
  delete env.LAMIN_PROGRESS;
  return env;
}

export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

/** A row of a text table: first cell left-aligned, the others right-aligned. */
/** Counts of what went wrong, e.g. "3 × HTTP 503, 1 × socket hang up" ("" when nothing did). */
export class Tally {
  private readonly counts = new Map<string, number>();
  add(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }
  get size(): number {
    return this.counts.size;
  }
  text(): string {
    return [...this.counts].map(([what, n]) => `${n.toLocaleString("en-US")} × ${what}`).join(", ");
  }
}

export function row(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
    .join("  ")
    .trimEnd();
}

export const fmtMs = (ms: number) =>
  `${ms >= 100 ? Math.round(ms).toLocaleString("en-US") : ms.toFixed(1)} ms`;
export const fmtRate = (n: number, ms: number) =>
  Math.round((n / ms) * 1000).toLocaleString("en-US");
