"""Payment card numbers (PANs) in text: the send path's last check before a reply leaves.

A full card number in an outgoing e-mail is a PCI incident, so :func:`drafts.send`
refuses a reply holding one unless a person confirms it. Detection is the same as
the redactor's: 13–19 digits (one kind of separator), a card-network first digit and
the Luhn check; masked forms (``•••• 1111``) are never matched.
"""

from __future__ import annotations

import re

_CARD = re.compile(r"(?<![\w-])(?<!\d[ -])(?:\d[ -]?){12,18}\d(?![\w-]|[ -]\d)")


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check used by card numbers and Swedish personnummer."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_number_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every Luhn-valid card number in the text."""
    spans: list[tuple[int, int]] = []
    for m in _CARD.finditer(text):
        raw = m.group()
        digits = re.sub(r"\D", "", raw)
        if not 13 <= len(digits) <= 19 or digits[0] not in "23456" or not luhn_ok(digits):
            continue
        if ("-" in raw) and (" " in raw):  # one kind of separator in one number
            continue
        spans.append((m.start(), m.end()))
    return spans


def find_card_numbers(text: str) -> list[str]:
    """The Luhn-valid card numbers in the text, as written."""
    return [text[s:e] for s, e in card_number_spans(text)]


def last_four(card: str) -> str:
    return re.sub(r"\D", "", card)[-4:]
