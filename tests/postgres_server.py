"""A real PostgreSQL server for the tests: ``initdb`` + ``pg_ctl`` into a throwaway folder.

:class:`PostgresServer` creates a fresh cluster in a private temporary folder, listens on
127.0.0.1 on a free port (and on a unix socket in that folder, nowhere else), and is stopped and
deleted at the end. Its superuser logs in with a random password over TCP (scram-sha-256, as a
real team server would ask); people created by the tests log in the same way.

PostgreSQL refuses to run as root. As root the cluster belongs to an unprivileged user (Debian's
``postgres`` when the package created it, else ``nobody``) and lives in a folder that user owns
(pytest's own temporary folders are closed to other users); otherwise it runs as the user itself.

The session fixture ``postgres_server`` (imported by ``tests/conftest.py``) skips only when no
PostgreSQL server is installed at all; ``packaging/postgres-test-server.sh`` installs it, and CI
runs that script.
"""

from __future__ import annotations

import contextlib
import glob
import grp
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest

SUPERUSER = "postgres"
PATH_CANDIDATES = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/opt/homebrew/opt/postgresql*/bin")


def postgres_bindir() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl``: Debian keeps them off PATH, in a versioned folder."""
    found: list[Path] = []
    for pattern in PATH_CANDIDATES:
        found += [Path(p) for p in glob.glob(pattern) if (Path(p) / "initdb").exists()]
    if found:
        def version(p: Path) -> tuple[int, ...]:
            digits = "".join(c if c.isdigit() else " " for c in str(p))
            return tuple(int(x) for x in digits.split()) or (0,)
        return max(found, key=version)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _url(user: str, password: str, host: str, port: int, dbname: str) -> str:
    return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{quote(dbname, safe='')}"


class PostgresServer:
    """A private PostgreSQL cluster. ``start()``/``stop()``, or use as a context manager."""

    def __init__(self, bindir: Path | None = None, *, max_connections: int = 60):
        found = bindir or postgres_bindir()
        if found is None:
            raise FileNotFoundError("PostgreSQL is not installed (run packaging/postgres-test-server.sh)")
        self.bindir = found
        self.max_connections = max_connections
        self.host = "127.0.0.1"
        self.port = 0
        self.superuser = SUPERUSER
        self.password = secrets.token_urlsafe(18)
        if os.geteuid() == 0:
            try:
                self.run_as = pwd.getpwnam("postgres")
            except KeyError:
                self.run_as = pwd.getpwnam("nobody")
        else:
            self.run_as = pwd.getpwuid(os.getuid())
        self.run_group = grp.getgrgid(self.run_as.pw_gid)
        self.base = Path(tempfile.mkdtemp(prefix="agent-assist-postgres-"))
        self.data = self.base / "data"
        self.socket_dir = self.base / "run"
        self.log = self.base / "server.log"
        self.started = False

    # -- life cycle -------------------------------------------------------------------------------
    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        kwargs: dict = {}
        if os.geteuid() == 0:
            kwargs = {"user": self.run_as.pw_uid, "group": self.run_group.gr_gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.base), "LC_ALL": "C.UTF-8",
               "TZ": "UTC"}
        return subprocess.run(args, capture_output=True, text=True, env=env, cwd=self.base, check=check,
                              timeout=timeout, **kwargs)

    def start(self) -> PostgresServer:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            for path in (self.base, self.socket_dir, pwfile):
                os.chown(path, self.run_as.pw_uid, self.run_group.gr_gid)
        os.chmod(self.base, 0o700)
        try:
            self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.superuser,
                      f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                      "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"initdb failed:\n{exc.stdout}\n{exc.stderr}") from exc
        finally:
            pwfile.unlink(missing_ok=True)
        self.port = free_port()
        return self.resume()

    def resume(self) -> PostgresServer:
        """Start the cluster (again, after :meth:`stop`) on the same port with the same data."""
        # a throwaway cluster: durability traded for speed; loopback and the private socket only
        options = (f"-c listen_addresses={self.host} -p {self.port} -c unix_socket_directories={self.socket_dir} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   f"-c max_connections={self.max_connections}")
        result = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                           "-t", "60", "-o", options, "start", check=False)
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed:\n{result.stdout}\n{result.stderr}\n{self._log_tail()}")
        self.started = True
        return self

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-4000:]
        return ""

    def stop(self) -> None:
        if self.started:
            self.started = False
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # -- helpers for tests ------------------------------------------------------------------------
    def url(self, dbname: str = "postgres", *, user: str | None = None, password: str | None = None) -> str:
        """A ``postgresql://`` URL over TCP; the superuser's when no user is given."""
        if user is None:
            user, password = self.superuser, self.password
        return _url(user, password or "", self.host, self.port, dbname)

    def create_database(self, prefix: str = "team") -> str:
        """A new, empty database with a unique name; returns the name."""
        import psycopg

        name = f"{prefix}_{secrets.token_hex(4)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL cluster for the whole test session, stopped and deleted at its end."""
    if postgres_bindir() is None:
        pytest.skip("PostgreSQL is not installed: run packaging/postgres-test-server.sh "
                    "(apt-get install postgresql)")
    server = PostgresServer()
    try:
        server.start()
    except BaseException:
        server.cleanup()
        raise
    yield server
    server.cleanup()
