-- Agent Assist team schema, version 9: changes to the knowledge base are in the audit trail.
-- A desk's file records an import as one audit row (kb.imported, with its counts); the server now does
-- the same for any change to articles, whoever makes it and however (the app, psql): one row per
-- statement with how many articles were added, changed or removed, as the signed-in person. Per
-- statement, not per row: a 50,000-article import takes the chain's lock once, not 50,000 times.

CREATE FUNCTION articles_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_count bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO v_count FROM new_rows;
        IF v_count > 0 THEN
            PERFORM audit_append('kb.articles_added', NULL, NULL, jsonb_build_object('count', v_count));
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO v_count FROM new_rows;
        IF v_count > 0 THEN
            PERFORM audit_append('kb.articles_changed', NULL, NULL, jsonb_build_object('count', v_count));
        END IF;
    ELSE
        SELECT count(*) INTO v_count FROM old_rows;
        IF v_count > 0 THEN
            PERFORM audit_append('kb.articles_removed', NULL, NULL, jsonb_build_object('count', v_count));
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER articles_audit_insert AFTER INSERT ON articles REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION articles_audit();
CREATE TRIGGER articles_audit_update AFTER UPDATE ON articles REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION articles_audit();
CREATE TRIGGER articles_audit_delete AFTER DELETE ON articles REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION articles_audit();
REVOKE ALL ON FUNCTION articles_audit() FROM PUBLIC;
