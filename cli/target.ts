/**
 * Which instance a command talks to, and how: a remote one over HTTPS; a local one through its
 * running `lamin serve` if there is one (fast: no database to open, and the embedded database
 * stays with the server); otherwise the local database in this process. Modules load lazily.
 *
 * A Target is what both an in-process `Instance` and a `RemoteInstance` offer, so commands are
 * written once; `inProcess` tells them apart where the two must differ (the run `lamin track`
 * started is resumed in process, and sent along with each request over HTTP).
 */

import type { ReconcileReport } from "../core/ingest/reconcile.js";
import type { Instance } from "../core/instance.js";
import type { ModuleReads } from "../core/modules/index.js";
import type { Annotations, FeaturesApi } from "../core/registry/annotations/annotations.js";
import type { ArtifactsApi } from "../core/registry/artifacts/artifacts.js";
import type { RecordBlocks } from "../core/registry/blocks/record-blocks.js";
import type { Branches } from "../core/registry/branches.js";
import type { SearchHit, SearchOptions } from "../core/registry/model/search.js";
import type { Blocks } from "../core/registry/records/blocks.js";
import type { Records } from "../core/registry/records/record.js";
import type { References } from "../core/registry/records/references.js";
import type {
  Collections,
  Features,
  Projects,
  Runs,
  Transforms,
  ULabels,
} from "../core/registry/records.js";
import type { Schemas } from "../core/registry/schemas/schemas.js";
import type { ValidationReport } from "../core/registry/schemas/validate.js";
import type { Spaces } from "../core/registry/spaces.js";
import { resolveInstanceSettings } from "../core/settings.js";
import type { RemoteInstance } from "../sdk/remote.js";
import { note } from "./output.js";
import { localServer } from "./server.js";

type Registry<R extends { create: unknown; list: unknown; get: unknown }> = Pick<
  R,
  "create" | "list" | "get"
>;

export interface Target {
  artifacts: ArtifactsApi;
  transforms: Registry<Transforms> & Pick<Transforms, "link" | "unlink" | "updateDescription">;
  runs: Registry<Runs>;
  features: Registry<Features>;
  ulabels: Registry<ULabels>;
  projects: Registry<Projects> & Pick<Projects, "link" | "unlink" | "updateDescription">;
  records: Registry<Records> &
    Pick<Records, "link" | "unlink" | "sheet"> & { features(uid: string): FeaturesApi };
  references: Registry<References> & Pick<References, "link" | "unlink">;
  blocks: Registry<Blocks> & Pick<Blocks, "delete" | "readme" | "setReadme" | "link" | "unlink">;
  ablocks: Pick<RecordBlocks, "list" | "add" | "edit" | "delete" | "readme">;
  collections: Pick<
    Collections,
    "create" | "list" | "get" | "members" | "load" | "updateDescription"
  >;
  annotations: Pick<Annotations, "get" | "add">;
  schemas: Pick<Schemas, "create" | "get" | "list">;
  modules: ModuleReads;
  branches: Pick<Branches, "list" | "get" | "create" | "update" | "merge" | "changes">;
  spaces: Pick<Spaces, "list" | "create" | "get">;
  /** The branch writes go to (`lamin switch`). */
  readonly branch: { name: string };
  useBranch(ref: string): Promise<{ name: string; uid: string }>;
  search(registry: string, text: string, opts?: SearchOptions): Promise<SearchHit[]>;
  validate(path: string, schema: string): Promise<ValidationReport>;
  reconcile(opts: {
    dryRun?: boolean;
    onProgress?: (done: number, total: number) => void;
  }): Promise<ReconcileReport>;
  close(): Promise<void>;
}

/** The instance opened in this process (not a server's). */
export const inProcess = (target: Target): target is Target & Instance =>
  "db" in target && "settings" in target;

/**
 * `local(instance)` for the instance in this process, `remote(instance)` for a server's: where
 * the two must differ. openTarget makes nothing else, so what is not in process is remote.
 */
export function either<T>(
  target: Target,
  local: (ln: Instance) => T,
  remote: (ln: RemoteInstance) => T,
): T {
  return inProcess(target) ? local(target) : remote(target as unknown as RemoteInstance);
}

/** `ignoreSavedBranch`: on main, not on the branch `lamin switch` saved (switch itself). */
export async function openTarget(opts: { ignoreSavedBranch?: boolean } = {}): Promise<Target> {
  const settings = resolveInstanceSettings();
  const remote = settings.db.kind === "remote" ? settings.db : await localServer(settings);
  if (remote) {
    const { RemoteInstance } = await import("../sdk/remote.js");
    const branch = opts.ignoreSavedBranch ? undefined : settings.branch;
    return new RemoteInstance(remote.url, { token: remote.token, ...(branch ? { branch } : {}) });
  }
  const { openInstance } = await import("../core/setup.js");
  return openInstance(settings.name, {
    ...(opts.ignoreSavedBranch ? { ignoreSavedBranch: true } : {}),
    onWait: (holder) =>
      note(
        `waiting for process ${holder.pid}${holder.purpose ? ` (${holder.purpose})` : ""}, which has the instance database open ...`,
      ),
  });
}

export async function withTarget<T>(
  fn: (target: Target) => Promise<T>,
  opts: { ignoreSavedBranch?: boolean } = {},
): Promise<T> {
  const target = await openTarget(opts);
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}
