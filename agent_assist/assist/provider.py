"""Talking to an OpenAI-compatible model server: presets, settings, streaming and plain-language errors.

One :class:`Provider` wraps the official ``openai`` client for one configuration
(OpenAI, Azure OpenAI, or a local server such as Ollama, llama.cpp, vLLM or
LM Studio). It streams reply text as it arrives, honours a cancel flag between
chunks (closing the HTTP connection), retries ``429`` itself so ``Retry-After``
is waited out visibly, and turns every failure into a :class:`ProviderError`
whose text a support agent understands and which never contains the API key.

Qt-free: the UI runs :meth:`Provider.stream_chat` in a worker and turns each
yielded delta into a signal.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import socket
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import openai

log = logging.getLogger(__name__)

SETTINGS_HINT = "Settings → AI provider"
DEFAULT_AZURE_API_VERSION = "2024-10-21"
MAX_RETRY_WAIT_S = 30.0  # the longest we wait for one Retry-After
BACKOFF_BASE_S = 0.5  # first wait when a 429 carries no Retry-After; doubles each time
BACKOFF_MAX_S = 8.0
_SLEEP_SLICE_S = 0.05  # how often a retry wait looks at the cancel flag
NO_KEY_PLACEHOLDER = "not-needed"  # local servers ignore the key, the client insists on one

# Every kind, with the sentence used when no more specific one is given.
DEFAULT_MESSAGES: dict[str, str] = {
    "timeout": "The model server did not answer in time.",
    "connection": "Could not reach the model server. Is it running?",
    "auth": f"The API key was refused. Check it in {SETTINGS_HINT}.",
    "model_not_found": f"The model was not found on the server. Check the model name in {SETTINGS_HINT}.",
    "rate_limited": "The server is busy (429). Try again in a minute.",
    "server": "The model server had a problem. Try again in a moment.",
    "stream_cut": "The connection dropped in the middle of the reply; what arrived so far is kept.",
    "empty": "The model server ended the reply without sending any text.",
    "too_long": f"The prompt does not fit in the model's context window. Check {SETTINGS_HINT}.",
    "bad_response": "The server sent a reply that is not in the OpenAI format.",
    "cancelled": "Stopped.",
    "no_key": f"No API key is set. Add it in {SETTINGS_HINT}.",
    "config": f"The AI provider settings are incomplete. Check {SETTINGS_HINT}.",
}
KINDS = frozenset(DEFAULT_MESSAGES)

Messages = Sequence[Mapping[str, Any]]
CancelFn = Callable[[], bool]
RetryFn = Callable[[int, float], None]  # (retry number starting at 1, seconds we wait before it)
DEFAULT_TIMEOUT_S = 30.0  # cloud servers answer within seconds
LOCAL_TIMEOUT_S = 180.0  # a local model on a laptop CPU can read a long prompt for minutes before its first token
DEFAULT_MAX_TOKENS = 700  # the longest reply asked for; a support reply is rarely a third of that
PROFILES = ("standard", "small")  # small: fewer, shorter snippets, last messages only, a shorter system prompt


@dataclass(frozen=True)
class StreamEnd:
    """How a stream ended: the server's finish reason (``stop``, ``length``, …) and the text."""

    finish_reason: str | None
    text: str

    @property
    def cut_off(self) -> bool:
        """The reply hit the token limit (``max_tokens`` or the context window) and is incomplete."""
        return self.finish_reason == "length"


# -- presets --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preset:
    id: str
    label: str
    base_url: str  # the default; for Azure a pattern to fill in
    needs_key: bool
    default_model: str  # a suggestion; "" where the model must be picked from the server's list
    redact: bool  # redact personal data before sending, by default (cloud: yes, local: no)
    local: bool
    note: str = ""


PRESETS: dict[str, Preset] = {p.id: p for p in (
    Preset("openai", "OpenAI", "https://api.openai.com/v1", True, "gpt-4o-mini", True, False,
           "Needs an API key from platform.openai.com."),
    Preset("azure", "Azure OpenAI", "https://YOUR-RESOURCE.openai.azure.com", True, "", True, False,
           "Base URL is the resource endpoint (https://<resource>.openai.azure.com); the model is your "
           f"deployment name; the API version defaults to {DEFAULT_AZURE_API_VERSION}. For the newer "
           "…/openai/v1 endpoint choose “Custom” instead."),
    Preset("ollama", "Ollama", "http://localhost:11434/v1", False, "llama3.2", False, True,
           "Runs on this computer; no key needed. Pull a model first: ollama pull llama3.2"),
    Preset("llamacpp", "llama.cpp server", "http://localhost:8080/v1", False, "", False, True,
           "Serves the one model it was started with; any model name works."),
    Preset("vllm", "vLLM", "http://localhost:8000/v1", False, "", False, True,
           "The model name is the one vLLM serves (see Refresh models)."),
    Preset("lmstudio", "LM Studio", "http://localhost:1234/v1", False, "", False, True,
           "Start the local server in LM Studio and load a model."),
    Preset("custom", "Custom (OpenAI-compatible)", "", False, "", True, False,
           "Any server that speaks the OpenAI chat completions API; the base URL usually ends in /v1."),
)}


def default_timeout(preset_id: str) -> float:
    """The default first-token timeout: long for local servers, short for cloud ones."""
    preset = PRESETS.get(preset_id)
    return LOCAL_TIMEOUT_S if preset is not None and preset.local else DEFAULT_TIMEOUT_S


def get_preset(preset_id: str) -> Preset:
    try:
        return PRESETS[preset_id]
    except KeyError:
        raise ProviderError("config", f"Unknown AI provider preset {preset_id!r}.") from None


# -- settings -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProviderConfig:
    """What is stored in settings about a provider. The API key is never part of it (see ``secrets``)."""

    preset: str = "ollama"
    base_url: str = PRESETS["ollama"].base_url
    model: str = PRESETS["ollama"].default_model
    temperature: float | None = 0.3  # None: not sent (some models accept only their default)
    timeout_s: float = LOCAL_TIMEOUT_S  # the longest silence (before the first token, or between tokens)
    max_retries: int = 3  # for 429 only
    redact: bool = False
    api_version: str | None = None  # Azure only
    reply_limit: int = DEFAULT_MAX_TOKENS  # the reply's token limit, sent as max_tokens with every request
    context_window: int = 0  # the model's context in tokens; 0: ask the server (llama.cpp, Ollama, vLLM)
    profile: str = "standard"  # "small": a prompt for small models (see PROFILES)

    @classmethod
    def for_preset(cls, preset_id: str, **changes: Any) -> ProviderConfig:
        """A configuration with the preset's defaults, then ``changes``."""
        p = get_preset(preset_id)
        base = cls(preset=p.id, base_url=p.base_url, model=p.default_model, redact=p.redact,
                   api_version=DEFAULT_AZURE_API_VERSION if p.id == "azure" else None,
                   timeout_s=default_timeout(p.id))
        return replace(base, **changes)

    @property
    def preset_info(self) -> Preset:
        return PRESETS.get(self.preset, PRESETS["custom"])

    @property
    def needs_key(self) -> bool:
        return self.preset_info.needs_key

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProviderConfig:
        """Read settings back, tolerating missing and unknown entries (a stray key entry is dropped)."""
        preset = str(data.get("preset") or "custom")
        if preset not in PRESETS:
            preset = "custom"
        p = PRESETS[preset]
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        temperature = values.get("temperature", 0.3)
        api_version = values.get("api_version")
        return cls(
            preset=preset,
            base_url=str(values.get("base_url") or p.base_url),
            model=str(values.get("model") if values.get("model") is not None else p.default_model),
            temperature=None if temperature is None else float(temperature),
            timeout_s=float(values.get("timeout_s", default_timeout(preset))),
            max_retries=max(0, int(values.get("max_retries", 3))),
            redact=bool(values.get("redact", p.redact)),
            api_version=str(api_version) if api_version else None,
            reply_limit=max(16, int(values.get("reply_limit") or DEFAULT_MAX_TOKENS)),
            context_window=max(0, int(values.get("context_window") or 0)),
            profile=str(values.get("profile")) if values.get("profile") in PROFILES else "standard",
        )


# -- errors ---------------------------------------------------------------------------------------------------

class ProviderError(Exception):
    """A failure talking to the model server, explained for the person at the desk.

    ``kind`` is one of :data:`KINDS`; ``str(err)`` is the plain-language sentence.
    ``partial`` holds the text that arrived before a stream broke or was stopped.
    ``detail`` is a scrubbed technical note for logs (never the key).
    """

    def __init__(self, kind: str, message: str | None = None, *, partial: str = "", status: int | None = None,
                 detail: str = "") -> None:
        if kind not in KINDS:
            raise ValueError(f"Unknown ProviderError kind {kind!r}")
        message = message or DEFAULT_MESSAGES[kind]
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.partial = partial
        self.status = status
        self.detail = detail

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ProviderError(kind={self.kind!r}, message={self.message!r}, status={self.status!r})"

    def __reduce__(self) -> tuple[Any, ...]:  # survives pickling (e.g. across a process pool)
        return (self.__class__, (self.kind, self.message),
                {"partial": self.partial, "status": self.status, "detail": self.detail})


def display_url(url: str) -> str:
    """The URL without credentials, query or fragment, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(invalid URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date); None if absent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = (lowered.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _fmt_s(seconds: float) -> str:
    return f"{seconds:g}"


def _has_cause(err: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = err
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, kind):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def _shut_socket(stream: Any) -> None:
    """Shut down the socket under a streaming response, waking a read blocked on it; close it otherwise."""
    response = getattr(stream, "response", None)
    network = getattr(response, "extensions", {}).get("network_stream") if response is not None else None
    sock = None
    with contextlib.suppress(Exception):
        sock = network.get_extra_info("socket") if network is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        return
    with contextlib.suppress(Exception):
        stream.close()


def _is_transport_error(err: BaseException) -> bool:
    """An HTTP-library error about the connection (the openai client does not wrap errors while streaming)."""
    return any(cls.__name__ in ("TransportError", "RemoteProtocolError", "ReadError", "NetworkError",
                                "ReadTimeout", "ProtocolError") for cls in type(err).__mro__) \
        or isinstance(err, (ConnectionError, OSError))


def _ollama_context(data: Any) -> int | None:
    """Ollama's ``/api/show``: the ``num_ctx`` the model runs with, else its trained length capped at 4096.

    Ollama runs a model with a smaller window than it was trained for unless ``num_ctx`` says otherwise,
    and silently cuts a prompt that is too long, so the trained length alone would mislead.
    """
    params = _field(data, "parameters")
    if isinstance(params, str):
        for line in params.splitlines():
            name, _, value = line.strip().partition(" ")
            if name == "num_ctx" and value.strip().isdigit():
                return int(value.strip())
    info = _field(data, "model_info") or {}
    lengths = [v for k, v in info.items() if k.endswith(".context_length") and isinstance(v, int)] \
        if isinstance(info, Mapping) else []
    return min(lengths[0], 4096) if lengths else None


# -- the provider ---------------------------------------------------------------------------------------------

class Provider:
    """One configured model server. Thread-safe for sequential use from a worker; close it when done."""

    def __init__(self, config: ProviderConfig, api_key: str | None = None) -> None:
        url = (config.base_url or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProviderError("config", f"The base URL {display_url(url) or '(empty)'} is not a web address; "
                                          f"it should look like http://localhost:11434/v1. Check {SETTINGS_HINT}.")
        if config.timeout_s <= 0:
            raise ProviderError("config", f"The timeout must be more than 0 s. Check {SETTINGS_HINT}.")
        self.config = replace(config, base_url=url)
        self._key = (api_key or "").strip() or None
        self._client: openai.OpenAI | None = None
        self._client_lock = threading.Lock()
        self._url = display_url(url)
        self._context_cache: int | None | bool = False  # False: not asked yet; None: the server does not say
        self.json_mode = "json_schema"  # the best response_format this server took: json_schema, json_object, none

    def __repr__(self) -> str:
        return (f"Provider(preset={self.config.preset!r}, base_url={self._url!r}, model={self.config.model!r}, "
                f"key={'set' if self._key else 'none'})")

    # -- lifecycle --

    def close(self) -> None:
        """Close the HTTP connections. Idempotent."""
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        """Build the HTTP client now (TLS set-up included), so the first request does not pay for it."""
        self._openai()

    def describe(self) -> dict[str, Any]:
        """What the audit trail records about the model used (never the key)."""
        return {"provider": self.config.preset, "host": urlsplit(self.config.base_url).hostname or "",
                "model": self.config.model, "redact": self.config.redact}

    # -- the public calls --

    def stream_chat(self, messages: Messages, *, cancel: CancelFn | None = None, temperature: float | None = None,
                    on_retry: RetryFn | None = None, max_tokens: int | None = None,
                    stop: Sequence[str] | None = None) -> Generator[str, None, StreamEnd]:
        """Yield reply text deltas as they arrive; the generator's return value is a :class:`StreamEnd`.

        ``max_tokens`` (default: the setting) and ``stop`` are sent with the request. A reply
        that ends with ``finish_reason == "length"`` is returned (``cut_off``); an empty
        stream raises ``ProviderError("empty")`` (or ``"too_long"`` when the server says the
        limit was hit before any text), never a silent success.

        ``cancel`` is looked at before the request, during retry waits, and between chunks;
        when it returns True the stream is closed (the connection with it) and
        ``ProviderError("cancelled")`` is raised with the text so far in ``partial``.
        Closing the generator early closes the stream too. While the server is silent
        (before the first token) the flag is seen when the next chunk or the timeout comes.
        """
        self._need_model()
        args = self._chat_args(messages, temperature, max_tokens=max_tokens, stop=stop)
        parts: list[str] = []
        finish: str | None = None
        for attempt in (1, 2):  # a second try only when the connection broke before any text arrived
            stream = self._interruptible(lambda: self._with_retries(
                lambda client: client.chat.completions.create(**args, stream=True), cancel, on_retry), cancel)
            watch_done = threading.Event()
            killed = threading.Event()
            retry = False
            if cancel is not None:  # Stop closes the connection at once, even while the server is still silent
                threading.Thread(target=self._watch_cancel, args=(stream, cancel, watch_done, killed),
                                 name="ai-stream-cancel", daemon=True).start()
            try:
                if not self._is_event_stream(stream):
                    raise self._bad_response("the reply was not an event stream")
                for chunk in stream:
                    if cancel is not None and cancel():
                        raise self._cancelled("".join(parts))
                    choices = _field(chunk, "choices")
                    if not isinstance(choices, list):
                        raise self._bad_response("a chunk had no choices", partial="".join(parts))
                    if not choices:
                        continue  # e.g. a usage-only chunk
                    choice = choices[0]
                    content = _field(_field(choice, "delta"), "content")
                    reason = _field(choice, "finish_reason")
                    if reason is not None:
                        finish = str(reason)
                    if content:
                        if not isinstance(content, str):
                            raise self._bad_response("a chunk's content was not text", partial="".join(parts))
                        parts.append(content)
                        yield content
                        if cancel is not None and cancel():
                            raise self._cancelled("".join(parts))
            except ProviderError:
                raise
            except Exception as err:
                if killed.is_set():  # our own Stop shut the socket under the read
                    raise self._cancelled("".join(parts)) from None
                broken = (isinstance(err, openai.APIConnectionError) and not isinstance(err, openai.APITimeoutError)) \
                    or _is_transport_error(err)
                if broken and not parts and finish is None and attempt == 1:
                    log.info("The connection to %s broke before any text arrived (%s); trying once more",
                             self._url, type(err).__name__)
                    retry = True
                elif isinstance(err, openai.APIError):
                    raise self._map_stream_error(err, "".join(parts)) from None
                elif isinstance(err, ValueError):  # json.JSONDecodeError from a junk data line
                    raise self._bad_response(f"{type(err).__name__} while reading the stream",
                                             partial="".join(parts)) from None
                elif broken:
                    raise self._error("stream_cut", "The connection dropped in the middle of the reply; what "
                                                    "arrived so far is kept." if parts else "The connection dropped "
                                                    "before the reply began. Try again.", partial="".join(parts),
                                      detail=type(err).__name__) from None
                else:
                    raise
            finally:
                watch_done.set()
                with contextlib.suppress(Exception):
                    stream.close()
            if not retry:
                break
        if killed.is_set():
            raise self._cancelled("".join(parts))
        text = "".join(parts)
        if not text.strip():
            raise self._empty_reply(finish, args.get("max_tokens"))
        if finish is None:
            log.warning("Stream from %s ended without a finish reason after %d characters", self._url, len(text))
            raise ProviderError("stream_cut", "The connection dropped in the middle of the reply; "
                                              "what arrived so far is kept.", partial=text,
                                detail="stream ended without finish_reason/[DONE]")
        if finish == "length":
            log.info("Reply from %s cut off at the token limit after %d characters", self._url, len(text))
        return StreamEnd(finish, text)

    def _interruptible(self, call: Callable[[], Any], cancel: CancelFn | None) -> Any:
        """Run the request so that Stop returns at once even before the server sends its headers.

        The call runs on a helper thread; when Stop comes first we raise ``cancelled`` now, and
        whatever the call returns later is closed as soon as it arrives.
        """
        if cancel is None:
            return call()
        box: dict[str, Any] = {}
        done, abandoned = threading.Event(), threading.Event()

        def run() -> None:
            try:
                box["value"] = call()
            except BaseException as err:  # noqa: BLE001 - handed to the caller's thread
                box["error"] = err
            finally:
                done.set()
                if abandoned.is_set() and "value" in box:
                    with contextlib.suppress(Exception):
                        box["value"].close()

        threading.Thread(target=run, name="ai-request", daemon=True).start()
        while not done.wait(_SLEEP_SLICE_S):
            if cancel():
                abandoned.set()
                if done.is_set() and "value" in box:
                    with contextlib.suppress(Exception):
                        box["value"].close()
                else:
                    self._shut_busy_connections()
                raise self._cancelled("")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _shut_busy_connections(self) -> None:
        """Hang up the request still waiting for its headers (best effort: it reaches into the HTTP pool).

        Without it the abandoned request would hold its connection until the server answers; with
        it the server sees the client go at once. Used only from Stop, on a sequentially used client.
        """
        with self._client_lock:
            client = self._client
        pool = getattr(getattr(getattr(client, "_client", None), "_transport", None), "_pool", None)
        for conn in list(getattr(pool, "connections", None) or []):
            with contextlib.suppress(Exception):
                if conn.is_idle():
                    continue
                network = getattr(getattr(conn, "_connection", None), "_network_stream", None)
                sock = network.get_extra_info("socket") if network is not None else None
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)

    def _watch_cancel(self, stream: Any, cancel: CancelFn, finished: threading.Event,
                      killed: threading.Event) -> None:
        """Shut the stream's socket the moment ``cancel`` says so (the reading thread may be blocked in recv)."""
        while not finished.wait(_SLEEP_SLICE_S):
            try:
                stop = cancel()
            except Exception:  # noqa: BLE001 - a broken flag must not kill the stream
                return
            if stop:
                killed.set()
                _shut_socket(stream)
                log.info("Stopped: closed the connection to %s", self._url)
                return

    def complete(self, messages: Messages, *, cancel: CancelFn | None = None, temperature: float | None = None,
                 on_retry: RetryFn | None = None, max_tokens: int | None = None,
                 response_format: Mapping[str, Any] | None = None) -> str:
        """The whole reply at once (for short tasks). Same errors as :meth:`stream_chat`."""
        self._need_model()
        args = self._chat_args(messages, temperature, max_tokens=max_tokens)
        if response_format is not None:
            args["response_format"] = dict(response_format)
        result = self._with_retries(lambda client: client.chat.completions.create(**args), cancel, on_retry)
        choices = _field(result, "choices") if not isinstance(result, str) else None
        if not isinstance(choices, list) or not choices:
            raise self._bad_response("no choices in the reply")
        message = _field(choices[0], "message")
        content = _field(message, "content")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise self._bad_response("the message content was not text")
        return content

    def embed(self, texts: list[str], *, model: str, cancel: CancelFn | None = None) -> list[list[float]]:
        """Vectors for ``texts`` from the server's ``/v1/embeddings`` with ``model``, in order.
        Same errors as :meth:`complete`."""
        if not model.strip():
            raise self._error("config", "Choose an embedding model in Preferences → Knowledge.")
        result = self._with_retries(lambda client: client.embeddings.create(
            model=model, input=texts, encoding_format="float"), cancel, None)
        data = _field(result, "data")
        if not isinstance(data, list) or len(data) != len(texts):
            raise self._bad_response("the embeddings reply did not have one vector per text")
        out: list[list[float]] = [[] for _ in texts]
        for pos, item in enumerate(data):
            index = _field(item, "index")
            vector = _field(item, "embedding")
            if not isinstance(index, int) or not 0 <= index < len(texts):
                index = pos
            if not isinstance(vector, list) or not vector or not all(isinstance(x, (int, float)) for x in vector):
                raise self._bad_response("an embedding was not a list of numbers")
            out[index] = [float(x) for x in vector]
        if len({len(v) for v in out}) != 1:
            raise self._bad_response("the embeddings were not all of one length")
        return out

    def list_models(self) -> list[str]:
        """Model ids the server offers; [] when it has no model list (404/405/501)."""
        try:
            page = self._openai().models.list()
            data = _field(page, "data")
        except openai.APIStatusError as err:
            if err.status_code in (404, 405, 501):
                log.info("%s has no model list (%d)", self._url, err.status_code)
                return []
            raise self._map_error(err) from None
        except openai.APIError as err:
            raise self._map_error(err) from None
        except ValueError as err:
            raise self._bad_response(f"{type(err).__name__} in the model list") from None
        if not isinstance(data, list):
            raise self._bad_response("the model list was not a list")
        ids: list[str] = []
        for item in data:
            model_id = _field(item, "id")
            if isinstance(model_id, str) and model_id and model_id not in ids:
                ids.append(model_id)
        return ids

    def context_window(self) -> int | None:
        """The model's context in tokens: the setting, else what the server says, else None (unknown).

        Asked once per provider: llama.cpp ``GET /props`` (``n_ctx``), Ollama ``POST /api/show``
        (``num_ctx`` or the model's context length), vLLM ``/v1/models`` (``max_model_len``).
        """
        if self.config.context_window > 0:
            return self.config.context_window
        if self._context_cache is False:
            try:
                self._context_cache = self._ask_context_window()
            except Exception as err:  # noqa: BLE001 - an optional hint; drafting works without it
                log.info("Could not ask %s for its context window: %s", self._url, self._scrub(repr(err)))
                self._context_cache = None
            if self._context_cache:
                log.info("%s reports a context window of %d tokens", self._url, self._context_cache)
        return self._context_cache or None

    def _ask_context_window(self) -> int | None:
        parts = urlsplit(self.config.base_url)
        path = parts.path.rstrip("/")
        root_path = path[:-3] if path.endswith("/v1") else path
        root = urlunsplit((parts.scheme, parts.netloc, root_path, "", ""))
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        with openai.DefaultHttpxClient(timeout=min(5.0, self.config.timeout_s), headers=headers) as http:
            if self.config.preset == "ollama" or ":11434" in parts.netloc:
                reply = http.post(f"{root}/api/show", json={"model": self.config.model})
                if reply.status_code == 200:
                    return _ollama_context(reply.json())
            reply = http.get(f"{root}/props")
            if reply.status_code == 200:
                data = reply.json()
                n_ctx = _field(_field(data, "default_generation_settings") or {}, "n_ctx") or _field(data, "n_ctx")
                if isinstance(n_ctx, int) and n_ctx > 0:
                    return n_ctx
            reply = http.get(f"{root}{'/v1' if path.endswith('/v1') else ''}/models")
            if reply.status_code == 200:
                data = _field(reply.json(), "data")
                data = data if isinstance(data, list) else []
                for item in data:
                    if _field(item, "id") != self.config.model and len(data) != 1:
                        continue
                    for name in ("max_model_len", "context_length", "max_context_length"):
                        value = _field(item, name)
                        if isinstance(value, int) and value > 0:
                            return value
        return None

    def test_connection(self) -> str:
        """One line saying it works, or a ProviderError saying exactly what does not."""
        if not self.config.model.strip():
            models = self.list_models()
            if not models:
                raise ProviderError("config", f"Connected to {self._url}, but no model is chosen and the server "
                                              f"lists none. Enter a model name in {SETTINGS_HINT}.")
            shown = ", ".join(models[:3]) + (" …" if len(models) > 3 else "")
            return f"Connected to {self._url} — {len(models)} models available ({shown}); choose one."
        started = time.monotonic()
        self.complete([{"role": "user", "content": "Reply with the single word: OK"}], max_tokens=8)
        elapsed = time.monotonic() - started
        line = f"Connected to {self._url} — model {self.config.model} answered in {elapsed:.1f} s"
        return line + self._test_draft_sized_prompt()

    def _test_draft_sized_prompt(self) -> str:
        """Send a prompt the size of a real draft: a model whose window is too small fails here, not later."""
        from agent_assist.assist.context import DRAFT_PROMPT_TOKENS, estimate_tokens, filler_prompt

        window = self.context_window()
        size = DRAFT_PROMPT_TOKENS if self.config.profile == "standard" else DRAFT_PROMPT_TOKENS // 3
        messages = filler_prompt(size)
        tokens = sum(estimate_tokens(m["content"]) for m in messages)
        if window and tokens + self.config.reply_limit > window:
            return (f"; its context window ({window} tokens) is too small for a draft prompt (~{tokens} tokens plus "
                    f"{self.config.reply_limit} for the reply): use the small-model profile or a larger window.")
        started = time.monotonic()
        first: float | None = None
        try:
            for _delta in self.stream_chat(messages, max_tokens=4, temperature=0.0):
                first = time.monotonic() - started
                break
        except ProviderError as err:
            if err.kind in ("empty", "too_long"):
                raise self._error(err.kind, f"The model answered a short test, but not a prompt the size of a "
                                            f"real draft (~{tokens} tokens): {err.message}") from None
            raise
        wait = f"{first:.1f} s to the first token" if first is not None else "no text"
        note = f", context window {window} tokens" if window else ""
        return f"; a draft-sized prompt (~{tokens} tokens) took {wait}{note}."

    # -- internals --

    def _openai(self) -> openai.OpenAI:
        with self._client_lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> openai.OpenAI:
        cfg = self.config
        if cfg.needs_key and not self._key:
            raise ProviderError("no_key", f"No API key is set for {cfg.preset_info.label}. "
                                          f"Add it in {SETTINGS_HINT}.")
        common: dict[str, Any] = {"api_key": self._key or NO_KEY_PLACEHOLDER, "timeout": cfg.timeout_s,
                                  "max_retries": 0}
        try:
            if cfg.preset == "azure":
                client: openai.OpenAI = openai.AzureOpenAI(
                    azure_endpoint=cfg.base_url, api_version=cfg.api_version or DEFAULT_AZURE_API_VERSION, **common)
            else:
                client = openai.OpenAI(base_url=cfg.base_url, **common)
        except (openai.OpenAIError, ValueError) as err:
            raise ProviderError("config", detail=self._scrub(f"{type(err).__name__}: {err}")) from None
        return client

    def _need_model(self) -> None:
        if not self.config.model.strip():
            raise ProviderError("config", f"No model is chosen. Pick one in {SETTINGS_HINT}.")

    def _chat_args(self, messages: Messages, temperature: float | None, *, max_tokens: int | None = None,
                   stop: Sequence[str] | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {"model": self.config.model, "messages": [dict(m) for m in messages],
                                "max_tokens": max(1, int(max_tokens or self.config.reply_limit))}
        temp = temperature if temperature is not None else self.config.temperature
        if temp is not None:
            args["temperature"] = temp
        if stop:
            args["stop"] = list(stop)[:4]  # the OpenAI API takes at most four
        return args

    def _empty_reply(self, finish: str | None, max_tokens: int | None) -> ProviderError:
        window = self._context_cache if isinstance(self._context_cache, int) else None
        where = f" ({window} tokens)" if window else ""
        if finish == "length":
            return self._error("too_long", f"The model stopped at its limit before writing anything: the prompt "
                                           f"probably fills its context window{where}. Use the small-model profile "
                                           f"or a model with a larger context in {SETTINGS_HINT}.",
                               detail=f"finish_reason=length, max_tokens={max_tokens}")
        if finish is not None:
            return self._error("empty", f"The model at {self._url} finished ({finish}) without writing any text. "
                                        "Try again; if it keeps happening, try another model.",
                               detail=f"no content, finish_reason={finish}")
        return self._error("empty", f"The model server at {self._url} ended the reply without sending any text. "
                                    f"Often the prompt is too long for the model's context window{where}; try "
                                    f"the small-model profile in {SETTINGS_HINT}, or look at the server's log.",
                           detail=f"empty stream, finish_reason={finish}")

    def _with_retries(self, call: Callable[[openai.OpenAI], Any], cancel: CancelFn | None,
                      on_retry: RetryFn | None) -> Any:
        client = self._openai()
        retries = max(0, self.config.max_retries)
        attempt = 0
        connection_retried = False
        while True:
            if cancel is not None and cancel():
                raise self._cancelled("")
            log.debug("Request to %s, model %s (attempt %d)", self._url, self.config.model, attempt + 1)
            try:
                return call(client)
            except openai.RateLimitError as err:
                if err.code == "insufficient_quota" or attempt >= retries:
                    raise self._rate_limited(err, attempt + 1) from None
                wait = parse_retry_after(err.response.headers)
                if wait is None:
                    wait = min(BACKOFF_BASE_S * (2 ** attempt), BACKOFF_MAX_S)
                wait = min(wait, MAX_RETRY_WAIT_S)
                attempt += 1
                log.info("The server at %s is busy (429); retrying in %.1f s (%d of %d)",
                         self._url, wait, attempt, retries)
                if on_retry is not None:
                    on_retry(attempt, wait)
                self._sleep(wait, cancel)
            except openai.APIConnectionError as err:
                # A connection that broke before any answer (a stale keep-alive socket after a broken
                # stream, a server restart): one more try on a fresh connection. Timeouts are not retried.
                if isinstance(err, openai.APITimeoutError) or connection_retried:
                    raise self._map_error(err) from None
                connection_retried = True
                log.info("Could not talk to %s (%s); trying once more", self._url, type(err.__cause__).__name__)
            except openai.APIError as err:
                raise self._map_error(err) from None
            except ValueError as err:  # a body that is not JSON although it says so
                raise self._bad_response(f"{type(err).__name__} in the reply") from None

    def _sleep(self, seconds: float, cancel: CancelFn | None) -> None:
        deadline = time.monotonic() + seconds
        while True:
            if cancel is not None and cancel():
                raise self._cancelled("")
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, _SLEEP_SLICE_S))

    @staticmethod
    def _is_event_stream(stream: Any) -> bool:
        response = getattr(stream, "response", None)
        if response is None:
            return True
        content_type = response.headers.get("content-type", "")
        return not content_type or "event-stream" in content_type

    def _scrub(self, text: str) -> str:
        if self._key and self._key in text:
            text = text.replace(self._key, "***")
        return text

    def _error(self, kind: str, message: str, *, partial: str = "", status: int | None = None,
               detail: str = "") -> ProviderError:
        err = ProviderError(kind, self._scrub(message), partial=partial, status=status, detail=self._scrub(detail))
        log.warning("AI provider %s (%s): %s [%s]", kind, self._url, err.message, err.detail)
        return err

    def _cancelled(self, partial: str) -> ProviderError:
        log.info("Generation from %s stopped by the user after %d characters", self._url, len(partial))
        return ProviderError("cancelled", "Stopped; the reply so far is kept." if partial else None,
                             partial=partial)

    def _bad_response(self, detail: str, *, partial: str = "") -> ProviderError:
        return self._error("bad_response", f"The server at {self._url} sent a reply that is not in the OpenAI "
                                           "format. Check that the base URL points at an OpenAI-compatible API "
                                           "(it usually ends in /v1).", partial=partial, detail=detail)

    def _rate_limited(self, err: openai.RateLimitError, tries: int) -> ProviderError:
        detail = self._server_message(err)
        if err.code == "insufficient_quota":
            return self._error("rate_limited", "The account has used up its quota (429). Check the plan and "
                                               "billing with the provider.", status=429, detail=detail)
        times = "once" if tries == 1 else f"{tries} times"
        return self._error("rate_limited", f"The server is busy (429); tried {times}. Try again in a minute.",
                           status=429, detail=detail)

    def _server_message(self, err: openai.APIError) -> str:
        message = _field(err.body, "message") if err.body is not None else None
        if not isinstance(message, str):
            message = err.body if isinstance(err.body, str) else ""
        message = " ".join(message.split())
        if "<html" in message.lower():
            message = "(an HTML page)"
        return self._scrub(message[:300])

    def _map_error(self, err: openai.APIError) -> ProviderError:
        """Map an error raised before any reply text arrived."""
        url, model = self._url, self.config.model
        if isinstance(err, openai.APITimeoutError):
            return self._error("timeout", self._timeout_message(), detail="timeout")
        if isinstance(err, openai.APIConnectionError):
            if _has_cause(err, ConnectionRefusedError) or "refused" in repr(err.__cause__).lower():
                msg = f"Could not connect to {url}: the connection was refused. Is the model server running?"
            else:
                msg = f"Could not reach the model server at {url}. Check the address and the network."
            return self._error("connection", msg, detail=type(err.__cause__).__name__)
        if isinstance(err, openai.APIStatusError):
            status = err.status_code
            detail = f"{status} {self._server_message(err)}".strip()
            if status == 401:
                if self._key:
                    msg = f"The API key was refused (401). Check it in {SETTINGS_HINT}."
                else:
                    msg = f"The server at {url} asks for an API key (401). Add one in {SETTINGS_HINT}."
                return self._error("auth", msg, status=status, detail=detail)
            if status == 403:
                return self._error("auth", f"The API key may not use this model or server (403). Check it in "
                                           f"{SETTINGS_HINT}.", status=status, detail=detail)
            if status == 404:
                return self._error("model_not_found", f"Model '{model}' was not found on {url}. Check the model "
                                                      f"name and the base URL in {SETTINGS_HINT}.",
                                   status=status, detail=detail)
            if status == 408:
                return self._error("timeout", "The model server gave up waiting (408). Try again.",
                                   status=status, detail=detail)
            if status >= 500:
                return self._error("server", f"The model server had a problem ({status}). Try again in a moment.",
                                   status=status, detail=detail)
            server_says = self._server_message(err)
            return self._error("config", f"The server refused the request ({status})"
                                         + (f": {server_says}" if server_says else "")
                                         + f". Check {SETTINGS_HINT}.", status=status, detail=detail)
        # An error event inside a 200 stream, or another client-side API error.
        return self._error("server", f"The model server reported an error: {self._server_message(err) or 'unknown'}",
                           detail=type(err).__name__)

    def _timeout_message(self) -> str:
        seconds = _fmt_s(self.config.timeout_s)
        local = self.config.preset_info.local
        which = (f"the first-token timeout for a local server, {seconds} s" if local
                 else f"the first-token timeout, {seconds} s")
        advice = ("A local model can take minutes to read a long prompt: raise the timeout, or use the "
                  "small-model profile," if local else "Try again, or raise the timeout")
        return (f"The model server at {self._url} sent nothing within {seconds} s ({which}). {advice} in "
                f"{SETTINGS_HINT}.")

    def _map_stream_error(self, err: openai.APIError, partial: str) -> ProviderError:
        """Map an error raised while the stream was being read."""
        if isinstance(err, openai.APITimeoutError) and not partial:
            mapped = self._map_error(err)
            mapped.partial = partial
            return mapped
        if isinstance(err, openai.APIConnectionError):
            return self._error("stream_cut", "The connection dropped in the middle of the reply; what arrived so "
                                             "far is kept.", partial=partial,
                               detail=f"{type(err).__name__}/{type(err.__cause__).__name__}")
        mapped = self._map_error(err)
        mapped.partial = partial
        return mapped
