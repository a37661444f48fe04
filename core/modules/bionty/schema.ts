/**
 * bionty's schema (bionty 2.4, migration 0065_squashed) as drizzle code: ontology-backed
 * registries, their parents, and their links to artifacts, records and schemas.
 */
import {
  type AnyPgColumn,
  bigint,
  boolean,
  index,
  integer,
  pgTable,
  text,
  varchar,
} from "drizzle-orm/pg-core";
import { autoId, uniqueField, uniqueTogether } from "../../db/schema/columns.js";
import {
  artifact,
  labelLinks,
  link,
  manyToMany,
  record,
  schema,
  sqlRecord,
  tracked,
} from "../../db/schema.js";

/** bionty uids are deterministic: 14 base62 characters of md5(ontology id), see uid.ts. */
const uid = (table: string) =>
  varchar("uid", { length: 14 }).notNull().unique(uniqueField(table, "uid"));

/**
 * What every bionty registry has: uid, abbreviation, synonyms ("|"-separated), description, the
 * source (ontology and version) it came from, and the core's `TracksRun` + `SQLRecord` columns.
 */
const entity = (table: string) => ({
  id: autoId(),
  uid: uid(table),
  abbr: varchar("abbr", { length: 32 }).unique(uniqueField(table, "abbr")),
  synonyms: text("synonyms"),
  description: text("description"),
  sourceId: integer("source_id").references((): AnyPgColumn => source.id),
  ...tracked(),
  ...sqlRecord(),
});

const organismId = () =>
  integer("organism_id")
    .notNull()
    .references((): AnyPgColumn => organism.id);

/** Where records come from: an ontology (or database) in one version, for one organism. */
export const source = pgTable(
  "bionty_source",
  {
    id: autoId(),
    uid: varchar("uid", { length: 8 }).notNull().unique(uniqueField("bionty_source", "uid")),
    entity: varchar("entity", { length: 255 }).notNull(),
    organism: varchar("organism", { length: 255 }).notNull(),
    name: varchar("name", { length: 255 }).notNull(),
    inDb: boolean("in_db").notNull(),
    currentlyUsed: boolean("currently_used").notNull(),
    description: text("description"),
    url: text("url"),
    md5: text("md5"),
    sourceWebsite: text("source_website"),
    version: varchar("version", { length: 255 }).notNull(),
    dataframeArtifactId: integer("dataframe_artifact_id").references(
      (): AnyPgColumn => artifact.id,
    ),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [uniqueTogether("bionty_source", t.entity, t.name, t.organism, t.version)],
);

export const organism = pgTable(
  "bionty_organism",
  {
    ...entity("bionty_organism"),
    name: varchar("name", { length: 255 }).notNull(),
    ontologyId: varchar("ontology_id", { length: 255 }),
    scientificName: varchar("scientific_name", { length: 255 }).unique(
      uniqueField("bionty_organism", "scientific_name"),
    ),
  },
  (t) => [
    uniqueTogether("bionty_organism", t.name, t.ontologyId),
    index("bionty_organism_name").on(t.name),
    index("bionty_organism_ontology_id").on(t.ontologyId),
  ],
);

export const gene = pgTable(
  "bionty_gene",
  {
    ...entity("bionty_gene"),
    symbol: varchar("symbol", { length: 64 }),
    stableId: varchar("stable_id", { length: 255 }).unique(uniqueField("bionty_gene", "stable_id")),
    ensemblGeneId: varchar("ensembl_gene_id", { length: 64 }).unique(
      uniqueField("bionty_gene", "ensembl_gene_id"),
    ),
    ncbiGeneIds: text("ncbi_gene_ids"),
    biotype: varchar("biotype", { length: 64 }),
    organismId: organismId(),
  },
  (t) => [index("bionty_gene_symbol").on(t.symbol)],
);

export const protein = pgTable(
  "bionty_protein",
  {
    ...entity("bionty_protein"),
    name: varchar("name", { length: 255 }),
    uniprotkbId: varchar("uniprotkb_id", { length: 10 }).unique(
      uniqueField("bionty_protein", "uniprotkb_id"),
    ),
    geneSymbol: varchar("gene_symbol", { length: 255 }),
    ensemblGeneIds: text("ensembl_gene_ids"),
    length: bigint("length", { mode: "number" }),
    organismId: organismId(),
  },
  (t) => [index("bionty_protein_name").on(t.name)],
);

export const cellMarker = pgTable(
  "bionty_cellmarker",
  {
    ...entity("bionty_cellmarker"),
    name: varchar("name", { length: 64 }).notNull(),
    geneSymbol: varchar("gene_symbol", { length: 64 }),
    ncbiGeneId: varchar("ncbi_gene_id", { length: 32 }),
    uniprotkbId: varchar("uniprotkb_id", { length: 10 }),
    organismId: organismId(),
  },
  (t) => [uniqueTogether("bionty_cellmarker", t.name, t.organismId)],
);

/** An ontology-backed registry (CellType, Tissue, ...): name and ontology id, unique together. */
function ontology(entityName: string) {
  const table = `bionty_${entityName}`;
  return pgTable(
    table,
    {
      ...entity(table),
      name: varchar("name", { length: 255 }).notNull(),
      ontologyId: varchar("ontology_id", { length: 255 }),
    },
    (t) => [
      uniqueTogether(table, t.name, t.ontologyId),
      index(`${table}_name`).on(t.name),
      index(`${table}_ontology_id`).on(t.ontologyId),
    ],
  );
}

export const cellType = ontology("celltype");
export const cellLine = ontology("cellline");
export const tissue = ontology("tissue");
export const disease = ontology("disease");
export const phenotype = ontology("phenotype");
export const pathway = ontology("pathway");
export const experimentalFactor = ontology("experimentalfactor");
export const developmentalStage = ontology("developmentalstage");
export const ethnicity = ontology("ethnicity");

/**
 * `bionty_<entity>_parents(from_<entity>_id, to_<entity>_id)`: Django's self-M2M, `from` is the
 * child, `to` its parent. Cycles are refused by a trigger (migrations 0001 and 0004).
 */
function parents(entityName: string, table: () => AnyPgColumn) {
  return manyToMany(
    `bionty_${entityName}_parents`,
    { column: `from_${entityName}_id`, references: table },
    { column: `to_${entityName}_id`, references: table },
  );
}

export const cellTypeParents = parents("celltype", (): AnyPgColumn => cellType.id);
export const cellLineParents = parents("cellline", (): AnyPgColumn => cellLine.id);
export const tissueParents = parents("tissue", (): AnyPgColumn => tissue.id);
export const diseaseParents = parents("disease", (): AnyPgColumn => disease.id);
export const phenotypeParents = parents("phenotype", (): AnyPgColumn => phenotype.id);
export const pathwayParents = parents("pathway", (): AnyPgColumn => pathway.id);
export const experimentalFactorParents = parents(
  "experimentalfactor",
  (): AnyPgColumn => experimentalFactor.id,
);
export const developmentalStageParents = parents(
  "developmentalstage",
  (): AnyPgColumn => developmentalStage.id,
);
export const ethnicityParents = parents("ethnicity", (): AnyPgColumn => ethnicity.id);
export const organismParents = parents("organism", (): AnyPgColumn => organism.id);

/** The genes of a pathway (`Pathway.genes`). */
export const pathwayGenes = manyToMany(
  "bionty_pathway_genes",
  { column: "pathway_id", references: (): AnyPgColumn => pathway.id },
  { column: "gene_id", references: (): AnyPgColumn => gene.id },
);
/** The artifacts a source was loaded from (`Source.artifacts`). */
export const sourceArtifacts = manyToMany(
  "bionty_source_artifacts",
  { column: "source_id", references: (): AnyPgColumn => source.id },
  { column: "artifact_id", references: (): AnyPgColumn => artifact.id },
);

/**
 * `bionty_artifact<entity>(artifact_id, <entity>_id, feature_id)`: an artifact annotated with an
 * entity, e.g. by a `cat[bionty.CellType]` feature value; unique together with the feature.
 */
const artifactLinks = (entityName: string, target: () => AnyPgColumn) =>
  labelLinks(
    `bionty_artifact${entityName}`,
    "artifact",
    { column: `${entityName}_id`, references: target },
    "together",
  );

export const artifactOrganism = artifactLinks("organism", () => organism.id);
export const artifactGene = artifactLinks("gene", () => gene.id);
export const artifactProtein = artifactLinks("protein", () => protein.id);
export const artifactCellMarker = artifactLinks("cellmarker", () => cellMarker.id);
export const artifactCellType = artifactLinks("celltype", () => cellType.id);
export const artifactCellLine = artifactLinks("cellline", () => cellLine.id);
export const artifactTissue = artifactLinks("tissue", () => tissue.id);
export const artifactDisease = artifactLinks("disease", () => disease.id);
export const artifactPhenotype = artifactLinks("phenotype", () => phenotype.id);
export const artifactPathway = artifactLinks("pathway", () => pathway.id);
export const artifactExperimentalFactor = artifactLinks(
  "experimentalfactor",
  () => experimentalFactor.id,
);
export const artifactDevelopmentalStage = artifactLinks(
  "developmentalstage",
  () => developmentalStage.id,
);
export const artifactEthnicity = artifactLinks("ethnicity", () => ethnicity.id);

/** `bionty_record<entity>(record_id, value_id, feature_id)`: an entity as a record's value. */
const recordLinks = (entityName: string, target: () => AnyPgColumn) =>
  link(
    `bionty_record${entityName}`,
    { column: "record_id", references: (): AnyPgColumn => record.id, cascade: true },
    { column: "value_id", references: target },
    { feature: true, tracking: "run", unique: "together" },
  );

export const recordOrganism = recordLinks("organism", () => organism.id);
export const recordGene = recordLinks("gene", () => gene.id);
export const recordProtein = recordLinks("protein", () => protein.id);
export const recordCellMarker = recordLinks("cellmarker", () => cellMarker.id);
export const recordCellType = recordLinks("celltype", () => cellType.id);
export const recordCellLine = recordLinks("cellline", () => cellLine.id);
export const recordTissue = recordLinks("tissue", () => tissue.id);
export const recordDisease = recordLinks("disease", () => disease.id);
export const recordPhenotype = recordLinks("phenotype", () => phenotype.id);
export const recordPathway = recordLinks("pathway", () => pathway.id);
export const recordExperimentalFactor = recordLinks(
  "experimentalfactor",
  () => experimentalFactor.id,
);
export const recordDevelopmentalStage = recordLinks(
  "developmentalstage",
  () => developmentalStage.id,
);
export const recordEthnicity = recordLinks("ethnicity", () => ethnicity.id);

/** `bionty_schema<entity>(schema_id, <entity>_id)`: the members of a schema of genes, proteins, ... */
const schemaLinks = (entityName: string, target: () => AnyPgColumn) =>
  link(
    `bionty_schema${entityName}`,
    { column: "schema_id", references: (): AnyPgColumn => schema.id, cascade: true },
    { column: `${entityName}_id`, references: target },
    { tracking: "none", unique: "pair" },
  );

export const schemaGene = schemaLinks("gene", () => gene.id);
export const schemaProtein = schemaLinks("protein", () => protein.id);
export const schemaCellMarker = schemaLinks("cellmarker", () => cellMarker.id);
export const schemaPathway = schemaLinks("pathway", () => pathway.id);
