/**
 * The bionty module: ontology-backed registries (Organism, Gene, Protein, CellType, CellLine,
 * Tissue, Disease) seeded from a small bundled excerpt of public ontologies (data/bionty/).
 */
import { createHash } from "node:crypto";
import { getTableName, inArray } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import cellLines from "../../../data/bionty/cellline.json" with { type: "json" };
import cellTypes from "../../../data/bionty/celltype.json" with { type: "json" };
import diseases from "../../../data/bionty/disease.json" with { type: "json" };
import genes from "../../../data/bionty/gene.json" with { type: "json" };
import organisms from "../../../data/bionty/organism.json" with { type: "json" };
import proteins from "../../../data/bionty/protein.json" with { type: "json" };
import tissues from "../../../data/bionty/tissue.json" with { type: "json" };
import type { Db } from "../../db/client.js";
import { moduleMigrations } from "../../db/migrate.js";
import { ValidationError } from "../../errors.js";
import { base62EncodeBytes } from "../../uid.js";
import type { LaminModule, LinkTable, ModuleRegistry, SeedReport } from "../types.js";
import * as b from "./schema.js";

/**
 * bionty's deterministic uid (`bionty/uids.py`): the first 14 base62 characters of the md5 of
 * the defining string, the ontology id (or Ensembl gene id, UniProtKB id) of the record.
 */
export function biontyUid(definingString: string): string {
  return base62EncodeBytes(createHash("md5").update(definingString).digest()).slice(0, 14);
}

type OntologyTable = typeof b.cellType;

/** A `bionty_artifact<entity>` or `bionty_record<entity>` table as the core sees it: names only. */
const linkOf = (table: typeof b.artifactCellType | typeof b.recordCellType): LinkTable => ({
  table: getTableName(table),
  entityColumn: table.labelId.name,
});

const ontologyFields = (t: OntologyTable) => ({
  name: t.name,
  ontology_id: t.ontologyId,
  uid: t.uid,
  abbr: t.abbr,
});

export const BIONTY_REGISTRIES: ModuleRegistry[] = [
  {
    name: "Organism",
    table: b.organism,
    fields: {
      name: b.organism.name,
      ontology_id: b.organism.ontologyId,
      scientific_name: b.organism.scientificName,
      uid: b.organism.uid,
    },
    nameField: "name",
    idField: "ontology_id",
    artifactLink: linkOf(b.artifactOrganism),
    recordLink: linkOf(b.recordOrganism),
  },
  {
    name: "Gene",
    table: b.gene,
    fields: {
      symbol: b.gene.symbol,
      ensembl_gene_id: b.gene.ensemblGeneId,
      ncbi_gene_ids: b.gene.ncbiGeneIds,
      uid: b.gene.uid,
    },
    nameField: "symbol",
    idField: "ensembl_gene_id",
    artifactLink: linkOf(b.artifactGene),
    recordLink: linkOf(b.recordGene),
  },
  {
    name: "Protein",
    table: b.protein,
    fields: {
      name: b.protein.name,
      uniprotkb_id: b.protein.uniprotkbId,
      gene_symbol: b.protein.geneSymbol,
      uid: b.protein.uid,
    },
    nameField: "name",
    idField: "uniprotkb_id",
    artifactLink: linkOf(b.artifactProtein),
    recordLink: linkOf(b.recordProtein),
  },
  ...(
    [
      ["CellType", b.cellType, b.cellTypeParents, b.artifactCellType, b.recordCellType],
      ["CellLine", b.cellLine, b.cellLineParents, b.artifactCellLine, b.recordCellLine],
      ["Tissue", b.tissue, b.tissueParents, b.artifactTissue, b.recordTissue],
      ["Disease", b.disease, b.diseaseParents, b.artifactDisease, b.recordDisease],
    ] as const
  ).map(
    ([name, table, parents, link, recordLink]): ModuleRegistry => ({
      name,
      table,
      fields: ontologyFields(table as unknown as OntologyTable),
      nameField: "name",
      idField: "ontology_id",
      parents: { table: parents, fromId: parents.fromId, toId: parents.toId },
      artifactLink: linkOf(link),
      recordLink: linkOf(recordLink),
    }),
  ),
];

interface OntologyTerm {
  ontology_id: string;
  name: string;
  synonyms?: string[];
  description?: string;
  parents?: string[];
}

const joinSynonyms = (synonyms?: string[]) => (synonyms?.length ? synonyms.join("|") : null);

/** Ids of rows by their identifier column (after an insert that may have skipped existing ones). */
async function idsBy(db: Db, table: PgTable, key: PgColumn, id: PgColumn, values: string[]) {
  const rows = (await db
    .select({ key, id })
    .from(table)
    .where(inArray(key, values))) as unknown as { key: string; id: number }[];
  return new Map(rows.map((r) => [r.key, r.id]));
}

async function seedOntology(
  db: Db,
  userId: number,
  table: OntologyTable,
  parents: typeof b.cellTypeParents,
  terms: OntologyTerm[],
  report: SeedReport,
  registry: string,
): Promise<void> {
  const inserted = await db
    .insert(table)
    .values(
      terms.map((t) => ({
        uid: biontyUid(t.ontology_id),
        name: t.name,
        ontologyId: t.ontology_id,
        synonyms: joinSynonyms(t.synonyms),
        description: t.description ?? null,
        createdById: userId,
      })),
    )
    .onConflictDoNothing()
    .returning({ id: table.id });
  report.inserted[registry] = inserted.length;
  const ids = await idsBy(
    db,
    table,
    table.ontologyId,
    table.id,
    terms.map((t) => t.ontology_id),
  );
  const links: { fromId: number; toId: number }[] = [];
  for (const term of terms) {
    for (const parent of term.parents ?? []) {
      const fromId = ids.get(term.ontology_id);
      const toId = ids.get(parent);
      if (fromId === undefined || toId === undefined) {
        throw new ValidationError(
          `bionty seed: ${registry} ${term.ontology_id} names an unknown parent ${parent}`,
          "fix data/bionty/",
        );
      }
      links.push({ fromId, toId });
    }
  }
  if (links.length) {
    const added = await db
      .insert(parents)
      .values(links)
      .onConflictDoNothing()
      .returning({ id: parents.id });
    report.parents += added.length;
  }
}

interface GeneEntry {
  ensembl_gene_id: string;
  symbol: string;
  ncbi_gene_ids?: string;
  biotype?: string;
  synonyms?: string[];
  description?: string;
  organism: string;
}

interface ProteinEntry {
  uniprotkb_id: string;
  name: string;
  gene_symbol?: string;
  synonyms?: string[];
  description?: string;
  organism: string;
}

function organismId(ids: Map<string, number>, ontologyId: string, what: string): number {
  const id = ids.get(ontologyId);
  if (id === undefined) {
    throw new ValidationError(`bionty seed: ${what} names an unknown organism ${ontologyId}`);
  }
  return id;
}

/** Insert the bundled excerpt; rows that exist (same uid or identifier) are left as they are. */
export async function seedBionty(db: Db, userId: number): Promise<SeedReport> {
  const report: SeedReport = { inserted: {}, parents: 0 };
  const orgs = organisms as (OntologyTerm & { scientific_name?: string })[];
  report.inserted.Organism = (
    await db
      .insert(b.organism)
      .values(
        orgs.map((o) => ({
          uid: biontyUid(o.ontology_id),
          name: o.name,
          ontologyId: o.ontology_id,
          scientificName: o.scientific_name ?? null,
          synonyms: joinSynonyms(o.synonyms),
          description: o.description ?? null,
          createdById: userId,
        })),
      )
      .onConflictDoNothing()
      .returning({ id: b.organism.id })
  ).length;
  const organismIds = await idsBy(
    db,
    b.organism,
    b.organism.ontologyId,
    b.organism.id,
    orgs.map((o) => o.ontology_id),
  );
  report.inserted.Gene = (
    await db
      .insert(b.gene)
      .values(
        (genes as GeneEntry[]).map((g) => ({
          uid: biontyUid(g.ensembl_gene_id),
          symbol: g.symbol,
          ensemblGeneId: g.ensembl_gene_id,
          ncbiGeneIds: g.ncbi_gene_ids ?? null,
          biotype: g.biotype ?? null,
          synonyms: joinSynonyms(g.synonyms),
          description: g.description ?? null,
          organismId: organismId(organismIds, g.organism, `gene ${g.ensembl_gene_id}`),
          createdById: userId,
        })),
      )
      .onConflictDoNothing()
      .returning({ id: b.gene.id })
  ).length;
  report.inserted.Protein = (
    await db
      .insert(b.protein)
      .values(
        (proteins as ProteinEntry[]).map((p) => ({
          uid: biontyUid(p.uniprotkb_id),
          name: p.name,
          uniprotkbId: p.uniprotkb_id,
          geneSymbol: p.gene_symbol ?? null,
          synonyms: joinSynonyms(p.synonyms),
          description: p.description ?? null,
          organismId: organismId(organismIds, p.organism, `protein ${p.uniprotkb_id}`),
          createdById: userId,
        })),
      )
      .onConflictDoNothing()
      .returning({ id: b.protein.id })
  ).length;
  const ontologies = [
    ["CellType", b.cellType, b.cellTypeParents, cellTypes],
    ["CellLine", b.cellLine, b.cellLineParents, cellLines],
    ["Tissue", b.tissue, b.tissueParents, tissues],
    ["Disease", b.disease, b.diseaseParents, diseases],
  ] as const;
  for (const [registry, table, parents, terms] of ontologies) {
    await seedOntology(
      db,
      userId,
      table as unknown as OntologyTable,
      parents,
      terms as OntologyTerm[],
      report,
      registry,
    );
  }
  return report;
}

export const bionty: LaminModule = {
  name: "bionty",
  description:
    "biological ontologies: Organism, Gene, Protein, CellType, CellLine, Tissue, Disease (seeded with a small excerpt of NCBITaxon, Ensembl, UniProt, CL, EFO, UBERON, MONDO)",
  drizzleConfig: "drizzle.bionty.config.ts",
  registries: BIONTY_REGISTRIES,
  // bionty 2.4 (18e0b60c): 0065_squashed replaces 0064_squashed and 0065_lamindb_v2_2, and
  // depends on lamindb 0182_v2_2_part_5
  migrations: (root?: string) =>
    moduleMigrations("bionty", root, {
      app: "bionty",
      after: "0005_parents_acyclic_2_9",
      names: ["0064_squashed", "0065_lamindb_v2_2", "0065_squashed"],
      requires: { app: "lamindb", name: "0182_v2_2_part_5" },
    }),
  seed: seedBionty,
};
