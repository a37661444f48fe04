/** Artifacts (files, folders, arrays) and the links between artifacts, runs and users. */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";
import { user } from "./accounts.js";
import { autoId, link, manyToMany, sqlRecord, tracked, uid, versioned } from "./columns.js";
import { schema } from "./features.js";
import { storage } from "./storage.js";
import { run } from "./transforms.js";

export const artifact = pgTable(
  "lamindb_artifact",
  {
    id: autoId(),
    uid: uid("lamindb_artifact", 20),
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
    schemaId: integer("schema_id").references((): AnyPgColumn => schema.id),
    extraData: jsonb("extra_data"),
    keyIsVirtual: boolean("_key_is_virtual").notNull(),
    overwriteVersions: boolean("_overwrite_versions").notNull(),
    ...versioned(),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [
    // LaminDB's uniqueness: one row per content per key (or per storage when key-less).
    uniqueIndex("unique_artifact_storage_key_hash_not_null")
      .on(t.storageId, t.key, t.hash)
      .where(sql`${t.key} IS NOT NULL`),
    uniqueIndex("unique_artifact_storage_hash_null_key")
      .on(t.storageId, t.hash)
      .where(sql`${t.key} IS NULL`),
    // Ours: one latest version per key on the main branch, so that concurrent saves to a key
    // cannot both win (see test/parity/schema.test.ts).
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

const artifactEnd = (column: string, cascade = true) => ({
  column,
  references: (): AnyPgColumn => artifact.id,
  cascade,
});
const runEnd = (column: string, cascade = true) => ({
  column,
  references: (): AnyPgColumn => run.id,
  bigint: true,
  cascade,
});

/**
 * Django's automatic M2M tables between artifacts and runs: `input_of_runs` (what runs read:
 * `run.input_artifacts`) and `recreating_runs` (runs that saved it again after another run had
 * created it).
 */
export const artifactInputOfRuns = manyToMany(
  "lamindb_artifact_input_of_runs",
  artifactEnd("artifact_id"),
  runEnd("run_id"),
);
export const artifactRecreatingRuns = manyToMany(
  "lamindb_artifact_recreating_runs",
  artifactEnd("artifact_id"),
  runEnd("run_id"),
);
/** `Artifact._actions`: artifacts that act on an artifact (LaminDB's auto M2M on "self"). */
export const artifactActions = manyToMany(
  "lamindb_artifact__actions",
  artifactEnd("from_artifact_id"),
  artifactEnd("to_artifact_id"),
);

/** An artifact as the value of another artifact's feature (`ArtifactArtifact`). */
export const artifactArtifact = link(
  "lamindb_artifactartifact",
  artifactEnd("artifact_id"),
  artifactEnd("value_id"),
  { feature: true, tracking: "run", unique: "partial" },
);
/** A run as the value of an artifact's feature (`ArtifactRun`). */
export const artifactRun = link(
  "lamindb_artifactrun",
  artifactEnd("artifact_id"),
  runEnd("run_id"),
  {
    feature: true,
    tracking: "user",
    unique: "partial",
  },
);
/** An artifact as the value of a run's feature (`RunArtifact`). */
export const runArtifact = link(
  "lamindb_runartifact",
  runEnd("run_id"),
  artifactEnd("artifact_id", false),
  { feature: true, tracking: "none", unique: "partial" },
);
/** A user as the value of an artifact's feature (`ArtifactUser`). */
export const artifactUser = link(
  "lamindb_artifactuser",
  artifactEnd("artifact_id"),
  { column: "user_id", references: (): AnyPgColumn => user.id },
  { feature: true, tracking: "run", unique: "partial" },
);
