"""How we answered this before: solved tickets close in meaning to the open one, with the reply that was sent.

Beside the articles, the knowledge panel shows up to three solved tickets whose question (subject
and first message) is nearest to this ticket's, in any language, with the reply that went out; a
draft may stand on them too, cited as ``[T-n]`` (their own citation kind: a past reply is an
example of tone and steps, not policy). A solved ticket whose answer no article covers can be turned
into an article draft (:func:`article_draft`) that a supervisor reviews and publishes.

Another customer's reply is shown to this customer's agent, and may go into a prompt: the other
customer's name is replaced by "[customer]" first, and the prompt path redacts the rest as it does
every text (cards, IBANs, e-mail addresses, phone and identity numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent_assist.knowledge import semantic as knowledge_semantic
from agent_assist.store import vectors
from agent_assist.store.tickets import Ticket

MAX_SHOWN = 3


@dataclass(frozen=True)
class SolvedExample:
    ticket_id: int
    subject: str
    language: str
    question: str  # the customer's first message, their name taken out
    reply: str  # the last reply sent, the customer's name taken out
    sent_at: str
    score: float  # cosine to the open ticket

    @property
    def citation(self) -> str:
        return f"[T-{self.ticket_id}]"


def _without_name(text: str, name: str) -> str:
    """The customer's name (full, and each part of 3+ letters) replaced by "[customer]"."""
    parts = sorted({p for p in [name.strip(), *name.split()] if len(p) >= 3}, key=len, reverse=True)
    for part in parts:
        text = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", "[customer]", text, flags=re.IGNORECASE)
    return text


def similar_solved(db: Any, ticket: Ticket, *, layer: Any = None, limit: int = MAX_SHOWN) -> list[SolvedExample]:
    """Solved tickets nearest in meaning to ``ticket`` (never itself), best first; [] without a layer,
    before it is loaded, or when none is close enough."""
    layer = knowledge_semantic.active() if layer is None else layer
    if layer is None:
        return []
    first = next((m.body_text for m in ticket.messages if m.direction == "inbound"), "")
    query = knowledge_semantic.ticket_question(ticket.subject, ticket.inbound_text() or first)
    near = layer.similar(db, vectors.TICKET, query, limit=limit, exclude=frozenset({ticket.id}))
    if not near:
        return []
    answers = vectors.solved_answers(db, [t for t, _ in near])
    out = []
    for ticket_id, score in near:
        found = answers.get(ticket_id)
        if found is None:
            continue
        subject, language, name, question, reply, sent_at = found
        out.append(SolvedExample(ticket_id, subject, language, _without_name(question, name),
                                 _without_name(reply, name), sent_at, score))
    return out


def article_draft(example: SolvedExample) -> dict[str, str]:
    """An article draft from a solved ticket's answer, for a supervisor to edit and publish: the
    question as its title, the reply less its greeting and sign-off lines as its body."""
    lines = [ln for ln in example.reply.strip().splitlines()]
    if len(lines) > 2 and len(lines[0]) <= 40 and lines[0].rstrip().endswith((",", "!")):
        lines = lines[1:]  # "Hi Tom," / "Hej [customer]!"
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) > 2 and len(lines[-1]) <= 40:  # the agent's name
        lines = lines[:-1]
        if lines and len(lines[-1]) <= 30 and lines[-1].rstrip().endswith(","):  # "Best regards,"
            lines = lines[:-1]
    body = "\n".join(lines).strip()
    return {"title": example.subject.strip() or "Answer from a solved ticket", "body": body,
            "locale": example.language or "en", "section": "From solved tickets",
            "key": f"from-ticket-{example.ticket_id}"}
