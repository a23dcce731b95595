"""Live mail: IDLE, polling, re-issue, reconnect with backoff, and a prompt stop."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from agent_assist.channels.email import WatchEvent, watch
from agent_assist.channels.email.imap_client import ImapConnection
from tests.channels.email import mails

WAIT_S = 20


class Watcher:
    """``watch`` in a worker thread, its events in a queue (as the UI's worker would relay them)."""

    def __init__(self, store, mailbox, password, **kwargs):
        self.stop = threading.Event()
        self.events: queue.Queue[WatchEvent] = queue.Queue()
        self.seen: list[WatchEvent] = []
        self.thread = threading.Thread(
            target=watch, args=(store, mailbox, password),
            kwargs={"stop": self.stop, "on_event": self.events.put, **kwargs}, daemon=True)

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive(), "watch() did not stop"

    def wait_for(self, predicate, timeout: float = WAIT_S) -> WatchEvent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(event)
            if predicate(event):
                return event
        raise AssertionError(f"no such event; saw {[e.kind for e in self.seen]}")


def _new_ticket(event: WatchEvent) -> bool:
    return event.kind == "synced" and event.report is not None and event.report.imported > 0


@pytest.mark.both_backends
def test_idle_brings_new_mail_at_once(store, dovecot, mailbox):
    with Watcher(store, mailbox, dovecot.password) as w:
        w.wait_for(lambda e: e.kind == "idle")
        started = time.monotonic()
        dovecot.append(mails.plain(message_id="<live-1@mail.example>"))
        event = w.wait_for(_new_ticket)
        assert time.monotonic() - started < 10  # pushed by the server, not found by a slow poll
        assert event.report.imported == 1


@pytest.mark.both_backends
def test_stop_ends_an_idle_within_a_second_or_two(store, dovecot, mailbox):
    w = Watcher(store, mailbox, dovecot.password)
    with w:
        w.wait_for(lambda e: e.kind == "idle")
        started = time.monotonic()
        w.stop.set()
        w.thread.join(5)
        assert not w.thread.is_alive() and time.monotonic() - started < 3
    assert w.wait_for(lambda e: e.kind == "stopped")


@pytest.mark.both_backends
def test_idle_is_reissued_and_keeps_working(store, dovecot, mailbox):
    idles: list[str] = []

    def counting_connect(box, password):
        conn = ImapConnection.open(box, password)
        real = conn.idle

        def idle(stop, **kwargs):
            outcome = real(stop, **kwargs)
            idles.append(outcome)
            return outcome

        conn.idle = idle  # type: ignore[method-assign]
        return conn

    with Watcher(store, mailbox, dovecot.password, idle_reissue_s=0.3, connect=counting_connect) as w:
        w.wait_for(lambda e: e.kind == "idle")
        deadline = time.monotonic() + WAIT_S
        while idles.count("timeout") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert idles.count("timeout") >= 3
        dovecot.append(mails.plain(message_id="<after-reissue@mail.example>"))
        w.wait_for(_new_ticket)


@pytest.mark.both_backends
def test_polling_when_idle_is_not_used(store, dovecot, mailbox):
    with Watcher(store, mailbox, dovecot.password, use_idle=False, poll_interval_s=0.2) as w:
        w.wait_for(lambda e: e.kind == "polling")
        dovecot.append(mails.plain(message_id="<polled@mail.example>"))
        w.wait_for(_new_ticket)


@pytest.mark.both_backends
def test_reconnects_with_backoff_after_a_drop(store, dovecot, mailbox):
    with Watcher(store, mailbox, dovecot.password, backoff_start_s=0.2, backoff_max_s=1.0) as w:
        w.wait_for(lambda e: e.kind == "idle")
        dovecot.stop()  # the server goes away mid-IDLE
        w.wait_for(lambda e: e.kind == "error")
        retry = w.wait_for(lambda e: e.kind == "retrying")
        assert retry.retry_in_s is not None and retry.retry_in_s <= 1.2
        dovecot.start()  # same storage, same port
        dovecot.append(mails.plain(message_id="<while-reconnecting@mail.example>"))
        w.wait_for(_new_ticket)
        kinds = [e.kind for e in w.seen]
        assert kinds.count("connected") >= 2


@pytest.mark.both_backends
def test_wrong_password_is_reported_and_not_hammered(store, dovecot, mailbox):
    with Watcher(store, mailbox, "wrong", backoff_max_s=30) as w:
        event = w.wait_for(lambda e: e.kind == "auth_error")
        assert "refused the login" in event.message
        retry = w.wait_for(lambda e: e.kind == "retrying")
        assert retry.retry_in_s >= 20
        started = time.monotonic()
    assert time.monotonic() - started < 3  # stop cuts the backoff wait short


@pytest.mark.both_backends
def test_password_callable_is_asked_on_each_connect(store, dovecot, mailbox):
    asked = []

    def password():
        asked.append(1)
        return dovecot.password

    with Watcher(store, mailbox, password) as w:
        w.wait_for(lambda e: e.kind == "idle")
    assert asked == [1]


@pytest.mark.both_backends
@pytest.mark.parametrize("use_idle", [True, False])
def test_on_synced_hook_runs_in_the_worker(store, dovecot, mailbox, use_idle):
    threads = []
    with Watcher(store, mailbox, dovecot.password, use_idle=use_idle, poll_interval_s=0.2,
                 on_synced=lambda report: threads.append(threading.current_thread())) as w:
        w.wait_for(lambda e: e.kind in ("idle", "polling"))
    assert threads and all(t is w.thread for t in threads)


@pytest.mark.both_backends
def test_news_heard_during_a_sync_is_not_lost(store, dovecot, mailbox):
    """Mail that arrives while we FETCH is announced in that FETCH's answer, not again at IDLE."""
    with ImapConnection.open(mailbox, dovecot.password) as conn:
        conn.examine("INBOX")
        assert not conn.pending_changes()
        dovecot.append(mails.plain(message_id="<during-sync@mail.example>"))
        conn.list_uids(0)  # any command: the server adds "* 1 EXISTS" to its answer
        assert conn.pending_changes()
        assert not conn.pending_changes()
