/**
 * The hub's core on each database: handles, accounts and orgs, API keys (shown once, stored
 * hashed, revoked, expired, tampered), throttled failures, instances, collaborators and roleOn.
 */
import { rmSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { hubMigrations, migrate, migrationStatus } from "../core/db/migrate.js";
import { dropDatabase } from "../core/db/postgres.js";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors.js";
import { allows, Hub, type InstanceRole } from "../core/hub/hub.js";
import { newApiKey, parseApiKey, sha256Hex } from "../core/hub/keys.js";
import { validateHandle } from "../core/hub/names.js";
import { openHub } from "../core/hub/open.js";
import { AuthThrottle } from "../core/hub/throttle.js";
import { BASE62_ALPHABET, instanceIdFromSlug } from "../core/uid.js";
import { BACKENDS, postgresUrl, tempDir } from "./helpers.js";

/** `s` with the character at `i` swapped for another base62 character. */
function changeAt(s: string, i: number): string {
  const c = s[i] as string;
  const other = BASE62_ALPHABET[(BASE62_ALPHABET.indexOf(c) + 1) % 62] as string;
  return s.slice(0, i) + other + s.slice(i + 1);
}

class FakeClock {
  t = Date.UTC(2030, 0, 1);
  readonly now = () => this.t;
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

describe("handles and keys (no database)", () => {
  it("accepts good handles and refuses bad ones", () => {
    for (const ok of ["ab", "alice", "lab-7", "0x", "a".repeat(30), "a-b-c"]) {
      expect(validateHandle(ok)).toBe(ok);
    }
    const bad = [
      "",
      "a",
      "a".repeat(31),
      "Alice",
      "-alice",
      "alice-",
      "al_ice",
      "al.ice",
      "al ice",
      "al/ice",
      "../x",
      "ali\u00e7e",
      "admin",
      "api",
      "instances",
    ];
    for (const handle of bad) expect(() => validateHandle(handle), handle).toThrow(ValidationError);
  });

  it("makes keys of the documented shape and parses only those", () => {
    const { key, prefix, secretSha256 } = newApiKey();
    expect(key).toMatch(/^lnk_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$/);
    const parsed = parseApiKey(key);
    expect(parsed?.prefix).toBe(prefix);
    expect(sha256Hex(parsed?.secret ?? "")).toBe(secretSha256);
    for (const bad of [
      "",
      "lnk_",
      `${key}x`,
      key.slice(1),
      key.replace("lnk_", "lnt_"),
      ` ${key}`,
    ]) {
      expect(parseApiKey(bad), bad).toBeUndefined();
    }
    expect(newApiKey().key).not.toBe(key);
  });

  it("throttle windows expire and memory stays bounded", () => {
    const clock = new FakeClock();
    const throttle = new AuthThrottle({ now: clock.now, maxEntries: 100 });
    for (let i = 0; i < 10; i++) throttle.fail("p1", `10.0.0.${i}`);
    const verdict = throttle.check("p1", "10.9.9.9");
    expect(verdict.allowed).toBe(false);
    expect(verdict.retryAfterSeconds).toBe(60);
    clock.advance(45);
    expect(throttle.check("p1", undefined).retryAfterSeconds).toBe(15);
    clock.advance(15);
    expect(throttle.check("p1", undefined).allowed).toBe(true);
    for (let i = 0; i < 1000; i++) throttle.fail(`k${i}`, undefined);
    expect(throttle.size).toBeLessThanOrEqual(100);
  });
});

describe.each(BACKENDS)("hub on %s", (backend) => {
  let hub: Hub;
  let close: () => Promise<void>;
  let cleanup: () => Promise<void>;
  const dir = tempDir("lamin-hub-");

  beforeAll(async () => {
    const url = backend === "postgres" ? postgresUrl() : undefined;
    const opened = await openHub(url ?? { pgliteDir: `${dir}/hub` });
    hub = opened.hub;
    close = opened.close;
    cleanup = async () => {
      if (url) await dropDatabase(url).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    };
  });

  afterAll(async () => {
    await close?.();
    await cleanup?.();
  });

  /** A hub over the same database with its own clock and throttle. */
  const clocked = (clock: FakeClock) => new Hub(hub.db, { now: clock.now });

  it("migrations are recorded and re-running them is a no-op", async () => {
    const [status] = await migrationStatus(hub.db, [hubMigrations()]);
    expect(status?.pending).toEqual([]);
    expect(status?.applied).toEqual(["0000_initial", "0001_space_collaborators"]);
    expect(await migrate(hub.db, [hubMigrations()])).toEqual({ lamin_hub: [] });
  });

  it("creates accounts and refuses bad or duplicate handles", async () => {
    const ana = await hub.createAccount("acc-ana", { name: "Ana" });
    expect(ana).toMatchObject({ handle: "acc-ana", kind: "user", name: "Ana" });
    expect(ana.uid).toMatch(/^[0-9A-Za-z]{8}$/);
    expect((await hub.account("acc-ana")).id).toBe(ana.id);
    await expect(hub.createAccount("acc-ana")).rejects.toThrow(ConflictError);
    await expect(hub.createAccount("acc-ana", { kind: "org" })).rejects.toThrow(ConflictError);
    await expect(hub.createAccount("Acc-Ana")).rejects.toThrow(ValidationError);
    await expect(hub.createAccount("x")).rejects.toThrow(ValidationError);
    await expect(hub.createAccount("acc-bad-")).rejects.toThrow(ValidationError);
    await expect(hub.createAccount("root")).rejects.toThrow(ValidationError);
    await expect(
      hub.createAccount("acc-kind", { kind: "team" as unknown as "org" }),
    ).rejects.toThrow(ValidationError);
    await expect(hub.account("acc-nobody")).rejects.toThrow(NotFoundError);
  });

  it("shows a key once, stores only its hash, lists, revokes one and all", async () => {
    await hub.createAccount("key-kim");
    const first = await hub.createKey("key-kim", { name: "laptop" });
    const second = await hub.createKey("key-kim");
    expect(first.key).toMatch(/^lnk_/);
    expect(first).toMatchObject({ name: "laptop", expires_at: null });

    const stored = await queryRows<Record<string, unknown>>(hub.db, sql`SELECT * FROM hub_api_key`);
    const dump = JSON.stringify(stored);
    for (const k of [first, second]) {
      const secret = parseApiKey(k.key)?.secret as string;
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(k.key);
      const row = stored.find((r) => r.prefix === k.prefix);
      expect(row?.secret_sha256).toBe(sha256Hex(secret));
    }

    const listed = await hub.listKeys("key-kim");
    expect(listed.map((k) => k.prefix)).toEqual([first.prefix, second.prefix]);
    expect(JSON.stringify(listed)).not.toMatch(/secret|sha256|lnk_/);

    expect("account" in (await hub.authenticate(first.key, "10.1.0.1"))).toBe(true);
    const revoked = await hub.revokeKey("key-kim", first.prefix);
    expect(revoked.revoked_at).toBeInstanceOf(Date);
    expect(await hub.authenticate(first.key, "10.1.0.1")).toEqual({ error: "invalid" });
    // revoking again keeps the first time; another account cannot revoke kim's key
    expect((await hub.revokeKey("key-kim", String(first.id))).revoked_at).toEqual(
      revoked.revoked_at,
    );
    await hub.createAccount("key-lou");
    await expect(hub.revokeKey("key-lou", second.prefix)).rejects.toThrow(NotFoundError);
    expect("account" in (await hub.authenticate(second.key, "10.1.0.1"))).toBe(true);

    await hub.createKey("key-kim");
    expect(await hub.revokeAllKeys("key-kim")).toBe(2);
    expect(await hub.authenticate(second.key, "10.1.0.1")).toEqual({ error: "invalid" });
    expect((await hub.listKeys("key-kim")).every((k) => k.revoked_at !== null)).toBe(true);
  });

  it("refuses expired keys at once and records last use at most once a minute", async () => {
    const clock = new FakeClock();
    const h = clocked(clock);
    await h.createAccount("exp-eva");
    await expect(h.createKey("exp-eva", { expiresAt: new Date(clock.t - 1000) })).rejects.toThrow(
      ValidationError,
    );
    const { key, prefix } = await h.createKey("exp-eva", {
      expiresAt: new Date(clock.t + 3600_000),
    });
    const lastUsed = async () =>
      (await h.listKeys("exp-eva")).find((k) => k.prefix === prefix)?.last_used_at?.getTime();

    const ok = await h.authenticate(key, "10.2.0.1");
    expect("account" in ok && ok.account.handle).toBe("exp-eva");
    expect(await lastUsed()).toBe(clock.t);
    const firstUse = clock.t;
    clock.advance(30);
    await h.authenticate(key, "10.2.0.1");
    expect(await lastUsed()).toBe(firstUse);
    clock.advance(31);
    await h.authenticate(key, "10.2.0.1");
    expect(await lastUsed()).toBe(clock.t);

    clock.t = firstUse + 3600_000;
    expect(await h.authenticate(key, "10.2.0.1")).toEqual({ error: "invalid" });
  });

  it("refuses keys with one character changed, in the secret or in the prefix", async () => {
    const h = clocked(new FakeClock());
    await h.createAccount("tam-tom");
    const { key } = await h.createKey("tam-tom");
    const secretAt = key.length - 5;
    const prefixAt = "lnk_".length + 2;
    expect(await h.authenticate(changeAt(key, secretAt), "10.3.0.1")).toEqual({ error: "invalid" });
    expect(await h.authenticate(changeAt(key, prefixAt), "10.3.0.1")).toEqual({ error: "invalid" });
    expect(await h.authenticate(key.toUpperCase(), "10.3.0.1")).toEqual({ error: "invalid" });
    expect(await h.authenticate("", "10.3.0.1")).toEqual({ error: "invalid" });
    expect("account" in (await h.authenticate(key, "10.3.0.1"))).toBe(true);
  });

  it("throttles failures per key prefix until the window passes; the right key always passes", async () => {
    const clock = new FakeClock();
    const h = clocked(clock);
    await h.createAccount("thr-pia");
    const { key } = await h.createKey("thr-pia");
    const wrong = changeAt(key, key.length - 1);
    // different networks: only the prefix limit applies
    for (let i = 0; i < 10; i++) {
      expect(await h.authenticate(wrong, `10.4.${i}.1`)).toEqual({ error: "invalid" });
    }
    const refused = await h.authenticate(wrong, "10.4.99.1");
    expect(refused).toMatchObject({ error: "throttled" });
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
    // the guesses never hold the key's holder back
    expect("account" in (await h.authenticate(key, "10.4.1.1"))).toBe(true);
    clock.advance(60);
    expect(await h.authenticate(wrong, "10.4.99.1")).toEqual({ error: "invalid" });
  });

  it("throttles failures per client network, across prefixes; valid keys pass", async () => {
    const clock = new FakeClock();
    const h = clocked(clock);
    await h.createAccount("thr-quin");
    const { key } = await h.createKey("thr-quin");
    // 30 made-up keys (distinct prefixes) from addresses of one /24
    for (let i = 0; i < 30; i++) {
      expect(await h.authenticate(newApiKey().key, `10.5.0.${i}`)).toEqual({ error: "invalid" });
    }
    expect(await h.authenticate(newApiKey().key, "10.5.0.200")).toMatchObject({
      error: "throttled",
    });
    expect(await h.authenticate("garbage", "10.5.0.1")).toMatchObject({ error: "throttled" });
    expect(await h.authenticate(newApiKey().key, "10.5.1.1")).toEqual({ error: "invalid" });
    expect("account" in (await h.authenticate(key, "10.5.0.1"))).toBe(true);
    clock.advance(61);
    expect(await h.authenticate("garbage", "10.5.0.1")).toEqual({ error: "invalid" });
  });

  it("manages org members and their roles", async () => {
    await hub.createAccount("org-lab", { kind: "org", name: "The Lab" });
    await hub.createAccount("org-max");
    await hub.createAccount("org-ned");
    await hub.addMember("org-lab", "org-max", "admin");
    await hub.addMember("org-lab", "org-ned", "member");
    expect(await hub.members("org-lab")).toEqual([
      { handle: "org-max", role: "admin" },
      { handle: "org-ned", role: "member" },
    ]);
    await hub.addMember("org-lab", "org-ned", "admin");
    expect((await hub.members("org-lab"))[1]).toEqual({ handle: "org-ned", role: "admin" });
    await hub.removeMember("org-lab", "org-ned");
    expect(await hub.members("org-lab")).toEqual([{ handle: "org-max", role: "admin" }]);
    await expect(hub.removeMember("org-lab", "org-ned")).rejects.toThrow(NotFoundError);
    await expect(hub.addMember("org-max", "org-ned")).rejects.toThrow(ValidationError);
    await expect(hub.addMember("org-lab", "org-lab")).rejects.toThrow(ValidationError);
    await expect(
      hub.addMember("org-lab", "org-ned", "owner" as unknown as "admin"),
    ).rejects.toThrow(ValidationError);
  });

  it("records instances, refuses duplicates and bad names, never exposes db_url", async () => {
    await hub.createAccount("ins-ida");
    const dbUrl = "postgresql://secret-user:s3cr3t-pw@db.example:5432/ida_one";
    const made = await hub.recordInstance({
      owner: "ins-ida",
      name: "one",
      storageRoot: "s3://bucket/ida",
      storageEndpoint: "http://127.0.0.1:9000",
      dbUrl,
    });
    expect(made).toMatchObject({ id: instanceIdFromSlug("ins-ida/one"), owner: "ins-ida" });
    expect(made).not.toHaveProperty("db_url");
    await expect(
      hub.recordInstance({ owner: "ins-ida", name: "one", storageRoot: "./x", dbUrl }),
    ).rejects.toThrow(ConflictError);
    for (const name of ["One", "a/b", "", "x".repeat(31), "-x"]) {
      await expect(
        hub.recordInstance({ owner: "ins-ida", name, storageRoot: "./x", dbUrl }),
        name,
      ).rejects.toThrow(ValidationError);
    }
    await expect(
      hub.recordInstance({ owner: "ins-nobody", name: "one", storageRoot: "./x", dbUrl }),
    ).rejects.toThrow(NotFoundError);
    // the same name under another owner is another instance
    await hub.createAccount("ins-jo");
    await hub.recordInstance({
      owner: "ins-jo",
      name: "one",
      storageRoot: "./jo",
      dbUrl: "pg://jo",
    });

    expect((await hub.instance("ins-ida", "one")).db_url).toBe(dbUrl);
    const listed = await hub.instances("ins-ida");
    expect(listed.map((i) => `${i.owner}/${i.name}`)).toEqual(["ins-ida/one"]);
    expect(JSON.stringify(listed)).not.toMatch(/db_url|dbUrl|s3cr3t|secret-user/);

    await hub.setCollaborator("ins-ida", "one", "ins-jo", "read");
    expect((await hub.instances("ins-jo")).map((i) => `${i.owner}/${i.name}`)).toEqual([
      "ins-ida/one",
      "ins-jo/one",
    ]);
    expect(JSON.stringify(await hub.instances("ins-jo"))).not.toContain("s3cr3t");

    await hub.deleteInstance("ins-ida", "one");
    await expect(hub.instance("ins-ida", "one")).rejects.toThrow(NotFoundError);
    await expect(hub.deleteInstance("ins-ida", "one")).rejects.toThrow(NotFoundError);
    expect(await hub.instances("ins-jo")).toHaveLength(1);
    // the name is free again
    await hub.recordInstance({ owner: "ins-ida", name: "one", storageRoot: "./y", dbUrl });
  });

  it("adds, updates and removes collaborators", async () => {
    await hub.createAccount("col-ola");
    await hub.createAccount("col-pat");
    await hub.createAccount("col-org", { kind: "org" });
    await hub.recordInstance({ owner: "col-ola", name: "data", storageRoot: "./d", dbUrl: "x" });
    await hub.setCollaborator("col-ola", "data", "col-pat", "read");
    expect(await hub.collaborators("col-ola", "data")).toEqual([
      { handle: "col-pat", role: "read" },
    ]);
    await hub.setCollaborator("col-ola", "data", "col-pat", "admin");
    expect(await hub.collaborators("col-ola", "data")).toEqual([
      { handle: "col-pat", role: "admin" },
    ]);
    await expect(
      hub.setCollaborator("col-ola", "data", "col-pat", "owner" as unknown as "admin"),
    ).rejects.toThrow(ValidationError);
    await expect(hub.setCollaborator("col-ola", "data", "col-ola", "read")).rejects.toThrow(
      ValidationError,
    );
    await expect(hub.setCollaborator("col-ola", "data", "col-org", "read")).rejects.toThrow(
      ValidationError,
    );
    await expect(hub.setCollaborator("col-ola", "nope", "col-pat", "read")).rejects.toThrow(
      NotFoundError,
    );
    await hub.removeCollaborator("col-ola", "data", "col-pat");
    expect(await hub.collaborators("col-ola", "data")).toEqual([]);
    await expect(hub.removeCollaborator("col-ola", "data", "col-pat")).rejects.toThrow(
      NotFoundError,
    );
  });

  it("roleOn: owner, org admin, org member, collaborators, stranger", async () => {
    for (const h of [
      "rol-own",
      "rol-adm",
      "rol-wri",
      "rol-rea",
      "rol-boss",
      "rol-mem",
      "rol-str",
    ]) {
      await hub.createAccount(h);
    }
    await hub.createAccount("rol-org", { kind: "org" });
    await hub.addMember("rol-org", "rol-boss", "admin");
    await hub.addMember("rol-org", "rol-mem", "member");
    await hub.recordInstance({ owner: "rol-own", name: "mine", storageRoot: "./m", dbUrl: "x" });
    await hub.recordInstance({ owner: "rol-org", name: "shared", storageRoot: "./s", dbUrl: "y" });
    await hub.setCollaborator("rol-own", "mine", "rol-adm", "admin");
    await hub.setCollaborator("rol-own", "mine", "rol-wri", "write");
    await hub.setCollaborator("rol-own", "mine", "rol-rea", "read");
    // a plain member who is also an admin collaborator gets the stronger role
    await hub.setCollaborator("rol-org", "shared", "rol-mem", "admin");

    const expected: [string, string, InstanceRole | undefined][] = [
      ["rol-own", "rol-own/mine", "owner"],
      ["rol-adm", "rol-own/mine", "admin"],
      ["rol-wri", "rol-own/mine", "write"],
      ["rol-rea", "rol-own/mine", "read"],
      ["rol-str", "rol-own/mine", undefined],
      ["rol-boss", "rol-own/mine", undefined],
      ["rol-org", "rol-org/shared", "owner"],
      ["rol-boss", "rol-org/shared", "owner"],
      ["rol-mem", "rol-org/shared", "admin"],
      ["rol-own", "rol-org/shared", undefined],
      ["rol-str", "rol-org/shared", undefined],
      ["rol-own", "rol-own/missing", undefined],
      ["rol-nobody", "rol-own/mine", undefined],
    ];
    for (const [who, slug, role] of expected) {
      const [owner, name] = slug.split("/") as [string, string];
      expect(await hub.roleOn(who, owner, name), `${who} on ${slug}`).toBe(role);
    }
    await hub.removeCollaborator("rol-org", "shared", "rol-mem");
    expect(await hub.roleOn("rol-mem", "rol-org", "shared")).toBe("write");
    expect((await hub.instances("rol-mem")).map((i) => i.name)).toEqual(["shared"]);
    expect((await hub.instances("rol-str")).map((i) => i.name)).toEqual([]);
  });

  it("allows: owner > admin > write > read", () => {
    const roles: (InstanceRole | undefined)[] = ["owner", "admin", "write", "read", undefined];
    const table = roles.map((r) => (["admin", "write", "read"] as const).map((n) => allows(r, n)));
    expect(table).toEqual([
      [true, true, true],
      [true, true, true],
      [false, true, true],
      [false, false, true],
      [false, false, false],
    ]);
  });
});
