/**
 * A hub with Cloud Storage: it provisions instances only inside the gs:// areas its operator
 * allowed, through the operator's endpoint (a caller's is refused and never called), and takes
 * Pub/Sub pushes at each instance's `POST /instances/{owner}/{name}/events/gcs?token=<API key>`.
 * The key in the query string is accepted there only (never by another route of the hub or of
 * the instance, whatever the path's spelling) and only with the write role. A refused call
 * changes nothing: no row, no key, no database, no object.
 */
import { createServer, type Server } from "node:http";
import { Storage } from "@google-cloud/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresProvisioner } from "../../core/hub/provision.js";
import { composeHubApp } from "../../functions/hub/compose.js";
import { useTempHome } from "../helpers.js";
import { type FakeGcs, type PubSubPush, startFakeGcs } from "../servers/fake-gcs.js";
import { ADMIN_URL, databasesOf, fingerprint, type HubFixture, hubFixture } from "./hub-fixture.js";

useTempHome();

const BUCKET = "lamin-hub-gcs";
const AREA = `gs://${BUCKET}/areas`;

describe.skipIf(!process.env.DATABASE_URL)("hub: instances in Cloud Storage", () => {
  let fx: HubFixture;
  let gcs: FakeGcs;
  let app: ReturnType<typeof composeHubApp>;
  let listener: Server;
  let listenerUrl = "";
  const received: string[] = [];
  let gammaDb = "";
  const base = "/instances/alice/gamma";

  const call = (path: string, init: RequestInit & { key?: string } = {}) => {
    const { key, ...rest } = init;
    return app.request(path, {
      ...rest,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(rest.body !== undefined ? { "content-type": "application/json" } : {}),
        ...(rest.headers as Record<string, string> | undefined),
      },
    });
  };

  /** Upload with the SDK (as any client would); the pushes it caused. */
  async function put(key: string, body: string): Promise<PubSubPush[]> {
    const from = gcs.notifications.length;
    await new Storage({ apiEndpoint: gcs.url })
      .bucket(BUCKET)
      .file(`areas/alice/gamma/${key}`)
      .save(body, { resumable: false });
    return gcs.notifications.slice(from);
  }

  const pushTo = (path: string, key: string | undefined, body: unknown) =>
    app.request(`${path}${key === undefined ? "" : `?token=${encodeURIComponent(key)}`}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  const state = () => fingerprint(gammaDb);
  const hubState = () => fingerprint(fx.hubUrl);

  beforeAll(async () => {
    fx = await hubFixture();
    gcs = await startFakeGcs({ buckets: [BUCKET] });
    listener = createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    const address = listener.address();
    listenerUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    app = composeHubApp(fx.hub, {
      provisioner: new PostgresProvisioner(ADMIN_URL),
      // the operator's area, reached through the operator's endpoint
      storage: { allow: [{ root: AREA, endpoint: gcs.url }] },
    });
  }, 120_000);

  afterAll(async () => {
    await call(base, { method: "DELETE", key: fx.keys.owner });
    await app?.close();
    await new Promise((r) => listener?.close(r));
    await gcs?.close();
    await fx?.close();
  });

  it("provisions inside an allowed gs:// area, reached through the operator's endpoint", async () => {
    const res = await call("/instances", {
      method: "POST",
      key: fx.keys.owner,
      body: JSON.stringify({ owner: "alice", name: "gamma", storage_root: `${AREA}/alice/gamma` }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await res.json()).toMatchObject({
      storage_root: `${AREA}/alice/gamma`,
      storage_endpoint: gcs.url,
    });
    expect(
      gcs.object(BUCKET, "areas/alice/gamma/.lamindb/storage_uid.txt")?.data.toString(),
    ).toMatch(/instance_slug=alice\/gamma/);
    gammaDb = (await fx.hub.instance("alice", "gamma")).db_url;
    await fx.hub.setCollaborator("alice", "gamma", "carol", "write");
    await fx.hub.setCollaborator("alice", "gamma", "dave", "read");
  });

  it("refuses gs:// roots outside the areas, the area itself, and a caller's endpoint (never called)", async () => {
    const dbs = await databasesOf("alice");
    const before = await hubState();
    const objects = gcs.notifications.length;
    for (const [root, status, detail, extra] of [
      [`gs://other-bucket/alice/x`, 403, /outside/, {}],
      [`gs://${BUCKET}/elsewhere/x`, 403, /outside/, {}],
      [AREA, 403, /whole storage area/, {}],
      [`${AREA}/alice/../x`, 400, /'\.\.'/, {}],
      [`gs://A_B/x`, 400, /not a GCS root/, {}],
      [`${AREA}/alice/mine`, 400, /endpoint/, { storage_endpoint: listenerUrl }],
    ] as const) {
      const res = await call("/instances", {
        method: "POST",
        key: fx.keys.owner,
        body: JSON.stringify({ owner: "alice", name: "refused", storage_root: root, ...extra }),
      });
      expect(res.status, `${root}: ${await res.clone().text()}`).toBe(status);
      expect(((await res.json()) as { detail: string }).detail).toMatch(detail);
    }
    expect(await databasesOf("alice")).toEqual(dbs);
    expect(await hubState()).toBe(before);
    expect(gcs.notifications.length).toBe(objects); // nothing written in the bucket
    expect(received).toEqual([]);
  });

  it("a push with a write key registers the object; a read key is 403, a stranger's 404, none 401", async () => {
    const [finalize] = await put("raw/a.csv", "a,b\n1,2\n");
    const before = await state();
    const refusals: [string | undefined, number][] = [
      [fx.keys.read, 403],
      [fx.keys.stranger, 404],
      [undefined, 401],
      ["lnk_notakey", 401],
    ];
    for (const [key, status] of refusals) {
      expect((await pushTo(`${base}/events/gcs`, key, finalize)).status).toBe(status);
    }
    expect(await state()).toBe(before);
    const res = await pushTo(`${base}/events/gcs`, fx.keys.write, finalize);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({
      outcomes: [expect.objectContaining({ action: "created", key: "raw/a.csv" })],
    });
    const listed = await call(`${base}/artifacts?key=raw/a.csv`, { key: fx.keys.read });
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(1);
  });

  it("a key in the query string opens no other route, of the hub or of the instance", async () => {
    const keysBefore = (await fx.hub.listKeys("alice")).length;
    const hubBefore = await hubState();
    const before = await state();
    const owner = encodeURIComponent(fx.keys.owner);
    const attempts: [string, string, unknown?][] = [
      ["POST", `/keys?token=${owner}`, { name: "stolen" }],
      ["GET", `/account?token=${owner}`],
      ["GET", `/instances?token=${owner}`],
      ["DELETE", `${base}?token=${owner}`],
      ["PUT", `${base}/collaborators/eve?token=${owner}`, { role: "admin" }],
      ["GET", `${base}/artifacts?token=${owner}`],
      ["POST", `${base}/reconcile?token=${owner}`],
      ["POST", `${base}/events/s3?token=${owner}`, { Records: [] }],
      // the webhook's path, spelled so that a second reading could take it for another route
      ["POST", `${base}/events/gcs/../../../../keys?token=${owner}`, { name: "stolen" }],
      ["POST", `${base}/events/gcs/%2E%2E/reconcile?token=${owner}`],
      ["POST", `${base}/events%2Fgcs?token=${owner}`, {}],
      ["GET", `${base}/events/gcs?token=${owner}`],
    ];
    for (const [method, path, body] of attempts) {
      const res = await app.request(path, {
        method,
        headers: { "content-type": "application/json" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect([200, 201, 204]).not.toContain(res.status);
    }
    expect((await fx.hub.listKeys("alice")).length).toBe(keysBefore);
    expect(await hubState()).toBe(hubBefore);
    expect(await state()).toBe(before);
  });
});
