"""AI drafting: grounded prompt -> redaction -> streamed model reply -> placeholders restored.

Each ``stream_*`` function is a generator of text deltas for the UI (via
``ui/streaming.py``) whose return value is the finished result. They are plain
Python over the core, so tests drive them against a real HTTP server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass

from agent_assist.assist import context, guards, prompts
from agent_assist.assist.provider import SETTINGS_HINT, Provider, ProviderError, StreamEnd
from agent_assist.assist.redact import RedactionSession, Redactor, Restored
from agent_assist.assist.similar_tickets import similar_solved
from agent_assist.knowledge.articles import Article, get_article
from agent_assist.knowledge.search import SearchHit, suggest_for_text
from agent_assist.store import Store, drafts, rules
from agent_assist.store.backend import is_postgres
from agent_assist.store.drafts import Draft
from agent_assist.store.tickets import Ticket, get_ticket

CancelFn = Callable[[], bool]
SNIPPETS_IN_PROMPT = 5
MIN_REPLY_TOKENS = 200  # a reply budget is never squeezed below this to make a prompt fit
# a model inventing the next turns; never the opening tag: small models often begin by echoing it (the guard strips it)
DRAFT_STOP = ("\n[customer, ", "\n[agent, ", "</customer_thread>")
TEXT_STOP = ("</text>",)
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
    cut_off: bool = False  # the model hit its token limit: the reply is incomplete
    prompt_tokens: int = 0  # the estimate the prompt was fitted with


@dataclass(frozen=True)
class AiText:
    """A finished rewrite, translation or summary, after the output guards."""

    text: str
    restored: tuple[Restored, ...] = ()
    warnings: tuple[str, ...] = ()
    suspect_citations: tuple[int, ...] = ()
    cut_off: bool = False


@dataclass(frozen=True)
class _Streamed:
    text: str
    restored: tuple[Restored, ...]
    cut_off: bool = False


def _cut_off_warning(max_tokens: int) -> str:
    return (f"The reply was cut off at the model's length limit ({max_tokens} tokens) and is incomplete; finish it "
            f"yourself, or raise the limit in {SETTINGS_HINT}.")


def _too_long(need: int, window: int, reply_tokens: int) -> ProviderError:
    return ProviderError(
        "too_long", f"This prompt needs about {need} tokens even cut down to the last messages and one article, "
                    f"but the model's context window holds {window} tokens ({reply_tokens} kept for the reply). "
                    f"Choose a model with a larger window, or give the server a larger context (llama.cpp: "
                    f"--n_ctx, Ollama: num_ctx) and set it in {SETTINGS_HINT}.")


def _reply_tokens(provider: Provider, window: int | None, need: int, wanted: int | None = None) -> int:
    """The reply budget: the setting (or ``wanted``), squeezed to the room the window leaves, never below the minimum."""
    tokens = wanted or provider.config.reply_limit
    if window:
        tokens = min(tokens, max(MIN_REPLY_TOKENS, window - need - context.MARGIN_TOKENS))
    return tokens


def _fit_or_refuse(provider: Provider, messages: list[dict], wanted: int | None = None) -> int:
    """The max_tokens for a prompt that cannot shrink; ``too_long`` when it does not fit the window."""
    window = provider.context_window()
    need = context.estimate_messages(messages)
    tokens = _reply_tokens(provider, window, need, wanted)
    if window and need + tokens + context.MARGIN_TOKENS > window:
        raise ProviderError("too_long", f"This text needs about {need} tokens, but the model's context window holds "
                                        f"{window} tokens ({tokens} kept for the reply). Shorten the text, or "
                                        f"choose a model with a larger window in {SETTINGS_HINT}.")
    return tokens


def _session(provider: Provider) -> RedactionSession | None:
    return Redactor().session() if provider.config.redact else None


def _stream(provider: Provider, messages: list[dict], session: RedactionSession | None,
            cancel: CancelFn | None, *, full_payment: bool = False, max_tokens: int | None = None,
            stop: tuple[str, ...] = ()) -> Generator[str, None, _Streamed]:
    restorer = StreamRestorer(session, full_payment=full_payment)
    chat = provider.stream_chat(messages, cancel=cancel, max_tokens=max_tokens, stop=stop)
    try:
        while True:
            try:
                delta = next(chat)
            except StopIteration as done:
                end: StreamEnd = done.value
                break
            out = restorer.feed(delta)
            if out:
                yield out
    finally:
        chat.close()  # when our consumer stops early, the HTTP stream closes too
    tail = restorer.flush()
    if tail:
        yield tail
    return _Streamed(restorer.text, tuple(restorer.restored), end.cut_off)


def grounding(store: Store, ticket: Ticket) -> tuple[list[SearchHit], dict[int, Article]]:
    """The knowledge the draft stands on: the ticket's top snippets and their articles."""
    hits = suggest_for_text(store.db, ticket.inbound_text(), subject=ticket.subject, language=ticket.language,
                            limit=SNIPPETS_IN_PROMPT)
    return hits, {h.article_id: get_article(store.db, h.article_id) for h in hits}


def _draft_messages(store: Store, ticket: Ticket, provider: Provider, session_factory, *, agent_name: str,
                    policy: str) -> tuple[list[dict], RedactionSession | None, int, int]:
    """The largest draft prompt that fits the model's window: (messages, session, prompt tokens, reply tokens)."""
    small = provider.config.profile == "small"
    levels = context.levels_for(provider.config.profile)
    hits, articles = grounding(store, ticket)
    examples = [] if is_postgres(store) else similar_solved(store.db, ticket, limit=prompts.MAX_EXAMPLES)
    if not policy or (small and policy.strip() == prompts.DEFAULT_POLICY.strip()):
        policy = prompts.SHORT_POLICY if small else prompts.DEFAULT_POLICY
    window = provider.context_window()
    need = 0
    for level in levels:
        session = session_factory()  # a fresh mapping each try: placeholders match what is actually sent
        messages = prompts.build_draft_messages(
            ticket, hits, articles, policy=policy, agent_name=agent_name, language=ticket.language,
            redactor_session=session, thread_budget=level.thread, knowledge_budget=level.knowledge,
            article_budget=level.article, max_articles=level.articles, short=small, examples=examples)
        need = context.estimate_messages(messages)
        reply_tokens = _reply_tokens(provider, window, need)
        if not window or need + reply_tokens + context.MARGIN_TOKENS <= window:
            return messages, session, need, reply_tokens
    assert window is not None
    raise _too_long(need, window, MIN_REPLY_TOKENS)


def stream_draft(store: Store, ticket_id: int, provider: Provider, *, agent_name: str, policy: str = "",
                 cancel: CancelFn | None = None) -> Generator[str, None, AiDraft]:
    """Stream a reply to the ticket, grounded in its top knowledge snippets and citing them.

    The prompt is fitted to the model's context window (newest messages and best snippets
    kept first); ``ProviderError("too_long")`` says so when even the smallest prompt cannot fit.
    A human-only ticket (routing rule) raises ``HumanOnlyError`` before anything is sent.
    """
    rules.require_machine_draft_allowed(store.db, ticket_id)
    ticket = get_ticket(store.db, ticket_id)
    messages, session, need, reply_tokens = _draft_messages(store, ticket, provider, lambda: _session(provider),
                                                            agent_name=agent_name, policy=policy)
    out = yield from _stream(provider, messages, session, cancel, max_tokens=reply_tokens, stop=DRAFT_STOP)
    check = guards.check_output(out.text, mapping=session.mapping if session else {},
                                offered=guards.offered_citations(messages))
    warnings = check.warnings + ((_cut_off_warning(reply_tokens),) if out.cut_off else ())
    info = provider.describe()
    return AiDraft(ticket_id, check.text, check.citations, check.unoffered_citations, info["provider"],
                   info["model"], prompts.PROMPT_VERSION, len(session.mapping) if session else 0, out.restored,
                   warnings, check.suspect_citations, out.cut_off, need)


def _ai_text(out: _Streamed, session: RedactionSession | None, max_tokens: int, *,
             offered: list[int] | None = None, source_text: str | None = None) -> AiText:
    check = guards.check_output(out.text, mapping=session.mapping if session else {}, offered=offered,
                                source_text=source_text)
    warnings = check.warnings + ((_cut_off_warning(max_tokens),) if out.cut_off else ())
    return AiText(check.text, out.restored, warnings, check.suspect_citations, out.cut_off)


def stream_rewrite(provider: Provider, text: str, action: str, *, language: str, target_language: str | None = None,
                   cancel: CancelFn | None = None) -> Generator[str, None, AiText]:
    """Rewrite a draft (shorter, warmer, formal, grammar, translate), keeping citations.

    The draft is the agent's own text, so a card number they typed comes back as they typed it.
    """
    session = _session(provider)
    source = session.redact(text) if session else text
    messages = prompts.build_rewrite_messages(source, action, language=language, target_language=target_language)
    # a rewrite or translation may be longer than the draft: leave it room
    tokens = _fit_or_refuse(provider, messages, max(provider.config.reply_limit,
                                                     2 * context.estimate_tokens(text) + 64))
    out = yield from _stream(provider, messages, session, cancel, full_payment=True, max_tokens=tokens,
                             stop=TEXT_STOP)
    return _ai_text(out, session, tokens, source_text=text)


def stream_translation(provider: Provider, text: str, target_language: str, *,
                       cancel: CancelFn | None = None) -> Generator[str, None, AiText]:
    """A translation for the agent to read (never sent)."""
    session = _session(provider)
    source = session.redact(text) if session else text
    messages = prompts.build_translation_messages(source, target_language)
    tokens = _fit_or_refuse(provider, messages, max(provider.config.reply_limit,
                                                     2 * context.estimate_tokens(text) + 64))
    out = yield from _stream(provider, messages, session, cancel, max_tokens=tokens, stop=TEXT_STOP)
    return _ai_text(out, session, tokens, source_text=text)


def stream_summary(store: Store, ticket_id: int, provider: Provider, *,
                   cancel: CancelFn | None = None) -> Generator[str, None, AiText]:
    """Three lines that sum up a long thread."""
    ticket = get_ticket(store.db, ticket_id)
    window = provider.context_window()
    budgets = [level.thread for level in context.levels_for(provider.config.profile)]
    for budget in budgets:
        session = _session(provider)
        messages = prompts.build_summary_messages(ticket, redactor_session=session, budget=budget)
        need = context.estimate_messages(messages)
        if not window or need + MIN_REPLY_TOKENS + context.MARGIN_TOKENS <= window or budget == budgets[-1]:
            break
    tokens = _fit_or_refuse(provider, messages, min(provider.config.reply_limit, 300))
    out = yield from _stream(provider, messages, session, cancel, max_tokens=tokens, stop=DRAFT_STOP)
    return _ai_text(out, session, tokens, offered=[])


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
