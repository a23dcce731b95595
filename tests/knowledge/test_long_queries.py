"""A pasted page in the search box: the first words are searched, and the result says so."""

from __future__ import annotations

import pytest

from agent_assist.knowledge.articles import add_articles
from agent_assist.knowledge.search import MAX_QUERY_CHARS, MAX_QUERY_WORDS, parse_query, query_note, search
from agent_assist.store import Store
from tests.knowledge.test_search import ARTICLES, ids


@pytest.mark.both_backends
def test_a_query_of_thousands_of_words_uses_the_first_ones(store: Store):
    add_articles(store, ARTICLES)
    page = "refund closed card " + " ".join(f"filler{i}" for i in range(5_000))
    parsed = parse_query(page)
    assert parsed.terms[:3] == ("refund", "closed", "card")
    assert len(parsed.terms) == MAX_QUERY_WORDS
    assert query_note(page) == f"The search used the first {MAX_QUERY_WORDS} words of the query."
    assert 12 in ids(search(store.db, page))  # the relaxed search still finds "Refund to a closed card"


def test_short_queries_have_no_note():
    assert query_note("late fee -waiver \"credit limit\"") is None
    assert query_note(" ".join(["word"] * MAX_QUERY_WORDS)) is None


def test_one_enormous_word_and_phrases_are_capped_too():
    parsed = parse_query("x" * 100_000)
    assert parsed.terms and all(len(t) <= MAX_QUERY_CHARS for t in parsed.terms)
    assert query_note("x" * 100_000) is not None
    phrase = '"' + " ".join(f"w{i}" for i in range(200)) + '" refund'
    parsed = parse_query(phrase)
    assert query_note(phrase) is not None and "refund" not in parsed.terms
    assert parsed.phrases == ('"' + " ".join(f"w{i}" for i in range(MAX_QUERY_WORDS)) + '"',)
