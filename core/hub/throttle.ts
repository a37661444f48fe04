/**
 * Failed-authentication limiter, in memory. Only failures are counted, and only failures are
 * refused: the hub verifies a key before it asks here, so a correct key is never held back by
 * anyone's failures (a guesser sharing its network or its prefix included). Two budgets per
 * fixed window:
 * - per client network (IPv4 /24, IPv6 /64): one source spraying guesses, from whichever of its
 *   network's addresses it sends;
 * - per key prefix, from anywhere: guessing one key's secret from many networks.
 * Past a budget, failures answer "throttled" (429 with retry-after) instead of "invalid".
 * Memory is bounded: expired windows are swept, and past `maxEntries` the oldest are dropped.
 */
import { isIPv4, isIPv6 } from "node:net";

export interface ThrottleOptions {
  windowSeconds?: number;
  /** Failures allowed per key prefix and window, from any network. */
  maxPerPrefix?: number;
  /** Failures allowed per client network (IPv4 /24, IPv6 /64) and window. */
  maxPerAddress?: number;
  /** Upper bound on tracked prefixes + networks together. */
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

/**
 * The network an address belongs to, as the throttle counts it: an IPv4 /24 or an IPv6 /64
 * (one host or one customer usually holds a whole one). Anything else is its own network.
 */
export function networkOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const v4 = mapped ?? address;
  if (isIPv4(v4)) return `${v4.split(".").slice(0, 3).join(".")}.0/24`;
  if (isIPv6(address)) return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
  return address;
}

/** The eight groups of an IPv6 address, without leading zeros (`::` expanded). */
function expandIPv6(address: string): string[] {
  const [head = "", tail] = address.toLowerCase().split("%")[0]?.split("::") ?? [];
  const left = head ? head.split(":") : [];
  const right = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...fill, ...right].map((g) => (Number.parseInt(g, 16) || 0).toString(16));
}

export class AuthThrottle {
  private readonly windowMs: number;
  private readonly maxPerPrefix: number;
  private readonly maxPerNetwork: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  // Map keeps insertion order: the first entries are the oldest windows.
  private readonly windows = new Map<string, Window>();

  constructor(opts: ThrottleOptions = {}) {
    this.windowMs = (opts.windowSeconds ?? 60) * 1000;
    this.maxPerPrefix = opts.maxPerPrefix ?? 10;
    this.maxPerNetwork = opts.maxPerAddress ?? 30;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  /** Whether a further failure from `address` (with `prefix`) would still be within budget. */
  check(prefix: string | undefined, address: string | undefined): ThrottleVerdict {
    return this.verdict(prefix, address, 0);
  }

  /** Count one failed attempt; the verdict says whether it was over a budget. */
  fail(prefix: string | undefined, address: string | undefined): ThrottleVerdict {
    const t = this.now();
    if (prefix !== undefined) this.count(`p:${prefix}`, t);
    if (address !== undefined) this.count(`n:${networkOf(address)}`, t);
    return this.verdict(prefix, address, 1);
  }

  get size(): number {
    return this.windows.size;
  }

  /** Over budget when more than `max - 1 + counted` failures are in the window. */
  private verdict(
    prefix: string | undefined,
    address: string | undefined,
    counted: number,
  ): ThrottleVerdict {
    const t = this.now();
    let wait = 0;
    if (prefix !== undefined) {
      wait = Math.max(wait, this.waitFor(`p:${prefix}`, this.maxPerPrefix + counted, t));
    }
    if (address !== undefined) {
      const id = `n:${networkOf(address)}`;
      wait = Math.max(wait, this.waitFor(id, this.maxPerNetwork + counted, t));
    }
    return { allowed: wait === 0, retryAfterSeconds: Math.ceil(wait / 1000) };
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
