"""Customer data stays with the person at this desk: private folders (0700) and files (0600).

The database holds customers' messages, payment references and attachments, and the log may name
tickets; on a multi-user machine a 0644 file in a 0755 folder lets every local account read them.
The process umask is not ours to trust (it is usually 022), so every mode here is set explicitly,
on creation and again at each start: a folder or file that was made readable by others (an old
version, a copy, ``cp -r``) is put back and the fix is noted for ``diagnostics``.

Only what belongs to Agent Assist is changed: the folders it creates or its own platform folders,
and its own files. A folder the person chose for ``--db`` is left as it is (it may be their home
or a project folder); the database file in it is still made private. A file owned by someone else
(a shared team file) cannot be changed and is reported, never an error: opening must not fail
over a permission bit. On Windows the POSIX bits mean little, so nothing is changed there.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
# SQLite's companions of a database file: the write-ahead log, its shared-memory index and the
# rollback journal. SQLite gives them the database file's permission bits when it creates them.
DB_COMPANIONS = ("-wal", "-shm", "-journal")

_fixes: list[str] = []
_fixes_lock = threading.Lock()


def applies() -> bool:
    """Whether POSIX permission bits mean anything here."""
    return os.name == "posix"


def _note_fix(what: str) -> None:
    with _fixes_lock:
        if what not in _fixes:
            _fixes.append(what)
    log.info("made private: %s", what)  # diagnostics lists these; not worth a warning at every start


def fixes_made() -> list[str]:
    """What this process found readable by others and made private (for ``diagnostics``)."""
    with _fixes_lock:
        return list(_fixes)


def _mode(st: os.stat_result) -> int:
    return stat.S_IMODE(st.st_mode)


def _chmod(path: Path, mode: int, label: str, *, is_dir: bool) -> None:
    """Take away the bits ``mode`` lacks (group and others) from ``path``, not following a symlink;
    never add any: a file the person made read-only stays read-only. Notes a change."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        log.warning("cannot check the permissions of %s: %s", path, exc.strerror or exc)
        return
    if (stat.S_ISDIR(st.st_mode) if is_dir else stat.S_ISREG(st.st_mode)) is False:
        return  # a symlink, socket or device is not ours to change
    old = _mode(st)
    mode = old & mode
    if old == mode:
        return
    try:
        os.chmod(path, mode)
    except OSError as exc:
        log.warning("cannot make %s private (%s): %s", path, f"{old:o}", exc.strerror or exc)
        return
    _note_fix(f"{label} {path} was {old:o}, now {mode:o}")


def private_dir(path: str | os.PathLike[str], *, label: str = "folder", fix_existing: bool = True) -> Path:
    """Create ``path`` (and missing parents) as private folders; make an existing one private
    unless ``fix_existing`` is False (a folder the person chose). Returns the path."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if not applies():
        return path
    # mkdir's mode passes through the umask and parents get the default: set each one we made
    for made in missing:
        _chmod(made, DIR_MODE, label, is_dir=True)
    if fix_existing and path not in missing:
        _chmod(path, DIR_MODE, label, is_dir=True)
    return path


def private_file(path: str | os.PathLike[str], *, label: str = "file") -> None:
    """Make an existing regular file private (0600); a missing one is left alone."""
    if applies():
        _chmod(Path(path), FILE_MODE, label, is_dir=False)


def create_private_file(path: str | os.PathLike[str]) -> None:
    """Create an empty file with mode 0600 when it does not exist yet, so no other account can
    open it in the moment between its creation and a chmod."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    except FileExistsError:
        return
    try:
        if applies():
            os.fchmod(fd, FILE_MODE)  # the umask may have taken bits away, never adds; be explicit
    finally:
        os.close(fd)


def own_folders() -> list[Path]:
    """Agent Assist's own platform folders (data, log): always made private."""
    from agent_assist import config  # paths only; config imports nothing of ours

    return [config.data_dir(), config.log_dir()]


def secure_own_folders() -> None:
    """At start: Agent Assist's data and log folders (when they exist) and the files directly in
    them (databases, their -wal/-shm, logs) are private again, whatever an older version or a copy
    left. Files elsewhere are not touched."""
    if not applies():
        return
    for label, folder in zip(("data folder", "log folder"), own_folders(), strict=True):
        if not folder.is_dir():
            continue
        private_dir(folder, label=label)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                private_file(entry.path, label="file")


def prepare_database(path: str | os.PathLike[str], *, own: Iterable[Path] | None = None) -> None:
    """Before SQLite opens ``path``: its folder exists (private when Agent Assist makes it or it
    is one of its own folders) and a new database file starts life as an empty 0600 file."""
    path = Path(path)
    own = {Path(p).resolve() for p in (own_folders() if own is None else own)}
    parent = path.parent
    private_dir(parent, label="data folder", fix_existing=parent.resolve() in own if parent.exists() else True)
    if not path.exists():
        try:
            create_private_file(path)
        except OSError as exc:  # e.g. a read-only folder: SQLite's own open then says what is wrong
            log.warning("cannot create %s as a private file: %s", path, exc.strerror or exc)


def secure_database(path: str | os.PathLike[str]) -> None:
    """After SQLite opened ``path``: the file and its ``-wal``/``-shm``/``-journal`` are 0600."""
    path = Path(path)
    private_file(path, label="database")
    for suffix in DB_COMPANIONS:
        private_file(path.with_name(path.name + suffix), label="database")


def describe(paths: Iterable[tuple[str, Path]]) -> str:
    """One line for ``diagnostics``: whether these folders and the files in them are private,
    and what was fixed at this start."""
    if not applies():
        return "not checked on this platform"
    open_to_others: list[str] = []
    for label, folder in paths:
        folder = Path(folder)
        try:
            st = os.lstat(folder)
        except OSError:
            continue
        if _mode(st) & 0o077:
            open_to_others.append(f"{label} {_mode(st):o}")
        if not stat.S_ISDIR(st.st_mode):
            continue
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                est = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(est.st_mode) and _mode(est) & 0o077:
                open_to_others.append(f"{entry.name} {_mode(est):o}")
    parts = [f"readable by others: {', '.join(open_to_others)}" if open_to_others
             else "private (folders 700, files 600)"]
    fixed = fixes_made()
    if fixed:
        parts.append(f"fixed at start: {len(fixed)} ({'; '.join(fixed)})")
    return "; ".join(parts)
