/**
 * The SST definition (sst.config.ts + infra/), evaluated against stand-ins of SST's globals
 * (test/infra/standins.ts): for the stages `alice` and `production`, the resources, their
 * arguments, links, notifications and subscriptions are checked (test/infra/checks.ts), and
 * the checks are shown to fail on a mis-wired model. `sst deploy` itself cannot run here (no
 * AWS); `npm run typecheck:infra` checks the same files against SST's real types.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUNDLE_ROOT_ENV,
  INGEST_TIMEOUT_SECONDS,
  INGEST_VISIBILITY_SECONDS,
} from "../infra/settings.js";
import { bundleLambda } from "../scripts/bundle-lambda.mjs";
import {
  checkApp,
  checkBundles,
  checkFunctions,
  checkNotification,
  checkOutputs,
  checkQueue,
  checkSchedule,
  checkStage,
  checkStorage,
  checkSubscription,
  FUNCTIONS,
  find,
  findAll,
  linkNames,
  seconds,
  WiringError,
  withArgs,
  without,
} from "./infra/checks.js";
import { evaluateStage, type Model } from "./infra/standins.js";

const CONFIG = new URL("../sst.config.ts", import.meta.url);

// the bundles go to a folder of this test's own, never over .build/lambda under another test
const bundleRoot = mkdtempSync(join(tmpdir(), "lamin-infra-"));
const models: Record<"alice" | "production", Model> = {} as never;
let savedRoot: string | undefined;

beforeAll(async () => {
  savedRoot = process.env[BUNDLE_ROOT_ENV];
  process.env[BUNDLE_ROOT_ENV] = bundleRoot;
  models.alice = await evaluateStage("alice", CONFIG);
  models.production = await evaluateStage("production", CONFIG);
});

afterAll(() => {
  if (savedRoot === undefined) delete process.env[BUNDLE_ROOT_ENV];
  else process.env[BUNDLE_ROOT_ENV] = savedRoot;
  rmSync(bundleRoot, { recursive: true, force: true });
});

describe.each(["alice", "production"] as const)("stage %s", (stage) => {
  it("declares everything a stage needs", () => {
    expect(() => checkStage(models[stage], bundleRoot)).not.toThrow();
  });

  it("keeps the bucket and protects the stage only in production", () => {
    const { app } = models[stage];
    expect(app).toMatchObject({ name: "lamindb", home: "aws" });
    if (stage === "production") expect(app).toMatchObject({ removal: "retain", protect: true });
    else expect(app).toMatchObject({ removal: "remove", protect: false });
  });

  it("declares exactly the expected resources", () => {
    const names = models[stage].resources.map((r) => `${r.kind}:${r.name}`).sort();
    expect(names).toEqual(
      [
        "sst.Secret:DatabaseUrl",
        "sst.Secret:NeonApiKey",
        "sst.Secret:NeonProjectId",
        "sst.aws.Bucket:Storage",
        "aws.s3.BucketLifecycleConfiguration:StorageLifecycle",
        "sst.aws.Queue:IngestDeadLetters",
        "sst.aws.Queue:IngestQueue",
        "sst.aws.Bucket.notify:StorageNotifications",
        "sst.aws.Function:Api",
        "sst.aws.Function:Ingest",
        "sst.aws.Function:ReconcileWorker",
        "sst.aws.Function:Reconcile",
        "sst.aws.CronV2:ReconcileSchedule",
        "sst.aws.Queue.subscribe:IngestQueueSubscriber",
      ].sort(),
    );
  });
});

describe("stage alice in detail", () => {
  const model = () => models.alice;

  it("makes the bucket reachable from browsers with presigned URLs", () => {
    const bucket = find(model(), "sst.aws.Bucket", "Storage");
    expect(bucket.args.cors).toMatchObject({
      allowOrigins: ["*"],
      allowMethods: ["GET", "PUT", "HEAD"],
      allowHeaders: ["*"],
      exposeHeaders: ["ETag"],
    });
    const lifecycle = find(model(), "aws.s3.BucketLifecycleConfiguration", "StorageLifecycle");
    expect(lifecycle.args.bucket).toBe((bucket.ref as { name: string }).name);
    expect(lifecycle.args.rules).toEqual([
      expect.objectContaining({
        status: "Enabled",
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      }),
    ]);
  });

  it("sends created and removed objects to the ingest queue", () => {
    const notify = find(model(), "sst.aws.Bucket.notify", "StorageNotifications");
    const queue = find(model(), "sst.aws.Queue", "IngestQueue");
    expect(notify.args.notifications).toEqual([
      { name: "Ingest", queue: queue.ref, events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"] },
    ]);
  });

  it("retries events 5 times, then keeps them 14 days in the dead-letter queue", () => {
    const queue = find(model(), "sst.aws.Queue", "IngestQueue");
    const dlq = find(model(), "sst.aws.Queue", "IngestDeadLetters");
    expect(queue.args.dlq).toEqual({ queue: (dlq.ref as { arn: string }).arn, retry: 5 });
    expect(dlq.args.transform.queue.messageRetentionSeconds).toBe(14 * 24 * 3600);
  });

  it("hides a taken message 6x the ingest function's time limit, from the same constant", () => {
    const queue = find(model(), "sst.aws.Queue", "IngestQueue");
    const ingest = find(model(), "sst.aws.Function", "Ingest");
    expect(seconds(ingest.args.timeout)).toBe(INGEST_TIMEOUT_SECONDS);
    expect(seconds(queue.args.visibilityTimeout)).toBe(INGEST_VISIBILITY_SECONDS);
    expect(INGEST_VISIBILITY_SECONDS).toBe(6 * INGEST_TIMEOUT_SECONDS);
    expect(seconds(queue.args.visibilityTimeout)).toBe(6 * 60);
  });

  it("subscribes Ingest in batches with partial responses, its concurrency capped", () => {
    const sub = find(model(), "sst.aws.Queue.subscribe", "IngestQueueSubscriber");
    const ingest = find(model(), "sst.aws.Function", "Ingest");
    expect(sub.args.subscriber).toBe((ingest.ref as { arn: string }).arn);
    expect(sub.args.batch).toEqual({ size: 10, window: "5 seconds", partialResponses: true });
    expect(
      sub.args.transform.eventSourceMapping.scalingConfig.maximumConcurrency,
    ).toBeGreaterThanOrEqual(2);
  });

  it("serves the hub from the Api function's URL", () => {
    const api = find(model(), "sst.aws.Function", "Api");
    expect(api.args).toMatchObject({ url: true, timeout: "30 seconds", memory: "1024 MB" });
    expect(model().outputs.api).toBe("https://lamindb-alice-api.lambda-url.us-east-1.on.aws/");
  });

  it("links every function to the secrets and the bucket; Reconcile also to its worker", () => {
    for (const fn of findAll(model(), "sst.aws.Function")) {
      expect(linkNames(fn).slice(0, 4)).toEqual([
        "sst.Secret:DatabaseUrl",
        "sst.Secret:NeonApiKey",
        "sst.Secret:NeonProjectId",
        "sst.aws.Bucket:Storage",
      ]);
    }
    const reconcile = find(model(), "sst.aws.Function", "Reconcile");
    expect(linkNames(reconcile)).toContain("sst.aws.Function:ReconcileWorker");
    expect(find(model(), "sst.aws.Function", "ReconcileWorker").args.timeout).toBe("900 seconds");
    expect(reconcile.args.timeout).toBe("60 seconds");
  });

  it("runs Reconcile once a day", () => {
    const cron = find(model(), "sst.aws.CronV2", "ReconcileSchedule");
    expect(cron.args.schedule).toBe("rate(1 day)");
    expect(cron.args.function).toBe(find(model(), "sst.aws.Function", "Reconcile").ref);
  });
});

describe("prebuilt bundles", () => {
  // a build of each bundle of our own, with the same builder the bundle tests use
  const referenceRoot = mkdtempSync(join(tmpdir(), "lamin-infra-reference-"));
  const reference: Record<string, string> = {};
  beforeAll(async () => {
    for (const bundle of new Set(Object.values(FUNCTIONS).map((f) => f.bundle))) {
      reference[bundle] = (await bundleLambda(bundle, { outRoot: referenceRoot })).outfile;
    }
  });
  afterAll(() => rmSync(referenceRoot, { recursive: true, force: true }));

  it("ships, for every function, byte for byte the bundle bundleLambda builds", () => {
    for (const stage of ["alice", "production"] as const) {
      expect(() => checkBundles(models[stage], reference)).not.toThrow();
    }
    const folders = findAll(models.alice, "sst.aws.Function").map((f) => f.args.bundle);
    expect(new Set(folders).size).toBe(4);
    for (const folder of folders) {
      expect(existsSync(join(folder, "index.mjs"))).toBe(true);
      // the hub and instances are migrated at run time from the SQL files beside the code
      for (const journal of ["hub", "instance"]) {
        expect(existsSync(join(folder, "migrations", journal, "meta", "_journal.json"))).toBe(true);
      }
    }
  });

  it("catches a function shipping another function's bundle", () => {
    const ingestFolder = find(models.alice, "sst.aws.Function", "Ingest").args.bundle;
    const m = withArgs(models.alice, "sst.aws.Function", "Api", (a) => ({
      ...a,
      bundle: ingestFolder,
    }));
    expect(() => checkBundles(m, reference)).toThrow(/Api ships .* not the hub bundle/);
    expect(() => checkFunctions(m, bundleRoot)).toThrow(/share the bundle folder/);
  });
});

describe("two stages never share a name", () => {
  it("derives every physical name, and every output, from the stage", () => {
    const alice = models.alice.resources.map((r) => r.physicalName);
    const production = new Set(models.production.resources.map((r) => r.physicalName));
    for (const name of alice) expect(production.has(name), name).toBe(false);
    for (const key of ["api", "bucket", "deadLetters"]) {
      expect(models.alice.outputs[key]).not.toBe(models.production.outputs[key]);
      expect(String(models.alice.outputs[key])).toContain("alice");
    }
    for (const fn of findAll(models.production, "sst.aws.Function")) {
      expect(fn.args.environment.LAMIN_STAGE).toBe("production");
    }
  });
});

describe("the checks catch mis-wiring", () => {
  const alice = () => models.alice;
  const bites = (check: () => void, message: RegExp) => {
    expect(check).toThrow(WiringError);
    expect(check).toThrow(message);
  };

  it("a bucket without notifications", () => {
    bites(() => checkNotification(without(alice(), "sst.aws.Bucket.notify")), /0 notify calls/);
  });

  it("a notification that misses removed objects", () => {
    const m = withArgs(alice(), "sst.aws.Bucket.notify", "StorageNotifications", (a) => ({
      ...a,
      notifications: a.notifications.map((n: { events: string[] }) => ({
        ...n,
        events: ["s3:ObjectCreated:*"],
      })),
    }));
    bites(() => checkNotification(m), /s3:ObjectRemoved/);
  });

  it("a function that does not link the bucket", () => {
    const m = withArgs(alice(), "sst.aws.Function", "Ingest", (a) => ({
      ...a,
      link: a.link.slice(0, 3),
    }));
    bites(() => checkFunctions(m, bundleRoot), /Ingest does not link sst.aws.Bucket:Storage/);
  });

  it("a function that does not link the database", () => {
    const m = withArgs(alice(), "sst.aws.Function", "Api", (a) => ({
      ...a,
      link: a.link.slice(1),
    }));
    bites(() => checkFunctions(m, bundleRoot), /Api does not link sst.Secret:DatabaseUrl/);
  });

  it("a visibility timeout shorter than 6x the ingest timeout", () => {
    const m = withArgs(alice(), "sst.aws.Queue", "IngestQueue", (a) => ({
      ...a,
      visibilityTimeout: "5 minutes",
    }));
    bites(() => checkQueue(m), /under 6x the ingest timeout/);
    // ... and raising the ingest timeout without the queue's breaks it too
    const slower = withArgs(alice(), "sst.aws.Function", "Ingest", (a) => ({
      ...a,
      timeout: "2 minutes",
    }));
    bites(() => checkQueue(slower), /under 6x/);
  });

  it("a queue without a dead-letter queue", () => {
    const m = withArgs(alice(), "sst.aws.Queue", "IngestQueue", ({ dlq: _, ...a }) => a);
    bites(() => checkQueue(m), /no dead-letter queue/);
  });

  it("a subscription without partial responses, or without the right to consume", () => {
    const m = withArgs(alice(), "sst.aws.Queue.subscribe", "IngestQueueSubscriber", (a) => ({
      ...a,
      batch: { ...a.batch, partialResponses: false },
    }));
    bites(() => checkSubscription(m), /partial batch responses/);
    const noRights = withArgs(alice(), "sst.aws.Function", "Ingest", (a) => ({
      ...a,
      permissions: [],
    }));
    bites(() => checkSubscription(noRights), /may not receive/);
  });

  it("a Reconcile that cannot invoke its worker, or a schedule on the wrong function", () => {
    const m = withArgs(alice(), "sst.aws.Function", "Reconcile", (a) => ({
      ...a,
      link: a.link.slice(0, 4),
    }));
    bites(() => checkFunctions(m, bundleRoot), /does not link ReconcileWorker/);
    const wrong = withArgs(alice(), "sst.aws.CronV2", "ReconcileSchedule", (a) => ({
      ...a,
      function: find(alice(), "sst.aws.Function", "ReconcileWorker").ref,
    }));
    bites(() => checkSchedule(wrong), /does not run Reconcile/);
  });

  it("an Api without a URL, a CORS rule without PUT, a stage config of production elsewhere", () => {
    const noUrl = withArgs(alice(), "sst.aws.Function", "Api", (a) => ({ ...a, url: false }));
    bites(() => checkFunctions(noUrl, bundleRoot), /no Function URL/);
    const noPut = withArgs(alice(), "sst.aws.Bucket", "Storage", (a) => ({
      ...a,
      cors: { ...a.cors, allowMethods: ["GET", "HEAD"] },
    }));
    bites(() => checkStorage(noPut), /CORS does not allow PUT/);
    bites(() => checkApp({ ...alice(), app: { ...alice().app, removal: "retain" } }), /removal/);
    bites(
      () => checkApp({ ...models.production, app: { ...models.production.app, protect: false } }),
      /not protected/,
    );
  });

  it("outputs that do not point at the deployed resources", () => {
    bites(
      () => checkOutputs({ ...alice(), outputs: { ...alice().outputs, bucket: "other" } }),
      /outputs/,
    );
  });

  it("a bundle that was never built", () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "lamin-infra-empty-"));
    try {
      const m = {
        ...alice(),
        resources: alice().resources.map((r) =>
          r.kind === "sst.aws.Function"
            ? {
                ...r,
                args: { ...r.args, bundle: join(elsewhere, basename(String(r.args.bundle))) },
              }
            : r,
        ),
      };
      bites(() => checkFunctions(m, elsewhere), /index.mjs was not built/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
