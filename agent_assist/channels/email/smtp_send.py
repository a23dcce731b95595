"""Sending the outbox over SMTP, exactly once as far as SMTP allows — and honest where it does not.

The one window
--------------
SMTP has no idempotency key. The server commits to a message when it has read the final
``.`` of DATA and answers ``250``; we learn that only when the answer arrives. If this
process dies (or the connection drops) after the server committed and before the ``sent``
state is written, our own database cannot tell whether the reply went out. Re-sending
could duplicate it; not re-sending could lose it.

What is done about it
---------------------
1. Every state change is committed *before* the step it announces. ``sending`` is written
   before connecting; ``committing`` is written just before the final ``.`` is sent, after the
   whole message body is on the wire. A row found ``queued`` or ``sending`` after a crash is
   certain not to have been accepted (the server discards a DATA that never ended) and is simply
   sent. Only ``committing`` is ambiguous, and only for the milliseconds between the final ``.``
   and our commit of ``sent``.
2. After ``250`` the row is committed ``sent`` at once (a local commit, ~1 ms), and only then
   is the message APPENDed to the Sent folder (``filed``) — so a slow or failed APPEND never
   widens the window, and a failed APPEND is retried later without re-sending.
3. An ambiguous (``committing``) row is resolved on the next run by ``UID SEARCH HEADER
   Message-ID`` in the Sent folder (and the inbox, with ``bcc_self``): found means it went out
   (marked ``sent``, never re-sent). This closes the window for real only when the copy is
   made *by the server, in the same transaction that accepts the message*: providers that file
   SMTP submissions into Sent themselves (``server_files_sent``: Gmail, Microsoft 365, ...), or
   our own address as an extra envelope recipient (``bcc_self``). Our APPEND cannot close it —
   it necessarily happens after the ``250``, so a crash between the two leaves no copy.
4. Not found: with server-side copies configured, the search is trustworthy once the copy has
   had time to arrive (``unknown_grace_s``), and the row is sent again. Without them, "not found"
   proves nothing, so the row becomes ``unknown`` and waits for a person
   (:func:`outbox.resolve_unknown`) rather than risking a duplicate.

Several senders at once
-----------------------
Any number of senders (threads, processes, desks sharing the file, one of them through a symlink, or
desks of a team on one PostgreSQL server) may run at once; the database decides who sends a row. A
run *claims* each row before it touches it, with a conditional update in its own write transaction
(``WHERE state = 'queued'``, or "``claimed_by`` is still what was read" for a row in flight) that says
whether it won (:func:`agent_assist.store.mail.claim_queued`, :func:`~agent_assist.store.mail.take_over`;
on PostgreSQL the row is picked ``FOR UPDATE SKIP LOCKED``, so a desk never waits on another desk's
claim); a row another sender holds is left to it (``elsewhere``). Every later step of the row is written
only while the claim is still this run's (``WHERE claimed_by = <this run>``), above all
``committing``: a sender that lost its row never sends the final ``.``. A claim ends with the row's
turn in the run. One left by a dead sender (``<host>:<pid>:<nonce>``) is taken over at once when that
process is gone from this computer, otherwise after ``claim_timeout_s``, and goes through the crash
recovery above (the Sent-folder check before anything is sent again).

``committing`` and ``sent`` are committed with ``synchronous = FULL`` (:meth:`Store.transaction`
``durable=True``; every commit on a team server is durable): a power cut must not turn a ``committing``
row back into a ``sending`` one, which would be sent again without a look into Sent. The rows
themselves are read and written only through :mod:`agent_assist.store.mail`. In one process, one run at a time delivers a database
(the others return with ``busy``): not for correctness, only to save needless SMTP sessions.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import secrets
import smtplib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from agent_assist.channels.email.config import MailboxConfig, is_loopback
from agent_assist.channels.email.imap_client import FolderMissing, ImapConnection, ImapError
from agent_assist.store import mail
from agent_assist.store.backend import is_postgres
from agent_assist.store.database import Store
from agent_assist.store.errors import StoreError
from agent_assist.timefmt import now_iso, parse_iso, to_iso, utcnow

log = logging.getLogger(__name__)

ACTOR = "email"
RETRY_BASE_S = 60
RETRY_MAX_S = 3600
UNKNOWN_GRACE_S = 120
CLAIM_TIMEOUT_S = 900  # a claim older than this is a dead sender's (a live one renews it at each step)

Stage = Callable[[str, int], Any]  # (stage, outbox id): claimed | committing | accepted | sent | filed


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)  # found in Sent after a crash: not sent again
    retrying: list[tuple[int, str]] = field(default_factory=list)  # temporary failure; will retry
    failed: list[tuple[int, str]] = field(default_factory=list)  # refused for good; waits for a person
    unknown: list[int] = field(default_factory=list)  # may have gone out; waits for a person
    waiting: list[int] = field(default_factory=list)  # ambiguous, checked again on a later run
    filed: list[int] = field(default_factory=list)
    file_errors: list[tuple[int, str]] = field(default_factory=list)
    elsewhere: list[int] = field(default_factory=list)  # another sender holds these rows: left to it
    busy: bool = False  # another run in this process is delivering this database


class _Refused(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600


# -- who sends a row: claims in the database -------------------------------------------------------
_runs_lock = threading.Lock()
_runs: set[tuple[int, int]] = set()


@contextlib.contextmanager
def _one_run_in_this_process(store: Store) -> Iterator[bool]:
    """Yields False while another run of this process delivers the same database file (however it was
    named). Saves a second SMTP session; exactly once does not depend on it."""
    key: tuple[Any, ...]
    if is_postgres(store):  # one team database (as its description names it)
        key = ("team", str(store.path))
    else:
        try:
            st = os.stat(store.path)
            key = (st.st_dev, st.st_ino)
        except OSError:
            key = (-1, hash(str(Path(store.path).resolve())))
    with _runs_lock:
        mine = key not in _runs
        _runs.add(key)
    try:
        yield mine
    finally:
        if mine:
            with _runs_lock:
                _runs.discard(key)


def new_claimant() -> str:
    """This run's name in ``claimed_by``: the host and process (to tell a dead claimant) and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"


def _process_gone(pid: int) -> bool:
    if os.name == "nt":  # pragma: no cover - os.kill would end the process there: wait for the timeout
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's)
        return False
    return False


def claim_is_live(claimed_by: str | None, claimed_at: str | None, now: Any, timeout_s: float) -> bool:
    """Whether another sender may still be working on a row it claimed (asked by the one run of this
    process that delivers the database)."""
    if not claimed_by:
        return False
    try:
        age = (now - parse_iso(claimed_at or "")).total_seconds()
    except ValueError:
        return False  # no readable time: nobody can be waiting on it
    if age >= timeout_s:
        return False
    host, pid, _nonce = (claimed_by.rsplit(":", 2) + ["", ""])[:3]
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():  # an earlier run of this process (one runs at a time) that ended badly
            return False
        if _process_gone(int(pid)):  # that sender died on this computer: no need to wait
            return False
    return True


# -- SMTP -----------------------------------------------------------------------------------------
def connect_smtp(mailbox: MailboxConfig, password: str | None, *, timeout: float = 60.0) -> smtplib.SMTP:
    host, port, mode = mailbox.smtp_server, mailbox.smtp_port, mailbox.smtp_tls
    if mode == "none" and not is_loopback(host):
        raise ValueError("SMTP without encryption is only allowed to this computer (127.0.0.1).")
    if mode == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=mailbox.ssl_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        smtp.ehlo()
        if mode == "starttls":
            smtp.starttls(context=mailbox.ssl_context())
            smtp.ehlo()
        if password and smtp.has_extn("auth"):
            user = mailbox.smtp_login
            if (user + password).isascii():
                smtp.login(user, password)
            else:  # smtplib's AUTH is ASCII only; SASL PLAIN carries UTF-8
                token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
                code, resp = smtp.docmd("AUTH", f"PLAIN {token}")
                if code != 235:
                    raise smtplib.SMTPAuthenticationError(code, resp)
    except BaseException:
        with contextlib.suppress(Exception):
            smtp.close()
        raise
    return smtp


def _quote_data(raw: bytes) -> bytes:
    """DATA's transparency (RFC 5321 4.5.2): CRLF line ends, leading dots doubled, CRLF at the end."""
    data = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if data.startswith(b"."):
        data = b"." + data
    data = data.replace(b"\r\n.", b"\r\n..")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


# -- the states -----------------------------------------------------------------------------------
def _set(store: Store, row: _Row, *, durable: bool = False, **values: Any) -> bool:
    """Write a step of a row this run holds (renewing the claim); False (nothing written) when the claim
    is no longer ours."""
    values["updated_at"] = values["claimed_at"] = now_iso()
    return mail.write_claimed(store, row.id, row.claim, durable=durable, **values)


def _retry_at(attempts: int, now: Any) -> str:
    delay = min(RETRY_BASE_S * 2 ** max(0, attempts - 1), RETRY_MAX_S)
    return to_iso(now + timedelta(seconds=delay))


_Row = mail.DueRow  # an outbox row as read (its claim columns as they were then: a claim is taken only if
# it is still that one)


def _due(store: Store, mailbox: MailboxConfig, now_text: str, limit: int) -> list[_Row]:
    return mail.due_rows(store.db, mailbox.key, now_text, limit)


def _claim(store: Store, row: _Row, claimant: str, now: Any, timeout_s: float) -> bool:
    """Take the row for this run, or learn that another sender has it (one conditional update each)."""
    now_text = to_iso(now)
    stamp = now_iso()
    if row.state == "queued":  # the due time again: a row retried meanwhile waits for its turn
        won = mail.claim_queued(store, row.id, claimant=claimant, at=stamp, due=now_text)
    elif claim_is_live(row.claimed_by, row.claimed_at, now, timeout_s):
        return False
    else:  # free, or a dead sender's: only if nobody took it since it was read
        won = mail.take_over(store, row.id, claimant=claimant, at=stamp, state=row.state,
                             claimed_by=row.claimed_by, claimed_at=row.claimed_at)
    if won:
        row.claim, row.claimed_by, row.claimed_at = claimant, claimant, stamp
        if row.state == "queued":
            row.state = "sending"
    return won


def _release(store: Store, row: _Row) -> None:
    """The row's turn in this run is over: any sender may take it next (a no-op if it was lost)."""
    try:
        mail.release(store, row.id, row.claim)
    except StoreError as exc:  # the claim then ends with this process, or after the timeout
        log.warning("Could not release outgoing e-mail %s: %s", row.id, exc)


class _Session:
    """Lazily opened SMTP and IMAP connections, shared by the rows of one run."""

    def __init__(self, mailbox: MailboxConfig, password: str | None, smtp_password: str | None, timeout: float,
                 connect_smtp_fn: Callable[..., smtplib.SMTP], connect_imap_fn: Callable[..., ImapConnection]):
        self.mailbox, self.password, self.smtp_password, self.timeout = mailbox, password, smtp_password, timeout
        self._connect_smtp, self._connect_imap = connect_smtp_fn, connect_imap_fn
        self._smtp: smtplib.SMTP | None = None
        self._imap: ImapConnection | None = None
        self.imap_error: str | None = None
        self.smtp_error: str | None = None  # the server could not be reached: no more tries this run

    def smtp(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                self._smtp = self._connect_smtp(self.mailbox, self.smtp_password, timeout=self.timeout)
            except smtplib.SMTPAuthenticationError as exc:
                self.smtp_error = f"The mail server refused the login: {exc.smtp_code} {_say(exc.smtp_error)}"
                raise
            except (OSError, smtplib.SMTPException, ValueError) as exc:
                self.smtp_error = f"Could not reach the mail server ({_say_exc(exc)})."
                raise
        return self._smtp

    def drop_smtp(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(Exception):
                smtp.close()

    def imap(self) -> ImapConnection | None:
        if self._imap is None and self.imap_error is None:
            try:
                self._imap = self._connect_imap(self.mailbox, self.password, timeout=self.timeout)
            except (OSError, ImapError, ValueError) as exc:
                self.imap_error = str(exc) or type(exc).__name__
        return self._imap

    def drop_imap(self, error: str) -> None:
        imap, self._imap = self._imap, None
        self.imap_error = error
        if imap is not None:
            imap.close()

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(Exception):
                self._smtp.quit()
        self.drop_smtp()
        if self._imap is not None:
            self._imap.close()
            self._imap = None


def _copy_folders(mailbox: MailboxConfig) -> list[str]:
    folders = [mailbox.sent_folder] if mailbox.sent_folder else []
    if mailbox.bcc_self and mailbox.folder not in folders:
        folders.append(mailbox.folder)
    return folders


def _found_copy(session: _Session, message_id: str) -> bool | None:
    """Is a copy of this message on the server? None when the server cannot be asked."""
    imap = session.imap()
    if imap is None:
        return None
    try:
        for folder in _copy_folders(session.mailbox):
            try:
                if imap.search_message_id(folder, message_id):
                    return True
            except FolderMissing:
                continue
    except (OSError, ImapError) as exc:
        session.drop_imap(str(exc))
        return None
    return False


def deliver_pending(store: Store, mailbox: MailboxConfig, password: str | None, *,
                    smtp_password: str | None = None, now: Any = None, limit: int = 100,
                    on_stage: Stage | None = None, timeout: float = 60.0, unknown_grace_s: float = UNKNOWN_GRACE_S,
                    connect_smtp_fn: Callable[..., smtplib.SMTP] = connect_smtp,
                    connect_imap_fn: Callable[..., ImapConnection] = ImapConnection.open,
                    actor: str = ACTOR, claim_timeout_s: float = CLAIM_TIMEOUT_S) -> DeliveryReport:
    """Send what is due, resolve what a crash left ambiguous, file sent replies into Sent.

    ``password`` is the IMAP password (the Sent folder); ``smtp_password`` defaults to it.
    ``now`` (a datetime) is for tests. Safe to call from several threads, processes or computers at
    once: each row is sent by the one run that claimed it (the others list it in ``elsewhere``); a
    second run in the same process returns at once with ``busy=True``.
    """
    report = DeliveryReport()
    current = now or utcnow()
    stage = on_stage or (lambda _s, _i: None)
    with _one_run_in_this_process(store) as mine:
        if not mine:
            report.busy = True
            return report
        claimant = new_claimant()
        session = _Session(mailbox, password, smtp_password if smtp_password is not None else password, timeout,
                           connect_smtp_fn, connect_imap_fn)
        try:
            for row in _due(store, mailbox, to_iso(current), limit):
                if row.state in ("queued", "sending") and session.smtp_error:
                    # the server is down or refuses us: the rest waits for the next run, unclaimed
                    report.retrying.append((row.id, session.smtp_error))
                    continue
                if not _claim(store, row, claimant, current, claim_timeout_s):
                    report.elsewhere.append(row.id)
                    continue
                try:
                    _deliver_row(store, session, row, report, current, stage, actor, unknown_grace_s)
                finally:
                    _release(store, row)
        finally:
            session.close()
    return report


def _deliver_row(store: Store, session: _Session, row: _Row, report: DeliveryReport, now: Any, stage: Stage,
                 actor: str, unknown_grace_s: float) -> None:
    """One row this run holds, from wherever it stands."""
    if row.state == "sent":
        _file(store, session, row, report, stage, look_first=True)
        return
    if row.state == "committing" and not _resolve_ambiguous(store, session, row, report, now, unknown_grace_s,
                                                           actor):
        return
    if row.state == "sending" and row.attempts > 0 and _copy_folders(session.mailbox):
        # sent before and then lost track of (a dead sender, an old backup restored...): look before sending
        if _found_copy(session, row.message_id):
            _mark_sent(store, row, report, actor, recovered=True, filed="found")
            return
    if session.smtp_error:  # the server is down or refuses us: the rest waits for the next run
        report.retrying.append((row.id, session.smtp_error))
        return
    _send(store, session, row, report, now, stage, actor)


def _resolve_ambiguous(store: Store, session: _Session, row: _Row, report: DeliveryReport, now: Any,
                       grace_s: float, actor: str) -> bool:
    """A row left between the final '.' and 'sent'. Returns True when it should be sent again."""
    found = _found_copy(session, row.message_id) if _copy_folders(session.mailbox) else False
    if found:
        _mark_sent(store, row, report, actor, recovered=True, filed="found")
        return False
    if found is None:  # the server cannot be asked now: ask again next time
        _set(store, row, last_error=f"Could not check the Sent folder yet ({session.imap_error}).")
        report.waiting.append(row.id)
        return False
    trustworthy = session.mailbox.server_files_sent or session.mailbox.bcc_self
    if not trustworthy:
        if not _set(store, row, state="unknown",
                    last_error="The connection ended right after the message was handed to the mail server, and "
                               "this server keeps no copy we could look for. Check the Sent folder or ask the "
                               "customer, then mark it sent or send it again."):
            report.elsewhere.append(row.id)
            return False
        mail.record_outcome(store, actor=actor, action="email.unknown", ticket_id=row.ticket_id, outbox_id=row.id,
                            email_message_id=row.message_id)
        report.unknown.append(row.id)
        return False
    age = (now - parse_iso(row.updated_at)).total_seconds()
    if age < grace_s:  # the server's copy may still be on its way
        report.waiting.append(row.id)
        return False
    return True  # no copy after the grace period: it was not accepted


def _mark_sent(store: Store, row: _Row, report: DeliveryReport, actor: str, *, recovered: bool = False,
               reply: str | None = None, filed: str | None = None) -> None:
    # what was accepted is recorded, whoever holds the row now
    mail.mark_sent(store, row.id, at=now_iso(), reply=reply, filed=filed, actor=actor, ticket_id=row.ticket_id,
                   message_id=row.message_id, attempts=row.attempts, recovered=recovered)
    (report.recovered if recovered else report.sent).append(row.id)


def _fail(store: Store, row: _Row, report: DeliveryReport, now: Any, error: str, *, permanent: bool,
          actor: str) -> None:
    if permanent:
        if not _set(store, row, state="failed", last_error=error):
            report.elsewhere.append(row.id)
            return
        mail.record_outcome(store, actor=actor, action="email.failed", ticket_id=row.ticket_id, outbox_id=row.id,
                            error=error[:300])
        report.failed.append((row.id, error))
    else:
        if _set(store, row, state="queued", last_error=error, next_attempt_at=_retry_at(row.attempts, now)):
            report.retrying.append((row.id, error))
        else:
            report.elsewhere.append(row.id)


def _send(store: Store, session: _Session, row: _Row, report: DeliveryReport, now: Any, stage: Stage,
          actor: str) -> None:
    row.attempts += 1
    if not _set(store, row, state="sending", attempts=row.attempts, last_error=None):
        report.elsewhere.append(row.id)
        return
    stage("claimed", row.id)
    try:
        smtp = session.smtp()
        code, resp = smtp.mail(row.mail_from)
        if code != 250:
            raise _Refused(code, f"The mail server refused the sender {row.mail_from}: {code} {_say(resp)}")
        refused = []
        for rcpt in row.rcpt_to:
            code, resp = smtp.rcpt(rcpt)
            if code not in (250, 251):
                refused.append((rcpt, code, resp))
        if refused:
            code = max(c for _, c, _ in refused)
            raise _Refused(code, "The mail server refused " + "; ".join(f"{r}: {c} {_say(m)}" for r, c, m in refused))
        smtp.putcmd("data")
        code, resp = smtp.getreply()
        if code != 354:
            raise _Refused(code, f"The mail server refused the message: {code} {_say(resp)}")
        smtp.send(_quote_data(row.raw))
    except _Refused as exc:
        session.drop_smtp()  # the transaction is half-open: start clean next time
        _fail(store, row, report, now, str(exc), permanent=exc.permanent, actor=actor)
        return
    except smtplib.SMTPAuthenticationError as exc:
        session.drop_smtp()
        _fail(store, row, report, now, f"The mail server refused the login: {exc.smtp_code} {_say(exc.smtp_error)}",
              permanent=False, actor=actor)
        return
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        session.drop_smtp()
        _fail(store, row, report, now, f"Could not reach the mail server ({_say_exc(exc)}).", permanent=False,
              actor=actor)
        return
    # the point of no return: from the final '.' on, the server may accept at any moment. Durable, and
    # only while the row is still ours: a sender that lost it ends the session without the '.'
    if not _set(store, row, durable=True, state="committing"):
        session.drop_smtp()  # a DATA that never ended is discarded by the server
        report.elsewhere.append(row.id)
        return
    stage("committing", row.id)
    try:
        smtp.send(b".\r\n")
        code, resp = smtp.getreply()
    except (OSError, smtplib.SMTPException) as exc:
        session.drop_smtp()
        _set(store, row, last_error=f"The connection ended after the message was handed over ({_say_exc(exc)}); "
                                    "the Sent folder is checked before anything is sent again.")
        report.waiting.append(row.id)
        return
    stage("accepted" if code == 250 else "answered", row.id)
    if code == 250:
        _mark_sent(store, row, report, actor, reply=f"{code} {_say(resp)}",
                   filed="server" if session.mailbox.server_files_sent else
                   (None if session.mailbox.sent_folder else "none"))
        stage("sent", row.id)
        row.state, row.filed = "sent", None
        if session.mailbox.sent_folder and not session.mailbox.server_files_sent:
            _file(store, session, row, report, stage)
        return
    # an answer other than 250 to the final '.' means the message was not accepted
    session.drop_smtp()
    _fail(store, row, report, now, f"The mail server did not accept the message: {code} {_say(resp)}",
          permanent=500 <= code < 600, actor=actor)


def _file(store: Store, session: _Session, row: _Row, report: DeliveryReport, stage: Stage, *,
          look_first: bool = False) -> None:
    """Put a sent reply into the Sent folder (after it was sent; failures are retried, never re-sent).
    ``look_first``: a later try, which may follow an APPEND whose confirmation was lost."""
    mailbox = session.mailbox
    if not mailbox.sent_folder or mailbox.server_files_sent:
        _set(store, row, filed="server" if mailbox.server_files_sent else "none")
        return
    imap = session.imap()
    if imap is None:
        report.file_errors.append((row.id, session.imap_error or "no IMAP connection"))
        return
    try:
        if look_first and imap.search_message_id(mailbox.sent_folder, row.message_id):
            _set(store, row, filed="found", last_error=None)
            return
        imap.append(mailbox.sent_folder, row.raw)
    except (OSError, ImapError) as exc:
        if not isinstance(exc, ImapError):
            session.drop_imap(str(exc))
        report.file_errors.append((row.id, str(exc)))
        _set(store, row, last_error=f"Sent, but not filed into {mailbox.sent_folder!r} yet: {exc}")
        return
    _set(store, row, filed="appended", last_error=None)
    report.filed.append(row.id)
    stage("filed", row.id)


def _say(resp: bytes | str | None) -> str:
    if isinstance(resp, bytes):
        resp = resp.decode("utf-8", "replace")
    return " ".join((resp or "").split())[:300]


def _say_exc(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_say(exc.smtp_error)}"
    return str(exc) or type(exc).__name__
