"""Team mode: the store on a PostgreSQL server (14 or newer), through psycopg 3.

Where a desk keeps one SQLite file, a team shares one PostgreSQL database, and the database is the
authority: each person signs in as their own login role, who did what is the session's login, and
the rules (four eyes, human only, roles, the one send path, an append-only audit trail) are enforced
by grants, row-level security, triggers and SECURITY DEFINER functions, so they hold for a person
with psql too (see ``migrations/002_rules_enforced.sql``).

* :mod:`.connect` — opening a connection, with errors a person can act on;
* :mod:`.migrations` — the versioned SQL migrations in ``migrations/NNN_name.sql``;
* :mod:`.team` — ``agent-assist team init`` and ``team add-person``.

Nothing here is imported by the SQLite store: psycopg is loaded only when team mode is used.
"""

from agent_assist.store.postgres.connect import SCHEMA, TeamDatabaseError, connect, is_postgres_url

__all__ = ["SCHEMA", "TeamDatabaseError", "connect", "is_postgres_url"]
