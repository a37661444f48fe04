/** Run (uid 16): belongs to a transform; starts as `started` (`_status_code` -1). */
import { eq, sql } from "drizzle-orm";
import * as t from "../../db/schema.js";
import { NotFoundError, ValidationError } from "../../errors.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { splitLabelLookups } from "../annotations.js";
import { MAIN, TRASH } from "../branch.js";
import { keysetPage, type Page } from "../paging.js";
import { buildConditions, type Filter, mentions } from "../query.js";
import { type ActiveRun, recordArtifactInput, recordCollectionInput } from "../run-context.js";
import { latestFirst, uidMatches } from "../versions.js";
import {
  base62,
  type CreateResult,
  common,
  created,
  type Keyed,
  MAX_DESCRIPTION,
  type RecordListOptions,
  RecordRegistry,
  type Spec,
  selectTracked,
  type Tracked,
  tracked,
} from "./base.js";
import { text } from "./checks.js";
import { TRANSFORM_SPEC } from "./transforms.js";

/** LaminDB's run status codes (`lamindb/base/types.py`). */
export const RUN_STATUS_CODES = {
  scheduled: -3,
  restarted: -2,
  started: -1,
  completed: 0,
  errored: 1,
  aborted: 2,
} as const;
export type RunStatus = keyof typeof RUN_STATUS_CODES;
export const RUN_STATUSES = Object.keys(RUN_STATUS_CODES) as RunStatus[];

export interface Run extends Tracked {
  uid: string;
  name: string | null;
  description: string | null;
  /** uid of the transform the run executes. */
  transform: string;
  status: RunStatus | "unknown";
  started_at: string;
  finished_at: string | null;
  params: Record<string, unknown> | null;
}

export interface RunInput {
  /** uid of the transform (a 12-character stem: its latest version). */
  transform: string;
  name?: string | null;
  description?: string | null;
  params?: Record<string, unknown> | null;
  /** Default `started`. */
  status?: RunStatus;
  /** LaminDB's `run._extra_data`, e.g. `{ environment: {...} }` of a tracked script. */
  extra_data?: Record<string, unknown> | null;
}

export interface RunListOptions extends RecordListOptions {
  /** Feature-value lookups, as for artifacts: `{ temperature__gt: 30, cell_type: "T cell" }`. */
  features?: Filter;
}

const STATUS_BY_CODE = new Map<number, RunStatus>(
  Object.entries(RUN_STATUS_CODES).map(([name, code]) => [code, name as RunStatus]),
);
const run = t.run;
const runStatus = sql`(CASE ${run.statusCode} ${sql.join(
  Object.entries(RUN_STATUS_CODES).map(
    ([name, code]) => sql`WHEN ${sql.raw(String(code))} THEN ${name}`,
  ),
  sql` `,
)} END)`;
const RUN_SPEC: Spec = {
  name: "run",
  plural: "runs",
  table: run,
  fields: {
    ...common(run),
    name: { column: run.name, type: "string" },
    description: { column: run.description, type: "string" },
    status: { column: runStatus, type: "string" },
    _status_code: { column: run.statusCode, type: "integer" },
    started_at: { column: run.startedAt, type: "date" },
    finished_at: { column: run.finishedAt, type: "date" },
    transform__uid: { column: t.transform.uid, type: "string" },
    transform__key: { column: t.transform.key, type: "string" },
  },
  // generated runs have 16 characters; runs made before LaminDB 1.6 have 20
  uid: new RegExp(`^${base62(UID_LENGTHS.run)}(${base62(4)})?$`),
  uidHint: "a run uid has 16 base62 characters",
};
export const RUN_FILTER_FIELDS = Object.keys(RUN_SPEC.fields);

type RunSelected = Keyed<typeof t.run.$inferSelect> & { transformUid: string };

export class Runs extends RecordRegistry<RunSelected, Run> {
  protected readonly spec = RUN_SPEC;

  protected select() {
    return selectTracked(this.db, run, { transformUid: t.transform.uid }).innerJoin(
      t.transform,
      eq(run.transformId, t.transform.id),
    );
  }

  protected toPublic(s: RunSelected): Run {
    const r = s.row;
    return {
      uid: r.uid,
      name: r.name,
      description: r.description,
      transform: s.transformUid,
      status: STATUS_BY_CODE.get(r.statusCode) ?? "unknown",
      started_at: r.startedAt.toISOString(),
      finished_at: r.finishedAt ? r.finishedAt.toISOString() : null,
      params: (r.params as Record<string, unknown> | null) ?? null,
      ...tracked(s),
    };
  }

  /**
   * A page of runs like every registry's list, and also by feature values and labels
   * (`features`, and `ulabels__name`/`projects__name`/`records__name` in the filter): the
   * EXISTS conditions of annotations.ts for owner `run`.
   */
  override async list(opts: RunListOptions = {}): Promise<Page<Run>> {
    const filter = opts.filter ?? {};
    const { fields, labels } = splitLabelLookups(filter);
    const hasFeatures = opts.features && Object.keys(opts.features).length > 0;
    if (!hasFeatures && Object.keys(labels).length === 0) return super.list(opts);
    const conditions = buildConditions(RUN_SPEC.fields, fields, "run");
    conditions.push(...(await this.instance.annotations.conditions("run", opts.features, labels)));
    if (!mentions(filter, ["branch_id", "id", "uid", "hash"])) {
      conditions.push(eq(run.branchId, MAIN));
    }
    return keysetPage(
      run,
      conditions,
      opts,
      (where, orderBy, limit) => this.fetch(where, orderBy, limit),
      (rows) => this.shape(rows),
    );
  }

  /** The run to attribute saves and loads to (undefined when it was deleted, as in process). */
  async active(uid: string): Promise<ActiveRun | undefined> {
    try {
      const found = await this.find(uid);
      return { id: found.row.id, uid: found.row.uid };
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * Record what a run read (a client's loads over HTTP): the artifacts and collections become its
   * inputs, except what the run made itself (run-context.ts). Unknown ones are an error.
   */
  async addInputs(
    uid: string,
    inputs: { artifacts?: readonly string[]; collections?: readonly string[] },
  ): Promise<void> {
    const found = await this.find(uid);
    const view = this.instance.withRun({ id: found.row.id, uid: found.row.uid });
    for (const ref of inputs.artifacts ?? []) {
      await recordArtifactInput(view, await view.artifacts.row(ref));
    }
    const c = t.collection;
    for (const ref of inputs.collections ?? []) {
      const [row] = await this.db
        .select({ id: c.id, runId: c.runId })
        .from(c)
        .where(uidMatches(c.uid, ref, UID_LENGTHS.collection.stem))
        .orderBy(...latestFirst(c))
        .limit(1);
      if (!row) {
        throw new NotFoundError(`no collection with uid ${ref}`, "list them (GET /collections)");
      }
      await recordCollectionInput(view, row);
    }
  }

  /** Start a run of a transform (status `started` unless given). */
  async create(input: RunInput): Promise<CreateResult<Run>> {
    const ref = input?.transform;
    if (typeof ref !== "string" || !TRANSFORM_SPEC.uid.test(ref)) {
      throw new ValidationError(
        `a run needs the uid of its transform, got ${JSON.stringify(ref ?? null)}`,
        "create the transform first (POST /transforms) and pass its uid as transform",
      );
    }
    const name = text(input.name, "name", 150);
    const description = text(input.description, "description", MAX_DESCRIPTION);
    const params = input.params ?? null;
    if (params !== null && (typeof params !== "object" || Array.isArray(params))) {
      throw new ValidationError(
        "params must be a JSON object",
        'e.g. {"learning_rate": 0.01, "epochs": 10}',
      );
    }
    const extraData = input.extra_data ?? null;
    if (extraData !== null && (typeof extraData !== "object" || Array.isArray(extraData))) {
      throw new ValidationError("extra_data must be a JSON object", 'e.g. {"environment": {}}');
    }
    const status = input.status ?? "started";
    if (typeof status !== "string" || !Object.hasOwn(RUN_STATUS_CODES, status)) {
      throw new ValidationError(
        `invalid run status ${JSON.stringify(status)}`,
        `use one of ${RUN_STATUSES.join(", ")}`,
      );
    }
    const code = RUN_STATUS_CODES[status];
    const tr = t.transform;
    const [transform] = await this.db
      .select({ id: tr.id, uid: tr.uid, branchId: tr.branchId })
      .from(tr)
      .where(uidMatches(tr.uid, ref, TRANSFORM_SPEC.stem))
      .orderBy(...latestFirst(tr))
      .limit(1);
    if (!transform) {
      throw new ValidationError(
        `no transform with uid ${ref}`,
        "create the transform first (POST /transforms) or list them (GET /transforms)",
      );
    }
    if (transform.branchId === TRASH) {
      throw new ValidationError(
        `transform ${transform.uid} is in the trash`,
        "restore it first, or run another transform",
      );
    }
    const rows = await this.db
      .insert(run)
      .values({
        uid: randomBase62(UID_LENGTHS.run),
        name,
        description,
        transformId: transform.id,
        params,
        ...(extraData !== null ? { extraData } : {}),
        statusCode: code,
        finishedAt: code >= 0 ? sql`now()` : null,
        createdById: this.instance.user.id,
      })
      .returning({ id: run.id });
    return this.result(created(rows));
  }
}
