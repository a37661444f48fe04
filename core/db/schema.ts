/**
 * LaminDB's core schema as drizzle code. Table and column names are LaminDB's
 * (`lamindb_artifact`, `_hash_type`, `branch_id`, ...) so that SQL written for LaminDB reads
 * the same here; TypeScript property names are camelCase.
 *
 * Migrations in `migrations/instance/` are generated from this file with `npm run migrate:generate`.
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  smallint,
  smallserial,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";
import {
  createdAt,
  createdById,
  labelLinks,
  runId,
  runLinkColumns,
  sqlRecord,
  tracked,
  typed,
  updatedAt,
  versioned,
} from "./columns.js";

// Modules build their tables from the same column groups; they import them from here so that
// this file always loads before columns.ts (which refers back to its tables).
export { labelLinks, sqlRecord, tracked } from "./columns.js";

export const user = pgTable("lamindb_user", {
  id: serial("id").primaryKey(),
  uid: varchar("uid", { length: 8 }).notNull().unique(),
  handle: varchar("handle", { length: 30 }).notNull().unique(),
  name: varchar("name", { length: 150 }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const space = pgTable("lamindb_space", {
  id: smallserial("id").primaryKey(),
  uid: varchar("uid", { length: 12 }).notNull().unique(),
  name: varchar("name", { length: 100 }).notNull().unique(),
  description: text("description"),
  createdAt: createdAt(),
  createdById: createdById(),
});

export const branch = pgTable("lamindb_branch", {
  id: serial("id").primaryKey(),
  uid: varchar("uid", { length: 12 }).notNull().unique(),
  name: varchar("name", { length: 100 }).notNull().unique(),
  description: text("description"),
  spaceId: smallint("space_id")
    .notNull()
    .default(1)
    .references(() => space.id),
  statusCode: smallint("_status_code").notNull().default(0),
  aux: jsonb("_aux").$type<Record<string, unknown>>(),
  createdAt: createdAt(),
  createdById: createdById(),
});

export const storage = pgTable("lamindb_storage", {
  id: serial("id").primaryKey(),
  uid: varchar("uid", { length: 12 }).notNull().unique(),
  root: varchar("root", { length: 255 }).notNull().unique(),
  description: text("description"),
  type: varchar("type", { length: 30 }).notNull(),
  region: varchar("region", { length: 64 }),
  instanceUid: varchar("instance_uid", { length: 12 }),
  ...tracked(),
  ...sqlRecord(),
});

export const transform = pgTable(
  "lamindb_transform",
  {
    id: serial("id").primaryKey(),
    uid: varchar("uid", { length: 16 }).notNull().unique(),
    key: varchar("key", { length: 1024 }).notNull(),
    description: text("description"),
    kind: varchar("kind", { length: 20 }).notNull().default("pipeline"),
    sourceCode: text("source_code"),
    hash: varchar("hash", { length: 22 }),
    reference: varchar("reference", { length: 255 }),
    referenceType: varchar("reference_type", { length: 25 }),
    environmentId: integer("environment_id").references((): AnyPgColumn => artifact.id, {
      onDelete: "cascade",
    }),
    ...versioned(),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [
    uniqueIndex("lamindb_transform_key_hash").on(t.key, t.hash),
    index("lamindb_transform_key").on(t.key),
  ],
);

export const run = pgTable(
  "lamindb_run",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    uid: varchar("uid", { length: 20 }).notNull().unique(),
    name: varchar("name", { length: 150 }),
    description: text("description"),
    entrypoint: varchar("entrypoint", { length: 255 }),
    transformId: integer("transform_id")
      .notNull()
      .references((): AnyPgColumn => transform.id, { onDelete: "cascade" }),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    params: jsonb("params"),
    extraData: jsonb("extra_data"),
    reference: varchar("reference", { length: 255 }),
    referenceType: varchar("reference_type", { length: 25 }),
    cliArgs: varchar("cli_args", { length: 1024 }),
    reportId: integer("report_id").references((): AnyPgColumn => artifact.id),
    environmentId: integer("environment_id").references((): AnyPgColumn => artifact.id),
    initiatedByRunId: bigint("initiated_by_run_id", { mode: "number" }).references(
      (): AnyPgColumn => run.id,
      { onDelete: "cascade" },
    ),
    isConsecutive: boolean("_is_consecutive"),
    statusCode: smallint("_status_code").notNull().default(-3),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    createdById: createdById(),
    ...sqlRecord(),
  },
  (t) => [index("lamindb_run_transform").on(t.transformId)],
);

export const schema = pgTable(
  "lamindb_schema",
  {
    id: serial("id").primaryKey(),
    uid: varchar("uid", { length: 16 }).notNull().unique(),
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
  (t) => [index("lamindb_schema_hash").on(t.hash)],
);

export const artifact = pgTable(
  "lamindb_artifact",
  {
    id: serial("id").primaryKey(),
    uid: varchar("uid", { length: 20 }).notNull().unique(),
    key: varchar("key", { length: 1024 }),
    realKey: varchar("_real_key", { length: 1024 }),
    description: text("description"),
    storageId: integer("storage_id")
      .notNull()
      .references(() => storage.id),
    suffix: varchar("suffix", { length: 30 }).notNull().default(""),
    kind: varchar("kind", { length: 20 }),
    otype: varchar("otype", { length: 64 }),
    size: bigint("size", { mode: "number" }),
    hash: varchar("hash", { length: 22 }),
    hashType: varchar("_hash_type", { length: 30 }),
    nFiles: bigint("n_files", { mode: "number" }),
    nObservations: bigint("n_observations", { mode: "number" }),
    schemaId: integer("schema_id").references(() => schema.id),
    extraData: jsonb("extra_data"),
    keyIsVirtual: boolean("_key_is_virtual").notNull(),
    overwriteVersions: boolean("_overwrite_versions").notNull(),
    ...versioned(),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [
    // LaminDB's uniqueness: one row per content per key (or per storage when key-less).
    uniqueIndex("lamindb_artifact_storage_key_hash")
      .on(t.storageId, t.key, t.hash)
      .where(sql`${t.key} IS NOT NULL`),
    uniqueIndex("lamindb_artifact_storage_hash")
      .on(t.storageId, t.hash)
      .where(sql`${t.key} IS NULL`),
    // One latest version per key on the main branch: concurrent saves to a key cannot both win.
    uniqueIndex("lamindb_artifact_latest_key")
      .on(t.storageId, t.key)
      .where(sql`${t.key} IS NOT NULL AND ${t.isLatest} AND ${t.branchId} = 1`),
    index("lamindb_artifact_hash").on(t.hash),
    // prefix searches (`key__startswith`, version families by uid stem) whatever the collation
    index("lamindb_artifact_key_prefix").on(t.key.op("varchar_pattern_ops")),
    index("lamindb_artifact_uid_prefix").on(t.uid.op("varchar_pattern_ops")),
    index("lamindb_artifact_created_at").on(t.createdAt),
    index("lamindb_artifact_suffix").on(t.suffix),
    index("lamindb_artifact_run").on(t.runId),
  ],
);

/**
 * Django's automatic M2M tables between a registry and runs: `<owner>_input_of_runs` (what runs
 * read: `run.input_artifacts`, `run.input_collections`) and `<owner>_recreating_runs` (runs that
 * saved it again after another run had created it).
 */
function runsOf(
  owner: "artifact" | "collection",
  relation: "input_of_runs" | "recreating_runs",
  target: () => AnyPgColumn,
) {
  const name = `lamindb_${owner}_${relation}`;
  return pgTable(
    name,
    {
      id: bigserial("id", { mode: "number" }).primaryKey(),
      recordId: integer(`${owner}_id`).notNull().references(target, { onDelete: "cascade" }),
      runId: bigint("run_id", { mode: "number" })
        .notNull()
        .references((): AnyPgColumn => run.id, { onDelete: "cascade" }),
    },
    (t) => [uniqueIndex(`${name}_pair`).on(t.recordId, t.runId), index(`${name}_run`).on(t.runId)],
  );
}

export const artifactInputOfRuns = runsOf("artifact", "input_of_runs", () => artifact.id);
export const artifactRecreatingRuns = runsOf("artifact", "recreating_runs", () => artifact.id);

/** The schema an artifact was validated with, per slot (`artifact.schemas`). */
export const artifactSchema = pgTable(
  "lamindb_artifactschema",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    artifactId: integer("artifact_id")
      .notNull()
      .references(() => artifact.id, { onDelete: "cascade" }),
    schemaId: integer("schema_id")
      .notNull()
      .references(() => schema.id),
    slot: varchar("slot", { length: 40 }),
    featureRefIsSemantic: boolean("feature_ref_is_semantic"),
    createdAt: createdAt(),
    createdById: createdById(),
    runId: runId(),
  },
  (t) => [
    uniqueIndex("lamindb_artifactschema_artifact_schema").on(t.artifactId, t.schemaId),
    uniqueIndex("lamindb_artifactschema_artifact_slot").on(t.artifactId, t.slot),
    index("lamindb_artifactschema_schema").on(t.schemaId),
  ],
);

export const collection = pgTable(
  "lamindb_collection",
  {
    id: serial("id").primaryKey(),
    uid: varchar("uid", { length: 20 }).notNull().unique(),
    key: varchar("key", { length: 255 }).notNull(),
    description: text("description"),
    hash: varchar("hash", { length: 22 }),
    reference: varchar("reference", { length: 255 }),
    referenceType: varchar("reference_type", { length: 25 }),
    metaArtifactId: integer("meta_artifact_id")
      .unique()
      .references(() => artifact.id),
    schemaId: integer("schema_id").references(() => schema.id),
    ...versioned(),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [
    uniqueIndex("lamindb_collection_key_hash").on(t.key, t.hash),
    // lineage walks find the collections a run made
    index("lamindb_collection_run").on(t.runId),
  ],
);

export const collectionInputOfRuns = runsOf("collection", "input_of_runs", () => collection.id);
export const collectionRecreatingRuns = runsOf(
  "collection",
  "recreating_runs",
  () => collection.id,
);

export const collectionArtifact = pgTable(
  "lamindb_collectionartifact",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    collectionId: integer("collection_id")
      .notNull()
      .references(() => collection.id, { onDelete: "cascade" }),
    artifactId: integer("artifact_id")
      .notNull()
      .references(() => artifact.id),
    createdAt: createdAt(),
    createdById: createdById(),
    runId: runId(),
  },
  (t) => [uniqueIndex("lamindb_collectionartifact_pair").on(t.collectionId, t.artifactId)],
);

export const feature = pgTable(
  "lamindb_feature",
  {
    id: serial("id").primaryKey(),
    uid: varchar("uid", { length: 12 }).notNull().unique(),
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
    nullable: boolean("nullable").notNull().default(true),
    coerce: boolean("coerce").notNull().default(false),
    ...typed((): AnyPgColumn => feature.id),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [index("lamindb_feature_name").on(t.name)],
);

export const schemaFeature = pgTable(
  "lamindb_schemafeature",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    schemaId: integer("schema_id")
      .notNull()
      .references(() => schema.id, { onDelete: "cascade" }),
    featureId: integer("feature_id")
      .notNull()
      .references(() => feature.id),
  },
  (t) => [uniqueIndex("lamindb_schemafeature_pair").on(t.schemaId, t.featureId)],
);

/** A composite schema's slots (`obs`, `var.T`, ...), each validated by a component schema. */
export const schemaComponent = pgTable(
  "lamindb_schemacomponent",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    compositeId: integer("composite_id")
      .notNull()
      .references((): AnyPgColumn => schema.id, { onDelete: "cascade" }),
    componentId: integer("component_id")
      .notNull()
      .references((): AnyPgColumn => schema.id),
    slot: varchar("slot", { length: 40 }),
    createdAt: createdAt(),
    createdById: createdById(),
    runId: runId(),
  },
  (t) => [
    uniqueIndex("lamindb_schemacomponent_composite_slot").on(t.compositeId, t.slot),
    uniqueIndex("lamindb_schemacomponent_composite_component").on(t.compositeId, t.componentId),
    index("lamindb_schemacomponent_component").on(t.componentId),
  ],
);

export const ulabel = pgTable(
  "lamindb_ulabel",
  {
    id: serial("id").primaryKey(),
    uid: varchar("uid", { length: 8 }).notNull().unique(),
    name: varchar("name", { length: 150 }).notNull(),
    description: text("description"),
    reference: varchar("reference", { length: 255 }),
    referenceType: varchar("reference_type", { length: 25 }),
    ...typed((): AnyPgColumn => ulabel.id),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [index("lamindb_ulabel_name").on(t.name)],
);

export const artifactUlabel = labelLinks("lamindb_artifactulabel", "artifact", {
  column: "ulabel_id",
  references: () => ulabel.id,
});

export const record = pgTable(
  "lamindb_record",
  {
    id: serial("id").primaryKey(),
    uid: varchar("uid", { length: 16 }).notNull().unique(),
    name: varchar("name", { length: 150 }),
    description: text("description"),
    reference: varchar("reference", { length: 255 }),
    referenceType: varchar("reference_type", { length: 25 }),
    extraData: jsonb("extra_data"),
    schemaId: integer("schema_id").references(() => schema.id, { onDelete: "cascade" }),
    ...typed((): AnyPgColumn => record.id),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [index("lamindb_record_name").on(t.name)],
);

export const project = pgTable(
  "lamindb_project",
  {
    id: serial("id").primaryKey(),
    uid: varchar("uid", { length: 12 }).notNull().unique(),
    name: varchar("name", { length: 255 }).notNull(),
    description: text("description"),
    abbr: varchar("abbr", { length: 32 }),
    url: varchar("url", { length: 255 }),
    startDate: date("start_date"),
    endDate: date("end_date"),
    statusCode: smallint("_status_code").notNull().default(0),
    ...typed((): AnyPgColumn => project.id),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [index("lamindb_project_name").on(t.name)],
);

export const artifactProject = labelLinks("lamindb_artifactproject", "artifact", {
  column: "project_id",
  references: () => project.id,
});

export const jsonValue = pgTable(
  "lamindb_jsonvalue",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    featureId: integer("feature_id").references(() => feature.id, { onDelete: "cascade" }),
    value: jsonb("value"),
    hash: varchar("hash", { length: 22 }).notNull(),
    createdAt: createdAt(),
    createdById: createdById(),
    runId: runId(),
    ...sqlRecord(),
  },
  (t) => [uniqueIndex("lamindb_jsonvalue_feature_hash").on(t.featureId, t.hash)],
);

export const artifactJsonValue = pgTable(
  "lamindb_artifactjsonvalue",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    artifactId: integer("artifact_id")
      .notNull()
      .references(() => artifact.id, { onDelete: "cascade" }),
    jsonvalueId: bigint("jsonvalue_id", { mode: "number" })
      .notNull()
      .references(() => jsonValue.id),
  },
  (t) => [
    uniqueIndex("lamindb_artifactjsonvalue_pair").on(t.artifactId, t.jsonvalueId),
    index("lamindb_artifactjsonvalue_value").on(t.jsonvalueId, t.artifactId),
  ],
);

/** Parents of labels (Django's M2M on "self": `from` is the child, `to` the parent). */
export const ulabelParents = pgTable(
  "lamindb_ulabel_parents",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    fromUlabelId: integer("from_ulabel_id")
      .notNull()
      .references(() => ulabel.id, { onDelete: "cascade" }),
    toUlabelId: integer("to_ulabel_id")
      .notNull()
      .references(() => ulabel.id, { onDelete: "cascade" }),
  },
  (t) => [
    uniqueIndex("lamindb_ulabel_parents_pair").on(t.fromUlabelId, t.toUlabelId),
    index("lamindb_ulabel_parents_to").on(t.toUlabelId),
  ],
);

export const artifactRecord = labelLinks("lamindb_artifactrecord", "artifact", {
  column: "record_id",
  references: () => record.id,
});

export const runJsonValue = pgTable(
  "lamindb_runjsonvalue",
  {
    ...runLinkColumns(),
    jsonvalueId: bigint("jsonvalue_id", { mode: "number" })
      .notNull()
      .references(() => jsonValue.id),
  },
  (t) => [
    uniqueIndex("lamindb_runjsonvalue_pair").on(t.runId, t.jsonvalueId),
    index("lamindb_runjsonvalue_value").on(t.jsonvalueId, t.runId),
  ],
);

export const runUlabel = labelLinks("lamindb_runulabel", "run", {
  column: "ulabel_id",
  references: () => ulabel.id,
});

export const runRecord = labelLinks("lamindb_runrecord", "run", {
  column: "record_id",
  references: () => record.id,
});

export const runProject = labelLinks("lamindb_runproject", "run", {
  column: "project_id",
  references: () => project.id,
});

/**
 * lamindb-serverless, not LaminDB: the last storage event applied to each object key. Storage
 * events arrive late, twice or out of order; comparing their S3 `sequencer` with the one kept
 * here makes every event apply at most once and never roll an object back.
 */
export const storageObject = pgTable(
  "lns_storage_object",
  {
    storageId: integer("storage_id")
      .notNull()
      .references(() => storage.id, { onDelete: "cascade" }),
    /** Storage-relative object key. */
    key: text("key").notNull(),
    /** Normalised sequencer (upper-case hex, right-padded with zeros) of the last event. */
    sequencer: varchar("sequencer", { length: 128 }).notNull(),
    etag: varchar("etag", { length: 128 }),
    deleted: boolean("deleted").notNull().default(false),
    artifactId: integer("artifact_id").references(() => artifact.id, { onDelete: "set null" }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.storageId, t.key] })],
);

export type ArtifactRow = typeof artifact.$inferSelect;
export type StorageRow = typeof storage.$inferSelect;
export type StorageObjectRow = typeof storageObject.$inferSelect;
export type UserRow = typeof user.$inferSelect;
