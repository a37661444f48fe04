/**
 * `lamin serve`: the current instance's HTTP API on this machine. While it runs, other `lamin`
 * commands for the instance go through it (it holds the embedded database).
 */
import { randomBytes } from "node:crypto";
import { serve as listen } from "@hono/node-server";
import { generateToken, hashToken, tokenMatches } from "../../core/auth.js";
import { ConflictError, ValidationError } from "../../core/errors.js";
import type { IngestOutcome } from "../../core/ingest/ingest.js";
import { type FolderWatcher, watchFolder, watchRefusal } from "../../core/ingest/watch.js";
import type { Instance } from "../../core/instance.js";
import { registerServer, resolveInstanceSettings, unregisterServer } from "../../core/settings.js";
import { openInstance } from "../../core/setup.js";
import { presignedOrNone } from "../../core/storage/types.js";
import { createApp } from "../../functions/api/app.js";
import { OneTimeCodes, sessionKeys } from "../../functions/api/session.js";
import { builtWebUi, storageOrigins } from "../../functions/api/web.js";
import { note, say } from "../output.js";
import { localServer } from "../server.js";

declare const __VERSION__: string;

export interface RunningApi {
  url: string;
  token: string;
  /** The web UI, signed in by a one-time link (never the token in a page's URL). */
  uiUrl: string;
  /** Stop listening and forget the server (the instance stays open). */
  close(): void;
}

export function parsePort(value: string, option = "--port"): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ValidationError(
      `invalid port '${value}'`,
      `pass ${option} with a number from 0 to 65535 (0 picks a free one)`,
    );
  }
  return port;
}

/** Listen on host:port (0 picks a free port); the URL it is reached at, once listening. */
export async function listenOn(
  fetch: (request: Request) => Response | Promise<Response>,
  opts: { port: number; host: string },
): Promise<{ url: string; server: ReturnType<typeof listen> }> {
  const server = listen({ fetch, port: opts.port, hostname: opts.host });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new ValidationError(
              `port ${opts.port} is in use`,
              "pass another --port (0 picks a free one)",
            )
          : error,
      ),
    );
  });
  const address = server.address();
  const boundPort = typeof address === "object" && address ? address.port : opts.port;
  const url = `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${boundPort}`;
  return { url, server };
}

/**
 * Serve `instance`'s API and register the server, so that other `lamin` commands for the
 * instance go through it.
 */
export async function startApi(
  instance: Instance,
  opts: { port: number; host: string; token?: string | undefined },
): Promise<RunningApi> {
  const token = opts.token ?? process.env.LAMIN_SERVE_TOKEN ?? generateToken();
  const digest = hashToken(token);
  const codes = new OneTimeCodes();
  // object storage takes the browser's uploads itself: the UI's pages may connect to it (a
  // storage that cannot sign URLs, e.g. GCS without a service account, takes no such uploads)
  const probe = await presignedOrNone(instance.storage.presignPut?.(".lamindb/ui-probe", 60));
  const app = createApp({
    instance: () => instance,
    authorize: (given) => given !== undefined && tokenMatches(given, digest),
    version: typeof __VERSION__ === "string" ? __VERSION__ : undefined,
    health: { instance: instance.settings.uid },
    web: builtWebUi(),
    storageOrigins: storageOrigins([probe], false),
    // sessions of this process only: a restart signs browsers out
    session: { keys: sessionKeys(randomBytes(32)), codes },
  });
  const { url, server } = await listenOn(app.fetch, opts);
  const name = instance.settings.name;
  registerServer(name, { url, token, pid: process.pid, startedAt: new Date().toISOString() });
  process.once("exit", () => unregisterServer(name));
  return {
    url,
    token,
    uiUrl: `${url}/ui/?code=${codes.issue(token)}`,
    close() {
      unregisterServer(name);
      server.close();
    },
  };
}

/** Run `stop` once on SIGINT or SIGTERM, then exit. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const once = async () => {
    if (stopping) return;
    stopping = true;
    await stop().catch(() => {});
    process.exit(0);
  };
  process.once("SIGINT", once);
  process.once("SIGTERM", once);
}

export async function serve(opts: {
  json?: boolean;
  port: string;
  host: string;
  token?: string;
  watch?: boolean;
}) {
  const port = parsePort(opts.port);
  const settings = resolveInstanceSettings();
  // a second server would only wait for the first to let go of the database: say where it is
  const running = settings.db.kind === "remote" ? undefined : await localServer(settings);
  if (running) {
    throw new ConflictError(
      `'${settings.name}' is already served at ${running.url} (process ${running.pid})`,
      "use that server (lamin commands for this instance go through it), or stop it first (Ctrl-C where it runs, or kill its process)",
    );
  }
  const instance = await openInstance(settings.name, {
    purpose: "lamin serve",
    onWait: (holder) =>
      note(`waiting for process ${holder.pid}, which has the instance database open ...`),
  });
  const refusal = opts.watch ? watchRefusal(instance.storage) : undefined;
  if (refusal) {
    await instance.close();
    throw refusal;
  }
  const api = await startApi(instance, { port, host: opts.host, token: opts.token }).catch(
    async (error) => {
      await instance.close();
      throw error;
    },
  );
  let watcher: FolderWatcher | undefined;
  if (opts.watch) {
    try {
      watcher = watchFolder(instance, {
        onOutcome: (outcome, event) => {
          const line = watchLine(outcome, event.type);
          if (line) note(line);
        },
        onError: (error, key) => note(`watch: ${key ? `${key}: ` : ""}${error.message}`),
      });
    } catch (error) {
      api.close();
      await instance.close();
      throw error;
    }
  }
  stopOnSignals(async () => {
    await watcher?.close();
    api.close();
    await instance.close();
  });

  if (opts.json) {
    const ready = { url: api.url, token: api.token, ui_url: api.uiUrl };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
  } else {
    say(`serving ${instance.slug} at ${api.url}`);
    say(`token:   ${api.token}`);
    say(`web UI:  ${api.uiUrl}  (a one-time sign-in link; later, sign in with the token)`);
    say(`docs:    ${api.url}/docs`);
    say("other lamin commands for this instance now go through this server; Ctrl-C stops it");
    if (watcher) {
      say(
        `watching ${instance.storageRecord.root} for files (earlier changes: \`lamin reconcile\`)`,
      );
    }
  }
}

/** One stderr line per change the watcher made; nothing for what changed nothing. */
function watchLine(o: IngestOutcome, type: "created" | "removed"): string | undefined {
  switch (o.action) {
    case "created":
      return `registered ${o.key} -> ${o.uid}`;
    case "new-version":
      return `new version ${o.key} -> ${o.uid}`;
    case "restored":
      return `restored ${o.key} -> ${o.uid}`;
    case "trashed":
      return `trashed ${o.key} (${o.uid}${o.reason ? `; ${o.reason}` : ""})`;
    case "skipped":
      // a deleted file that was never registered is not news
      return type === "created" ? `skipped ${o.key}: ${o.reason}` : undefined;
    default:
      return undefined;
  }
}
