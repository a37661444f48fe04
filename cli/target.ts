/**
 * Which instance a command talks to, and how: a remote one over HTTPS; a local one through its
 * running `lamin serve` if there is one (fast: no database to open, and the embedded database
 * stays with the server); otherwise the local database in this process. Modules load lazily.
 */
import type { ReconcileReport } from "../core/ingest/reconcile.js";
import type { ArtifactsApi } from "../core/registry/artifacts.js";
import { resolveInstanceSettings, runningServer } from "../core/settings.js";
import { note } from "./output.js";

export interface Target {
  artifacts: ArtifactsApi;
  reconcile(opts: {
    dryRun?: boolean;
    onProgress?: (done: number, total: number) => void;
  }): Promise<ReconcileReport>;
  close(): Promise<void>;
}

export async function openTarget(): Promise<Target> {
  const settings = resolveInstanceSettings();
  const remote = settings.db.kind === "remote" ? settings.db : runningServer(settings.name);
  if (remote) {
    const { RemoteInstance } = await import("../sdk/remote.js");
    return new RemoteInstance(remote.url, { token: remote.token });
  }
  const { openInstance } = await import("../core/setup.js");
  return openInstance(settings.name, {
    onWait: (holder) =>
      note(
        `waiting for process ${holder.pid}${holder.purpose ? ` (${holder.purpose})` : ""}, which has the instance database open ...`,
      ),
  });
}

export async function withTarget<T>(fn: (target: Target) => Promise<T>): Promise<T> {
  const target = await openTarget();
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}
