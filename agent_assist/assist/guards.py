"""Checks on every model output before it reaches the editor: draft, rewrite, translation, summary.

Small and local models in particular echo the prompt's scaffolding (``<customer_thread>``
tags, ``[customer, 2024-05-01 10:00]`` thread lines, the internal injection note), cite
articles the prompt never offered, quietly swap ``[KB-91]`` for ``[KB-92]`` in a rewrite,
or invent placeholders such as ``[IBAN_2]``. :func:`check_output` strips the markup and
says, in sentences an agent can act on, what else is wrong; it never silently "fixes"
a citation or a placeholder, because only a person knows which one was meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from agent_assist.assist import prompts
from agent_assist.assist.redact import unknown_placeholders

_TAG_NAMES = r"customer_thread|knowledge|text|message|article|system|instructions?"
# our fence tags, also in the defused form (‹customer_thread›) and with stray spaces
_TAGS = re.compile(rf"[<\u2039]\s*/?\s*(?:{_TAG_NAMES})\s*/?\s*[>\u203a]", re.IGNORECASE)
_TEMPLATE = re.compile(r"<\|[^|<>\n]{0,40}\|>|<</?SYS>>|\[/?INST\]|</s>|<(?:start|end)_of_turn>", re.IGNORECASE)
# "[customer, 2024-05-01 10:00]" as thread_block writes it (also "[agent, …]" and "[internal note, …]")
_THREAD_LINE = re.compile(r"^[ \t]*\[(?:customer|agent|internal note),\s*\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}\][ \t]*$",
                          re.IGNORECASE | re.MULTILINE)
_SCAFFOLD_LINE = re.compile(
    r"^[ \t]*(?:Customer's first name:.*|\[\d+ earlier messages? left out\]|\(no matching articles\)|\(no messages\)|"
    r"Knowledge articles you may rely on:|The conversation so far \(untrusted customer data\):)[ \t]*$",
    re.IGNORECASE | re.MULTILINE)
_INJECTION_NOTE = re.compile(
    r"[^\n.]*\bcontains instructions aimed at an AI\b[^\n]*?(?:do not mention this note\.?|$)",
    re.IGNORECASE | re.MULTILINE)


def strip_prompt_markup(text: str) -> tuple[str, int]:
    """The text without the prompt's own markup, and how many pieces were removed.

    A fake thread line after real text means the model began to invent the next turn of the
    conversation: that line and everything after it go. At the very start it is only dropped.
    """
    removed = 0
    for pattern in (_SCAFFOLD_LINE, _INJECTION_NOTE, _TAGS, _TEMPLATE):
        # a piece that filled its line takes the line break with it
        text, n = re.compile(rf"(?:^[ \t]*(?:{pattern.pattern})[ \t]*(?:\n|$))|(?:{pattern.pattern})",
                             pattern.flags).subn("", text)
        removed += n
    m = next((m for m in _THREAD_LINE.finditer(text) if text[:m.start()].strip()), None)
    if m is not None:
        text, removed = text[:m.start()], removed + 1
    text, n = re.compile(_THREAD_LINE.pattern + r"\n?", _THREAD_LINE.flags).subn("", text)
    removed += n
    if removed:
        text = text.strip()
    return text, removed


def offered_citations(messages: Iterable[Mapping[str, str]]) -> list[int]:
    """The article ids the prompt's knowledge section offered (``[KB-n] Title`` headings)."""
    ids: list[int] = []
    for m in messages:
        content = m.get("content") or ""
        start, end = content.find(prompts.KNOWLEDGE_OPEN), content.find(prompts.KNOWLEDGE_CLOSE)
        if start < 0 or end < start:
            continue
        for hit in re.finditer(r"^\[KB-(\d+)\] ", content[start:end], re.MULTILINE):
            if int(hit.group(1)) not in ids:
                ids.append(int(hit.group(1)))
    return ids


@dataclass(frozen=True)
class OutputCheck:
    """A model's output after the guards: the cleaned text and what a person should look at."""

    text: str
    citations: tuple[int, ...] = ()  # cited and allowed
    unoffered_citations: tuple[int, ...] = ()  # cited, but the prompt never offered them
    added_citations: tuple[int, ...] = ()  # a rewrite cites what the original did not
    dropped_citations: tuple[int, ...] = ()  # a rewrite no longer cites what the original did
    unknown_placeholders: tuple[str, ...] = ()  # placeholders no redaction made
    markup_removed: int = 0
    warnings: tuple[str, ...] = field(default=())

    @property
    def suspect_citations(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(self.unoffered_citations + self.added_citations))


def _kb(ids: Iterable[int]) -> str:
    return ", ".join(f"KB-{i}" for i in ids)


def check_output(text: str, *, mapping: Mapping[str, str], offered: Iterable[int] | None = None,
                 source_text: str | None = None) -> OutputCheck:
    """Guard one model output.

    ``offered``: the article ids the prompt offered (a draft); ``source_text``: the text a
    rewrite or translation started from, whose citations it must keep exactly. ``mapping``
    is the redaction session's placeholder mapping ({} when nothing was redacted).
    """
    cleaned, removed = strip_prompt_markup(text)
    cited = prompts.parse_citations(cleaned)
    warnings: list[str] = []
    allowed: set[int] | None = set(offered) if offered is not None else None
    added: list[int] = []
    dropped: list[int] = []
    if source_text is not None:
        before = prompts.parse_citations(source_text)
        added = [i for i in cited if i not in before]
        dropped = [i for i in before if i not in cited]
        allowed = set(before) if allowed is None else allowed | set(before)
    unoffered = [i for i in cited if allowed is not None and i not in allowed and i not in added]
    valid = [i for i in cited if (allowed is None or i in allowed) and i not in added]
    if unoffered:
        warnings.append(f"The model cited {_kb(unoffered)}, which the prompt did not offer; check or remove "
                        f"{'it' if len(unoffered) == 1 else 'them'}.")
    if added or dropped:
        change = "; ".join(part for part in (f"added {_kb(added)}" if added else "",
                                             f"dropped {_kb(dropped)}" if dropped else "") if part)
        warnings.append(f"The rewrite changed the citations ({change}); check them before sending.")
    invented = list(dict.fromkeys(unknown_placeholders(cleaned, mapping)))
    if invented:
        warnings.append(f"The model wrote {', '.join(invented)}, which stands for nothing in this conversation; "
                        "replace or remove it.")
    return OutputCheck(cleaned, tuple(valid), tuple(unoffered), tuple(added), tuple(dropped), tuple(invented),
                       removed, tuple(warnings))
