/**
 * Record (uid 16): LaminDB's flexible metadata records, values of `cat[Record]` features. An exact
 * name match (under the same type) returns the existing record; a record can be a type of records.
 */
import { eq } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import * as t from "../../db/schema.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
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
  tracked,
} from "./base.js";
import { requiredName, text } from "./checks.js";
import { isTypeFlag, namedUnderType, type TypedTable, typeFields, typeIdOf } from "./typed.js";

export interface LnRecord extends Tracked {
  uid: string;
  name: string | null;
  description: string | null;
  is_type: boolean;
  /** uid of the Record type this record belongs to. */
  type: string | null;
}

export interface RecordInput {
  name: string;
  description?: string | null;
  is_type?: boolean;
  /** uid or name of a Record that is a type. */
  type?: string | null;
}

const r = t.record;
const recordType = alias(t.record, "record_type");
const RECORD_SPEC: Spec = {
  name: "record",
  plural: "records",
  table: r,
  fields: {
    ...common(r),
    name: { column: r.name, type: "string" },
    description: { column: r.description, type: "string" },
    ...typeFields(r as TypedTable, recordType as TypedTable),
  },
  ...plainUids("record", UID_LENGTHS.record),
};
export const RECORD_FILTER_FIELDS = Object.keys(RECORD_SPEC.fields);

type RecordSelected = Keyed<typeof t.record.$inferSelect> & { typeUid: string | null };

/** Record names share the advisory lock namespace of ulabels, offset so they never collide. */
const lockName = (name: string) => `record:${name}`;

export class Records extends RecordRegistry<RecordSelected, LnRecord> {
  protected readonly spec = RECORD_SPEC;

  protected select() {
    return selectTracked(this.db, r, { typeUid: recordType.uid }).leftJoin(
      recordType,
      eq(r.typeId, recordType.id),
    );
  }

  protected toPublic(s: RecordSelected): LnRecord {
    return {
      uid: s.row.uid,
      name: s.row.name,
      description: s.row.description,
      is_type: s.row.isType,
      type: s.typeUid,
      ...tracked(s),
    };
  }

  /** Create a record (or a type of records); one of the same name and type is returned. */
  async create(input: RecordInput): Promise<CreateResult<LnRecord>> {
    const name = requiredName(input?.name, "record", 150, "sample_1");
    const description = text(input.description, "description", MAX_DESCRIPTION);
    const isType = isTypeFlag(input.is_type, "record");
    const typeId = await typeIdOf(this.db, r, "record", text(input.type, "type", 150));
    return this.decide([[LOCK.ulabel, lockName(name)]], (tx) =>
      namedUnderType(tx, r as TypedTable, "record", { name, isType, typeId }, () =>
        tx
          .insert(r)
          .values({
            uid: randomBase62(UID_LENGTHS.record),
            name,
            description,
            isType,
            typeId,
            createdById: this.instance.user.id,
          })
          .returning({ id: r.id }),
      ),
    );
  }
}
