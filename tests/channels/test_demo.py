"""The seeded demo data: deterministic, complete, realistic enough to exercise the app."""

from __future__ import annotations

import html
import json
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from agent_assist.channels import demo

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
FMT = "%Y-%m-%dT%H:%M:%SZ"
SLOT = re.compile(r"\{[a-z_]+\}")
SLA = {"urgent": timedelta(hours=2), "high": timedelta(hours=8), "normal": timedelta(hours=24),
       "low": timedelta(hours=72)}
REQUIRED_TOPICS = (
    "payment-schedule", "change-due-date", "failed-payment", "late-fees", "refund-status", "return-process",
    "dispute-opened", "item-not-received", "wrong-item", "duplicate-charge", "fraud-unauthorised-purchase",
    "account-locked", "identity-verification", "update-payment-method", "financial-hardship",
    "complaint-service", "close-account", "credit-limit", "pay-early", "statement-invoice", "promo-code",
    "gdpr-data-request", "bereavement", "card-declined-at-checkout", "app-login-problem",
)
SECTIONS = {"Payments", "Refunds & returns", "Disputes", "Account & security", "Help & support", "Privacy"}


def ts(text: str) -> datetime:
    return datetime.strptime(text, FMT).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def data() -> dict:
    return demo.generate(now=NOW)


@pytest.fixture(scope="module")
def templates() -> dict:
    return json.loads((demo._resource_dir() / "tickets.json").read_text(encoding="utf-8"))


# -- determinism and size ---------------------------------------------------------------------
def test_same_seed_and_now_give_identical_output(data: dict) -> None:
    again = demo.generate(now=NOW)
    assert json.dumps(again, sort_keys=True) == json.dumps(data, sort_keys=True)


def test_different_seed_gives_different_tickets(data: dict) -> None:
    other = demo.generate(seed=8, now=NOW)
    assert [t["subject"] for t in other["tickets"]] != [t["subject"] for t in data["tickets"]]


def test_naive_now_is_treated_as_utc(data: dict) -> None:
    assert demo.generate(now=NOW.replace(tzinfo=None)) == data


def test_default_sizes(data: dict) -> None:
    assert len(data["tickets"]) >= 300
    assert len(data["articles"]) >= 40
    # ~70 % as many customers as tickets, so some customers have several tickets
    assert 0.6 * len(data["tickets"]) <= len(data["customers"]) <= 0.8 * len(data["tickets"])
    per_customer = Counter(t["customer_ref"] for t in data["tickets"])
    assert max(per_customer.values()) >= 2
    assert set(per_customer) == {c["ref"] for c in data["customers"]}


def test_small_and_empty_sets() -> None:
    small = demo.generate(seed=1, tickets=5, now=NOW)
    assert len(small["tickets"]) == 5 and 1 <= len(small["customers"]) <= 5
    empty = demo.generate(tickets=0, now=NOW)
    assert empty["tickets"] == [] and empty["customers"] == []
    with pytest.raises(ValueError):
        demo.generate(tickets=-1)


# -- customers -----------------------------------------------------------------------------
def test_customers_shape_and_unique_emails(data: dict) -> None:
    customers = data["customers"]
    assert [c["ref"] for c in customers] == list(range(len(customers)))
    emails = [c["email"] for c in customers]
    assert len(set(emails)) == len(emails)
    for c in customers:
        assert set(c) == {"ref", "name", "email", "language"}
        assert c["language"] in demo.LANGUAGES
        assert re.fullmatch(r"[a-z0-9._]+@example\.[a-z.]+", c["email"]), c["email"]
        assert len(c["name"].split()) >= 2
    domains = {c["email"].split("@")[1] for c in customers if c["language"] == "sv"}
    assert domains == {"example.se"}


# -- tickets -------------------------------------------------------------------------------
def test_all_languages_well_represented(data: dict) -> None:
    langs = Counter(t["language"] for t in data["tickets"])
    assert set(langs) == set(demo.LANGUAGES)
    total = sum(langs.values())
    assert 0.2 <= langs["en"] / total <= 0.4
    assert all(langs[lang] / total >= 0.07 for lang in demo.LANGUAGES)


def test_ticket_language_matches_customer(data: dict) -> None:
    by_ref = {c["ref"]: c for c in data["customers"]}
    for t in data["tickets"]:
        customer = by_ref[t["customer_ref"]]
        assert t["language"] == customer["language"]
        for m in t["messages"]:
            if m["direction"] == "inbound":
                assert m["author"] == customer["name"]


def test_ticket_fields(data: dict, templates: dict) -> None:
    for t in data["tickets"]:
        assert t["status"] in ("new", "open", "pending", "solved", "closed")
        assert t["priority"] in SLA
        assert t["channel"] in ("email", "chat", "web", "phone")
        assert t["assignee"] is None or t["assignee"] in demo.AGENTS
        assert t["topic"] in templates["topics"]
        assert t["subject"].strip()
        assert isinstance(t["tags"], list) and all(isinstance(x, str) for x in t["tags"])
        assert set(templates["topics"][t["topic"]]["tags"]) <= set(t["tags"])


def test_status_and_channel_mix(data: dict) -> None:
    n = len(data["tickets"])
    statuses = Counter(t["status"] for t in data["tickets"])
    for status, share in (("new", 0.20), ("open", 0.30), ("pending", 0.15), ("solved", 0.25), ("closed", 0.10)):
        assert abs(statuses[status] / n - share) < 0.08, (status, statuses)
    channels = Counter(t["channel"] for t in data["tickets"])
    assert channels["phone"] < channels["email"] and channels["phone"] / n < 0.12


def test_every_ticket_has_an_article_for_its_topic(data: dict, templates: dict) -> None:
    available = {(a["key"], a["locale"]) for a in data["articles"]}
    for t in data["tickets"]:
        keys = templates["topics"][t["topic"]]["articles"]
        assert any((k, t["language"]) in available or (k, "en") in available for k in keys), t["topic"]


def test_timestamps_parse_and_messages_are_ordered(data: dict) -> None:
    for t in data["tickets"]:
        created = ts(t["created_at"])
        assert NOW - timedelta(days=31) <= created <= NOW
        msgs = t["messages"]
        assert 1 <= len(msgs) <= 6
        assert msgs[0]["direction"] == "inbound"
        times = [ts(m["created_at"]) for m in msgs]
        assert times == sorted(times)
        assert times[0] == created and times[-1] <= NOW
        assert ts(t["updated_at"]) == times[-1]
        assert ts(t["sla_due_at"]) == created + SLA[t["priority"]]


def test_threads_end_the_right_way(data: dict) -> None:
    for t in data["tickets"]:
        directions = [m["direction"] for m in t["messages"]]
        if t["status"] == "new":
            assert set(directions) == {"inbound"}
        elif t["status"] == "open":
            assert directions[-1] == "inbound"
        else:
            assert directions[-1] == "outbound"
        if "outbound" in directions:
            assert t["assignee"] in demo.AGENTS
        for m in t["messages"]:
            assert set(m) == {"direction", "author", "body_text", "body_html", "created_at"}
            assert m["body_text"].strip()
            if m["direction"] == "outbound":
                assert m["author"] in demo.AGENTS
                assert m["body_html"] is None


def test_recent_tickets_are_more_often_active(data: dict) -> None:
    def active_share(tickets: list[dict]) -> float:
        return sum(t["status"] in ("new", "open", "pending") for t in tickets) / len(tickets)

    recent = [t for t in data["tickets"] if ts(t["created_at"]) > NOW - timedelta(days=3)]
    older = [t for t in data["tickets"] if ts(t["created_at"]) < NOW - timedelta(days=10)]
    assert recent and older
    assert active_share(recent) > active_share(older) + 0.3


def test_sla_picture_of_the_open_queue(data: dict) -> None:
    active = [t for t in data["tickets"] if t["status"] in ("new", "open")]
    due = [ts(t["sla_due_at"]) for t in active]
    overdue = [d for d in due if d <= NOW]
    within_hour = [d for d in due if NOW < d <= NOW + timedelta(hours=1)]
    later = [d for d in due if d > NOW + timedelta(hours=1)]
    assert len(overdue) >= 10
    assert len(within_hour) >= 3
    assert len(later) >= 10


def test_no_unfilled_slots(data: dict) -> None:
    for t in data["tickets"]:
        texts = [t["subject"]] + [m["body_text"] for m in t["messages"]]
        texts += [m["body_html"] for m in t["messages"] if m["body_html"]]
        for text in texts:
            assert not SLOT.search(text), text


def test_amounts_use_the_local_currency(data: dict) -> None:
    by_ref = {c["ref"]: c for c in data["customers"]}
    amount = re.compile(r"\d[\d ]*(?:[.,]\d\d)? (SEK|EUR|GBP|USD)\b")
    seen = Counter()
    for t in data["tickets"]:
        lang = by_ref[t["customer_ref"]]["language"]
        for m in t["messages"]:
            for cur in amount.findall(m["body_text"]):
                seen[(lang, cur)] += 1
                if lang == "sv":
                    assert cur == "SEK"
                elif lang != "en":
                    assert cur == "EUR"
    assert seen[("sv", "SEK")] and seen[("de", "EUR")] and seen[("en", "GBP")]


def test_some_inbound_mail_carries_hostile_html(data: dict) -> None:
    inbound = [m for t in data["tickets"] for m in t["messages"] if m["direction"] == "inbound"]
    with_html = [m for m in inbound if m["body_html"]]
    assert 0.02 <= len(with_html) / len(inbound) <= 0.10
    for m in with_html:
        raw = m["body_html"]
        for nasty in ("<script", 'src="https://tracker.example.com/p.gif"', 'style="', "<form", "onclick="):
            assert nasty in raw
        assert "<" not in m["body_text"]
        first_paragraph = m["body_text"].split("\n\n")[0]
        assert html.escape(first_paragraph).replace("\n", "<br>") in raw


# -- articles ------------------------------------------------------------------------------
def test_articles_shape_and_bodies(data: dict) -> None:
    for a in data["articles"]:
        assert set(a) == {"key", "locale", "section", "title", "body", "source", "url"}
        assert a["source"] == "demo" and a["url"] is None
        assert a["section"] in SECTIONS
        assert a["locale"] in demo.LANGUAGES
        paragraphs = a["body"].split("\n\n")
        assert paragraphs[0].strip(), a["key"]
        assert len(paragraphs) >= 2
        assert 120 <= len(a["body"].split()) <= 400, (a["key"], a["locale"])
    keys = [(a["key"], a["locale"]) for a in data["articles"]]
    assert len(set(keys)) == len(keys)


def test_article_coverage(data: dict, templates: dict) -> None:
    per_locale = Counter(a["locale"] for a in data["articles"])
    assert per_locale["en"] >= 45
    for lang in demo.LANGUAGES[1:]:
        assert per_locale[lang] >= 15
    en_keys = {a["key"] for a in data["articles"] if a["locale"] == "en"}
    for topic in REQUIRED_TOPICS:
        assert topic in en_keys
    for name, topic in templates["topics"].items():
        assert set(topic["articles"]) <= en_keys, name
    # translations share their key with an English original
    for a in data["articles"]:
        assert a["key"] in en_keys
    assert {a["section"] for a in data["articles"]} == SECTIONS


def test_load_articles_returns_fresh_copies() -> None:
    first = demo.load_articles()
    first[0]["title"] = "changed"
    assert demo.load_articles()[0]["title"] != "changed"


# -- templates -----------------------------------------------------------------------------
def test_templates_are_complete(templates: dict) -> None:
    assert len(templates["merchants"]) >= 30
    assert len(set(templates["merchants"])) == len(templates["merchants"])
    for lang in demo.LANGUAGES:
        names = templates["names"][lang]
        assert len(set(names["first"])) >= 15 and len(set(names["last"])) >= 15
    topics = templates["topics"]
    assert set(REQUIRED_TOPICS) <= set(topics)
    for name, topic in topics.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name)
        assert topic["weight"] > 0
        assert set(topic["priority"]) == set(SLA) and sum(topic["priority"].values()) > 0
        assert topic["tags"] and topic["articles"]
        assert set(topic["languages"]) == set(demo.LANGUAGES), name
        for lang, t in topic["languages"].items():
            assert len(t["subjects"]) >= 3, (name, lang)
            assert len(t["openings"]) >= 4, (name, lang)
            assert len(t["followups"]) >= 2, (name, lang)
            assert len(t["agent_replies"]) >= 2, (name, lang)
            for text in (s for key in ("subjects", "openings", "followups", "agent_replies") for s in t[key]):
                for slot in SLOT.findall(text):
                    assert slot in ("{order}", "{amount}", "{merchant}", "{date}", "{first_name}"), (name, slot)


def test_a_few_openings_try_to_steer_an_ai(templates: dict) -> None:
    steer = re.compile(r"ignore (all )?previous|ignoriere alle|you are now|du bist jetzt", re.IGNORECASE)
    hits = [(name, lang) for name, topic in templates["topics"].items()
            for lang, t in topic["languages"].items() for text in t["openings"] if steer.search(text)]
    assert 1 <= len(hits) <= 3
    assert {name for name, _ in hits} <= {"complaint-service", "late-fees"}


# -- live arrivals -------------------------------------------------------------------------
def test_new_arrival_shape() -> None:
    t = demo.new_arrival(random.Random(3), now=NOW)
    assert "customer_ref" not in t
    assert set(t["customer"]) == {"name", "email", "language"}
    assert t["customer"]["language"] == t["language"] in demo.LANGUAGES
    assert t["status"] == "new" and t["assignee"] is None
    assert t["created_at"] == t["updated_at"] == NOW.strftime(FMT)
    assert ts(t["sla_due_at"]) == NOW + SLA[t["priority"]]
    assert len(t["messages"]) == 1
    (m,) = t["messages"]
    assert m["direction"] == "inbound" and m["author"] == t["customer"]["name"]
    assert m["created_at"] == t["created_at"]
    assert not SLOT.search(t["subject"] + m["body_text"])
    keys = set(demo.generate(tickets=1, now=NOW)["tickets"][0]) - {"customer_ref"}
    assert set(t) - {"customer"} == keys


def test_new_arrival_is_seeded_and_varied() -> None:
    a = [demo.new_arrival(random.Random(11), now=NOW) for _ in range(2)]
    assert a[0] == a[1]
    rng = random.Random(5)
    many = [demo.new_arrival(rng, now=NOW) for _ in range(60)]
    assert len({t["topic"] for t in many}) >= 10
    assert len({t["language"] for t in many}) == len(demo.LANGUAGES)
    assert len({t["customer"]["email"] for t in many}) == 60


def test_new_arrival_defaults_to_current_time() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    t = demo.new_arrival(random.Random(1))
    after = datetime.now(UTC)
    assert before <= ts(t["created_at"]) <= after
