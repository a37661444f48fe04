-- LaminDB 2.9's triggers (0193_squashed, pgtrigger `AddTrigger`), as pgtrigger 4 installs them:
-- the SQL below is pgtrigger's installation template filled with each trigger of the migration
-- (the sha1 of the filled template equals the hash LaminDB's migration records, kept as the
-- trigger's comment, which is how pgtrigger tells an installed trigger from an outdated one),
-- split into one statement per breakpoint.
-- - prevent_<registry>_type_cycle: a row's type chain may not loop back to the row, and a row
--   typed by a single-space type stays in that type's space;
-- - update_feature_on_name_change: renaming a feature keeps the old name in `synonyms` and in
--   `_aux.renamed` (time -> old name).
CREATE OR REPLACE FUNCTION "public"._pgtrigger_should_ignore(
                trigger_name NAME
            )
            RETURNS BOOLEAN AS $$
                DECLARE
                    _pgtrigger_ignore TEXT[];
                    _result BOOLEAN;
                BEGIN
                    BEGIN
                        SELECT INTO _pgtrigger_ignore
                            CURRENT_SETTING('pgtrigger.ignore');
                        EXCEPTION WHEN OTHERS THEN
                    END;
                    IF _pgtrigger_ignore IS NOT NULL THEN
                        SELECT trigger_name = ANY(_pgtrigger_ignore)
                        INTO _result;
                        RETURN _result;
                    ELSE
                        RETURN FALSE;
                    END IF;
                END;
            $$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION pgtrigger_prevent_project_type_cycle_e2567()
            RETURNS TRIGGER AS $$
                
                BEGIN
                    IF ("public"._pgtrigger_should_ignore(TG_NAME) IS TRUE) THEN
                        IF (TG_OP = 'DELETE') THEN
                            RETURN OLD;
                        ELSE
                            RETURN NEW;
                        END IF;
                    END IF;
                    
                        IF EXISTS (
                            SELECT 1
                            FROM lamindb_project p
                            WHERE p.id = NEW.type_id
                              AND (
                                (
                                  p._aux->>'ss' = '1'
                                  AND p.space_id IS DISTINCT FROM NEW.space_id
                                )
                                OR (
                                  p._aux ? 'ss'
                                  AND p._aux->>'ss' <> '1'
                                  AND (
                                      SELECT sp.uid
                                      FROM lamindb_space sp
                                      WHERE sp.id = NEW.space_id
                                  ) IS DISTINCT FROM p._aux->>'ss'
                                )
                              )
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: project space must match single-space type space';
                        END IF;

                        -- Check for direct self-reference
                        IF NEW.type_id = NEW.id THEN
                            RAISE EXCEPTION 'Cannot set type: project cannot be its own type';
                        END IF;

                        -- Check for cycles in the type chain
                        IF EXISTS (
                            WITH RECURSIVE type_chain AS (
                                SELECT type_id, 1 as depth
                                FROM lamindb_project
                                WHERE id = NEW.type_id

                                UNION ALL

                                SELECT p.type_id, tc.depth + 1
                                FROM lamindb_project p
                                INNER JOIN type_chain tc ON p.id = tc.type_id
                                WHERE tc.depth < 100
                            )
                            SELECT 1 FROM type_chain WHERE type_id = NEW.id
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: would create a cycle';
                        END IF;

                        RETURN NEW;
                    
                END;
            $$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS pgtrigger_prevent_project_type_cycle_e2567 ON "lamindb_project";
--> statement-breakpoint
CREATE  TRIGGER pgtrigger_prevent_project_type_cycle_e2567
                BEFORE UPDATE OR INSERT ON "lamindb_project"
                
                
                FOR EACH ROW WHEN (NEW.type_id IS NOT NULL)
                EXECUTE PROCEDURE pgtrigger_prevent_project_type_cycle_e2567();
--> statement-breakpoint
COMMENT ON TRIGGER pgtrigger_prevent_project_type_cycle_e2567 ON "lamindb_project" IS 'b5b62fdec9b222bc152c2b9937a2676fb653696f';
--> statement-breakpoint
CREATE OR REPLACE FUNCTION pgtrigger_prevent_record_type_cycle_56c18()
            RETURNS TRIGGER AS $$
                
                BEGIN
                    IF ("public"._pgtrigger_should_ignore(TG_NAME) IS TRUE) THEN
                        IF (TG_OP = 'DELETE') THEN
                            RETURN OLD;
                        ELSE
                            RETURN NEW;
                        END IF;
                    END IF;
                    
                        -- Enforce that records typed by a single-space type stay in the same space
                        IF EXISTS (
                            SELECT 1
                            FROM lamindb_record r
                            WHERE r.id = NEW.type_id
                              AND (
                                (
                                  r._aux->>'ss' = '1'
                                  AND r.space_id IS DISTINCT FROM NEW.space_id
                                )
                                OR (
                                  r._aux ? 'ss'
                                  AND r._aux->>'ss' <> '1'
                                  AND (
                                      SELECT sp.uid
                                      FROM lamindb_space sp
                                      WHERE sp.id = NEW.space_id
                                  ) IS DISTINCT FROM r._aux->>'ss'
                                )
                              )
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: record space must match locked type space';
                        END IF;

                        -- Check for direct self-reference
                        IF NEW.type_id = NEW.id THEN
                            RAISE EXCEPTION 'Cannot set type: record cannot be its own type';
                        END IF;

                        -- Check for cycles in the type chain
                        IF EXISTS (
                            WITH RECURSIVE type_chain AS (
                                SELECT type_id, 1 as depth
                                FROM lamindb_record
                                WHERE id = NEW.type_id

                                UNION ALL

                                SELECT r.type_id, tc.depth + 1
                                FROM lamindb_record r
                                INNER JOIN type_chain tc ON r.id = tc.type_id
                                WHERE tc.depth < 100
                            )
                            SELECT 1 FROM type_chain WHERE type_id = NEW.id
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: would create a cycle';
                        END IF;

                        RETURN NEW;
                    
                END;
            $$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS pgtrigger_prevent_record_type_cycle_56c18 ON "lamindb_record";
--> statement-breakpoint
CREATE  TRIGGER pgtrigger_prevent_record_type_cycle_56c18
                BEFORE UPDATE OR INSERT ON "lamindb_record"
                
                
                FOR EACH ROW WHEN (NEW.type_id IS NOT NULL)
                EXECUTE PROCEDURE pgtrigger_prevent_record_type_cycle_56c18();
--> statement-breakpoint
COMMENT ON TRIGGER pgtrigger_prevent_record_type_cycle_56c18 ON "lamindb_record" IS '4f692c1cc71b0554090ffd4642811a52c6b9941e';
--> statement-breakpoint
CREATE OR REPLACE FUNCTION pgtrigger_prevent_reference_type_cycle_3d37c()
            RETURNS TRIGGER AS $$
                
                BEGIN
                    IF ("public"._pgtrigger_should_ignore(TG_NAME) IS TRUE) THEN
                        IF (TG_OP = 'DELETE') THEN
                            RETURN OLD;
                        ELSE
                            RETURN NEW;
                        END IF;
                    END IF;
                    
                        IF EXISTS (
                            SELECT 1
                            FROM lamindb_reference r
                            WHERE r.id = NEW.type_id
                              AND (
                                (
                                  r._aux->>'ss' = '1'
                                  AND r.space_id IS DISTINCT FROM NEW.space_id
                                )
                                OR (
                                  r._aux ? 'ss'
                                  AND r._aux->>'ss' <> '1'
                                  AND (
                                      SELECT sp.uid
                                      FROM lamindb_space sp
                                      WHERE sp.id = NEW.space_id
                                  ) IS DISTINCT FROM r._aux->>'ss'
                                )
                              )
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: reference space must match single-space type space';
                        END IF;

                        -- Check for direct self-reference
                        IF NEW.type_id = NEW.id THEN
                            RAISE EXCEPTION 'Cannot set type: reference cannot be its own type';
                        END IF;

                        -- Check for cycles in the type chain
                        IF EXISTS (
                            WITH RECURSIVE type_chain AS (
                                SELECT type_id, 1 as depth
                                FROM lamindb_reference
                                WHERE id = NEW.type_id

                                UNION ALL

                                SELECT r.type_id, tc.depth + 1
                                FROM lamindb_reference r
                                INNER JOIN type_chain tc ON r.id = tc.type_id
                                WHERE tc.depth < 100
                            )
                            SELECT 1 FROM type_chain WHERE type_id = NEW.id
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: would create a cycle';
                        END IF;

                        RETURN NEW;
                    
                END;
            $$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS pgtrigger_prevent_reference_type_cycle_3d37c ON "lamindb_reference";
--> statement-breakpoint
CREATE  TRIGGER pgtrigger_prevent_reference_type_cycle_3d37c
                BEFORE UPDATE OR INSERT ON "lamindb_reference"
                
                
                FOR EACH ROW WHEN (NEW.type_id IS NOT NULL)
                EXECUTE PROCEDURE pgtrigger_prevent_reference_type_cycle_3d37c();
--> statement-breakpoint
COMMENT ON TRIGGER pgtrigger_prevent_reference_type_cycle_3d37c ON "lamindb_reference" IS '94bc5e7968664022914905d7390a6935b66b3402';
--> statement-breakpoint
CREATE OR REPLACE FUNCTION pgtrigger_prevent_schema_type_cycle_b403c()
            RETURNS TRIGGER AS $$
                
                BEGIN
                    IF ("public"._pgtrigger_should_ignore(TG_NAME) IS TRUE) THEN
                        IF (TG_OP = 'DELETE') THEN
                            RETURN OLD;
                        ELSE
                            RETURN NEW;
                        END IF;
                    END IF;
                    
                        IF EXISTS (
                            SELECT 1
                            FROM lamindb_schema s
                            WHERE s.id = NEW.type_id
                              AND (
                                (
                                  s._aux->>'ss' = '1'
                                  AND s.space_id IS DISTINCT FROM NEW.space_id
                                )
                                OR (
                                  s._aux ? 'ss'
                                  AND s._aux->>'ss' <> '1'
                                  AND (
                                      SELECT sp.uid
                                      FROM lamindb_space sp
                                      WHERE sp.id = NEW.space_id
                                  ) IS DISTINCT FROM s._aux->>'ss'
                                )
                              )
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: schema space must match single-space type space';
                        END IF;

                        -- Check for direct self-reference
                        IF NEW.type_id = NEW.id THEN
                            RAISE EXCEPTION 'Cannot set type: schema cannot be its own type';
                        END IF;

                        -- Check for cycles in the type chain
                        IF EXISTS (
                            WITH RECURSIVE type_chain AS (
                                SELECT type_id, 1 as depth
                                FROM lamindb_schema
                                WHERE id = NEW.type_id

                                UNION ALL

                                SELECT s.type_id, tc.depth + 1
                                FROM lamindb_schema s
                                INNER JOIN type_chain tc ON s.id = tc.type_id
                                WHERE tc.depth < 100
                            )
                            SELECT 1 FROM type_chain WHERE type_id = NEW.id
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: would create a cycle';
                        END IF;

                        RETURN NEW;
                    
                END;
            $$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS pgtrigger_prevent_schema_type_cycle_b403c ON "lamindb_schema";
--> statement-breakpoint
CREATE  TRIGGER pgtrigger_prevent_schema_type_cycle_b403c
                BEFORE UPDATE OR INSERT ON "lamindb_schema"
                
                
                FOR EACH ROW WHEN (NEW.type_id IS NOT NULL)
                EXECUTE PROCEDURE pgtrigger_prevent_schema_type_cycle_b403c();
--> statement-breakpoint
COMMENT ON TRIGGER pgtrigger_prevent_schema_type_cycle_b403c ON "lamindb_schema" IS '7f860952cef18f2151e46d0120b5aafdebdbd2be';
--> statement-breakpoint
CREATE OR REPLACE FUNCTION pgtrigger_prevent_ulabel_type_cycle_863ae()
            RETURNS TRIGGER AS $$
                
                BEGIN
                    IF ("public"._pgtrigger_should_ignore(TG_NAME) IS TRUE) THEN
                        IF (TG_OP = 'DELETE') THEN
                            RETURN OLD;
                        ELSE
                            RETURN NEW;
                        END IF;
                    END IF;
                    
                        -- Enforce that ulabels typed by a single-space type stay in the same space
                        IF EXISTS (
                            SELECT 1
                            FROM lamindb_ulabel u
                            WHERE u.id = NEW.type_id
                              AND (
                                (
                                  u._aux->>'ss' = '1'
                                  AND u.space_id IS DISTINCT FROM NEW.space_id
                                )
                                OR (
                                  u._aux ? 'ss'
                                  AND u._aux->>'ss' <> '1'
                                  AND (
                                      SELECT sp.uid
                                      FROM lamindb_space sp
                                      WHERE sp.id = NEW.space_id
                                  ) IS DISTINCT FROM u._aux->>'ss'
                                )
                              )
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: ulabel space must match single-space type space';
                        END IF;

                        -- Check for direct self-reference
                        IF NEW.type_id = NEW.id THEN
                            RAISE EXCEPTION 'Cannot set type: ulabel cannot be its own type';
                        END IF;

                        -- Check for cycles in the type chain
                        IF EXISTS (
                            WITH RECURSIVE type_chain AS (
                                SELECT type_id, 1 as depth
                                FROM lamindb_ulabel
                                WHERE id = NEW.type_id

                                UNION ALL

                                SELECT r.type_id, tc.depth + 1
                                FROM lamindb_ulabel r
                                INNER JOIN type_chain tc ON r.id = tc.type_id
                                WHERE tc.depth < 100
                            )
                            SELECT 1 FROM type_chain WHERE type_id = NEW.id
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: would create a cycle';
                        END IF;

                        RETURN NEW;
                    
                END;
            $$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS pgtrigger_prevent_ulabel_type_cycle_863ae ON "lamindb_ulabel";
--> statement-breakpoint
CREATE  TRIGGER pgtrigger_prevent_ulabel_type_cycle_863ae
                BEFORE UPDATE OR INSERT ON "lamindb_ulabel"
                
                
                FOR EACH ROW WHEN (NEW.type_id IS NOT NULL)
                EXECUTE PROCEDURE pgtrigger_prevent_ulabel_type_cycle_863ae();
--> statement-breakpoint
COMMENT ON TRIGGER pgtrigger_prevent_ulabel_type_cycle_863ae ON "lamindb_ulabel" IS '13b2acbebf74a7e04a66723a353d1ab7a2c4c1ad';
--> statement-breakpoint
CREATE OR REPLACE FUNCTION pgtrigger_prevent_feature_type_cycle_04c90()
            RETURNS TRIGGER AS $$
                
                BEGIN
                    IF ("public"._pgtrigger_should_ignore(TG_NAME) IS TRUE) THEN
                        IF (TG_OP = 'DELETE') THEN
                            RETURN OLD;
                        ELSE
                            RETURN NEW;
                        END IF;
                    END IF;
                    
                        IF EXISTS (
                            SELECT 1
                            FROM lamindb_feature f
                            WHERE f.id = NEW.type_id
                              AND (
                                (
                                  f._aux->>'ss' = '1'
                                  AND f.space_id IS DISTINCT FROM NEW.space_id
                                )
                                OR (
                                  f._aux ? 'ss'
                                  AND f._aux->>'ss' <> '1'
                                  AND (
                                      SELECT sp.uid
                                      FROM lamindb_space sp
                                      WHERE sp.id = NEW.space_id
                                  ) IS DISTINCT FROM f._aux->>'ss'
                                )
                              )
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: feature space must match single-space type space';
                        END IF;

                        -- Check for direct self-reference
                        IF NEW.type_id = NEW.id THEN
                            RAISE EXCEPTION 'Cannot set type: feature cannot be its own type';
                        END IF;

                        -- Check for cycles in the type chain
                        IF EXISTS (
                            WITH RECURSIVE type_chain AS (
                                SELECT type_id, 1 as depth
                                FROM lamindb_feature
                                WHERE id = NEW.type_id

                                UNION ALL

                                SELECT f.type_id, tc.depth + 1
                                FROM lamindb_feature f
                                INNER JOIN type_chain tc ON f.id = tc.type_id
                                WHERE tc.depth < 100
                            )
                            SELECT 1 FROM type_chain WHERE type_id = NEW.id
                        ) THEN
                            RAISE EXCEPTION 'Cannot set type: would create a cycle';
                        END IF;

                        RETURN NEW;
                    
                END;
            $$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS pgtrigger_prevent_feature_type_cycle_04c90 ON "lamindb_feature";
--> statement-breakpoint
CREATE  TRIGGER pgtrigger_prevent_feature_type_cycle_04c90
                BEFORE UPDATE OR INSERT ON "lamindb_feature"
                
                
                FOR EACH ROW WHEN (NEW.type_id IS NOT NULL)
                EXECUTE PROCEDURE pgtrigger_prevent_feature_type_cycle_04c90();
--> statement-breakpoint
COMMENT ON TRIGGER pgtrigger_prevent_feature_type_cycle_04c90 ON "lamindb_feature" IS 'be9a630e2ee899846cfe5fcabd64234be4e301db';
--> statement-breakpoint
CREATE OR REPLACE FUNCTION pgtrigger_update_feature_on_name_change_6c32d()
            RETURNS TRIGGER AS $$
                
                BEGIN
                    IF ("public"._pgtrigger_should_ignore(TG_NAME) IS TRUE) THEN
                        IF (TG_OP = 'DELETE') THEN
                            RETURN OLD;
                        ELSE
                            RETURN NEW;
                        END IF;
                    END IF;
                    DECLARE
    old_renamed JSONB;
    new_renamed JSONB;
    ts TEXT;
BEGIN
    -- Only proceed if name actually changed
    IF OLD.name IS DISTINCT FROM NEW.name THEN
        -- Update synonyms
        IF NEW.synonyms IS NULL OR NEW.synonyms = '' THEN
            NEW.synonyms := OLD.name;
        ELSIF position(OLD.name in NEW.synonyms) = 0 THEN
            NEW.synonyms := NEW.synonyms || '|' || OLD.name;
        END IF;

        -- Update _aux with rename history
        ts := TO_CHAR(NOW() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');

        -- Get existing renamed history or initialize empty object
        old_renamed := COALESCE((OLD._aux->>'renamed')::JSONB, '{}'::JSONB);

        -- Add old name with timestamp
        new_renamed := old_renamed || jsonb_build_object(ts, OLD.name);

        -- Update _aux with new renamed history
        IF NEW._aux IS NULL THEN
            NEW._aux := jsonb_build_object('renamed', new_renamed);
        ELSE
            NEW._aux := NEW._aux || jsonb_build_object('renamed', new_renamed);
        END IF;
    END IF;

    RETURN NEW;
END;

                END;
            $$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS pgtrigger_update_feature_on_name_change_6c32d ON "lamindb_feature";
--> statement-breakpoint
CREATE  TRIGGER pgtrigger_update_feature_on_name_change_6c32d
                BEFORE UPDATE ON "lamindb_feature"
                
                
                FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
                EXECUTE PROCEDURE pgtrigger_update_feature_on_name_change_6c32d();
--> statement-breakpoint
COMMENT ON TRIGGER pgtrigger_update_feature_on_name_change_6c32d ON "lamindb_feature" IS '5f2e7a65e42c34b0455f0840def52f078726e401';
