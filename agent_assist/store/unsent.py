"""Replies typed while the database could not take them, kept on this desk until it can.

A team desk loses its server now and then (a restart, the train's Wi-Fi). The reply the agent is
writing must survive that, even when the window is closed before the server is back: the text is
written to a private file in this desk's data folder, one entry per database and ticket, and put
back in the editor the next time that ticket opens. It is dropped once the database has the text
(saved, sent or discarded there). Nothing here talks to a database; it is plain, local and small.

The file is private JSON written atomically (:mod:`agent_assist.store.desk_file`); a damaged one is
set aside, never fatal.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from agent_assist import config
from agent_assist.store import desk_file
from agent_assist.timefmt import now_iso

log = logging.getLogger(__name__)
FILE_NAME = "unsent-replies.json"


@dataclass(frozen=True)
class Unsent:
    """One reply the database has not got yet."""

    database: str  # what the store calls itself (``alex@host:5432/support``, or the file's path)
    ticket_id: int
    draft_id: int | None  # None: the draft was only a suggestion on screen when the text was kept
    text: str
    kept_at: str


class UnsentReplies:
    """The desk's kept replies (``path`` defaults to ``unsent-replies.json`` in the data folder)."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path is not None else config.data_dir() / FILE_NAME
        self._lock = threading.Lock()

    def keep(self, database: str, ticket_id: int, draft_id: int | None, text: str) -> Unsent:
        """Keep ``text`` for the ticket (replacing what was kept for it before); raises OSError when the
        disk refuses, so the caller can say the reply is only in the window."""
        database = str(database)
        entry = Unsent(database, int(ticket_id), draft_id, text, now_iso())
        with self._lock:
            entries = [e for e in self._read() if (e.database, e.ticket_id) != (database, entry.ticket_id)]
            self._write([*entries, entry])
        return entry

    def get(self, database: str, ticket_id: int) -> Unsent | None:
        database = str(database)
        with self._lock:
            return next((e for e in self._read() if (e.database, e.ticket_id) == (database, ticket_id)), None)

    def for_database(self, database: str) -> list[Unsent]:
        database = str(database)
        with self._lock:
            return [e for e in self._read() if e.database == database]

    def drop(self, database: str, ticket_id: int) -> None:
        """Forget the ticket's kept reply (the database has it now); a disk error is logged, not raised."""
        database = str(database)
        with self._lock:
            entries = self._read()
            left = [e for e in entries if (e.database, e.ticket_id) != (database, ticket_id)]
            if len(left) == len(entries):
                return
            try:
                self._write(left)
            except OSError as exc:
                log.warning("Could not update %s: %s", self.path, exc)

    # -- the file ------------------------------------------------------------------------
    def _read(self) -> list[Unsent]:
        found = []
        for d in desk_file.read_entries(self.path, "replies"):
            try:
                found.append(Unsent(str(d["database"]), int(d["ticket_id"]),
                                    None if d.get("draft_id") is None else int(d["draft_id"]),
                                    str(d["text"]), str(d.get("kept_at", ""))))
            except (KeyError, TypeError, ValueError) as exc:
                desk_file.set_aside(self.path, exc)
                return []
        return found

    def _write(self, entries: list[Unsent]) -> None:
        desk_file.write_entries(self.path, "replies", [asdict(e) for e in entries])
