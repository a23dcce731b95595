"""Importing knowledge sources into the store, and re-importing them as they change.

Each imported path (a file or a folder) is a *source*, named by its absolute path.
An article is known within its source by ``(key, locale)``: re-importing a source
adds new articles, updates the ones whose content changed (same id), removes the
ones that are gone, and does not write the rest at all.

Files are read first, outside any transaction (reading can be slow; the store
stays free for others meanwhile); then every change goes in through ONE write
transaction with one ``kb.imported`` audit row. Cancelling, or any error, rolls
it all back: the articles and their index are exactly as before.

A path inside a folder that is already a source (``kb import DIR`` then ``kb import DIR/a.md``)
is the same file: it is read as part of that folder, with the same key, so it is found
(unchanged or changed), never added twice; such a partial import removes nothing, because it
did not see the rest of the folder. The other way round, a folder imported after a file or
folder inside it takes over those articles (same ids, so citations still point at them), and a
copy the older import left twice is removed. Re-importing the folder stays the one way to add,
update and remove everything under it.

What could not be read never deletes anything: an article whose file or row was
skipped is kept, and a source with an unreadable CSV/JSON file (or that is not
there at all) loses no article in that import.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from agent_assist.store.article_rows import content_hash
from agent_assist.knowledge.importers import (
    HTML_SUFFIXES,
    MARKDOWN_SUFFIXES,
    TEXT_SUFFIXES,
    ArticleRecord,
    ImportCancelled,
    Skipped,
    list_files,
    read_file,
    walked_to,
)
from agent_assist.sanitize import shown_name
from agent_assist.store import articles, audit
from agent_assist.store.database import Store
from agent_assist.store.errors import DatabaseLockedError
from agent_assist.store.postgres.adapter import PermissionRefusedError
from agent_assist.timefmt import now_iso

__all__ = ["ImportCancelled", "ImportReport", "import_sources"]

Progress = Callable[[int, int, str], None]
Cancel = Callable[[], bool]
KeyTitle = tuple[str, str]

LARGE_IMPORT = 1000  # articles: from here on the import gets a larger page cache
MAX_CACHE_KIB = 256 * 1024  # page cache for a large import, at most
SAVE_TRIES = 3  # a busy database: the save is tried this often (each waits the store's busy timeout)
_DOCUMENT_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES  # one article a file, keyed by its path
OPTIMIZE_AFTER = 2000  # merge the FTS index after an import that wrote at least this many articles


@dataclass
class ImportReport:
    """What an import did. Article entries are ``(key, title)``; skipped ones ``(where, reason)``."""

    sources: list[str] = field(default_factory=list)
    added: list[KeyTitle] = field(default_factory=list)
    changed: list[KeyTitle] = field(default_factory=list)
    removed: list[KeyTitle] = field(default_factory=list)
    unchanged: list[KeyTitle] = field(default_factory=list)
    kept: list[KeyTitle] = field(default_factory=list)  # gone from view but kept: their file could not be read
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # repairs (encodings) and removals held back

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.changed)} changed", f"{len(self.removed)} removed",
                 f"{len(self.unchanged)} unchanged"]
        if self.kept:
            parts.append(f"{len(self.kept)} kept")
        parts.append(f"{len(self.skipped)} skipped")
        n = len(self.sources)
        return f"Imported {n} source{'s' if n != 1 else ''}: " + ", ".join(parts) + "."

    def lines(self) -> list[str]:
        """The summary, then one line per added, changed, removed, kept and skipped thing, then notes.

        Names come from file names and file contents: a line break, an escape sequence or a bidi
        override in one is shown as a visible stand-in (:func:`shown_name`), never acted on.
        """
        out = [self.summary()]
        for sign, label, entries in (("+", "added", self.added), ("~", "changed", self.changed),
                                     ("-", "removed", self.removed), ("=", "kept", self.kept)):
            out.extend(f"{sign} {label}: {title} [{key}]" for key, title in entries)
        out.extend(f"! skipped: {where}: {reason}" for where, reason in self.skipped)
        out.extend(f"note: {note}" for note in self.notes)
        return [out[0], *map(shown_name, out[1:])]


@dataclass
class _SourceRead:
    root: str
    partial: bool = False  # only some paths inside the source were read: nothing may be removed
    listed: set[Path] = field(default_factory=set)  # the files read for it
    records: list[ArticleRecord] = field(default_factory=list)
    protected: set[str] = field(default_factory=set)  # keys whose file/row could not be read
    seen: dict[tuple[str, str | None], str] = field(default_factory=dict)  # (key, locale) -> file
    incomplete: list[str] = field(default_factory=list)  # why no removal may happen in this source


def import_sources(store: Store, paths: Iterable[str | Path], *, actor: str = "system",
                   progress: Progress | None = None, cancel: Cancel | None = None) -> ImportReport:
    """Import (or re-import) files and folders; returns what changed.

    ``progress(done, total, what)`` is called once per file while reading (``total`` = files) and
    once per article while saving (``total`` = articles): two passes of one bar, ``what`` says which.
    ``cancel()`` is asked before each file and each article; when it returns true the import stops
    with :class:`ImportCancelled` and nothing is changed. Any other exception (including one raised
    by these callbacks) also leaves the store untouched, and propagates. While another program holds
    the write lock, the save is tried ``SAVE_TRIES`` times with what was read (files are not read
    again), then :class:`DatabaseLockedError` says that nothing was imported.
    """
    read_report = ImportReport()
    known = [source for source in articles.sources(store.db) if source]
    reads = _read_all(paths, read_report, progress, cancel, known=known)
    for attempt in range(1, SAVE_TRIES + 1):  # busy: save what was read again, never read it twice
        report = ImportReport(sources=list(read_report.sources), skipped=list(read_report.skipped),
                              notes=list(read_report.notes))
        try:
            _save(store, reads, report, actor=actor, progress=progress, cancel=cancel)
            break
        except DatabaseLockedError as exc:
            if attempt == SAVE_TRIES:
                raise DatabaseLockedError(f"{exc} Nothing was imported; the knowledge base is as it was.") from exc
        except PermissionRefusedError as exc:  # a team whose administrator keeps the articles to some people
            raise PermissionRefusedError(
                f"The team server refused to change its knowledge base for you ({str(exc).rstrip('.')}). Nothing "
                "was imported; the knowledge base is as it was. Ask a supervisor or your administrator "
                "to import it.") from exc
    if len(report.added) + len(report.changed) + len(report.removed) >= OPTIMIZE_AFTER:
        articles.tidy_index(store)
    return report


def _check(cancel: Cancel | None) -> None:
    if cancel is not None and cancel():
        raise ImportCancelled()


# -- reading ----------------------------------------------------------------------------------------
def _inside(path: Path, folder: Path) -> bool:
    return path != folder and path.is_relative_to(folder)


def _owner(root: Path, roots: list[Path], known: Iterable[str]) -> tuple[Path, bool] | None:
    """Where ``root``'s articles belong: ``(source, partial)``, or None when another path of this
    import already covers it. A path inside a folder that is already a source, and that importing
    that folder reads (no hidden name on the way), is part of that source (the nearest one);
    anything else is a source of its own."""
    if any(_inside(root, other) for other in roots):
        return None
    if root.exists():
        folders = [Path(k) for k in known if _inside(root, Path(k)) and walked_to(root, Path(k))]
        if folders:
            return max(folders, key=lambda f: len(f.parts)), True
    return root, False


def _read_all(paths: Iterable[str | Path], report: ImportReport, progress: Progress | None,
              cancel: Cancel | None, *, known: Iterable[str] = ()) -> list[_SourceRead]:
    roots: list[Path] = []
    for p in paths:
        root = Path(p).expanduser().resolve()
        if root not in roots:
            roots.append(root)
    report.sources = [str(r) for r in roots]
    known = list(known)
    reads: dict[str, _SourceRead] = {}
    files: list[tuple[Path, Path]] = []
    seen_files: set[Path] = set()
    for root in roots:
        owner = _owner(root, roots, known)
        if owner is None:
            continue  # inside another path of this import: read with it
        source, partial = owner
        read = reads.setdefault(str(source), _SourceRead(str(source), partial=partial))
        if partial:
            report.notes.append(f"{root} is inside {source}, imported before: read as part of it (importing "
                                f"{source} again also removes articles whose files are gone)")
        if not root.exists():
            read.incomplete.append("not found")
            report.skipped.append((str(root), "not found"))
            continue
        unreadable: list[Skipped] = []
        for f in list_files(root, unreadable=unreadable):
            if f not in seen_files:
                seen_files.add(f)
                read.listed.add(f)
                files.append((source, f))
        for skip in unreadable:
            read.incomplete.append(f"{skip.where}: {skip.reason}")
            report.skipped.append((skip.where, skip.reason))
    for done, (root, file) in enumerate(files):
        _check(cancel)
        if progress is not None:
            progress(done, len(files), f"Reading {file.name}")
        read = reads[str(root)]
        for item in read_file(file, root=root, cancel=cancel):
            if isinstance(item, Skipped):
                report.skipped.append((item.where, item.reason))
                if item.key is not None:
                    read.protected.add(item.key)
                if item.incomplete:
                    read.incomplete.append(f"{item.where}: {item.reason}")
                continue
            ident = (item.key, item.locale)
            if ident in read.seen:
                locale = f" ({item.locale})" if item.locale else ""
                report.skipped.append((str(file), f"duplicate key {item.key!r}{locale}, "
                                                  f"first in {read.seen[ident]}"))
                continue
            read.seen[ident] = str(file)
            read.records.append(item)
            report.notes.extend(item.notes)
    if progress is not None and files:
        progress(len(files), len(files), "Read all files")
    return list(reads.values())


# -- saving -----------------------------------------------------------------------------------------

def _save(store: Store, reads: list[_SourceRead], report: ImportReport, *, actor: str,
          progress: Progress | None, cancel: Cancel | None) -> None:
    total = sum(len(r.records) for r in reads)
    done = 0
    now = now_iso()
    with store.transaction() as db, _page_cache(store, total):
        has_html = articles.has_body_html(db)
        for read in reads:
            existing: dict[tuple[str | None, str | None], tuple] = {}
            duplicates: list[tuple] = []
            for row in articles.of_source(db, read.root):
                if (row[1], row[2]) in existing:
                    duplicates.append(row)  # only add_articles could have written these; the first one stays
                else:
                    existing[(row[1], row[2])] = row
            adopted = set() if read.partial else _adopt(db, read, existing, duplicates)
            new_rows: list[dict] = []
            for rec in read.records:
                _check(cancel)
                if progress is not None:
                    progress(done, total, f"Saving {rec.title}")
                done += 1
                digest = content_hash(rec.title, rec.body)
                old = existing.pop((rec.key, rec.locale), None)
                if old is None:
                    new_rows.append(_row(rec, digest, now, has_html))
                    report.added.append((rec.key, rec.title))
                elif _same(db, old, rec, digest, has_html) and old[0] not in adopted:
                    report.unchanged.append((rec.key, rec.title))
                else:
                    same = old[0] in adopted and _same(db, old, rec, digest, has_html)
                    row = _row(rec, digest, now, has_html)
                    if same:  # taken over from a source inside this one: only where it belongs changes
                        row = {"source": row["source"], "key": row["key"]}
                    articles.update(db, old[0], row)
                    (report.unchanged if same else report.changed).append((rec.key, rec.title))
            articles.insert(db, new_rows)
            gone = [] if read.partial else list(existing.values()) + duplicates
            if read.incomplete and gone:
                report.notes.append(f"{read.root}: no article removed, because part of it could not be read "
                                    f"({read.incomplete[0]})")
            for row in gone:
                key, title = row[1], row[3]
                if read.incomplete or key in read.protected:
                    report.kept.append((key, title))
                else:
                    articles.delete(db, row[0])
                    report.removed.append((key, title))
        if progress is not None:
            progress(total, total, "Saved")
        audit.record(db, actor=actor, action="kb.imported", sources=report.sources,
                     added=len(report.added), changed=len(report.changed), removed=len(report.removed),
                     unchanged=len(report.unchanged), kept=len(report.kept), skipped=len(report.skipped))


def _adopt(db, read: _SourceRead, existing: dict[tuple[str | None, str | None], tuple],
           duplicates: list[tuple]) -> set[int]:
    """Articles of sources inside this folder whose file this import read: taken over (their ids).

    Such a source is a file or folder imported on its own before. A document's key there is its
    path inside that source (or, for a file, its name); a CSV/JSON record's key is its own id.
    An article this folder already has is a duplicate: it goes with the removals, and so does one
    that is gone from a source this import read all of. A source inside that this import did not
    read (a hidden folder, a link that is not followed) stays as it is, untouched.
    """
    root = read.root.rstrip(os.sep)
    read_idents = {(rec.key, rec.locale) for rec in read.records}
    adopted: set[int] = set()
    covered: dict[Path, bool] = {}
    for row in articles.inside(db, root):
        key, locale, inner = row[1], row[2], Path(row[7])
        if key is None or not _inside(inner, Path(root)):
            continue
        prefix = inner.relative_to(root).as_posix()
        if PurePosixPath(key).suffix.lower() in _DOCUMENT_SUFFIXES:  # a document: its path names it
            mapped = prefix if key == inner.name and not inner.is_dir() else f"{prefix}/{key}"
        else:  # a CSV/JSON record: its id names it
            mapped = key
        if (mapped, locale) not in read_idents:
            if inner not in covered:  # once a source: the check walks the files read
                covered[inner] = _covered(inner, read.listed)
            if mapped not in read.protected and covered[inner]:
                duplicates.append(row[:7])  # its file or record is gone
            continue
        if (mapped, locale) in existing:
            duplicates.append(row[:7])
        else:
            existing[(mapped, locale)] = row[:7]
            adopted.add(row[0])
    return adopted


def _covered(inner: Path, listed: set[Path]) -> bool:
    """Whether this import saw all of a source inside it: it is gone, or its files were read."""
    if not inner.exists():
        return True
    if inner.is_dir():
        return any(f.is_relative_to(inner) for f in listed)
    return inner in listed


@contextlib.contextmanager
def _page_cache(store: Store, articles: int) -> Iterator[None]:
    """A larger page cache while many articles go in (see :meth:`Store.page_cache`)."""
    if articles < LARGE_IMPORT:
        yield
        return
    with store.page_cache(min(MAX_CACHE_KIB, articles * 8)):
        yield


def _row(rec: ArticleRecord, digest: str, now: str, has_html: bool) -> dict:
    row = {"key": rec.key, "title": rec.title, "body": rec.body, "section": rec.section, "locale": rec.locale,
           "source": rec.source, "url": rec.url, "content_hash": digest, "updated_at": rec.updated_at or now}
    if has_html:
        row["body_html"] = rec.body_html
    return row


def _same(db, old: tuple, rec: ArticleRecord, digest: str, has_html: bool) -> bool:
    _, _, _, title, old_digest, section, url = old
    if (old_digest, section, url) != (digest, rec.section, rec.url) or title != rec.title:
        return False
    if not has_html:
        return True
    return articles.body_html(db, old[0]) == rec.body_html
