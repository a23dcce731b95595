"""Where things live on disk, and who the current user is.

Paths follow the platform's conventions (platformdirs). One rule, shared by the
app and every command, says which database is used: ``--db PATH``, else the
``AGENT_ASSIST_DB`` environment variable, else the database last opened (by the
app or ``agent-assist demo``), else ``agent-assist.db`` in the data folder. The
window alone also remembers the team server it last signed in to (``last_team``):
it starts there unless a database is named or a desk's own file was opened since.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import PlatformDirs

from agent_assist import APP_ID

DB_ENV = "AGENT_ASSIST_DB"
LAST_DB_FILE = "last-database"  # in the state folder: the path of the database last opened
LAST_TEAM_FILE = "last-team-server"  # in the state folder: the team server the app last signed in to
USER_ENV = "AGENT_ASSIST_USER"

_dirs = PlatformDirs(APP_ID, appauthor=False)


def data_dir() -> Path:
    return Path(_dirs.user_data_dir)


def config_dir() -> Path:
    return Path(_dirs.user_config_dir)


def log_dir() -> Path:
    return Path(_dirs.user_log_dir)


def state_dir() -> Path:
    return Path(_dirs.user_state_dir)


def default_db_path() -> Path:
    return data_dir() / "agent-assist.db"


@dataclass(frozen=True)
class DbChoice:
    """Which database is used, and why (``reason`` completes "chosen by …")."""

    path: Path
    reason: str
    explicit: bool  # named by the person (--db or the environment), not found by the app

    def describe(self) -> str:
        return f"{self.path} ({self.reason})"


def choose_db(cli_value: str | os.PathLike[str] | None = None) -> DbChoice:
    """The database to use: ``--db``, then ``$AGENT_ASSIST_DB``, then the one last opened, then the default."""
    if cli_value:
        return DbChoice(Path(cli_value).expanduser(), "--db", True)
    env = os.environ.get(DB_ENV)
    if env:
        return DbChoice(Path(env).expanduser(), f"${DB_ENV}", True)
    last = last_db()
    if last is not None:
        return DbChoice(last, "the database last opened", False)
    return DbChoice(default_db_path(), "the default", False)


def resolve_db_path(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """The path of :func:`choose_db`."""
    return choose_db(cli_value).path


def last_db() -> Path | None:
    """The database the app or ``demo`` last opened, while that file still exists."""
    try:
        text = (state_dir() / LAST_DB_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text:
        return None
    path = Path(text)
    return path if path.is_file() else None


def remember_db(path: str | os.PathLike[str]) -> None:
    """Note ``path`` as the database last opened (the app opens it next, not a team server); a state
    folder that cannot be written is no error."""
    _write_state(LAST_DB_FILE, str(Path(path).expanduser().resolve()))
    forget_team()


def last_team() -> str | None:
    """The team server (``postgresql://login@host:port/db``, no password) the app signed in to last,
    unless a desk's own file was opened since; the app starts on it when nothing else is named."""
    try:
        text = (state_dir() / LAST_TEAM_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if text.lower().startswith(("postgresql://", "postgres://")) else None


def remember_team(url: str) -> None:
    """Start on this team server next time (the caller has taken any password out of ``url``)."""
    _write_state(LAST_TEAM_FILE, url.strip())


def forget_team() -> None:
    """Start on this desk's own database file next time."""
    try:
        (state_dir() / LAST_TEAM_FILE).unlink(missing_ok=True)
    except OSError:
        pass


def _write_state(name: str, text: str) -> None:
    target = state_dir() / name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        pass


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
