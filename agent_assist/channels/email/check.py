"""Preferences' "Test connection" for a mailbox: sign in to IMAP (and SMTP when it is set) and say, in
words, what worked and what did not. Nothing is fetched, sent or changed."""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from dataclasses import dataclass

from agent_assist.channels.email.config import MailboxConfig
from agent_assist.channels.email.imap_client import AuthError, FolderMissing, ImapConnection, ImapError
from agent_assist.channels.email.smtp_send import connect_smtp


@dataclass(frozen=True)
class Step:
    ok: bool
    text: str


def _unreachable(kind: str, host: str, port: int, exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"{kind}: {host}:{port} answered, but the secure connection failed ({exc.reason or exc})."
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"{kind}: {host}:{port} did not answer in time."
    if isinstance(exc, ConnectionRefusedError):
        return f"{kind}: nothing answers at {host}:{port} (connection refused): check the server and port."
    if isinstance(exc, socket.gaierror):
        return f"{kind}: the server name {host} is not known."
    return f"{kind}: could not talk to {host}:{port} ({exc})."


def check_imap(mailbox: MailboxConfig, password: str | None, *, timeout: float = 15.0) -> Step:
    host, port, user = mailbox.imap_host, mailbox.imap_port, mailbox.imap_user
    if not password:
        return Step(False, f"IMAP: no password for {user}: type it in the Password field.")
    try:
        with ImapConnection.open(mailbox, password, timeout=timeout) as conn:
            status = conn.examine(mailbox.folder)
    except AuthError as exc:
        return Step(False, f"IMAP: {host}:{port} answered, but refused the login for {user} ({exc}).")
    except FolderMissing:
        return Step(False, f"IMAP: signed in as {user}, but the folder {mailbox.folder!r} does not exist.")
    except ValueError as exc:
        return Step(False, f"IMAP: {exc}")
    except ImapError as exc:
        return Step(False, f"IMAP: signed in as {user}, but {exc}")
    except OSError as exc:
        return Step(False, _unreachable("IMAP", host, port, exc))
    return Step(True, f"IMAP: signed in to {host}:{port} as {user}; {status.folder} holds {status.exists} "
                      f"message(s).")


def check_smtp(mailbox: MailboxConfig, password: str | None, *, timeout: float = 15.0) -> Step:
    host, port, user = mailbox.smtp_server, mailbox.smtp_port, mailbox.smtp_login
    try:
        smtp = connect_smtp(mailbox, password, timeout=timeout)
    except smtplib.SMTPAuthenticationError as exc:
        said = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return Step(False, f"SMTP: {host}:{port} answered, but refused the login for {user} ({exc.smtp_code} {said}).")
    except smtplib.SMTPException as exc:
        return Step(False, f"SMTP: {host}:{port} answered, but {exc}.")
    except ValueError as exc:
        return Step(False, f"SMTP: {exc}")
    except OSError as exc:
        return Step(False, _unreachable("SMTP", host, port, exc))
    signed_in = bool(password) and smtp.has_extn("auth")
    with contextlib.suppress(Exception):
        smtp.quit()
    if signed_in:
        return Step(True, f"SMTP: signed in to {host}:{port} as {user}.")
    return Step(True, f"SMTP: {host}:{port} answers (it asked for no login).")


def check_mailbox(mailbox: MailboxConfig, imap_password: str | None, smtp_password: str | None = None, *,
                  smtp: bool = True, timeout: float = 15.0) -> list[Step]:
    """IMAP, then SMTP (when ``smtp``); an empty SMTP password means the IMAP one, as when sending."""
    steps = [check_imap(mailbox, imap_password, timeout=timeout)]
    if smtp:
        steps.append(check_smtp(mailbox, smtp_password or imap_password, timeout=timeout))
    return steps
