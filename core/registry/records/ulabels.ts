/**
 * ULabel (uid 8): an exact name match (under the same type) returns the existing label (LaminDB's
 * `search_names`); a label can be a type of labels.
 */
import { eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import * as t from "../../db/schema.js";
import { ConflictError, ValidationError } from "../../errors.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { TRASH } from "../branch.js";
import { LOCK } from "../locks.js";
import {
  type CreateResult,
  common,
  created,
  firstNamed,
  type Keyed,
  MAX_DESCRIPTION,
  plainUids,
  RecordRegistry,
  type Spec,
  selectTracked,
  type Tracked,
  tracked,
} from "./base.js";
import { requiredName, text } from "./checks.js";

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
  /** uid of a ULabel that is a type. */
  type?: string | null;
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
    is_type: { column: u.isType, type: "boolean" },
    type__uid: { column: ulabelType.uid, type: "string" },
    type__name: { column: ulabelType.name, type: "string" },
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
    const isType = input.is_type ?? false;
    if (typeof isType !== "boolean") {
      throw new ValidationError("is_type must be true or false", "omit it for a plain label");
    }
    const typeRef = text(input.type, "type", 8);
    let typeId: number | null = null;
    if (typeRef !== null) {
      if (!ULABEL_SPEC.uid.test(typeRef)) {
        throw new ValidationError(`'${typeRef}' is not a ulabel uid`, ULABEL_SPEC.uidHint);
      }
      const [type] = await this.db
        .select({ id: u.id, isType: u.isType, branchId: u.branchId })
        .from(u)
        .where(eq(u.uid, typeRef));
      if (!type || type.branchId === TRASH || !type.isType) {
        throw new ValidationError(
          !type
            ? `no ulabel with uid ${typeRef}`
            : type.branchId === TRASH
              ? `ulabel ${typeRef} is in the trash`
              : `ulabel ${typeRef} is not a type`,
          "pass the uid of a ulabel created with is_type: true",
        );
      }
      typeId = type.id;
    }
    return this.decide([[LOCK.ulabel, name]], async (tx) => {
      const fields = { id: u.id, uid: u.uid, isType: u.isType };
      const ofType = typeId === null ? sql`${u.typeId} IS NULL` : eq(u.typeId, typeId);
      const existing = await firstNamed(tx, u, fields, name, ofType);
      if (existing) {
        if (existing.isType !== isType) {
          throw new ConflictError(
            `ulabel '${name}' already exists (${existing.uid}) and ${existing.isType ? "is" : "is not"} a type`,
            "use the existing ulabel, or give the new one another name",
          );
        }
        return { id: existing.id, status: "existing" };
      }
      const uid = randomBase62(UID_LENGTHS.ulabel);
      const createdById = this.instance.user.id;
      return created(
        await tx
          .insert(u)
          .values({ uid, name, description, isType, typeId, createdById })
          .returning({ id: u.id }),
      );
    });
  }
}
