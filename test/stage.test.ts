/**
 * A deployed stage (sst.config.ts), run here with what stands in for AWS and Neon:
 * - the functions' real entries (functions/{hub,ingest,reconcile}/lambda.ts), configured by SST's
 *   links exactly as Lambda passes them (`SST_RESOURCE_<Name>` JSON);
 * - Postgres through Neon's serverless driver and a WebSocket-to-TCP proxy (as Neon runs it);
 * - S3 + SQS from moto_server: the bucket's notifications reach a queue whose batches go to the
 *   ingest function in Lambda's SQS event shape, with partial batch failures;
 * - Lambda's Invoke API through aws-sdk-client-mock (no local server for it): the reconcile
 *   scheduler's hand-offs are captured and replayed into the worker.
 */
import { createHash } from "node:crypto";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, PurgeQueueCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import type { LambdaEvent } from "hono/aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, postgresDriverFor } from "../core/db/postgres.js";
import { openHub } from "../core/hub/open.js";
import type { StorageEvent } from "../core/ingest/events.js";
import { stageConfig, stageStorageRoot } from "../functions/shared/stage.js";
import { routeByLocation, type StageHub } from "../functions/shared/stage-hub.js";
import { postgresUrl, useTempHome } from "./helpers.js";
import {
  apiGatewayEvent,
  functionUrlEvent,
  type LambdaRequest,
  lambdaContext,
  stageLinks,
} from "./lambda-events.js";
import {
  drain,
  MOTO_CREDENTIALS,
  type Moto,
  type NotifiedBucket,
  notifiedBucket,
  requireMoto,
  startMoto,
} from "./servers/moto.js";
import { startWsProxy, type WsProxy } from "./servers/ws-proxy.js";

const moto = requireMoto();
const postgres = !!process.env.DATABASE_URL;
if (!moto || !postgres) console.warn("moto_server or DATABASE_URL missing: stage tests skipped");

/** An owner of this run only: instance databases are named after slugs, on a shared server. */
const OWNER = `alice${Date.now().toString(36)}`;
const WORKER = "lamindb-alice-ReconcileWorkerFunction-abc123";
const SCHEDULED_EVENT = {
  version: "0",
  id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
  "detail-type": "Scheduled Event",
  source: "aws.events",
  account: "123456789012",
  time: "2026-11-25T04:00:00Z",
  region: "us-east-1",
  resources: ["arn:aws:events:us-east-1:123456789012:rule/lamindb-alice-ReconcileSchedule"],
  detail: {},
};

const md5b64 = (body: string) => createHash("md5").update(body).digest("base64url").slice(0, 22);

describe.skipIf(!moto || !postgres)(
  "a deployed stage, run locally (Neon driver, moto, Lambda entries)",
  () => {
    let proxy: WsProxy;
    let aws: Moto;
    let bucket: NotifiedBucket;
    let key: string;
    const hubUrl = postgresUrl(`lamin_stage_hub_${Date.now().toString(36)}`);
    const instanceUrls: string[] = [];
    const lambda = mockClient(LambdaClient);

    let api: typeof import("../functions/hub/lambda.js")["handler"];
    let ingest: typeof import("../functions/ingest/lambda.js")["handler"];
    let reconcile: typeof import("../functions/reconcile/lambda.js")["handler"];

    const call = async (req: LambdaRequest & { json?: unknown }) => {
      const event = functionUrlEvent({
        token: key,
        ...req,
        ...(req.json !== undefined
          ? { body: JSON.stringify(req.json), headers: { "content-type": "application/json" } }
          : {}),
      });
      const result = (await api(event as LambdaEvent, lambdaContext)) as {
        statusCode: number;
        body: string;
        headers: Record<string, string>;
      };
      return {
        status: result.statusCode,
        body: JSON.parse(result.body || "null"),
        headers: result.headers,
      };
    };
    const runIngest = () =>
      drain(aws, bucket.queueUrl, async (event) => (await ingest(event)) as SQSBatchResponse);

    beforeAll(async () => {
      useTempHome();
      proxy = await startWsProxy();
      aws = await startMoto(moto as string);
      bucket = await notifiedBucket(aws, "lamindb-alice-storage");
      Object.assign(process.env, {
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        AWS_REGION: "us-east-1",
        // what infra/ sets on every function
        LAMIN_DB_DRIVER: "neon",
        LAMIN_STAGE: "alice",
        // here only: Neon's driver through the local proxy, S3 at moto
        LAMIN_NEON_WS_PROXY: proxy.address,
        LAMIN_STORAGE_ENDPOINT: aws.endpoint,
        // SST's links, as Lambda receives them
        ...stageLinks({
          stage: "alice",
          databaseUrl: hubUrl,
          bucket: bucket.bucket,
          reconcileWorker: WORKER,
        }),
      });
      delete process.env.DATABASE_URL; // the functions must find the database through the link
      // the operator's first step (docs/deploy.md): an account and its key, over plain TCP
      const admin = await openHub(hubUrl, {});
      await admin.hub.createAccount(OWNER);
      key = (await admin.hub.createKey(OWNER)).key;
      await admin.close();
      api = (await import("../functions/hub/lambda.js")).handler;
      ingest = (await import("../functions/ingest/lambda.js")).handler;
      reconcile = (await import("../functions/reconcile/lambda.js")).handler;
      await runIngest(); // moto's s3:TestEvent
    }, 120_000);

    afterAll(async () => {
      lambda.restore();
      // FORCE closes what the functions' pools still hold; the proxy goes last
      for (const url of [...instanceUrls, hubUrl]) await dropDatabase(url).catch(() => {});
      await aws?.close();
      await proxy?.close();
    });

    it("the API provisions an instance in the stage's bucket, its database over the Neon driver", async () => {
      const created = await call({
        method: "POST",
        path: "/instances",
        json: { owner: OWNER, name: "lab" },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body).toMatchObject({
        owner: OWNER,
        name: "lab",
        storage_root: `s3://${bucket.bucket}/${OWNER}/lab`,
      });
      expect(JSON.stringify(created.body)).not.toContain("postgres");
      const other = await call({
        method: "POST",
        path: "/instances",
        json: { owner: OWNER, name: "other" },
      });
      expect(other.status).toBe(201);
      const listed = await call({ method: "GET", path: "/instances" });
      expect(listed.body.map((i: { name: string }) => i.name).sort()).toEqual(["lab", "other"]);
      // the provisioner named the databases after the slugs, on the hub's server
      const dbs = await openHub(hubUrl);
      for (const name of ["lab", "other"])
        instanceUrls.push((await dbs.hub.instance(OWNER, name)).db_url);
      await dbs.close();
      await runIngest(); // the storage markers provisioning wrote are lamindb's own: not artifacts
    });

    it("an upload to the bucket becomes an artifact of the instance whose storage holds it", async () => {
      const body = "gene,count\nCD4,12\n";
      await aws.s3.send(
        new PutObjectCommand({
          Bucket: bucket.bucket,
          Key: `${OWNER}/lab/raw/cells one.csv`,
          Body: body,
        }),
      );
      await aws.s3.send(
        new PutObjectCommand({ Bucket: bucket.bucket, Key: "nobody/else/x.csv", Body: "x" }),
      );
      const totals = await runIngest();
      expect(totals.failures).toBe(0);
      const got = await call({
        method: "GET",
        path: `/instances/${OWNER}/lab/artifacts/by-key`,
        rawQueryString: "key=raw%2Fcells%20one.csv",
      });
      expect(got.status, JSON.stringify(got.body)).toBe(200);
      expect(got.body).toMatchObject({
        key: "raw/cells one.csv",
        size: body.length,
        hash: md5b64(body),
        hash_type: "md5",
      });
      // the other instance saw nothing
      const other = await call({ method: "GET", path: `/instances/${OWNER}/other/artifacts` });
      expect(other.body.items).toEqual([]);
      const dlq = await aws.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: bucket.dlqUrl,
          AttributeNames: ["ApproximateNumberOfMessages"],
        }),
      );
      expect(dlq.Attributes?.ApproximateNumberOfMessages).toBe("0");
    });

    it("also takes EventBridge's S3 events, and API Gateway's HTTP API events", async () => {
      const body = "from eventbridge";
      const put = await aws.s3.send(
        new PutObjectCommand({ Bucket: bucket.bucket, Key: `${OWNER}/lab/eb/one.txt`, Body: body }),
      );
      await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: bucket.queueUrl })); // this path only
      const answer = await ingest({
        version: "0",
        id: "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        source: "aws.s3",
        account: "123456789012",
        time: new Date().toISOString(),
        region: "us-east-1",
        resources: [`arn:aws:s3:::${bucket.bucket}`],
        detail: {
          version: "0",
          bucket: { name: bucket.bucket },
          object: {
            key: `${OWNER}/lab/eb/one.txt`,
            size: body.length,
            etag: put.ETag?.replaceAll('"', ""),
            sequencer: "00617F08299329D189",
          },
          "request-id": "N4N7GDK58NMKJ12R",
          requester: "123456789012",
          reason: "PutObject",
        },
      });
      expect(answer).toEqual({ processed: 1 });
      const event = apiGatewayEvent({
        method: "GET",
        path: `/instances/${OWNER}/lab/artifacts/by-key`,
        rawQueryString: "key=eb%2Fone.txt",
        token: key,
      });
      const got = (await api(event, lambdaContext)) as { statusCode: number; body: string };
      expect(got.statusCode).toBe(200);
      expect(JSON.parse(got.body)).toMatchObject({ key: "eb/one.txt", hash: md5b64(body) });
    });

    it("deleting the object trashes its artifact", async () => {
      await aws.s3.send(
        new DeleteObjectCommand({ Bucket: bucket.bucket, Key: `${OWNER}/lab/raw/cells one.csv` }),
      );
      expect((await runIngest()).failures).toBe(0);
      const trash = await call({
        method: "GET",
        path: `/instances/${OWNER}/lab/artifacts`,
        rawQueryString: "trash=true",
      });
      expect(trash.body.items.map((a: { key: string }) => a.key)).toEqual(["raw/cells one.csv"]);
    });

    it("the schedule hands each instance of the bucket to the worker, asynchronously", async () => {
      lambda.reset();
      lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
      const result = await reconcile(SCHEDULED_EVENT);
      expect(result).toEqual({ action: "fan-out", dispatched: [`${OWNER}/lab`, `${OWNER}/other`] });
      const calls = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
      expect(calls.map((c) => [c.FunctionName, c.InvocationType])).toEqual([
        [WORKER, "Event"],
        [WORKER, "Event"],
      ]);
      expect(
        calls.map((c) => JSON.parse(new TextDecoder().decode(c.Payload as Uint8Array))),
      ).toEqual([
        { instance: `${OWNER}/lab`, dryRun: false },
        { instance: `${OWNER}/other`, dryRun: false },
      ]);
    });

    it("the worker registers what the events missed", async () => {
      await aws.s3.send(
        new PutObjectCommand({
          Bucket: bucket.bucket,
          Key: `${OWNER}/other/missed.txt`,
          Body: "lost event",
        }),
      );
      await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: bucket.queueUrl })); // the event is lost
      const result = await reconcile({ instance: `${OWNER}/other` });
      expect(result).toMatchObject({
        action: "reconciled",
        instance: `${OWNER}/other`,
        summary: { registered: 1 },
      });
      const got = await call({
        method: "GET",
        path: `/instances/${OWNER}/other/artifacts/by-key`,
        rawQueryString: "key=missed.txt",
      });
      expect(got.body).toMatchObject({ hash: md5b64("lost event"), size: 10 });
      const again = await reconcile({ instance: `${OWNER}/other` });
      expect(again).toMatchObject({ summary: { registered: 0, unchanged: 1 } });
    });

    it("refuses payloads it cannot understand, and fails loudly when an invocation is refused", async () => {
      for (const bad of [
        {},
        { instance: "no-slash" },
        { instance: "a/b", extra: 1 },
        { instance: "a/b", dryRun: "yes" },
      ]) {
        const answer = await reconcile(bad);
        expect(answer).toMatchObject({ action: "rejected" });
        expect((answer as { error: string }).error).toMatch(/not a reconcile request/);
      }
      await expect(reconcile({ instance: `${OWNER}/nope` })).rejects.toThrow(
        new RegExp(`no instance '${OWNER}/nope'`),
      );
      lambda.reset();
      lambda.on(InvokeCommand).resolves({ StatusCode: 403 });
      await expect(reconcile({ action: "fan-out" })).rejects.toThrow(/answered 403/);
    });

    it("warm invocations reuse their connections", async () => {
      await call({ method: "GET", path: `/instances/${OWNER}/lab/artifacts` });
      const before = proxy.connections();
      for (let i = 0; i < 5; i++) {
        expect(
          (await call({ method: "GET", path: `/instances/${OWNER}/lab/artifacts` })).status,
        ).toBe(200);
      }
      expect(proxy.connections()).toBe(before);
    });

    it("enables modules per instance: bundled by name, others from their declaration", async () => {
      const lab = `/instances/${OWNER}/lab`;
      const other = `/instances/${OWNER}/other`;
      const declaration = (extra: Record<string, unknown> = {}) => ({
        name: "mylab",
        registries: {
          Sample: {
            fields: { name: { type: "string", required: true, unique: true }, ...extra },
            links: ["artifacts"],
          },
        },
      });
      // pertdb ships beside the function; no package of mylab exists anywhere: the function
      // writes its tables from the declaration and reads them back from the database
      // pertdb points into bionty (its 0001): bionty first
      const bionty = await call({ method: "POST", path: `${lab}/modules/bionty/enable`, json: {} });
      expect(bionty.status, JSON.stringify(bionty.body)).toBe(200);
      const pert = await call({ method: "POST", path: `${lab}/modules/pertdb/enable`, json: {} });
      expect(pert.status, JSON.stringify(pert.body)).toBe(200);
      expect(pert.body.applied).toEqual(["0000_initial", "0001_bionty_links"]);
      const mine = await call({
        method: "POST",
        path: `${lab}/modules/mylab/enable`,
        json: { declaration: declaration(), migrations: ["0000_initial"] },
      });
      expect(mine.status, JSON.stringify(mine.body)).toBe(200);
      expect(mine.body).toMatchObject({ module: "mylab", applied: ["0000_initial"] });
      const made = await call({
        method: "POST",
        path: `${lab}/modules/records/mylab.Sample`,
        json: { name: "S1" },
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      const compound = await call({
        method: "POST",
        path: `${lab}/modules/records/pertdb.Compound`,
        json: { name: "nilotinib" },
      });
      expect(compound.status, JSON.stringify(compound.body)).toBe(201);
      const looked = await call({
        method: "GET",
        path: `${lab}/modules/lookup`,
        rawQueryString: "field=cat%5Bmylab.Sample%5D&value=S1&value=S2",
      });
      expect(looked.status, JSON.stringify(looked.body)).toBe(200);
      expect(looked.body.found.map((f: { value: string }) => f.value)).toEqual(["S1"]);

      // another instance has another module of the same name: each resolves its own
      const otherDecl = {
        name: "mylab",
        registries: { Plate: { fields: { name: { type: "string" }, wells: { type: "integer" } } } },
      };
      const plate = await call({
        method: "POST",
        path: `${other}/modules/mylab/enable`,
        json: { declaration: otherDecl },
      });
      expect(plate.status, JSON.stringify(plate.body)).toBe(200);
      expect(
        (
          await call({
            method: "POST",
            path: `${other}/modules/records/mylab.Plate`,
            json: { name: "P1", wells: 96 },
          })
        ).status,
      ).toBe(201);
      expect(
        (await call({ method: "GET", path: `${other}/modules/records/mylab.Sample` })).status,
      ).toBe(400);
      const samples = await call({ method: "GET", path: `${lab}/modules/records/mylab.Sample` });
      expect(samples.body.map((r: { name: string }) => r.name)).toEqual(["S1"]);

      // a changed declaration: the SQL first (dry run), then applied
      const changed = { declaration: declaration({ tissue: { type: "string" } }) };
      const dry = await call({
        method: "POST",
        path: `${lab}/modules/mylab/enable`,
        json: { ...changed, dry_run: true },
      });
      expect(dry.status, JSON.stringify(dry.body)).toBe(200);
      expect(dry.body).toMatchObject({ applied: ["0001_update"], dry_run: true });
      expect(dry.body.statements).toEqual([
        'ALTER TABLE "mylab_sample" ADD COLUMN "tissue" varchar(255)',
      ]);
      const tissue = { name: "S2", tissue: "brain" };
      const early = await call({
        method: "POST",
        path: `${lab}/modules/records/mylab.Sample`,
        json: tissue,
      });
      expect(early.status).toBe(400);
      const applied = await call({
        method: "POST",
        path: `${lab}/modules/mylab/enable`,
        json: changed,
      });
      expect(applied.body.applied).toEqual(["0001_update"]);
      expect(
        (await call({ method: "POST", path: `${lab}/modules/records/mylab.Sample`, json: tissue }))
          .status,
      ).toBe(201);

      // bad inputs: each refused with what to do, nothing changed
      const refused = async (name: string, json: unknown, status: number, detail: RegExp) => {
        const r = await call({ method: "POST", path: `${lab}/modules/${name}/enable`, json });
        expect(r.status, JSON.stringify(r.body)).toBe(status);
        expect(r.body.detail).toMatch(detail);
        expect(r.body.hint).toBeTruthy();
      };
      await refused("nothere", {}, 404, /not bundled with this server/);
      await refused("Evil.js", {}, 400, /invalid module name/);
      await refused("pertdb", { declaration: { ...otherDecl, name: "pertdb" } }, 400, /bundled/);
      await refused("mylab", { declaration: otherDecl, migrations: ["x; DROP"] }, 400, /invalid/);
      await refused("other", { declaration: otherDecl }, 400, /of module 'mylab', not 'other'/);
      await refused(
        "evil",
        { declaration: { ...otherDecl, name: "evil", tablePrefix: "wetlab" } },
        409,
        /as module 'pertdb' does/,
      );
      await refused(
        "evil",
        { declaration: { ...otherDecl, name: "evil", tablePrefix: "lamindb" } },
        400,
        /taken by LaminDB's core/,
      );
      const listed = await call({ method: "GET", path: `${lab}/modules` });
      expect(
        listed.body
          .filter((m: { enabled: boolean }) => m.enabled)
          .map((m: { name: string }) => m.name)
          .sort(),
      ).toEqual(["bionty", "mylab", "pertdb"]);
    });
  },
);

describe("a stage's configuration: SST links first, the environment otherwise", () => {
  const linked =
    (links: Record<string, Record<string, unknown>>) =>
    (name: string): Record<string, unknown> | undefined =>
      links[name];

  it("reads the links Lambda gets, and treats the 'none' placeholder as unset", () => {
    const config = stageConfig(
      linked({
        DatabaseUrl: { value: "postgresql://u:p@ep-x.aws.neon.tech/neondb" },
        Storage: { name: "lamindb-alice-storage" },
        NeonApiKey: { value: "none" },
        NeonProjectId: { value: "none" },
        ReconcileWorker: { name: "worker-fn" },
      }),
      { DATABASE_URL: "postgresql://ignored@127.0.0.1/x" },
    );
    expect(config).toEqual({
      databaseUrl: "postgresql://u:p@ep-x.aws.neon.tech/neondb",
      bucket: "lamindb-alice-storage",
      reconcileWorker: "worker-fn",
    });
    expect(stageStorageRoot(config)).toBe("s3://lamindb-alice-storage");
  });

  it("falls back to the environment, and wants the Neon key and project together", () => {
    expect(
      stageConfig(undefined, {
        DATABASE_URL: "postgresql://postgres@127.0.0.1/hub",
        LAMIN_STORAGE_BUCKET: "b",
        NEON_API_KEY: "napi_x",
        NEON_PROJECT_ID: "p-1",
      }),
    ).toEqual({
      databaseUrl: "postgresql://postgres@127.0.0.1/hub",
      bucket: "b",
      neon: { apiKey: "napi_x", projectId: "p-1" },
    });
    expect(() =>
      stageConfig(undefined, { DATABASE_URL: "postgresql://h/x", NEON_API_KEY: "k" }),
    ).toThrow(/Neon project id is not/);
    expect(() => stageConfig(undefined, {})).toThrow(/DATABASE_URL is not set/);
  });

  it("chooses the Postgres driver from configuration", () => {
    expect(postgresDriverFor("postgresql://u@ep-cool-1.eu-central-1.aws.neon.tech/db", {})).toBe(
      "neon",
    );
    expect(postgresDriverFor("postgresql://postgres@127.0.0.1/db", {})).toBe("pg");
    expect(
      postgresDriverFor("postgresql://postgres@127.0.0.1/db", { LAMIN_DB_DRIVER: "neon" }),
    ).toBe("neon");
    expect(() => postgresDriverFor("postgresql://h/db", { LAMIN_DB_DRIVER: "mysql" })).toThrow(
      /LAMIN_DB_DRIVER is 'mysql'/,
    );
  });
});

describe("routing a stage's events to instances", () => {
  it("asks the hub once per storage root and minute, and forgets after", async () => {
    const asked: string[] = [];
    const records = [
      { id: "1", storage_root: "s3://b/alice/lab" },
      { id: "2", storage_root: "s3://b/alice/lab-2" },
    ];
    const opened: string[] = [];
    let clock = 0;
    const stage = {
      hub: {
        instanceAtLocation: async (location: string) => {
          asked.push(location);
          return records.find((r) => location.startsWith(`${r.storage_root}/`));
        },
      },
      instances: {
        get: async (record: { id: string }) => {
          opened.push(record.id);
          return { id: record.id };
        },
      },
    } as unknown as StageHub;
    const route = routeByLocation(stage, () => clock);
    const event = (key: string) => ({ bucket: "b", key }) as StorageEvent;
    expect(await route(event("alice/lab/a.csv"))).toEqual({ id: "1" });
    expect(await route(event("alice/lab/b/c.csv"))).toEqual({ id: "1" });
    // a root that merely starts like a cached one is not taken for it
    expect(await route(event("alice/lab-2/x.csv"))).toEqual({ id: "2" });
    expect(await route(event("nobody/else.csv"))).toBeUndefined();
    expect(asked).toEqual([
      "s3://b/alice/lab/a.csv",
      "s3://b/alice/lab-2/x.csv",
      "s3://b/nobody/else.csv",
    ]);
    clock += 61_000;
    await route(event("alice/lab/d.csv"));
    expect(asked.at(-1)).toBe("s3://b/alice/lab/d.csv");
    expect(opened).toEqual(["1", "1", "2", "1"]);
  });
});
