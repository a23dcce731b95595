-- Agent Assist team schema, version 8: an index for each order the queue offers, spelled as the queue
-- sorts (store/tickets.py _order): an empty value (no SLA, nobody assigned, no language) first when
-- ascending, as SQLite orders it, and the ticket id as the tie-break. PostgreSQL walks an index for
-- ORDER BY ... LIMIT only when the index has the same NULLS placement: the version-1 indexes
-- (NULLS LAST, the default) made every first page of a large queue sort all its rows.
-- A backward scan of each serves the descending order (DESC NULLS LAST, id DESC).

DROP INDEX idx_tickets_priority_sla;
DROP INDEX idx_tickets_priority_desc;
CREATE INDEX idx_tickets_priority_order ON tickets (priority, sla_due_at NULLS FIRST, id);
CREATE INDEX idx_tickets_priority_desc_order ON tickets (priority DESC, sla_due_at NULLS FIRST, id);

DROP INDEX idx_tickets_sla_due_at;
CREATE INDEX idx_tickets_sla_order ON tickets (sla_due_at NULLS FIRST, id);

DROP INDEX idx_tickets_updated_at;
CREATE INDEX idx_tickets_updated_order ON tickets (updated_at, id);

DROP INDEX idx_tickets_language;
CREATE INDEX idx_tickets_language_order ON tickets (language NULLS FIRST, id);

DROP INDEX idx_tickets_assignee_lower;
CREATE INDEX idx_tickets_assignee_order ON tickets (lower(assignee) NULLS FIRST, id);

-- the sort's expressions as the adapter spells them (json, not jsonb; the status rank's CASE)
DROP INDEX idx_tickets_flag_count;
CREATE INDEX idx_tickets_flags_order ON tickets (json_array_length(flags::json), id);
CREATE INDEX idx_tickets_status_order ON tickets ((CASE status WHEN 'new' THEN 0 WHEN 'open' THEN 1
    WHEN 'pending' THEN 2 WHEN 'solved' THEN 3 ELSE 4 END), id);
