-- Agent Assist team schema, version 11: what a desk needs to keep its own replica of the knowledge base
-- (knowledge_replica on the desk: a local SQLite FTS5 copy, synced incrementally, that works offline).
--
-- * articles.change_seq: a number from one sequence, set by a trigger on every insert and update (a
--   value a client sends is overwritten). A desk asks for change_seq > the highest it has seen.
-- * article_removals: one tombstone per removed article id, numbered from the same sequence, written
--   by a trigger on DELETE (and TRUNCATE); an article id that comes back loses its tombstone.
-- * Numbers must become visible in order, or a desk that read up to 120 would never see a 118 whose
--   transaction committed after that read. So each transaction that changes articles takes one
--   transaction-level advisory lock before it draws its first number and holds it until it ends:
--   writers of articles take turns (imports are rare and batched; tickets are not affected).
-- Clients read both; nobody but these triggers writes them (no grants, and change_seq is set again by
-- the trigger whatever an UPDATE says).

CREATE SEQUENCE article_change_seq AS bigint;

-- the articles there are get their numbers as the column is added (a volatile default fills each row);
-- no UPDATE runs, so no trigger on articles fires for them. The default goes again at once: clients
-- may not draw from the sequence, the trigger below numbers every row from now on
ALTER TABLE articles ADD COLUMN change_seq bigint NOT NULL DEFAULT nextval('article_change_seq');
ALTER TABLE articles ALTER COLUMN change_seq DROP DEFAULT;
CREATE INDEX idx_articles_change_seq ON articles (change_seq);

CREATE TABLE article_removals (
    article_id bigint PRIMARY KEY,
    change_seq bigint NOT NULL,
    removed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_article_removals_change_seq ON article_removals (change_seq);

-- the two-number advisory lock space (1094800212 = "AAST", 7 = this migration) is apart from the
-- one-number key the migrations themselves lock with
CREATE FUNCTION article_change_number() RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1094800212, 7);
    RETURN nextval('article_change_seq');
END $$;

CREATE FUNCTION articles_change_seq() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        DELETE FROM article_removals WHERE article_id = NEW.id;  -- an id that comes back
    ELSIF NEW.id IS DISTINCT FROM OLD.id THEN  -- a changed id: the old one is gone
        INSERT INTO article_removals (article_id, change_seq) VALUES (OLD.id, article_change_number())
        ON CONFLICT (article_id) DO UPDATE SET change_seq = EXCLUDED.change_seq, removed_at = now();
        DELETE FROM article_removals WHERE article_id = NEW.id;
    END IF;
    NEW.change_seq := article_change_number();
    RETURN NEW;
END $$;
CREATE TRIGGER articles_change_seq BEFORE INSERT OR UPDATE ON articles
    FOR EACH ROW EXECUTE FUNCTION articles_change_seq();

CREATE FUNCTION articles_removed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    INSERT INTO article_removals (article_id, change_seq) VALUES (OLD.id, article_change_number())
    ON CONFLICT (article_id) DO UPDATE SET change_seq = EXCLUDED.change_seq, removed_at = now();
    RETURN NULL;
END $$;
CREATE TRIGGER articles_removed AFTER DELETE ON articles FOR EACH ROW EXECUTE FUNCTION articles_removed();

CREATE FUNCTION articles_truncated() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    INSERT INTO article_removals (article_id, change_seq)
    SELECT id, article_change_number() FROM articles
    ON CONFLICT (article_id) DO UPDATE SET change_seq = EXCLUDED.change_seq, removed_at = now();
    PERFORM pg_notify('agent_assist_changes', 'articles');
    RETURN NULL;
END $$;
CREATE TRIGGER articles_truncated BEFORE TRUNCATE ON articles
    FOR EACH STATEMENT EXECUTE FUNCTION articles_truncated();

REVOKE ALL ON article_removals FROM PUBLIC;
REVOKE ALL ON SEQUENCE article_change_seq FROM PUBLIC;
GRANT SELECT ON article_removals TO agent_assist_agent, agent_assist_supervisor;
REVOKE ALL ON FUNCTION article_change_number(), articles_change_seq(), articles_removed(), articles_truncated()
    FROM PUBLIC;
