/**
 * ULabel (uid 8): an exact name match (under the same type) returns the existing label (LaminDB's
 * `search_names`); a label can be a type of labels.
 */
import { eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Db, queryRows } from "../../db/client.js";
import * as t from "../../db/schema.js";
import { NotFoundError, ValidationError } from "../../errors.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { TRASH } from "../branch.js";
import { LOCK } from "../locks.js";
import {
  type CreateResult,
  common,
  type Keyed,
  MAX_DESCRIPTION,
  plainUids,
  RecordRegistry,
  type Spec,
  selectTracked,
  type Tracked,
  type Transaction,
  tracked,
} from "./base.js";
import { requiredName, text } from "./checks.js";
import { isTypeFlag, namedUnderType, type TypedTable, typeFields, typeIdOf } from "./typed.js";

export interface ULabel extends Tracked {
  uid: string;
  name: string;
  description: string | null;
  is_type: boolean;
  /** uid of the ULabel type this label belongs to. */
  type: string | null;
}

export interface ULabelInput {
  name: string;
  description?: string | null;
  is_type?: boolean;
  /** uid (or name) of a ULabel that is a type. */
  type?: string | null;
  /** Parents (uids or names of existing ulabels); a cycle is refused. */
  parents?: string[];
}

const u = t.ulabel;
const ulabelType = alias(t.ulabel, "ulabel_type");
const ULABEL_SPEC: Spec = {
  name: "ulabel",
  plural: "ulabels",
  table: u,
  fields: {
    ...common(u),
    name: { column: u.name, type: "string" },
    description: { column: u.description, type: "string" },
    ...typeFields(u as TypedTable, ulabelType as TypedTable),
  },
  ...plainUids("ulabel", UID_LENGTHS.ulabel),
};
export const ULABEL_FILTER_FIELDS = Object.keys(ULABEL_SPEC.fields);

type ULabelSelected = Keyed<typeof t.ulabel.$inferSelect> & { typeUid: string | null };

export class ULabels extends RecordRegistry<ULabelSelected, ULabel> {
  protected readonly spec = ULABEL_SPEC;

  protected select() {
    return selectTracked(this.db, u, { typeUid: ulabelType.uid }).leftJoin(
      ulabelType,
      eq(u.typeId, ulabelType.id),
    );
  }

  protected toPublic(s: ULabelSelected): ULabel {
    const r = s.row;
    return {
      uid: r.uid,
      name: r.name,
      description: r.description,
      is_type: r.isType,
      type: s.typeUid,
      ...tracked(s),
    };
  }

  /** Create a label (or a type of labels); one of the same name and type is returned. */
  async create(input: ULabelInput): Promise<CreateResult<ULabel>> {
    const name = requiredName(input?.name, "ulabel", 150, "T cell");
    const description = text(input.description, "description", MAX_DESCRIPTION);
    const isType = isTypeFlag(input.is_type, "ulabel");
    const typeId = await typeIdOf(this.db, u, "ulabel", text(input.type, "type", 150));
    const parents = input.parents ?? [];
    if (!Array.isArray(parents) || parents.some((p) => typeof p !== "string")) {
      throw new ValidationError("parents must be a list of ulabel uids or names");
    }
    return this.decide([[LOCK.ulabel, name]], async (tx) => {
      const decision = await namedUnderType(tx, u, "ulabel", { name, isType, typeId }, () =>
        tx
          .insert(u)
          .values({
            uid: randomBase62(UID_LENGTHS.ulabel),
            name,
            description,
            isType,
            typeId,
            createdById: this.instance.user.id,
          })
          .returning({ id: u.id }),
      );
      await linkParents(tx, decision.id, name, parents);
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
