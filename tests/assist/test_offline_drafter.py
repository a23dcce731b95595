"""The offline drafter: a polite, grounded reply in the customer's language, with no model and no network."""

from __future__ import annotations

import pytest

from agent_assist.assist import offline_drafter
from agent_assist.knowledge.articles import add_articles, get_article
from agent_assist.knowledge.search import suggest_for_text
from agent_assist.store import Store
from agent_assist.store.tickets import create_ticket, get_ticket

KB = [
    {"key": "refund-status", "locale": "en", "section": "Refunds", "title": "When will I get my refund?",
     "body": "Refunds show within 5 business days after the merchant registers your return.\n\n"
             "SECOND PARAGRAPH en: check the purchase in the app."},  # 1
    {"key": "refund-status", "locale": "sv", "section": "Refunds", "title": "När får jag min återbetalning?",
     "body": "Återbetalningen (refund) syns inom 5 bankdagar efter att butiken har registrerat din retur.\n\n"
             "ANDRA STYCKET sv: du ser status i appen."},  # 2
    {"key": "late-fees", "locale": "en", "section": "Payments", "title": "How late fees work",
     "body": "A late fee applies only after the retry fails.\n\nPay early to avoid it."},  # 3
    {"key": "email", "locale": "en", "section": "Account", "title": "Changing your email address",
     "body": "Open settings and choose Email."},  # 4
    {"key": "tracking", "locale": "en", "section": "Shipping", "title": "Tracking a parcel",
     "body": "Use the tracking number from the merchant."},  # 5
]

# language -> (customer name, expected greeting, expected thanks line, expected closing, expected sign-off)
LANGUAGES = {
    "en": ("Tom Baker", "Hi Tom,", "Thank you for getting in touch.", "Kind regards,"),
    "sv": ("Anna Lindqvist", "Hej Anna,", "Tack för att du hör av dig.", "Vänliga hälsningar,"),
    "es": ("María García", "Hola María:", "Gracias por ponerte en contacto con nosotros.", "Un saludo,"),
    "de": ("Jürgen Weiß", "Hallo Jürgen,", "Vielen Dank für Ihre Nachricht.", "Freundliche Grüße"),
    "fr": ("Émile Zola", "Bonjour Émile,", "Merci de nous avoir contactés.", "Cordialement,"),
    "nl": ("Daan de Vries", "Hallo Daan,", "Bedankt voor je bericht.", "Met vriendelijke groet,"),
    "xx": ("Kim Lee", "Hi Kim,", "Thank you for getting in touch.", "Kind regards,"),
    "SV_se": ("Anna Lindqvist", "Hej Anna,", "Tack för att du hör av dig.", "Vänliga hälsningar,"),
}


@pytest.fixture
def kb(store: Store) -> Store:
    add_articles(store, KB)
    return store


def make_ticket(store: Store, *, name: str, language: str, subject: str, text: str, email: str | None = None) -> int:
    return create_ticket(store, actor="email", customer_name=name, customer_email=email, subject=subject,
                         body_text=text, language=language)


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_greeting_and_closing_in_the_ticket_language(kb: Store, language: str) -> None:
    name, greeting, thanks, sign_off = LANGUAGES[language]
    tid = make_ticket(kb, name=name, language=language, subject="refund", text="Where is my refund?")
    draft = offline_drafter.draft_reply(kb.db, get_ticket(kb.db, tid), agent_name="alex")
    lines = draft.body.splitlines()
    assert lines[0] == greeting
    assert thanks in lines
    assert lines[-2:] == [sign_off, "Alex"]
    assert draft.source == "offline"
    assert draft.prompt_version == "offline-1"


@pytest.mark.parametrize("language,closing", [
    ("sv", "Om något fortfarande är oklart"), ("es", "Si algo no queda claro"), ("de", "Wenn noch etwas unklar"),
    ("fr", "Si quelque chose n'est pas clair"), ("nl", "Is er nog iets onduidelijk?"),
    ("en", "If anything is still unclear"), ("zz", "If anything is still unclear"),
])
def test_closing_sentence_language(kb: Store, language: str, closing: str) -> None:
    tid = make_ticket(kb, name="Kim Lee", language=language, subject="x", text="parcel tracking")
    body = offline_drafter.draft_reply(kb.db, get_ticket(kb.db, tid), agent_name="alex").body
    assert closing in body
    if language not in ("en", "zz"):
        assert "If anything is still unclear" not in body


def test_the_cited_article_answer_is_in_the_body(kb: Store) -> None:
    tid = make_ticket(kb, name="Tom Baker", language="en", subject="Late fee charged twice",
                      text="I was charged a late fee although the payment failed because of the bank.")
    draft = offline_drafter.draft_reply(kb.db, get_ticket(kb.db, tid), agent_name="alex")
    article = get_article(kb.db, 3)
    assert draft.citations == (3,)
    assert f"{article.answer()} [KB-3]" in draft.body
    assert "Pay early to avoid it." not in draft.body  # the first paragraph only
    assert draft.body.count("[KB-") == 1


def test_a_swedish_ticket_cites_the_swedish_article(kb: Store) -> None:
    tid = make_ticket(kb, name="Anna Lindqvist", language="sv", subject="Var är min återbetalning?",
                      text="Jag returnerade skorna men har inte fått min återbetalning (refund).")
    draft = offline_drafter.draft_reply(kb.db, get_ticket(kb.db, tid), agent_name="Alex Berg")
    assert draft.citations == (2,)
    assert "Återbetalningen (refund) syns inom 5 bankdagar" in draft.body
    assert "[KB-2]" in draft.body
    assert "ANDRA STYCKET" not in draft.body
    assert "Refunds show" not in draft.body
    assert draft.body.endswith("Vänliga hälsningar,\nAlex Berg")


def test_another_language_falls_back_to_the_best_hit(kb: Store) -> None:
    tid = make_ticket(kb, name="Jürgen Weiß", language="de", subject="Paket", text="Mein parcel tracking geht nicht.")
    draft = offline_drafter.draft_reply(kb.db, get_ticket(kb.db, tid), agent_name="alex")
    assert draft.citations == (5,)
    assert "Use the tracking number from the merchant. [KB-5]" in draft.body
    assert draft.body.startswith("Hallo Jürgen,")


def test_no_article_still_gives_a_polite_reply(kb: Store) -> None:
    tid = make_ticket(kb, name="Tom Baker", language="en", subject="Opera",
                      text="My parrot sings opera at midnight.")
    draft = offline_drafter.draft_reply(kb.db, get_ticket(kb.db, tid), agent_name="alex")
    assert draft.citations == ()
    assert "[KB-" not in draft.body
    assert draft.body == "\n".join([
        "Hi Tom,", "", "Thank you for getting in touch.", "",
        "If anything is still unclear, just reply to this message and we'll help you further.", "",
        "Kind regards,", "Alex",
    ])


def test_empty_kb_still_gives_a_polite_reply(store: Store) -> None:
    tid = make_ticket(store, name="Anna Lindqvist", language="sv", subject="återbetalning", text="återbetalning")
    draft = offline_drafter.draft_reply(store.db, get_ticket(store.db, tid), agent_name="alex")
    assert draft.citations == ()
    assert draft.body.startswith("Hej Anna,\n")


def test_compose_uses_the_given_hits(kb: Store) -> None:
    tid = make_ticket(kb, name="Tom Baker", language="en", subject="x", text="x")
    ticket = get_ticket(kb.db, tid)
    hits = suggest_for_text(kb.db, "tracking parcel merchant", language="en")
    assert hits and hits[0].article_id == 5
    draft = offline_drafter.compose(ticket, hits, kb.db, agent_name="sam")
    assert draft.citations == (5,)
    assert draft.body.endswith("Kind regards,\nSam")
    assert offline_drafter.compose(ticket, [], kb.db, agent_name="sam").citations == ()


@pytest.mark.parametrize("name,email", [("", None), ("", "tom@example.com"), ("   ", "tom@example.com")])
def test_a_customer_without_a_name_gets_the_nameless_greeting(kb: Store, name: str, email: str | None) -> None:
    tid = make_ticket(kb, name=name, email=email, language="en", subject="refund", text="refund")
    body = offline_drafter.draft_reply(kb.db, get_ticket(kb.db, tid), agent_name="alex").body
    assert body.splitlines()[0] == "Hi,"
    assert "@" not in body.splitlines()[0]


def test_compose_picks_the_hit_in_the_ticket_language_even_when_it_is_not_first(kb: Store) -> None:
    from agent_assist.knowledge.search import search

    tid = make_ticket(kb, name="Anna Lindqvist", language="sv", subject="refund", text="refund")
    hits = search(kb.db, "refund", prefer_locale="en")
    assert [h.locale for h in hits][:2] == ["en", "sv"]
    draft = offline_drafter.compose(get_ticket(kb.db, tid), hits, kb.db, agent_name="alex")
    assert draft.citations == (2,)
    assert "[KB-2]" in draft.body and "[KB-1]" not in draft.body
