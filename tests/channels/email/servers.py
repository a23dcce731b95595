"""Real mail servers for the e-mail channel's tests and benchmark.

:class:`Dovecot` runs Dovecot's IMAP server on 127.0.0.1 from a throwaway config: one
passwd-file user, Maildir storage, a free port, plaintext login allowed (loopback only). It
runs "rootless" (every Dovecot process as one unprivileged user): as a normal user that is the
user itself; as root it is ``nobody``, with its files in a private temporary folder that
``nobody`` owns (pytest's own temporary folders are closed to other users).

:class:`SmtpSink` is an aiosmtpd server in this process that records what it receives and
can be told to accept, to refuse temporarily (4xx) or for good (5xx), to cut the connection
after the message was sent, or to file each accepted message into an IMAP folder itself
(as Gmail or Microsoft 365 do with mail sent through them).
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

IMAP_USER, IMAP_PASSWORD = "agent", "s3cret-pass"
DOVECOT_CANDIDATES = ("dovecot", "/usr/sbin/dovecot", "/usr/local/sbin/dovecot")


def dovecot_binary() -> str | None:
    for name in DOVECOT_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def make_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate for 127.0.0.1 (openssl CLI); None when openssl is missing."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_CONFIG = """\
# throwaway Dovecot for tests: loopback only, plaintext login allowed, one user
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{base}/mail/%u:LAYOUT=fs
mail_fsync = never
maildir_very_dirty_syncs = yes
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = home={base}/mail/%u
}}
protocol imap {{
  mail_max_userip_connections = 50
  imap_idle_notify_interval = 1 secs
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
"""


class Dovecot:
    """A private Dovecot IMAP server. ``start()``/``stop()``, or use as a context manager."""

    def __init__(self, workdir: Path, *, user: str = IMAP_USER, password: str = IMAP_PASSWORD,
                 certificate: tuple[Path, Path] | None = None):
        binary = dovecot_binary()
        if binary is None:
            raise FileNotFoundError("dovecot is not installed (run packaging/mail-test-servers.sh)")
        self.binary = binary
        self.user, self.password = user, password
        self.host = "127.0.0.1"
        self.port = 0
        self.imaps_port = 0  # implicit TLS, when started with a certificate
        self.certificate = certificate
        self._own_tmp: Path | None = None
        if os.geteuid() == 0:
            # root: run everything as nobody, in a folder nobody can reach
            self.run_as = pwd.getpwnam("nobody")
            self.run_group = grp.getgrgid(self.run_as.pw_gid)
            self.base = Path(tempfile.mkdtemp(prefix="agent-assist-dovecot-"))
            self._own_tmp = self.base
        else:
            self.run_as = pwd.getpwuid(os.getuid())
            self.run_group = grp.getgrgid(os.getgid())
            self.base = Path(workdir) / "dovecot"
        self.proc: subprocess.Popen | None = None

    # -- life cycle -------------------------------------------------------------------------------
    @property
    def maildir(self) -> Path:
        return self.base / "mail" / self.user

    def folder_path(self, folder: str) -> Path:
        return self.maildir if folder.upper() == "INBOX" else self.maildir / "mail" / folder

    def _prepare(self) -> None:
        for sub in ("run", "state", "mail"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        self.port = self.port or free_port()  # a restart keeps its port
        ssl = "ssl = no"
        if self.certificate:
            cert, key = (self.base / "cert.pem", self.base / "key.pem")
            shutil.copy(self.certificate[0], cert)
            shutil.copy(self.certificate[1], key)
            self.imaps_port = self.imaps_port or free_port()
            ssl = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}"
        (self.base / "dovecot.conf").write_text(_CONFIG.format(
            base=self.base, user=self.run_as.pw_name, group=self.run_group.gr_name, port=self.port,
            imaps_port=self.imaps_port, ssl=ssl))
        self.chown()

    def chown(self, path: Path | None = None) -> None:
        """Give files written by the tests (as root) to the user Dovecot runs as."""
        if os.geteuid() != 0:
            return
        uid, gid = self.run_as.pw_uid, self.run_group.gr_gid
        root = path or self.base
        os.chown(root, uid, gid)
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                with contextlib.suppress(FileNotFoundError):
                    os.chown(os.path.join(dirpath, name), uid, gid)

    def start(self, timeout: float = 15.0) -> Dovecot:
        self._prepare()
        kwargs = {}
        if os.geteuid() == 0:
            kwargs = {"user": self.run_as.pw_uid, "group": self.run_group.gr_gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.base)}
        # its own process group: stop() ends the master and every child it left behind
        self.proc = subprocess.Popen([self.binary, "-F", "-c", str(self.base / "dovecot.conf")],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True, **kwargs)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited at start:\n{self._output()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not start in {timeout} s:\n{self._output()}")

    def _output(self) -> str:
        log = self.base / "dovecot.log"
        text = log.read_text(errors="replace")[-4000:] if log.exists() else ""
        if self.proc is not None and self.proc.poll() is not None and self.proc.stdout:
            text += self.proc.stdout.read().decode(errors="replace")[-4000:]
        return text

    def stop(self) -> None:
        """Stop the server and drop every client connection (as a crashing server would)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        group = proc.pid  # start_new_session: the group id is the master's pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)  # imap processes that outlived their master
        if proc.stdout:
            proc.stdout.close()

    def restart(self) -> None:
        """Stop and start on the same storage and port."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._own_tmp is not None:
            shutil.rmtree(self._own_tmp, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # -- helpers for tests ------------------------------------------------------------------------
    def client(self) -> imaplib.IMAP4:
        m = imaplib.IMAP4(self.host, self.port, timeout=30)
        m.login(self.user, self.password)
        return m

    @contextlib.contextmanager
    def session(self):
        m = self.client()
        try:
            yield m
        finally:
            with contextlib.suppress(Exception):
                m.logout()

    def create_folder(self, folder: str) -> None:
        with self.session() as m:
            typ, data = m.create(f'"{folder}"')
            assert typ == "OK" or b"exists" in b" ".join(data).lower(), data

    def delete_folder(self, folder: str) -> None:
        with self.session() as m:
            m.delete(f'"{folder}"')

    def append(self, raw: bytes | list[bytes], folder: str = "INBOX", flags: str = "") -> None:
        items = raw if isinstance(raw, list) else [raw]
        with self.session() as m:
            for item in items:
                typ, data = m.append(f'"{folder}"', flags or None, None, item)
                assert typ == "OK", data

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.session() as m:
            m.select(f'"{folder}"', readonly=True)
            value = int(m.response("UIDVALIDITY")[1][-1])
            return value

    def search_header(self, folder: str, header: str, value: str) -> list[int]:
        with self.session() as m:
            m.select(f'"{folder}"', readonly=True)
            typ, data = m.uid("SEARCH", "HEADER", header, f'"{value}"')
        return [int(x) for x in (data[0] or b"").split()]

    def flags(self, folder: str = "INBOX") -> list[str]:
        with self.session() as m:
            m.select(f'"{folder}"', readonly=True)
            typ, data = m.fetch("1:*", "(FLAGS)")
        return [d.decode() for d in data if d]

    def count(self, folder: str = "INBOX") -> int:
        with self.session() as m:
            typ, data = m.select(f'"{folder}"', readonly=True)
        return int(data[0])

    def write_maildir(self, messages: list[bytes], folder: str = "INBOX") -> None:
        """Drop messages straight into the Maildir (fast bulk loading; Dovecot indexes them on access)."""
        target = self.folder_path(folder)
        for sub in ("new", "cur", "tmp"):
            (target / sub).mkdir(parents=True, exist_ok=True)
        stamp = int(time.time())
        new = target / "new"
        for i, raw in enumerate(messages):
            (new / f"{stamp}.M{i}P{os.getpid()}.agent-assist-bench,S={len(raw)}").write_bytes(raw)
        self.chown(self.base / "mail")


# -- SMTP ---------------------------------------------------------------------------------------------
@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class SmtpBehaviour:
    mode: str = "accept"  # accept | tempfail | permfail | drop_after_data
    rcpt_refuse: dict[str, str] = field(default_factory=dict)  # address -> "550 No such user"
    file_into: tuple[Dovecot, str] | None = None  # file each accepted message into (server, folder)
    deliver_local: tuple[Dovecot, str] | None = None  # (server, address): mail to address lands in its INBOX


class SmtpSink:
    """aiosmtpd on 127.0.0.1 in a thread; records each accepted message in ``received``."""

    def __init__(self, *, user: str | None = None, password: str | None = None, tls: str = "none",
                 certificate: tuple[Path, Path] | None = None):
        self.tls = tls  # none | starttls | tls
        self.certificate = certificate
        self.behaviour = SmtpBehaviour()
        self.received: list[Received] = []
        self.attempts = 0
        self.user, self.password = user, password
        self.host = "127.0.0.1"
        self.port = 0
        self._controller = None
        self.lock = threading.Lock()

    def start(self) -> SmtpSink:
        import logging

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                refusal = sink.behaviour.rcpt_refuse.get(address)
                if refusal:
                    return refusal
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                sink.attempts += 1
                mode = sink.behaviour.mode
                if mode == "tempfail":
                    return "451 4.3.0 Try again later"
                if mode == "permfail":
                    return "554 5.6.0 Message refused"
                message = Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content or
                                                                                      envelope.content))
                with sink.lock:
                    sink.received.append(message)
                if sink.behaviour.file_into:
                    server_, folder = sink.behaviour.file_into
                    server_.append(message.data, folder=folder, flags="(\\Seen)")
                if sink.behaviour.deliver_local:
                    server_, address = sink.behaviour.deliver_local
                    if address in message.rcpt_tos:
                        server_.append(message.data, folder="INBOX")
                if mode == "drop_after_data":  # accepted, but the answer never reaches the client
                    session.transport.abort() if hasattr(session, "transport") and session.transport else None
                    server.transport.abort()
                    return "250 OK (never seen)"
                return "250 2.0.0 OK queued"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == sink.user
                  and auth_data.password.decode() == sink.password)
            return AuthResult(success=ok, handled=False)

        logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's own deprecation chatter
        kwargs = {}
        if self.user is not None:
            kwargs = {"authenticator": authenticator, "auth_require_tls": False}
        if self.tls != "none":
            import ssl

            assert self.certificate is not None
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*self.certificate)
            kwargs["ssl_context" if self.tls == "tls" else "tls_context"] = ctx
        self.port = free_port()
        self._controller = Controller(Handler(), hostname=self.host, port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
