/** Run (uid 16): belongs to a transform; starts as `started` (`_status_code` -1). */
import { eq, sql } from "drizzle-orm";
import * as t from "../../db/schema.js";
import { ValidationError } from "../../errors.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { TRASH } from "../branch.js";
import { latestFirst, uidMatches } from "../versions.js";
import {
  base62,
  type CreateResult,
  common,
  created,
  type Keyed,
  MAX_DESCRIPTION,
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
        statusCode: code,
        finishedAt: code >= 0 ? sql`now()` : null,
        createdById: this.instance.user.id,
      })
      .returning({ id: run.id });
    return this.result(created(rows));
  }
}
