// @ts-check
/**
 * pertdb, LaminDB's perturbation registries (github.com/laminlabs/pertdb, pertdb/models.py),
 * declared as any module of one's own is: the same model names, fields and tables (`wetlab_*`,
 * pertdb's db_table names), link tables to artifacts (`wetlab_artifact<model>`) and the
 * many-to-many tables between its registries (`wetlab_compound_targets`, ...).
 *
 * Not here: the links to bionty (`source`, PerturbationTarget.genes/pathways/proteins,
 * Biologic.proteins) and the `duration` fields (DurationField), which module declarations
 * cannot express yet.
 *
 * @import { ModuleDeclaration } from "lamindb-serverless"
 */

const bio = () => ({
  abbr: { type: /** @type {const} */ ("string"), max: 32 },
  synonyms: { type: /** @type {const} */ ("text") },
  description: { type: /** @type {const} */ ("text") },
});

/** @type {ModuleDeclaration} */
export default {
  name: "pertdb",
  tablePrefix: "wetlab",
  description:
    "perturbations: Compound, Biologic, GeneticPerturbation, CompoundPerturbation, EnvironmentalPerturbation, CombinationPerturbation, PerturbationTarget",
  registries: {
    PerturbationTarget: {
      doc: "Targets of perturbations, e.g. a gene or a pathway",
      fields: { name: { type: "string", required: true }, ...bio() },
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
    },
    Biologic: {
      doc: "Biologics: antibodies, proteins, peptides used as perturbations",
      fields: {
        name: { type: "string", required: true },
        type: { type: "string", max: 32, required: true },
        ...bio(),
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
