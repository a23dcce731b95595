"""The provider against a real HTTP server on 127.0.0.1, through the official openai client."""

from __future__ import annotations

import json
import logging
import pickle
import socket
import threading
import time
from datetime import UTC, datetime

import openai
import pytest

from agent_assist.assist import provider as provider_mod
from agent_assist.assist.provider import (
    KINDS,
    PRESETS,
    Provider,
    ProviderConfig,
    ProviderError,
    parse_retry_after,
)
from tests.assist.openai_server import OpenAIStubServer, fake_embedding, openai_server, split_tokens  # noqa: F401

FAKE_KEY = "sk-test-FAKEKEY-9f8e7d6c5b4a"
MESSAGES = [{"role": "system", "content": "You draft support replies."},
            {"role": "user", "content": "My late fee was charged twice."}]


@pytest.fixture
def make_provider(openai_server):  # noqa: F811 - the fixture imported above
    made: list[Provider] = []

    def make(*, key: str | None = FAKE_KEY, preset: str = "custom", **changes) -> Provider:
        changes.setdefault("base_url", openai_server.base_url)
        changes.setdefault("model", "test-model")
        p = Provider(ProviderConfig.for_preset(preset, **changes), key)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_no_key(err: ProviderError, caplog: pytest.LogCaptureFixture) -> None:
    for text in (str(err), repr(err), err.detail, err.partial, caplog.text,
                 *(r.getMessage() for r in caplog.records)):
        assert FAKE_KEY not in text


# -- streaming ------------------------------------------------------------------------------------------------

def test_stream_yields_deltas_in_order_and_the_request_carries_the_settings(openai_server, make_provider):  # noqa: F811
    reply = "Hi Tom, the late fee has been removed. It will not show on your next statement."
    openai_server.script(reply=reply)
    p = make_provider()

    deltas = list(p.stream_chat(MESSAGES))

    assert deltas == split_tokens(reply)
    assert "".join(deltas) == reply
    (req,) = openai_server.chat_requests
    assert req.path == "/v1/chat/completions"
    assert req.body["model"] == "test-model"
    assert req.body["messages"] == MESSAGES
    assert req.body["stream"] is True
    assert req.body["temperature"] == 0.3
    assert req.body["max_tokens"] == 700 and "stop" not in req.body
    assert req.headers["authorization"] == f"Bearer {FAKE_KEY}"


def _drain(gen):
    deltas = []
    while True:
        try:
            deltas.append(next(gen))
        except StopIteration as stop:
            return deltas, stop.value


def test_max_tokens_and_stop_are_sent_and_the_finish_reason_is_returned(openai_server, make_provider):  # noqa: F811
    openai_server.script(reply="Short reply.")
    deltas, end = _drain(make_provider(reply_limit=321).stream_chat(MESSAGES, stop=["\n[customer, ", "</text>"]))
    body = openai_server.chat_requests[-1].body
    assert body["max_tokens"] == 321 and body["stop"] == ["\n[customer, ", "</text>"]
    assert end.finish_reason == "stop" and not end.cut_off and end.text == "Short reply."


def test_a_reply_that_hits_the_length_limit_is_cut_off_not_complete(openai_server, make_provider):  # noqa: F811
    openai_server.script(reply="This reply stops in the mid", finish_reason="length")
    _, end = _drain(make_provider().stream_chat(MESSAGES))
    assert end.cut_off and end.text == "This reply stops in the mid"


@pytest.mark.parametrize("finish, kind", [(None, "empty"), ("length", "too_long")])
def test_an_empty_stream_is_said_in_words_never_as_a_dropped_connection(openai_server, make_provider,  # noqa: F811
                                                                        finish, kind):
    if finish is None:
        openai_server.script(empty_stream=True)
    else:
        openai_server.script(reply="", finish_reason=finish)
    with pytest.raises(ProviderError) as err:
        list(make_provider().stream_chat(MESSAGES))
    assert err.value.kind == kind and err.value.partial == ""
    assert "dropped" not in str(err.value) and "arrived so far" not in str(err.value)
    assert "context window" in str(err.value)


def test_the_context_window_comes_from_the_setting_or_the_server(openai_server, make_provider):  # noqa: F811
    assert make_provider().context_window() is None  # the stub has no /props by default
    openai_server.script(context_window=2048)
    p = make_provider()
    assert p.context_window() == 2048 and p.context_window() == 2048
    assert len([r for r in openai_server.requests if r.path == "/props"]) == 2  # one per provider, then cached
    assert make_provider(context_window=8192).context_window() == 8192


def test_ollama_reports_num_ctx_or_a_capped_trained_length():
    from agent_assist.assist.provider import _ollama_context

    assert _ollama_context({"parameters": "stop \"<|eot|>\"\nnum_ctx 8192", "model_info": {}}) == 8192
    assert _ollama_context({"model_info": {"llama.context_length": 131072}}) == 4096
    assert _ollama_context({"model_info": {"qwen2.context_length": 2048}}) == 2048
    assert _ollama_context({}) is None


def test_temperature_per_call_and_none_leaves_it_out(openai_server, make_provider):  # noqa: F811
    p = make_provider()
    list(p.stream_chat(MESSAGES, temperature=0.9))
    q = make_provider(temperature=None)
    q.complete(MESSAGES)
    first, second = openai_server.chat_requests
    assert first.body["temperature"] == 0.9
    assert "temperature" not in second.body


def test_tokens_per_chunk_groups_deltas(openai_server, make_provider):  # noqa: F811
    reply = " ".join(f"word{i}" for i in range(10))
    openai_server.script(reply=reply, tokens_per_chunk=4)
    deltas = list(make_provider().stream_chat(MESSAGES))
    assert len(deltas) == 3
    assert "".join(deltas) == reply


def test_reply_can_depend_on_the_request(openai_server, make_provider):  # noqa: F811
    openai_server.script(reply=lambda req: "echo: " + req.body["messages"][-1]["content"])
    assert make_provider().complete(MESSAGES) == "echo: My late fee was charged twice."


def test_complete_returns_the_whole_reply_without_streaming(openai_server, make_provider):  # noqa: F811
    openai_server.script(reply="Short answer.")
    assert make_provider().complete(MESSAGES) == "Short answer."
    (req,) = openai_server.chat_requests
    assert not req.body.get("stream")


# -- cancel ---------------------------------------------------------------------------------------------------

def _stream_in_thread(provider, flag: threading.Event) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(list(provider.stream_chat(MESSAGES, cancel=flag.is_set)))
        except ProviderError as err:
            outcome.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("script", [{"first_token_delay": 60}, {"hang": True}],
                         ids=["headers-then-silence", "no-headers"])
def test_stop_while_the_server_is_still_reading_the_prompt_closes_the_connection(openai_server, make_provider,  # noqa: F811
                                                                                 script):
    openai_server.script(**script)
    flag = threading.Event()
    thread, outcome = _stream_in_thread(make_provider(timeout_s=120), flag)
    deadline = time.monotonic() + 5
    while not openai_server.chat_requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert openai_server.chat_requests, "the request reached the server"
    flag.set()
    thread.join(10)  # the server would stay silent for a minute: only Stop can end this early
    assert not thread.is_alive()
    (err,) = outcome
    assert isinstance(err, ProviderError) and err.kind == "cancelled" and err.partial == ""
    assert openai_server.client_gone.wait(5), "the server saw the connection close"


def test_cancel_mid_stream_stops_early_and_closes_the_connection(openai_server, make_provider):  # noqa: F811
    openai_server.script(reply=" ".join(f"w{i}" for i in range(400)), token_delay=0.01)
    got: list[str] = []

    with pytest.raises(ProviderError) as info:
        for delta in make_provider().stream_chat(MESSAGES, cancel=lambda: len(got) >= 3):
            got.append(delta)  # noqa: PERF402 - this loop is the consumer under test

    assert info.value.kind == "cancelled"
    assert len(got) == 3
    assert info.value.partial == "".join(got)
    assert openai_server.client_gone.wait(3), "the server never noticed the client hanging up"
    (req,) = openai_server.chat_requests
    assert req.client_gone
    assert req.chunks_sent < 50


def test_abandoning_the_generator_closes_the_connection(openai_server, make_provider):  # noqa: F811
    openai_server.script(reply=" ".join(f"w{i}" for i in range(400)), token_delay=0.01)
    stream = make_provider().stream_chat(MESSAGES)
    assert next(stream) == "w0"
    stream.close()
    assert openai_server.client_gone.wait(3)


def test_cancel_before_the_request_sends_nothing(openai_server, make_provider):  # noqa: F811
    with pytest.raises(ProviderError) as info:
        list(make_provider().stream_chat(MESSAGES, cancel=lambda: True))
    assert info.value.kind == "cancelled"
    assert openai_server.requests == []


# -- failures map to kinds and plain messages -----------------------------------------------------------------

@pytest.mark.parametrize(("status", "kind", "words"), [
    (401, "auth", "The API key was refused (401). Check it in Settings → AI provider."),
    (403, "auth", "(403)"),
    (404, "model_not_found", "Model 'test-model' was not found on http://127.0.0.1:"),
    (500, "server", "The model server had a problem (500)."),
    (503, "server", "(503)"),
    (400, "config", "The server refused the request (400)"),
])
@pytest.mark.parametrize("call", ["stream", "complete"])
def test_status_errors_map_to_kinds_without_the_key(openai_server, make_provider, caplog,  # noqa: F811
                                                    status, kind, words, call):
    caplog.set_level(logging.DEBUG)
    openai_server.script(status=status, echo_auth_in_error=True)  # a leaky server echoes the key back
    p = make_provider()

    with pytest.raises(ProviderError) as info:
        if call == "stream":
            list(p.stream_chat(MESSAGES))
        else:
            p.complete(MESSAGES)

    err = info.value
    assert err.kind == kind
    assert err.status == status
    assert words in str(err)
    _assert_no_key(err, caplog)
    assert FAKE_KEY in openai_server.chat_requests[0].headers["authorization"]  # it did leave, to the server


def test_401_without_a_key_asks_for_one(openai_server, make_provider):  # noqa: F811
    openai_server.script(status=401)
    with pytest.raises(ProviderError) as info:
        make_provider(key=None).complete(MESSAGES)
    assert info.value.kind == "auth"
    assert "asks for an API key" in str(info.value)


def test_a_key_is_required_for_cloud_presets(openai_server, make_provider):  # noqa: F811
    p = make_provider(key=None, preset="openai")
    with pytest.raises(ProviderError) as info:
        list(p.stream_chat(MESSAGES))
    assert info.value.kind == "no_key"
    assert str(info.value) == "No API key is set for OpenAI. Add it in Settings → AI provider."
    assert openai_server.requests == []


def test_local_presets_need_no_key(openai_server, make_provider):  # noqa: F811
    p = make_provider(key=None, preset="ollama")
    assert p.complete(MESSAGES)
    assert openai_server.chat_requests[0].headers["authorization"] == "Bearer not-needed"


def test_timeout_with_a_hung_server(openai_server, make_provider):  # noqa: F811
    openai_server.script(hang=True)
    p = make_provider(timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        list(p.stream_chat(MESSAGES))
    assert time.monotonic() - started < 2.5
    assert info.value.kind == "timeout"
    assert str(info.value) == (f"The model server at {openai_server.base_url} sent nothing within 0.5 s (the "
                               "first-token timeout, 0.5 s). Try again, or raise the timeout in Settings → AI "
                               "provider.")


def test_local_presets_wait_longer_for_the_first_token_and_say_which_timeout(openai_server, make_provider):  # noqa: F811
    from agent_assist.assist.provider import DEFAULT_TIMEOUT_S, LOCAL_TIMEOUT_S

    for preset in ("ollama", "llamacpp", "vllm", "lmstudio"):
        assert ProviderConfig.for_preset(preset).timeout_s == LOCAL_TIMEOUT_S > DEFAULT_TIMEOUT_S
        assert ProviderConfig.from_dict({"preset": preset}).timeout_s == LOCAL_TIMEOUT_S
    assert ProviderConfig.for_preset("openai").timeout_s == DEFAULT_TIMEOUT_S
    openai_server.script(first_token_delay=3)
    with pytest.raises(ProviderError) as info:
        list(make_provider(preset="llamacpp", timeout_s=0.5).stream_chat(MESSAGES))
    assert info.value.kind == "timeout"
    assert "first-token timeout for a local server, 0.5 s" in str(info.value)
    assert "raise the timeout" in str(info.value)


def test_timeout_waiting_for_the_first_token(openai_server, make_provider):  # noqa: F811
    openai_server.script(first_token_delay=3)
    with pytest.raises(ProviderError) as info:
        list(make_provider(timeout_s=0.5).stream_chat(MESSAGES))
    assert info.value.kind == "timeout"


def test_connection_refused():
    port = _free_port()
    cfg = ProviderConfig.for_preset("ollama", base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout_s=2)
    with Provider(cfg) as p, pytest.raises(ProviderError) as info:
        list(p.stream_chat(MESSAGES))
    assert info.value.kind == "connection"
    assert str(info.value) == (f"Could not connect to http://127.0.0.1:{port}/v1: the connection was refused. "
                               "Is the model server running?")


@pytest.mark.parametrize("style", ["drop", "clean"])
def test_stream_cut_keeps_the_partial_text(openai_server, make_provider, style):  # noqa: F811
    reply = "One two three four five six seven eight"
    openai_server.script(reply=reply, cut_after=3, cut_style=style)
    got: list[str] = []
    with pytest.raises(ProviderError) as info:
        for delta in make_provider().stream_chat(MESSAGES):
            got.append(delta)  # noqa: PERF402 - this loop is the consumer under test
    err = info.value
    assert err.kind == "stream_cut"
    assert err.partial == "One two three" == "".join(got)
    assert str(err) == "The connection dropped in the middle of the reply; what arrived so far is kept."


@pytest.mark.parametrize(("junk", "call"), [("sse", "stream"), ("html", "stream"), ("html", "complete"),
                                            ("json", "complete")])
def test_junk_is_a_bad_response(openai_server, make_provider, junk, call):  # noqa: F811
    openai_server.script(junk=junk)
    p = make_provider()
    with pytest.raises(ProviderError) as info:
        if call == "stream":
            list(p.stream_chat(MESSAGES))
        else:
            p.complete(MESSAGES)
    assert info.value.kind == "bad_response"
    assert "not in the OpenAI format" in str(info.value)


def test_an_html_error_page_is_a_server_error(openai_server, make_provider):  # noqa: F811
    openai_server.script(status=502, error_body="html")
    with pytest.raises(ProviderError) as info:
        make_provider().complete(MESSAGES)
    assert info.value.kind == "server"
    assert "<html" not in str(info.value) and "<html" not in info.value.detail


# -- 429 and Retry-After --------------------------------------------------------------------------------------

def test_429_waits_for_retry_after_then_succeeds(openai_server, make_provider, caplog):  # noqa: F811
    caplog.set_level(logging.INFO, logger="agent_assist.assist.provider")
    openai_server.script(reply="Done.", status=429, fail_first=1, retry_after="1")
    retries: list[tuple[int, float]] = []

    started = time.monotonic()
    text = "".join(make_provider().stream_chat(MESSAGES, on_retry=lambda n, wait: retries.append((n, wait))))

    assert time.monotonic() - started >= 0.9
    assert text == "Done."
    assert retries == [(1, 1.0)]
    assert len(openai_server.chat_requests) == 2
    assert "busy (429); retrying in 1.0 s (1 of 3)" in caplog.text


def test_429_retries_exhausted(openai_server, make_provider):  # noqa: F811
    openai_server.script(status=429, retry_after="0")
    with pytest.raises(ProviderError) as info:
        make_provider(max_retries=2).complete(MESSAGES)
    assert info.value.kind == "rate_limited"
    assert str(info.value).startswith("The server is busy (429); tried 3 times.")
    assert len(openai_server.chat_requests) == 3


def test_429_without_retry_after_backs_off_exponentially(openai_server, make_provider, monkeypatch):  # noqa: F811
    monkeypatch.setattr(provider_mod, "BACKOFF_BASE_S", 0.05)
    openai_server.script(status=429, fail_first=2)
    waits: list[float] = []
    assert make_provider().complete(MESSAGES, on_retry=lambda n, wait: waits.append(wait))
    assert waits == [0.05, 0.1]


def test_429_quota_exhausted_is_not_retried(openai_server, make_provider):  # noqa: F811
    openai_server.script(status=429, error_code="insufficient_quota", retry_after="0")
    with pytest.raises(ProviderError) as info:
        make_provider().complete(MESSAGES)
    assert info.value.kind == "rate_limited"
    assert "quota" in str(info.value)
    assert len(openai_server.chat_requests) == 1


def test_cancel_during_a_retry_wait(openai_server, make_provider):  # noqa: F811
    openai_server.script(status=429, retry_after="20")
    waiting = threading.Event()
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        list(make_provider().stream_chat(MESSAGES, cancel=waiting.is_set, on_retry=lambda n, w: waiting.set()))
    assert info.value.kind == "cancelled"
    assert time.monotonic() - started < 1.5


def test_parse_retry_after():
    now = datetime(2015, 10, 21, 7, 27, 58, tzinfo=UTC)
    assert parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=now) == 2.0
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_retry_after_is_capped(openai_server, make_provider, monkeypatch):  # noqa: F811
    monkeypatch.setattr(provider_mod, "MAX_RETRY_WAIT_S", 0.05)
    openai_server.script(status=429, fail_first=1, retry_after="3600")
    waits: list[float] = []
    assert make_provider().complete(MESSAGES, on_retry=lambda n, wait: waits.append(wait))
    assert waits == [0.05]


# -- models, test_connection, describe ------------------------------------------------------------------------

def test_list_models(openai_server, make_provider):  # noqa: F811
    openai_server.script(models=["llama3", "qwen2.5"])
    assert make_provider().list_models() == ["llama3", "qwen2.5"]


def test_list_models_is_empty_when_the_server_has_none(openai_server, make_provider):  # noqa: F811
    openai_server.script(models=None)
    assert make_provider().list_models() == []


def test_test_connection_success(openai_server, make_provider):  # noqa: F811
    message = make_provider().test_connection()
    assert message.startswith(f"Connected to {openai_server.base_url} — model test-model answered in ")
    assert "; a draft-sized prompt (~" in message and message.endswith(" s to the first token.")
    big = openai_server.chat_requests[-1].body
    assert big["stream"] is True and len(json.dumps(big["messages"])) > 8000  # the size of a real draft prompt


def test_test_connection_says_when_the_window_is_too_small_for_a_draft(openai_server, make_provider):  # noqa: F811
    openai_server.script(context_window=1024)
    message = make_provider().test_connection()
    assert "context window (1024 tokens) is too small for a draft prompt" in message


def test_test_connection_fails_in_words_when_a_draft_sized_prompt_gets_an_empty_stream(openai_server,  # noqa: F811
                                                                                    make_provider):
    openai_server.script(context_window=1500)
    with pytest.raises(ProviderError) as err:
        make_provider(context_window=4096).test_connection()  # the setting overstates what the server has
    assert err.value.kind == "empty"
    assert str(err.value).startswith("The model answered a short test, but not a prompt the size of a real draft")


def test_test_connection_without_a_model_lists_them(openai_server, make_provider):  # noqa: F811
    message = make_provider(model="").test_connection()
    assert message == (f"Connected to {openai_server.base_url} — 2 models available (test-model, other-model); "
                       "choose one.")


def test_test_connection_failure_names_the_problem(openai_server, make_provider):  # noqa: F811
    openai_server.script(status=401)
    with pytest.raises(ProviderError) as info:
        make_provider().test_connection()
    assert info.value.kind == "auth"


def test_describe_and_repr_carry_no_key(make_provider):
    p = make_provider()
    assert p.describe() == {"provider": "custom", "host": "127.0.0.1", "model": "test-model", "redact": True}
    assert FAKE_KEY not in repr(p) and FAKE_KEY not in json.dumps(p.describe())


# -- Azure ----------------------------------------------------------------------------------------------------

def test_azure_uses_deployment_paths_api_version_and_api_key_header(openai_server, make_provider):  # noqa: F811
    p = make_provider(preset="azure", base_url=openai_server.root_url, model="drafts-gpt4o")
    assert "".join(p.stream_chat(MESSAGES))
    (req,) = openai_server.chat_requests
    assert req.path == "/openai/deployments/drafts-gpt4o/chat/completions"
    assert f"api-version={provider_mod.DEFAULT_AZURE_API_VERSION}" in req.query
    assert req.headers["api-key"] == FAKE_KEY


# -- configuration --------------------------------------------------------------------------------------------

def test_presets():
    assert {"openai", "azure", "ollama", "llamacpp", "vllm", "lmstudio", "custom"} <= set(PRESETS)
    assert PRESETS["openai"].base_url == "https://api.openai.com/v1"
    assert PRESETS["ollama"].base_url == "http://localhost:11434/v1"
    assert PRESETS["llamacpp"].base_url == "http://localhost:8080/v1"
    assert PRESETS["vllm"].base_url == "http://localhost:8000/v1"
    assert PRESETS["lmstudio"].base_url == "http://localhost:1234/v1"
    for p in PRESETS.values():
        assert p.redact is not p.local or p.id == "custom"
        assert p.needs_key is (p.id in ("openai", "azure"))


def test_config_round_trip_never_holds_a_key():
    cfg = ProviderConfig.for_preset("openai", model="gpt-4o-mini", temperature=0.5, timeout_s=12)
    data = cfg.to_dict()
    assert ProviderConfig.from_dict(json.loads(json.dumps(data))) == cfg
    assert not any("key" in name for name in data)
    assert cfg.redact is True and ProviderConfig.for_preset("ollama").redact is False
    polluted = {**data, "api_key": FAKE_KEY, "something_new": 1}
    restored = ProviderConfig.from_dict(polluted)
    assert restored == cfg
    assert FAKE_KEY not in json.dumps(restored.to_dict())


def test_config_from_dict_tolerates_gaps_and_unknown_presets():
    assert ProviderConfig.from_dict({}).preset == "custom"
    cfg = ProviderConfig.from_dict({"preset": "gone", "base_url": "http://box:9000/v1", "model": "m"})
    assert (cfg.preset, cfg.base_url, cfg.model) == ("custom", "http://box:9000/v1", "m")


@pytest.mark.parametrize("url", ["", "localhost:11434", "ftp://x/v1"])
def test_a_bad_base_url_is_a_config_error(url):
    with pytest.raises(ProviderError) as info:
        Provider(ProviderConfig(base_url=url, model="m"))
    assert info.value.kind == "config"


def test_error_kinds_are_checked_and_have_default_sentences():
    assert "stream_cut" in KINDS
    with pytest.raises(ValueError):
        ProviderError("oops", "message")
    assert str(ProviderError("cancelled")) == "Stopped."
    err = pickle.loads(pickle.dumps(ProviderError("stream_cut", partial="Hi", status=None, detail="d")))
    assert (err.kind, err.partial, err.detail) == ("stream_cut", "Hi", "d")


# -- the fake server itself -----------------------------------------------------------------------------------

def test_server_serves_deterministic_embeddings(openai_server):  # noqa: F811
    with openai.OpenAI(base_url=openai_server.base_url, api_key="x", max_retries=0) as client:
        result = client.embeddings.create(model="emb", input=["late fee", "refund"])
    vectors = [d.embedding for d in result.data]
    assert len(vectors) == 2 and all(len(v) == 8 for v in vectors)
    assert vectors[0] == pytest.approx(fake_embedding("late fee"), abs=1e-6)
    assert vectors[0] != vectors[1]


def test_server_stops_promptly_with_a_hung_request():
    server = OpenAIStubServer().start()
    server.script(hang=True)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        body = b"{}"
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        deadline = time.monotonic() + 2
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2
        assert not any(t.is_alive() for t in server._threads)


# -- a broken connection before any text ----------------------------------------------------------------------

@pytest.mark.parametrize("call", ["stream", "complete"])
def test_a_connection_dropped_before_any_answer_is_retried_once(openai_server, make_provider, call):  # noqa: F811
    openai_server.script(reply="Hello again.", drop_first=1)
    p = make_provider()
    result = "".join(p.stream_chat(MESSAGES)) if call == "stream" else p.complete(MESSAGES)
    assert result == "Hello again." and len(openai_server.chat_requests) == 2


def test_a_connection_that_keeps_dropping_is_reported_after_one_retry(openai_server, make_provider):  # noqa: F811
    openai_server.script(drop_first=5)
    with pytest.raises(ProviderError) as err:
        list(make_provider().stream_chat(MESSAGES))
    assert err.value.kind in ("connection", "stream_cut") and len(openai_server.chat_requests) == 2


def test_a_broken_stream_does_not_break_the_next_request(openai_server, make_provider):  # noqa: F811
    p = make_provider()
    openai_server.script(reply="one two three four five", cut_after=2)
    with pytest.raises(ProviderError) as err:
        list(p.stream_chat(MESSAGES))
    assert err.value.kind == "stream_cut" and err.value.partial
    openai_server.script(reply="Fresh reply.")
    assert "".join(p.stream_chat(MESSAGES)) == "Fresh reply."  # the same cached client, a working connection


def test_a_stream_cut_after_text_is_not_retried(openai_server, make_provider):  # noqa: F811
    openai_server.script(reply="one two three four five", cut_after=2)
    with pytest.raises(ProviderError):
        list(make_provider().stream_chat(MESSAGES))
    assert len(openai_server.chat_requests) == 1  # text had arrived: a retry would repeat it


def test_a_reply_that_stops_before_any_text_says_so(openai_server, make_provider):  # noqa: F811
    openai_server.script(reply="", finish_reason="stop")
    with pytest.raises(ProviderError) as err:
        list(make_provider().stream_chat(MESSAGES))
    assert err.value.kind == "empty" and "without writing any text" in str(err.value)
