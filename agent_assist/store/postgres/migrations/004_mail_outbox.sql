-- Agent Assist team schema, version 4: the e-mail channel on a team server, where several desks sync
-- one mailbox and send from one outbox (store/mail.py; a desk claims a row with a conditional update on
-- claimed_by/claimed_at, version 3). What a desk may change of an e-mail, and the audit rows of the
-- outbox's steps, written here as the signed-in person (on a desk's SQLite file store/mail.py writes them).

-- an outgoing e-mail is the reply as it was approved: once queued, its message, recipients, sender and
-- ticket stay as they are; a desk writes only how far delivery got
REVOKE UPDATE ON email_outbox FROM agent_assist_agent, agent_assist_supervisor;
GRANT UPDATE (state, attempts, last_error, next_attempt_at, smtp_reply, filed, updated_at, sent_at, claimed_by,
              claimed_at) ON email_outbox TO agent_assist_agent, agent_assist_supervisor;
-- what came in (and the sync ledger) is written once and never changed by a desk
REVOKE UPDATE ON email_messages, email_uids, email_blobs, email_attachments
    FROM agent_assist_agent, agent_assist_supervisor;

CREATE FUNCTION email_outbox_guard() RETURNS trigger LANGUAGE plpgsql SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF is_owner_context() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM messages WHERE id = NEW.message_row AND ticket_id = NEW.ticket_id
                       AND direction = 'outbound') THEN
            RAISE EXCEPTION 'Only a reply that was sent on its ticket can go out by e-mail.'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.state <> 'queued' OR NEW.attempts <> 0 OR NEW.sent_at IS NOT NULL OR NEW.claimed_by IS NOT NULL THEN
            RAISE EXCEPTION 'A new outgoing e-mail starts queued, not yet tried.'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF OLD.state = 'sent' AND NEW.state <> 'sent' THEN
        -- back in the queue, it would go out a second time
        RAISE EXCEPTION 'This e-mail was sent already; it cannot be sent again.'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER email_outbox_guard BEFORE INSERT OR UPDATE ON email_outbox
    FOR EACH ROW EXECUTE FUNCTION email_outbox_guard();

CREATE FUNCTION email_outbox_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_who jsonb := jsonb_build_object('outbox_id', NEW.id, 'email_message_id', NEW.message_id);
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM audit_append('email.queued', NEW.ticket_id, NULL, v_who || jsonb_build_object(
            'message_row', NEW.message_row, 'rcpt_to', NEW.rcpt_to::jsonb));
    ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
        IF OLD.state = 'unknown' AND NEW.state IN ('sent', 'queued') THEN
            PERFORM audit_append('email.resolved', NEW.ticket_id, NULL, v_who || jsonb_build_object(
                'decided', CASE WHEN NEW.state = 'sent' THEN 'sent' ELSE 'resend' END));
        ELSIF OLD.state = 'failed' AND NEW.state = 'queued' THEN
            PERFORM audit_append('email.requeued', NEW.ticket_id, NULL, v_who);
        ELSIF NEW.state = 'sent' THEN
            PERFORM audit_append('email.sent', NEW.ticket_id, NULL, v_who || jsonb_build_object(
                'attempts', NEW.attempts, 'recovered', coalesce(NEW.filed = 'found', false)));
        ELSIF NEW.state = 'failed' THEN
            PERFORM audit_append('email.failed', NEW.ticket_id, NULL, v_who || jsonb_build_object(
                'error', left(NEW.last_error, 300)));
        ELSIF NEW.state = 'unknown' THEN
            PERFORM audit_append('email.unknown', NEW.ticket_id, NULL, v_who);
        END IF;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state OR NEW.filed IS DISTINCT FROM OLD.filed THEN
        PERFORM pg_notify('agent_assist_tickets', NEW.ticket_id::text);  -- the status line under the reply
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER email_outbox_audit AFTER INSERT OR UPDATE ON email_outbox
    FOR EACH ROW EXECUTE FUNCTION email_outbox_audit();

REVOKE ALL ON FUNCTION email_outbox_guard(), email_outbox_audit() FROM PUBLIC;
