-- Agent Assist team schema, version 3: what a desk needs to run the app itself on the server.
-- Columns the SQLite schema gained since (v11 message notes, v12 outbox claims), the queue's
-- text filter (SQLite: tickets_fts), and announcements for every change another desk shows live.

-- what was done to show a message safely (formatting simplified, characters replaced), a JSON list
ALTER TABLE messages ADD COLUMN notes text;
GRANT INSERT (notes) ON messages TO agent_assist_agent, agent_assist_supervisor;

-- which sender holds an outgoing e-mail, and since when (the outbox claims rows with a conditional update)
ALTER TABLE email_outbox ADD COLUMN claimed_by text;
ALTER TABLE email_outbox ADD COLUMN claimed_at text;

-- the queue's text filter: every word as a prefix, over subject, customer name and address (as
-- SQLite's tickets_fts); kept by a trigger because the customer lives in another table
ALTER TABLE tickets ADD COLUMN search_vector tsvector;
-- words as SQLite's unicode61 tokenizer splits them: any run of letters and digits (an address's
-- parts, "order_12" as two words), lower case
CREATE FUNCTION search_words(p text) RETURNS tsvector LANGUAGE sql IMMUTABLE SET search_path = pg_catalog
    AS $$ SELECT to_tsvector('simple', regexp_replace(p, '[^[:alnum:]]+', ' ', 'g')) $$;
CREATE FUNCTION tickets_search_vector() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_name text;
    v_email text;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.subject IS NOT DISTINCT FROM OLD.subject
       AND NEW.customer_id IS NOT DISTINCT FROM OLD.customer_id AND NEW.search_vector IS NOT NULL THEN
        RETURN NEW;
    END IF;
    SELECT name, email INTO v_name, v_email FROM customers WHERE id = NEW.customer_id;
    NEW.search_vector := search_words(coalesce(NEW.subject, '') || ' ' || coalesce(v_name, '') || ' '
                                      || coalesce(v_email, ''));
    RETURN NEW;
END $$;
CREATE TRIGGER tickets_search_vector BEFORE INSERT OR UPDATE ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_search_vector();
UPDATE tickets SET search_vector = NULL;  -- fills every row through the trigger (owner context: no audit)
CREATE INDEX idx_tickets_search ON tickets USING gin (search_vector);

-- a customer renamed: their tickets' search text follows
CREATE FUNCTION customers_search_vector() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name OR NEW.email IS DISTINCT FROM OLD.email THEN
        UPDATE tickets SET search_vector = search_words(coalesce(subject, '') || ' ' || coalesce(NEW.name, '')
                                                        || ' ' || coalesce(NEW.email, ''))
         WHERE customer_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER customers_search_vector AFTER UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_search_vector();

-- every desk hears of a draft's changes (the supervisor's review list, the agent's "sent"), of new or
-- changed articles and of rule changes, as it hears of tickets
CREATE FUNCTION drafts_notify() RETURNS trigger LANGUAGE plpgsql SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    PERFORM pg_notify('agent_assist_tickets', NEW.ticket_id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER drafts_notify AFTER INSERT OR UPDATE ON drafts FOR EACH ROW EXECUTE FUNCTION drafts_notify();

CREATE FUNCTION changes_notify() RETURNS trigger LANGUAGE plpgsql SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    PERFORM pg_notify('agent_assist_changes', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER articles_notify AFTER INSERT OR UPDATE OR DELETE ON articles
    FOR EACH STATEMENT EXECUTE FUNCTION changes_notify();
CREATE TRIGGER rules_notify AFTER INSERT OR UPDATE ON rules FOR EACH STATEMENT EXECUTE FUNCTION changes_notify();
CREATE TRIGGER profiles_notify AFTER INSERT OR UPDATE OR DELETE ON profiles
    FOR EACH STATEMENT EXECUTE FUNCTION changes_notify();

REVOKE ALL ON FUNCTION search_words(text), tickets_search_vector(), customers_search_vector(), drafts_notify(), changes_notify()
    FROM PUBLIC;
