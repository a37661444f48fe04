/**
 * Whether to send a command to the `lamin serve` recorded for the instance. Its record in
 * `$LAMIN_HOME/servers/` names a live process (core/settings.ts); the server must also answer
 * `/health` as this instance, asked without the token. A record that fails this (its server
 * was killed, its port taken by another program) is removed, once, with a note, and the command
 * opens the instance itself. The token goes only to a server that answered as the instance.
 */
import { pgliteLockPath, readLockHolder } from "../core/db/pglite-lock.js";
import {
  type InstanceSettings,
  type LocalServer,
  runningServer,
  unregisterServer,
} from "../core/settings.js";
import { note } from "./output.js";

/** A server on this machine answers /health at once, unless it is busy (PGlite blocks it). */
const PROBE_MS = 2000;

export async function localServer(settings: InstanceSettings): Promise<LocalServer | undefined> {
  const server = runningServer(settings.name);
  if (!server) return undefined;
  const answer = await identify(server.url);
  if (answer === settings.uid) return server;
  // slow to answer, but holding the instance's database: the server, busy
  if (answer === "timeout" && holdsDatabase(settings, server.pid)) return server;
  unregisterServer(settings.name);
  note(
    `note: ${server.url} (process ${server.pid}), recorded as the lamin serve of ${settings.name}, ${
      answer === "timeout" || answer === "unreachable"
        ? "does not answer"
        : `does not answer as ${settings.name}`
    }: opened the instance directly and removed the record (start the server again with \`lamin serve\`)`,
  );
  return undefined;
}

/** The instance uid a server's /health names, or why there is none. */
async function identify(url: string): Promise<string | "timeout" | "unreachable" | "other"> {
  try {
    const res = await fetch(`${url}/health`, {
      redirect: "manual",
      signal: AbortSignal.timeout(PROBE_MS),
    });
    const body = (await res.json().catch(() => undefined)) as { instance?: unknown } | undefined;
    return res.ok && typeof body?.instance === "string" ? body.instance : "other";
  } catch (error) {
    return (error as Error).name === "TimeoutError" ? "timeout" : "unreachable";
  }
}

function holdsDatabase(settings: InstanceSettings, pid: number): boolean {
  return (
    settings.db.kind === "pglite" &&
    readLockHolder(pgliteLockPath(settings.db.dataDir))?.pid === pid
  );
}
