"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

It speaks just enough of the API for the provider and the UI to be exercised
over a real socket with the official ``openai`` client:

- ``GET  /v1/models``
- ``POST /v1/chat/completions`` as plain JSON or streamed SSE
  (``data: {chunk}`` … ``data: [DONE]``, chunks shaped like ``chat.completion.chunk``)
- ``POST /v1/embeddings`` with small deterministic vectors (float or base64)

Routes match on the path's end, so Azure-style paths
(``/openai/deployments/<name>/chat/completions?api-version=…``) work too.

Each test scripts the behaviour (:class:`Script`) with ``server.script(...)``:
slow first token, slow tokens, an error status (optionally only for the first N
requests, with ``Retry-After``), a stream cut after N chunks, junk, a hang. Every
request is recorded in ``server.requests`` so tests can assert what left the machine.

Use it as a fixture::

    from tests.assist.openai_server import openai_server  # noqa: F401

    def test_x(openai_server):
        openai_server.script(reply="Hello there", token_delay=0.01)
        ... base_url=openai_server.base_url ...

Or standalone (see ``benchmarks/draft_server.py``) with :class:`OpenAIStubServer`
as a context manager.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import re
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

try:  # the benchmarks reuse the server without needing pytest
    import pytest
except ImportError:  # pragma: no cover
    pytest = None  # type: ignore[assignment]

__all__ = ["OpenAIStubServer", "RecordedRequest", "Script", "fake_embedding", "openai_server", "split_tokens"]

DEFAULT_REPLY = "Hi Tom, thanks for getting in touch. The late fee has been removed from your account."
DEFAULT_MODELS = ("test-model", "other-model")
_TOKEN_RE = re.compile(r"\s*\S+|\s+")


def split_tokens(text: str) -> list[str]:
    """Word-sized "tokens" that join back to exactly ``text`` (leading spaces stay on the word)."""
    return _TOKEN_RE.findall(text)


ReplyT = str | Callable[["RecordedRequest"], str]


@dataclass
class Script:
    """How the server behaves for the next requests. Every field has a harmless default."""

    reply: ReplyT = DEFAULT_REPLY  # text, or a callable of the request returning the text
    tokens_per_chunk: int = 1
    first_token_delay: float = 0.0  # streamed: after the headers, before the first chunk; plain: before answering
    token_delay: float = 0.0  # between chunks
    status: int | None = None  # answer chat requests with this HTTP error status ...
    fail_first: int | None = None  # ... only for the first N chat requests (None: every one)
    retry_after: str | None = None  # Retry-After header value sent with the error status
    error_code: str | None = None  # "code" in the OpenAI-shaped error body (e.g. "insufficient_quota")
    error_body: str = "json"  # "json" (OpenAI-shaped) or "html" (a proxy's error page)
    echo_auth_in_error: bool = False  # put the received Authorization header in error bodies (a leaky server)
    cut_after: int | None = None  # streamed: send this many content chunks, then cut the stream
    cut_style: str = "drop"  # "drop": close the socket mid-body; "clean": end the body without finish/[DONE]
    junk: str | None = None  # "sse": non-JSON data lines; "html": 200 text/html page; "json": broken JSON body
    hang: bool = False  # accept the request and never answer (until the server stops)
    drop_first: int = 0  # close the connection without a byte of answer for the first N chat requests
    json_modes: tuple[str, ...] = ("json_schema", "json_object")  # response_format types taken (others: refused)
    json_refusal_status: int = 400  # how a refused response_format is answered (llama-cpp-python: 500)
    models: tuple[str, ...] | None = DEFAULT_MODELS  # None: /v1/models answers 404
    finish_reason: str = "stop"
    embedding_dim: int = 8
    empty_stream: bool = False  # streamed: headers, then the body ends with no data at all (llama.cpp, window full)
    context_window: int | None = None  # serve llama.cpp's GET /props with this n_ctx (None: /props is 404)
    overflow: str = "empty"  # a prompt over context_window (estimated): "empty" stream, or "error" (400)


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or None
    raw: bytes = b""
    chunks_sent: int = 0  # streamed content chunks that were written
    client_gone: bool = False  # the client closed the connection while we were still writing

    @property
    def stream(self) -> bool:
        return bool(isinstance(self.body, dict) and self.body.get("stream"))


class _ClientGoneError(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streaming, like real servers
    server: _HTTPServer
    timeout = 30  # a stuck client never pins a handler thread for long

    def log_message(self, fmt: str, *args: Any) -> None:
        pass  # quiet: pytest output stays readable

    # -- plumbing -------------------------------------------------------------------------------------------

    def _record(self) -> RecordedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path, _, query = self.path.partition("?")
        req = RecordedRequest(self.command, path, query, {k.lower(): v for k, v in self.headers.items()}, body, raw)
        self.server.stub.requests.append(req)
        return req

    def _write(self, data: bytes, req: RecordedRequest | None = None) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError) as exc:
            if req is not None:
                req.client_gone = True
            self.server.stub._note_client_gone()
            self.close_connection = True
            raise _ClientGoneError from exc

    def _send_bytes(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self._write(body)

    def _send_json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(obj).encode(), "application/json", extra)

    def _wait(self, seconds: float) -> bool:
        """Sleep, but wake up when the server stops. True when the server is stopping."""
        return self.server.stub._stopping.wait(seconds) if seconds > 0 else self.server.stub._stopping.is_set()

    def _stall(self, seconds: float, req: RecordedRequest) -> bool:
        """Stay silent like a server reading a long prompt, noticing at once when the client hangs up.

        True when the server is stopping; raises _ClientGoneError when the client closed the connection.
        """
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._wait(min(left, 0.02)):
                return True
            try:
                readable, _, _ = select.select([self.connection], [], [], 0)
                gone = bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                gone = True
            if gone:
                req.client_gone = True
                self.server.stub._note_client_gone()
                self.close_connection = True
                raise _ClientGoneError

    # -- routing --------------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        req = self._record()
        stub = self.server.stub
        script = stub.behaviour
        try:
            if req.path.endswith("/models") and req.method == "GET":
                self._models(script)
            elif req.path == "/props" and req.method == "GET" and script.context_window:
                self._send_json(200, {"default_generation_settings": {"n_ctx": script.context_window},
                                      "total_slots": 1})
            elif req.path.endswith("/chat/completions") and req.method == "POST":
                self._chat(req, script, stub._next_chat_number())
            elif req.path.endswith("/embeddings") and req.method == "POST":
                self._embeddings(req, script)
            else:
                self._error(404, "Unknown path " + req.path, script, req, code="not_found")
        except _ClientGoneError:
            pass

    def _error(self, status: int, message: str, script: Script, req: RecordedRequest, *,
               code: str | None = None) -> None:
        extra = {"Retry-After": script.retry_after} if script.retry_after is not None else {}
        if script.echo_auth_in_error:
            message += f" (received {req.headers.get('authorization') or req.headers.get('api-key')})"
        if script.error_body == "html":
            page = (f"<html><head><title>{status} Error</title></head><body><h1>{status}</h1>"
                    f"<p>{message}</p><hr><center>nginx</center></body></html>").encode()
            self._send_bytes(status, page, "text/html; charset=utf-8", extra)
            return
        err_type = {401: "invalid_request_error", 404: "invalid_request_error", 429: "requests",
                    400: "invalid_request_error"}.get(status, "server_error")
        body = {"error": {"message": message, "type": err_type, "param": None, "code": script.error_code or code}}
        self._send_json(status, body, extra)

    def _models(self, script: Script) -> None:
        if script.models is None:
            self._send_json(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})
            return
        data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "stub"} for m in script.models]
        self._send_json(200, {"object": "list", "data": data})

    def _embeddings(self, req: RecordedRequest, script: Script) -> None:
        body = req.body if isinstance(req.body, dict) else {}
        inputs = body.get("input", "")
        texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs]
        data = []
        for i, text in enumerate(texts):
            vector = fake_embedding(text, script.embedding_dim)
            if body.get("encoding_format") == "base64":
                emb: Any = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            else:
                emb = vector
            data.append({"object": "embedding", "index": i, "embedding": emb})
        tokens = sum(len(split_tokens(t)) for t in texts)
        self._send_json(200, {"object": "list", "data": data, "model": body.get("model", "stub"),
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    # -- chat -----------------------------------------------------------------------------------------------

    def _chat(self, req: RecordedRequest, script: Script, number: int) -> None:
        if number <= script.drop_first:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if script.hang:
            self._stall(3600, req)  # until the server stops or the client hangs up
            self.close_connection = True
            return
        if script.status is not None and (script.fail_first is None or number <= script.fail_first):
            model = req.body.get("model") if isinstance(req.body, dict) else None
            message = {401: "Incorrect API key provided.", 403: "You are not allowed to use this model.",
                       404: f"The model `{model}` does not exist or you do not have access to it.",
                       429: "Rate limit reached. Please try again later."}.get(
                script.status, "The server had an error while processing your request.")
            self._error(script.status, message, script, req,
                        code="model_not_found" if script.status == 404 else None)
            return
        body = req.body if isinstance(req.body, dict) else {}
        model = str(body.get("model", "stub"))
        wanted = (body.get("response_format") or {}).get("type") if isinstance(body.get("response_format"), dict) \
            else None
        if wanted and wanted not in script.json_modes:
            self._error(script.json_refusal_status, f"1 validation error: ('body', 'response_format', 'type'): "
                                                    f"'{wanted}' is not supported", script, req)
            return
        if script.context_window and _prompt_tokens(body) + int(body.get("max_tokens") or 0) > script.context_window:
            if script.overflow == "error":
                self._error(400, "the request exceeds the available context size", script, req)
                return
            script = Script(**{**{f.name: getattr(script, f.name) for f in fields(Script)}, "empty_stream": True})
        reply = script.reply(req) if callable(script.reply) else script.reply
        if req.stream:
            self._chat_stream(req, script, model, reply)
        else:
            self._chat_plain(script, model, reply)

    def _chat_plain(self, script: Script, model: str, reply: str) -> None:
        if self._wait(script.first_token_delay):
            return
        if script.junk == "html":
            self._send_bytes(200, b"<html><body><h1>Welcome to nginx!</h1></body></html>", "text/html")
            return
        if script.junk in ("json", "sse"):
            self._send_bytes(200, b'{"id": "chatcmpl-1", "choices": [', "application/json")
            return
        n = len(split_tokens(reply))
        self._send_json(200, {
            "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                         "finish_reason": script.finish_reason, "logprobs": None}],
            "usage": {"prompt_tokens": 10, "completion_tokens": n, "total_tokens": 10 + n},
        })

    def _chunk(self, data: bytes, req: RecordedRequest) -> None:
        self._write(b"%x\r\n%s\r\n" % (len(data), data), req)

    def _event(self, obj: Any, req: RecordedRequest) -> None:
        payload = obj if isinstance(obj, str) else json.dumps(obj)
        self._chunk(f"data: {payload}\n\n".encode(), req)

    def _chat_stream(self, req: RecordedRequest, script: Script, model: str, reply: str) -> None:
        if script.junk == "html":
            self._send_bytes(200, b"<html><body><h1>Welcome to nginx!</h1></body></html>", "text/html")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": created, "model": model,
                    "system_fingerprint": None,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

        if self._stall(script.first_token_delay, req):
            return
        if script.empty_stream:
            self._chunk(b"", req)
            return
        self._event(chunk({"role": "assistant", "content": ""}), req)
        if script.junk == "sse":
            self._event("this is not JSON", req)
            self._event("{also not json", req)
            self._chunk(b"", req)
            return
        tokens = split_tokens(reply)
        step = max(1, script.tokens_per_chunk)
        pieces = ["".join(tokens[i:i + step]) for i in range(0, len(tokens), step)]
        for i, piece in enumerate(pieces):
            if script.cut_after is not None and i >= script.cut_after:
                break
            if i and self._wait(script.token_delay):
                return
            self._event(chunk({"content": piece}), req)
            req.chunks_sent += 1
        if script.cut_after is not None:
            self._cut(req, script)
            return
        self._event(chunk({}, script.finish_reason), req)
        self._event("[DONE]", req)
        self._chunk(b"", req)  # the terminating zero-length chunk

    def _cut(self, req: RecordedRequest, script: Script) -> None:
        self.close_connection = True
        if script.cut_style == "clean":
            self._chunk(b"", req)  # a well-formed end of body, but no finish_reason and no [DONE]
            return
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)  # mid-body: the client sees the peer vanish


def _prompt_tokens(body: dict[str, Any]) -> int:
    """A rough token count of a chat request's messages (about four characters a token, like real tokenizers)."""
    messages = body.get("messages") or []
    return sum(len(str(m.get("content") or "")) // 4 + 4 for m in messages if isinstance(m, dict))


def fake_embedding(text: str, dim: int = 8) -> list[float]:
    """A deterministic unit vector derived from a hash of the text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    while len(digest) < dim:
        digest += hashlib.sha256(digest).digest()
    raw = [(b - 127.5) / 127.5 for b in digest[:dim]]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [round(v / norm, 6) for v in raw]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    stub: OpenAIStubServer

    def process_request(self, request: Any, client_address: Any) -> None:
        # Like ThreadingMixIn, but every handler thread and socket is tracked so stop() can end them.
        thread = threading.Thread(target=self._serve_one, args=(request, client_address),
                                  name="openai-stub-handler", daemon=True)
        with self.stub._lock:
            self.stub._connections.add(request)
            self.stub._threads.append(thread)
        thread.start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception as exc:  # noqa: BLE001 - a handler crash must not reach pytest's thread hook
            self.stub.errors.append(repr(exc))
        finally:
            with self.stub._lock:
                self.stub._connections.discard(request)
            self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away is normal here


class OpenAIStubServer:
    """The fake OpenAI-compatible server; ``start()``/``stop()`` or use it as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, script: Script | None = None) -> None:
        self._host, self._port = host, port
        self.behaviour = script or Script()
        self.requests: list[RecordedRequest] = []
        self.client_gone = threading.Event()  # set when a client closed the connection mid-response
        self.disconnects = 0
        self.errors: list[str] = []  # handler crashes (a bug in the stub, not a scripted failure)
        self._chat_count = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._httpd: _HTTPServer | None = None
        self._serve_thread: threading.Thread | None = None

    # -- behaviour ------------------------------------------------------------------------------------------

    def script(self, **changes: Any) -> Script:
        """Replace the behaviour: defaults plus ``changes`` (see :class:`Script`). Resets the request counter."""
        known = {f.name for f in fields(Script)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"Unknown script fields: {sorted(unknown)}")
        if "models" in changes and changes["models"] is not None:
            changes["models"] = tuple(changes["models"])
        self.behaviour = Script(**changes)
        with self._lock:
            self._chat_count = 0
        return self.behaviour

    def _next_chat_number(self) -> int:
        with self._lock:
            self._chat_count += 1
            return self._chat_count

    def _note_client_gone(self) -> None:
        with self._lock:
            self.disconnects += 1
        self.client_gone.set()

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- lifecycle ------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("The server is not running.")
        return self._httpd.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def start(self) -> Self:
        httpd = _HTTPServer((self._host, self._port), _Handler)
        httpd.stub = self
        self._httpd = httpd
        self._serve_thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                              name="openai-stub", daemon=True)
        self._serve_thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, wake hung handlers, drop open connections and wait for every thread."""
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for conn in connections:  # wakes handlers blocked reading the next keep-alive request
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            leftovers = list(self._connections)
            self._connections.clear()
        for conn in leftovers:
            conn.close()
        httpd.server_close()
        if self._serve_thread is not None:
            self._serve_thread.join(timeout)
        self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _openai_server() -> Iterator[OpenAIStubServer]:
    """A fresh fake OpenAI-compatible server on 127.0.0.1 for one test, stopped at teardown."""
    server = OpenAIStubServer().start()
    try:
        yield server
    finally:
        server.stop()


if pytest is not None:
    openai_server = pytest.fixture(_openai_server, name="openai_server")

