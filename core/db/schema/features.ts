/**
 * Features (what a value means: name, dtype, unit), schemas (sets of features an artifact is
 * validated with, and composites of them), and the JSON values of features on artifacts and runs.
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  varchar,
} from "drizzle-orm/pg-core";
import { artifact } from "./artifacts.js";
import {
  autoId,
  bigAutoId,
  createdAt,
  createdById,
  runId,
  sqlRecord,
  tracked,
  typed,
  uid,
  uniqueTogether,
} from "./columns.js";
import { run } from "./transforms.js";

export const feature = pgTable(
  "lamindb_feature",
  {
    id: autoId(),
    uid: uid("lamindb_feature", 12),
    name: varchar("name", { length: 150 }).notNull(),
    dtypeStr: varchar("_dtype_str", { length: 255 }),
    ounitStr: varchar("_ounit_str", { length: 255 }),
    unit: varchar("unit", { length: 30 }),
    description: text("description"),
    arrayRank: smallint("array_rank").notNull().default(0),
    arraySize: integer("array_size").notNull().default(0),
    arrayShape: jsonb("array_shape"),
    synonyms: text("synonyms"),
    defaultValue: jsonb("default_value"),
    // NULL is LaminDB's "not said" (Python writes it); this build writes true/false
    nullable: boolean("nullable").default(true),
    coerce: boolean("coerce").default(false),
    ...typed((): AnyPgColumn => feature.id),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [
    index("lamindb_feature_name").on(t.name),
    // a feature that is not a type has a dtype
    check("feature_dtype_str_not_null_when_is_type_false", sql`is_type OR _dtype_str IS NOT NULL`),
    // is_valid_*_type: functions of migration 0007 (LaminDB's RunSQL)
    check("feature_type_is_valid_fk", sql`is_valid_feature_type(type_id)`),
  ],
);

export const schema = pgTable(
  "lamindb_schema",
  {
    id: autoId(),
    uid: uid("lamindb_schema", 16),
    name: varchar("name", { length: 150 }),
    description: text("description"),
    nMembers: integer("n_members"),
    coerce: boolean("coerce"),
    flexible: boolean("flexible"),
    itype: varchar("itype", { length: 120 }),
    otype: varchar("otype", { length: 64 }),
    suffix: varchar("suffix", { length: 30 }),
    dtypeStr: varchar("_dtype_str", { length: 64 }),
    hash: varchar("hash", { length: 22 }),
    minimalSet: boolean("minimal_set").notNull().default(true),
    orderedSet: boolean("ordered_set").notNull().default(false),
    maximalSet: boolean("maximal_set").notNull().default(false),
    ...typed((): AnyPgColumn => schema.id),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [
    index("lamindb_schema_hash").on(t.hash),
    check("schema_type_is_valid_fk", sql`is_valid_schema_type(type_id)`),
  ],
);

export const schemaFeature = pgTable(
  "lamindb_schemafeature",
  {
    id: bigAutoId(),
    schemaId: integer("schema_id")
      .notNull()
      .references((): AnyPgColumn => schema.id, { onDelete: "cascade" }),
    featureId: integer("feature_id")
      .notNull()
      .references((): AnyPgColumn => feature.id),
  },
  (t) => [uniqueTogether("lamindb_schemafeature", t.schemaId, t.featureId)],
);

/** A composite schema's slots (`obs`, `var.T`, ...), each validated by a component schema. */
export const schemaComponent = pgTable(
  "lamindb_schemacomponent",
  {
    id: bigAutoId(),
    compositeId: integer("composite_id")
      .notNull()
      .references((): AnyPgColumn => schema.id, { onDelete: "cascade" }),
    componentId: integer("component_id")
      .notNull()
      .references((): AnyPgColumn => schema.id),
    slot: varchar("slot", { length: 255 }),
    createdAt: createdAt(),
    createdById: createdById(),
    runId: runId(),
  },
  (t) => [
    uniqueTogether("lamindb_schemacomponent", t.compositeId, t.slot),
    uniqueTogether("lamindb_schemacomponent", t.compositeId, t.slot, t.componentId),
    index("lamindb_schemacomponent_component").on(t.componentId),
  ],
);

/** The schema an artifact was validated with, per slot (`artifact.schemas`). */
export const artifactSchema = pgTable(
  "lamindb_artifactschema",
  {
    id: bigAutoId(),
    artifactId: integer("artifact_id")
      .notNull()
      .references((): AnyPgColumn => artifact.id, { onDelete: "cascade" }),
    schemaId: integer("schema_id")
      .notNull()
      .references((): AnyPgColumn => schema.id),
    slot: varchar("slot", { length: 255 }),
    featureRefIsSemantic: boolean("feature_ref_is_semantic"),
    createdAt: createdAt(),
    createdById: createdById(),
    runId: runId(),
  },
  (t) => [
    uniqueTogether("lamindb_artifactschema", t.artifactId, t.slot),
    uniqueTogether("lamindb_artifactschema", t.artifactId, t.slot, t.schemaId),
    index("lamindb_artifactschema_schema").on(t.schemaId),
  ],
);

/** A feature's value, stored once per (feature, value hash) and linked to artifacts and runs. */
export const jsonValue = pgTable(
  "lamindb_jsonvalue",
  {
    id: bigAutoId(),
    featureId: integer("feature_id").references((): AnyPgColumn => feature.id, {
      onDelete: "cascade",
    }),
    value: jsonb("value").notNull(),
    hash: varchar("hash", { length: 22 }),
    createdAt: createdAt(),
    createdById: createdById(),
    runId: runId(),
    ...sqlRecord(),
  },
  (t) => [uniqueTogether("lamindb_jsonvalue", t.featureId, t.hash)],
);

const jsonValueId = () =>
  bigint("jsonvalue_id", { mode: "number" })
    .notNull()
    .references((): AnyPgColumn => jsonValue.id);

export const artifactJsonValue = pgTable(
  "lamindb_artifactjsonvalue",
  {
    id: bigAutoId(),
    artifactId: integer("artifact_id")
      .notNull()
      .references((): AnyPgColumn => artifact.id, { onDelete: "cascade" }),
    jsonvalueId: jsonValueId(),
    createdAt: createdAt(),
    createdById: createdById(),
    runId: runId(),
  },
  (t) => [
    uniqueTogether("lamindb_artifactjsonvalue", t.artifactId, t.jsonvalueId),
    index("lamindb_artifactjsonvalue_value").on(t.jsonvalueId, t.artifactId),
  ],
);

export const runJsonValue = pgTable(
  "lamindb_runjsonvalue",
  {
    id: bigAutoId(),
    runId: bigint("run_id", { mode: "number" })
      .notNull()
      .references((): AnyPgColumn => run.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    createdById: createdById(),
    jsonvalueId: jsonValueId(),
  },
  (t) => [
    uniqueTogether("lamindb_runjsonvalue", t.runId, t.jsonvalueId),
    index("lamindb_runjsonvalue_value").on(t.jsonvalueId, t.runId),
  ],
);
