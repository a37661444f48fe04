/**
 * The hub from the command line, as users run it: an operator runs `lamin hub serve` and creates
 * accounts; alice logs in, creates alice/lab and saves into it; bob gets read access, connects by
 * slug, can list but not save; keys are created and revoked; the instance is deleted.
 * Instances' databases are provisioned on the Postgres server of DATABASE_URL.
 */
import type { ChildProcess } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase } from "../core/db/postgres.js";
import { LaminError } from "../core/errors.js";
import { openHub } from "../core/hub/open.js";
import { randomBase62 } from "../core/uid.js";
import { connect } from "../sdk/index.js";
import { lamin, postgresUrl, startLamin, stopChild, tempDir } from "./helpers.js";

const run = !!process.env.DATABASE_URL;

/** `lamin hub serve ARGS --port 0 --json` as a child process, once it said its URL. */
async function serveHub(
  args: string[],
  env: Record<string, string>,
): Promise<{ server: ChildProcess; url: string }> {
  const { child, ready } = await startLamin<{ url: string }>(
    ["hub", "serve", ...args, "--port", "0", "--json"],
    env,
  );
  return { server: child, url: ready.url };
}

const stopServer = stopChild;

describe.skipIf(!run)("lamin hub, login, init owner/name, connect owner/name", () => {
  const work = tempDir("lamin-hub-cli-");
  const hubDir = join(work, "hub");
  const operator = { LAMIN_HOME: join(work, "operator") };
  const alice = { LAMIN_HOME: join(work, "alice") };
  const bob = { LAMIN_HOME: join(work, "bob") };
  const keys: Record<string, string> = {};
  // instance databases are named after the slug: a name of its own per run
  const name = `lab-${randomBase62(6).toLowerCase()}`;
  const slug = `alice/${name}`;
  let server: ChildProcess | undefined;
  let url = "";

  const createAccount = async (handle: string) => {
    const res = await lamin(["hub", "create-account", handle, "--dir", hubDir, "--json"], {
      env: operator,
    });
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { handle: string; key: string };
    expect(out.handle).toBe(handle);
    expect(out.key).toMatch(/^lnk_/);
    return out.key;
  };

  beforeAll(async () => {
    // the hub database is on PGlite: accounts are made before the server holds the folder
    keys.alice = await createAccount("alice");
    keys.bob = await createAccount("bob");
    const org = await lamin(["hub", "create-account", "lab", "--org", "--dir", hubDir, "--json"], {
      env: operator,
    });
    expect(org.code, org.stderr).toBe(0);
    const member = await lamin(
      ["hub", "add-member", "lab", "alice", "--role", "admin", "--dir", hubDir, "--json"],
      { env: operator },
    );
    expect(member.code, member.stderr).toBe(0);
    expect(JSON.parse(member.stdout)).toEqual({
      org: "lab",
      members: [{ handle: "alice", role: "admin" }],
    });
    const notOrg = await lamin(["hub", "add-member", "bob", "alice", "--dir", hubDir], {
      env: operator,
    });
    expect(notOrg.code).toBe(2);
    // instances may go anywhere in this test's folder (the hub's own folders apart)
    ({ server, url } = await serveHub(["--dir", hubDir, "--storage-allow", work], operator));
    // five commands that each open the PGlite hub database: slow on a busy machine
  }, 180_000);

  afterAll(async () => {
    // a failed test must not leave the instance's database on the server
    if (url) await lamin(["delete", "instance", slug, "--force"], { env: alice });
    await stopServer(server);
  });

  it("serves: one JSON line with its URL; create-account goes through the running hub", async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    // the hub holds its PGlite database: its operator socket (mode 0600) takes the request
    expect(statSync(`${hubDir}.sock`).mode & 0o777).toBe(0o600);
    const made = await lamin(["hub", "create-account", "dora", "--dir", hubDir, "--json"], {
      env: operator,
    });
    expect(made.code, made.stderr).toBe(0);
    const dora = JSON.parse(made.stdout) as { handle: string; key: string };
    expect(dora.handle).toBe("dora");
    const me = await fetch(`${url}/account`, { headers: { authorization: `Bearer ${dora.key}` } });
    expect(await me.json()).toMatchObject({ handle: "dora" });
    const twice = await lamin(["hub", "create-account", "dora", "--dir", hubDir], {
      env: operator,
    });
    expect(twice.code).toBe(4);
    expect(twice.stderr).toMatch(/^hint: /m);
  });

  it("alice logs in (hub.json, mode 0600), creates alice/lab and works in it", async () => {
    const login = await lamin(["login", "--hub", url, "--key", keys.alice as string, "--json"], {
      env: alice,
    });
    expect(login.code, login.stderr).toBe(0);
    expect(JSON.parse(login.stdout)).toEqual({ hub: url, handle: "alice" });
    expect(statSync(join(alice.LAMIN_HOME, "hub.json")).mode & 0o777).toBe(0o600);

    const init = await lamin(["init", slug, "--storage", join(work, "lab"), "--json"], {
      env: alice,
    });
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({
      instance: slug,
      database: { kind: "remote", location: `${url}/instances/${slug}` },
      current: true,
    });

    const file = join(work, "counts.csv");
    writeFileSync(file, "sample,reads\ns1,1\n");
    const saved = await lamin(["save", file, "--key", "raw/counts.csv", "--json"], { env: alice });
    expect(saved.code, saved.stderr).toBe(0);
    expect(JSON.parse(saved.stdout)).toMatchObject({ key: "raw/counts.csv", status: "created" });
    const ls = await lamin(["ls", "--json"], { env: alice });
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(ls.stdout))).toContain("raw/counts.csv");
  });

  it("an organisation's admin creates its instances; others cannot", async () => {
    const orgSlug = `lab/org-${name}`;
    const made = await lamin(["init", orgSlug, "--storage", join(work, "org-lab"), "--json"], {
      env: alice,
    });
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ instance: orgSlug });
    const gone = await lamin(["delete", "instance", orgSlug, "--force"], { env: alice });
    expect(gone.code, gone.stderr).toBe(0);
    await lamin(["login", "--hub", url, "--key", keys.bob as string], { env: bob });
    const denied = await lamin(["init", orgSlug, "--storage", join(work, "org-bob")], {
      env: bob,
    });
    expect(denied.code).toBe(7);
  });

  it("the SDK's connect('owner/name') goes through the saved login", async () => {
    const before = process.env.LAMIN_HOME;
    process.env.LAMIN_HOME = alice.LAMIN_HOME;
    try {
      const ln = await connect(slug as `${string}/${string}`);
      const page = await ln.artifacts.list({});
      expect(page.items.map((a) => a.key)).toContain("raw/counts.csv");
      await ln.close();
      const missing = await connect("alice/missing").catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(LaminError);
      expect((missing as LaminError).kind).toBe("not-found");
    } finally {
      process.env.LAMIN_HOME = before;
      if (before === undefined) delete process.env.LAMIN_HOME;
    }
  });

  it("bob, a reader, connects by slug: ls works, save is refused (exit 7)", async () => {
    const add = await lamin(["collaborator", "add", slug, "bob", "--role", "read", "--json"], {
      env: alice,
    });
    expect(add.code, add.stderr).toBe(0);
    const list = await lamin(["collaborator", "list", slug, "--json"], { env: alice });
    expect(JSON.parse(list.stdout)).toEqual([{ handle: "bob", role: "read" }]);

    expect(
      (await lamin(["login", "--hub", url, "--key", keys.bob as string], { env: bob })).code,
    ).toBe(0);
    const connect = await lamin(["connect", slug, "--json"], { env: bob });
    expect(connect.code, connect.stderr).toBe(0);
    const ls = await lamin(["ls", "--json"], { env: bob });
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(ls.stdout))).toContain("raw/counts.csv");
    const file = join(work, "bob.csv");
    writeFileSync(file, "x\n1\n");
    const save = await lamin(["save", file, "--key", "raw/bob.csv", "--json"], { env: bob });
    expect(save.code).toBe(7);
    expect(JSON.parse(save.stdout).error.type).toBe("permission");

    // update to write: now bob can save
    const update = await lamin(["collaborator", "update", slug, "bob", "--role", "write"], {
      env: alice,
    });
    expect(update.code, update.stderr).toBe(0);
    const again = await lamin(["save", file, "--key", "raw/bob.csv", "--json"], { env: bob });
    expect(again.code, again.stderr).toBe(0);
    const remove = await lamin(["collaborator", "remove", slug, "bob"], { env: alice });
    expect(remove.code, remove.stderr).toBe(0);
    const gone = await lamin(["ls", "--json"], { env: bob });
    expect(gone.code).toBe(3);
  });

  it("spaces: bob (write) sees a restricted space only once added to it, and saves there only with write", async () => {
    expect((await lamin(["connect", slug], { env: alice })).code).toBe(0);
    const made = await lamin(["create", "space", "lab-a", "--json"], { env: alice });
    expect(made.code, made.stderr).toBe(0);
    const secret = join(work, "secret.csv");
    writeFileSync(secret, "x\nsecret\n");
    const saved = await lamin(["save", secret, "--key", "raw/secret.csv", "--space", "lab-a"], {
      env: alice,
    });
    expect(saved.code, saved.stderr).toBe(0);
    expect(
      (await lamin(["collaborator", "add", slug, "bob", "--role", "write"], { env: alice })).code,
    ).toBe(0);
    const keysOf = async () =>
      JSON.stringify(JSON.parse((await lamin(["ls", "--json"], { env: bob })).stdout));
    const spacesOf = async () =>
      (
        JSON.parse((await lamin(["list", "space", "--json"], { env: bob })).stdout) as {
          name: string;
        }[]
      ).map((x) => x.name);
    expect(await keysOf()).not.toContain("raw/secret.csv");
    expect(await spacesOf()).toEqual(["all"]);
    const file = join(work, "bob-a.csv");
    writeFileSync(file, "x\nbob\n");
    const unknown = await lamin(["save", file, "--key", "raw/bob-a.csv", "--space", "lab-a"], {
      env: bob,
    });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/no space 'lab-a'; the spaces you can use: all/);

    const add = await lamin(["collaborator", "space-add", slug, "bob", "lab-a", "--role", "read"], {
      env: alice,
    });
    expect(add.code, add.stderr).toBe(0);
    const list = await lamin(["collaborator", "space-list", slug, "--json"], { env: alice });
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ space: "lab-a", handle: "bob", role: "read" }),
    ]);
    expect(await keysOf()).toContain("raw/secret.csv");
    expect(await spacesOf()).toEqual(["all", "lab-a"]);
    const readOnly = await lamin(["save", file, "--key", "raw/bob-a.csv", "--space", "lab-a"], {
      env: bob,
    });
    expect(readOnly.code).toBe(7);
    expect(readOnly.stderr).toMatch(/you may not write in that space/);
    expect(
      (
        await lamin(["collaborator", "space-update", slug, "bob", "lab-a", "--role", "write"], {
          env: alice,
        })
      ).code,
    ).toBe(0);
    const written = await lamin(["save", file, "--key", "raw/bob-a.csv", "--space", "lab-a"], {
      env: bob,
    });
    expect(written.code, written.stderr).toBe(0);
    const removed = await lamin(["collaborator", "space-remove", slug, "bob", "lab-a"], {
      env: alice,
    });
    expect(removed.code, removed.stderr).toBe(0);
    expect(await keysOf()).not.toMatch(/raw\/secret\.csv|raw\/bob-a\.csv/);
    expect((await lamin(["collaborator", "remove", slug, "bob"], { env: alice })).code).toBe(0);
  });

  it("a missing instance is exit 3 with a hint", async () => {
    const res = await lamin(["connect", "alice/missing", "--json"], { env: alice });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain("no instance alice/missing, or you have no access");
    expect(JSON.parse(res.stdout).error.hint).toBeTruthy();
  });

  it("keys: create, list, revoke; a revoked key fails login", async () => {
    const created = await lamin(
      ["keys", "create", "--name", "ci", "--expires-in-days", "7", "--json"],
      { env: alice },
    );
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as { key: string; id: number; expires_at: string };
    expect(key.key).toMatch(/^lnk_/);
    expect(Date.parse(key.expires_at)).toBeGreaterThan(Date.now());
    const list = await lamin(["keys", "list", "--json"], { env: alice });
    const all = JSON.parse(list.stdout) as { id: number; name: string | null; key?: string }[];
    expect(all.map((k) => k.name)).toContain("ci");
    expect(JSON.stringify(all)).not.toContain(key.key);

    const ci = { LAMIN_HOME: join(work, "ci") };
    expect((await lamin(["login", "--hub", url, "--key", key.key], { env: ci })).code).toBe(0);
    const revoke = await lamin(["keys", "revoke", String(key.id), "--json"], { env: alice });
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(JSON.parse(revoke.stdout).revoked_at).toBeTruthy();
    const refused = await lamin(["login", "--hub", url, "--key", key.key, "--json"], { env: ci });
    expect(refused.code).toBe(7);
    expect(JSON.parse(refused.stdout).error.type).toBe("unauthenticated");
    // a command line's hint, not the HTTP header the hub asks API clients for
    const mistyped = await lamin(["login", "--hub", url, "--key", `${key.key}x`], { env: ci });
    expect(mistyped.code).toBe(7);
    expect(mistyped.stderr).toMatch(/^error: the hub at .* does not accept this API key/m);
    expect(mistyped.stderr).toMatch(/^hint: check the key you pass with --key/m);
    expect(mistyped.stderr).not.toMatch(/Authorization/);

    const noWhich = await lamin(["keys", "revoke"], { env: alice });
    expect(noWhich.code).toBe(2);
  });

  it("init owner/name without --storage: this hub has no default storage, so it says to name one", async () => {
    const init = await lamin(["init", `alice/nostorage-${name}`, "--json"], { env: alice });
    expect(init.code).toBe(2);
    expect(JSON.parse(init.stdout).error.hint).toMatch(/--storage/);
  });

  it("delete instance: needs --force without a terminal; then the instance is gone", async () => {
    const asks = await lamin(["delete", "instance", slug], { env: alice });
    expect(asks.code).toBe(2);
    expect(asks.stderr).toContain("--force");
    const del = await lamin(["delete", "instance", slug, "--force", "--json"], {
      env: alice,
    });
    expect(del.code, del.stderr).toBe(0);
    expect(JSON.parse(del.stdout)).toEqual({ deleted: slug });
    const again = await lamin(["connect", slug], { env: alice });
    expect(again.code).toBe(3);
  });

  it("logout forgets the login", async () => {
    const out = await lamin(["logout", "--json"], { env: alice });
    expect(JSON.parse(out.stdout)).toEqual({ logged_out: true });
    const after = await lamin(["keys", "list"], { env: alice });
    expect(after.code).toBe(7);
    expect(after.stderr).toContain("lamin login");
  });
});

describe.skipIf(!run)(
  "a deployed stage's hub, run from a laptop (sst shell, default storage)",
  () => {
    const work = tempDir("lamin-stage-cli-");
    const hubUrl = postgresUrl();
    // what `npx sst shell --stage S --` passes: the linked secret, no DATABASE_URL
    const shell = {
      LAMIN_HOME: join(work, "operator"),
      DATABASE_URL: "",
      SST_RESOURCE_DatabaseUrl: JSON.stringify({ type: "sst.sst.Secret", value: hubUrl }),
    };
    const carol = { LAMIN_HOME: join(work, "carol") };
    const name = `lab-${randomBase62(6).toLowerCase()}`;
    let server: ChildProcess | undefined;
    let url = "";

    afterAll(async () => {
      if (url) await lamin(["delete", "instance", `carol/${name}`, "--force"], { env: carol });
      await stopServer(server);
      await dropDatabase(hubUrl).catch(() => {});
    });

    it("hub commands reach the stage's database through the SST link", async () => {
      const made = await lamin(["hub", "create-account", "carol", "--json"], { env: shell });
      expect(made.code, made.stderr).toBe(0);
      const { key } = JSON.parse(made.stdout) as { key: string };
      const opened = await openHub(hubUrl);
      try {
        expect((await opened.hub.account("carol")).handle).toBe("carol");
      } finally {
        await opened.close();
      }
      const broken = await lamin(["hub", "create-account", "dave"], {
        env: { ...shell, SST_RESOURCE_DatabaseUrl: "not json" },
      });
      expect(broken.code).toBe(2);
      expect(broken.stderr).toMatch(/SST_RESOURCE_DatabaseUrl is not the JSON SST writes/);

      // the hub with a default storage, as a deployed stage has its bucket
      ({ server, url } = await serveHub([], {
        DATABASE_URL: hubUrl,
        LAMIN_HUB_DEFAULT_STORAGE: join(work, "bucket"),
      }));
      const login = await lamin(["login", "--hub", url, "--key", key], { env: carol });
      expect(login.code, login.stderr).toBe(0);
      const init = await lamin(["init", `carol/${name}`, "--json"], { env: carol });
      expect(init.code, init.stderr).toBe(0);
      expect(JSON.parse(init.stdout).storage).toBe(join(work, "bucket", "carol", name));
      writeFileSync(join(work, "a.csv"), "a\n1\n");
      const save = await lamin(["save", join(work, "a.csv"), "--key", "a.csv", "--json"], {
        env: carol,
      });
      expect(save.code, save.stderr).toBe(0);
      expect(JSON.parse(save.stdout)).toMatchObject({ key: "a.csv", size: 4 });
    });
  },
);
