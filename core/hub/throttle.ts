/**
 * Failed-authentication limiter, in memory: a fixed window per key prefix and per client address.
 * Per prefix stops guessing one key's secret; per address stops one client spraying prefixes.
 * Memory is bounded: expired windows are swept, and past `maxEntries` the oldest are dropped.
 */
export interface ThrottleOptions {
  windowSeconds?: number;
  maxPerPrefix?: number;
  maxPerAddress?: number;
  /** Upper bound on tracked prefixes + addresses together. */
  maxEntries?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

export interface ThrottleVerdict {
  allowed: boolean;
  retryAfterSeconds: number;
}

interface Window {
  start: number;
  failures: number;
}

export class AuthThrottle {
  private readonly windowMs: number;
  private readonly maxPerPrefix: number;
  private readonly maxPerAddress: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  // Map keeps insertion order: the first entries are the oldest windows.
  private readonly windows = new Map<string, Window>();

  constructor(opts: ThrottleOptions = {}) {
    this.windowMs = (opts.windowSeconds ?? 60) * 1000;
    this.maxPerPrefix = opts.maxPerPrefix ?? 10;
    this.maxPerAddress = opts.maxPerAddress ?? 30;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  /** Whether an attempt may proceed; a refused one should not be counted again. */
  check(prefix: string | undefined, address: string | undefined): ThrottleVerdict {
    const t = this.now();
    let wait = 0;
    if (prefix !== undefined) {
      wait = Math.max(wait, this.waitFor(`p:${prefix}`, this.maxPerPrefix, t));
    }
    if (address !== undefined) {
      wait = Math.max(wait, this.waitFor(`a:${address}`, this.maxPerAddress, t));
    }
    return { allowed: wait === 0, retryAfterSeconds: Math.ceil(wait / 1000) };
  }

  fail(prefix: string | undefined, address: string | undefined): void {
    const t = this.now();
    if (prefix !== undefined) this.count(`p:${prefix}`, t);
    if (address !== undefined) this.count(`a:${address}`, t);
  }

  /** A correct key clears its prefix's failures; the address keeps its count (it may spray). */
  succeed(prefix: string): void {
    this.windows.delete(`p:${prefix}`);
  }

  get size(): number {
    return this.windows.size;
  }

  private waitFor(id: string, max: number, t: number): number {
    const w = this.windows.get(id);
    if (!w || t - w.start >= this.windowMs) return 0;
    return w.failures >= max ? w.start + this.windowMs - t : 0;
  }

  private count(id: string, t: number): void {
    const w = this.windows.get(id);
    if (w && t - w.start < this.windowMs) {
      w.failures++;
      return;
    }
    // a new window goes to the end, keeping the map ordered by start time
    this.windows.delete(id);
    this.windows.set(id, { start: t, failures: 1 });
    if (this.windows.size > this.maxEntries) this.evict(t);
  }

  private evict(t: number): void {
    for (const [id, w] of this.windows) {
      if (this.windows.size <= this.maxEntries && t - w.start < this.windowMs) break;
      // expired windows first (they lead the map); then the oldest live ones, to stay bounded
      this.windows.delete(id);
    }
  }
}
