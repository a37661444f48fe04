/**
 * What a stage of sst.config.ts must declare, as checks over the model the stand-ins recorded
 * (test/infra/standins.ts). Each check throws an Error saying what is wrong, so the tests can
 * also run them against a deliberately mis-wired model and see them fail.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve as resolvePath } from "node:path";
import { type Model, type Recorded, recordOf } from "./standins.js";

export class WiringError extends Error {}

function fail(message: string): never {
  throw new WiringError(message);
}

function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

/** Seconds of an SST duration such as "30 seconds", "6 minutes", "1 day". */
export function seconds(duration: unknown): number {
  const m = /^(\d+(?:\.\d+)?) (second|minute|hour|day)s?$/.exec(String(duration));
  if (!m) fail(`not an SST duration: ${JSON.stringify(duration)}`);
  const unit = { second: 1, minute: 60, hour: 3600, day: 86400 }[m[2] as string] ?? 0;
  return Number(m[1]) * unit;
}

/** Megabytes of an SST size such as "1024 MB" or "1 GB". */
export function megabytes(size: unknown): number {
  const m = /^(\d+(?:\.\d+)?) (MB|GB)$/.exec(String(size));
  if (!m) fail(`not an SST size: ${JSON.stringify(size)}`);
  return Number(m[1]) * (m[2] === "GB" ? 1024 : 1);
}

export function find(model: Model, kind: string, name: string): Recorded {
  const found = model.resources.filter((r) => r.kind === kind && r.name === name);
  ensure(found.length === 1, `expected one ${kind} "${name}", found ${found.length}`);
  return found[0] as Recorded;
}

export function findAll(model: Model, kind: string): Recorded[] {
  return model.resources.filter((r) => r.kind === kind);
}

/** The recorded resource a value stands for: a stand-in itself, or its ARN, URL or name. */
function resolve(model: Model, value: unknown): Recorded | undefined {
  const direct = recordOf(value);
  if (direct) return model.resources.find((r) => r.ref === direct.ref) ?? direct;
  if (typeof value !== "string") return undefined;
  return model.resources.find((r) => {
    const ref = r.ref as { arn?: unknown; name?: unknown };
    const url = urlOf(r);
    return ref.arn === value || url === value || r.physicalName === value;
  });
}

function urlOf(r: Recorded): string | undefined {
  try {
    const url = (r.ref as { url?: unknown }).url;
    return typeof url === "string" ? url : undefined;
  } catch {
    return undefined;
  }
}

const same = (a: Recorded | undefined, b: Recorded) =>
  !!a && a.kind === b.kind && a.name === b.name;

/** The names of what a function links. */
export function linkNames(fn: Recorded): string[] {
  const links: unknown[] = Array.isArray(fn.args.link) ? fn.args.link : [];
  return links.map((l) => {
    const r = recordOf(l);
    return r ? `${r.kind}:${r.name}` : `?${String(l)}`;
  });
}

// ---- the checks ----

/** The functions, the bundle each runs (a name of LAMBDA_ENTRIES) and its time limit. */
export const FUNCTIONS = {
  Api: { bundle: "hub", timeout: 30 },
  Ingest: { bundle: "ingest", timeout: 60 },
  ReconcileWorker: { bundle: "reconcile", timeout: 15 * 60 },
  Reconcile: { bundle: "reconcile", timeout: 60 },
} as const;

export function checkApp(model: Model): void {
  const { app, stage } = model;
  ensure(app.name === "lamindb", `app name is ${app.name}, not lamindb`);
  ensure(app.home === "aws", `home is ${app.home}, not aws`);
  if (stage === "production") {
    ensure(app.removal === "retain", `production removal is ${app.removal}, not retain`);
    ensure(app.protect === true, "production is not protected");
  } else {
    ensure(app.removal === "remove", `stage ${stage}: removal is ${app.removal}, not remove`);
    ensure(!app.protect, `stage ${stage} is protected`);
  }
}

export function checkSecrets(model: Model): void {
  const db = find(model, "sst.Secret", "DatabaseUrl");
  ensure(db.args.placeholder === undefined, "DatabaseUrl must be required (no placeholder)");
  for (const name of ["NeonApiKey", "NeonProjectId"]) {
    const secret = find(model, "sst.Secret", name);
    ensure(secret.args.placeholder === "none", `${name} must be optional with placeholder "none"`);
  }
}

export function checkStorage(model: Model): void {
  const bucket = find(model, "sst.aws.Bucket", "Storage");
  const cors = bucket.args.cors;
  ensure(cors && typeof cors === "object", "the bucket has no CORS rules");
  for (const method of ["GET", "PUT", "HEAD"]) {
    ensure(cors.allowMethods?.includes(method), `CORS does not allow ${method}`);
  }
  ensure(cors.allowHeaders?.includes("*"), "CORS does not allow every header");
  ensure(cors.exposeHeaders?.includes("ETag"), "CORS does not expose ETag");
  ensure(cors.allowOrigins?.includes("*"), "CORS does not allow every origin");

  const lifecycles = findAll(model, "aws.s3.BucketLifecycleConfiguration").filter((l) =>
    same(resolve(model, l.args.bucket), bucket),
  );
  const bucketRules: unknown[] = Array.isArray(bucket.args.lifecycle) ? bucket.args.lifecycle : [];
  ensure(
    lifecycles.length === 1 && bucketRules.length === 0,
    `the bucket needs exactly one lifecycle configuration (found ${lifecycles.length} raw, ${bucketRules.length} SST rules)`,
  );
  const rules: {
    status?: string;
    abortIncompleteMultipartUpload?: { daysAfterInitiation?: number };
    filter?: { prefix?: string };
  }[] = (lifecycles[0] as Recorded).args.rules ?? [];
  ensure(
    rules.some(
      (r) =>
        r.status === "Enabled" &&
        r.abortIncompleteMultipartUpload?.daysAfterInitiation === 7 &&
        !r.filter?.prefix,
    ),
    "no enabled bucket-wide rule aborts incomplete multipart uploads after 7 days",
  );
}

export function checkNotification(model: Model): void {
  const bucket = find(model, "sst.aws.Bucket", "Storage");
  const queue = find(model, "sst.aws.Queue", "IngestQueue");
  const notifies = findAll(model, "sst.aws.Bucket.notify").filter((n) =>
    same(resolve(model, n.args.bucket), bucket),
  );
  ensure(notifies.length === 1, `the bucket has ${notifies.length} notify calls, not 1`);
  const notifications: { queue?: unknown; events?: string[]; filterPrefix?: string }[] =
    (notifies[0] as Recorded).args.notifications ?? [];
  const toQueue = notifications.filter((n) => same(resolve(model, n.queue), queue));
  ensure(toQueue.length === 1, "no bucket notification goes to the ingest queue");
  const events = toQueue[0]?.events ?? [];
  for (const event of ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]) {
    ensure(events.includes(event), `the notification does not send ${event}`);
  }
  ensure(!toQueue[0]?.filterPrefix, "the notification must cover the whole bucket");
}

export function checkQueue(model: Model): void {
  const queue = find(model, "sst.aws.Queue", "IngestQueue");
  const dlq = find(model, "sst.aws.Queue", "IngestDeadLetters");
  const ingest = find(model, "sst.aws.Function", "Ingest");
  const redrive = queue.args.dlq;
  ensure(redrive && typeof redrive === "object", "the ingest queue has no dead-letter queue");
  ensure(
    same(resolve(model, redrive.queue), dlq),
    "the dead-letter queue is not IngestDeadLetters",
  );
  ensure(
    Number.isInteger(redrive.retry) && redrive.retry >= 3 && redrive.retry <= 10,
    `retries before the dead-letter queue: ${redrive.retry}`,
  );
  ensure(
    dlq.args.transform?.queue?.messageRetentionSeconds === 14 * 86400,
    "dead letters must be kept 14 days",
  );
  const visibility = seconds(queue.args.visibilityTimeout ?? "30 seconds");
  const timeout = seconds(ingest.args.timeout ?? "20 seconds");
  ensure(
    visibility >= 6 * timeout,
    `the queue's visibility timeout (${visibility} s) is under 6x the ingest timeout (${timeout} s)`,
  );
}

export function checkSubscription(model: Model): void {
  const queue = find(model, "sst.aws.Queue", "IngestQueue");
  const ingest = find(model, "sst.aws.Function", "Ingest");
  const subs = findAll(model, "sst.aws.Queue.subscribe").filter((s) =>
    same(resolve(model, s.args.queue), queue),
  );
  ensure(subs.length === 1, `the ingest queue has ${subs.length} subscribers, not 1`);
  const sub = subs[0] as Recorded;
  ensure(same(resolve(model, sub.args.subscriber), ingest), "the queue's subscriber is not Ingest");
  const batch = sub.args.batch ?? {};
  ensure(batch.partialResponses === true, "the subscription does not use partial batch responses");
  ensure(batch.size === 10, `batch size ${batch.size}, not 10`);
  ensure(seconds(batch.window) === 5, `batch window ${batch.window}, not 5 seconds`);
  // subscribed by ARN, SST adds no queue rights to the function: it needs them itself
  const permissions: { actions?: string[]; resources?: unknown[] }[] =
    ingest.args.permissions ?? [];
  const consumes = permissions.some(
    (p) =>
      p.actions?.includes("sqs:ReceiveMessage") &&
      p.actions.includes("sqs:DeleteMessage") &&
      p.resources?.some((r) => same(resolve(model, r), queue)),
  );
  const linksQueue = linkNames(ingest).includes("sst.aws.Queue:IngestQueue");
  ensure(consumes || linksQueue, "Ingest may not receive and delete the ingest queue's messages");
}

/**
 * Every function: Node 22 on arm64 from a prebuilt bundle folder of its own under `bundleRoot`
 * (SST writes each function's links into that folder, so sharing one would mix them up),
 * linked to the database and the bucket.
 */
export function checkFunctions(model: Model, bundleRoot: string): void {
  const fns = findAll(model, "sst.aws.Function");
  ensure(
    fns
      .map((f) => f.name)
      .sort()
      .join() === Object.keys(FUNCTIONS).sort().join(),
    `functions: ${fns.map((f) => f.name).join(", ")}`,
  );
  const folders = new Map<string, string>();
  for (const [name, want] of Object.entries(FUNCTIONS)) {
    const fn = find(model, "sst.aws.Function", name);
    const a = fn.args;
    ensure(a.runtime === "nodejs22.x", `${name}: runtime ${a.runtime}`);
    ensure(a.architecture === "arm64", `${name}: architecture ${a.architecture}`);
    ensure(a.handler === "index.handler", `${name}: handler ${a.handler}`);
    const folder = resolvePath(String(a.bundle));
    ensure(
      dirname(folder) === resolvePath(bundleRoot),
      `${name}: bundle ${a.bundle} is not a folder of ${bundleRoot}`,
    );
    ensure(existsSync(join(folder, "index.mjs")), `${name}: ${a.bundle}/index.mjs was not built`);
    const other = folders.get(folder);
    ensure(!other, `${name} and ${other} share the bundle folder ${a.bundle}`);
    folders.set(folder, name);
    ensure(seconds(a.timeout) === want.timeout, `${name}: timeout ${a.timeout}`);
    ensure(a.name === undefined, `${name}: a fixed physical name would collide across stages`);
    const links = linkNames(fn);
    for (const link of [
      "sst.Secret:DatabaseUrl",
      "sst.Secret:NeonApiKey",
      "sst.Secret:NeonProjectId",
      "sst.aws.Bucket:Storage",
    ]) {
      ensure(links.includes(link), `${name} does not link ${link}`);
    }
    ensure(a.environment?.LAMIN_DB_DRIVER === "neon", `${name}: LAMIN_DB_DRIVER is not neon`);
    ensure(
      a.environment?.LAMIN_STAGE === model.stage,
      `${name}: LAMIN_STAGE is ${a.environment?.LAMIN_STAGE}, not ${model.stage}`,
    );
  }
  const api = find(model, "sst.aws.Function", "Api");
  ensure(api.args.url === true, "the Api has no Function URL");
  ensure(megabytes(api.args.memory) === 1024, `Api memory ${api.args.memory}`);
  for (const name of ["Api", "Ingest", "ReconcileWorker"]) {
    ensure(
      !linkNames(find(model, "sst.aws.Function", name)).includes(
        "sst.aws.Function:ReconcileWorker",
      ),
      `${name} needs no right to invoke the reconcile worker`,
    );
  }
  const reconcile = find(model, "sst.aws.Function", "Reconcile");
  ensure(
    linkNames(reconcile).includes("sst.aws.Function:ReconcileWorker"),
    "Reconcile does not link ReconcileWorker (it could not invoke it)",
  );
}

/**
 * What each function ships is byte for byte the bundle it should run, as built by
 * `bundleLambda` (`reference`: bundle name -> that build's index.mjs).
 */
export function checkBundles(model: Model, reference: Record<string, string>): void {
  for (const [name, want] of Object.entries(FUNCTIONS)) {
    const fn = find(model, "sst.aws.Function", name);
    const expected = reference[want.bundle];
    ensure(expected, `no reference build of the ${want.bundle} bundle`);
    const shipped = readFileSync(join(String(fn.args.bundle), "index.mjs"));
    ensure(
      shipped.equals(readFileSync(expected)),
      `${name} ships ${fn.args.bundle}/index.mjs, which is not the ${want.bundle} bundle`,
    );
  }
}

export function checkSchedule(model: Model): void {
  const crons = [...findAll(model, "sst.aws.CronV2"), ...findAll(model, "sst.aws.Cron")];
  ensure(crons.length === 1, `${crons.length} schedules, not 1`);
  const cron = crons[0] as Recorded;
  ensure(cron.name === "ReconcileSchedule", `the schedule is named ${cron.name}`);
  ensure(cron.args.schedule === "rate(1 day)", `the reconcile runs on ${cron.args.schedule}`);
  ensure(
    same(resolve(model, cron.args.function), find(model, "sst.aws.Function", "Reconcile")),
    "the schedule does not run Reconcile",
  );
}

export function checkOutputs(model: Model): void {
  const api = find(model, "sst.aws.Function", "Api").ref as { url: string };
  const bucket = find(model, "sst.aws.Bucket", "Storage").ref as { name: string };
  const dlq = find(model, "sst.aws.Queue", "IngestDeadLetters").ref as { url: string };
  const want = { api: api.url, bucket: bucket.name, deadLetters: dlq.url };
  ensure(
    JSON.stringify(model.outputs) === JSON.stringify(want),
    `outputs ${JSON.stringify(model.outputs)}, not ${JSON.stringify(want)}`,
  );
}

/** Everything a stage must declare. */
export function checkStage(model: Model, bundleRoot: string): void {
  checkApp(model);
  checkSecrets(model);
  checkStorage(model);
  checkNotification(model);
  checkQueue(model);
  checkSubscription(model);
  checkFunctions(model, bundleRoot);
  checkSchedule(model);
  checkOutputs(model);
}

/** A copy of the model with one resource's arguments changed (for the mis-wiring checks). */
export function withArgs(
  model: Model,
  kind: string,
  name: string,
  // biome-ignore lint/suspicious/noExplicitAny: see Recorded.args
  change: (args: any) => any,
): Model {
  find(model, kind, name);
  return {
    ...model,
    resources: model.resources.map((r) =>
      r.kind === kind && r.name === name ? { ...r, args: change(r.args) } : r,
    ),
  };
}

/** A copy of the model without the resources (or calls) of a kind. */
export function without(model: Model, kind: string): Model {
  return { ...model, resources: model.resources.filter((r) => r.kind !== kind) };
}
