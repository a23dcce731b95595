"""Full-text search over the knowledge base: query parsing, ranking, filters, snippets, suggestions.

Tests marked ``both_backends`` run on a desk's SQLite file (FTS5) and on a team server (PostgreSQL's
full-text search): what a person sees of search is the same there. Rankings differ (bm25 against
ts_rank), so those tests check what both must do (the right article first or in the top hits, all
words before any word, the preferred language first), not whole orderings. The rest check what only
the desk's FTS5 index does (its vocabulary: typos, compounds, key terms; its two statement paths);
each says so.
"""

from __future__ import annotations

import pytest

from agent_assist.knowledge.articles import add_articles, count, get_article
from agent_assist.knowledge.search import (
    ParsedQuery,
    key_terms,
    locales,
    parse_query,
    search,
    sections,
    suggest_for_text,
)
from agent_assist.knowledge.terms import content_words, fold
from agent_assist.store import Store
from agent_assist.store.errors import NotFoundError

# ids follow the order of this list (a fresh store)
ARTICLES = [
    {"key": "refund-status", "locale": "en", "section": "Refunds", "title": "When will I get my refund?",
     "body": "Refunds show within 5 business days after the merchant registers your return.\n\n"
             "Check the purchase in the app to see the refund status."},  # 1
    {"key": "refund-status", "locale": "sv", "section": "Refunds", "title": "När får jag min återbetalning?",
     "body": "Återbetalningen syns inom 5 bankdagar efter att butiken har registrerat din retur.\n\n"
             "Du ser status i appen."},  # 2
    {"key": "late-fees", "locale": "en", "section": "Payments", "title": "How late fees work",
     "body": "If a payment fails we retry after three days; a late fee applies only after the retry fails.\n\n"
             "You can avoid the fee by paying early in the app."},  # 3
    {"key": "pay-early", "locale": "en", "section": "Payments", "title": "Paying early",
     "body": "You can pay any instalment early in the app at no extra cost."},  # 4
    {"key": "fraud", "locale": "en", "section": "Security", "title": "I don't recognise a purchase",
     "body": "Tell us right away; we pause the payments while we investigate an unauthorised purchase."},  # 5
    {"key": "email", "locale": "en", "section": "Account", "title": "Changing your email address",
     "body": "Open settings and choose Email to change the address we write to."},  # 6
    {"key": "address", "locale": "de", "section": "Account", "title": "Adresse ändern",
     "body": "Sie können Ihre Straße und Hausnummer jederzeit in der App ändern."},  # 7
    {"key": "late-fees", "locale": "sv", "section": "Payments", "title": "Förseningsavgift",
     "body": "En förseningsavgift tas ut om betalningen misslyckas två gånger."},  # 8
    {"key": "tracking", "locale": "en", "section": "Shipping", "title": "Tracking a parcel",
     "body": "Use the tracking number from the merchant. If your parcel is late, contact the merchant."},  # 9
    {"key": "vouchers", "locale": "en", "section": "Security", "title": "Sharing voucher codes safely",
     "body": "Never paste <script>alert('x')</script> into the chat & always check the <b>sender</b> "
             "before you share a voucher code."},  # 10
    {"key": "plain-sv", "locale": None, "section": "Test", "title": "Aterbetalning utan prickar",
     "body": "Skriven aterbetalning utan diakritiska tecken."},  # 11
    {"key": "closed-card", "locale": "en", "section": "Refunds", "title": "Refund to a closed card",
     "body": "If the card is closed the refund goes to your bank account instead."},  # 12
    {"key": "store-credit", "locale": "en", "section": "Payments", "title": "Store credit",
     "body": "Store credit works like gift cards at checkout and it never expires."},  # 13
    {"key": "gift-cards", "locale": "en", "section": "Payments", "title": "Gift cards",
     "body": "Buy a card in the shop and send it to a friend; it never expires."},  # 14
]


@pytest.fixture
def kb(store: Store) -> Store:
    assert add_articles(store, ARTICLES) == len(ARTICLES)
    assert count(store.db) == len(ARTICLES)
    return store


def ids(hits) -> list[int]:
    return [h.article_id for h in hits]


# -- parse_query ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,match,fallback", [
    ("refu", '"refu"*', None),
    ("Late  FEE", '"late"* AND "fee"*', '"late"* OR "fee"*'),
    ('late fee -waiver "credit limit"', '("late"* AND "fee"* AND "credit limit") NOT "waiver"',
     '("late"* OR "fee"* OR "credit limit") NOT "waiver"'),
    ('refund -"bank account"', '("refund"*) NOT "bank account"', None),
    ('"exact phrase"', '"exact phrase"', None),
    ("Återbetalning", '"aterbetalning"*', None),
    ("col:term", '"col"* AND "term"*', '"col"* OR "term"*'),
    ("-waiver", None, None),
    ('-"late fee" -bank', None, None),
    ("", None, None),
    ("   \t\n", None, None),
    ('""', None, None),
    ("😀 ✓ —", None, None),
    ('"unbalanced phrase', '"unbalanced phrase"', None),
    ('say "hi" "', '"say"* AND "hi"', '"say"* OR "hi"'),
])
def test_parse_query(text: str, match: str | None, fallback: str | None) -> None:
    assert parse_query(text) == ParsedQuery(match, fallback)


HOSTILE = [
    '"', '""', '"""', "'", "*", "**", "refund*", "*refund", "AND", "OR", "NOT", "AND OR NOT", "refund AND",
    "OR(", "refund OR(", ")", "(", "NEAR", "NEAR(refund merchant)", "NEAR(refund merchant, 2)", ":", "title:",
    "title:refund", "body:refund", "col:term", "{title body}:refund", "^", "^refund", "-", "--", "- -", "-refund",
    '-"', '"refund', 'refund"', '"late fee', '-"late fee', "+", "refund + fee", "a.b", "\\", "\\\"", "%", "_",
    "😀", "refund 😀", "ре́фанд", "退款", "\x00", "refund\x00fee", "‮refund", "ﬁnance", "1e9", "0", "-0",
    "\"\" \"\" -\"\"", "'; DROP TABLE articles; --", "refund -refund", " ".join(["refund"] * 60),
    " ".join(f"w{i}" for i in range(150)),
]


@pytest.mark.both_backends
def test_fts_syntax_in_user_input_is_just_text(kb: Store) -> None:
    # one test over all inputs (not one each): on a team server each test costs a fresh database
    for text in HOSTILE:
        hits = search(kb.db, text)
        assert isinstance(hits, list), text
        for h in hits:
            assert isinstance(h.article_id, int) and isinstance(h.snippet, str), text
        # the filters go through the same path
        assert isinstance(search(kb.db, text, locale="en", section="Refunds", prefer_locale="sv"), list), text
    assert count(kb.db) == len(ARTICLES)
    assert set(ids(search(kb.db, "'; DROP TABLE articles; --"))) <= set(range(1, len(ARTICLES) + 1))


@pytest.mark.both_backends
def test_fts_keywords_are_searched_as_words(kb: Store) -> None:
    # "and"/"or"/"not" typed by a person are words, not operators; nothing contains "not" so nothing matches
    assert search(kb.db, "refund NOT") == search(kb.db, "refund not")
    assert ids(search(kb.db, "title:refund")) == ids(search(kb.db, "title refund"))
    assert set(ids(search(kb.db, "refund*"))) == set(ids(search(kb.db, "refund")))


# -- matching ------------------------------------------------------------------------------------------
@pytest.mark.both_backends
def test_search_as_you_type_prefix(kb: Store) -> None:
    for typed in ("r", "re", "ref", "refu", "refun", "refund", "Refu"):
        assert {1, 12} <= set(ids(search(kb.db, typed))), typed
    assert set(ids(search(kb.db, "refu"))) == {1, 12}
    assert search(kb.db, "xylophone") == []


@pytest.mark.both_backends
def test_words_typed_with_their_accents_find_both_spellings(kb: Store) -> None:
    accented = set(ids(search(kb.db, "återbetalning")))
    upper = set(ids(search(kb.db, "ÅTERBETALNING")))
    assert accented == upper == {2, 11}  # 11 is written without the ring
    assert ids(search(kb.db, "förseningsavgift")) == [8]
    assert 7 in ids(search(kb.db, "ändern"))


# SQLite only: FTS5's unicode61 tokenizer folds the index itself, so a word typed without its accents
# finds the articles written with them; a team server's 'simple' configuration keeps them as written
def test_diacritics_are_folded_both_ways(kb: Store) -> None:
    plain = set(ids(search(kb.db, "aterbetalning")))
    accented = set(ids(search(kb.db, "återbetalning")))
    upper = set(ids(search(kb.db, "ÅTERBETALNING")))
    assert plain == accented == upper == {2, 11}
    assert ids(search(kb.db, "forseningsavgift")) == [8]
    assert 7 in ids(search(kb.db, "andern"))


@pytest.mark.both_backends
def test_german_sharp_s_is_found_as_typed(kb: Store) -> None:
    # the index keeps "straße" (unicode61 does not turn ß into ss); the query must be folded the same way
    assert ids(search(kb.db, "Straße")) == [7]
    assert ids(search(kb.db, "straße")) == [7]


@pytest.mark.both_backends
def test_strict_and_then_fallback_to_or(kb: Store) -> None:
    assert set(ids(search(kb.db, "late"))) == {3, 9}
    # every word first; the parcel article has "late" but no fee: after it, never hidden by it
    assert ids(search(kb.db, "late fee")) == [3, 9]
    # nothing has both words: the looser OR form answers
    assert set(ids(search(kb.db, "refund zebra"))) == {1, 12}
    assert set(ids(search(kb.db, "gift parcel"))) == {9, 13, 14}
    assert search(kb.db, "zebra giraffe") == []


# SQLite only: typos are read against the FTS5 index's own vocabulary (articles_fts_vocab)
def test_typos_find_the_words_the_index_knows(kb: Store) -> None:
    assert set(ids(search(kb.db, "refundx"))) == {1, 12}  # one typo away from "refund"
    assert set(ids(search(kb.db, "refnd"))) == {1, 12}  # a letter missing
    assert set(ids(search(kb.db, "återbetalnig"))) == {2, 11}
    assert ids(search(kb.db, "trackign")) == [9]  # two letters swapped
    assert ids(search(kb.db, "forseningsavgit")) == [8]
    assert set(ids(search(kb.db, "refnd -merchant"))) == {12}  # exclusions still apply
    assert ids(search(kb.db, "refnd", locale="sv")) == []  # and filters
    assert search(kb.db, "zebra giraffe") == []


# SQLite only: the end of a compound is looked up in the FTS5 vocabulary too
def test_compound_words_find_their_last_part(kb: Store) -> None:
    assert ids(search(kb.db, "parceltracking")) == [9]


def test_stop_words_are_left_out_unless_being_typed() -> None:
    assert parse_query("how to get my refund").match == '"refund"*'
    assert parse_query("refund to").match == '"refund"* AND "to"*'  # "to" may become "total"
    assert parse_query("refund to ").match == '"refund"*'
    assert parse_query("how to").match == '"how"* AND "to"*'  # nothing else: kept
    assert parse_query('"how to" refund').match == '"how to" AND "refund"*'


# SQLite only: FTS5 ranks in the index alone unless a filter or preference needs the join
def test_ranking_is_the_same_with_and_without_the_join(kb: Store) -> None:
    for q in ("refund", "app", "late fee", "a", "pay"):
        fast = [(h.article_id, h.snippet, h.title, h.locale) for h in search(kb.db, q)]
        joined = [(h.article_id, h.snippet, h.title, h.locale) for h in search(kb.db, q, prefer_locale="xx")]
        assert fast == joined, q


@pytest.mark.both_backends
def test_exclusions_and_phrases(kb: Store) -> None:
    assert set(ids(search(kb.db, "refund"))) == {1, 12}
    assert ids(search(kb.db, "refund -merchant")) == [12]
    assert ids(search(kb.db, 'refund -"bank account"')) == [1]
    assert ids(search(kb.db, 'refund -"account bank"')) != [1]  # a phrase is ordered; this one is in no article
    assert ids(search(kb.db, '"business days"')) == [1]
    assert ids(search(kb.db, '"days business"')) == []
    assert ids(search(kb.db, "-refund")) == []  # only exclusions: nothing to search for


@pytest.mark.both_backends
def test_title_match_outranks_body_only_match(kb: Store) -> None:
    hits = search(kb.db, "gift")
    assert ids(hits) == [14, 13]  # 14 has it in the title; 13 (added first) only in its body
    assert hits[0].score < hits[1].score  # lower is better (bm25; a team server's score is -ts_rank)


@pytest.mark.both_backends
def test_articles_with_all_the_words_come_before_those_with_some(kb: Store) -> None:
    hits = search(kb.db, "refund card")
    assert ids(hits)[0] == 12  # "Refund to a closed card": the only one with both
    assert set(ids(hits)[1:]) == {1, 13, 14}  # then those with one of them: one hit never hides the rest
    some = search(kb.db, "refund instalment")  # none has both: any of them, best first
    assert set(ids(some)) == {1, 4, 12}
    assert set(ids(some[:2])) == {1, 12}  # "refund" twice in 1 and in 12's title outweighs 4's one body word


@pytest.mark.both_backends
def test_the_expected_article_is_among_the_first_three(kb: Store) -> None:
    for query, expected in (("late fee", 3), ("pay early", 4), ("unauthorised purchase", 5),
                            ("change email address", 6), ("tracking number", 9), ("voucher code", 10),
                            ("closed card refund", 12), ("store credit", 13), ("gift cards", 14)):
        assert expected in ids(search(kb.db, query))[:3], query


@pytest.mark.both_backends
def test_locale_and_section_filters(kb: Store) -> None:
    assert set(ids(search(kb.db, "app"))) >= {1, 3, 4, 7}
    assert ids(search(kb.db, "app", locale="de")) == [7]
    assert set(ids(search(kb.db, "app", section="Payments"))) == {3, 4}
    assert set(ids(search(kb.db, "app", locale="en", section="Payments"))) == {3, 4}
    assert search(kb.db, "app", locale="de", section="Payments") == []
    assert search(kb.db, "app", locale="xx") == []
    assert all(h.locale == "en" for h in search(kb.db, "the", locale="en"))


@pytest.mark.both_backends
def test_prefer_locale_puts_that_locale_first(kb: Store) -> None:
    for prefer in ("de", "sv", "en"):
        hits = search(kb.db, "app", prefer_locale=prefer)
        locs = [h.locale for h in hits]
        n = locs.count(prefer)
        assert n > 0
        assert locs[:n] == [prefer] * n, (prefer, locs)
        assert set(ids(hits)) == set(ids(search(kb.db, "app")))  # same hits, different order


@pytest.mark.both_backends
def test_limit(kb: Store) -> None:
    assert len(search(kb.db, "a", limit=3)) == 3
    assert len(search(kb.db, "a", limit=100)) <= len(ARTICLES)


@pytest.mark.both_backends
def test_hit_fields(kb: Store) -> None:
    (hit,) = search(kb.db, "tracking")
    assert (hit.article_id, hit.title, hit.section, hit.locale) == (9, "Tracking a parcel", "Shipping", "en")
    assert hit.citation == "[KB-9]"
    assert isinstance(hit.score, float)


@pytest.mark.both_backends
def test_snippet_html_escapes_article_text_and_bolds_matches(kb: Store) -> None:
    (hit,) = search(kb.db, "voucher")
    html = hit.snippet_html()
    assert "<b>voucher</b>" in html
    assert "<script>" not in html and "<b>sender</b>" not in html  # the article's markup never formats
    assert "sender" in html
    assert "&amp;" in html
    assert "\x02" not in html and "\x03" not in html
    term = hit.snippet_terminal(bold="[", reset="]")
    assert "[voucher]" in term and "\x02" not in term


# SQLite only: FTS5's snippet keeps the article's text as written, markup-like words too; PostgreSQL's
# parser reads "<script>" in text as a tag, and ts_headline leaves tags out of the snippet
def test_snippet_shows_markup_in_an_article_as_text(kb: Store) -> None:
    (hit,) = search(kb.db, "voucher")
    html = hit.snippet_html()
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;sender&lt;/b&gt;" in html


@pytest.mark.both_backends
def test_snippet_highlights_prefix_matches(kb: Store) -> None:
    (hit,) = search(kb.db, "merch", section="Refunds")
    assert "<b>merchant</b>" in hit.snippet_html()


# -- key terms and suggestions ----------------------------------------------------------------------------
# SQLite only: key terms are scored against the FTS5 index's vocabulary (a team server's suggestions
# rank the ticket's most repeated words instead: see the suggest tests below, which run on both)
def test_key_terms_ignore_stop_words_and_unknown_terms(kb: Store) -> None:
    text = ("Hello, I really want my refund. The refund is late and I need the refund now, please. "
            "My xylophone and my xylophone again.")
    terms = key_terms(kb.db, text)
    assert terms[0] == "refund"
    assert "late" in terms
    for word in ("hello", "really", "want", "the", "need", "please", "now", "and", "my", "xylophone", "again"):
        assert word not in terms
    vocab = {r[0] for r in kb.db.conn.execute("SELECT term FROM articles_fts_vocab")}
    assert set(terms) <= vocab


# SQLite only: as above
def test_key_terms_subject_counts_and_max_terms(kb: Store) -> None:
    assert key_terms(kb.db, "parcel", subject="voucher voucher")[0] == "voucher"
    text = "refund late voucher parcel tracking merchant gift credit instalment settings"
    assert len(key_terms(kb.db, text, max_terms=3)) == 3
    assert key_terms(kb.db, "") == []
    assert key_terms(kb.db, "the and or of") == []


# SQLite only: as above
def test_key_terms_drop_words_most_articles_share(store: Store) -> None:
    add_articles(store, [{"title": f"Common {i}", "body": "common words here"} for i in range(4)]
                 + [{"title": "Special", "body": "special words"}])
    assert key_terms(store.db, "common special") == ["special"]


@pytest.mark.both_backends
def test_suggest_for_english_text(kb: Store) -> None:
    hits = suggest_for_text(kb.db, "Hi, I was charged a late fee although my payment failed only because of the "
                                   "bank. Please remove the late fee.", subject="Late fee charged twice",
                            language="en")
    assert hits[0].article_id == 3


@pytest.mark.both_backends
def test_suggest_for_swedish_text(kb: Store) -> None:
    hits = suggest_for_text(kb.db, "Hej! Jag returnerade skorna för två veckor sedan men har inte fått min "
                                   "återbetalning.", subject="Var är min återbetalning?", language="sv")
    assert hits[0].article_id == 2
    assert hits[0].locale == "sv"


@pytest.mark.both_backends
def test_suggest_prefers_the_ticket_language(kb: Store) -> None:
    text = "Where is my refund? The merchant has my return. Återbetalning?"
    sv_first = suggest_for_text(kb.db, text, language="sv")
    en_first = suggest_for_text(kb.db, text, language="en")
    assert sv_first[0].locale == "sv"
    assert en_first[0].locale == "en"
    assert set(ids(sv_first)) == set(ids(en_first))


@pytest.mark.both_backends
def test_suggest_with_nothing_in_common(kb: Store) -> None:
    assert suggest_for_text(kb.db, "My parrot sings opera at midnight", language="en") == []


@pytest.mark.both_backends
def test_empty_kb(store: Store) -> None:
    assert search(store.db, "refund") == []
    assert search(store.db, "refund zebra") == []
    assert suggest_for_text(store.db, "I want my refund", subject="refund", language="en") == []
    assert sections(store.db) == [] and locales(store.db) == []
    assert count(store.db) == 0


def test_empty_kb_has_no_key_terms(store: Store) -> None:  # SQLite only: key terms are the FTS5 index's
    assert key_terms(store.db, "I want my refund") == []


# -- articles and helpers ------------------------------------------------------------------------------------
@pytest.mark.both_backends
def test_sections_and_locales(kb: Store) -> None:
    assert sections(kb.db) == ["Account", "Payments", "Refunds", "Security", "Shipping", "Test"]
    assert locales(kb.db) == ["de", "en", "sv"]


@pytest.mark.both_backends
def test_article_answer_and_citation(kb: Store) -> None:
    a = get_article(kb.db, 1)
    assert a.answer() == "Refunds show within 5 business days after the merchant registers your return."
    assert a.citation == "[KB-1]"
    with pytest.raises(NotFoundError):
        get_article(kb.db, 999)


@pytest.mark.both_backends
def test_new_articles_are_searchable_at_once(kb: Store) -> None:
    assert search(kb.db, "chargeback") == []
    add_articles(kb, [{"title": "Chargebacks", "body": "How a chargeback works.", "locale": "en"}])
    assert ids(search(kb.db, "chargeback")) == [len(ARTICLES) + 1]


def test_fold_and_content_words() -> None:
    assert fold("Återbetalning") == "aterbetalning"
    assert fold("naïve CAFÉ") == "naive cafe"
    assert content_words("Hej, jag vill ha min återbetalning 55123 nu!") == ["aterbetalning"]
