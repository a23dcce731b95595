-- Agent Assist team schema, version 5: many desks working one queue.
-- * "Next ticket": a desk claims the best free ticket (FOR UPDATE SKIP LOCKED: fifty desks pressing
--   it at once never get the same one), assigns it to the person and holds it with a lease that the
--   desk renews while it runs; a desk that goes away loses its claims when the lease runs out.
-- * Presence: which desks have which ticket open, and who is writing a reply there (a heartbeat),
--   announced on agent_assist_presence when it changes, never on a plain renewal.
-- * Leases: one holder at a time for a named job, such as fetching a team mailbox.
-- Clients only read these tables; every change goes through the SECURITY DEFINER functions below,
-- which take the person from the session (actor()), never from an argument.

CREATE TABLE ticket_claims (
    ticket_id bigint PRIMARY KEY REFERENCES tickets (id),
    person text NOT NULL,
    desk text NOT NULL,
    claimed_at text NOT NULL DEFAULT now_iso(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX idx_ticket_claims_desk ON ticket_claims (desk);
CREATE INDEX idx_ticket_claims_expires ON ticket_claims (expires_at);

CREATE TABLE presence (
    desk text PRIMARY KEY,  -- one running window
    person text NOT NULL,
    ticket_id bigint REFERENCES tickets (id),  -- NULL: online, no ticket open
    writing boolean NOT NULL DEFAULT false,
    seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_presence_ticket ON presence (ticket_id);

CREATE TABLE leases (
    name text PRIMARY KEY,  -- e.g. 'mailbox:support@example.com'
    holder text NOT NULL,  -- the desk holding it
    person text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- the free tickets in the order "Next ticket" hands them out: the most urgent, then the SLA due first
CREATE INDEX idx_tickets_claimable ON tickets (priority, sla_due_at, id)
    WHERE assignee IS NULL AND status IN ('new', 'open');

-- a desk that stopped renewing: its untouched claims go back to the queue
CREATE FUNCTION release_expired_claims() RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_count integer := 0;
    c record;
BEGIN
    FOR c IN DELETE FROM ticket_claims WHERE expires_at < now() RETURNING ticket_id, person LOOP
        UPDATE tickets SET assignee = NULL, updated_at = now_iso()
         WHERE id = c.ticket_id AND assignee = c.person AND status IN ('new', 'open');
        v_count := v_count + 1;
    END LOOP;
    DELETE FROM presence WHERE seen_at < now() - interval '2 minutes';
    RETURN v_count;
END $$;

CREATE FUNCTION claim_next(p_desk text, p_lease_s integer DEFAULT 120) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := require_member();
    v_ticket bigint;
BEGIN
    PERFORM release_expired_claims();
    SELECT id INTO v_ticket FROM tickets
     WHERE assignee IS NULL AND status IN ('new', 'open')
     ORDER BY priority, sla_due_at NULLS LAST, id
     LIMIT 1 FOR UPDATE SKIP LOCKED;
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

-- the claim is done with (the reply went out, the ticket changed hands): the ticket stays as it is
CREATE FUNCTION release_claim(p_ticket bigint) RETURNS void LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$ DELETE FROM ticket_claims WHERE ticket_id = p_ticket AND person = actor() $$;

-- a desk is alive: where it is and whether its person is writing; its claims are renewed
CREATE FUNCTION desk_heartbeat(p_desk text, p_ticket bigint, p_writing boolean, p_lease_s integer DEFAULT 120)
    RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := require_member();
    v_before presence;
BEGIN
    SELECT * INTO v_before FROM presence WHERE desk = p_desk FOR UPDATE;
    IF FOUND AND v_before.person <> v_actor THEN
        RAISE EXCEPTION 'That desk belongs to another person.' USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO presence (desk, person, ticket_id, writing, seen_at)
    VALUES (p_desk, v_actor, p_ticket, coalesce(p_writing, false) AND p_ticket IS NOT NULL, now())
    ON CONFLICT (desk) DO UPDATE SET ticket_id = EXCLUDED.ticket_id, writing = EXCLUDED.writing,
        seen_at = EXCLUDED.seen_at;
    UPDATE ticket_claims SET expires_at = now() + make_interval(secs => greatest(p_lease_s, 10))
     WHERE desk = p_desk AND person = v_actor;
    IF v_before.desk IS NULL OR v_before.ticket_id IS DISTINCT FROM p_ticket
       OR v_before.writing IS DISTINCT FROM (coalesce(p_writing, false) AND p_ticket IS NOT NULL)
       OR v_before.seen_at < now() - interval '30 seconds' THEN
        PERFORM pg_notify('agent_assist_presence', coalesce(p_ticket::text, ''));
        IF v_before.ticket_id IS NOT NULL AND v_before.ticket_id IS DISTINCT FROM p_ticket THEN
            PERFORM pg_notify('agent_assist_presence', v_before.ticket_id::text);
        END IF;
    END IF;
END $$;

-- the window closes: it is no longer there, and the tickets it claimed but did not answer go back
CREATE FUNCTION desk_leave(p_desk text) RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := actor();
    v_ticket bigint;
    c record;
BEGIN
    DELETE FROM presence WHERE desk = p_desk AND person = v_actor RETURNING ticket_id INTO v_ticket;
    FOR c IN DELETE FROM ticket_claims WHERE desk = p_desk AND person = v_actor RETURNING ticket_id, claimed_at
    LOOP
        UPDATE tickets SET assignee = NULL, updated_at = now_iso()
         WHERE id = c.ticket_id AND assignee = v_actor AND status IN ('new', 'open')
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = c.ticket_id AND m.direction = 'outbound'
                           AND m.created_at >= c.claimed_at);
    END LOOP;
    PERFORM pg_notify('agent_assist_presence', coalesce(v_ticket::text, ''));
END $$;

-- one holder at a time for a named job; True while this desk holds it (taken over once it ran out)
CREATE FUNCTION take_lease(p_name text, p_desk text, p_ttl_s integer) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = agent_assist, pg_temp
    AS $$
DECLARE
    v_actor text := require_member();
    v_holder text;
BEGIN
    INSERT INTO leases (name, holder, person, expires_at)
    VALUES (p_name, p_desk, v_actor, now() + make_interval(secs => greatest(p_ttl_s, 1)))
    ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, person = EXCLUDED.person,
        expires_at = EXCLUDED.expires_at
     WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < now()
    RETURNING holder INTO v_holder;
    RETURN v_holder IS NOT NULL;
END $$;

CREATE FUNCTION drop_lease(p_name text, p_desk text) RETURNS void LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = agent_assist, pg_temp
    AS $$ DELETE FROM leases WHERE name = p_name AND holder = p_desk $$;

REVOKE ALL ON ticket_claims, presence, leases FROM PUBLIC;
GRANT SELECT ON ticket_claims, presence, leases TO agent_assist_agent, agent_assist_supervisor;
REVOKE ALL ON FUNCTION release_expired_claims(), claim_next(text, integer), release_claim(bigint),
    desk_heartbeat(text, bigint, boolean, integer), desk_leave(text), take_lease(text, text, integer),
    drop_lease(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION release_expired_claims(), claim_next(text, integer), release_claim(bigint),
    desk_heartbeat(text, bigint, boolean, integer), desk_leave(text), take_lease(text, text, integer),
    drop_lease(text, text) TO agent_assist_agent, agent_assist_supervisor;
