/**
 * Transform (uid 12 + 4): `unique(key, hash)` with hash = hash_string(source_code); the same key
 * and source returns the existing transform, new source under a key is its next version, and a
 * latest version without source yet is reused (and gets the source).
 */
import { and, desc, eq, like, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import * as t from "../../db/schema.js";
import { hashString } from "../../hash.js";
import type { Instance } from "../../instance.js";
import { UID_LENGTHS } from "../../uid.js";
import { onCurrentBranch, TRASH } from "../common/branch.js";
import { LOCK } from "../common/locks.js";
import {
  defineRegistry,
  field,
  type InputOf,
  input,
  ModelRegistry,
  type PublicOf,
} from "../model/model.js";
import {
  type CreateResult,
  created,
  type Decision,
  MAX_DESCRIPTION,
  type Transaction,
} from "./base.js";
import { checkKey } from "./checks.js";
import { planId, planInput } from "./plans.js";
import {
  familyColumns,
  headIn,
  insertVersion,
  restoreVersion,
  versionFields,
} from "./versioned.js";

export const TRANSFORM_KINDS = ["pipeline", "notebook", "script", "function"] as const;
export type TransformKind = (typeof TRANSFORM_KINDS)[number];

const tr = t.transform;
export const TransformModel = defineRegistry({
  name: "transform",
  plural: "transforms",
  doc: "Transforms: the scripts, notebooks, pipelines and functions that runs execute",
  table: tr,
  uid: {
    length: UID_LENGTHS.transform.full,
    stem: UID_LENGTHS.transform.stem,
    example: "Kp3sY1DqvT7a0000",
  },
  fields: {
    uid: field.column(tr.uid, { example: "Kp3sY1DqvT7a0000" }),
    key: field.column(tr.key, { example: "pipelines/rnaseq.py" }),
    description: field.column(tr.description),
    kind: field.column(tr.kind, { example: "pipeline" }),
    source_code: field.column(tr.sourceCode, { noFilter: true }),
    hash: field.column(tr.hash, { doc: "hash_string(source_code), or null without source" }),
    ...versionFields(tr, "transform"),
    plan: field.ref(tr.planId, t.artifact, {
      lookups: ["uid", "key"],
      doc: "uid of the artifact that is the transform's plan",
    }),
    predecessors: field.many(
      t.transformTransform,
      t.transformTransform.ownerId,
      t.transformTransform.labelId,
      tr,
      {
        doc: "the transforms that precede it (no cycles), each with the config of the link",
        columns: {
          config: {
            column: t.transformTransform.config as PgColumn,
            input: input.json({ doc: "how the predecessor feeds this transform" }),
          },
        },
        write: { acyclic: true },
      },
    ),
  },
  inputs: {
    uid: input.string(16, {
      pattern: {
        regex: /^[0-9A-Za-z]{12}([0-9A-Za-z]{4})?$/,
        hint: 'pass 12 base62 characters, e.g. ln.track("Kp3sY1DqvT7a")',
      },
      example: "Kp3sY1DqvT7a",
      doc: "pin the transform family across renames (ln.track's uid)",
    }),
    key: input.required(input.string(1024, { example: "pipelines/rnaseq.py" })),
    description: input.string(MAX_DESCRIPTION),
    kind: input.enum(TRANSFORM_KINDS, { example: "pipeline" }),
    source_code: input.string(Number.MAX_SAFE_INTEGER),
    version_tag: input.string(30),
    plan: planInput(),
  },
  search: ["key", "description"],
});
export const TRANSFORM_SPEC = TransformModel.spec;
export const TRANSFORM_FILTER_FIELDS = Object.keys(TRANSFORM_SPEC.fields);

export type Transform = PublicOf<typeof TransformModel>;
export type TransformInput = InputOf<typeof TransformModel>;

export class Transforms extends ModelRegistry<typeof TransformModel> {
  constructor(instance: Instance) {
    super(instance, TransformModel);
  }

  /**
   * Register a transform. Same key and source: the existing one. A latest version without source:
   * that one (it gets the source). Other source under the key: the next version.
   */
  async create(given: TransformInput): Promise<CreateResult<Transform>> {
    const checked = this.model.check(given);
    const key = checkKey(checked.key, 1024, "transform");
    const { description, uid } = checked;
    const kind = checked.kind ?? "pipeline";
    const sourceCode = checked.source_code;
    const versionTag = checked.version_tag;
    const hash = sourceCode === null ? null : hashString(sourceCode);
    const plan = await planId(this.instance, checked.plan);
    if (uid !== null) {
      return this.createInFamily(uid, key, description, kind, sourceCode, hash, versionTag, plan);
    }
    return this.decideWithPlan([[LOCK.transform, key]], plan, async (tx) => {
      const rows = await tx
        .select(familyColumns(tr))
        .from(tr)
        .where(eq(tr.key, key))
        .orderBy(desc(tr.createdAt), desc(tr.id));
      const same = hash === null ? undefined : rows.find((r) => r.hash === hash);
      if (same) {
        if (same.branchId !== TRASH) return { id: same.id, status: "existing" };
        await restoreVersion(tx, "transform", same);
        return { id: same.id, status: "restored" };
      }
      const head = headIn(rows, this.instance);
      if (head && head.hash === null) {
        if (hash === null) return { id: head.id, status: "existing" };
        await tx
          .update(tr)
          .set({ sourceCode, hash, updatedAt: sql`now()` })
          .where(eq(tr.id, head.id));
        return {
          id: head.id,
          status: "existing",
          note: `${head.uid} had no source code yet; it now has this one`,
        };
      }
      if (head && hash === null) return { id: head.id, status: "existing" };
      const createdById = this.instance.user.id;
      return insertVersion(
        tx,
        "transform",
        head,
        versionTag,
        (uid) =>
          tx
            .insert(tr)
            .values({
              uid,
              key,
              description,
              kind,
              sourceCode,
              hash,
              versionTag,
              createdById,
              ...onCurrentBranch(this.instance),
            })
            .returning({ id: tr.id }),
        this.instance.branch.id,
      );
    });
  }

  /**
   * `decide`, then give the transform decided on the plan if one was passed: a new transform
   * gets it, an existing one has its plan set (as `transform.plan = artifact` in LaminDB).
   */
  private decideWithPlan(
    locks: [number, string][],
    plan: number | null,
    decide: (tx: Transaction) => Promise<Decision>,
  ): Promise<CreateResult<Transform>> {
    return this.decide(locks, async (tx) => {
      const decision = await decide(tx);
      if (plan !== null) {
        await tx
          .update(tr)
          .set({ planId: plan, updatedAt: sql`now()` })
          .where(and(eq(tr.id, decision.id), sql`${tr.planId} IS DISTINCT FROM ${plan}`));
      }
      return decision;
    });
  }

  /** `create` with a pinned family (see `TransformInput.uid`). */
  private createInFamily(
    uid: string,
    key: string,
    description: string | null,
    kind: string,
    sourceCode: string | null,
    hash: string | null,
    versionTag: string | null,
    plan: number | null,
  ): Promise<CreateResult<Transform>> {
    const stem = uid.slice(0, 12);
    return this.decideWithPlan([[LOCK.transform, `uid:${stem}`]], plan, async (tx) => {
      const rows = await tx
        .select({ ...familyColumns(tr), key: tr.key })
        .from(tr)
        .where(like(tr.uid, `${stem}%`))
        .orderBy(desc(tr.createdAt), desc(tr.id));
      const same = hash === null ? undefined : rows.find((r) => r.hash === hash);
      const head = headIn(rows, this.instance);
      const reuse = same ?? (head && (head.hash === null || hash === null) ? head : undefined);
      if (reuse) {
        const set: Partial<typeof tr.$inferInsert> = {};
        if (reuse.key !== key) set.key = key;
        if (reuse.hash === null && hash !== null) Object.assign(set, { sourceCode, hash });
        if (Object.keys(set).length > 0) {
          await tx
            .update(tr)
            .set({ ...set, updatedAt: sql`now()` })
            .where(eq(tr.id, reuse.id));
        }
        if (reuse.branchId === TRASH) await restoreVersion(tx, "transform", reuse);
        const note = reuse.key !== key ? `${reuse.uid} was renamed from '${reuse.key}'` : undefined;
        return { id: reuse.id, status: reuse.branchId === TRASH ? "restored" : "existing", note };
      }
      const createdById = this.instance.user.id;
      const insert = (newUid: string) =>
        tx
          .insert(tr)
          .values({
            uid: newUid,
            key,
            description,
            kind,
            sourceCode,
            hash,
            versionTag,
            createdById,
            ...onCurrentBranch(this.instance),
          })
          .returning({ id: tr.id });
      if (!head) {
        if (rows.length > 0) {
          return insertVersion(
            tx,
            "transform",
            rows[0],
            versionTag,
            insert,
            this.instance.branch.id,
          );
        }
        return created(await insert(`${stem}0000`));
      }
      return insertVersion(tx, "transform", head, versionTag, insert, this.instance.branch.id);
    });
  }
}
