/**
 * Record (uid 16): LaminDB's flexible metadata records, values of `cat[Record]` features. An exact
 * name match (under the same type) returns the existing record; a record can be a type of records.
 */
import * as t from "../../db/schema.js";
import type { Instance } from "../../instance.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { LOCK } from "../locks.js";
import {
  defineRegistry,
  field,
  type InputOf,
  input,
  ModelRegistry,
  type PublicOf,
} from "../model.js";
import { type CreateResult, MAX_DESCRIPTION } from "./base.js";
import { namedUnderType, type TypedTable, typeIdOf } from "./typed.js";

const r = t.record;
export const RecordModel = defineRegistry({
  name: "record",
  plural: "records",
  doc: "Flexible metadata records (samples, ...), values of cat[Record] features, optionally typed",
  table: r,
  uid: { length: UID_LENGTHS.record, example: "Ny0gvDjRqHks1xPe" },
  fields: {
    uid: field.column(r.uid, { example: "Ny0gvDjRqHks1xPe" }),
    name: field.column(r.name, { example: "sample 1" }),
    description: field.column(r.description),
    is_type: field.column(r.isType),
    type: field.ref(r.typeId, t.record, { doc: "uid of the Record type this record belongs to" }),
  },
  inputs: {
    name: input.required(input.string(150, { example: "sample 1" })),
    description: input.string(MAX_DESCRIPTION),
    is_type: input.boolean(),
    type: input.string(150, { doc: "uid or name of a Record that is a type" }),
  },
  search: ["name"],
});
export const RECORD_FILTER_FIELDS = Object.keys(RecordModel.spec.fields);

export type LnRecord = PublicOf<typeof RecordModel>;
export type RecordInput = InputOf<typeof RecordModel>;

/** Record names share the advisory lock namespace of ulabels, offset so they never collide. */
const lockName = (name: string) => `record:${name}`;

export class Records extends ModelRegistry<typeof RecordModel> {
  constructor(instance: Instance) {
    super(instance, RecordModel);
  }

  /** Create a record (or a type of records); one of the same name and type is returned. */
  async create(given: RecordInput): Promise<CreateResult<LnRecord>> {
    const { name, description, is_type, type } = this.model.check(given);
    const isType = is_type ?? false;
    const typeId = await typeIdOf(this.db, r, "record", type);
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
