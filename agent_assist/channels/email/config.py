"""One mailbox: where mail comes in (IMAP) and replies go out (SMTP), and its passwords.

The dataclass is plain data, safe to keep in the settings file (``to_dict``/``from_dict``):
it never holds a password. Passwords live in the operating system's keyring under the
service ``agent-assist`` and the account ``imap:<user>@<host>`` (``smtp:<user>@<host>`` for a
separate SMTP login), with the same rules as API keys (see :mod:`agent_assist.assist.secrets`):
no silent plain-text fallback. On a headless box ``AGENT_ASSIST_IMAP_PASSWORD`` (and
``AGENT_ASSIST_SMTP_PASSWORD``) is read, never written.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import ssl
from dataclasses import asdict, dataclass, fields, replace
from email.utils import parseaddr
from typing import Any

import keyring.errors

# the keyring rules (which backend is safe, the explanation when none is) are shared with API keys
from agent_assist.assist.secrets import _HOW_TO as _KEYRING_HOW_TO
from agent_assist.assist.secrets import SERVICE, SecretStoreUnavailable, _usable_backend

log = logging.getLogger(__name__)

TLS_MODES = ("tls", "starttls", "none")
IMAP_ENV = "AGENT_ASSIST_IMAP_PASSWORD"
SMTP_ENV = "AGENT_ASSIST_SMTP_PASSWORD"
DEFAULT_PORTS = {("imap", "tls"): 993, ("imap", "starttls"): 143, ("imap", "none"): 143,
                 ("smtp", "tls"): 465, ("smtp", "starttls"): 587, ("smtp", "none"): 25}

__all__ = ["MailboxConfig", "TLS_MODES", "SecretStoreUnavailable", "get_password", "set_password",
           "delete_password", "is_loopback"]


def is_loopback(host: str) -> bool:
    host = (host or "").strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class MailboxConfig:
    """A support mailbox. ``tls="none"`` is refused unless the host is this computer (tests)."""

    imap_host: str
    imap_user: str
    imap_port: int = 993
    imap_tls: str = "tls"
    folder: str = "INBOX"
    smtp_host: str = ""  # empty: the IMAP host
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_user: str = ""  # empty: the IMAP user (and the IMAP password)
    from_address: str = ""  # "Lumo Pay Support <support@lumopay.example>"; empty: the IMAP user
    sent_folder: str = "Sent"  # where sent replies are filed and looked for; empty: none
    server_files_sent: bool = False  # the provider itself files mail sent over SMTP into Sent (Gmail, M365)
    bcc_self: bool = False  # add our own address as a hidden recipient: a server-side copy of every reply
    thread_window_days: int = 14  # subject fallback: same customer, same subject, within this many days
    poll_interval_s: int = 60  # watch(): how often to look for mail when the server has no IDLE
    max_message_bytes: int = 40 * 1024 * 1024  # larger mails: headers only, with a note
    ca_file: str = ""  # a private CA for self-hosted servers; empty: the system's trust store

    # -- identity -------------------------------------------------------------------------------
    @property
    def key(self) -> str:
        """How the store names this mailbox (sync state, outbox rows): ``user@host``."""
        return f"{self.imap_user}@{self.imap_host}".lower()

    @property
    def imap_account(self) -> str:
        return f"imap:{self.imap_user}@{self.imap_host}"

    @property
    def smtp_account(self) -> str:
        return f"smtp:{self.smtp_login}@{self.smtp_server}"

    @property
    def smtp_server(self) -> str:
        return self.smtp_host or self.imap_host

    @property
    def smtp_login(self) -> str:
        return self.smtp_user or self.imap_user

    @property
    def sender(self) -> str:
        """The From header of replies."""
        return self.from_address or self.imap_user

    @property
    def sender_address(self) -> str:
        """The bare address of :attr:`sender` (envelope sender, Message-ID domain)."""
        return parseaddr(self.sender)[1] or self.imap_user

    # -- checks ---------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Everything wrong with this configuration, as sentences (empty: usable)."""
        out: list[str] = []
        if not self.imap_host.strip():
            out.append("The IMAP server is missing.")
        if not self.imap_user.strip():
            out.append("The IMAP user name is missing.")
        for label, mode, host, port in (("IMAP", self.imap_tls, self.imap_host, self.imap_port),
                                        ("SMTP", self.smtp_tls, self.smtp_server, self.smtp_port)):
            if mode not in TLS_MODES:
                out.append(f"{label} encryption must be one of {', '.join(TLS_MODES)}, not {mode!r}.")
            elif mode == "none" and not is_loopback(host):
                out.append(f"{label} without encryption is only allowed to this computer (127.0.0.1), "
                           f"not to {host}: passwords and mail would travel in clear text.")
            if not (0 < int(port) < 65536):
                out.append(f"The {label} port {port} is not a port number.")
        if not self.folder.strip():
            out.append("The folder to read is missing (usually INBOX).")
        if "@" not in self.sender_address:
            out.append("The From address of replies is missing or not an e-mail address.")
        if self.thread_window_days < 0:
            out.append("The threading window cannot be negative.")
        return out

    def check(self) -> MailboxConfig:
        problems = self.problems()
        if problems:
            raise ValueError(" ".join(problems))
        return self

    def ssl_context(self) -> ssl.SSLContext:
        """Certificate-checking TLS (the system's CAs, or ``ca_file``)."""
        ctx = ssl.create_default_context(cafile=self.ca_file or None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    # -- settings file --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MailboxConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_(self, **changes: Any) -> MailboxConfig:
        return replace(self, **changes)


# -- passwords ---------------------------------------------------------------------------------
def _read(account: str) -> str | None:
    backend, reason = _usable_backend()
    if backend is None:
        log.debug("Keyring not used: %s", reason)
        return None
    try:
        return backend.get_password(SERVICE, account) or None
    except keyring.errors.KeyringError as err:
        log.warning("Could not read a mail password from the keyring (%s)", type(err).__name__)
        return None


def get_password(mailbox: MailboxConfig, kind: str = "imap") -> str | None:
    """The IMAP (or SMTP) password: keyring, else the environment; SMTP falls back to IMAP's."""
    if kind == "imap":
        return _read(mailbox.imap_account) or os.environ.get(IMAP_ENV) or None
    if kind == "smtp":
        found = _read(mailbox.smtp_account) or os.environ.get(SMTP_ENV) or None
        return found or get_password(mailbox, "imap")
    raise ValueError(f"kind must be 'imap' or 'smtp', not {kind!r}")


def set_password(mailbox: MailboxConfig, password: str, kind: str = "imap") -> None:
    """Keep a password in the keyring; raises SecretStoreUnavailable rather than writing it elsewhere."""
    if not password:
        raise ValueError("The password is empty.")
    account = mailbox.imap_account if kind == "imap" else mailbox.smtp_account
    backend, reason = _usable_backend()
    if backend is None:
        raise SecretStoreUnavailable(f"The mail password could not be saved. {reason} {_KEYRING_HOW_TO}")
    try:
        backend.set_password(SERVICE, account, password)
        kept = backend.get_password(SERVICE, account) == password
    except keyring.errors.KeyringError as err:
        raise SecretStoreUnavailable(
            f"The mail password could not be saved ({type(err).__name__}). {_KEYRING_HOW_TO}") from None
    if not kept:
        raise SecretStoreUnavailable(f"The mail password could not be saved: the keyring did not keep it. "
                                     f"{_KEYRING_HOW_TO}")


def delete_password(mailbox: MailboxConfig, kind: str = "imap") -> None:
    account = mailbox.imap_account if kind == "imap" else mailbox.smtp_account
    backend, reason = _usable_backend()
    if backend is None:
        raise SecretStoreUnavailable(f"The mail password could not be removed. {reason} {_KEYRING_HOW_TO}")
    try:
        backend.delete_password(SERVICE, account)
    except keyring.errors.PasswordDeleteError:
        pass
    except keyring.errors.KeyringError as err:
        raise SecretStoreUnavailable(
            f"The mail password could not be removed ({type(err).__name__}). {_KEYRING_HOW_TO}") from None
