/**
 * `lamin dev`: the serverless flow on a laptop, in one process. An S3-compatible endpoint
 * (s3rver) holds the instance's bucket; the instance (created on first run, kept in `--dir`)
 * stores its artifacts there; the API serves it; and the endpoint's object events go to the same
 * ingest code as the deployed function, so an upload with any S3 client registers an artifact.
 */
import type { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConflictError, ValidationError } from "../../core/errors.js";
import { parseS3Notification, type StorageEvent } from "../../core/ingest/events.js";
import { Ingestor, type IngestResult } from "../../core/ingest/ingest.js";
import type { Instance } from "../../core/instance.js";
import {
  loadInstanceSettings,
  saveInstanceSettings,
  setCurrentInstance,
} from "../../core/settings.js";
import { initInstance, openInstance } from "../../core/setup.js";
import { note, say } from "../output.js";
import { parsePort, startApi, stopOnSignals } from "./serve.js";

export interface DevOptions {
  dir: string;
  port: string;
  s3Port: string;
  host: string;
  bucket: string;
  prefix: string;
  name: string;
  token?: string;
  json?: boolean;
}

/** s3rver accepts only its own well-known key pair. */
const S3RVER_KEY = "S3RVER";

export async function dev(opts: DevOptions) {
  const port = parsePort(opts.port);
  const s3Port = parsePort(opts.s3Port, "--s3-port");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(opts.bucket)) {
    throw new ValidationError(
      `invalid bucket name '${opts.bucket}'`,
      "use 3-63 lower-case letters, digits, dots and hyphens",
    );
  }
  const prefix = opts.prefix.replace(/^\/+|\/+$/g, "");
  const root = prefix ? `s3://${opts.bucket}/${prefix}` : `s3://${opts.bucket}`;
  const existing = loadInstanceSettings(opts.name);
  if (existing && existing.storageRoot !== root) {
    throw new ConflictError(
      `an instance named '${opts.name}' already exists with storage ${existing.storageRoot}`,
      "pass another --name, or the same --bucket and --prefix as before",
    );
  }
  const dir = resolve(opts.dir);
  mkdirSync(join(dir, "s3"), { recursive: true });
  // the instance's own S3 client signs with these; so must `aws s3 cp` (printed below)
  process.env.AWS_ACCESS_KEY_ID = S3RVER_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_KEY;
  process.env.AWS_REGION ??= "us-east-1";

  const { default: S3rver } = await import("s3rver");
  const s3 = new S3rver({
    address: opts.host,
    port: s3Port,
    silent: true,
    directory: join(dir, "s3"),
    configureBuckets: [{ name: opts.bucket, configs: [] }],
  });
  const started = await s3.run().catch((error: NodeJS.ErrnoException) => {
    throw error.code === "EADDRINUSE"
      ? new ValidationError(`port ${s3Port} is in use`, "pass another --s3-port (0 picks one)")
      : error;
  });
  const endpoint = `http://${opts.host}:${started.port}`;

  let instance: Instance;
  let created = false;
  try {
    if (existing) {
      // the endpoint's port may differ from the last run
      saveInstanceSettings({ ...existing, storageEndpoint: endpoint });
      instance = await openInstance(opts.name, { purpose: "lamin dev" });
    } else {
      instance = await initInstance({
        storage: root,
        name: opts.name,
        endpoint,
        pgliteDir: join(dir, "pglite"),
      });
      created = true;
    }
  } catch (error) {
    await s3.close();
    throw error;
  }
  setCurrentInstance(opts.name);

  const ingest = wireEvents(s3 as unknown as EventEmitter, new Ingestor(instance), opts.json);
  const api = await startApi(instance, { port, host: opts.host, token: opts.token }).catch(
    async (error) => {
      await s3.close();
      await instance.close();
      throw error;
    },
  );
  stopOnSignals(async () => {
    api.close();
    await ingest.idle();
    await s3.close();
    await instance.close();
  });

  if (opts.json) {
    const ready = { s3_endpoint: endpoint, storage_root: root, api_url: api.url, token: api.token };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
    return;
  }
  say(`lamin dev: ${created ? "created" : "reopened"} instance ${instance.slug} (current)`);
  say(
    `  S3 endpoint:  ${endpoint}  (keys: AWS_ACCESS_KEY_ID=${S3RVER_KEY} AWS_SECRET_ACCESS_KEY=${S3RVER_KEY})`,
  );
  say(`  storage root: ${root}`);
  say(`  API:          ${api.url}  (docs at ${api.url}/docs)`);
  say(`  token:        ${api.token}`);
  say(`  data folder:  ${dir}`);
  say("try, in another terminal:");
  say(`  export AWS_ACCESS_KEY_ID=${S3RVER_KEY} AWS_SECRET_ACCESS_KEY=${S3RVER_KEY}`);
  say(`  aws s3 cp f.csv ${root}/f.csv --endpoint-url ${endpoint}`);
  say("  lamin ls");
  say("Ctrl-C stops everything; the data stays in the data folder.");
}

const VERBS: Partial<Record<string, string>> = {
  created: "registered",
  "new-version": "new version",
  restored: "restored",
  completed: "upload completed",
  trashed: "trashed",
};

/**
 * Hand the endpoint's events to the ingest code, one notification after the other (s3rver
 * emits them in the order the requests completed). s3rver sends keys raw, not URL-encoded.
 */
function wireEvents(server: EventEmitter, ingestor: Ingestor, quiet = false) {
  let queue: Promise<unknown> = Promise.resolve();
  const report = (r: IngestResult) => {
    if (!r.ok) return note(`error: ${r.event.key}: ${r.error.message}`);
    const { action, key, uid, reason } = r.outcome;
    const verb = VERBS[action];
    if (verb) note(`${verb}: ${key}${uid ? ` -> ${uid}` : ""}`);
    else if (action === "skipped" && !quiet) note(`skipped ${key}: ${reason}`);
  };
  server.on("event", (notification: unknown) => {
    let events: StorageEvent[];
    try {
      events = parseS3Notification(notification, { keysEncoded: false }).filter(
        (e): e is StorageEvent => !("reason" in e),
      );
    } catch (error) {
      note(`error: unreadable event: ${(error as Error).message}`);
      return;
    }
    queue = queue
      .then(() => ingestor.applyAll(events))
      .then((results) => {
        for (const r of results) report(r);
      })
      .catch((error: Error) => note(`error: ${error.message}`));
  });
  return { idle: () => queue };
}
