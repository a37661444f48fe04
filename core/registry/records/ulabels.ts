/**
 * ULabel (uid 8): an exact name match (under the same type) returns the existing label (LaminDB's
 * `search_names`); a label can be a type of labels.
 */
import { eq, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client.js";
import * as t from "../../db/schema.js";
import { NotFoundError, ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
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
import { type CreateResult, MAX_DESCRIPTION, type Transaction } from "./base.js";
import { namedUnderType, typeIdOf } from "./typed.js";

const u = t.ulabel;
export const ULabelModel = defineRegistry({
  name: "ulabel",
  plural: "ulabels",
  title: "ULabel",
  doc: "Universal labels: free-text labels, optionally grouped under label types",
  table: u,
  uid: { length: UID_LENGTHS.ulabel, example: "Mb8pXJ4Z" },
  fields: {
    uid: field.column(u.uid, { example: "Mb8pXJ4Z" }),
    name: field.column(u.name, { example: "T cell" }),
    description: field.column(u.description),
    is_type: field.column(u.isType),
    type: field.ref(u.typeId, t.ulabel, { doc: "uid of the ULabel type this label belongs to" }),
  },
  inputs: {
    name: input.required(input.string(150, { example: "T cell" })),
    description: input.string(MAX_DESCRIPTION),
    is_type: input.boolean(),
    type: input.string(150, { doc: "uid or name of a ULabel that is a type" }),
    parents: input.list(input.string(150), 100, {
      doc: "uids or names of parent labels; a cycle is refused",
    }),
  },
  search: ["name"],
});
export const ULABEL_FILTER_FIELDS = Object.keys(ULabelModel.spec.fields);

export type ULabel = PublicOf<typeof ULabelModel>;
export type ULabelInput = InputOf<typeof ULabelModel>;

export class ULabels extends ModelRegistry<typeof ULabelModel> {
  constructor(instance: Instance) {
    super(instance, ULabelModel);
  }

  /** Create a label (or a type of labels); one of the same name and type is returned. */
  async create(given: ULabelInput): Promise<CreateResult<ULabel>> {
    const { name, description, is_type, type, parents } = this.model.check(given);
    const isType = is_type ?? false;
    const typeId = await typeIdOf(this.db, u, "ulabel", type);
    return this.decide([[LOCK.ulabel, name]], async (tx) => {
      const decision = await namedUnderType(tx, u, "ulabel", { name, isType, typeId }, () =>
        tx
          .insert(u)
          .values({
            uid: randomBase62(UID_LENGTHS.ulabel),
            ...onCurrentBranch(this.instance),
            name,
            description,
            isType,
            typeId,
            createdById: this.instance.user.id,
          })
          .returning({ id: u.id }),
      );
      await linkParents(tx, decision.id, name, parents ?? []);
      return decision;
    });
  }

  /** Add parents to a label (uid or name); a parent that would close a cycle is refused. */
  async addParents(child: string, parents: string[]): Promise<ULabel> {
    const id = await this.db.transaction(async (tx) => {
      const [row] = await resolveULabels(tx, [child]);
      await linkParents(tx, row.id, row.name, parents);
      return row.id;
    });
    return this.byId(id);
  }

  /** The parents of a label (uid or name), as labels. */
  async parents(child: string): Promise<ULabel[]> {
    const [row] = await resolveULabels(this.db, [child]);
    const ids = await this.db
      .select({ id: t.ulabelParents.toId })
      .from(t.ulabelParents)
      .where(eq(t.ulabelParents.fromId, row.id))
      .orderBy(t.ulabelParents.id);
    return Promise.all(ids.map(({ id }) => this.byId(id)));
  }
}

type Runner = Pick<Transaction, "select" | "execute">;

/** Live labels by uid or name, in the order given; a missing one is an error naming it. */
async function resolveULabels(
  db: Runner,
  refs: string[],
): Promise<[{ id: number; name: string }, ...{ id: number; name: string }[]]> {
  const out: { id: number; name: string }[] = [];
  for (const ref of refs) {
    const [hit] = await db
      .select({ id: u.id, name: u.name })
      .from(u)
      .where(sql`(${u.uid} = ${ref} OR ${u.name} = ${ref}) AND ${u.branchId} <> ${TRASH}`)
      .orderBy(sql`${u.uid} = ${ref} DESC`, u.id)
      .limit(1);
    if (!hit) {
      throw new NotFoundError(`no ulabel '${ref}'`, "create it first: lamin ulabel create NAME");
    }
    out.push(hit);
  }
  return out as [{ id: number; name: string }, ...{ id: number; name: string }[]];
}

/**
 * Link `parents` to the label `childId`. A parent that is the label itself or one of its
 * descendants would make a cycle: refused, and the transaction rolls back.
 */
async function linkParents(
  tx: Transaction,
  childId: number,
  childName: string,
  parents: string[],
): Promise<void> {
  if (parents.length === 0) return;
  for (const parent of await resolveULabels(tx, parents)) {
    // the ancestors of the parent, itself included: the child among them closes a cycle
    const rows = await queryRows<{ id: number }>(
      tx as unknown as Db,
      sql`WITH RECURSIVE up(id) AS (
        SELECT ${parent.id}::int
        UNION SELECT p.to_ulabel_id FROM lamindb_ulabel_parents p JOIN up ON p.from_ulabel_id = up.id
      ) SELECT id FROM up WHERE id = ${childId} LIMIT 1`,
    );
    if (rows.length > 0) {
      throw new ValidationError(
        parent.id === childId
          ? `ulabel '${childName}' cannot be its own parent`
          : `making '${parent.name}' a parent of '${childName}' would create a cycle: '${parent.name}' already descends from '${childName}'`,
        "labels form a hierarchy without cycles; pick another parent",
      );
    }
    await tx
      .insert(t.ulabelParents)
      .values({ fromId: childId, toId: parent.id })
      .onConflictDoNothing();
  }
}
