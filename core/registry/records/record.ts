/**
 * Record (uid 16): LaminDB's flexible metadata records, values of `cat[Record]` features. An exact
 * name match (under the same type) returns the existing record; a record can be a type of records,
 * and a type with a schema is a sheet (sheets.ts) whose records are its rows. A record has feature
 * values of its own (`records.features(uid)`, annotations.ts), parents (a hierarchy without
 * cycles), the collections and transforms it annotates, and the runs that read it
 * (`input_of_runs`: a sheet read while a run is tracked).
 */
import { and, eq, inArray } from "drizzle-orm";
import * as t from "../../db/schema.js";
import { ConflictError, NotFoundError, ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { FeatureManager } from "../annotations/annotations.js";
import { sheetOfType } from "../annotations/sheets.js";
import { MAIN, onCurrentBranch } from "../common/branch.js";
import { LOCK } from "../common/locks.js";
import { currentRun, recordRecordInputs } from "../lineage/run-context.js";
import {
  defineRegistry,
  field,
  type InputOf,
  input,
  ModelRegistry,
  type PublicOf,
} from "../model/model.js";
import type { Page } from "../model/paging.js";
import type { Filter } from "../model/query.js";
import { type CreateResult, MAX_DESCRIPTION, type RecordListOptions } from "./base.js";
import { namedUnderType, type TypedTable, typeIdOf } from "./typed.js";

const r = t.record;
const parents = t.recordParents;
export const RecordModel = defineRegistry({
  name: "record",
  plural: "records",
  doc: "Flexible metadata records (samples, ...), values of cat[Record] features, optionally typed; a type with a schema is a sheet",
  table: r,
  uid: { length: UID_LENGTHS.record, example: "Ny0gvDjRqHks1xPe" },
  fields: {
    uid: field.column(r.uid, { example: "Ny0gvDjRqHks1xPe" }),
    name: field.column(r.name, { example: "sample 1" }),
    description: field.column(r.description),
    is_type: field.column(r.isType),
    type: field.ref(r.typeId, t.record, { doc: "uid of the Record type this record belongs to" }),
    schema: field.ref(r.schemaId, t.schema, {
      doc: "uid of the schema of a type: its records are the rows of a sheet with these features",
    }),
    parents: field.many(parents, parents.fromId, parents.toId, t.record, {
      doc: "uids of its parent records (an ontology: a hierarchy without cycles)",
      write: { acyclic: true },
    }),
    children: field.many(parents, parents.toId, parents.fromId, t.record, {
      doc: "uids of the records it is a parent of",
    }),
    collections: field.many(
      t.collectionRecord,
      t.collectionRecord.labelId,
      t.collectionRecord.ownerId,
      t.collection,
      { doc: "uids of the collections it annotates (LaminDB's record.collections)", write: {} },
    ),
    transforms: field.many(
      t.transformRecord,
      t.transformRecord.labelId,
      t.transformRecord.ownerId,
      t.transform,
      { doc: "uids of the transforms it annotates (LaminDB's record.transforms)", write: {} },
    ),
    input_of_runs: field.many(
      t.recordInputOfRuns,
      t.recordInputOfRuns.fromId,
      t.recordInputOfRuns.toId,
      t.run,
      { doc: "uids of the runs that read it (a sheet read while a run was tracked)" },
    ),
  },
  inputs: {
    name: input.required(input.string(150, { example: "sample 1" })),
    description: input.string(MAX_DESCRIPTION),
    is_type: input.boolean(),
    type: input.string(150, { doc: "uid or name of a Record that is a type" }),
    schema: input.string(150, {
      doc: "uid or name of a schema: the record is a type whose records are the rows of a sheet",
    }),
  },
  search: ["name"],
});
export const RECORD_FILTER_FIELDS = Object.keys(RecordModel.spec.fields);

export type LnRecord = PublicOf<typeof RecordModel>;
export type RecordInput = InputOf<typeof RecordModel>;

export interface RecordsListOptions extends RecordListOptions {
  /** Feature-value lookups, as for artifacts and runs: `{ gc_content__gt: 0.5, sample: "S1" }`. */
  features?: Filter;
}

/** The records of a type with their feature values (LaminDB's `record_type.to_dataframe()`). */
export interface SheetRows {
  /** uid and name of the type. */
  type: string;
  name: string | null;
  /** uid of the type's schema, when it is a sheet. */
  schema: string | null;
  /** Feature columns: the schema's features in order, else every feature a row has, sorted. */
  columns: string[];
  rows: { uid: string; name: string | null; features: Record<string, unknown> }[];
  /** The type has more records than `limit`: the rest were not read. */
  truncated: boolean;
}

export const MAX_SHEET_ROWS = 10_000;

/** Record names share the advisory lock namespace of ulabels, offset so they never collide. */
const lockName = (name: string) => `record:${name}`;

export class Records extends ModelRegistry<typeof RecordModel> {
  constructor(instance: Instance) {
    super(instance, RecordModel);
  }

  /**
   * Create a record (or a type of records; a schema makes it a sheet, as in LaminDB); one of the
   * same name and type is returned, unless it has another schema.
   */
  async create(given: RecordInput): Promise<CreateResult<LnRecord>> {
    const { name, description, is_type, type, schema } = this.model.check(given);
    const schemaId = schema === null ? null : await this.instance.schemas.rowId(schema);
    // LaminDB: "passing schema, treating as type"
    const isType = (is_type ?? false) || schemaId !== null;
    const typeId = await typeIdOf(this.db, r, "record", type);
    return this.decide([[LOCK.ulabel, lockName(name)]], async (tx) => {
      const decision = await namedUnderType(
        tx,
        r as TypedTable,
        "record",
        { name, isType, typeId },
        () =>
          tx
            .insert(r)
            .values({
              uid: randomBase62(UID_LENGTHS.record),
              ...onCurrentBranch(this.instance),
              name,
              description,
              isType,
              typeId,
              schemaId,
              createdById: this.instance.user.id,
              // LaminDB's TracksRun: the run that made it (a sheet it reads skips it)
              runId: currentRun(this.instance)?.id ?? null,
            })
            .returning({ id: r.id }),
      );
      if (decision.status !== "created" && schemaId !== null) {
        const [existing] = await tx
          .select({ uid: r.uid, schemaId: r.schemaId })
          .from(r)
          .where(eq(r.id, decision.id));
        if (existing && existing.schemaId !== schemaId) {
          throw new ConflictError(
            `record type '${name}' already exists (${existing.uid}) with ${existing.schemaId === null ? "no schema" : "another schema"}`,
            "use the existing type, or give the sheet another name",
          );
        }
      }
      return decision;
    });
  }

  /**
   * Feature values of one record (LaminDB's `record.features`):
   * `await ln.records.features(uid).add({ gc_content: 0.5, experiment: "Experiment 1" })`.
   */
  features(uid: string): FeatureManager {
    return new FeatureManager(this.instance.annotations, "record", uid);
  }

  /** A page of records like every registry's list, and also by feature values (`features`). */
  override async list(opts: RecordsListOptions = {}): Promise<Page<LnRecord>> {
    if (!opts.features || Object.keys(opts.features).length === 0) return super.list(opts);
    const extra = await this.instance.annotations.conditions("record", opts.features);
    return this.listWhere(opts, opts.filter ?? {}, extra);
  }

  /**
   * The records of a type with their feature values, as rows (LaminDB's
   * `record_type.to_dataframe()`; not the records of its sub-types). While a run is tracked, the
   * type and the rows the run did not make become its inputs, as LaminDB's export does.
   */
  async sheet(typeRef: string, opts: { limit?: number } = {}): Promise<SheetRows> {
    const limit = opts.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SHEET_ROWS) {
      throw new ValidationError(
        `limit must be a whole number from 1 to ${MAX_SHEET_ROWS}`,
        "e.g. --limit 1000",
      );
    }
    const typeId = await typeIdOf(this.db, r, "record", typeRef);
    const [type] = await this.db
      .select({ id: r.id, uid: r.uid, name: r.name, runId: r.runId })
      .from(r)
      .where(eq(r.id, typeId as number));
    if (!type) throw new NotFoundError(`record type ${typeRef} vanished`, "try again");
    const found = await this.db
      .select({ id: r.id, uid: r.uid, name: r.name, runId: r.runId })
      .from(r)
      .where(and(eq(r.typeId, type.id), eq(r.branchId, MAIN)))
      .orderBy(r.id)
      .limit(limit + 1);
    const rowsRead = found.slice(0, limit);
    const values = await this.instance.annotations.readMany(
      "record",
      rowsRead.map((x) => x.id),
    );
    const sheet = await sheetOfType(this.db, type.id);
    const rows = rowsRead.map((x) => {
      const features = values.get(x.id)?.features ?? {};
      // a sheet's index feature is the record's name (sheets.ts)
      if (sheet?.index && x.name !== null) features[sheet.index.name] = x.name;
      return { uid: x.uid, name: x.name, features };
    });
    const columns = sheet
      ? sheet.members.map((m) => m.name)
      : [...new Set(rows.flatMap((x) => Object.keys(x.features)))].sort();
    await recordRecordInputs(this.instance, [type, ...rowsRead]);
    return {
      type: type.uid,
      name: type.name,
      schema: sheet?.schema.uid ?? null,
      columns,
      rows,
      truncated: found.length > limit,
    };
  }

  /** The ids and creating runs of records by uid; an unknown uid is an error naming it. */
  async rowsOf(uids: readonly string[]): Promise<{ id: number; runId: number | null }[]> {
    if (uids.length === 0) return [];
    const found = await this.db
      .select({ id: r.id, uid: r.uid, runId: r.runId })
      .from(r)
      .where(inArray(r.uid, [...uids]));
    const missing = uids.filter((u) => !found.some((f) => f.uid === u));
    if (missing.length) {
      throw new NotFoundError(
        `no record with uid ${missing[0]?.slice(0, 100)}`,
        "list records (GET /records)",
      );
    }
    return found;
  }
}
