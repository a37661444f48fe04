/**
 * Reference (uid 12): studies, papers, documents, URLs (LaminDB's `Reference`), with a DOI, a
 * PubMed id, a date and a searchable text; linked to the artifacts, collections, transforms,
 * records and projects that cite them. An exact name match under the same type returns the
 * existing reference; a reference can be a type of references ('Paper', 'Study').
 */
import * as t from "../../db/schema.js";
import type { Instance } from "../../instance.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { onCurrentBranch } from "../common/branch.js";
import { LOCK } from "../common/locks.js";
import {
  defineRegistry,
  field,
  type InputOf,
  input,
  ModelRegistry,
  type PublicOf,
} from "../model/model.js";
import { type CreateResult, MAX_DESCRIPTION } from "./base.js";
import { checkCalendarDate, DATE_PATTERN } from "./checks.js";
import { namedUnderType, type TypedTable, typeIdOf } from "./typed.js";

const r = t.reference;
/** LaminDB's DOI validator (models/project.py). */
const DOI = /^(?:https?:\/\/(?:dx\.)?doi\.org\/|doi:|DOI:)?10\.\d+\/.*$/;

export const ReferenceModel = defineRegistry({
  name: "reference",
  plural: "references",
  doc: "References: studies, papers, documents and URLs that data cite",
  table: r,
  uid: { length: UID_LENGTHS.reference, example: "Jx2pQ8rTzK4m" },
  fields: {
    uid: field.column(r.uid, { example: "Jx2pQ8rTzK4m" }),
    name: field.column(r.name, { example: "A paper title" }),
    abbr: field.column(r.abbr),
    url: field.column(r.url),
    pubmed_id: field.column(r.pubmedId),
    doi: field.column(r.doi, { example: "10.1000/xyz123" }),
    date: field.column(r.date, { doc: "date of creation or publication (YYYY-MM-DD)" }),
    description: field.column(r.description),
    text: field.column(r.text, { noFilter: true, doc: "abstract or full text, searchable" }),
    is_type: field.column(r.isType),
    type: field.ref(r.typeId, t.reference, {
      doc: "uid of the Reference type ('Paper', 'Study') this reference belongs to",
    }),
    artifacts: field.many(
      t.artifactReference,
      t.artifactReference.labelId,
      t.artifactReference.ownerId,
      t.artifact,
      {
        doc: "uids of the artifacts that cite it",
        write: {},
      },
    ),
    collections: field.many(
      t.collectionReference,
      t.collectionReference.labelId,
      t.collectionReference.ownerId,
      t.collection,
      { doc: "uids of the collections that cite it", write: {} },
    ),
    transforms: field.many(
      t.transformReference,
      t.transformReference.labelId,
      t.transformReference.ownerId,
      t.transform,
      { doc: "uids of the transforms that cite it", write: {} },
    ),
    records: field.many(
      t.referenceRecord,
      t.referenceRecord.ownerId,
      t.referenceRecord.labelId,
      t.record,
      { doc: "uids of the records it cites", write: {} },
    ),
    projects: field.many(
      t.projectReferences,
      t.projectReferences.toId,
      t.projectReferences.fromId,
      t.project,
      { doc: "uids of the projects it belongs to", write: {} },
    ),
  },
  inputs: {
    name: input.required(input.string(255, { example: "A paper title" })),
    abbr: input.string(32),
    url: input.string(255, { format: "url", example: "https://doi.org/10.1000/xyz123" }),
    pubmed_id: input.integer({ example: 12345678 }),
    doi: input.string(255, {
      pattern: {
        regex: DOI,
        hint: "a DOI looks like 10.1000/xyz123 or https://doi.org/10.1000/xyz123",
      },
      example: "10.1000/xyz123",
    }),
    date: input.string(10, {
      pattern: DATE_PATTERN,
      example: "2023-11-21",
    }),
    description: input.string(MAX_DESCRIPTION),
    text: input.string(Number.MAX_SAFE_INTEGER, { doc: "abstract or full text, searchable" }),
    is_type: input.boolean(),
    type: input.string(255, { doc: "uid or name of a Reference that is a type" }),
  },
  search: ["name", "abbr", "text"],
});
export const REFERENCE_FILTER_FIELDS = Object.keys(ReferenceModel.spec.fields);

export type Reference = PublicOf<typeof ReferenceModel>;
export type ReferenceInput = InputOf<typeof ReferenceModel>;

/** Reference names share the advisory lock namespace of projects, offset so they never collide. */
const lockName = (name: string) => `reference:${name}`;

export class References extends ModelRegistry<typeof ReferenceModel> {
  constructor(instance: Instance) {
    super(instance, ReferenceModel);
  }

  /** Create a reference (or a type of references); one of the same name and type is returned. */
  async create(given: ReferenceInput): Promise<CreateResult<Reference>> {
    const { name, type, is_type, date, ...rest } = this.model.check(given);
    checkCalendarDate(date);
    const isType = is_type ?? false;
    const typeId = await typeIdOf(this.db, r as TypedTable, "reference", type);
    return this.decide([[LOCK.project, lockName(name)]], (tx) =>
      namedUnderType(tx, r as TypedTable, "reference", { name, isType, typeId }, () =>
        tx
          .insert(r)
          .values({
            uid: randomBase62(UID_LENGTHS.reference),
            ...onCurrentBranch(this.instance),
            name,
            abbr: rest.abbr,
            url: rest.url,
            pubmedId: rest.pubmed_id,
            doi: rest.doi,
            date,
            description: rest.description,
            text: rest.text,
            isType,
            typeId,
            createdById: this.instance.user.id,
          })
          .returning({ id: r.id }),
      ),
    );
  }
}
