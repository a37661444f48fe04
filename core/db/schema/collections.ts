/** Collections of artifacts, and which runs read or made them again. */
import {
  type AnyPgColumn,
  index,
  integer,
  pgTable,
  text,
  unique,
  varchar,
} from "drizzle-orm/pg-core";
import { artifact } from "./artifacts.js";
import {
  autoId,
  bigAutoId,
  createdAt,
  createdById,
  manyToMany,
  runId,
  sqlRecord,
  tracked,
  uid,
  uniqueField,
  uniqueTogether,
  versioned,
} from "./columns.js";
import { schema } from "./features.js";
import { run } from "./transforms.js";

export const collection = pgTable(
  "lamindb_collection",
  {
    id: autoId(),
    uid: uid("lamindb_collection", 20),
    key: varchar("key", { length: 255 }).notNull(),
    description: text("description"),
    hash: varchar("hash", { length: 22 }),
    reference: varchar("reference", { length: 255 }),
    referenceType: varchar("reference_type", { length: 25 }),
    metaArtifactId: integer("meta_artifact_id")
      .unique(uniqueField("lamindb_collection", "meta_artifact_id"))
      .references((): AnyPgColumn => artifact.id),
    schemaId: integer("schema_id").references((): AnyPgColumn => schema.id),
    ...versioned(),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [
    unique("unique_collection_key_hash_not_null").on(t.key, t.hash),
    // lineage walks find the collections a run made
    index("lamindb_collection_run").on(t.runId),
  ],
);

const collectionEnd = (column = "collection_id") => ({
  column,
  references: (): AnyPgColumn => collection.id,
  cascade: true,
});
const runEnd = {
  column: "run_id",
  references: (): AnyPgColumn => run.id,
  bigint: true,
  cascade: true,
};

/** Django's automatic M2M tables between collections and runs (see artifactInputOfRuns). */
export const collectionInputOfRuns = manyToMany(
  "lamindb_collection_input_of_runs",
  collectionEnd(),
  runEnd,
);
export const collectionRecreatingRuns = manyToMany(
  "lamindb_collection_recreating_runs",
  collectionEnd(),
  runEnd,
);
/** `Collection._actions`: artifacts that act on a collection. */
export const collectionActions = manyToMany("lamindb_collection__actions", collectionEnd(), {
  column: "artifact_id",
  references: (): AnyPgColumn => artifact.id,
  cascade: true,
});

export const collectionArtifact = pgTable(
  "lamindb_collectionartifact",
  {
    id: bigAutoId(),
    collectionId: integer("collection_id")
      .notNull()
      .references((): AnyPgColumn => collection.id, { onDelete: "cascade" }),
    artifactId: integer("artifact_id")
      .notNull()
      .references((): AnyPgColumn => artifact.id),
    createdAt: createdAt(),
    createdById: createdById(),
    runId: runId(),
  },
  (t) => [uniqueTogether("lamindb_collectionartifact", t.collectionId, t.artifactId)],
);
