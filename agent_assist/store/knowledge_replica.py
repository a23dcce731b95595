"""A team desk's own copy of the knowledge base: a local SQLite file with the articles and their FTS5 index.

Articles live on the team server; searching them there means a round trip per keystroke, nothing
offline, and none of a desk's FTS5 vocabulary features (typos, compound words). So each desk keeps a
replica in its data folder (private, 0600), one file per team database, with the very ``articles``
table and ``articles_fts`` index a desk's own file has: :mod:`agent_assist.store.article_search` and
:mod:`agent_assist.knowledge.search` run on it unchanged.

:func:`sync` brings it up to date incrementally. The server numbers every article change from one
sequence (``articles.change_seq``) and keeps a tombstone per removed article (``article_removals``,
team migration 011, whose lock makes the numbers become visible in order); a sync reads only what is
numbered above the highest number the replica has seen, in batches of :data:`BATCH`, each applied in
one local transaction together with the new high-water mark. An interrupted sync (the server went
away, the window closed) resumes where its last batch ended. The first sync reads everything; a
replica counts as usable (``synced_at``) only once one sync has run to its end.

A replica that cannot be opened (not a database, damaged, from a newer version) is set aside and made
again from the server, with a sentence (:attr:`KnowledgeReplica.notice`), never a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from agent_assist import config
from agent_assist.store import articles, vectors
from agent_assist.store.database import Store
from agent_assist.store.errors import (
    DamagedDatabaseError,
    ForeignDatabaseError,
    MigrationError,
    NewerSchemaError,
    NotADatabaseError,
    StoreError,
)
from agent_assist.store.migrations import APPLICATION_ID
from agent_assist.timefmt import now_iso

log = logging.getLogger(__name__)

BATCH = 1000  # articles read from the server and written locally per transaction
FOLDER = "knowledge-replicas"
# what a sync copies, in this order (the server's articles less its search_vector, plus the number)
SYNCED = ("id", "key", "title", "body", "section", "locale", "source", "url", "content_hash", "updated_at",
          "body_html")


def _create(db: sqlite_utils.Database) -> None:
    """The replica's schema: a desk file's ``articles`` (schema 1 with schema 4's ``body_html``), its
    index and FTS5 table with triggers, and the vocabulary table; plus the sync's own state."""
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db["articles"].create(
        {"id": int, "key": str, "title": str, "body": str, "section": str, "locale": str, "source": str,
         "url": str, "content_hash": str, "updated_at": str, "body_html": str},
        pk="id", not_null={"title", "body"})
    db["articles"].create_index(["source", "key", "locale"])
    db["articles"].enable_fts(["title", "body"], tokenize="unicode61 remove_diacritics 2", create_triggers=True)
    db.execute("CREATE VIRTUAL TABLE articles_fts_vocab USING fts5vocab(articles_fts, 'row')")
    db.execute("CREATE TABLE replica_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO replica_state (key, value) VALUES ('kind', 'knowledge replica'), ('last_seq', '0')")


def _vectors(db: sqlite_utils.Database) -> None:
    """The desk's own embedding vectors of the replica's articles (made here, never synced)."""
    vectors.create(db)


REPLICA_MIGRATIONS = [_create, _vectors]


def replica_path(database: str, folder: Path | None = None) -> Path:
    """The replica file for a team database. ``database`` is what the store calls itself
    (``alex@host:5432/support``, never with a password); the person's name is left out: the articles
    are the team's, the same for everyone."""
    if folder is None:
        folder = config.data_dir()
    where = database.rsplit("@", 1)[-1]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", where).strip("_")[:80] or "team"
    digest = hashlib.sha256(where.encode()).hexdigest()[:10]
    return Path(folder) / FOLDER / f"{readable}-{digest}.db"


class KnowledgeReplica:
    """The replica file, opened (and made when missing, or made again when damaged)."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, *, source: str = ""):
        self.path = Path(path)
        self.source = source  # the team database it copies, for sentences
        self.notice = ""  # a sentence when the file had to be set aside and made again
        self._store = self._open()

    def _open(self) -> Store:
        store = None
        try:
            store = Store(self.path, migrations=REPLICA_MIGRATIONS)
            kind = store.db.conn.execute("SELECT value FROM replica_state WHERE key = 'kind'").fetchone()
            if kind is None:
                raise DamagedDatabaseError(f"{self.path} is not a knowledge replica.")
            return store
        except (StoreError, sqlite3.DatabaseError) as exc:
            if store is not None:
                store.close()
            if isinstance(exc, StoreError) and not _file_trouble(exc):
                raise  # a full disk or a busy file: the file is fine, say what is wrong
            return self._set_aside_and_make(exc)

    def _set_aside_and_make(self, exc: BaseException, why: str = "could not be read") -> Store:
        log.warning("knowledge replica %s unusable, set aside: %s", self.path, exc)
        aside = self.path.with_name(f"{self.path.stem}.damaged-{time.strftime('%Y%m%d-%H%M%S')}{self.path.suffix}")
        for suffix in ("", "-wal", "-shm", "-journal"):
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                part.replace(Path(f"{aside}{suffix}"))
        self.notice = (f"The knowledge copy on this desk {why}, so it was set aside "
                       f"({aside.name}) and is being made again from the team server.")
        return Store(self.path, migrations=REPLICA_MIGRATIONS)

    def rebuild(self, reason: BaseException, why: str = "could not be read") -> None:
        """Set the file aside and start an empty one (the next sync copies everything)."""
        with contextlib.suppress(StoreError, sqlite3.Error):
            self._store.close()
        self._store = self._set_aside_and_make(reason, why)

    # -- the store interface the knowledge code reads through -----------------------
    @property
    def db(self) -> sqlite_utils.Database:
        return self._store.db

    def transaction(self):
        return self._store.transaction()

    def page_cache(self, kib: int):
        return self._store.page_cache(kib)

    def analyze(self) -> None:
        self._store.analyze()

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> KnowledgeReplica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the sync's state ------------------------------------------------------------
    def _state(self, key: str) -> str | None:
        row = self.db.conn.execute("SELECT value FROM replica_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def last_seq(self) -> int:
        """The highest change number of the server this replica has applied."""
        return int(self._state("last_seq") or 0)

    def synced_at(self) -> str | None:
        """When a sync last ran to its end (ISO UTC); None while none has (then it is not searched)."""
        return self._state("synced_at")

    def count(self) -> int:
        return articles.count(self.db)


def _file_trouble(exc: BaseException) -> bool:
    """Errors that mean the file itself is unusable (rather than, say, a full disk or a busy lock)."""
    return isinstance(exc, (DamagedDatabaseError, ForeignDatabaseError, MigrationError, NewerSchemaError,
                            NotADatabaseError))


@dataclass(frozen=True)
class SyncResult:
    """What one sync brought: articles new to the replica, changed in it, removed from it."""

    added: int
    changed: int
    removed: int
    last_seq: int
    at: str  # when it ended (ISO UTC)
    full: bool = False  # the replica was empty (or made again): everything was read
    transferred: int = 0  # rows read from the server (articles and tombstones)


Progress = Callable[[int, int], None]  # (rows done, rows to do)

_SERVER_ROWS = (f"SELECT {', '.join(SYNCED)}, change_seq FROM articles WHERE change_seq > ? "
                "ORDER BY change_seq LIMIT ?")
_UPSERT = (f"INSERT INTO articles ({', '.join(SYNCED)}) VALUES ({', '.join('?' for _ in SYNCED)}) "
           f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in SYNCED[1:])}")


class SyncCancelled(Exception):
    """The sync stopped between batches; what was applied stays, the next sync goes on from there."""


def sync(team_store: Any, replica: KnowledgeReplica, *, batch: int = BATCH, progress: Progress | None = None,
         cancel: Callable[[], bool] | None = None) -> SyncResult:
    """Bring ``replica`` up to date with ``team_store``'s articles; returns what changed.

    Reads run in one REPEATABLE READ transaction on the server (one snapshot: the totals shown in
    ``progress`` hold, and articles and tombstones agree); each batch is written in one local
    transaction together with its high-water mark. A damaged replica is made again and filled.
    """
    try:
        return _sync(team_store, replica, batch=batch, progress=progress, cancel=cancel)
    except DamagedDatabaseError as exc:
        replica.rebuild(exc)
        return _sync(team_store, replica, batch=batch, progress=progress, cancel=cancel)


def _sync(team_store: Any, replica: KnowledgeReplica, *, batch: int, progress: Progress | None,
          cancel: Callable[[], bool] | None) -> SyncResult:
    with contextlib.ExitStack() as stack:
        return _sync_in(stack, team_store, replica, batch=batch, progress=progress, cancel=cancel)


def _sync_in(stack: contextlib.ExitStack, team_store: Any, replica: KnowledgeReplica, *, batch: int,
             progress: Progress | None, cancel: Callable[[], bool] | None) -> SyncResult:
    since = replica.last_seq()
    added = changed = removed = 0
    with team_store.transaction() as server:
        conn = server.conn
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        newest = conn.execute("SELECT greatest((SELECT coalesce(max(change_seq), 0) FROM articles), "
                              "(SELECT coalesce(max(change_seq), 0) FROM article_removals))").fetchone()[0]
        if newest < since:  # the server's numbers went back: another database under the same name
            log.warning("knowledge replica %s is ahead of its server (%s > %s): copied again", replica.path,
                        since, newest)
            replica.rebuild(RuntimeError("the team database was replaced"),
                            "belongs to an earlier team database of the same name")
            since = 0
        full = since == 0
        first = replica.synced_at() is None  # a first copy (or one an interruption left half done)
        to_do = conn.execute("SELECT (SELECT count(*) FROM articles WHERE change_seq > ?) + "
                             "(SELECT count(*) FROM article_removals WHERE change_seq > ?)", (since, since)
                             ).fetchone()[0]
        if progress is not None:
            progress(0, to_do)
        done = 0
        # a first copy is indexed once at its end (FTS5 kept row by row over 50k articles is ~10x slower);
        # it is not searched before then. The desk's own import sizes its page cache the same way.
        cache = replica.page_cache(min(256 * 1024, max(2000, to_do * 8))) if first else contextlib.nullcontext()
        stack.enter_context(cache)
        if first:
            _pause_index(replica)
        while True:
            if cancel is not None and cancel():
                raise SyncCancelled()
            rows = conn.execute(_SERVER_ROWS, (since, batch)).fetchall()
            upper = rows[-1][-1] if len(rows) == batch else newest  # a full page: tombstones up to it
            gone = [] if full else conn.execute(  # an empty replica has nothing to remove
                "SELECT article_id, change_seq FROM article_removals WHERE change_seq > ? AND change_seq <= ? "
                "ORDER BY change_seq", (since, upper)).fetchall()
            if not rows and not gone:
                break
            reached = max([since, *(row[-1] for row in rows), *(g[1] for g in gone)])
            a, c, r = _apply(replica, rows, gone, reached)
            added, changed, removed = added + a, changed + c, removed + r
            since = reached
            done += len(rows) + len(gone)
            if progress is not None:
                progress(done, to_do)
            if len(rows) < batch:
                break
    at = now_iso()
    with replica.transaction() as db:
        if first:
            _resume_index(db)
        _set_state(db, last_seq=since, synced_at=at)
    if first or done > 5 * batch:
        articles.tidy_index(replica)  # merge the index's segments after a large copy
    return SyncResult(added, changed, removed, since, at, full, done)


_INDEX_TRIGGERS = ("articles_ai", "articles_ad", "articles_au")


def _pause_index(replica: KnowledgeReplica) -> None:
    """Take the FTS triggers off for a first copy, keeping their SQL in the replica to put back
    (an interrupted first copy finds them off already)."""
    with replica.transaction() as db:
        found = db.conn.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
                                f"({', '.join('?' for _ in _INDEX_TRIGGERS)})", _INDEX_TRIGGERS).fetchall()
        if not found:
            return
        _set_state(db, index_triggers=json.dumps(dict(found)))
        for name, _sql in found:
            db.conn.execute(f'DROP TRIGGER "{name}"')


def _resume_index(db: Any) -> None:
    """Put the FTS triggers back and index every article at once (inside the caller's transaction)."""
    row = db.conn.execute("SELECT value FROM replica_state WHERE key = 'index_triggers'").fetchone()
    if row is None:
        return
    for _name, sql in json.loads(row[0]).items():
        db.conn.execute(sql)
    db.conn.execute("DELETE FROM replica_state WHERE key = 'index_triggers'")
    db.conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")


def _apply(replica: KnowledgeReplica, rows: list, gone: list, reached: int) -> tuple[int, int, int]:
    """One batch in one local transaction with its high-water mark: upserts (an update keeps the FTS
    index right through its triggers, where ``INSERT OR REPLACE`` would not) and removals."""
    ids = [row[0] for row in rows]
    with replica.transaction() as db:
        known = _existing(db, ids)
        if rows:
            db.conn.executemany(_UPSERT, [tuple(row[:-1]) for row in rows])
        removed = 0
        for article_id, _seq in gone:
            removed += db.conn.execute("DELETE FROM articles WHERE id = ?", (article_id,)).rowcount
        _set_state(db, last_seq=reached)
    changed = len(known)
    return len(ids) - changed, changed, removed


def _existing(db: Any, ids: list[int]) -> set[int]:
    found: set[int] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        found.update(r[0] for r in db.conn.execute(
            f"SELECT id FROM articles WHERE id IN ({', '.join('?' for _ in chunk)})", chunk))
    return found


def _set_state(db: Any, **values: Any) -> None:
    db.conn.executemany("INSERT INTO replica_state (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [(k, str(v)) for k, v in values.items()])
