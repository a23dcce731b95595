"""Local profiles, each with a role. Every action is attributed to a profile's name.

Only a supervisor makes supervisors or changes anyone's role. Anyone may add an
agent profile (that is how a new person starts). The one exception is the start of
a database: while it has no supervisor at all, the first one may be named by the
person setting it up (recorded as ``bootstrap`` in the audit row). On one desk this
is as far as a local file allows: names are not passwords.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from agent_assist.store import audit
from agent_assist.store.backend import is_postgres
from agent_assist.store.database import Store
from agent_assist.store.errors import InvalidTransitionError
from agent_assist.timefmt import now_iso

ROLES = ("agent", "supervisor")


@dataclass(frozen=True)
class Profile:
    name: str
    role: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def profiles(db: sqlite_utils.Database) -> list[Profile]:
    return [Profile(*r) for r in db.conn.execute("SELECT name, role FROM profiles ORDER BY name COLLATE NOCASE")]


def get_profile(db: sqlite_utils.Database, name: str) -> Profile | None:
    row = db.conn.execute("SELECT name, role FROM profiles WHERE name = ?", (name,)).fetchone()
    return Profile(*row) if row else None


def role_of(db: sqlite_utils.Database, name: str | None) -> str | None:
    profile = get_profile(db, name) if name else None
    return profile.role if profile else None


def has_supervisor(db: sqlite_utils.Database) -> bool:
    return db.conn.execute("SELECT 1 FROM profiles WHERE role = 'supervisor' LIMIT 1").fetchone() is not None


def may_create_supervisor(db: sqlite_utils.Database, actor: str | None) -> bool:
    """A supervisor may; anyone may name the first one while the database has none."""
    return not has_supervisor(db) or role_of(db, actor) == "supervisor"


def save_profile(store: Store, name: str, role: str = "agent", *, actor: str) -> Profile:
    """Create a profile or change its role, as ``actor`` (checked: see the module's docstring)."""
    name = name.strip()
    if is_postgres(store):
        raise InvalidTransitionError(TEAM_PROFILES)
    if not name:
        raise InvalidTransitionError("A profile needs a name.")
    if role not in ROLES:
        raise InvalidTransitionError(f"A role is one of {', '.join(ROLES)}, not {role!r}.")
    with store.transaction() as db:
        before = role_of(db, name)
        if before == role:
            return Profile(name, role)
        bootstrap = role == "supervisor" and not has_supervisor(db)
        if not bootstrap and (before is not None or role != "agent") and role_of(db, actor) != "supervisor":
            raise InvalidTransitionError(
                f"Only a supervisor can {'change the role of ' + name if before else 'add a supervisor'}; "
                f"{actor or 'nobody'} is not one.")
        if before == "supervisor" and not db.conn.execute(
                "SELECT 1 FROM profiles WHERE role = 'supervisor' AND name != ? LIMIT 1", (name,)).fetchone():
            raise InvalidTransitionError(f"{name} is the only supervisor; make someone else a supervisor first.")
        db.conn.execute("INSERT INTO profiles (name, role, created_at) VALUES (?, ?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET role = excluded.role", (name, role, now_iso()))
        extra = {"bootstrap": True} if bootstrap else {}
        audit.record(db, actor=actor, action="profile.saved", profile=name, role=role, role_before=before, **extra)
    return Profile(name, role)


def ensure_profile(store: Store, name: str) -> Profile:
    """The profile of this name, created as an agent when it is new (on one desk; a team's people
    are added by an administrator)."""
    return get_profile(store.db, name) or save_profile(store, name, "agent", actor=name)


TEAM_PROFILES = ("On a team server people and their roles are set by an administrator "
                 "(`agent-assist team add-person NAME --role agent|supervisor`), not in the app.")
