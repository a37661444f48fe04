/**
 * A hub provisions storage only inside the places its operator allowed, and reaches storage only
 * through the endpoints its operator configured. Each attack asks for an instance whose storage
 * would expose something (another account's $LAMIN_HOME, the hub's own folder, /etc, a link out
 * of the allowed area, another instance's files) or makes the hub call a URL of the caller's:
 * refused with problem+json and a hint, and nothing made: no folder, no storage marker, no
 * database, no hub row, no request received.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresProvisioner } from "../../core/hub/provision.js";
import { composeHubApp } from "../../functions/hub/compose.js";
import { lamin, REPO, startLamin, stopChild, tempDir, useTempHome } from "../helpers.js";
import { ADMIN_URL, databasesOf, filesBelow, type HubFixture, hubFixture } from "./hub-fixture.js";

useTempHome();

const run = !!process.env.DATABASE_URL;

interface Problem {
  status: number;
  detail: string;
  hint?: string;
}

/** What /etc holds that lamindb would write: checked before and after every attack. */
const REAL_ETC_MARKER = "/etc/.lamindb";

describe.skipIf(!run)("hub: storage roots are confined to what the operator allowed", () => {
  let fx: HubFixture;
  let app: ReturnType<typeof composeHubApp>;
  let allowed: string;
  let fakeEtc: string;
  let aliceHome: string;
  let hubHome: string;
  let listener: Server;
  let listenerUrl = "";
  const received: string[] = [];
  const etcMarkerBefore = existsSync(REAL_ETC_MARKER);
  const owner = `sec-${Math.random().toString(36).slice(2, 7)}`;
  const aws = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] as const;
  const awsBefore = aws.map((k) => process.env[k]);

  beforeAll(async () => {
    fx = await hubFixture();
    await fx.hub.createAccount(owner);
    fx.keys.stranger = (await fx.hub.createKey(owner)).key; // the attacker: `owner`
    allowed = join(fx.work, "allowed");
    mkdirSync(allowed, { recursive: true });
    // a folder standing for /etc, with something in it
    fakeEtc = join(fx.work, "etc");
    mkdirSync(fakeEtc);
    writeFileSync(join(fakeEtc, "passwd"), "root:x:0:0::/root:/bin/sh\n");
    // another account's $LAMIN_HOME, its API key inside
    aliceHome = join(fx.work, "alice-home");
    mkdirSync(aliceHome);
    writeFileSync(join(aliceHome, "hub.json"), JSON.stringify({ key: fx.keys.owner }));
    // the hub's own $LAMIN_HOME, inside the allowed area (an operator may well put it there)
    hubHome = join(allowed, "hub-home");
    mkdirSync(hubHome);
    writeFileSync(join(hubHome, "hub.json"), "{}");
    // a link inside the allowed area that points out of it
    symlinkSync(fakeEtc, join(allowed, "link"));
    // an instance's endpoint would be asked for the bucket: the caller's listener counts calls
    listener = createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    const address = listener.address();
    listenerUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    // the hub signs S3 requests with its own credentials: give it some, as a deployment has
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: "AKIAHUBSOWNKEY",
      AWS_SECRET_ACCESS_KEY: "hub-secret",
      AWS_REGION: "us-east-1",
    });
    app = composeHubApp(fx.hub, {
      provisioner: new PostgresProvisioner(ADMIN_URL),
      storage: {
        default: { root: join(fx.work, "default-area") },
        allow: [{ root: allowed }, { root: "s3://lab-bucket/data" }],
        reserved: [hubHome, join(fx.work, "hub-dir")],
      },
    } as Parameters<typeof composeHubApp>[1]);
  }, 120_000);

  afterAll(async () => {
    aws.forEach((k, i) => {
      if (awsBefore[i] === undefined) delete process.env[k];
      else process.env[k] = awsBefore[i];
    });
    await new Promise((r) => listener?.close(r));
    for (const name of ["one", "two", "dflt"]) {
      await app?.request(`/instances/${owner}/${name}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${fx.keys.stranger}` },
      });
    }
    await app?.close();
    // whatever an attack left (it must not) is removed: this machine's /etc included
    if (!etcMarkerBefore && existsSync(REAL_ETC_MARKER)) {
      rmSync(REAL_ETC_MARKER, { recursive: true, force: true });
    }
    await fx?.close();
  });

  const create = async (body: Record<string, unknown>) => {
    const res = await app.request("/instances", {
      method: "POST",
      headers: {
        authorization: `Bearer ${fx.keys.stranger}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ owner, ...body }),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      json: () => JSON.parse(text) as Problem & { storage_root: string },
      text,
    };
  };

  /**
   * POST /instances asking for `storage_root` must be refused with `status` and change nothing:
   * the folders in `watch` keep their files, no hub row, no database, no marker.
   */
  const refused = async (
    storageRoot: string,
    status: number,
    detail: RegExp,
    watch: string[] = [],
    extra: Record<string, unknown> = {},
  ) => {
    const name = `x${Math.random().toString(36).slice(2, 8)}`;
    const before = watch.map((w) => filesBelow(w));
    const dbsBefore = await databasesOf(owner);
    const instancesBefore = await fx.hub.instances(owner);
    const res = await create({ name, storage_root: storageRoot, ...extra });
    expect(res.status, `${storageRoot}: ${res.text}`).toBe(status);
    expect(res.type).toBe("application/problem+json");
    const p = res.json();
    expect(p.detail).toMatch(detail);
    expect(p.hint, res.text).toBeTruthy();
    // no file and no folder (a `.lamindb/` marker included) appeared in the watched folders
    expect(
      watch.map((w) => filesBelow(w)),
      storageRoot,
    ).toEqual(before);
    expect(await databasesOf(owner)).toEqual(dbsBefore);
    expect(await fx.hub.instances(owner)).toEqual(instancesBefore);
    expect(existsSync(REAL_ETC_MARKER)).toBe(etcMarkerBefore);
    return p;
  };

  it("another account's $LAMIN_HOME (outside the allowed area): 403, nothing written there", async () => {
    await refused(aliceHome, 403, /outside/, [aliceHome]);
    await refused(join(aliceHome, "sub"), 403, /outside/, [aliceHome]);
  });

  it("the hub's own folders, even inside the allowed area: 403", async () => {
    await refused(hubHome, 403, /hub's own/, [hubHome]);
    await refused(join(hubHome, "instances"), 403, /hub's own/, [hubHome]);
    await refused(join(fx.work, "hub-dir"), 403, /outside|hub's own/, [fx.work]);
  });

  it("file:// URLs and /etc: refused, nothing written in /etc or in the folder standing for it", async () => {
    await refused(`file://${fakeEtc}`, 400, /file:/, [fakeEtc]);
    await refused("file:///etc", 400, /file:/, [fakeEtc]);
    await refused(`file://localhost${fakeEtc}`, 400, /file:/, [fakeEtc]);
    await refused(fakeEtc, 403, /outside/, [fakeEtc]);
    await refused("/etc", 403, /outside/);
    await refused("/proc/self", 403, /outside/);
  });

  it("relative paths and .. escapes: 400", async () => {
    for (const root of [
      "data/x",
      "./x",
      "x",
      "~/x",
      `${allowed}/../etc`,
      `${allowed}/a/../../etc`,
    ]) {
      await refused(root, 400, /relative|'\.\.'|absolute/, [fakeEtc]);
    }
    await refused(`${allowed}/./x`, 400, /'\.'/);
    expect(existsSync(join(REPO, "data", "x"))).toBe(false);
    expect(existsSync(join(REPO, "x"))).toBe(false);
  });

  it("a link inside the allowed area that points out of it: 403, nothing written where it points", async () => {
    await refused(join(allowed, "link"), 403, /outside/, [fakeEtc]);
    await refused(join(allowed, "link", "sub"), 403, /outside/, [fakeEtc]);
  });

  it("inside the allowed area, a new folder works; nested in it (or around it) is refused", async () => {
    const one = await create({ name: "one", storage_root: join(allowed, "one") });
    expect(one.status, one.text).toBe(201);
    expect(one.json().storage_root).toBe(join(allowed, "one"));
    expect(existsSync(join(allowed, "one", ".lamindb", "storage_uid.txt"))).toBe(true);
    const files = filesBelow(join(allowed, "one"));
    await refused(join(allowed, "one", "inner"), 403, /another instance/, [join(allowed, "one")]);
    await refused(join(allowed, "one", ".lamindb"), 403, /another instance/);
    const two = await create({ name: "two", storage_root: join(allowed, "group", "two") });
    expect(two.status, two.text).toBe(201);
    await refused(join(allowed, "group"), 403, /another instance/, [join(allowed, "group")]);
    // the allowed area itself is not a place for one instance
    await refused(allowed, 403, /inside it/, [allowed]);
    expect(filesBelow(join(allowed, "one"))).toEqual(files);
  });

  it("a folder that already holds files (not the hub's to hand out): 403", async () => {
    const stuff = join(allowed, "someones-data");
    mkdirSync(stuff);
    writeFileSync(join(stuff, "notes.txt"), "private");
    await refused(stuff, 403, /holds files/, [stuff]);
  });

  it("the default storage needs no name: <default>/<owner>/<name>", async () => {
    const made = await create({ name: "dflt" });
    expect(made.status, made.text).toBe(201);
    expect(made.json().storage_root).toBe(join(fx.work, "default-area", owner, "dflt"));
  });

  it("s3 roots: only inside an allowed bucket prefix, well formed", async () => {
    await refused("s3://other-bucket/x", 403, /outside/);
    await refused("s3://lab-bucket/datax/y", 403, /outside/);
    await refused("s3://lab-bucket/data", 403, /inside it/);
    await refused("s3://lab-bucket/data/../x", 400, /'\.\.'/);
    await refused("s3://lab-bucket/data//x", 400, /empty/);
    // gs:// roots follow the same rules: none is allowed here
    await refused("gs://lab-bucket/data/x", 403, /outside/);
    await refused("ftp://lab-bucket/data/x", 400, /not supported/);
    await refused(`${allowed}/x\u0000y`, 400, /control character/);
    expect(received).toEqual([]);
  });

  it("SSRF: a caller's storage_endpoint is refused and never called", async () => {
    for (const root of ["s3://lab-bucket/data/mine", "s3://attacker-bucket/x"]) {
      await refused(root, 400, /endpoint/, [], { storage_endpoint: listenerUrl });
    }
    await refused(join(allowed, "local"), 400, /endpoint/, [allowed], {
      storage_endpoint: listenerUrl,
    });
    expect(received).toEqual([]);
  });
});

describe.skipIf(!run)(
  "lamin hub serve: its --dir and $LAMIN_HOME are never an instance's storage",
  () => {
    let work: string;
    let server: ChildProcess | undefined;
    let url = "";
    let hubDir: string;
    let operatorHome: string;
    let allowed: string;
    let fakeEtc: string;
    const bob = { LAMIN_HOME: "" };
    let key = "";

    beforeAll(async () => {
      work = tempDir("lamin-sec-serve-");
      hubDir = join(work, "hub-dir");
      operatorHome = join(work, "operator");
      allowed = work; // a broad area: the hub's own folders are inside it
      fakeEtc = join(work, "etc");
      mkdirSync(fakeEtc);
      writeFileSync(join(fakeEtc, "passwd"), "root:x:0:0::/root:/bin/sh\n");
      bob.LAMIN_HOME = join(work, "bob");
      const made = await lamin(["hub", "create-account", "bob", "--dir", hubDir, "--json"], {
        env: { LAMIN_HOME: operatorHome },
      });
      expect(made.code, made.stderr).toBe(0);
      key = (JSON.parse(made.stdout) as { key: string }).key;
      ({
        child: server,
        ready: { url },
      } = await startLamin<{ url: string }>(
        ["hub", "serve", "--dir", hubDir, "--storage-allow", allowed, "--port", "0", "--json"],
        { LAMIN_HOME: operatorHome },
      ));
      const login = await lamin(["login", "--hub", url, "--key", key], { env: bob });
      expect(login.code, login.stderr).toBe(0);
    }, 120_000);

    afterAll(async () => {
      if (url) await lamin(["delete", "instance", "bob/fine", "--force"], { env: bob });
      await stopChild(server);
      rmSync(work, { recursive: true, force: true });
    });

    it("lamin init bob/x --storage <the hub's --dir | its LAMIN_HOME | /etc>: exit 7 with a hint, nothing made", async () => {
      const before = [hubDir, operatorHome, fakeEtc].map((d) => filesBelow(d));
      const dbs = await databasesOf("bob");
      for (const [storage, message] of [
        [hubDir, /hub's own/],
        [join(hubDir, "sub"), /hub's own/],
        [operatorHome, /hub's own/],
        [fakeEtc, /holds files/],
        ["/etc", /outside/],
      ] as const) {
        const r = await lamin(["init", "bob/x", "--storage", storage], { env: bob });
        expect(r.code, `${storage}: ${r.stderr}`).toBe(7);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toMatch(/^hint: /m);
      }
      const relative = await lamin(["init", "bob/x", "--storage", "../../etc"], {
        env: bob,
      });
      expect(relative.code, relative.stderr).not.toBe(0);
      expect([hubDir, operatorHome, fakeEtc].map((d) => filesBelow(d))).toEqual(before);
      expect(existsSync(join(hubDir, ".lamindb"))).toBe(false);
      expect(existsSync(REAL_ETC_MARKER)).toBe(false);
      expect(await databasesOf("bob")).toEqual(dbs);
      // over HTTP alike, and a caller's endpoint is refused
      const res = await fetch(`${url}/instances`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ owner: "bob", name: "y", storage_root: hubDir }),
      });
      expect(res.status).toBe(403);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      // a folder of its own inside the allowed area works
      const fine = await lamin(["init", "bob/fine", "--storage", join(allowed, "fine"), "--json"], {
        env: bob,
      });
      expect(fine.code, fine.stderr).toBe(0);
    });
  },
);
