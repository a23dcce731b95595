"""The model's second opinion on triage, through the real client and a real HTTP server."""

from __future__ import annotations

import json

import pytest

from agent_assist.assist import model_triage
from agent_assist.assist.provider import Provider, ProviderConfig, ProviderError
from agent_assist.store import Store
from agent_assist.store.tickets import get_ticket, set_triage
from tests.assist.openai_server import openai_server  # noqa: F401


def _provider(server, redact=True) -> Provider:
    return Provider(ProviderConfig.for_preset("custom", base_url=server.base_url, model="m", redact=redact), None)


def test_model_flags_are_recorded_beside_the_rules(small_store: Store, openai_server):  # noqa: F811
    set_triage(small_store, 3, [("fraud", "Rules: does not recognise a purchase")], sentiment="negative")
    openai_server.script(reply='{"flags": [{"kind": "fraud", "reason": "Does not recognise a 300 EUR '
                               'purchase"}], "sentiment": "negative"}')
    with _provider(openai_server) as provider:
        result = model_triage.ask_model(small_store, 3, provider, actor="alex")
    assert result.flags == (("fraud", "Model: Does not recognise a 300 EUR purchase"),)
    flags = get_ticket(small_store.db, 3).flags
    assert {(f.kind, f.source) for f in flags} == {("fraud", "rules"), ("fraud", "model")}
    body = openai_server.chat_requests[-1].body
    assert body["temperature"] == 0.0 and "<customer_thread>" in json.dumps(body)


@pytest.mark.parametrize("reply", ["I think it is fraud.", "[1, 2]", ""])
def test_junk_answers_are_reported_not_guessed(small_store: Store, openai_server, reply):  # noqa: F811
    openai_server.script(reply=reply)
    with _provider(openai_server) as provider, pytest.raises(ProviderError) as err:
        model_triage.ask_model(small_store, 3, provider, actor="alex")
    assert err.value.kind == "bad_response"
    assert not [f for f in get_ticket(small_store.db, 3).flags if f.source == "model"]


def test_personal_data_is_redacted_for_the_model(small_store: Store, db_path, openai_server):  # noqa: F811
    from agent_assist.store.tickets import add_inbound_message

    add_inbound_message(small_store, 1, actor="t", author="Tom", body_text="card 4111 1111 1111 1111 stolen!")
    openai_server.script(reply='{"flags": [], "sentiment": "negative"}')
    with _provider(openai_server) as provider:
        model_triage.ask_model(small_store, 1, provider, actor="alex")
    assert "4111 1111 1111 1111" not in json.dumps(openai_server.chat_requests[-1].body)


def _triage_reply(request) -> str:
    """Like a small model: prose unless the server constrains it to JSON."""
    if (request.body.get("response_format") or {}).get("type") in ("json_schema", "json_object"):
        return '{"flags": [{"kind": "fraud", "reason": "Does not recognise a purchase"}], "sentiment": "negative"}'
    return "The customer seems worried about fraud, I would flag it."


@pytest.mark.parametrize("modes, expected, refusal", [
    (("json_schema", "json_object"), "json_schema", 400),
    (("json_object",), "json_object", 400),
    (("json_object",), "json_object", 500),  # llama-cpp-python: a 500 naming response_format
])
def test_json_is_asked_for_with_response_format_and_falls_back(small_store: Store, openai_server, modes,  # noqa: F811
                                                               expected, refusal):
    openai_server.script(reply=_triage_reply, json_modes=modes, json_refusal_status=refusal)
    with _provider(openai_server) as provider:
        result = model_triage.ask_model(small_store, 3, provider, actor="alex")
        assert result.json_mode == expected and result.flags[0][0] == "fraud"
        assert provider.json_mode == expected  # remembered: the next ticket asks the right way at once
        before = len(openai_server.chat_requests)
        model_triage.ask_model(small_store, 3, provider, actor="alex")
        assert len(openai_server.chat_requests) == before + 1
    body = openai_server.chat_requests[-1].body
    assert body["response_format"]["type"] == expected
    if expected == "json_schema":
        schema = body["response_format"]["json_schema"]["schema"]
        assert "fraud" in schema["properties"]["flags"]["items"]["properties"]["kind"]["enum"]


def test_prose_gets_one_retry_with_a_reminder(small_store: Store, openai_server):  # noqa: F811
    answers = iter(["I think this is fraud.", '{"flags": [], "sentiment": "neutral"}'])
    openai_server.script(reply=lambda req: next(answers), json_modes=())  # a server without response_format
    with _provider(openai_server) as provider:
        result = model_triage.ask_model(small_store, 3, provider, actor="alex")
    assert result.attempts == 2 and result.json_mode == "none" and result.sentiment == "neutral"
    last = openai_server.chat_requests[-1].body
    assert "response_format" not in last and "not the JSON object" in last["messages"][-1]["content"]


def test_prose_twice_falls_back_visibly_to_the_rules(small_store: Store, openai_server):  # noqa: F811
    set_triage(small_store, 3, [("fraud", "Rules: does not recognise a purchase")], sentiment="negative")
    openai_server.script(reply="Definitely fraud, flag it!", json_modes=())
    with _provider(openai_server) as provider, pytest.raises(ProviderError) as err:
        model_triage.ask_model(small_store, 3, provider, actor="alex")
    assert "prose instead of JSON" in str(err.value) and "rules' flags stand" in str(err.value)
    assert {(f.kind, f.source) for f in get_ticket(small_store.db, 3).flags} == {("fraud", "rules")}


@pytest.mark.parametrize("answer, why", [
    ('{"flags": "fraud"}', "did not have both"),
    ('{"flags": "fraud", "sentiment": "negative"}', "were not a list"),
    ('{"other": 1}', "fields that were not asked for"),
    ('{"flags": [{"kind": "weather", "reason": "x"}], "sentiment": "neutral"}', 'category that does not exist ("weather")'),
    ('{"flags": [{"kind": "fraud", "reason": "x"}, {"kind": "Fraud", "reason": "y"}], "sentiment": "negative"}',
     'category that does not exist ("Fraud")'),
    ('{"flags": [], "sentiment": "furious"}', "sentiment that does not exist"),
    ('{"flags": [{"kind": "fraud", "reason": "x", "confidence": 0.9}], "sentiment": "negative"}', "not of the shape"),
    ('{"flags": ["fraud"], "sentiment": "negative"}', "not of the shape"),
    ('{"flags": [], "sentiment": "neutral", "explanation": "The customer is calm."}', "fields that were not asked for"),
    ('Sure! {"flags": [{"kind": "fraud", "reason": "x"}], "sentiment": "negative"}', "prose around the JSON"),
    ('{"flags": [], "sentiment": "neutral"}\nI hope this helps.', "prose around the JSON"),
    ('{"flags": [{"kind": "fraud"', "prose instead of JSON, or JSON that does not parse"),
    ("fraud", "prose instead of JSON"),
])
def test_anything_but_the_asked_json_is_not_usable_and_says_why(answer, why):
    with pytest.raises(ProviderError) as err:
        model_triage.parse(answer)
    assert err.value.kind == "bad_response"
    assert str(err.value).startswith("The model's triage answer was not usable: ") and why in str(err.value)


def test_the_json_alone_or_alone_in_a_code_fence_is_taken():
    answer = '{"flags": [{"kind": "vulnerability", "reason": "  Mentions  a bereavement "}], "sentiment": "negative"}'
    expected = (("vulnerability", "Model: Mentions a bereavement"),)
    assert model_triage.parse(answer).flags == expected
    assert model_triage.parse(f"```json\n{answer}\n```\n").flags == expected
    assert model_triage.parse(" \n" + answer + "\n").sentiment == "negative"


def test_the_schema_constrains_the_kinds_to_the_known_ones(small_store: Store, openai_server):  # noqa: F811
    from agent_assist.store.migrations import FLAG_KINDS

    def reply(request) -> str:  # a server that checks what it was sent, as a grammar-constrained one would use it
        fmt = request.body["response_format"]
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
        return '{"flags": [{"kind": "complaint_legal", "reason": "Mentions the ombudsman"}], "sentiment": "angry"}'

    openai_server.script(reply=reply)
    with _provider(openai_server) as provider:
        result = model_triage.ask_model(small_store, 3, provider, actor="alex")
    assert result.json_mode == "json_schema" and result.flags == (("complaint_legal", "Model: Mentions the ombudsman"),)
    schema = openai_server.chat_requests[-1].body["response_format"]["json_schema"]["schema"]
    item = schema["properties"]["flags"]["items"]
    assert item["properties"]["kind"]["enum"] == list(FLAG_KINDS)
    assert item["additionalProperties"] is False and schema["additionalProperties"] is False
    assert set(schema["properties"]["sentiment"]["enum"]) == {"angry", "negative", "neutral", "positive"}


def test_unknown_categories_are_never_recorded_even_under_a_schema(small_store: Store, openai_server):  # noqa: F811
    """A server that ignores the schema and invents a category: asked again, then refused in words."""
    set_triage(small_store, 3, [("fraud", "Rules: does not recognise a purchase")], sentiment="negative")
    openai_server.script(reply='{"flags": [{"kind": "fraud", "reason": "x"}, {"kind": "urgent_vip", "reason": "y"}], '
                               '"sentiment": "negative"}')
    with _provider(openai_server) as provider, pytest.raises(ProviderError) as err:
        model_triage.ask_model(small_store, 3, provider, actor="alex")
    words = str(err.value)
    assert 'category that does not exist ("urgent_vip")' in words and "rules' flags stand" in words
    assert len(openai_server.chat_requests) == 2  # one reminder, listing the known kinds
    reminder = openai_server.chat_requests[-1].body["messages"][-1]["content"]
    assert "not the JSON object asked for" in reminder and "complaint_legal" in reminder
    assert {(f.kind, f.source) for f in get_ticket(small_store.db, 3).flags} == {("fraud", "rules")}


def test_a_bad_category_then_a_good_answer_on_a_json_object_server(small_store: Store, openai_server):  # noqa: F811
    answers = iter(['{"flags": [{"kind": "weather", "reason": "x"}], "sentiment": "neutral"}',
                    '{"flags": [{"kind": "dispute", "reason": "Item not received"}], "sentiment": "negative"}'])
    openai_server.script(reply=lambda req: next(answers), json_modes=("json_object",))
    with _provider(openai_server) as provider:
        result = model_triage.ask_model(small_store, 3, provider, actor="alex")
    assert (result.json_mode, result.attempts, result.flags) == ("json_object", 2,
                                                                 (("dispute", "Model: Item not received"),))
    assert [r.body["response_format"]["type"] for r in openai_server.chat_requests] == [
        "json_schema", "json_object", "json_object"]  # refused, answered badly, answered
    assert {(f.kind, f.source) for f in get_ticket(small_store.db, 3).flags if f.source == "model"} == {
        ("dispute", "model")}
