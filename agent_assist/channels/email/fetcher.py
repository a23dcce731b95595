"""One desk fetches a team mailbox; the others stand by and take over when it stops.

Fifty desks on one team server must not all log in to the support mailbox and race each other
through every new message. The desk that holds the mailbox's lease (``teamwork.take_lease``, a row
on the server renewed every ``RENEW_S``) runs :func:`watcher.watch`; the others check every
``RENEW_S`` whether the lease ran out (its desk was closed, killed or cut off) and the first to see
it takes over: within ``LEASE_TTL_S + RENEW_S`` (25 s) of the last renewal. A desk that finds its
lease taken (it was cut off longer than the lease) stops fetching and stands by again.

On a desk's own file there is one desk: it simply watches. Delivering the outbox is not part of
the lease: any desk may send, the outbox claims each row (exactly once, see ``smtp_send``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from agent_assist.channels.email.config import MailboxConfig
from agent_assist.channels.email.watcher import WatchEvent, watch
from agent_assist.store import StoreError, teamwork
from agent_assist.store.backend import is_postgres

log = logging.getLogger(__name__)

LEASE_TTL_S = 20  # a fetching desk not heard from for this long loses the mailbox
RENEW_S = 5  # how often the fetching desk renews, and a standing-by desk looks again


def lease_name(mailbox: MailboxConfig) -> str:
    return f"mailbox:{mailbox.imap_user}@{mailbox.imap_host}:{mailbox.imap_port}/{mailbox.folder}"


def watch_as_one_desk(store, mailbox: MailboxConfig, password, *, desk: str, stop: threading.Event,
                      on_event: Callable[[WatchEvent], Any] | None = None,
                      on_acquired: Callable[[threading.Event], Any] | None = None,
                      lease_ttl_s: float = LEASE_TTL_S, renew_s: float = RENEW_S, **watch_options) -> None:
    """Watch the mailbox while this desk holds its lease; stand by while another desk does.

    ``on_acquired(run_stop)`` runs each time this desk starts fetching, before the watch (a first
    sync with progress); ``run_stop`` is set when the desk must stop (told to, or the lease was lost).
    Returns when ``stop`` is set; the lease is given up then, so another desk takes over at once.
    """
    emit = on_event or (lambda _e: None)
    if not is_postgres(store):
        if on_acquired is not None:
            on_acquired(stop)
        watch(store, mailbox, password, stop=stop, on_event=on_event, **watch_options)
        return
    name = lease_name(mailbox)
    said_standby = False
    while not stop.is_set():
        try:
            held = teamwork.take_lease(store, name, desk=desk, ttl_s=max(1, round(lease_ttl_s)))
        except StoreError as exc:
            log.info("mailbox lease not taken: %s", exc)
            held = False
        if not held:
            if not said_standby:
                holder = _holder(store, name)
                emit(WatchEvent("standby", f"{holder or 'Another desk'} fetches this mailbox; this desk takes over "
                                           "if that one stops."))
                said_standby = True
            stop.wait(renew_s)
            continue
        said_standby = False
        emit(WatchEvent("fetching", "This desk fetches the team mailbox."))
        run_stop = threading.Event()
        keeper = threading.Thread(target=_keep, args=(store, name, desk, lease_ttl_s, renew_s, stop, run_stop, emit),
                                  name="mailbox-lease", daemon=True)
        keeper.start()
        try:
            if on_acquired is not None:
                on_acquired(run_stop)
            if not run_stop.is_set():
                watch(store, mailbox, password, stop=run_stop, on_event=on_event, **watch_options)
        finally:
            run_stop.set()
            keeper.join()
    try:
        teamwork.drop_lease(store, name, desk=desk)
    except StoreError as exc:  # the server is away: the lease runs out on its own
        log.info("mailbox lease not given up: %s", exc)


def _keep(store, name: str, desk: str, ttl_s: float, renew_s: float, stop: threading.Event,
          run_stop: threading.Event, emit: Callable[[WatchEvent], Any]) -> None:
    """Renew the lease until told to stop; set ``run_stop`` when it was lost to another desk (or on stop)."""
    due = time.monotonic() + renew_s
    while not run_stop.is_set() and not stop.wait(min(0.2, renew_s)):
        if time.monotonic() < due:
            continue
        due = time.monotonic() + renew_s
        try:
            if not teamwork.take_lease(store, name, desk=desk, ttl_s=max(1, round(ttl_s))):
                emit(WatchEvent("standby", "Another desk took over this mailbox (this one was cut off)."))
                break
        except StoreError as exc:  # the server is away: keep going, renew when it is back
            log.info("mailbox lease not renewed: %s", exc)
    run_stop.set()


def _holder(store, name: str) -> str | None:
    try:
        found = teamwork.lease_holder(store.db, name)
    except StoreError:
        return None
    return found[0] if found else None
