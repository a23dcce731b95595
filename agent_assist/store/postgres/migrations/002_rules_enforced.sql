-- Agent Assist team schema, version 2: the rules, enforced by the database itself, so they hold for a
-- person who connects with psql and writes SQL by hand. The app's own checks only give good messages.
--
-- Who did something is the session's login, session_user: every person signs in as their own login
-- role, and a non-superuser cannot change it (SET ROLE changes current_user only, and only to the
-- group they are in; inside the SECURITY DEFINER functions below current_user is the owner). Columns
-- that name an actor get it from column defaults and triggers, never from what the client sent.
--
-- Group roles (created by `agent-assist team init`, cluster-wide): agent_assist_agent and
-- agent_assist_supervisor; each person is a LOGIN role in one of them. agent_assist_owner owns every
-- object; only it may rewrite the audit trail.
--
-- * drafts change state only through approve_draft / send_draft / approve_and_send / discard_draft /
--   return_draft (SECURITY DEFINER): four eyes, human_only and "not your own text" are checked there;
-- * an outbound message is written only by send_draft (row-level security on messages);
-- * profiles (roles) are written by the owner only; rules by supervisors only;
-- * a flag that carries a rule (four_eyes, human_only) is removed from a ticket by a supervisor only;
-- * audit rows are appended by triggers (audit_append, not callable by clients), hash-chained as the
--   SQLite store does it; UPDATE, DELETE and TRUNCATE on audit are refused to everyone but the owner;
-- * LISTEN agent_assist_tickets: each ticket created or changed is announced with its id.

-- functions are executable by PUBLIC unless revoked; a per-schema default cannot take that away, so the
-- owner's global default does, and every function here is revoked by name below as well
ALTER DEFAULT PRIVILEGES FOR ROLE agent_assist_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- == helpers =========================================================================================
CREATE FUNCTION actor() RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog
    AS $$ SELECT session_user::text $$;

CREATE FUNCTION is_owner_context() RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog
    AS $$ SELECT current_user::text = 'agent_assist_owner' $$;

CREATE FUNCTION role_of(p_name text) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$ SELECT role FROM profiles WHERE name = p_name $$;

CREATE FUNCTION is_supervisor(p_name text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$ SELECT coalesce((SELECT role = 'supervisor' FROM profiles WHERE name = p_name), false) $$;

-- what the rules say about a ticket's replies: a subset of {human_only, four_eyes}
CREATE FUNCTION ticket_actions(p_ticket bigint) RETURNS text[] LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
    SELECT coalesce(array_agg(DISTINCT r.action ORDER BY r.action), '{}')
      FROM tickets t
      CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(nullif(t.flags, ''), '[]')::jsonb) AS f(kind)
      JOIN rules r ON r.flag = f.kind
     WHERE t.id = p_ticket AND r.action <> 'none'
    $$;

-- one JSON value as Python's json.dumps(..., ensure_ascii=False) writes it (for the hash chain)
CREATE FUNCTION json_item(p anyelement) RETURNS text LANGUAGE sql IMMUTABLE SET search_path = pg_catalog
    AS $$ SELECT coalesce(to_json(p)::text, 'null') $$;

-- == the audit trail =================================================================================
-- the same chain as store/audit.py: sha256 of the JSON array
-- [prev_hash, at, actor, action, ticket_id, draft_id, details] without spaces
CREATE FUNCTION audit_hash(p_prev text, p_at text, p_actor text, p_action text, p_ticket bigint,
                           p_draft bigint, p_details text) RETURNS text
    LANGUAGE sql IMMUTABLE SET search_path = agent_assist, pg_catalog
    AS $$
    SELECT encode(sha256(convert_to(
        '[' || json_item(p_prev) || ',' || json_item(p_at) || ',' || json_item(p_actor) || ',' ||
        json_item(p_action) || ',' || json_item(p_ticket) || ',' || json_item(p_draft) || ',' ||
        json_item(p_details) || ']', 'UTF8')), 'hex')
    $$;

-- the chain's head: its row lock orders the writers. A client cannot take it (row locks need UPDATE,
-- which nobody on the team has), unlike an advisory lock, which anyone could hold to stall every desk.
CREATE TABLE audit_head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last_hash text NOT NULL
);
INSERT INTO audit_head (last_hash) VALUES (coalesce((SELECT hash FROM audit ORDER BY id DESC LIMIT 1), repeat('0', 64)));

CREATE FUNCTION audit_append(p_action text, p_ticket bigint, p_draft bigint, p_details jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_prev text;
    v_at text := now_iso();
    v_actor text := actor();
    v_details text := coalesce(p_details, '{}'::jsonb)::text;
    v_hash text;
    v_id bigint;
BEGIN
    -- one writer at a time, to the end of the transaction: the chain stays a chain
    SELECT last_hash INTO STRICT v_prev FROM audit_head FOR UPDATE;
    v_hash := audit_hash(v_prev, v_at, v_actor, p_action, p_ticket, p_draft, v_details);
    INSERT INTO audit (at, actor, action, ticket_id, draft_id, details, prev_hash, hash)
    VALUES (v_at, v_actor, p_action, p_ticket, p_draft, v_details, v_prev, v_hash)
    RETURNING id INTO v_id;
    UPDATE audit_head SET last_hash = v_hash;
    RETURN v_id;
END $$;

CREATE FUNCTION audit_guard() RETURNS trigger LANGUAGE plpgsql SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF NOT is_owner_context() THEN
        RAISE EXCEPTION 'The audit trail is append-only: its rows are written by Agent Assist itself and '
                        'cannot be added, changed or deleted by hand.'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER audit_guard_rows BEFORE INSERT OR UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_guard();
CREATE TRIGGER audit_guard_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_guard();

-- == tickets =========================================================================================
CREATE FUNCTION tickets_guard() RETURNS trigger LANGUAGE plpgsql SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_removed text[];
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.flags IS DISTINCT FROM OLD.flags AND NOT is_owner_context()
       AND NOT is_supervisor(actor()) THEN
        SELECT array_agg(r.flag) INTO v_removed
          FROM jsonb_array_elements_text(coalesce(nullif(OLD.flags, ''), '[]')::jsonb) AS f(kind)
          JOIN rules r ON r.flag = f.kind AND r.action <> 'none'
         WHERE NOT coalesce(nullif(NEW.flags, ''), '[]')::jsonb ? f.kind;
        IF v_removed IS NOT NULL THEN
            RAISE EXCEPTION 'Only a supervisor can clear the flag % on a ticket: its rule decides how replies '
                            'are approved.', array_to_string(v_removed, ', ')
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tickets_guard BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION tickets_guard();

CREATE FUNCTION tickets_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM audit_append('ticket.created', NEW.id, NULL, jsonb_build_object('channel', NEW.channel));
    ELSE
        IF NEW.status IS DISTINCT FROM OLD.status THEN
            PERFORM audit_append('ticket.status', NEW.id, NULL,
                                 jsonb_build_object('before', OLD.status, 'after', NEW.status));
        END IF;
        IF NEW.assignee IS DISTINCT FROM OLD.assignee THEN
            PERFORM audit_append('ticket.assigned', NEW.id, NULL,
                                 jsonb_build_object('before', OLD.assignee, 'after', NEW.assignee));
        END IF;
        IF NEW.flags IS DISTINCT FROM OLD.flags THEN
            PERFORM audit_append('ticket.triaged', NEW.id, NULL,
                                 jsonb_build_object('before', OLD.flags::jsonb, 'after', NEW.flags::jsonb));
        END IF;
    END IF;
    PERFORM pg_notify('agent_assist_tickets', NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_audit AFTER INSERT OR UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION tickets_audit();

-- == messages: only send_draft writes an outbound message ============================================
CREATE FUNCTION messages_before_insert() RETURNS trigger LANGUAGE plpgsql SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF NEW.direction = 'note' THEN
        NEW.author := actor();  -- a note is the person's own
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER messages_before_insert BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION messages_before_insert();

CREATE FUNCTION messages_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF NEW.direction = 'inbound' THEN
        PERFORM audit_append('message.received', NEW.ticket_id, NULL, jsonb_build_object('message_id', NEW.id));
    ELSIF NEW.direction = 'note' THEN
        PERFORM audit_append('note.added', NEW.ticket_id, NULL, jsonb_build_object('message_id', NEW.id));
    END IF;  -- outbound: send_draft writes reply.sent with the draft and its approver
    PERFORM pg_notify('agent_assist_tickets', NEW.ticket_id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER messages_audit AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION messages_audit();

ALTER TABLE messages ENABLE ROW LEVEL SECURITY;  -- the owner (send_draft) is not bound by these policies
CREATE POLICY messages_read ON messages FOR SELECT USING (true);
CREATE POLICY messages_no_outbound ON messages FOR INSERT WITH CHECK (direction IN ('inbound', 'note'));

-- == drafts ==========================================================================================
CREATE FUNCTION drafts_before() RETURNS trigger LANGUAGE plpgsql SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT is_owner_context() THEN  -- a client's new draft: nobody's approval yet, its writer is the session
            NEW.state := 'suggested';
            NEW.created_by := actor();
            NEW.approved_by := NULL;
            NEW.requested_by := NULL;
            NEW.last_edited_by := NULL;
            NEW.created_at := now_iso();
            NEW.updated_at := NEW.created_at;
            NEW.original_body := NEW.body;  -- "edited" means a person changed it afterwards, on the record
        END IF;
        NEW.original_body := coalesce(NEW.original_body, NEW.body);
        RETURN NEW;
    END IF;
    IF NEW.body IS DISTINCT FROM OLD.body THEN
        IF OLD.state IN ('sent', 'discarded') THEN
            RAISE EXCEPTION 'A draft that is % cannot be edited.', OLD.state USING ERRCODE = 'check_violation';
        END IF;
        -- a new text: every approval and request was for the old one
        NEW.state := 'edited';
        NEW.approved_by := NULL;
        NEW.requested_by := NULL;
        NEW.last_edited_by := actor();
        NEW.updated_at := now_iso();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER drafts_before BEFORE INSERT OR UPDATE ON drafts FOR EACH ROW EXECUTE FUNCTION drafts_before();

CREATE FUNCTION drafts_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_citations jsonb := coalesce(nullif(NEW.citations, ''), '[]')::jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM audit_append('draft.suggested', NEW.ticket_id, NEW.id, jsonb_build_object(
            'source', NEW.source, 'citations', v_citations, 'provider', NEW.provider, 'model', NEW.model,
            'prompt_version', NEW.prompt_version));
    ELSIF NEW.body IS DISTINCT FROM OLD.body THEN
        PERFORM audit_append('draft.edited', NEW.ticket_id, NEW.id, jsonb_build_object('chars', length(NEW.body)));
    ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
        IF NEW.state = 'awaiting_supervisor' THEN
            PERFORM audit_append('draft.approval_requested', NEW.ticket_id, NEW.id, jsonb_build_object(
                'source', NEW.source, 'citations', v_citations));
        ELSIF NEW.state = 'approved' THEN
            PERFORM audit_append('draft.approved', NEW.ticket_id, NEW.id, jsonb_build_object(
                'source', NEW.source, 'model', NEW.model, 'prompt_version', NEW.prompt_version,
                'citations', v_citations, 'edited', NEW.body <> coalesce(NEW.original_body, ''),
                'requested_by', NEW.requested_by));
        ELSIF NEW.state = 'discarded' THEN
            PERFORM audit_append('draft.discarded', NEW.ticket_id, NEW.id, '{}'::jsonb);
        END IF;  -- sent: send_draft writes reply.sent; edited-by-return: return_draft writes draft.returned
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER drafts_audit AFTER INSERT OR UPDATE ON drafts FOR EACH ROW EXECUTE FUNCTION drafts_audit();

-- the person must be on the team (a profile), or nothing they approve or send counts
CREATE FUNCTION require_member() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := actor();
BEGIN
    IF role_of(v_actor) IS NULL THEN
        RAISE EXCEPTION '% is not on this team: ask an administrator to run `agent-assist team add-person`.', v_actor
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN v_actor;
END $$;

CREATE FUNCTION locked_draft(p_draft bigint) RETURNS drafts LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    d drafts;
BEGIN
    SELECT * INTO d FROM drafts WHERE id = p_draft FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Draft % does not exist.', p_draft USING ERRCODE = 'no_data_found';
    END IF;
    RETURN d;
END $$;

-- the writers of a draft: whoever created it, last changed its text, or asked for its approval
CREATE FUNCTION is_writer(d drafts, p_name text) RETURNS boolean LANGUAGE sql IMMUTABLE
    SET search_path = agent_assist, pg_temp
    AS $$ SELECT p_name IN (coalesce(d.created_by, ''), coalesce(d.last_edited_by, ''), coalesce(d.requested_by, '')) $$;

CREATE FUNCTION check_human_only(d drafts) RETURNS void LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF 'human_only' = ANY (ticket_actions(d.ticket_id)) AND d.source <> 'human'
       AND d.body = coalesce(d.original_body, d.body) THEN
        RAISE EXCEPTION 'This ticket is answered by a person (human only): write the reply or change the '
                        'suggested text before it is approved and sent.' USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;

CREATE FUNCTION approve_draft(p_draft bigint, p_body text) RETURNS text LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := require_member();
    d drafts := locked_draft(p_draft);
BEGIN
    IF coalesce(btrim(p_body), '') = '' THEN
        RAISE EXCEPTION 'An empty reply cannot be approved.' USING ERRCODE = 'check_violation';
    END IF;
    IF d.state IN ('sent', 'discarded') THEN
        RAISE EXCEPTION 'A draft that is % cannot be approved.', d.state USING ERRCODE = 'check_violation';
    END IF;
    IF d.state = 'awaiting_supervisor' AND d.body <> p_body THEN
        -- a supervisor's changes count as a new text: the writer's request stands for the old one
        RAISE EXCEPTION 'Return the draft to the agent to change it, or approve it as it is.'
            USING ERRCODE = 'check_violation';
    END IF;
    IF d.body <> p_body THEN
        UPDATE drafts SET body = p_body WHERE id = p_draft;  -- drafts_before: edited, by this person
        d := locked_draft(p_draft);
    END IF;
    PERFORM check_human_only(d);
    IF 'four_eyes' = ANY (ticket_actions(d.ticket_id)) THEN
        IF d.state = 'awaiting_supervisor' THEN
            IF NOT is_supervisor(v_actor) THEN
                RAISE EXCEPTION 'This reply waits for a supervisor''s approval.' USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF is_writer(d, v_actor) THEN
                RAISE EXCEPTION 'Four eyes: a supervisor other than the writer approves this reply.'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            UPDATE drafts SET state = 'approved', approved_by = v_actor, updated_at = now_iso() WHERE id = p_draft;
            RETURN 'approved';
        END IF;
        UPDATE drafts SET state = 'awaiting_supervisor', requested_by = v_actor, approved_by = NULL,
                          updated_at = now_iso() WHERE id = p_draft;
        RETURN 'awaiting_supervisor';
    END IF;
    UPDATE drafts SET state = 'approved', approved_by = v_actor, updated_at = now_iso() WHERE id = p_draft;
    RETURN 'approved';
END $$;

CREATE FUNCTION send_draft(p_draft bigint, p_status_after text DEFAULT 'pending') RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := require_member();
    d drafts := locked_draft(p_draft);
    v_before text;
    v_message bigint;
BEGIN
    IF p_status_after IS NULL OR p_status_after NOT IN ('new', 'open', 'pending', 'solved', 'closed') THEN
        RAISE EXCEPTION 'Unknown status %.', coalesce(quote_literal(p_status_after), 'NULL')
            USING ERRCODE = 'check_violation';
    END IF;
    IF d.state <> 'approved' OR d.approved_by IS NULL THEN
        RAISE EXCEPTION 'Only an approved draft can be sent; this one is %.', replace(d.state, '_', ' ')
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM check_human_only(d);
    IF 'four_eyes' = ANY (ticket_actions(d.ticket_id))
       AND (NOT is_supervisor(d.approved_by) OR is_writer(d, d.approved_by)) THEN
        RAISE EXCEPTION 'This ticket needs a supervisor''s approval (four eyes) before a reply is sent.'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO messages (ticket_id, direction, author, body_text, body_html, created_at)
    VALUES (d.ticket_id, 'outbound', v_actor, d.body, NULL, now_iso())
    RETURNING id INTO v_message;
    UPDATE drafts SET state = 'sent', updated_at = now_iso() WHERE id = p_draft;
    SELECT status INTO v_before FROM tickets WHERE id = d.ticket_id FOR UPDATE;
    UPDATE tickets SET status = p_status_after, updated_at = now_iso() WHERE id = d.ticket_id;
    PERFORM audit_append('reply.sent', d.ticket_id, p_draft, jsonb_build_object(
        'message_id', v_message, 'approved_by', d.approved_by, 'source', d.source, 'model', d.model,
        'prompt_version', d.prompt_version, 'citations', coalesce(nullif(d.citations, ''), '[]')::jsonb,
        'status_before', v_before, 'status_after', p_status_after));
    RETURN v_message;
END $$;

-- the agent's one action: approve this text and send it; NULL when it went to a supervisor instead
CREATE FUNCTION approve_and_send(p_draft bigint, p_body text, p_status_after text DEFAULT 'pending') RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF approve_draft(p_draft, p_body) <> 'approved' THEN
        RETURN NULL;
    END IF;
    RETURN send_draft(p_draft, p_status_after);
END $$;

CREATE FUNCTION discard_draft(p_draft bigint) RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := require_member();
    d drafts := locked_draft(p_draft);
BEGIN
    IF d.state IN ('sent', 'discarded') THEN
        RAISE EXCEPTION 'A draft that is % cannot be discarded.', d.state USING ERRCODE = 'check_violation';
    END IF;
    UPDATE drafts SET state = 'discarded', updated_at = now_iso() WHERE id = p_draft;
END $$;

-- a supervisor sends a draft awaiting approval back to its writer, with a comment
CREATE FUNCTION return_draft(p_draft bigint, p_comment text) RETURNS bigint LANGUAGE plpgsql VOLATILE
    SECURITY DEFINER SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := require_member();
    d drafts := locked_draft(p_draft);
    v_comment bigint;
BEGIN
    IF NOT is_supervisor(v_actor) THEN
        RAISE EXCEPTION 'Only a supervisor returns a draft to its writer.' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF coalesce(btrim(p_comment), '') = '' THEN
        RAISE EXCEPTION 'Say what should change: a returned draft needs a comment.' USING ERRCODE = 'check_violation';
    END IF;
    IF d.state <> 'awaiting_supervisor' THEN
        RAISE EXCEPTION 'Only a draft awaiting approval can be returned; this one is %.', replace(d.state, '_', ' ')
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO review_comments (draft_id, ticket_id, author, comment, created_at)
    VALUES (p_draft, d.ticket_id, v_actor, p_comment, now_iso()) RETURNING id INTO v_comment;
    UPDATE drafts SET state = 'edited', approved_by = NULL, updated_at = now_iso() WHERE id = p_draft;
    PERFORM audit_append('draft.returned', d.ticket_id, p_draft, jsonb_build_object(
        'comment_id', v_comment, 'requested_by', d.requested_by));
    RETURN v_comment;
END $$;

-- == profiles and rules ==============================================================================
CREATE FUNCTION profiles_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM audit_append('profile.removed', NULL, NULL, jsonb_build_object('profile', OLD.name, 'role_before', OLD.role));
    ELSIF TG_OP = 'INSERT' OR NEW.role IS DISTINCT FROM OLD.role THEN
        PERFORM audit_append('profile.saved', NULL, NULL, jsonb_build_object(
            'profile', NEW.name, 'role', NEW.role,
            'role_before', CASE WHEN TG_OP = 'UPDATE' THEN OLD.role END));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER profiles_audit AFTER INSERT OR UPDATE OR DELETE ON profiles FOR EACH ROW EXECUTE FUNCTION profiles_audit();

CREATE FUNCTION rules_before() RETURNS trigger LANGUAGE plpgsql SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    NEW.updated_by := actor();
    NEW.updated_at := now_iso();
    RETURN NEW;
END $$;
CREATE TRIGGER rules_before BEFORE INSERT OR UPDATE ON rules FOR EACH ROW EXECUTE FUNCTION rules_before();

CREATE FUNCTION rules_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.action IS DISTINCT FROM OLD.action THEN
        PERFORM audit_append('rule.changed', NULL, NULL, jsonb_build_object(
            'flag', NEW.flag, 'before', CASE WHEN TG_OP = 'UPDATE' THEN OLD.action END, 'after', NEW.action));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER rules_audit AFTER INSERT OR UPDATE ON rules FOR EACH ROW EXECUTE FUNCTION rules_audit();

-- a flag that carries a rule is removed (or renamed, or moved) by a supervisor only, and an agent is
-- told so rather than seeing nothing happen
CREATE FUNCTION ticket_flags_guard() RETURNS trigger LANGUAGE plpgsql SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF NOT is_owner_context() AND NOT is_supervisor(actor())
       AND coalesce((SELECT action FROM rules WHERE flag = OLD.kind), 'none') <> 'none'
       AND (TG_OP = 'DELETE' OR NEW.kind IS DISTINCT FROM OLD.kind OR NEW.ticket_id IS DISTINCT FROM OLD.ticket_id) THEN
        RAISE EXCEPTION 'Only a supervisor can clear the flag % on a ticket: its rule decides how replies '
                        'are approved.', OLD.kind USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER ticket_flags_guard BEFORE UPDATE OR DELETE ON ticket_flags
    FOR EACH ROW EXECUTE FUNCTION ticket_flags_guard();

CREATE FUNCTION review_comments_before() RETURNS trigger LANGUAGE plpgsql SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF NOT is_owner_context() THEN
        NEW.author := actor();
        NEW.created_at := now_iso();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER review_comments_before BEFORE INSERT ON review_comments
    FOR EACH ROW EXECUTE FUNCTION review_comments_before();

-- == grants ==========================================================================================
REVOKE ALL ON ALL TABLES IN SCHEMA agent_assist FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA agent_assist FROM PUBLIC;
GRANT USAGE ON SCHEMA agent_assist TO agent_assist_agent, agent_assist_supervisor;
GRANT SELECT ON ALL TABLES IN SCHEMA agent_assist TO agent_assist_agent, agent_assist_supervisor;

-- column lists, not whole tables: ids come from the database, never from a client
GRANT INSERT (name, email, language, created_at), UPDATE (name, email, language) ON customers
    TO agent_assist_agent, agent_assist_supervisor;
GRANT INSERT (customer_id, subject, status, priority, channel, language, assignee, sla_due_at, tags, topic,
              created_at, updated_at, flags, sentiment),
      UPDATE (customer_id, subject, status, priority, channel, language, assignee, sla_due_at, tags, topic,
              updated_at, flags, sentiment) ON tickets
    TO agent_assist_agent, agent_assist_supervisor;
GRANT INSERT (ticket_id, direction, author, body_text, body_html, created_at) ON messages
    TO agent_assist_agent, agent_assist_supervisor;
GRANT INSERT, UPDATE, DELETE ON articles TO agent_assist_agent, agent_assist_supervisor;
GRANT INSERT (ticket_id, source, original_body, body, citations, provider, model, prompt_version) ON drafts
    TO agent_assist_agent, agent_assist_supervisor;
GRANT UPDATE (body) ON drafts TO agent_assist_agent, agent_assist_supervisor;
GRANT INSERT, UPDATE, DELETE ON ticket_flags TO agent_assist_agent, agent_assist_supervisor;
GRANT INSERT (draft_id, ticket_id, comment) ON review_comments TO agent_assist_supervisor;
GRANT INSERT, UPDATE, DELETE ON draft_quality TO agent_assist_agent, agent_assist_supervisor;
GRANT INSERT (flag, action), UPDATE (action) ON rules TO agent_assist_supervisor;
GRANT INSERT, UPDATE ON email_sync_state, email_messages, email_uids, email_blobs, email_attachments, email_outbox
    TO agent_assist_agent, agent_assist_supervisor;
-- profiles, audit and schema_migrations: read only (SELECT above); the chain's head: nothing
REVOKE ALL ON audit_head FROM agent_assist_agent, agent_assist_supervisor;

GRANT EXECUTE ON FUNCTION now_iso(), actor(), is_owner_context(), role_of(text), is_supervisor(text),
    ticket_actions(bigint), json_item(anyelement), audit_hash(text, text, text, text, bigint, bigint, text),
    approve_draft(bigint, text), send_draft(bigint, text), approve_and_send(bigint, text, text),
    discard_draft(bigint), return_draft(bigint, text)
    TO agent_assist_agent, agent_assist_supervisor;
