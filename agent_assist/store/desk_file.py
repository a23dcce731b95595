"""A small JSON file of this desk's own (replies kept while the database was away, replies held for undo).

Written atomically (a temporary file, fsync, ``os.replace``) with mode 0600 in a private folder: it
holds customers' conversations as much as the database does. A damaged file is set aside as
``NAME.damaged`` and read as empty, never fatal. Callers serialise access with their own lock.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from agent_assist.store import private_files

log = logging.getLogger(__name__)


def read_entries(path: Path, key: str) -> list[dict[str, Any]]:
    """The list stored under ``key`` (empty when the file is missing, unreadable or damaged)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("Could not read %s: %s", path, exc)
        return []
    try:
        entries = json.loads(raw)[key]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise TypeError(f"{key} is not a list of objects")
        return entries
    except (ValueError, KeyError, TypeError) as exc:
        set_aside(path, exc)
        return []


def set_aside(path: Path, why: BaseException) -> None:
    aside = path.with_name(path.name + ".damaged")
    log.warning("%s is damaged (%s); it was moved to %s", path, why, aside)
    try:
        os.replace(path, aside)
    except OSError:
        pass


def write_entries(path: Path, key: str, entries: list[dict[str, Any]]) -> None:
    """Replace the file with ``entries`` (removing it when there are none); raises OSError."""
    if not entries:
        path.unlink(missing_ok=True)
        return
    private_files.private_dir(path.parent, fix_existing=False)
    tmp = path.with_name(path.name + ".tmp")
    private_files.create_private_file(tmp)
    private_files.private_file(tmp)  # a leftover from a crash keeps no wider mode
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({key: entries}, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
