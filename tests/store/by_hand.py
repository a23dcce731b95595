"""Writing a store's rows by hand, past the store's functions, as someone with the database open could."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from agent_assist.store.backend import is_postgres
from agent_assist.store.errors import InvalidTransitionError


def write_by_hand(store, sql: str, params: Sequence[object] = ()) -> bool:
    """Run ``sql`` on the store's own connection; returns whether the database took it.

    A desk's file takes it (whoever opens the file can write it: what stops a forged row there is
    the core checking again at the next step); a team server refuses it by its grants, as it
    refuses the same statement typed into psql.
    """
    if is_postgres(store):
        with pytest.raises(InvalidTransitionError, match="[Pp]ermission denied"):
            store.db.conn.execute(sql, params)
        return False
    store.db.conn.execute(sql, params)
    return True
