import {
  type AnyPgColumn,
  bigserial,
  boolean,
  index,
  integer,
  pgTable,
  serial,
  text,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";
import { labelLinks, sqlRecord, tracked } from "../../db/schema.js";

/** bionty uids are deterministic: 14 base62 characters of md5(ontology id), see uid.ts. */
const uid = () => varchar("uid", { length: 14 }).notNull().unique();

/** `TracksRun` + `TracksUpdates` + `SQLRecord`, as on every core registry. */
const mixins = () => ({ ...tracked(), ...sqlRecord() });

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

/**
 * `bionty_artifact<entity>(artifact_id, <entity>_id, feature_id)`: an artifact annotated with an
 * entity, e.g. by a `cat[bionty.CellType]` feature value. `*_ref_is_name` say whether the value
 * was given by name (LaminDB keeps them; null when unknown).
 */
const artifactLinks = (entity: string, target: () => AnyPgColumn) =>
  labelLinks(
    `bionty_artifact${entity}`,
    "artifact",
    { column: `${entity}_id`, references: target },
    {
      labelRefIsName: boolean("label_ref_is_name"),
      featureRefIsName: boolean("feature_ref_is_name"),
    },
  );

export const artifactOrganism = artifactLinks("organism", () => organism.id);
export const artifactGene = artifactLinks("gene", () => gene.id);
export const artifactProtein = artifactLinks("protein", () => protein.id);
export const artifactCellType = artifactLinks("celltype", () => cellType.id);
export const artifactCellLine = artifactLinks("cellline", () => cellLine.id);
export const artifactTissue = artifactLinks("tissue", () => tissue.id);
export const artifactDisease = artifactLinks("disease", () => disease.id);
