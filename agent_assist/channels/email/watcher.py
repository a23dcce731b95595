"""Live mail: keep a mailbox synced until told to stop (run it in a worker thread).

With IMAP IDLE (RFC 2177) the server tells us about new mail at once; the IDLE is re-issued
every 29 minutes (servers may drop it after 30). Without IDLE the folder is polled every
``poll_interval_s``. A dropped connection is retried with exponential backoff (1 s doubling
to 5 min, with jitter) and the folder is synced again after every reconnect, so nothing that
arrived meanwhile is missed. ``stop.set()`` ends the loop within about a second, also in
the middle of an IDLE or a backoff wait.

Events are reported through ``on_event(WatchEvent)`` from the worker thread; the UI turns
them into signals.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent_assist.channels.email.config import MailboxConfig
from agent_assist.channels.email.imap_client import IDLE_REISSUE_S, AuthError, ImapConnection, ImapError
from agent_assist.channels.email.imap_sync import ACTOR, SyncReport, sync_folder
from agent_assist.store.database import Store

log = logging.getLogger(__name__)

BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 300.0


@dataclass(frozen=True)
class WatchEvent:
    kind: str  # connected | synced | idle | polling | error | auth_error | retrying | stopped
    message: str = ""
    report: SyncReport | None = None
    retry_in_s: float | None = None


def watch(store: Store, mailbox: MailboxConfig, password: str | None | Callable[[], str | None], *,
          stop: threading.Event, on_event: Callable[[WatchEvent], Any] | None = None,
          use_idle: bool = True, idle_reissue_s: float = IDLE_REISSUE_S, poll_interval_s: float | None = None,
          backoff_start_s: float = BACKOFF_START_S, backoff_max_s: float = BACKOFF_MAX_S,
          connect: Callable[[MailboxConfig, str | None], ImapConnection] = ImapConnection.open,
          on_synced: Callable[[SyncReport], Any] | None = None, actor: str = ACTOR) -> None:
    """Sync now, then on every change, until ``stop`` is set. Never raises for network trouble.

    ``password`` may be a callable, asked again on every (re)connect (a changed keyring entry
    is picked up without restarting the watcher). ``on_synced`` runs after each sync, in this
    thread (e.g. to call ``deliver_pending``).
    """
    emit = on_event or (lambda _e: None)
    poll = float(poll_interval_s if poll_interval_s is not None else mailbox.poll_interval_s)
    delay = backoff_start_s
    while not stop.is_set():
        conn: ImapConnection | None = None
        try:
            secret = password() if callable(password) else password
            conn = connect(mailbox, secret)
            emit(WatchEvent("connected", f"Connected to {mailbox.imap_host}."))
            delay = backoff_start_s
            _sync(store, conn, mailbox, emit, on_synced, actor, stop)
            idle = use_idle and conn.can_idle
            emit(WatchEvent("idle" if idle else "polling",
                            "Waiting for new mail (IDLE)." if idle else f"Checking for new mail every {poll:g} s."))
            while not stop.is_set():
                if conn.pending_changes():  # mail that arrived during the last sync
                    _sync(store, conn, mailbox, emit, on_synced, actor, stop)
                    continue
                if idle:
                    outcome = conn.idle(stop, max_s=idle_reissue_s)
                    if outcome == "stopped":
                        break
                    if outcome == "timeout":  # re-issue; a NOOP-free resync is cheap when nothing is new
                        continue
                else:
                    if stop.wait(poll):
                        break
                _sync(store, conn, mailbox, emit, on_synced, actor, stop)
        except AuthError as exc:
            emit(WatchEvent("auth_error", str(exc), retry_in_s=backoff_max_s))
            delay = backoff_max_s  # do not hammer a server that refuses the password
        except (OSError, ImapError, EOFError) as exc:  # ConnectionLost and socket errors are OSErrors
            log.info("Mail connection problem: %s", exc)
            emit(WatchEvent("error", _say(exc)))
        except Exception as exc:  # noqa: BLE001 - the watcher must survive anything a message does
            log.exception("Unexpected error while watching mail")
            emit(WatchEvent("error", f"Unexpected error: {type(exc).__name__}: {exc}"))
        finally:
            if conn is not None:
                conn.close()
        if stop.is_set():
            break
        wait = min(delay, backoff_max_s) * random.uniform(0.8, 1.2)
        emit(WatchEvent("retrying", f"Trying again in {wait:.0f} s.", retry_in_s=wait))
        if stop.wait(wait):
            break
        delay = min(delay * 2, backoff_max_s)
    emit(WatchEvent("stopped", "Stopped watching mail."))


def _sync(store: Store, conn: ImapConnection, mailbox: MailboxConfig, emit: Callable[[WatchEvent], Any],
          on_synced: Callable[[SyncReport], Any] | None, actor: str, stop: threading.Event) -> None:
    report = sync_folder(store, conn, mailbox, actor=actor, cancel=stop)
    emit(WatchEvent("synced", f"{report.imported} new, {report.threaded} replies", report=report))
    if on_synced is not None:
        on_synced(report)


def _say(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"Lost the connection to the mail server ({text})."
