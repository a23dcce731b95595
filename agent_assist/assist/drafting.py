"""AI drafting: grounded prompt -> redaction -> streamed model reply -> placeholders restored.

Each ``stream_*`` function is a generator of text deltas for the UI (via
``ui/streaming.py``) whose return value is the finished result. They are plain
Python over the core, so tests drive them against a real HTTP server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass

from agent_assist.assist import guards, prompts
from agent_assist.assist.provider import Provider
from agent_assist.assist.redact import RedactionSession, Redactor, Restored
from agent_assist.knowledge.articles import Article, get_article
from agent_assist.knowledge.search import SearchHit, suggest_for_text
from agent_assist.store import Store, drafts, rules
from agent_assist.store.drafts import Draft
from agent_assist.store.tickets import Ticket, get_ticket

CancelFn = Callable[[], bool]
SNIPPETS_IN_PROMPT = 5
# the tail of a stream that may be the start of a placeholder: "[", "[CAR", "EMAIL_", "[IBAN_1"
_MAYBE_PLACEHOLDER_TAIL = re.compile(r"(\[\s*[A-Za-z]*[ _-]?\d*\s*|\b[A-Za-z]{2,}_?\d*)$")


class StreamRestorer:
    """Puts redacted values back into streamed text, never splitting a placeholder.

    Payment data comes back masked (``•••• 1111``) unless ``full_payment`` (only for text
    the agent wrote); every value put back is listed in :attr:`restored`.
    """

    def __init__(self, session: RedactionSession | None, *, full_payment: bool = False):
        self._session = session
        self._full_payment = full_payment
        self._pending = ""
        self.text = ""
        self.restored: list[Restored] = []

    def _restore(self, text: str) -> str:
        assert self._session is not None
        return self._session.restore(text, full_payment=self._full_payment, restored=self.restored)

    def feed(self, delta: str) -> str:
        if self._session is None or not self._session.mapping:
            self.text += delta
            return delta
        self._pending += delta
        m = _MAYBE_PLACEHOLDER_TAIL.search(self._pending)
        cut = m.start() if m and len(self._pending) - m.start() <= 24 else len(self._pending)
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        out = self._restore(ready) if ready else ""
        self.text += out
        return out

    def flush(self) -> str:
        out = self._restore(self._pending) if (self._session and self._pending) else self._pending
        self._pending = ""
        self.text += out
        return out


@dataclass(frozen=True)
class AiDraft:
    ticket_id: int
    text: str
    citations: tuple[int, ...]
    unknown_citations: tuple[int, ...]
    provider: str
    model: str
    prompt_version: str
    redacted: int  # how many distinct values were replaced by placeholders before sending
    restored: tuple[Restored, ...] = ()  # values put back in place of placeholders (payment data masked)
    warnings: tuple[str, ...] = ()  # what the output guards found, in sentences
    suspect_citations: tuple[int, ...] = ()  # cited although the prompt did not offer them


@dataclass(frozen=True)
class AiText:
    """A finished rewrite, translation or summary, after the output guards."""

    text: str
    restored: tuple[Restored, ...] = ()
    warnings: tuple[str, ...] = ()
    suspect_citations: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Streamed:
    text: str
    restored: tuple[Restored, ...]


def _session(provider: Provider) -> RedactionSession | None:
    return Redactor().session() if provider.config.redact else None


def _stream(provider: Provider, messages: list[dict], session: RedactionSession | None,
            cancel: CancelFn | None, *, full_payment: bool = False) -> Generator[str, None, _Streamed]:
    restorer = StreamRestorer(session, full_payment=full_payment)
    for delta in provider.stream_chat(messages, cancel=cancel):
        out = restorer.feed(delta)
        if out:
            yield out
    tail = restorer.flush()
    if tail:
        yield tail
    return _Streamed(restorer.text, tuple(restorer.restored))


def grounding(store: Store, ticket: Ticket) -> tuple[list[SearchHit], dict[int, Article]]:
    """The knowledge the draft stands on: the ticket's top snippets and their articles."""
    hits = suggest_for_text(store.db, ticket.inbound_text(), subject=ticket.subject, language=ticket.language,
                            limit=SNIPPETS_IN_PROMPT)
    return hits, {h.article_id: get_article(store.db, h.article_id) for h in hits}


def stream_draft(store: Store, ticket_id: int, provider: Provider, *, agent_name: str, policy: str = "",
                 cancel: CancelFn | None = None) -> Generator[str, None, AiDraft]:
    """Stream a reply to the ticket, grounded in its top knowledge snippets and citing them.

    A human-only ticket (routing rule) raises ``HumanOnlyError`` before anything is sent.
    """
    rules.require_machine_draft_allowed(store.db, ticket_id)
    ticket = get_ticket(store.db, ticket_id)
    hits, articles = grounding(store, ticket)
    session = _session(provider)
    messages = prompts.build_draft_messages(ticket, hits, articles, policy=policy or prompts.DEFAULT_POLICY,
                                            agent_name=agent_name, language=ticket.language,
                                            redactor_session=session)
    out = yield from _stream(provider, messages, session, cancel)
    check = guards.check_output(out.text, mapping=session.mapping if session else {},
                                offered=guards.offered_citations(messages))
    info = provider.describe()
    return AiDraft(ticket_id, check.text, check.citations, check.unoffered_citations, info["provider"],
                   info["model"], prompts.PROMPT_VERSION, len(session.mapping) if session else 0, out.restored,
                   check.warnings, check.suspect_citations)


def _ai_text(out: _Streamed, session: RedactionSession | None, *, offered: list[int] | None = None,
             source_text: str | None = None) -> AiText:
    check = guards.check_output(out.text, mapping=session.mapping if session else {}, offered=offered,
                                source_text=source_text)
    return AiText(check.text, out.restored, check.warnings, check.suspect_citations)


def stream_rewrite(provider: Provider, text: str, action: str, *, language: str, target_language: str | None = None,
                   cancel: CancelFn | None = None) -> Generator[str, None, AiText]:
    """Rewrite a draft (shorter, warmer, formal, grammar, translate), keeping citations.

    The draft is the agent's own text, so a card number they typed comes back as they typed it.
    """
    session = _session(provider)
    source = session.redact(text) if session else text
    messages = prompts.build_rewrite_messages(source, action, language=language, target_language=target_language)
    out = yield from _stream(provider, messages, session, cancel, full_payment=True)
    return _ai_text(out, session, source_text=text)


def stream_translation(provider: Provider, text: str, target_language: str, *,
                       cancel: CancelFn | None = None) -> Generator[str, None, AiText]:
    """A translation for the agent to read (never sent)."""
    session = _session(provider)
    source = session.redact(text) if session else text
    messages = prompts.build_translation_messages(source, target_language)
    out = yield from _stream(provider, messages, session, cancel)
    return _ai_text(out, session, source_text=text)


def stream_summary(store: Store, ticket_id: int, provider: Provider, *,
                   cancel: CancelFn | None = None) -> Generator[str, None, AiText]:
    """Three lines that sum up a long thread."""
    ticket = get_ticket(store.db, ticket_id)
    session = _session(provider)
    messages = prompts.build_summary_messages(ticket, redactor_session=session)
    out = yield from _stream(provider, messages, session, cancel)
    return _ai_text(out, session, offered=[])


def record_ai_draft(store: Store, result: AiDraft, *, actor: str, body: str | None = None) -> Draft:
    """Make the AI draft the ticket's working draft (the previous open draft is discarded).

    Refused (``HumanOnlyError``) when the ticket became human-only while the model wrote.
    """
    with store.transaction():
        rules.require_machine_draft_allowed(store.db, result.ticket_id)
        current = drafts.active_for_ticket(store.db, result.ticket_id)
        if current is not None:
            drafts.discard(store, current.id, actor=actor)
        draft_id = drafts.suggest(store, result.ticket_id, body if body is not None else result.text, actor=actor,
                                  source="ai", citations=result.citations, provider=result.provider,
                                  model=result.model, prompt_version=result.prompt_version)
    return drafts.get(store.db, draft_id)
