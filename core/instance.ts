/**
 * An opened instance: its database, its default storage and its registries. How it was opened
 * (embedded PGlite from local settings, a Postgres URL in a server, Neon in Lambda) is decided
 * elsewhere: see setup.ts for local instances.
 */

import { eq } from "drizzle-orm";
import type { Database } from "./db/client.js";
import type { LockHolder } from "./db/pglite-lock.js";
import type * as t from "./db/schema.js";
import * as schema from "./db/schema.js";
import { LaminError } from "./errors.js";
import { type ReconcileOptions, reconcile } from "./ingest/reconcile.js";
import { type ModuleReads, moduleReads } from "./modules/index.js";
import { Annotations } from "./registry/annotations/annotations.js";
import { type ArtifactRef, Artifacts } from "./registry/artifacts/artifacts.js";
import { RecordBlocks } from "./registry/blocks/record-blocks.js";
import { Branches } from "./registry/branches.js";
import { type CurrentBranch, MAIN_BRANCH, visibleBranchIds } from "./registry/common/branch.js";
import type { LineageGraph, LineageOptions } from "./registry/lineage/lineage.js";
import { type ActiveRun, currentRun, setCurrentRun } from "./registry/lineage/run-context.js";
import {
  type EndStatus,
  finish,
  type TrackOptions,
  type TrackResult,
  track,
} from "./registry/lineage/tracking.js";
import { type SearchHit, type SearchOptions, search } from "./registry/model/search.js";
import { Blocks } from "./registry/records/blocks.js";
import { Records } from "./registry/records/record.js";
import { References } from "./registry/records/references.js";
import type { Run } from "./registry/records.js";
import { Collections, Features, Projects, Runs, Transforms, ULabels } from "./registry/records.js";
import { Schemas } from "./registry/schemas/schemas.js";
import type { ValidationReport } from "./registry/schemas/validate.js";
import { SpaceNames } from "./registry/space-names.js";
import { Spaces } from "./registry/spaces.js";
import { describeDatabase, type InstanceSettings } from "./settings.js";
import type { StorageBackend } from "./storage/types.js";

export const ANONYMOUS = { uid: "00000000", handle: "anonymous" } as const;

export interface OpenOptions {
  /** Called once if another process holds the embedded database and we wait for it. */
  onWait?: (holder: LockHolder) => void;
  /** Recorded in the lock file, e.g. "lamin serve". */
  purpose?: string;
  /** Open on `main`, not on the branch the settings remember (`lamin switch` itself). */
  ignoreSavedBranch?: boolean;
}

export class Instance {
  readonly artifacts: Artifacts;
  readonly transforms: Transforms;
  readonly runs: Runs;
  readonly features: Features;
  readonly ulabels: ULabels;
  readonly projects: Projects;
  readonly collections: Collections;
  readonly records: Records;
  /** Studies, papers, documents and URLs that data cite. */
  readonly references: References;
  /** Free-standing markdown blocks, e.g. the instance's README (`blocks.readme()`). */
  readonly blocks: Blocks;
  /** The readmes and comments attached to records of any registry (LaminDB's `ablocks`). */
  readonly ablocks: RecordBlocks;
  /**
   * Feature values and labels of artifacts, runs and records (see `artifacts.features(uid)`,
   * `records.features(uid)`).
   */
  readonly annotations: Annotations;
  /** Schemas: named feature sets that data is validated against (`validate`). */
  readonly schemas: Schemas;
  /** The instance's modules and their registries (bionty): list, search, look up values. */
  readonly modules: ModuleReads;
  /** Branches: create, list, merge (LaminDB's `ln.Branch`, `ln.setup.merge`). */
  readonly branches: Branches;
  /** Spaces: who may see a record (LaminDB's `ln.Space`); `save(path, { space })` puts it there. */
  readonly spaces: Spaces;
  /** Space names by id (records show their space's name); shared by this instance's views. */
  spaceNames = new SpaceNames();
  /** The branch writes go to; reads show it and `main` (see `useBranch`). */
  private currentBranch: CurrentBranch = MAIN_BRANCH;

  constructor(
    readonly settings: InstanceSettings,
    readonly database: Database,
    readonly storage: StorageBackend,
    readonly storageRecord: t.StorageRow,
    readonly user: t.UserRow,
    private readonly lock?: { release(): void },
  ) {
    this.artifacts = new Artifacts(this);
    this.transforms = new Transforms(this);
    this.runs = new Runs(this);
    this.features = new Features(this);
    this.ulabels = new ULabels(this);
    this.projects = new Projects(this);
    this.collections = new Collections(this);
    this.records = new Records(this);
    this.references = new References(this);
    this.blocks = new Blocks(this);
    this.ablocks = new RecordBlocks(this);
    this.annotations = new Annotations(this);
    this.schemas = new Schemas(this);
    this.modules = moduleReads(this);
    this.branches = new Branches(this);
    this.spaces = new Spaces(this);
  }

  /** The branch this session writes to (LaminDB's `ln.setup.settings.branch`). */
  get branch(): CurrentBranch {
    return this.currentBranch;
  }

  /** The `branch_id`s a default query shows: the current branch and `main`. */
  get visibleBranchIds(): number[] {
    return visibleBranchIds(this.currentBranch.id);
  }

  /**
   * Write to the branch named (name or uid) from now on, and read it plus `main` (LaminDB's
   * `ln.setup.switch`; `lamin switch` also remembers it in the instance's settings).
   */
  async useBranch(ref: string): Promise<CurrentBranch> {
    this.currentBranch = await this.branches.resolve(ref);
    return this.currentBranch;
  }

  /**
   * This instance acting as `who` (a hub caller): what it writes is recorded as theirs
   * (`created_by`), not as the instance owner's. Their `lamindb_user` row is made on first use.
   */
  async actingAs(who: { uid: string; handle: string }): Promise<Instance> {
    if (who.handle === this.user.handle) return this;
    const known = usersOf(this.database);
    let row = known.get(who.handle);
    if (!row) {
      await this.db
        .insert(schema.user)
        .values({ uid: who.uid, handle: who.handle })
        .onConflictDoNothing();
      [row] = await this.db.select().from(schema.user).where(eq(schema.user.handle, who.handle));
      if (!row) {
        throw new LaminError(
          "integrity",
          `no user '${who.handle}' in the database of '${this.slug}', and none could be made`,
          "a user with the account's uid exists under another handle",
        );
      }
      known.set(who.handle, row);
    }
    const view = new Instance(this.settings, this.database, this.storage, this.storageRecord, row);
    view.currentBranch = this.currentBranch;
    view.spaceNames = this.spaceNames;
    setCurrentRun(view, currentRun(this));
    return view;
  }

  /** This instance on another branch: the API's view for a request that names one. */
  async onBranch(ref: string): Promise<Instance> {
    const view = this.view();
    view.currentBranch = await this.branches.resolve(ref);
    return view;
  }

  /**
   * This instance over another connection to its database: the API's view for a request that
   * runs in a transaction of its own (a restricted principal's, core/db/space-policies.ts). The
   * user, branch and run stay.
   */
  over(database: Database): Instance {
    const view = this.view(database);
    setCurrentRun(view, currentRun(this));
    return view;
  }

  private view(database: Database = this.database): Instance {
    const view = new Instance(this.settings, database, this.storage, this.storageRecord, this.user);
    view.currentBranch = this.currentBranch;
    view.spaceNames = this.spaceNames;
    return view;
  }

  get db() {
    return this.database.db;
  }

  get slug(): string {
    return `${this.settings.owner}/${this.settings.name}`;
  }

  /**
   * Track this script as a run (LaminDB's `ln.track()`): its transform (a 12-character uid stem
   * pins it across renames), a started run, its output captured; saves and loads until `finish()`
   * belong to the run, and an uncaught error marks it errored.
   */
  track(opts?: string | TrackOptions): Promise<TrackResult> {
    return track(this, opts);
  }

  /** End the tracked run (`completed` unless told), saving its captured output as its report. */
  finish(opts?: { status?: EndStatus }): Promise<Run> {
    return finish(this, opts);
  }

  /**
   * The lineage graph of an artifact: runs, transforms, inputs and outputs, `depth` runs deep.
   * Loaded when asked: its module brings the graph layout (dagre), which no other command needs.
   */
  async lineage(ref: ArtifactRef | string, opts?: LineageOptions): Promise<LineageGraph> {
    const { lineage } = await import("./registry/lineage/lineage.js");
    return lineage(this, ref, opts);
  }

  /** Compare storage with the registry and repair what events missed (`lamin reconcile`). */
  reconcile(opts: ReconcileOptions = {}) {
    return reconcile(this, opts);
  }

  /** Ranked search of a registry by name (LaminDB's `Registry.search`): `search("ulabel", "t cell")`. */
  search(registry: string, text: string, opts?: SearchOptions): Promise<SearchHit[]> {
    return search(this, registry, text, opts);
  }

  /**
   * Validate a CSV, TSV, Parquet or JSON file against a schema (name or uid): the report lists
   * every issue (`valid` false); save with `artifacts.save(path, { key, schema })`.
   */
  async validate(path: string, schema: string): Promise<ValidationReport> {
    const { validateFile } = await import("./registry/schemas/validate.js");
    return validateFile(this, path, schema);
  }

  /**
   * This instance, attributing saves and loads to `run`: the API's view for one request of a
   * client whose `lamin track` started that run. It shares the database: close the original only.
   */
  withRun(run: ActiveRun): Instance {
    const view = this.view();
    setCurrentRun(view, run);
    return view;
  }

  /** What `lamin info` shows. */
  describe() {
    const { settings } = this;
    return {
      instance: this.slug,
      uid: settings.uid,
      storage: {
        root: this.storageRecord.root,
        type: this.storageRecord.type,
        uid: this.storageRecord.uid,
      },
      database: describeDatabase(settings.db),
      user: { handle: this.user.handle, uid: this.user.uid },
      branch: this.currentBranch.name,
    };
  }

  async close(): Promise<void> {
    try {
      await this.database.close();
    } finally {
      this.lock?.release();
    }
  }
}

/** `lamindb_user` rows of the accounts `actingAs` was asked for, per open database. */
const actingUsers = new WeakMap<Database, Map<string, t.UserRow>>();
function usersOf(database: Database): Map<string, t.UserRow> {
  const users = actingUsers.get(database) ?? new Map<string, t.UserRow>();
  actingUsers.set(database, users);
  return users;
}

/**
 * An Instance over an open database: finds its default storage row and its user in one round
 * trip (opening is on the path of every CLI command and of every cold Lambda).
 */
export async function attachInstance(
  settings: InstanceSettings,
  database: Database,
  storage: StorageBackend,
  lock?: { release(): void },
): Promise<Instance> {
  const [first] = await database.db
    .select({ storageRow: schema.storage, userRow: schema.user })
    .from(schema.storage)
    .innerJoin(schema.user, eq(schema.user.handle, settings.owner))
    .where(eq(schema.storage.instanceUid, settings.uid))
    .orderBy(schema.storage.id)
    .limit(1);
  if (!first) {
    throw new LaminError(
      "integrity",
      `the database of '${settings.owner}/${settings.name}' has no storage row for instance ${settings.uid} or no user '${settings.owner}'`,
      "the database was changed by hand or belongs to another instance",
    );
  }
  return new Instance(settings, database, storage, first.storageRow, first.userRow, lock);
}
