/** Run (uid 16): belongs to a transform; starts as `started` (`_status_code` -1). */
import { sql } from "drizzle-orm";
import * as t from "../../db/schema.js";
import { NotFoundError, ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { splitLabelLookups } from "../annotations/annotations.js";
import { onCurrentBranch, TRASH } from "../common/branch.js";
import { latestFirst, uidMatches } from "../common/versions.js";
import {
  type ActiveRun,
  recordArtifactInput,
  recordCollectionInput,
  recordRecordInputs,
} from "../lineage/run-context.js";
import {
  type ColumnField,
  defineRegistry,
  field,
  type InputOf,
  input,
  ModelRegistry,
  type PublicOf,
} from "../model/model.js";
import type { Page } from "../model/paging.js";
import type { Filter } from "../model/query.js";
import { type CreateResult, created, MAX_DESCRIPTION, type RecordListOptions } from "./base.js";
import { planId, planInput } from "./plans.js";
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
export const RunModel = defineRegistry({
  name: "run",
  plural: "runs",
  doc: "Runs: executions of transforms, with their parameters, inputs and outputs",
  table: run,
  // generated runs have 16 characters; runs made before LaminDB 1.6 have 20
  uid: { length: UID_LENGTHS.run, also: [20], example: "Wbx3oq8cKTDk9nAb" },
  fields: {
    uid: field.column(run.uid, { example: "Wbx3oq8cKTDk9nAb" }),
    name: field.column(run.name),
    description: field.column(run.description),
    transform: field.ref(run.transformId, t.transform, {
      lookups: ["uid", "key"],
      doc: "uid of the transform the run executes",
    }),
    status: field.computed(
      "string",
      (r) => STATUS_BY_CODE.get(r.statusCode as number) ?? ("unknown" as const),
      { filter: { column: runStatus, type: "string" }, example: "completed" },
    ),
    started_at: field.column(run.startedAt),
    finished_at: field.column(run.finishedAt),
    params: field.column(run.params) as ColumnField<Record<string, unknown> | null>,
    plan: field.ref(run.planId, t.artifact, {
      lookups: ["uid", "key"],
      doc: "uid of the artifact that is the run's plan (ln.track(plan=...))",
    }),
  },
  filters: { _status_code: { column: run.statusCode, type: "integer" } },
  inputs: {
    transform: input.required(
      input.string(16, {
        pattern: {
          regex: /^[0-9A-Za-z]{12}([0-9A-Za-z]{4})?$/,
          hint: "a transform uid (16, or a 12-character stem)",
        },
        example: "Kp3sY1DqvT7a0000",
      }),
    ),
    name: input.string(150),
    description: input.string(MAX_DESCRIPTION),
    params: input.json({ example: { learning_rate: 0.01 } }),
    status: input.enum(RUN_STATUSES, { example: "started" }),
    extra_data: input.json({ doc: "e.g. the environment of a tracked script (lamin track)" }),
    plan: planInput(),
  },
  search: ["name", "description"],
});
const RUN_SPEC = RunModel.spec;
export const RUN_FILTER_FIELDS = Object.keys(RUN_SPEC.fields);

export type Run = PublicOf<typeof RunModel>;
export type RunInput = InputOf<typeof RunModel>;

export class Runs extends ModelRegistry<typeof RunModel> {
  constructor(instance: Instance) {
    super(instance, RunModel);
  }

  /**
   * A page of runs like every registry's list, and also by feature values and labels
   * (`features`, and `ulabels__name`/`projects__name`/`records__name` in the filter): the
   * EXISTS conditions of annotations.ts for owner `run`.
   */
  override async list(opts: RunListOptions = {}): Promise<Page<Run>> {
    const { fields, labels } = splitLabelLookups(opts.filter ?? {});
    const hasFeatures = opts.features && Object.keys(opts.features).length > 0;
    if (!hasFeatures && Object.keys(labels).length === 0) return super.list(opts);
    const extra = await this.instance.annotations.conditions("run", opts.features, labels);
    return this.listWhere(opts, fields, extra);
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
   * Record what a run read (a client's loads over HTTP): the artifacts, collections and records
   * become its inputs, except what the run made itself (run-context.ts). Unknown ones are an error.
   */
  async addInputs(
    uid: string,
    inputs: {
      artifacts?: readonly string[];
      collections?: readonly string[];
      records?: readonly string[];
    },
  ): Promise<void> {
    const found = await this.find(uid);
    const view = this.instance.withRun({ id: found.row.id, uid: found.row.uid });
    const records = await this.instance.records.rowsOf(inputs.records ?? []);
    await recordRecordInputs(view, records);
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
  async create(given: RunInput): Promise<CreateResult<Run>> {
    if (typeof given?.transform !== "string") {
      throw new ValidationError(
        `a run needs the uid of its transform, got ${JSON.stringify(given?.transform ?? null)}`,
        "create the transform first (POST /transforms) and pass its uid as transform",
      );
    }
    const checked = this.model.check(given);
    const { transform: ref, name, description, params } = checked;
    const extraData = checked.extra_data;
    const code = RUN_STATUS_CODES[checked.status ?? "started"];
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
    const plan = await planId(this.instance, checked.plan);
    const rows = await this.db
      .insert(run)
      .values({
        uid: randomBase62(UID_LENGTHS.run),
        ...onCurrentBranch(this.instance),
        name,
        description,
        transformId: transform.id,
        params,
        ...(extraData !== null ? { extraData } : {}),
        statusCode: code,
        planId: plan,
        finishedAt: code >= 0 ? sql`now()` : null,
        createdById: this.instance.user.id,
      })
      .returning({ id: run.id });
    return this.result(created(rows));
  }
}
