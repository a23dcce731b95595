"""Loading a whole data set at once."""

from __future__ import annotations

import json

import pytest

from agent_assist.knowledge.articles import count, get_article
from agent_assist.store.article_rows import content_hash
from agent_assist.knowledge.search import search
from agent_assist.store import Store, audit
from agent_assist.store.bulk import import_dataset
from agent_assist.store.tickets import QueueFilter, create_ticket, get_ticket, queue_count


def dataset(tag: str, *, emails: bool = True) -> dict:
    customers = [
        {"ref": 10, "name": f"Anna {tag}", "email": f"anna-{tag}@example.se" if emails else None, "language": "sv"},
        {"ref": 20, "name": f"Tom {tag}", "email": f"tom-{tag}@example.co.uk" if emails else None, "language": "en"},
    ]
    tickets = [
        {"customer_ref": 20, "subject": f"Late fee {tag}", "status": "new", "priority": "high", "channel": "email",
         "language": "en", "assignee": None, "sla_due_at": "2024-03-02T00:00:00Z", "tags": ["fees", "billing"],
         "topic": "late-fees", "created_at": "2024-03-01T00:00:00Z",
         "messages": [{"direction": "inbound", "author": "Tom", "created_at": "2024-03-01T00:00:00Z",
                       "body_text": "Please remove the late fee."}]},
        {"customer_ref": 10, "subject": f"Återbetalning {tag}", "status": "open", "priority": "urgent",
         "channel": "chat", "language": "sv", "assignee": "alex", "created_at": "2024-03-01T01:00:00Z",
         "updated_at": "2024-03-01T05:00:00Z",
         "messages": [
             {"direction": "inbound", "author": "Anna", "created_at": "2024-03-01T01:00:00Z",
              "body_text": "Ordernummer 55123.",
              "body_html": "<p onclick='x()'>Ordernummer <b>55123</b>.<script>alert(1)</script>"
                           "<img src='https://tracker.example.com/p.gif'><img src='cid:logo@x'></p>"},
             {"direction": "outbound", "author": "sam", "created_at": "2024-03-01T02:00:00Z",
              "body_text": "Hej Anna!"}]},
        {"customer_ref": 20, "subject": f"No messages {tag}", "created_at": "2024-03-01T03:00:00Z"},
    ]
    articles = [
        {"key": "late-fees", "locale": "en", "section": "Payments", "title": f"Late fees {tag}",
         "body": "A late fee applies after a failed retry.", "source": "kb", "url": "https://help.example/1"},
        {"key": "refund", "locale": "sv", "section": "Refunds", "title": f"Återbetalning {tag}",
         "body": "Återbetalningen syns inom 5 bankdagar."},
    ]
    return {"customers": customers, "tickets": tickets, "articles": articles}


def _count(store: Store, table: str) -> int:
    return store.db.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_import_counts_and_contents(store: Store) -> None:
    counts = import_dataset(store, dataset("a"), actor="migrator", label="from zendesk")
    assert counts == {"customers": 2, "tickets": 3, "messages": 3, "articles": 2}
    assert {t: _count(store, t) for t in ("customers", "tickets", "messages", "articles")} == \
        {"customers": 2, "tickets": 3, "messages": 3, "articles": 2}

    t1, t2, t3 = (get_ticket(store.db, i) for i in (1, 2, 3))
    assert (t1.subject, t1.status, t1.priority_name, t1.customer_name, t1.tags, t1.topic, t1.sla_due_at) == \
        ("Late fee a", "new", "high", "Tom a", ("fees", "billing"), "late-fees", "2024-03-02T00:00:00Z")
    assert t1.updated_at == t1.created_at == "2024-03-01T00:00:00Z"  # defaults to created_at
    assert (t2.status, t2.priority_name, t2.channel, t2.language, t2.assignee, t2.updated_at) == \
        ("open", "urgent", "chat", "sv", "alex", "2024-03-01T05:00:00Z")
    assert [m.direction for m in t2.messages] == ["inbound", "outbound"]
    assert (t3.status, t3.priority_name, t3.channel, t3.language, t3.tags, t3.messages) == \
        ("new", "normal", "email", "en", (), ())
    a = get_article(store.db, 1)
    assert (a.key, a.locale, a.section, a.source, a.url) == ("late-fees", "en", "Payments", "kb",
                                                             "https://help.example/1")
    row = store.db.conn.execute("SELECT content_hash FROM articles WHERE id = 1").fetchone()
    assert row[0] == content_hash(a.title, a.body)
    # the queue and the search see the import
    assert queue_count(store.db, QueueFilter(statuses=())) == 3
    assert [h.article_id for h in search(store.db, "aterbetalning")] == [2]


def test_import_sanitizes_html(store: Store) -> None:
    import_dataset(store, dataset("a"))
    html = get_ticket(store.db, 2).messages[0].body_html
    assert "<b>55123</b>" in html
    assert "script" not in html and "alert" not in html
    assert "onclick" not in html
    assert "tracker.example.com" not in html
    assert 'src="cid:logo@x"' in html
    assert get_ticket(store.db, 2).messages[1].body_html is None  # plain-text message stays plain


def test_import_writes_one_audit_row(store: Store) -> None:
    counts = import_dataset(store, dataset("a"), actor="migrator", label="from zendesk")
    rows = store.db.conn.execute("SELECT actor, action, ticket_id, draft_id FROM audit").fetchall()
    assert rows == [("migrator", "data.imported", None, None)]
    entry_details = store.db.conn.execute("SELECT details FROM audit").fetchone()[0]
    # the message ids it brought in, so audit verify can tell imported replies from unaudited ones
    assert json.loads(entry_details) == {"label": "from zendesk", **counts, "first_message_id": 1,
                                         "last_message_id": counts["messages"]}
    assert audit.verify(store.db).ok


def test_ids_continue_after_existing_rows(store: Store) -> None:
    create_ticket(store, actor="email", customer_name="First Person", customer_email="first@example.com",
                  subject="made by hand", body_text="x")
    import_dataset(store, dataset("a"))
    import_dataset(store, dataset("b"))
    ids = store.db.conn.execute("SELECT id, subject FROM tickets ORDER BY id").fetchall()
    assert ids == [(1, "made by hand"), (2, "Late fee a"), (3, "Återbetalning a"), (4, "No messages a"),
                   (5, "Late fee b"), (6, "Återbetalning b"), (7, "No messages b")]
    # each ticket points at the customer of its own import
    assert get_ticket(store.db, 6).customer_name == "Anna b"
    assert get_ticket(store.db, 3).customer_name == "Anna a"
    assert get_ticket(store.db, 5).customer_email == "tom-b@example.co.uk"
    assert [r[0] for r in store.db.conn.execute("SELECT id FROM customers ORDER BY id")] == [1, 2, 3, 4, 5]
    assert [m.body_text for m in get_ticket(store.db, 6).messages] == ["Ordernummer 55123.", "Hej Anna!"]
    assert count(store.db) == 4
    assert [r[0] for r in store.db.conn.execute("SELECT action FROM audit ORDER BY id")] == \
        ["ticket.created", "data.imported", "data.imported"]
    assert audit.verify(store.db).ok


def test_import_without_emails_twice(store: Store) -> None:
    import_dataset(store, dataset("a", emails=False))
    import_dataset(store, dataset("a", emails=False))
    assert _count(store, "customers") == 4
    assert _count(store, "tickets") == 6


def test_reimporting_a_known_customer_reuses_it(store: Store) -> None:
    # One customer per e-mail address is the store's rule (unique index; create_ticket upserts by e-mail).
    # An import that names a customer already in the store must link to it, not crash on the index.
    import_dataset(store, dataset("a"))
    counts = import_dataset(store, dataset("a"))
    assert counts["tickets"] == 3
    assert _count(store, "customers") == 2
    assert _count(store, "tickets") == 6
    assert get_ticket(store.db, 4).customer_id == get_ticket(store.db, 1).customer_id


def test_a_failing_import_changes_nothing(store: Store) -> None:
    data = dataset("a")
    data["tickets"].append({"customer_ref": 99, "subject": "unknown customer", "created_at": "2024-01-01T00:00:00Z"})
    with pytest.raises(KeyError):
        import_dataset(store, data)
    for table in ("customers", "tickets", "messages", "articles", "audit"):
        assert _count(store, table) == 0, table
    assert search(store.db, "late") == []


def test_import_an_empty_dataset(store: Store) -> None:
    assert import_dataset(store, {}) == {"customers": 0, "tickets": 0, "messages": 0, "articles": 0}
    assert _count(store, "audit") == 1


def test_import_refreshes_planner_statistics(store: Store) -> None:
    data = dataset("a")
    data["tickets"] = data["tickets"] * 20
    import_dataset(store, data)
    stat = store.db.conn.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'tickets' AND idx IS NOT NULL"
                                 ).fetchone()
    assert stat is not None
    assert int(stat[0].split()[0]) == 60  # the statistics know the imported rows
