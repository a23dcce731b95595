"""Replies approved and waiting out their undo time on this desk (undo send).

"Approve & send" approves the text at once (the database has the approval, the card-number check
is done) and holds the send for a few seconds: until then the approver can take the approval back
(:func:`agent_assist.store.drafts.withdraw_approval`) and the reply is back in the editor. The hold
is written here, in a private file of this desk's, so a reply whose time came while the window was
closed (or had crashed) is sent when the app starts again, not lost. The send itself is the usual
one (``drafts.send`` through ``channels.replies``): exactly once, recorded in the audit trail.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from agent_assist import config
from agent_assist.store import desk_file

FILE_NAME = "held-replies.json"
DEFAULT_UNDO_S = 10


@dataclass(frozen=True)
class Held:
    database: str  # what the store calls itself
    draft_id: int
    ticket_id: int
    person: str  # who approved it: the one who sends it
    send_at: float  # seconds since the epoch (this desk's clock: the desk both holds and sends)
    status_after: str
    confirmed_pan: bool  # the person confirmed a full card number in it

    def seconds_left(self) -> float:
        return max(0.0, self.send_at - time.time())


class HeldReplies:
    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path is not None else config.data_dir() / FILE_NAME
        self._lock = threading.Lock()

    def hold(self, database: str, draft_id: int, ticket_id: int, *, person: str, delay_s: float,
             status_after: str, confirmed_pan: bool = False) -> Held:
        """Hold the approved draft's send for ``delay_s`` seconds; raises OSError when the disk refuses."""
        database = str(database)
        entry = Held(database, int(draft_id), int(ticket_id), person, time.time() + max(0.0, delay_s), status_after,
                     bool(confirmed_pan))
        with self._lock:
            entries = [e for e in self._read() if (e.database, e.draft_id) != (database, entry.draft_id)]
            self._write([*entries, entry])
        return entry

    def get(self, database: str, draft_id: int) -> Held | None:
        database = str(database)
        with self._lock:
            return next((e for e in self._read() if (e.database, e.draft_id) == (database, draft_id)), None)

    def for_database(self, database: str, person: str | None = None) -> list[Held]:
        database = str(database)
        with self._lock:
            return [e for e in self._read() if e.database == database and person in (None, e.person)]

    def due(self, database: str, person: str | None = None) -> list[Held]:
        """The held replies whose undo time is over (oldest first)."""
        now = time.time()
        return sorted((e for e in self.for_database(database, person) if e.send_at <= now), key=lambda e: e.send_at)

    def drop(self, database: str, draft_id: int) -> None:
        database = str(database)
        with self._lock:
            entries = self._read()
            left = [e for e in entries if (e.database, e.draft_id) != (database, draft_id)]
            if len(left) != len(entries):
                desk_file.write_entries(self.path, "held", [asdict(e) for e in left])

    def _read(self) -> list[Held]:
        found = []
        for d in desk_file.read_entries(self.path, "held"):
            try:
                found.append(Held(str(d["database"]), int(d["draft_id"]), int(d["ticket_id"]), str(d["person"]),
                                  float(d["send_at"]), str(d["status_after"]), bool(d.get("confirmed_pan", False))))
            except (KeyError, TypeError, ValueError) as exc:
                desk_file.set_aside(self.path, exc)
                return []
        return found

    def _write(self, entries: list[Held]) -> None:
        desk_file.write_entries(self.path, "held", [asdict(e) for e in entries])
