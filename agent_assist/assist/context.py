"""Fitting a prompt to the model's context window.

Tokens are estimated, not counted: the app talks to many models with different
tokenizers, and shipping each one is not worth it. The estimate leans high (about
3.2 characters a token for Latin text, a token per character for CJK), so a prompt
the estimate fits is very likely to fit the real window.

A draft prompt is built at the first level of :data:`LEVELS` that fits (the window
minus the reply's ``max_tokens`` and a margin); each level keeps the newest messages
and the best snippets first, because the latest customer message and the best
article matter most. The ``small`` profile starts further down the list and uses
the short policy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DRAFT_PROMPT_TOKENS = 2600  # about what a standard draft prompt with five snippets holds
MARGIN_TOKENS = 48  # chat-template tokens per prompt, and slack for the estimate
PER_MESSAGE_TOKENS = 6
_WIDE = re.compile(r"[\u1100-\u11ff\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def estimate_tokens(text: str) -> int:
    """A deliberately generous estimate of the tokens in ``text`` for common tokenizers."""
    if not text:
        return 0
    wide = len(_WIDE.findall(text))
    rest = len(text) - wide
    words = len(text.split())
    return wide + max(math.ceil(rest / 3.2), math.ceil(words * 1.4))


def estimate_messages(messages: Iterable[Mapping[str, str]]) -> int:
    msgs = list(messages)
    return sum(estimate_tokens(m.get("content") or "") for m in msgs) + PER_MESSAGE_TOKENS * len(msgs)


@dataclass(frozen=True)
class Level:
    """Budgets for one size of draft prompt (characters)."""

    thread: int
    knowledge: int
    article: int
    articles: int


LEVELS: tuple[Level, ...] = (
    Level(6000, 6000, 1500, 5),
    Level(4000, 3500, 1000, 4),
    Level(2500, 2000, 700, 3),
    Level(1500, 1100, 550, 2),  # the small-model profile starts here
    Level(900, 500, 500, 1),
    Level(500, 300, 300, 1),
)
SMALL_PROFILE_START = 3


def levels_for(profile: str) -> tuple[Level, ...]:
    return LEVELS[SMALL_PROFILE_START:] if profile == "small" else LEVELS


def room_for_prompt(window: int | None, reply_tokens: int) -> int | None:
    """How many prompt tokens fit beside a reply of ``reply_tokens``; None when the window is unknown."""
    if not window:
        return None
    return window - reply_tokens - MARGIN_TOKENS


_FILLER = ("Hello, I was charged twice for my order last week and the second payment has not been refunded. "
           "I have attached the receipt and my bank statement. Could you please check what happened and tell me "
           "when the money will be back on my account? ")


def filler_prompt(tokens: int) -> list[dict[str, str]]:
    """A prompt of about ``tokens`` tokens shaped like a draft request (for Test connection)."""
    body = _FILLER * max(1, math.ceil(tokens / estimate_tokens(_FILLER)))
    return [{"role": "system", "content": "You help a customer-support agent answer customers."},
            {"role": "user", "content": f"{body}\n\nReply with the single word: OK"}]
