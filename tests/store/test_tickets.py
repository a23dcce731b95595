"""Tickets: the queue queries (filters, sorting, paging) and every ticket state change."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

import pytest

from agent_assist.store import Store, audit
from tests.backends import seed
from agent_assist.store.errors import InvalidTransitionError, NotFoundError
from agent_assist.store.tickets import (
    PRIORITIES,
    SORT_KEYS,
    STATUSES,
    QueueFilter,
    QueueRow,
    add_inbound_message,
    assign,
    create_ticket,
    get_ticket,
    languages,
    queue_count,
    queue_page,
    set_status,
)

pytestmark = pytest.mark.both_backends  # the same store API on SQLite and PostgreSQL

# -- a queue built in the test ----------------------------------------------------------------
CUSTOMERS = [
    ("Anna Lindqvist", "anna@example.se"),
    ("bob stone", "bob@example.com"),
    ("ALAN Turing", "alan@bletchley.uk"),
    ("Åsa Berg", "asa@example.se"),
    ("zed Zulu", None),
    ("Émile Zola", "emile@example.fr"),
    ("Carl_Ek", "carl_ek@example.se"),
]
SUBJECTS = [
    "Late fee charged twice",
    "100% refund please",
    "1000 refund please",
    "a_b code fails",
    "axb code fails",
    "path c:\\temp broken",
    "path c:temp broken",
    "late FEE question",
    "Var är min återbetalning?",
    "refund",
    "Refund",
    "apple",
    "Banana",
    "cherry",
    "Order #5 missing",
    "Ticket 12 follow-up",
]
LANGS = ["en", "sv", "es", "de", "en", "fr"]
ASSIGNEES = [None, "alex", "sam", None, "Alex", "alex", "bea"]
N_TICKETS = 40


@dataclass(frozen=True)
class Spec:
    id: int
    customer: str
    email: str | None
    subject: str
    status: str
    priority: int
    language: str
    assignee: str | None
    sla_due_at: str | None
    updated_at: str


def _ts(day: int, hour: int) -> str:
    return f"2024-03-{day:02d}T{hour:02d}:00:00Z"


def build_specs() -> list[Spec]:
    specs = []
    for i in range(N_TICKETS):
        ci = (i * 3) % len(CUSTOMERS)
        specs.append(Spec(
            id=i + 1,
            customer=CUSTOMERS[ci][0],
            email=CUSTOMERS[ci][1],
            subject=SUBJECTS[i % len(SUBJECTS)],
            status=STATUSES[(i * 7) % len(STATUSES)],
            priority=(i * 5) % 4,
            language=LANGS[i % len(LANGS)],
            assignee=ASSIGNEES[(i * 2) % len(ASSIGNEES)],
            sla_due_at=None if i % 9 == 4 else _ts(1 + (i * 13) % 20, (i * 5) % 24),
            updated_at=_ts(1 + (i * 11) % 6, 10),  # plenty of ties
        ))
    return specs


SPECS = build_specs()


@pytest.fixture
def queue_store(store: Store) -> Store:
    customers = [{"ref": n, "name": name, "email": email, "language": "en"} for n, (name, email) in enumerate(CUSTOMERS)]
    by_name = {name: n for n, (name, _) in enumerate(CUSTOMERS)}
    tickets = [
        {"customer_ref": by_name[s.customer], "subject": s.subject, "status": s.status,
         "priority": PRIORITIES[s.priority], "language": s.language, "assignee": s.assignee,
         "sla_due_at": s.sla_due_at, "tags": ["t"], "created_at": "2024-02-01T00:00:00Z",
         "updated_at": s.updated_at,
         "messages": [{"direction": "inbound", "author": s.customer, "body_text": "x",
                       "created_at": "2024-02-01T00:00:00Z"}]}
        for s in SPECS
    ]
    seed(store, {"customers": customers, "tickets": tickets})
    assert [r[0] for r in store.db.conn.execute("SELECT id FROM tickets ORDER BY id")] == [s.id for s in SPECS]
    return store


def _ascii_lower(s: str) -> str:
    return s.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))


def _like_contains(haystack: str | None, needle: str) -> bool:
    # SQLite's LIKE: case-insensitive for ASCII only
    return haystack is not None and _ascii_lower(needle) in _ascii_lower(haystack)


def _fold(text: str) -> str:
    # what FTS5's unicode61 tokenizer (remove_diacritics 2) does: lower case, no accents
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str | None) -> list[str]:
    return re.findall(r"[^\W_]+", _fold(text or ""))


def _text_matches(s: Spec, text: str) -> bool:
    """The queue's text filter: every typed word is the start of a word of the subject, the customer's
    name or e-mail; text without any word (only punctuation) is looked for literally in the subject;
    a number (``#123``, or a short bare one) also finds that ticket id."""
    typed = _words(text)
    if typed:
        tokens = _words(s.subject) + _words(s.customer) + _words(s.email)
        hit = all(any(tok.startswith(w) for tok in tokens) for w in typed)
    else:
        hit = _like_contains(s.subject, text)
    digits = text.lstrip("#")
    if digits.isdecimal() and (text.startswith("#") or len(digits) < 9) and int(digits) == s.id:
        hit = True
    return hit


def expected_ids(flt: QueueFilter) -> set[int]:
    out = set()
    text = flt.text.strip()
    for s in SPECS:
        if flt.scope == "mine" and s.assignee != (flt.user or ""):
            continue
        if flt.scope == "unassigned" and s.assignee is not None:
            continue
        if flt.statuses and s.status not in flt.statuses:
            continue
        if flt.language and s.language != flt.language:
            continue
        if text and not _text_matches(s, text):
            continue
        out.add(s.id)
    return out


def all_rows(db, flt: QueueFilter, **kw) -> list[QueueRow]:
    return queue_page(db, flt, offset=0, limit=10_000, **kw)


FILTERS = {
    "default-active": QueueFilter(),
    "all-any-status": QueueFilter(statuses=()),
    "mine-alex": QueueFilter(scope="mine", user="alex"),
    "mine-Alex-exact-case": QueueFilter(scope="mine", user="Alex", statuses=()),
    "mine-no-user": QueueFilter(scope="mine", user=None, statuses=()),
    "mine-nobody": QueueFilter(scope="mine", user="nobody", statuses=()),
    "unassigned": QueueFilter(scope="unassigned", statuses=()),
    "unassigned-new": QueueFilter(scope="unassigned", statuses=("new",)),
    "solved-closed": QueueFilter(statuses=("solved", "closed")),
    "closed-only": QueueFilter(statuses=("closed",)),
    "lang-sv": QueueFilter(language="sv", statuses=()),
    "lang-xx": QueueFilter(language="xx", statuses=()),
    "lang-en-mine": QueueFilter(scope="mine", user="sam", language="en", statuses=()),
    "text-subject": QueueFilter(text="refund", statuses=()),
    "text-subject-case": QueueFilter(text="LATE fee", statuses=()),
    "text-customer": QueueFilter(text="lindqvist", statuses=()),
    "text-customer-nonascii": QueueFilter(text="Åsa", statuses=()),
    "text-email": QueueFilter(text="bletchley", statuses=()),
    "text-email-domain": QueueFilter(text="@example.se", statuses=()),
    "text-hash-id": QueueFilter(text="#7", statuses=()),
    "text-bare-id": QueueFilter(text="12", statuses=()),
    "text-hash-id-in-subject": QueueFilter(text="#5", statuses=()),
    "text-padded": QueueFilter(text="   apple  ", statuses=()),
    "text-percent": QueueFilter(text="100%", statuses=()),
    "text-percent-alone": QueueFilter(text="%", statuses=()),
    "text-underscore": QueueFilter(text="a_b", statuses=()),
    "text-underscore-alone": QueueFilter(text="_", statuses=()),
    "text-backslash": QueueFilter(text="c:\\temp", statuses=()),
    "text-backslash-alone": QueueFilter(text="\\", statuses=()),
    "text-nothing": QueueFilter(text="no such words anywhere", statuses=()),
    "text-and-scope": QueueFilter(scope="unassigned", text="refund", statuses=("new", "open")),
    "everything": QueueFilter(scope="mine", user="alex", statuses=("new", "open", "pending"), language="en",
                              text="e"),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_queue_filters(queue_store: Store, name: str) -> None:
    flt = FILTERS[name]
    rows = all_rows(queue_store.db, flt)
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids))
    assert set(ids) == expected_ids(flt)
    assert queue_count(queue_store.db, flt) == len(ids)


def test_filters_are_not_vacuous() -> None:
    # the data set really exercises each filter: most give a proper, non-empty subset
    everything = expected_ids(QueueFilter(statuses=()))
    assert len(everything) == N_TICKETS
    for name in ("default-active", "mine-alex", "unassigned", "lang-sv", "text-subject", "text-customer",
                 "text-email", "text-percent", "text-underscore", "text-backslash", "text-hash-id",
                 "text-customer-nonascii", "text-and-scope"):
        got = expected_ids(FILTERS[name])
        assert 0 < len(got) < N_TICKETS, name


def test_like_wildcards_are_literal(queue_store: Store) -> None:
    db = queue_store.db

    def subjects(text: str) -> set[str]:
        return {r.subject for r in all_rows(db, QueueFilter(text=text, statuses=()))}

    # punctuation alone is looked for as it is, never as a LIKE wildcard
    assert subjects("%") == {"100% refund please"}
    assert subjects("_") == {"a_b code fails"}
    assert subjects("\\") == {"path c:\\temp broken"}
    assert subjects("%%") == subjects("__") == subjects("\\%") == set()
    # next to words, punctuation only separates them
    assert subjects("100%") == subjects("100")
    assert subjects("a_b") == subjects("a b")
    assert subjects("c:\\temp") == subjects("c temp") == {"path c:\\temp broken", "path c:temp broken"}


def test_text_filter_is_word_prefix_search(queue_store: Store) -> None:
    db = queue_store.db

    def customers(text: str) -> set[str]:
        return {r.customer for r in all_rows(db, QueueFilter(text=text, statuses=()))}

    assert customers("lindq") == {"Anna Lindqvist"}
    assert customers("anna lin") == {"Anna Lindqvist"}
    assert customers("ndqvist") == set()  # the middle of a word is not a prefix
    assert customers("asa") == customers("ÅSA") == {"Åsa Berg"}  # accents and case folded
    assert customers("emile zo") == {"Émile Zola"}
    assert customers("bletchley") == {"ALAN Turing"}  # e-mail words count
    assert customers("Turing bletch") == {"ALAN Turing"}  # words may come from different columns


def test_text_filter_follows_changes(queue_store: Store) -> None:
    db = queue_store.db
    flt = QueueFilter(text="xenophon", statuses=())
    assert queue_count(db, flt) == 0
    tid = create_ticket(queue_store, actor="x", customer_name="Xenophon Athens", customer_email="x@athens.gr",
                        subject="Anabasis", body_text="x")
    assert [r.id for r in all_rows(db, flt)] == [tid]
    assert [r.id for r in all_rows(db, QueueFilter(text="athens.gr", statuses=()))] == [tid]
    with queue_store.transaction() as tx:  # a renamed customer is found under the new name only
        tx.conn.execute("UPDATE customers SET name = 'Thucydides' WHERE email = 'x@athens.gr'")
    assert queue_count(db, flt) == 0
    assert [r.id for r in all_rows(db, QueueFilter(text="thucyd", statuses=()))] == [tid]


def test_text_filter_by_id(queue_store: Store) -> None:
    db = queue_store.db
    assert [r.id for r in all_rows(db, QueueFilter(text="#33", statuses=()))] == [33]
    assert 33 in {r.id for r in all_rows(db, QueueFilter(text="33", statuses=()))}
    assert all_rows(db, QueueFilter(text="#999", statuses=())) == []


@pytest.mark.parametrize("text", ["²", "#²", "#99999999999999999999999", "99999999999999999999999"])
def test_text_filter_with_odd_digits_does_not_crash(queue_store: Store, text: str) -> None:
    # str.isdigit() is true for "²" but int() rejects it; a huge number does not fit SQLite's INTEGER
    flt = QueueFilter(text=text, statuses=())
    assert all_rows(queue_store.db, flt) == []
    assert queue_count(queue_store.db, flt) == 0


def test_queue_row_fields(queue_store: Store) -> None:
    rows = {r.id: r for r in all_rows(queue_store.db, QueueFilter(statuses=()))}
    for s in SPECS:
        r = rows[s.id]
        assert (r.priority, r.sla_due_at, r.subject, r.customer, r.language, r.status, r.assignee, r.updated_at) == \
            (s.priority, s.sla_due_at, s.subject, s.customer, s.language, s.status, s.assignee, s.updated_at)
        assert r.tags == ("t",)


def test_languages(queue_store: Store) -> None:
    assert languages(queue_store.db) == sorted(set(LANGS))


# -- sorting ----------------------------------------------------------------------------------
STATUS_ORDER = {"new": 0, "open": 1, "pending": 2, "solved": 3, "closed": 4}


def _nullable(v):
    return (0, "") if v is None else (1, v)


def python_sorted(specs: list[Spec], sort: str, descending: bool) -> list[int]:
    if sort == "priority":  # priority in the asked direction, then the most urgent SLA, then id
        def key(s: Spec):
            return (-s.priority if descending else s.priority, _nullable(s.sla_due_at), s.id)
        return [s.id for s in sorted(specs, key=key)]
    value = {
        "id": lambda s: s.id,
        "sla": lambda s: _nullable(s.sla_due_at),
        "subject": lambda s: _ascii_lower(s.subject),  # COLLATE NOCASE folds ASCII only
        "customer": lambda s: _ascii_lower(s.customer),
        "language": lambda s: s.language,
        "status": lambda s: STATUS_ORDER[s.status],
        "assignee": lambda s: _nullable(None if s.assignee is None else _ascii_lower(s.assignee)),
        "updated": lambda s: s.updated_at,
        "flags": lambda s: 0,  # no triage flags in this data set: ties, broken by id
    }[sort]
    return [s.id for s in sorted(specs, key=lambda s: (value(s), s.id), reverse=descending)]


def test_every_sort_key_is_covered() -> None:
    assert set(SORT_KEYS) == {"id", "priority", "sla", "subject", "customer", "language", "status", "assignee",
                              "updated", "flags"}


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", sorted(SORT_KEYS))
def test_sorting_matches_python(queue_store: Store, sort: str, descending: bool) -> None:
    rows = all_rows(queue_store.db, QueueFilter(statuses=()), sort=sort, descending=descending)
    assert [r.id for r in rows] == python_sorted(SPECS, sort, descending)


@pytest.mark.parametrize("sort", ["subject", "customer", "assignee", "updated", "status"])
def test_sorting_with_a_filter_matches_python(queue_store: Store, sort: str) -> None:
    flt = QueueFilter(scope="all", statuses=("new", "open", "pending"), text="e")
    specs = [s for s in SPECS if s.id in expected_ids(flt)]
    for descending in (False, True):
        got = [r.id for r in all_rows(queue_store.db, flt, sort=sort, descending=descending)]
        assert got == python_sorted(specs, sort, descending)


def test_unknown_sort_key_is_refused(queue_store: Store) -> None:
    with pytest.raises(ValueError, match="cannot sort"):
        queue_page(queue_store.db, QueueFilter(), sort="t.id; DROP TABLE tickets")


@pytest.mark.parametrize("page_size", [1, 7, 40, 100])
@pytest.mark.parametrize("sort,descending", [("priority", False), ("priority", True), ("updated", True),
                                             ("customer", False), ("assignee", True), ("sla", False)])
def test_paging_covers_every_row_once(queue_store: Store, sort: str, descending: bool, page_size: int) -> None:
    flt = QueueFilter(statuses=())
    full = [r.id for r in all_rows(queue_store.db, flt, sort=sort, descending=descending)]
    paged: list[int] = []
    offset = 0
    while True:
        page = queue_page(queue_store.db, flt, sort=sort, descending=descending, offset=offset, limit=page_size)
        assert len(page) <= page_size
        if not page:
            break
        paged.extend(r.id for r in page)
        offset += page_size
    assert paged == full
    assert sorted(paged) == list(range(1, N_TICKETS + 1))


def test_paging_with_a_filter(queue_store: Store) -> None:
    flt = QueueFilter(scope="unassigned", statuses=())
    total = queue_count(queue_store.db, flt)
    pages = [queue_page(queue_store.db, flt, offset=o, limit=3) for o in range(0, total + 3, 3)]
    ids = [r.id for page in pages for r in page]
    assert len(ids) == total and set(ids) == expected_ids(flt)
    assert pages[-1] == []


# -- create_ticket ------------------------------------------------------------------------------
def test_create_ticket_basics(store: Store) -> None:
    tid = create_ticket(store, actor="email-channel", customer_name="Tom Baker", customer_email="tom@example.com",
                        subject="  Card declined  ", body_text="My card was declined.", language="en",
                        priority="high", channel="chat", tags=["b", "a", "b"], topic="cards",
                        created_at="2024-03-01T10:00:00Z")
    t = get_ticket(store.db, tid)
    assert t.subject == "Card declined"
    assert (t.status, t.priority_name, t.channel, t.language, t.assignee) == ("new", "high", "chat", "en", None)
    assert t.tags == ("a", "b")
    assert t.topic == "cards"
    assert t.created_at == t.updated_at == "2024-03-01T10:00:00Z"
    assert t.customer_name == "Tom Baker" and t.customer_email == "tom@example.com"
    assert t.first_name == "Tom"
    assert len(t.messages) == 1
    m = t.messages[0]
    assert (m.direction, m.author, m.body_text, m.body_html) == ("inbound", "Tom Baker", "My card was declined.", None)
    assert t.inbound_text() == "My card was declined."
    assert t.last_inbound() == m


def test_create_ticket_blank_subject(store: Store) -> None:
    tid = create_ticket(store, actor="x", customer_name="A B", customer_email=None, subject="   ", body_text="x")
    assert get_ticket(store.db, tid).subject == "(no subject)"


@pytest.mark.parametrize("priority,due", [
    ("urgent", "2024-03-01T12:00:00Z"),
    ("high", "2024-03-01T18:00:00Z"),
    ("normal", "2024-03-02T10:00:00Z"),
    ("low", "2024-03-04T10:00:00Z"),
])
def test_create_ticket_sets_sla_from_priority(store: Store, priority: str, due: str) -> None:
    tid = create_ticket(store, actor="x", customer_name="A B", customer_email=None, subject="s", body_text="x",
                        priority=priority, created_at="2024-03-01T10:00:00Z")
    t = get_ticket(store.db, tid)
    assert t.sla_due_at == due
    assert t.priority_name == priority


def test_create_ticket_rejects_an_unknown_priority(store: Store) -> None:
    audit_rows = store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]  # a team's set-up has some
    with pytest.raises(ValueError, match="priority"):
        create_ticket(store, actor="x", customer_name="A B", customer_email=None, subject="s", body_text="x",
                      priority="whenever")
    assert store.db.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    assert store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == audit_rows


HOSTILE_HTML = (
    "<p>Hello <b>team</b>,</p>"
    "<script>alert('x')</script>"
    "<p onclick=\"steal()\" onmouseover='steal()'>Please help &amp; thanks</p>"
    "<img src=\"https://tracker.example.com/pixel.gif\" onerror=\"steal()\">"
    "<img src=\"//tracker.example.com/p2.gif\">"
    "<a href=\"javascript:alert(1)\">click</a>"
    "<div>Line two<br>Line three</div>"
)


def test_create_ticket_sanitizes_html_and_derives_text(store: Store) -> None:
    tid = create_ticket(store, actor="x", customer_name="A B", customer_email=None, subject="s",
                        body_text=None, body_html=HOSTILE_HTML)
    m = get_ticket(store.db, tid).messages[0]
    html = m.body_html.lower()
    assert "<script" not in html and "alert(" not in html
    assert "tracker.example.com" not in html and "<img" not in html
    assert "onclick" not in html and "onmouseover" not in html and "onerror" not in html
    assert "javascript:" not in html
    assert "<b>team</b>" in m.body_html  # formatting kept
    # text derived from the HTML: readable, no markup, no script
    text = m.body_text
    assert "<" not in text and "alert" not in text
    assert "Hello team," in text
    assert "Please help & thanks" in text
    assert "Line two\nLine three" in text
    assert text.index("Hello") < text.index("Please") < text.index("Line two")
    # the raw HTML is stored nowhere
    raw_html = store.db.conn.execute("SELECT body_html FROM messages").fetchone()[0]
    assert raw_html == m.body_html


def test_create_ticket_keeps_given_text_next_to_html(store: Store) -> None:
    tid = create_ticket(store, actor="x", customer_name="A B", customer_email=None, subject="s",
                        body_text="the plain part", body_html="<p>the <i>html</i> part</p>")
    m = get_ticket(store.db, tid).messages[0]
    assert m.body_text == "the plain part"
    assert m.body_html == "<p>the <i>html</i> part</p>"


def test_create_ticket_upserts_the_customer_by_email(store: Store) -> None:
    t1 = create_ticket(store, actor="x", customer_name="Anna Lindqvist", customer_email="anna@example.se",
                       subject="one", body_text="x", language="sv")
    t2 = create_ticket(store, actor="x", customer_name="Anna L.", customer_email="anna@example.se",
                       subject="two", body_text="x", language="sv")
    t3 = create_ticket(store, actor="x", customer_name="Other Person", customer_email="other@example.se",
                       subject="three", body_text="x")
    t4 = create_ticket(store, actor="x", customer_name="No Mail", customer_email=None, subject="four", body_text="x")
    t5 = create_ticket(store, actor="x", customer_name="No Mail", customer_email=None, subject="five", body_text="x")
    db = store.db
    c = {tid: get_ticket(db, tid).customer_id for tid in (t1, t2, t3, t4, t5)}
    assert c[t1] == c[t2]
    assert len({c[t1], c[t3], c[t4], c[t5]}) == 4  # no e-mail: never merged
    assert db.conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 4
    assert db.conn.execute("SELECT name, language FROM customers WHERE email = 'anna@example.se'").fetchone() == \
        ("Anna Lindqvist", "sv")


def test_create_ticket_writes_an_audit_row(store: Store) -> None:
    tid = create_ticket(store, actor="alex", customer_name="A B", customer_email=None, subject="s",
                        body_text="x", channel="web")
    entries = audit.for_ticket(store.db, tid)
    # the first row; a team server's trigger also notes the first message as received
    assert [(e.action, e.actor, e.ticket_id, e.draft_id) for e in entries][0] == ("ticket.created", "alex", tid, None)
    assert [e.action for e in entries].count("ticket.created") == 1
    assert {e.action for e in entries} <= {"ticket.created", "message.received"}
    assert entries[0].details == {"channel": "web"}
    assert audit.verify(store.db).ok


# -- add_inbound_message ----------------------------------------------------------------------------
def _ticket_in(store: Store, status: str) -> int:
    tid = create_ticket(store, actor="x", customer_name="Tom Baker", customer_email="tom@example.com",
                        subject="s", body_text="first", created_at="2024-03-01T10:00:00Z")
    if status != "new":
        set_status(store, tid, status, actor="setup")
    return tid


def status_moves(store: Store, ticket_id: int) -> list[tuple[str, str]]:
    """Every status change the ticket's trail records: its ticket.status rows, and the move a desk
    writes into the message.received row of the message that caused it."""
    moves = []
    for e in audit.for_ticket(store.db, ticket_id):
        if e.action == "ticket.status":
            moves.append((e.details["before"], e.details["after"]))
        elif e.action == "message.received" and "status_before" in e.details:
            if e.details["status_before"] != e.details["status_after"]:
                moves.append((e.details["status_before"], e.details["status_after"]))
    return moves


@pytest.mark.parametrize("before,after", [
    ("new", "new"), ("open", "open"), ("pending", "open"), ("solved", "open"),
])
def test_add_inbound_message_reopens_waiting_and_solved_tickets(store: Store, before: str, after: str) -> None:
    tid = _ticket_in(store, before)
    moves_before = status_moves(store, tid)
    mid = add_inbound_message(store, tid, actor="alex", author="Tom Baker", body_text="still broken")
    t = get_ticket(store.db, tid)
    assert t.status == after
    assert [m.body_text for m in t.messages] == ["first", "still broken"]
    assert t.last_inbound().id == mid
    assert t.updated_at > "2024-03-01T10:00:00Z"
    received = [e for e in audit.for_ticket(store.db, tid) if e.action == "message.received"][-1]
    assert (received.actor, received.details["message_id"]) == ("alex", mid)
    assert status_moves(store, tid) == moves_before + ([(before, after)] if before != after else [])


def test_add_inbound_message_sanitizes_html(store: Store) -> None:
    tid = _ticket_in(store, "open")
    add_inbound_message(store, tid, actor="x", author="Tom", body_text=None,
                        body_html="<p>Again<script>alert(1)</script></p><img src='http://t.example/p.gif'>")
    m = get_ticket(store.db, tid).messages[-1]
    assert m.body_text == "Again"
    assert "script" not in m.body_html and "t.example" not in m.body_html


def test_add_inbound_message_to_a_missing_ticket(store: Store) -> None:
    with pytest.raises(NotFoundError):
        add_inbound_message(store, 4242, actor="x", author="Tom", body_text="hello?")
    assert store.db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


# -- assign / set_status / get_ticket -----------------------------------------------------------------
def test_assign_moves_new_to_open_and_audits(store: Store, desk) -> None:
    tid = _ticket_in(store, "new")
    lead = desk("lead")
    assign(lead, tid, "alex", actor="lead")
    t = get_ticket(store.db, tid)
    assert (t.assignee, t.status) == ("alex", "open")
    e = audit.for_ticket(store.db, tid)[-1]
    assert (e.action, e.actor, e.details) == ("ticket.assigned", "lead", {"before": None, "after": "alex"})

    assign(lead, tid, "sam", actor="lead")
    e = audit.for_ticket(store.db, tid)[-1]
    assert (e.action, e.actor, e.details) == ("ticket.assigned", "lead", {"before": "alex", "after": "sam"})
    assert get_ticket(store.db, tid).status == "open"

    n = len(audit.for_ticket(store.db, tid))
    assign(lead, tid, "sam", actor="lead")  # no change, no audit row
    assert len(audit.for_ticket(store.db, tid)) == n

    assign(lead, tid, None, actor="lead")
    t = get_ticket(store.db, tid)
    assert (t.assignee, t.status) == (None, "open")
    assert audit.for_ticket(store.db, tid)[-1].details == {"before": "sam", "after": None}


@pytest.mark.parametrize("status", ["pending", "solved", "closed"])
def test_assign_keeps_other_statuses(store: Store, status: str) -> None:
    tid = _ticket_in(store, status)
    assign(store, tid, "alex", actor="lead")
    assert get_ticket(store.db, tid).status == status


def test_assign_missing_ticket(store: Store) -> None:
    with pytest.raises(NotFoundError):
        assign(store, 77, "alex", actor="lead")


def test_set_status_audits(store: Store) -> None:
    tid = _ticket_in(store, "new")
    set_status(store, tid, "solved", actor="alex")
    assert get_ticket(store.db, tid).status == "solved"
    e = audit.for_ticket(store.db, tid)[-1]
    assert (e.action, e.actor, e.details) == ("ticket.status", "alex", {"before": "new", "after": "solved"})
    n = len(audit.for_ticket(store.db, tid))
    set_status(store, tid, "solved", actor="alex")
    assert len(audit.for_ticket(store.db, tid)) == n


@pytest.mark.parametrize("bad", ["deleted", "", "OPEN", "open "])
def test_set_status_rejects_unknown_status(store: Store, bad: str) -> None:
    tid = _ticket_in(store, "open")
    n = len(audit.for_ticket(store.db, tid))
    with pytest.raises(InvalidTransitionError):
        set_status(store, tid, bad, actor="alex")
    assert get_ticket(store.db, tid).status == "open"
    assert len(audit.for_ticket(store.db, tid)) == n


def test_set_status_missing_ticket(store: Store) -> None:
    with pytest.raises(NotFoundError):
        set_status(store, 999, "open", actor="alex")


def test_get_ticket_missing(store: Store) -> None:
    with pytest.raises(NotFoundError, match="#12345"):
        get_ticket(store.db, 12345)


def test_get_ticket_orders_messages_by_time(store: Store) -> None:
    customers = [{"ref": 0, "name": "Maria García", "email": "m@example.es"}]
    tickets = [{"customer_ref": 0, "subject": "s", "created_at": "2024-01-01T00:00:00Z", "tags": ["x", "y"],
                "messages": [
                    {"direction": "outbound", "author": "sam", "body_text": "second", "created_at": "2024-01-02T00:00:00Z"},
                    {"direction": "inbound", "author": "Maria", "body_text": "first", "created_at": "2024-01-01T00:00:00Z"},
                    {"direction": "inbound", "author": "Maria", "body_text": "third", "created_at": "2024-01-03T00:00:00Z"},
                ]}]
    seed(store, {"customers": customers, "tickets": tickets})
    t = get_ticket(store.db, 1)
    assert [m.body_text for m in t.messages] == ["first", "second", "third"]
    assert t.inbound_text() == "first\n\nthird"
    assert t.last_inbound().body_text == "third"
    assert t.tags == ("x", "y")
    assert t.first_name == "Maria"
    assert json.loads(store.db.conn.execute("SELECT tags FROM tickets").fetchone()[0]) == ["x", "y"]


@pytest.mark.parametrize("text", ['"', '""', "*", "refund*", "AND", "OR(", "NEAR(refund please)", "subject:refund",
                                  "customer:anna", "^late", "-late", "late -fee", "(", ")", "'", ":", "😀",
                                  "late 😀", "%_\\", "#", "##5", "#-5", "5.0", "-5"])
def test_text_filter_with_search_syntax_is_just_text(queue_store: Store, text: str) -> None:
    flt = QueueFilter(text=text, statuses=())
    rows = all_rows(queue_store.db, flt)
    assert {r.id for r in rows} == expected_ids(flt)
    assert queue_count(queue_store.db, flt) == len(rows)


def test_create_ticket_detects_the_language_when_not_given(store):
    from agent_assist.store.tickets import create_ticket, get_ticket

    tid = create_ticket(store, actor="mail", customer_name="Lena Maier", customer_email="lena@example.de",
                        subject="Rechnung doppelt bezahlt",
                        body_text="Hallo, ich habe die Rechnung zweimal bezahlt und möchte mein Geld zurück.")
    assert get_ticket(store.db, tid).language == "de"
