-- The parents of the registries bionty 2.4 added stay acyclic too (the trigger function is
-- migration 0001's).
CREATE TRIGGER bionty_developmentalstage_parents_acyclic BEFORE INSERT OR UPDATE ON bionty_developmentalstage_parents
  FOR EACH ROW EXECUTE FUNCTION bionty_refuse_parent_cycle('from_developmentalstage_id', 'to_developmentalstage_id');
--> statement-breakpoint
CREATE TRIGGER bionty_ethnicity_parents_acyclic BEFORE INSERT OR UPDATE ON bionty_ethnicity_parents
  FOR EACH ROW EXECUTE FUNCTION bionty_refuse_parent_cycle('from_ethnicity_id', 'to_ethnicity_id');
--> statement-breakpoint
CREATE TRIGGER bionty_experimentalfactor_parents_acyclic BEFORE INSERT OR UPDATE ON bionty_experimentalfactor_parents
  FOR EACH ROW EXECUTE FUNCTION bionty_refuse_parent_cycle('from_experimentalfactor_id', 'to_experimentalfactor_id');
--> statement-breakpoint
CREATE TRIGGER bionty_organism_parents_acyclic BEFORE INSERT OR UPDATE ON bionty_organism_parents
  FOR EACH ROW EXECUTE FUNCTION bionty_refuse_parent_cycle('from_organism_id', 'to_organism_id');
--> statement-breakpoint
CREATE TRIGGER bionty_pathway_parents_acyclic BEFORE INSERT OR UPDATE ON bionty_pathway_parents
  FOR EACH ROW EXECUTE FUNCTION bionty_refuse_parent_cycle('from_pathway_id', 'to_pathway_id');
--> statement-breakpoint
CREATE TRIGGER bionty_phenotype_parents_acyclic BEFORE INSERT OR UPDATE ON bionty_phenotype_parents
  FOR EACH ROW EXECUTE FUNCTION bionty_refuse_parent_cycle('from_phenotype_id', 'to_phenotype_id');
