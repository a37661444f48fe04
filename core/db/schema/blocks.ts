/**
 * Blocks: versioned markdown, either free-standing (`lamindb_block`: an instance README, a
 * comment thread anchored on another block) or attached to one record of a registry
 * (`lamindb_<registry>block`: an artifact's README, a comment on a transform's line).
 */
import {
  type AnyPgColumn,
  bigint,
  integer,
  pgTable,
  smallint,
  text,
  varchar,
} from "drizzle-orm/pg-core";
import { branch, space } from "./accounts.js";
import { artifact } from "./artifacts.js";
import { collection } from "./collections.js";
import {
  bigAutoId,
  blockTable,
  createdAt,
  createdById,
  sqlRecord,
  uid,
  versioned,
} from "./columns.js";
import { feature, schema } from "./features.js";
import { project } from "./projects.js";
import { record, ulabel } from "./records.js";
import { run, transform } from "./transforms.js";

export const block = pgTable("lamindb_block", {
  id: bigAutoId(),
  uid: uid("lamindb_block", 20),
  key: varchar("key", { length: 1024 }),
  content: text("content").notNull(),
  hash: varchar("hash", { length: 22 }),
  kind: varchar("kind", { length: 22 }).notNull().default("readme"),
  ...versioned(),
  statusCode: smallint("_status_code").notNull().default(0),
  /** The block this one comments on. */
  anchorId: bigint("anchor_id", { mode: "number" }).references((): AnyPgColumn => block.id),
  createdAt: createdAt(),
  createdById: createdById(),
  ...sqlRecord(),
});

/** The owner of a block: required unless LaminDB lets the block stand alone. */
const owned = (column: string, references: () => AnyPgColumn, required = true) => {
  const c = integer(column).references(references, { onDelete: "cascade" });
  return required ? c.notNull() : c;
};

export const artifactBlock = blockTable(
  "lamindb_artifactblock",
  owned("artifact_id", (): AnyPgColumn => artifact.id),
  { branch: true },
);
/** A branch's blocks belong to the branch: no `branch_id` of their own besides it. */
export const branchBlock = blockTable(
  "lamindb_branchblock",
  owned("branch_id", (): AnyPgColumn => branch.id),
  { branch: false },
);
export const collectionBlock = blockTable(
  "lamindb_collectionblock",
  owned("collection_id", (): AnyPgColumn => collection.id, false),
  { branch: true },
);
export const featureBlock = blockTable(
  "lamindb_featureblock",
  owned("feature_id", (): AnyPgColumn => feature.id),
  { branch: true },
);
export const projectBlock = blockTable(
  "lamindb_projectblock",
  owned("project_id", (): AnyPgColumn => project.id),
  { branch: true },
);
export const recordBlock = blockTable(
  "lamindb_recordblock",
  owned("record_id", (): AnyPgColumn => record.id),
  { branch: true },
);
export const runBlock = blockTable(
  "lamindb_runblock",
  bigint("run_id", { mode: "number" })
    .notNull()
    .references((): AnyPgColumn => run.id, { onDelete: "cascade" }),
  { branch: true },
);
export const schemaBlock = blockTable(
  "lamindb_schemablock",
  owned("schema_id", (): AnyPgColumn => schema.id),
  { branch: true },
);
export const spaceBlock = blockTable(
  "lamindb_spaceblock",
  smallint("space_id")
    .notNull()
    .references((): AnyPgColumn => space.id, { onDelete: "cascade" }),
  { branch: true },
);
/** A transform's blocks may point at a line of its source code. */
export const transformBlock = blockTable(
  "lamindb_transformblock",
  owned("transform_id", (): AnyPgColumn => transform.id, false),
  { branch: true, extra: { lineNumber: integer("line_number") } },
);
export const ulabelBlock = blockTable(
  "lamindb_ulabelblock",
  owned("ulabel_id", (): AnyPgColumn => ulabel.id),
  { branch: true },
);
