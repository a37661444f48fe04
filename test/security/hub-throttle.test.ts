/**
 * Lockout by guessing: failed attempts are throttled, a correct key never is. Three attacks:
 * wrong secrets sent with someone's key prefix (from many networks), a flood of failures from
 * the victim's own address, and failures sprayed from rotating addresses of one network (real
 * sockets bound to 127.0.0.x, against a running server).
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOn } from "../../cli/commands/serve.js";
import { parseApiKey } from "../../core/hub/keys.js";
import { AuthThrottle, networkOf } from "../../core/hub/throttle.js";
import { randomBase62 } from "../../core/uid.js";
import { createHubApp } from "../../functions/hub/app.js";
import { useTempHome } from "../helpers.js";
import { type HubFixture, hubFixture } from "./hub-fixture.js";

useTempHome();

/** A well-formed key with `prefix` and a random (wrong) secret. */
const guess = (prefix = randomBase62(8)) => `lnk_${prefix}_${randomBase62(32)}`;

describe("networks of client addresses", () => {
  it("IPv4 by /24, IPv6 by /64, IPv4-mapped IPv6 as IPv4", () => {
    expect(networkOf("127.0.0.1")).toBe(networkOf("127.0.0.254"));
    expect(networkOf("127.0.0.1")).not.toBe(networkOf("127.0.1.1"));
    expect(networkOf("::ffff:127.0.0.9")).toBe(networkOf("127.0.0.1"));
    expect(networkOf("2001:db8:0:1::1")).toBe(networkOf("2001:db8:0:1:ffff:1:2:3"));
    expect(networkOf("2001:db8:0:1::1")).toBe(networkOf("2001:0db8:0000:0001::9"));
    expect(networkOf("2001:db8:0:2::1")).not.toBe(networkOf("2001:db8:0:1::1"));
    expect(networkOf("unknown")).toBe("unknown");
  });
});

describe.skipIf(!process.env.DATABASE_URL)("hub: lockout by guessing", () => {
  let fx: HubFixture;

  beforeAll(async () => {
    // the hub's real throttle, with its default budgets
    fx = await hubFixture({ throttle: new AuthThrottle() });
  }, 120_000);

  afterAll(async () => {
    await fx?.close();
  });

  /** A hub app behind one proxy: the client's address is the last `x-forwarded-for` entry. */
  const behindProxy = () => {
    const app = createHubApp({ hub: fx.hub, trustedProxies: 1 });
    const call = async (key: string, address: string) => {
      const res = await app.request("/account", {
        headers: { authorization: `Bearer ${key}`, "x-forwarded-for": address },
      });
      return { status: res.status, retryAfter: res.headers.get("retry-after") };
    };
    return { app, call };
  };

  it("wrong secrets with someone's key prefix, from any network, never lock the real key out", async () => {
    const { app, call } = behindProxy();
    const prefix = parseApiKey(fx.keys.read)?.prefix as string;
    const statuses: number[] = [];
    for (let i = 1; i <= 25; i++)
      statuses.push((await call(guess(prefix), `198.51.${i}.7`)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    // the guesser is slowed down: its failures now answer 429 with retry-after
    const slowed = await call(guess(prefix), "198.51.200.7");
    expect(slowed.status).toBe(429);
    expect(Number(slowed.retryAfter)).toBeGreaterThan(0);
    // the key's holder is not: from elsewhere, and from the guesser's own network
    expect((await call(fx.keys.read, "192.0.2.44")).status).toBe(200);
    expect((await call(fx.keys.read, "198.51.3.7")).status).toBe(200);
    // and its success gives the guesser nothing: the next guess is still refused
    expect((await call(guess(prefix), "198.51.201.7")).status).toBe(429);
    await app.close();
  });

  it("a flood of failures from the victim's address does not refuse a valid key from it", async () => {
    const { app, call } = behindProxy();
    const shared = "203.0.113.9"; // one NAT: the attacker and the victim behind it
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await call(guess(), shared)).status);
    expect(statuses[0]).toBe(401);
    expect(statuses.at(-1)).toBe(429);
    for (const who of ["owner", "write", "read"] as const) {
      expect((await call(fx.keys[who], shared)).status, who).toBe(200);
    }
    // an unparseable key counts as a failure of the network too, and is slowed alike
    expect((await call("not-a-key", shared)).status).toBe(429);
    expect((await call(fx.keys.owner, shared)).status).toBe(200);
    await app.close();
  });

  it("rotating addresses within one IPv6 /64 does not evade the budget of its network", async () => {
    const { app, call } = behindProxy();
    const statuses: number[] = [];
    for (let i = 1; i <= 40; i++) {
      statuses.push((await call(guess(), `2001:db8:0:7::${i.toString(16)}`)).status);
    }
    expect(statuses.at(-1)).toBe(429);
    // another /64 is not held back, nor a valid key from the throttled one
    expect((await call(guess(), "2001:db8:0:8::1")).status).toBe(401);
    expect((await call(fx.keys.admin, "2001:db8:0:7::99")).status).toBe(200);
    await app.close();
  });

  it("on a running server, failures from rotating 127.0.0.x addresses are throttled; valid keys pass", async () => {
    const app = createHubApp({ hub: fx.hub });
    const { url, server } = await listenOn(app.fetch, { port: 0, host: "127.0.0.1" });
    const port = Number(new URL(url).port);
    /** GET /account from the socket address `from` (any 127.x.y.z is this machine). */
    const from = (key: string, address: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: "127.0.0.1",
            port,
            path: "/account",
            localAddress: address,
            headers: { authorization: `Bearer ${key}` },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end();
      });
    try {
      const statuses: number[] = [];
      for (let i = 2; i < 42; i++) statuses.push(await from(guess(), `127.0.0.${i}`));
      expect(statuses[0]).toBe(401);
      expect(statuses.at(-1)).toBe(429);
      expect(statuses.filter((s) => s === 401)).toHaveLength(30);
      expect(await from(fx.keys.write, "127.0.0.200")).toBe(200);
      // one key guessed from many networks (127.0.i.1): the key's own budget slows the guesser
      const prefix = parseApiKey(fx.keys.admin)?.prefix as string;
      const guessed: number[] = [];
      for (let i = 1; i <= 12; i++) guessed.push(await from(guess(prefix), `127.0.${i}.1`));
      expect(guessed.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(guessed.at(-1)).toBe(429);
      expect(await from(fx.keys.admin, "127.0.5.1")).toBe(200);
    } finally {
      server.close();
      await app.close();
    }
  });
});
