-- Ontology parents form a DAG: a link that would make a record its own ancestor is refused.
-- Concurrent inserts into the same parents table are serialized by an advisory lock so that two
-- transactions cannot each add one half of a cycle.
CREATE OR REPLACE FUNCTION bionty_refuse_parent_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  child integer := (to_jsonb(NEW) ->> TG_ARGV[0])::integer;
  parent integer := (to_jsonb(NEW) ->> TG_ARGV[1])::integer;
  cyclic boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_NAME));
  IF child = parent THEN
    cyclic := true;
  ELSE
    EXECUTE format(
      'WITH RECURSIVE up(id) AS (SELECT %2$I FROM %1$I WHERE %3$I = $1 '
      'UNION SELECT p.%2$I FROM %1$I p JOIN up ON p.%3$I = up.id) '
      'SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)',
      TG_TABLE_NAME, TG_ARGV[1], TG_ARGV[0])
      INTO cyclic USING parent, child;
  END IF;
  IF cyclic THEN
    RAISE EXCEPTION 'cyclic parents in %: record % would become its own ancestor', TG_TABLE_NAME, child
      USING ERRCODE = '23514', HINT = 'parents must form a hierarchy without cycles';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER bionty_celltype_parents_acyclic BEFORE INSERT OR UPDATE ON bionty_celltype_parents
  FOR EACH ROW EXECUTE FUNCTION bionty_refuse_parent_cycle('from_celltype_id', 'to_celltype_id');
--> statement-breakpoint
CREATE TRIGGER bionty_cellline_parents_acyclic BEFORE INSERT OR UPDATE ON bionty_cellline_parents
  FOR EACH ROW EXECUTE FUNCTION bionty_refuse_parent_cycle('from_cellline_id', 'to_cellline_id');
--> statement-breakpoint
CREATE TRIGGER bionty_tissue_parents_acyclic BEFORE INSERT OR UPDATE ON bionty_tissue_parents
  FOR EACH ROW EXECUTE FUNCTION bionty_refuse_parent_cycle('from_tissue_id', 'to_tissue_id');
--> statement-breakpoint
CREATE TRIGGER bionty_disease_parents_acyclic BEFORE INSERT OR UPDATE ON bionty_disease_parents
  FOR EACH ROW EXECUTE FUNCTION bionty_refuse_parent_cycle('from_disease_id', 'to_disease_id');
