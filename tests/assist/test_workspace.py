"""Opening a ticket: thread, knowledge suggestions and exactly one working draft — and no write."""

from __future__ import annotations

import pytest

from agent_assist.assist import workspace
from agent_assist.knowledge.articles import add_articles
from agent_assist.store import Store, audit, drafts
from agent_assist.store.tickets import create_ticket, set_status

KB = [
    {"key": "late-fees", "locale": "en", "section": "Payments", "title": "How late fees work",
     "body": "A late fee applies only after the retry fails.\n\nPay early to avoid it."},
    {"key": "refund-status", "locale": "en", "section": "Refunds", "title": "When will I get my refund?",
     "body": "Refunds show within 5 business days."},
    {"key": "refund-status", "locale": "sv", "section": "Refunds", "title": "När får jag min återbetalning?",
     "body": "Återbetalningen syns inom 5 bankdagar."},
    {"key": "tracking", "locale": "en", "section": "Shipping", "title": "Tracking a parcel",
     "body": "Use the tracking number."},
]


@pytest.fixture
def kb(store: Store) -> Store:
    add_articles(store, KB)
    return store


@pytest.fixture
def ticket_id(kb: Store) -> int:
    return create_ticket(kb, actor="email", customer_name="Tom Baker", customer_email="tom@example.com",
                         subject="Late fee charged twice", body_text="Please remove the late fee.", language="en")


def drafts_of(store: Store, ticket_id: int) -> list[tuple[int, str]]:
    return store.db.conn.execute("SELECT id, state FROM drafts WHERE ticket_id = ? ORDER BY id",
                                 (ticket_id,)).fetchall()


def test_open_ticket_gathers_thread_suggestions_and_a_draft(kb: Store, ticket_id: int) -> None:
    ws = workspace.open_ticket(kb, ticket_id, agent="alex")
    assert ws.ticket.id == ticket_id
    assert [m.body_text for m in ws.ticket.messages] == ["Please remove the late fee."]
    assert ws.suggestions and ws.suggestions[0].article_id == 1
    assert isinstance(ws.suggestions, tuple)
    d = ws.draft
    assert d is not None and not d.saved  # shown, not written: opening only reads
    assert (d.ticket_id, d.state, d.source, d.prompt_version, d.created_by) == \
        (ticket_id, "suggested", "offline", "offline-1", "alex")
    assert d.citations == (1,)
    assert d.body.startswith("Hi Tom,")
    assert "A late fee applies only after the retry fails. [KB-1]" in d.body
    assert drafts_of(kb, ticket_id) == []
    kept = workspace.keep_draft(kb, d, agent="alex")  # the agent starts on it
    assert kept.saved and (kept.body, kept.citations, kept.source) == (d.body, d.citations, d.source)
    assert drafts_of(kb, ticket_id) == [(kept.id, "suggested")]
    suggested = [e for e in audit.for_ticket(kb.db, ticket_id) if e.action == "draft.suggested"]
    assert len(suggested) == 1
    assert suggested[0].details["citations"] == [1]
    assert suggested[0].details["source"] == "offline"
    assert workspace.keep_draft(kb, kept, agent="alex") == kept


def _changes(store: Store) -> tuple[int, int, int]:
    """What a write would move: the file's data version (seen by other connections), this connection's
    change counter, and the audit trail's length."""
    return (store.data_version(), store.db.conn.total_changes,
            store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0])


@pytest.mark.parametrize("ticket", [1, 2, 3, 4])
def test_opening_a_ticket_writes_nothing(small_store: Store, ticket: int) -> None:
    from agent_assist.store import tickets

    # ticket 3's customer text is flagged by triage, but triage runs when a message arrives, not here
    tickets.add_inbound_message(small_store, 3, actor="email", author="Maria García",
                                body_text="¡Es un fraude! No reconozco esta compra y quiero una reclamación.")
    before = _changes(small_store)
    for agent in ("alex", "sam", "priya"):
        ws = workspace.open_ticket(small_store, ticket, agent=agent)
        assert ws.ticket.id == ticket
    assert _changes(small_store) == before


def test_open_ticket_twice_shows_the_same_stored_draft(kb: Store, ticket_id: int) -> None:
    first = workspace.open_ticket(kb, ticket_id, agent="alex")
    kept = workspace.keep_draft(kb, first.draft, agent="alex")
    second = workspace.open_ticket(kb, ticket_id, agent="sam")
    assert second.draft.id == kept.id  # the same draft, offered signed by sam (not written)
    assert second.draft.body == kept.body.replace("\nAlex", "\nSam")
    assert workspace.open_ticket(kb, ticket_id, agent="alex").draft == kept
    # a second window that started on its own unsaved copy lands on the same working draft
    assert workspace.keep_draft(kb, first.draft, agent="sam") == kept
    assert len(drafts_of(kb, ticket_id)) == 1
    assert sum(e.action == "draft.suggested" for e in audit.for_ticket(kb.db, ticket_id)) == 1


def test_open_ticket_keeps_the_agents_edit(kb: Store, ticket_id: int) -> None:
    d = workspace.keep_draft(kb, workspace.open_ticket(kb, ticket_id, agent="alex").draft, agent="alex")
    drafts.save_edit(kb, d.id, "My own words", actor="alex")
    again = workspace.open_ticket(kb, ticket_id, agent="alex").draft
    assert (again.id, again.state, again.body) == (d.id, "edited", "My own words")
    assert len(drafts_of(kb, ticket_id)) == 1


def test_open_ticket_makes_no_draft_for_a_closed_ticket(kb: Store, ticket_id: int) -> None:
    set_status(kb, ticket_id, "closed", actor="alex")
    ws = workspace.open_ticket(kb, ticket_id, agent="alex")
    assert ws.draft is None
    assert ws.ticket.status == "closed"
    assert drafts_of(kb, ticket_id) == []
    assert ws.suggestions  # knowledge is still shown


def test_open_ticket_after_sending_suggests_afresh(kb: Store, ticket_id: int) -> None:
    d = workspace.keep_draft(kb, workspace.open_ticket(kb, ticket_id, agent="alex").draft, agent="alex")
    drafts.approve_and_send(kb, d.id, d.body, actor="alex")
    new = workspace.open_ticket(kb, ticket_id, agent="alex").draft
    assert new is not None and not new.saved and new.state == "suggested"


def test_open_ticket_in_swedish(kb: Store) -> None:
    tid = create_ticket(kb, actor="email", customer_name="Anna Lindqvist", customer_email="anna@example.se",
                        subject="Var är min återbetalning?", body_text="Jag har inte fått min återbetalning.",
                        language="sv")
    ws = workspace.open_ticket(kb, tid, agent="alex")
    assert ws.suggestions[0].locale == "sv"
    assert ws.draft.citations == (3,)
    assert ws.draft.body.startswith("Hej Anna,")


def test_open_ticket_with_no_matching_article(kb: Store) -> None:
    tid = create_ticket(kb, actor="email", customer_name="Tom Baker", customer_email="tom@example.com",
                        subject="Opera", body_text="My parrot sings opera at midnight.")
    ws = workspace.open_ticket(kb, tid, agent="alex")
    assert ws.suggestions == ()
    assert ws.draft is not None and ws.draft.citations == ()
    assert "[KB-" not in ws.draft.body


def test_regenerate_offline_discards_the_old_draft(kb: Store, ticket_id: int) -> None:
    old = workspace.keep_draft(kb, workspace.open_ticket(kb, ticket_id, agent="alex").draft, agent="alex")
    drafts.save_edit(kb, old.id, "half-written", actor="alex")
    new = workspace.regenerate_offline(kb, ticket_id, agent="alex")
    assert new.id != old.id
    assert new.state == "suggested"
    assert new.citations == (1,)
    assert drafts.get(kb.db, old.id).state == "discarded"
    assert drafts.active_for_ticket(kb.db, ticket_id) == new
    assert drafts_of(kb, ticket_id) == [(old.id, "discarded"), (new.id, "suggested")]
    actions = [e.action for e in audit.for_ticket(kb.db, ticket_id)]
    assert actions[-2:] == ["draft.discarded", "draft.suggested"]
    assert audit.verify(kb.db).ok
    # opening the ticket now shows the new draft
    assert workspace.open_ticket(kb, ticket_id, agent="alex").draft == new


def test_regenerate_offline_without_a_draft(kb: Store, ticket_id: int) -> None:
    new = workspace.regenerate_offline(kb, ticket_id, agent="alex")
    assert drafts_of(kb, ticket_id) == [(new.id, "suggested")]


def test_open_missing_ticket(kb: Store) -> None:
    from agent_assist.store.errors import NotFoundError

    with pytest.raises(NotFoundError):
        workspace.open_ticket(kb, 999, agent="alex")
    with pytest.raises(NotFoundError):
        workspace.regenerate_offline(kb, 999, agent="alex")
    assert kb.db.conn.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 0


def test_starting_on_a_ticket_from_many_threads_makes_one_draft(small_store):
    import threading

    from agent_assist.assist.workspace import keep_draft, open_ticket

    results = []
    barrier = threading.Barrier(4)

    def worker():
        shown = open_ticket(small_store, 1, agent="alex").draft
        barrier.wait()
        results.append(keep_draft(small_store, shown, agent="alex").id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1
    assert small_store.db.conn.execute("SELECT COUNT(*) FROM drafts WHERE ticket_id = 1").fetchone()[0] == 1


@pytest.mark.both_backends
def test_a_stored_draft_is_signed_by_whoever_sends_it(small_store: Store, desk):
    """alex's desk stored the offline suggestion with his name; sam opens it, sends it, and it says Sam."""
    from agent_assist.assist.phrases import resign

    tid = 1
    ws = workspace.open_ticket(small_store, tid, agent="alex")
    kept = workspace.keep_draft(small_store, ws.draft, agent="alex")
    assert kept.body.rstrip().endswith("\nAlex")
    sam = desk("sam", "agent")
    offered = workspace.open_ticket(sam, tid, agent="sam").draft
    assert offered.id == kept.id and offered.body.rstrip().endswith("\nSam")
    assert offered.body.replace("\nSam", "\nAlex") == kept.body  # only the name changed
    assert drafts.approve_and_send(sam, offered.id, offered.body, actor="sam") is not None
    [(sent,)] = sam.db.conn.execute("SELECT body_text FROM messages WHERE ticket_id = ? AND direction = 'outbound'",
                                    (tid,)).fetchall()
    assert sent.rstrip().endswith("\nSam") and "Alex" not in sent
    # a text the person signed otherwise is left alone
    assert resign("Thanks!\n\nCheers, Alex", "alex", "sam") == "Thanks!\n\nCheers, Alex"
    assert resign("Hi,\n\nKind regards,\nAlex\n", "alex", "Sam Lee") == "Hi,\n\nKind regards,\nSam Lee\n"
