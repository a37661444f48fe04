/**
 * `lamin dev`: the serverless flow on a laptop, in one process. An S3-compatible endpoint
 * (s3rver behind a front that checks signatures and names) holds the instance's bucket; the
 * instance (created on first run, kept in `--dir`) stores its artifacts there; the API serves it;
 * and the endpoint's object events go to the same ingest code as the deployed function, so an
 * upload with any S3 client registers an artifact. A development endpoint, not a production one.
 */
import { randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
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
import { startS3Front } from "../dev/s3-front.js";
import { clearTemporary, type FilesystemStore, hardenStore, repairStore } from "../dev/s3-store.js";
import type { Credentials } from "../dev/sigv4.js";
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
  const report = (message: string) => note(`lamin dev: ${message}`);
  // what a crash left: half-received uploads, metadata files cut short
  const tmp = join(dir, "tmp");
  clearTemporary(tmp, report);
  repairStore(join(dir, "s3"), report);
  const credentials = devCredentials(dir);
  // the instance's own S3 client signs with these; so must `aws s3 cp` (printed below)
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  process.env.AWS_REGION ??= "us-east-1";

  const store = await startStore(dir, opts.bucket, tmp, report);
  const front = await startS3Front({
    host: opts.host,
    port: s3Port,
    upstream: store.socket,
    credentials,
    spoolDir: tmp,
    onError: report,
  }).catch(async (error) => {
    await store.close();
    throw error;
  });
  const endpoint = front.url;
  const closeEndpoint = async () => {
    await front.close();
    await store.close();
  };

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
    await closeEndpoint();
    throw error;
  }
  setCurrentInstance(opts.name);

  const ingest = wireEvents(store.events, new Ingestor(instance), opts.json);
  const api = await startApi(instance, { port, host: opts.host, token: opts.token }).catch(
    async (error) => {
      await closeEndpoint();
      await instance.close();
      throw error;
    },
  );
  stopOnSignals(async () => {
    api.close();
    await ingest.idle();
    await closeEndpoint();
    await instance.close();
  });
  if (!isLoopback(opts.host)) {
    note(
      `warning: lamin dev listens on ${opts.host}, where other computers can reach it: its S3 endpoint checks signatures and its API a token, but both speak plain HTTP, and it is a development endpoint, not a production one; pass --host 127.0.0.1 to keep it on this computer`,
    );
  }

  if (opts.json) {
    const ready = {
      s3_endpoint: endpoint,
      storage_root: root,
      api_url: api.url,
      token: api.token,
      ui_url: api.uiUrl,
      access_key_id: credentials.accessKeyId,
      secret_access_key: credentials.secretAccessKey,
    };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
    return;
  }
  const keys = `AWS_ACCESS_KEY_ID=${credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`;
  say(`lamin dev: ${created ? "created" : "reopened"} instance ${instance.slug} (current)`);
  say(`  S3 endpoint:  ${endpoint}  (keys: ${keys})`);
  say(`  storage root: ${root}`);
  say(`  API:          ${api.url}  (docs at ${api.url}/docs)`);
  say(`  token:        ${api.token}`);
  say(`  web UI:       ${api.uiUrl}  (one-time sign-in link)`);
  say(`  data folder:  ${dir}`);
  say("try, in another terminal:");
  say(`  export ${keys}`);
  say(`  aws s3 cp f.csv ${root}/f.csv --endpoint-url ${endpoint}`);
  say("  lamin ls");
  say("Ctrl-C stops everything; the data stays in the data folder.");
}

/**
 * The endpoint's key pair: made at random on the first run and kept in the data folder (readable
 * by its owner only), so that clients configured once keep working across runs.
 */
function devCredentials(dir: string): Credentials {
  const file = join(dir, "s3-credentials.json");
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as Partial<Credentials>;
    if (saved.accessKeyId && saved.secretAccessKey) {
      return { accessKeyId: saved.accessKeyId, secretAccessKey: saved.secretAccessKey };
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      note(`lamin dev: ${file} was unreadable; made new S3 keys`);
    }
  }
  const credentials = {
    accessKeyId: `LDEV${randomBytes(8).toString("hex").toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString("base64url"),
  };
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return credentials;
}

/**
 * s3rver, listening on a socket in a folder of its own (mode 0700): only the front, and this
 * user's processes, can reach it; its file store made crash-safe. Its object events are `events`.
 */
async function startStore(dir: string, bucket: string, tmp: string, report: (m: string) => void) {
  const { default: S3rver } = await import("s3rver");
  const s3rver = new S3rver({
    silent: true,
    directory: join(dir, "s3"),
    configureBuckets: [{ name: bucket, configs: [] }],
    // path-style only: the front checks the bucket named in the path, and sends its own Host
    vhostBuckets: false,
    serviceEndpoint: "lamin-dev.invalid",
  });
  hardenStore((s3rver as unknown as { store: FilesystemStore }).store, tmp, report);
  await s3rver.configureBuckets();
  const folder = mkdtempSync(join(tmpdir(), "lamin-dev-socket-"));
  const socket =
    process.platform === "win32" ? `\\\\?\\pipe\\${basename(folder)}-s3` : join(folder, "s3.sock");
  const server = createServer(s3rver.callback());
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(socket, done);
  });
  return {
    socket,
    events: s3rver as unknown as EventEmitter,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => {
          rmSync(folder, { recursive: true, force: true });
          done();
        });
        server.closeAllConnections();
      }),
  };
}

/** 127.0.0.0/8, ::1 and localhost: addresses no other computer can reach. */
function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1" || /^::ffff:127\./i.test(host);
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
