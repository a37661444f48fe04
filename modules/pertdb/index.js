// @ts-check
/**
 * pertdb, LaminDB's perturbation registries (github.com/laminlabs/pertdb, pertdb/models.py),
 * declared as any module of one's own is: the same model names, fields and tables (`wetlab_*`,
 * pertdb's db_table names), link tables to artifacts (`wetlab_artifact<model>`) and the
 * many-to-many tables between its registries (`wetlab_compound_targets`, ...).
 *
 * Its links to bionty are pertdb's too: every registry's `source` (`source_id` to
 * `bionty_source`), PerturbationTarget.genes/pathways/proteins and Biologic.proteins (Django's
 * `wetlab_perturbationtarget_genes`, ...), so bionty is enabled first. The `duration` fields are
 * Postgres `interval`s, as Django's DurationField. A few well-known compounds (ChEMBL ids,
 * SMILES and formulas, public facts) are seeded when it is enabled.
 *
 * @import { ModuleDeclaration } from "lamindb-serverless"
 */

const bio = () => ({
  abbr: { type: /** @type {const} */ ("string"), max: 32 },
  synonyms: { type: /** @type {const} */ ("text") },
  description: { type: /** @type {const} */ ("text") },
  source: { type: /** @type {const} */ ("ref"), to: "bionty.Source" },
});

/** Well-known compounds, as ChEMBL has them (CHEMBL ids, SMILES, molecular formulas). */
const COMPOUNDS = [
  ["dimethyl sulfoxide", "CHEMBL504", "CS(C)=O", "C2H6OS"],
  ["aspirin", "CHEMBL25", "CC(=O)Oc1ccccc1C(=O)O", "C9H8O4"],
  ["caffeine", "CHEMBL113", "Cn1c(=O)c2c(ncn2C)n(C)c1=O", "C8H10N4O2"],
  ["ibuprofen", "CHEMBL521", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "C13H18O2"],
  ["metformin", "CHEMBL1431", "CN(C)C(=N)N=C(N)N", "C4H11N5"],
  [
    "imatinib",
    "CHEMBL941",
    "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "C29H31N7O",
  ],
  ["erlotinib", "CHEMBL553", "COCCOc1cc2ncnc(Nc3cccc(C#C)c3)c2cc1OCCOC", "C22H23N3O4"],
  ["gefitinib", "CHEMBL939", "COc1cc2ncnc(Nc3ccc(F)c(Cl)c3)c2cc1OCCCN1CCOCC1", "C22H24ClFN4O3"],
].map(([name, chembl_id, smiles, molformula]) => ({ name, chembl_id, smiles, molformula }));

/** @type {ModuleDeclaration} */
export default {
  name: "pertdb",
  tablePrefix: "wetlab",
  description:
    "perturbations: Compound, Biologic, GeneticPerturbation, CompoundPerturbation, EnvironmentalPerturbation, CombinationPerturbation, PerturbationTarget",
  registries: {
    PerturbationTarget: {
      doc: "Targets of perturbations, e.g. a gene or a pathway",
      fields: {
        name: { type: "string", required: true },
        ...bio(),
        genes: { type: "many", to: "bionty.Gene" },
        pathways: { type: "many", to: "bionty.Pathway" },
        proteins: { type: "many", to: "bionty.Protein" },
      },
      links: ["artifacts"],
    },
    Compound: {
      doc: "Chemical compounds, e.g. from ChEMBL",
      fields: {
        name: { type: "text", required: true },
        ontology_id: { type: "string", max: 32 },
        type: { type: "string", max: 32 },
        chembl_id: { type: "string", max: 32 },
        smiles: { type: "text" },
        canonical_smiles: { type: "text" },
        inchikey: { type: "text" },
        molformula: { type: "text" },
        moa: { type: "text" },
        ...bio(),
        parents: { type: "many", to: "Compound" },
        targets: { type: "many", to: "PerturbationTarget" },
      },
      idField: "chembl_id",
      links: ["artifacts"],
      seed: COMPOUNDS,
    },
    Biologic: {
      doc: "Biologics: antibodies, proteins, peptides used as perturbations",
      fields: {
        name: { type: "string", required: true },
        type: { type: "string", max: 32, required: true },
        ...bio(),
        proteins: { type: "many", to: "bionty.Protein" },
        targets: { type: "many", to: "PerturbationTarget" },
      },
      links: ["artifacts"],
    },
    GeneticPerturbation: {
      doc: "Genetic perturbations: CRISPR guides, shRNAs, ...",
      fields: {
        name: { type: "string", required: true },
        type: { type: "string", max: 32 },
        sequence: { type: "text" },
        on_target_score: { type: "float" },
        off_target_score: { type: "float" },
        ...bio(),
        targets: { type: "many", to: "PerturbationTarget" },
      },
      links: ["artifacts"],
    },
    CompoundPerturbation: {
      doc: "A compound at a concentration",
      fields: {
        name: { type: "string", required: true },
        concentration: { type: "float" },
        concentration_unit: { type: "string", max: 32 },
        duration: { type: "duration" },
        compound: { type: "ref", to: "Compound" },
        ...bio(),
      },
      links: ["artifacts"],
    },
    EnvironmentalPerturbation: {
      doc: "Environmental perturbations, e.g. heat or hypoxia",
      fields: {
        name: { type: "string", required: true },
        ontology_id: { type: "string", max: 32 },
        value: { type: "float" },
        unit: { type: "string", max: 32 },
        duration: { type: "duration" },
        ...bio(),
        targets: { type: "many", to: "PerturbationTarget" },
      },
      idField: "ontology_id",
      links: ["artifacts"],
    },
    CombinationPerturbation: {
      doc: "Perturbations applied together",
      fields: {
        name: { type: "string" },
        ...bio(),
        genetic_perturbations: { type: "many", to: "GeneticPerturbation" },
        compound_perturbations: { type: "many", to: "CompoundPerturbation" },
        environmental_perturbations: { type: "many", to: "EnvironmentalPerturbation" },
      },
      nameField: "name",
      links: ["artifacts"],
    },
  },
};
