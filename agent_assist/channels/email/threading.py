"""Which ticket an e-mail belongs to.

1. Its ``In-Reply-To`` and then ``References`` (newest first) name a message we know, inbound or
   one of our replies (``email_messages``): that message's ticket.
2. Otherwise the same customer (by From address) wrote with the same normalised subject
   ("AW: Re: [Ext] Refund" -> "refund") within ``window_days``: that ticket.
3. Otherwise it starts a new ticket.

(Not to be confused with the stdlib's ``threading``; the package imports are absolute.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from agent_assist.store import mail
from agent_assist.timefmt import to_iso, utcnow

# reply and forward prefixes in the languages a European desk meets, with counters like "Re[2]:"
_PREFIX_WORDS = (
    "re", "aw", "sv", "vs", "vl", "fw", "fwd", "wg", "rv", "tr", "antw", "antwort", "odp", "ynt", "res", "ref",
    "rif", "r", "i", "enc", "doorst", "fs", "vb", "vá", "přeposlat", "odg", "továbbítás", "válasz", "atb",
    "απ", "σχετ", "πρθ", "отв", "ответ", "пересл", "回复", "回覆", "答复", "转发", "轉寄", "返信", "転送", "회신", "전달",
)
_PREFIX = re.compile(
    r"^\s*(?:(?:" + "|".join(sorted((re.escape(w) for w in _PREFIX_WORDS), key=len, reverse=True))
    + r")\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]|\[[^\]]{0,40}\]|\(fwd\))\s*",
    re.IGNORECASE,
)


def strip_prefixes(subject: str) -> str:
    """The subject without reply/forward prefixes and list tags, case kept ("AW: Re: Refund" -> "Refund")."""
    text = subject or ""
    for _ in range(50):  # "Re: AW: Re: Re: ..." -- bounded, never a loop on odd input
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return text.strip()


def normalize_subject(subject: str) -> str:
    """The subject without reply/forward prefixes and list tags, case- and space-folded (for matching)."""
    return " ".join(strip_prefixes(subject).casefold().split())[:300]


@dataclass(frozen=True)
class ThreadMatch:
    ticket_id: int
    how: str  # "in-reply-to" | "references" | "subject"
    via: str | None = None  # the Message-ID that matched


def find_ticket(db, *, in_reply_to: tuple[str, ...] | list[str], references: tuple[str, ...] | list[str],
                customer_id: int | None, subject_norm: str, window_days: int) -> ThreadMatch | None:
    """The ticket an incoming mail continues, or None for a new ticket (``db``: a store's ``db``)."""
    for how, ids in (("in-reply-to", list(in_reply_to)), ("references", list(reversed(references)))):
        for mid in ids:
            ticket_id = mail.ticket_of_message_id(db, mid)
            if ticket_id is not None:
                return ThreadMatch(ticket_id, how, mid)
    if customer_id is None or not subject_norm or window_days <= 0:
        return None
    since = to_iso(utcnow() - timedelta(days=window_days))
    ticket_id = mail.ticket_by_subject(db, customer_id, subject_norm, since)
    return ThreadMatch(ticket_id, "subject") if ticket_id is not None else None


def customer_by_address(db, address: str | None) -> int | None:
    if not address:
        return None
    return mail.customer_by_address(db, address)
