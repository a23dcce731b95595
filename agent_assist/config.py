"""Where things live on disk, and who the current user is.

Paths follow the platform's conventions (platformdirs); the database can be
overridden with ``--db PATH`` or the ``AGENT_ASSIST_DB`` environment variable.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from platformdirs import PlatformDirs

from agent_assist import APP_ID

DB_ENV = "AGENT_ASSIST_DB"
USER_ENV = "AGENT_ASSIST_USER"

_dirs = PlatformDirs(APP_ID, appauthor=False)


def data_dir() -> Path:
    return Path(_dirs.user_data_dir)


def config_dir() -> Path:
    return Path(_dirs.user_config_dir)


def log_dir() -> Path:
    return Path(_dirs.user_log_dir)


def default_db_path() -> Path:
    return data_dir() / "agent-assist.db"


def resolve_db_path(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """The database to open: ``--db`` wins, then the environment, then the data dir."""
    if cli_value:
        return Path(cli_value).expanduser()
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return default_db_path()


def current_user(cli_value: str | None = None) -> str:
    """The agent handle actions are attributed to."""
    if cli_value:
        return cli_value.strip()
    env = os.environ.get(USER_ENV)
    if env:
        return env.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "agent"
