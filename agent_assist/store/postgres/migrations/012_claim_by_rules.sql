-- Agent Assist team schema, version 12: "Next ticket" follows the routing rules too.
-- Within the most urgent priority that has free tickets, a ticket whose flags carry a rule (four eyes,
-- human only: fraud, a vulnerable customer, a legal complaint) is handed out before the others, then
-- by SLA. Flagged free tickets are few, and their own partial index finds them without a scan.

CREATE INDEX idx_tickets_claimable_flagged ON tickets (priority, sla_due_at, id)
    WHERE assignee IS NULL AND status IN ('new', 'open') AND flags <> '[]';

CREATE OR REPLACE FUNCTION claim_next(p_desk text, p_lease_s integer DEFAULT 120) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := require_member();
    v_ticket bigint;
    v_priority integer;
BEGIN
    PERFORM release_expired_claims();
    SELECT priority INTO v_priority FROM tickets
     WHERE assignee IS NULL AND status IN ('new', 'open') ORDER BY priority LIMIT 1;
    IF v_priority IS NULL THEN
        RETURN NULL;
    END IF;
    -- the routing rules first: a flagged ticket of that priority whose flag has a rule
    SELECT t.id INTO v_ticket FROM tickets t
     WHERE t.assignee IS NULL AND t.status IN ('new', 'open') AND t.flags <> '[]' AND t.priority = v_priority
       AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(t.flags::jsonb) AS f(kind)
                   JOIN rules r ON r.flag = f.kind AND r.action <> 'none')
     ORDER BY t.priority, t.sla_due_at NULLS LAST, t.id
     LIMIT 1 FOR UPDATE OF t SKIP LOCKED;
    IF v_ticket IS NULL THEN
        SELECT id INTO v_ticket FROM tickets
         WHERE assignee IS NULL AND status IN ('new', 'open')
         ORDER BY priority, sla_due_at NULLS LAST, id
         LIMIT 1 FOR UPDATE SKIP LOCKED;
    END IF;
    IF v_ticket IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE tickets SET assignee = v_actor, status = 'open', updated_at = now_iso() WHERE id = v_ticket;
    INSERT INTO ticket_claims (ticket_id, person, desk, expires_at)
    VALUES (v_ticket, v_actor, p_desk, now() + make_interval(secs => greatest(p_lease_s, 10)))
    ON CONFLICT (ticket_id) DO UPDATE SET person = EXCLUDED.person, desk = EXCLUDED.desk,
        claimed_at = now_iso(), expires_at = EXCLUDED.expires_at;
    RETURN v_ticket;
END $$;
REVOKE ALL ON FUNCTION claim_next(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_next(text, integer) TO agent_assist_agent, agent_assist_supervisor;
