/**
 * Projects (with parents, predecessors, members) and references (papers, DOIs, web pages), and
 * the links that put registries into projects and cite references.
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  check,
  date,
  index,
  integer,
  pgTable,
  smallint,
  text,
  varchar,
} from "drizzle-orm/pg-core";
import { branch, user } from "./accounts.js";
import { artifact } from "./artifacts.js";
import { block } from "./blocks.js";
import { collection } from "./collections.js";
import {
  autoId,
  bigAutoId,
  type LinkEnd,
  labelLinks,
  link,
  manyToMany,
  sqlRecord,
  tracked,
  typed,
  uid,
  uniqueTogether,
} from "./columns.js";
import { feature, schema } from "./features.js";
import { record, ulabel } from "./records.js";
import { transform } from "./transforms.js";

export const project = pgTable(
  "lamindb_project",
  {
    id: autoId(),
    uid: uid("lamindb_project", 12),
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
  (t) => [
    index("lamindb_project_name").on(t.name),
    check("project_type_is_valid_fk", sql`is_valid_project_type(type_id)`),
  ],
);

export const reference = pgTable(
  "lamindb_reference",
  {
    id: autoId(),
    uid: uid("lamindb_reference", 12),
    name: varchar("name", { length: 255 }).notNull(),
    abbr: varchar("abbr", { length: 32 }),
    url: varchar("url", { length: 255 }),
    pubmedId: bigint("pubmed_id", { mode: "number" }),
    doi: varchar("doi", { length: 255 }),
    description: text("description"),
    text: text("text"),
    date: date("date"),
    ...typed((): AnyPgColumn => reference.id),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [
    index("lamindb_reference_name").on(t.name),
    check("reference_type_is_valid_fk", sql`is_valid_reference_type(type_id)`),
  ],
);

const projectEnd = (column = "project_id"): LinkEnd => ({
  column,
  references: (): AnyPgColumn => project.id,
});
const referenceEnd: LinkEnd = {
  column: "reference_id",
  references: (): AnyPgColumn => reference.id,
};
/** The owner of a link (deleting it deletes the link). */
const owner = (column: string, references: () => AnyPgColumn, bigint = false): LinkEnd => ({
  column,
  references,
  cascade: true,
  bigint,
});

/** Django's M2M on "self": `from` is the child (successor), `to` the parent (predecessor). */
export const projectParents = manyToMany(
  "lamindb_project_parents",
  projectEnd("from_project_id"),
  projectEnd("to_project_id"),
);
export const projectPredecessors = manyToMany(
  "lamindb_project_predecessors",
  projectEnd("from_project_id"),
  projectEnd("to_project_id"),
);
export const projectReferences = manyToMany(
  "lamindb_project_references",
  projectEnd(),
  referenceEnd,
);

export const artifactProject = labelLinks(
  "lamindb_artifactproject",
  "artifact",
  projectEnd(),
  "partial",
);
export const runProject = labelLinks("lamindb_runproject", "run", projectEnd(), "featureless");

/** `<registry>project`: a registry's rows in projects, made by a run. */
const inProject = (table: string, column: string, references: () => AnyPgColumn, big = false) =>
  link(table, owner(column, references, big), projectEnd(), { tracking: "run", unique: "pair" });

export const collectionProject = inProject(
  "lamindb_collectionproject",
  "collection_id",
  (): AnyPgColumn => collection.id,
);
export const featureProject = inProject(
  "lamindb_featureproject",
  "feature_id",
  (): AnyPgColumn => feature.id,
);
export const schemaProject = inProject(
  "lamindb_schemaproject",
  "schema_id",
  (): AnyPgColumn => schema.id,
);
export const transformProject = inProject(
  "lamindb_transformproject",
  "transform_id",
  (): AnyPgColumn => transform.id,
);
export const ulabelProject = inProject(
  "lamindb_ulabelproject",
  "ulabel_id",
  (): AnyPgColumn => ulabel.id,
);
export const blockProject = inProject(
  "lamindb_blockproject",
  "block_id",
  (): AnyPgColumn => block.id,
  true,
);
export const branchProject = link(
  "lamindb_branchproject",
  owner("branch_id", (): AnyPgColumn => branch.id),
  projectEnd(),
  { tracking: "none", unique: "pair" },
);
/** A record as a member of a project, per feature (`ProjectRecord`). */
export const projectRecord = link(
  "lamindb_projectrecord",
  projectEnd(),
  owner("record_id", (): AnyPgColumn => record.id),
  { feature: true, tracking: "run", unique: "partial", featureMiddle: true },
);
/** A project's members and their roles (`ProjectUser`). */
export const projectUser = pgTable(
  "lamindb_projectuser",
  {
    id: bigAutoId(),
    projectId: integer("project_id")
      .notNull()
      .references((): AnyPgColumn => project.id, { onDelete: "cascade" }),
    userId: integer("user_id")
      .notNull()
      .references((): AnyPgColumn => user.id),
    role: varchar("role", { length: 32 }).notNull(),
  },
  (t) => [uniqueTogether("lamindb_projectuser", t.projectId, t.userId, t.role)],
);

export const artifactReference = link(
  "lamindb_artifactreference",
  owner("artifact_id", (): AnyPgColumn => artifact.id),
  referenceEnd,
  { feature: true, tracking: "run", unique: "partial" },
);
export const collectionReference = link(
  "lamindb_collectionreference",
  owner("collection_id", (): AnyPgColumn => collection.id),
  referenceEnd,
  { tracking: "run", unique: "pair" },
);
export const transformReference = link(
  "lamindb_transformreference",
  owner("transform_id", (): AnyPgColumn => transform.id),
  referenceEnd,
  { tracking: "run", unique: "pair" },
);
/** A record cited by a reference, per feature (`ReferenceRecord`). */
export const referenceRecord = link(
  "lamindb_referencerecord",
  referenceEnd,
  owner("record_id", (): AnyPgColumn => record.id),
  { feature: true, tracking: "run", unique: "partial", featureMiddle: true },
);
