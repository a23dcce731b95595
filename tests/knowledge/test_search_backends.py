"""Knowledge search answers on both backends (FTS5 on a desk, PostgreSQL full-text on a team server)."""

import pytest
from agent_assist.knowledge import search
pytestmark = pytest.mark.both_backends

def test_search_both(small_store):
    hits = search.search(small_store.db, "refund")
    assert hits, "no hits"
    assert all(h.snippet for h in hits)
    s = search.suggest_for_text(small_store.db, "I want a refund for my return", subject="Refund")
    assert s
