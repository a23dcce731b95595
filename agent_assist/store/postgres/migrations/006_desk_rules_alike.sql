-- Agent Assist team schema, version 6: two rules the server kept differently from a desk's file.
--
-- * human only: a person "changed" a machine draft when its words changed, not its spacing (a desk
--   compares the texts with runs of whitespace collapsed, drafts.Draft.person_wrote_text); version 2
--   compared them exactly, so one added space let a machine's text out. The refusal is worded as a
--   desk words it.
-- * a reply holding a full card number is sent only when the person confirmed it (the app asks);
--   reply.sent records how many they confirmed, as a desk's audit row does.

CREATE OR REPLACE FUNCTION same_words(p_a text, p_b text) RETURNS boolean LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog
    AS $$
    SELECT regexp_replace(regexp_replace(coalesce(p_a, ''), '\s+', ' ', 'g'), '^ | $', '', 'g')
         = regexp_replace(regexp_replace(coalesce(p_b, ''), '\s+', ' ', 'g'), '^ | $', '', 'g')
    $$;

CREATE OR REPLACE FUNCTION check_human_only(d drafts) RETURNS void LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
BEGIN
    IF 'human_only' = ANY (ticket_actions(d.ticket_id)) AND d.source <> 'human'
       AND same_words(d.body, coalesce(d.original_body, d.body)) THEN
        RAISE EXCEPTION 'This ticket is human-only: a person writes its reply. Write it yourself, or change the '
                        'suggested text before approving it.' USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;

DROP FUNCTION send_draft(bigint, text);
CREATE FUNCTION send_draft(p_draft bigint, p_status_after text DEFAULT 'pending', p_confirmed_cards integer DEFAULT 0)
    RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := require_member();
    d drafts := locked_draft(p_draft);
    v_before text;
    v_message bigint;
    v_details jsonb;
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
    v_details := jsonb_build_object(
        'message_id', v_message, 'approved_by', d.approved_by, 'source', d.source, 'model', d.model,
        'prompt_version', d.prompt_version, 'citations', coalesce(nullif(d.citations, ''), '[]')::jsonb,
        'status_before', v_before, 'status_after', p_status_after);
    IF coalesce(p_confirmed_cards, 0) > 0 THEN
        v_details := v_details || jsonb_build_object('full_card_numbers_confirmed', p_confirmed_cards);
    END IF;
    PERFORM audit_append('reply.sent', d.ticket_id, p_draft, v_details);
    RETURN v_message;
END $$;

REVOKE ALL ON FUNCTION same_words(text, text), send_draft(bigint, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION send_draft(bigint, text, integer) TO agent_assist_agent, agent_assist_supervisor;
