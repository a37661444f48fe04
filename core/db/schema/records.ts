/**
 * Labels (ULabel), records (rows of typed sheets) with their values per feature, and the links
 * that annotate artifacts, runs, transforms, collections and branches with them.
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  varchar,
} from "drizzle-orm/pg-core";
import { branch, user } from "./accounts.js";
import { artifact } from "./artifacts.js";
import { collection } from "./collections.js";
import {
  autoId,
  bigAutoId,
  labelLinks,
  link,
  manyToMany,
  recordValues,
  sqlRecord,
  tracked,
  typed,
  uid,
  uniqueTogether,
} from "./columns.js";
import { feature, schema } from "./features.js";
import { project, reference } from "./projects.js";
import { run, transform } from "./transforms.js";

export const ulabel = pgTable(
  "lamindb_ulabel",
  {
    id: autoId(),
    uid: uid("lamindb_ulabel", 8),
    name: varchar("name", { length: 150 }).notNull(),
    description: text("description"),
    reference: varchar("reference", { length: 255 }),
    referenceType: varchar("reference_type", { length: 25 }),
    ...typed((): AnyPgColumn => ulabel.id),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [
    index("lamindb_ulabel_name").on(t.name),
    check("ulabel_type_is_valid_fk", sql`is_valid_ulabel_type(type_id)`),
  ],
);

/** Parents of labels (Django's M2M on "self": `from` is the child, `to` the parent). */
export const ulabelParents = manyToMany(
  "lamindb_ulabel_parents",
  { column: "from_ulabel_id", references: (): AnyPgColumn => ulabel.id },
  { column: "to_ulabel_id", references: (): AnyPgColumn => ulabel.id },
);

export const record = pgTable(
  "lamindb_record",
  {
    id: autoId(),
    uid: uid("lamindb_record", 16),
    name: varchar("name", { length: 150 }),
    description: text("description"),
    reference: varchar("reference", { length: 255 }),
    referenceType: varchar("reference_type", { length: 25 }),
    extraData: jsonb("extra_data"),
    schemaId: integer("schema_id").references((): AnyPgColumn => schema.id, {
      onDelete: "cascade",
    }),
    ...typed((): AnyPgColumn => record.id),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [
    index("lamindb_record_name").on(t.name),
    check("record_type_is_valid_fk", sql`is_valid_record_type(type_id, is_type)`),
  ],
);

const recordEnd = (column = "record_id") => ({
  column,
  references: (): AnyPgColumn => record.id,
});

export const recordParents = manyToMany(
  "lamindb_record_parents",
  recordEnd("from_record_id"),
  recordEnd("to_record_id"),
);
/** Records that runs read (`run.input_records`). */
export const recordInputOfRuns = manyToMany("lamindb_record_input_of_runs", recordEnd(), {
  column: "run_id",
  references: (): AnyPgColumn => run.id,
  bigint: true,
});

/** A record's JSON value for a feature (`RecordJson`): one per (record, feature). */
export const recordJson = pgTable(
  "lamindb_recordjson",
  {
    id: bigAutoId(),
    recordId: integer("record_id")
      .notNull()
      .references((): AnyPgColumn => record.id, { onDelete: "cascade" }),
    featureId: integer("feature_id")
      .notNull()
      .references((): AnyPgColumn => feature.id),
    value: jsonb("value").notNull(),
  },
  (t) => [
    uniqueTogether("lamindb_recordjson", t.recordId, t.featureId),
    index("lamindb_recordjson_feature").on(t.featureId),
  ],
);

/** A record's values for features whose dtype is a registry (`RecordRecord`, `RecordULabel`, ...). */
export const recordRecord = recordValues("lamindb_recordrecord", {
  references: (): AnyPgColumn => record.id,
});
export const recordUlabel = recordValues("lamindb_recordulabel", {
  references: (): AnyPgColumn => ulabel.id,
});
export const recordArtifact = recordValues("lamindb_recordartifact", {
  references: (): AnyPgColumn => artifact.id,
});
export const recordRun = recordValues("lamindb_recordrun", {
  references: (): AnyPgColumn => run.id,
  bigint: true,
});
export const recordProject = recordValues("lamindb_recordproject", {
  references: (): AnyPgColumn => project.id,
});
export const recordCollection = recordValues("lamindb_recordcollection", {
  references: (): AnyPgColumn => collection.id,
});
export const recordTransform = recordValues("lamindb_recordtransform", {
  references: (): AnyPgColumn => transform.id,
});
export const recordReference = recordValues("lamindb_recordreference", {
  references: (): AnyPgColumn => reference.id,
});
export const recordUser = recordValues("lamindb_recorduser", {
  references: (): AnyPgColumn => user.id,
});

const ulabelEnd = { column: "ulabel_id", references: (): AnyPgColumn => ulabel.id };
const recordLabel = { column: "record_id", references: (): AnyPgColumn => record.id };

export const artifactUlabel = labelLinks(
  "lamindb_artifactulabel",
  "artifact",
  ulabelEnd,
  "partial",
);
export const artifactRecord = labelLinks(
  "lamindb_artifactrecord",
  "artifact",
  recordLabel,
  "partial",
);
export const runUlabel = labelLinks("lamindb_runulabel", "run", ulabelEnd, "featureless");
export const runRecord = labelLinks("lamindb_runrecord", "run", recordLabel, "partial");

const transformEnd = {
  column: "transform_id",
  references: (): AnyPgColumn => transform.id,
  cascade: true,
};
const collectionEnd = {
  column: "collection_id",
  references: (): AnyPgColumn => collection.id,
  cascade: true,
};

export const transformUlabel = link("lamindb_transformulabel", transformEnd, ulabelEnd, {
  tracking: "run",
  unique: "pair",
});
export const transformRecord = link("lamindb_transformrecord", transformEnd, recordLabel, {
  feature: true,
  tracking: "run",
  unique: "partial",
});
export const collectionUlabel = link("lamindb_collectionulabel", collectionEnd, ulabelEnd, {
  feature: true,
  tracking: "run",
  unique: "pair",
});
export const collectionRecord = link("lamindb_collectionrecord", collectionEnd, recordLabel, {
  feature: true,
  tracking: "run",
  unique: "partial",
});
export const branchUlabel = link(
  "lamindb_branchulabel",
  { column: "branch_id", references: (): AnyPgColumn => branch.id, cascade: true },
  ulabelEnd,
  { tracking: "none", unique: "pair" },
);
