/**
 * The bionty module's registries as drizzle code: ontology-backed entities named as in LaminDB's
 * bionty (`bionty_celltype`, `bionty_celltype_parents`, ...). Columns follow the core mixins of
 * core/db/schema.ts (created_at, created_by_id, run_id, branch_id, space_id, ...).
 *
 * Migrations in `migrations/bionty/` are generated from this file with
 * `lamin migrate create NAME --module bionty` (drizzle-kit with drizzle.bionty.config.ts).
 */
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";
import { branch, run, space, user } from "../../db/schema.js";

/** bionty uids are deterministic: 14 base62 characters of md5(ontology id), see uid.ts. */
const uid = () => varchar("uid", { length: 14 }).notNull().unique();

/** `TracksRun` + `TracksUpdates` + `SQLRecord`, as on every core registry. */
const mixins = () => ({
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  createdById: integer("created_by_id")
    .notNull()
    .references((): AnyPgColumn => user.id),
  runId: bigint("run_id", { mode: "number" }).references((): AnyPgColumn => run.id),
  branchId: integer("branch_id")
    .notNull()
    .default(1)
    .references((): AnyPgColumn => branch.id),
  createdOnId: integer("created_on_id")
    .notNull()
    .default(1)
    .references((): AnyPgColumn => branch.id),
  spaceId: smallint("space_id")
    .notNull()
    .default(1)
    .references((): AnyPgColumn => space.id),
  isLocked: boolean("is_locked").notNull().default(false),
  aux: jsonb("_aux").$type<Record<string, unknown>>(),
});

export const organism = pgTable(
  "bionty_organism",
  {
    id: serial("id").primaryKey(),
    uid: uid(),
    name: varchar("name", { length: 64 }).notNull(),
    ontologyId: varchar("ontology_id", { length: 32 }).unique(),
    scientificName: varchar("scientific_name", { length: 64 }),
    /** "|"-separated */
    synonyms: text("synonyms"),
    description: text("description"),
    ...mixins(),
  },
  (t) => [index("bionty_organism_name").on(t.name)],
);

export const gene = pgTable(
  "bionty_gene",
  {
    id: serial("id").primaryKey(),
    uid: uid(),
    symbol: varchar("symbol", { length: 64 }),
    ensemblGeneId: varchar("ensembl_gene_id", { length: 64 }).unique(),
    ncbiGeneIds: text("ncbi_gene_ids"),
    biotype: varchar("biotype", { length: 64 }),
    synonyms: text("synonyms"),
    description: text("description"),
    organismId: integer("organism_id").references(() => organism.id),
    ...mixins(),
  },
  (t) => [index("bionty_gene_symbol").on(t.symbol)],
);

export const protein = pgTable(
  "bionty_protein",
  {
    id: serial("id").primaryKey(),
    uid: uid(),
    name: varchar("name", { length: 256 }),
    uniprotkbId: varchar("uniprotkb_id", { length: 10 }).unique(),
    geneSymbol: varchar("gene_symbol", { length: 256 }),
    synonyms: text("synonyms"),
    description: text("description"),
    organismId: integer("organism_id").references(() => organism.id),
    ...mixins(),
  },
  (t) => [index("bionty_protein_name").on(t.name)],
);

/** The columns of an ontology-backed entity (CellType, CellLine, Tissue, Disease). */
const ontologyColumns = () => ({
  id: serial("id").primaryKey(),
  uid: uid(),
  name: varchar("name", { length: 256 }).notNull(),
  ontologyId: varchar("ontology_id", { length: 32 }).unique(),
  abbr: varchar("abbr", { length: 32 }),
  synonyms: text("synonyms"),
  description: text("description"),
  ...mixins(),
});

export const cellType = pgTable("bionty_celltype", ontologyColumns(), (t) => [
  index("bionty_celltype_name").on(t.name),
]);
export const cellLine = pgTable("bionty_cellline", ontologyColumns(), (t) => [
  index("bionty_cellline_name").on(t.name),
]);
export const tissue = pgTable("bionty_tissue", ontologyColumns(), (t) => [
  index("bionty_tissue_name").on(t.name),
]);
export const disease = pgTable("bionty_disease", ontologyColumns(), (t) => [
  index("bionty_disease_name").on(t.name),
]);

/**
 * `bionty_<entity>_parents(from_<entity>_id, to_<entity>_id)`: Django's self-M2M, `from` is the
 * child, `to` its parent. Cycles are refused by a trigger (migration 0001_parents_acyclic).
 */
function parents(entity: string, table: () => AnyPgColumn) {
  return pgTable(
    `bionty_${entity}_parents`,
    {
      id: bigserial("id", { mode: "number" }).primaryKey(),
      fromId: integer(`from_${entity}_id`).notNull().references(table, { onDelete: "cascade" }),
      toId: integer(`to_${entity}_id`).notNull().references(table, { onDelete: "cascade" }),
    },
    (t) => [
      uniqueIndex(`bionty_${entity}_parents_pair`).on(t.fromId, t.toId),
      index(`bionty_${entity}_parents_to`).on(t.toId),
    ],
  );
}

export const cellTypeParents = parents("celltype", (): AnyPgColumn => cellType.id);
export const cellLineParents = parents("cellline", (): AnyPgColumn => cellLine.id);
export const tissueParents = parents("tissue", (): AnyPgColumn => tissue.id);
export const diseaseParents = parents("disease", (): AnyPgColumn => disease.id);
