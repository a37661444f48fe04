/**
 * Transform (uid 12 + 4): `unique(key, hash)` with hash = hash_string(source_code); the same key
 * and source returns the existing transform, new source under a key is its next version, and a
 * latest version without source yet is reused (and gets the source).
 */
import { desc, eq, like, sql } from "drizzle-orm";
import * as t from "../../db/schema.js";
import { ValidationError } from "../../errors.js";
import { hashString } from "../../hash.js";
import { TRASH } from "../branch.js";
import { LOCK } from "../locks.js";
import {
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
import { checkKey, text } from "./checks.js";
import {
  familyColumns,
  insertVersion,
  isHead,
  restoreVersion,
  versionedUids,
  versionFields,
  versionOf,
} from "./versioned.js";

export const TRANSFORM_KINDS = ["pipeline", "notebook", "script", "function"] as const;
export type TransformKind = (typeof TRANSFORM_KINDS)[number];

export interface Transform extends Tracked {
  uid: string;
  key: string;
  description: string | null;
  kind: string;
  source_code: string | null;
  /** hash_string(source_code), or null without source. */
  hash: string | null;
  /** `version_tag` if set, else the 4-character uid suffix. */
  version: string;
  version_tag: string | null;
  is_latest: boolean;
}

export interface TransformInput {
  key: string;
  description?: string | null;
  kind?: TransformKind;
  source_code?: string | null;
  version_tag?: string | null;
  /**
   * Pin the version family (`ln.track("<12-char stem>")`): the same source in the family returns
   * that version (renamed to `key` if it moved), other source is the family's next version; a
   * stem nobody has used yet starts the family with suffix 0000. A 16-character uid: its stem.
   */
  uid?: string | null;
}

const tr = t.transform;
export const TRANSFORM_SPEC: Spec = {
  name: "transform",
  plural: "transforms",
  table: tr,
  fields: {
    ...common(tr),
    key: { column: tr.key, type: "string" },
    description: { column: tr.description, type: "string" },
    kind: { column: tr.kind, type: "string" },
    ...versionFields(tr),
  },
  ...versionedUids("transform", "transform"),
};
export const TRANSFORM_FILTER_FIELDS = Object.keys(TRANSFORM_SPEC.fields);

type TransformSelected = Keyed<typeof t.transform.$inferSelect>;

export class Transforms extends RecordRegistry<TransformSelected, Transform> {
  protected readonly spec = TRANSFORM_SPEC;

  protected select() {
    return selectTracked(this.db, tr);
  }

  protected toPublic(s: TransformSelected): Transform {
    const r = s.row;
    return {
      uid: r.uid,
      key: r.key,
      description: r.description,
      kind: r.kind,
      source_code: r.sourceCode,
      hash: r.hash,
      ...versionOf(r, "transform"),
      ...tracked(s),
    };
  }

  /**
   * Register a transform. Same key and source: the existing one. A latest version without source:
   * that one (it gets the source). Other source under the key: the next version.
   */
  async create(input: TransformInput): Promise<CreateResult<Transform>> {
    const key = checkKey(input?.key, 1024, "transform");
    const description = text(input.description, "description", MAX_DESCRIPTION);
    const kind = input.kind ?? "pipeline";
    if (!(TRANSFORM_KINDS as readonly string[]).includes(kind)) {
      throw new ValidationError(
        `invalid transform kind ${JSON.stringify(kind)}`,
        `use one of ${TRANSFORM_KINDS.join(", ")}`,
      );
    }
    const sourceCode = text(input.source_code, "source_code", Number.MAX_SAFE_INTEGER);
    const versionTag = text(input.version_tag, "version_tag", 30);
    const hash = sourceCode === null ? null : hashString(sourceCode);
    if (input.uid !== undefined && input.uid !== null) {
      return this.createInFamily(input.uid, key, description, kind, sourceCode, hash, versionTag);
    }
    return this.decide([[LOCK.transform, key]], async (tx) => {
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
      const head = rows.find(isHead);
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
      return insertVersion(tx, "transform", head, versionTag, (uid) =>
        tx
          .insert(tr)
          .values({ uid, key, description, kind, sourceCode, hash, versionTag, createdById })
          .returning({ id: tr.id }),
      );
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
  ): Promise<CreateResult<Transform>> {
    if (typeof uid !== "string" || !TRANSFORM_SPEC.uid.test(uid)) {
      throw new ValidationError(
        `'${String(uid).slice(0, 100)}' is not a transform uid`,
        'pass 12 base62 characters, e.g. ln.track("Kp3sY1DqvT7a")',
      );
    }
    const stem = uid.slice(0, 12);
    return this.decide([[LOCK.transform, `uid:${stem}`]], async (tx) => {
      const rows = await tx
        .select({ ...familyColumns(tr), key: tr.key })
        .from(tr)
        .where(like(tr.uid, `${stem}%`))
        .orderBy(desc(tr.createdAt), desc(tr.id));
      const same = hash === null ? undefined : rows.find((r) => r.hash === hash);
      const head = rows.find(isHead);
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
          })
          .returning({ id: tr.id });
      if (!head) {
        if (rows.length > 0) return insertVersion(tx, "transform", rows[0], versionTag, insert);
        return created(await insert(`${stem}0000`));
      }
      return insertVersion(tx, "transform", head, versionTag, insert);
    });
  }
}
