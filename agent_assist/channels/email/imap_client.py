"""A small IMAP client over the stdlib's ``imaplib``: TLS modes, folder names, UID FETCH in
batches, Message-ID search, APPEND, and the IDLE exchange ``imaplib`` lacks (before 3.14).

``imaplib`` reads through a buffered ``socket.makefile`` that cannot survive a read timeout
and hides what it has buffered, so IDLE could neither wake up to check a stop flag nor know
whether a server line is already waiting. Here the connection reads through
:class:`_Reader`, a buffer of our own over the socket: a timeout loses nothing, and IDLE
polls the socket once a second for the stop event.
"""

from __future__ import annotations

import base64
import imaplib
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from agent_assist.channels.email.config import MailboxConfig, is_loopback
from agent_assist.timefmt import to_iso

MAX_LINE = 1_000_000  # the longest protocol line accepted (as imaplib)
IDLE_REISSUE_S = 29 * 60  # RFC 2177: servers may drop an IDLE after 30 minutes


class ImapError(Exception):
    """The server refused something (NO/BAD); ``str()`` says what."""


class AuthError(ImapError):
    """Login refused: wrong user name or password, or the account is locked."""


class FolderMissing(ImapError):
    pass


class ConnectionLost(ConnectionError):
    """The connection dropped or the server said BYE."""


# -- folder names: IMAP's modified UTF-7, quoted ----------------------------------------------------
def encode_folder(name: str) -> str:
    """``"Gesendete Elemente/Übersicht"`` -> ``"Gesendete Elemente/&ANw-bersicht"`` (RFC 3501 5.1.3)."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            b64 = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + b64.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def uid_set(uids: Iterable[int]) -> str:
    """``[1, 2, 3, 7, 9, 10]`` -> ``"1:3,7,9:10"``."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}")
        i = j + 1
    return ",".join(parts)


# -- a reader that survives timeouts ---------------------------------------------------------------
class _Reader:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(256 * 1024)
        if not data:
            return False
        self.buf += data
        return True

    def readline(self, limit: int) -> bytes:
        start = 0
        while True:
            i = self.buf.find(b"\n", start)
            if i >= 0:
                line = bytes(self.buf[: i + 1])
                del self.buf[: i + 1]
                return line
            if len(self.buf) > limit:
                line = bytes(self.buf[: limit + 1])
                del self.buf[: limit + 1]
                return line
            start = len(self.buf)
            if not self._fill():  # EOF: whatever is left
                line = bytes(self.buf)
                self.buf.clear()
                return line

    def read(self, n: int) -> bytes:
        if len(self.buf) >= n:
            data = bytes(self.buf[:n])
            del self.buf[:n]
            return data
        out = bytearray(n)
        have = len(self.buf)
        out[:have] = self.buf
        self.buf.clear()
        view = memoryview(out)
        while have < n:
            got = self.sock.recv_into(view[have:], min(n - have, 1 << 20))
            if not got:
                break
            have += got
        return bytes(out[:have]) if have < n else bytes(out)


class _ReaderMixin:
    sock: socket.socket

    def _rd(self) -> _Reader:
        reader = getattr(self, "_reader", None)
        if reader is None or reader.sock is not self.sock:  # a new socket after STARTTLS: old bytes dropped
            reader = self._reader = _Reader(self.sock)
        return reader

    def readline(self) -> bytes:
        line = self._rd().readline(MAX_LINE)
        if len(line) > MAX_LINE:
            raise imaplib.IMAP4.error(f"got more than {MAX_LINE} bytes in one line")
        return line

    def read(self, size: int) -> bytes:
        return self._rd().read(size)


class _Plain(_ReaderMixin, imaplib.IMAP4):
    pass


class _TLS(_ReaderMixin, imaplib.IMAP4_SSL):
    pass


# -- the connection ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FolderStatus:
    folder: str
    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass(frozen=True)
class Fetched:
    uid: int
    raw: bytes
    internaldate: str | None  # ISO 8601 UTC: when the server received it


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                        "nov", "dec"), start=1)}
_INTERNALDATE = re.compile(
    rb'INTERNALDATE "\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"')
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_NEW_FETCH = re.compile(rb"^\d+ \(")


def _internaldate(meta: bytes) -> str | None:
    m = _INTERNALDATE.search(meta)
    if not m:
        return None
    day, mon, year, hh, mm, ss, sign, oh, om = m.groups()
    try:
        offset = timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == b"+" else -1)
        dt = datetime(int(year), _MONTHS[mon.decode().lower()], int(day), int(hh), int(mm), int(ss),
                      tzinfo=timezone(offset))
    except (KeyError, ValueError):
        return None
    return to_iso(dt)


def _records(data: list) -> Iterator[tuple[bytes, bytes | None]]:
    """(metadata, literal) per FETCH response; imaplib splits a response around its literal."""
    i = 0
    while i < len(data):
        item = data[i]
        if isinstance(item, tuple):
            meta, literal = item[0], item[1]
            if i + 1 < len(data) and isinstance(data[i + 1], bytes) and not _NEW_FETCH.match(data[i + 1]):
                meta += b" " + data[i + 1]
                i += 1
            yield meta, literal
        elif isinstance(item, bytes):
            yield item, None
        i += 1


class ImapConnection:
    """One logged-in IMAP session. Use as a context manager; ``close()`` is idempotent."""

    def __init__(self, imap: imaplib.IMAP4, mailbox: MailboxConfig):
        self.imap = imap
        self.mailbox = mailbox
        self.selected: str | None = None
        self._tags = 0

    # -- opening ----------------------------------------------------------------------------------
    @classmethod
    def open(cls, mailbox: MailboxConfig, password: str | None, *, timeout: float = 60.0) -> ImapConnection:
        mode = mailbox.imap_tls
        if mode not in ("tls", "starttls", "none"):
            raise ValueError(f"unknown IMAP encryption {mode!r}")
        if mode == "none" and not is_loopback(mailbox.imap_host):
            raise ValueError("IMAP without encryption is only allowed to this computer (127.0.0.1).")
        try:
            if mode == "tls":
                imap: imaplib.IMAP4 = _TLS(mailbox.imap_host, mailbox.imap_port, ssl_context=mailbox.ssl_context(),
                                           timeout=timeout)
            else:
                imap = _Plain(mailbox.imap_host, mailbox.imap_port, timeout=timeout)
                if mode == "starttls":
                    imap.starttls(mailbox.ssl_context())
        except imaplib.IMAP4.error as exc:
            raise ConnectionLost(f"The IMAP server {mailbox.imap_host} did not answer as expected ({exc}).") from exc
        conn = cls(imap, mailbox)
        try:
            conn._login(password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def _login(self, password: str) -> None:
        user = self.mailbox.imap_user
        try:
            if password.isascii() and user.isascii():
                self.imap.login(user, password)
            else:  # imaplib's LOGIN is ASCII only; SASL PLAIN carries UTF-8
                token = f"\0{user}\0{password}".encode()
                self.imap.authenticate("PLAIN", lambda _challenge: token)
        except imaplib.IMAP4.abort as exc:
            raise ConnectionLost(str(exc)) from exc
        except imaplib.IMAP4.error as exc:
            raise AuthError(f"The IMAP server refused the login for {user}: {_text(exc)}") from exc
        # servers may offer more after login (IDLE among them)
        try:
            typ, data = self.imap.capability()
        except imaplib.IMAP4.abort as exc:
            raise ConnectionLost(str(exc)) from exc
        if typ == "OK" and data and isinstance(data[-1], bytes):
            self.imap.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())

    def __enter__(self) -> ImapConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        imap, self.imap = self.imap, None  # type: ignore[assignment]
        if imap is None:
            return
        try:
            sock = imap.sock
            sock.settimeout(5)
            imap.logout()
        except Exception:  # noqa: BLE001 - closing a dead connection is not an error
            try:
                imap.shutdown()
            except Exception:  # noqa: BLE001
                pass

    def abort(self) -> None:
        """Cut the connection from another thread (a blocked read returns at once)."""
        imap = self.imap
        if imap is not None:
            try:
                imap.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def capabilities(self) -> tuple[str, ...]:
        return tuple(self.imap.capabilities)

    # -- commands -----------------------------------------------------------------------------------
    def _check(self, typ: str, data: list, what: str) -> list:
        if typ != "OK":
            raise ImapError(f"{what} failed: {_text(data)}")
        return data

    def examine(self, folder: str) -> FolderStatus:
        """Open a folder read-only (nothing we do can change flags) and return its UIDVALIDITY."""
        try:
            typ, data = self.imap.select(quote(encode_folder(folder)), readonly=True)
        except imaplib.IMAP4.abort as exc:
            raise ConnectionLost(str(exc)) from exc
        except imaplib.IMAP4.error as exc:
            raise FolderMissing(f"The folder {folder!r} cannot be opened: {_text(exc)}") from exc
        if typ != "OK":
            raise FolderMissing(f"The folder {folder!r} cannot be opened: {_text(data)}")
        self.selected = folder
        exists = int(data[0]) if data and data[0] and data[0].isdigit() else 0
        _, validity = self.imap.response("UIDVALIDITY")
        _, uidnext = self.imap.response("UIDNEXT")
        if not validity or validity[-1] is None:
            raise ImapError(f"The server gave no UIDVALIDITY for {folder!r}; it cannot be synced safely.")
        nxt = int(uidnext[-1]) if uidnext and uidnext[-1] else None
        for key in ("EXISTS", "RECENT", "EXPUNGE"):  # known now; later ones are news (pending_changes)
            self.imap.untagged_responses.pop(key, None)
        return FolderStatus(folder, int(validity[-1]), nxt, exists)

    def _uid(self, command: str, *args: str) -> list:
        try:
            typ, data = self.imap.uid(command, *args)
        except imaplib.IMAP4.abort as exc:
            raise ConnectionLost(str(exc)) from exc
        except imaplib.IMAP4.error as exc:
            raise ImapError(f"UID {command} failed: {_text(exc)}") from exc
        return self._check(typ, data, f"UID {command}")

    def list_uids(self, after_uid: int) -> list[tuple[int, int]]:
        """(UID, size) of every message with a UID above ``after_uid``, ascending."""
        data = self._uid("FETCH", f"{after_uid + 1}:*", "(UID RFC822.SIZE)")
        out = {}
        for meta, _ in _records(data):
            uid, size = _UID.search(meta or b""), _SIZE.search(meta or b"")
            if uid and int(uid.group(1)) > after_uid:
                out[int(uid.group(1))] = int(size.group(1)) if size else 0
        return sorted(out.items())

    def fetch_message_ids(self, uids: list[int]) -> dict[int, bytes]:
        """The raw Message-ID header of each UID (cheap: lets a resync skip known mail unread)."""
        if not uids:
            return {}
        data = self._uid("FETCH", uid_set(uids), "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        out = {}
        for meta, literal in _records(data):
            uid = _UID.search(meta or b"")
            if uid and literal is not None:
                out[int(uid.group(1))] = literal
        return out

    def fetch(self, uids: list[int], *, headers_only: bool = False) -> dict[int, Fetched]:
        """Whole messages (or their headers) by UID, without setting \\Seen (BODY.PEEK)."""
        if not uids:
            return {}
        part = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
        data = self._uid("FETCH", uid_set(uids), f"(UID INTERNALDATE {part})")
        out = {}
        for meta, literal in _records(data):
            uid = _UID.search(meta or b"")
            if uid and literal is not None:
                out[int(uid.group(1))] = Fetched(int(uid.group(1)), literal, _internaldate(meta))
        return out

    def search_message_id(self, folder: str, message_id: str) -> bool:
        """Is a message with this Message-ID in ``folder``? (SEARCH HEADER, read-only)"""
        self.examine(folder)
        data = self._uid("SEARCH", "HEADER", "Message-ID", quote(message_id))
        return any(chunk and chunk.split() for chunk in data if isinstance(chunk, bytes))

    def append(self, folder: str, raw: bytes, *, flags: str = r"(\Seen)") -> None:
        try:
            typ, data = self.imap.append(quote(encode_folder(folder)), flags,
                                         imaplib.Time2Internaldate(time.time()), raw)
        except imaplib.IMAP4.abort as exc:
            raise ConnectionLost(str(exc)) from exc
        except imaplib.IMAP4.error as exc:
            raise ImapError(f"Filing into {folder!r} failed: {_text(exc)}") from exc
        self._check(typ, data, f"Filing into {folder!r}")

    def noop(self) -> None:
        try:
            self.imap.noop()
        except imaplib.IMAP4.abort as exc:
            raise ConnectionLost(str(exc)) from exc

    # -- IDLE (RFC 2177) ------------------------------------------------------------------------------
    @property
    def can_idle(self) -> bool:
        return "IDLE" in self.capabilities

    def idle(self, stop: threading.Event, *, max_s: float = IDLE_REISSUE_S, poll_s: float = 1.0) -> str:
        """Wait in IDLE until the folder changes ("changed"), ``max_s`` passes ("timeout", re-issue it)
        or ``stop`` is set ("stopped"). Leaves the session ready for the next command."""
        imap = self.imap
        self._tags += 1
        tag = f"AAI{self._tags}".encode()
        sock = imap.sock
        reader = imap._rd()  # type: ignore[attr-defined]
        normal_timeout = sock.gettimeout()
        changed = False
        try:
            imap.send(tag + b" IDLE\r\n")
            while True:  # the continuation; untagged news may come first
                line = self._line(reader)
                if line.startswith(b"+"):
                    break
                if line.startswith(tag):
                    raise ImapError(f"The server refused IDLE: {line.decode('ascii', 'replace').strip()}")
                changed |= self._is_change(line)
            reason = "changed" if changed else "timeout"
            if not changed:
                deadline = time.monotonic() + max_s
                sock.settimeout(poll_s)
                while True:
                    if stop.is_set():
                        reason = "stopped"
                        break
                    if time.monotonic() >= deadline:
                        reason = "timeout"
                        break
                    try:
                        line = self._line(reader)
                    except TimeoutError:
                        continue
                    if self._is_change(line):
                        reason = "changed"
                        break
                sock.settimeout(normal_timeout)
            imap.send(b"DONE\r\n")
            while True:
                line = self._line(reader)
                if reason == "timeout" and self._is_change(line):  # arrived while we said DONE
                    reason = "changed"
                if line.startswith(tag + b" "):
                    status = line[len(tag) + 1:].split(b" ", 1)[0].upper()
                    if status != b"OK":
                        raise ImapError(f"IDLE ended badly: {line.decode('ascii', 'replace').strip()}")
                    return reason
        except (OSError, imaplib.IMAP4.error) as exc:
            if isinstance(exc, ImapError):
                raise
            raise ConnectionLost(f"The IMAP connection dropped during IDLE ({exc}).") from exc
        finally:
            try:
                sock.settimeout(normal_timeout)
            except OSError:
                pass

    def pending_changes(self) -> bool:
        """Did the server report new mail in a response we were not waiting for (e.g. during a
        FETCH)? Such news is not repeated when IDLE starts, so check before idling."""
        found = False
        for key in ("EXISTS", "RECENT", "EXPUNGE"):
            if self.imap.untagged_responses.pop(key, None):
                found = True
        return found

    @staticmethod
    def _line(reader: _Reader) -> bytes:
        line = reader.readline(MAX_LINE)
        if not line.endswith(b"\n"):
            raise ConnectionLost("The IMAP server closed the connection.")
        if line.startswith(b"* BYE"):
            raise ConnectionLost(f"The IMAP server ended the session: {line.decode('ascii', 'replace').strip()}")
        return line

    @staticmethod
    def _is_change(line: bytes) -> bool:
        parts = line.split()
        return len(parts) >= 3 and parts[0] == b"*" and parts[2].upper() in (b"EXISTS", b"RECENT", b"EXPUNGE")


def _text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        value = b" ".join(v if isinstance(v, bytes) else str(v).encode() for v in value if v is not None)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, BaseException):
        value = " ".join(str(a) if not isinstance(a, bytes) else a.decode("utf-8", "replace") for a in value.args)
    return str(value).strip() or "no reason given"
