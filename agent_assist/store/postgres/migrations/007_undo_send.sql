-- Agent Assist team schema, version 7: undo send.
-- An approved reply waits on the approving desk for a few seconds before send_draft() runs; within
-- that time its approver may take the approval back, and the draft is an edited draft again, with
-- its text. Only the approver, only an approved draft, never a sent one; recorded in the audit trail.

CREATE FUNCTION withdraw_approval(p_draft bigint) RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := require_member();
    d drafts := locked_draft(p_draft);
BEGIN
    IF d.state <> 'approved' THEN
        RAISE EXCEPTION 'Only an approved reply that has not gone out can be taken back; this one is %.',
            replace(d.state, '_', ' ') USING ERRCODE = 'check_violation';
    END IF;
    IF d.approved_by IS DISTINCT FROM v_actor THEN
        RAISE EXCEPTION 'Only %, who approved this reply, can take the approval back.', d.approved_by
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE drafts SET state = 'edited', approved_by = NULL, updated_at = now_iso() WHERE id = p_draft;
    PERFORM audit_append('draft.approval_withdrawn', d.ticket_id, d.id, '{}'::jsonb);
END $$;

REVOKE ALL ON FUNCTION withdraw_approval(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION withdraw_approval(bigint) TO agent_assist_agent, agent_assist_supervisor;
