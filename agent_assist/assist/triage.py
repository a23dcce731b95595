"""Offline triage: sentiment, sensitivity flags and whether a person should look first.

:func:`triage` reads what a customer wrote and returns a :class:`Triage`: the
sentiment (``negative``, ``angry``, ``neutral`` or ``positive``, with a score),
the sensitive situations it spotted as :class:`Flag` objects, and ``escalate``.
Every flag carries a sentence for the agent that quotes the customer's own
words, e.g. «Mentions job loss or lost income: “lost my job”».

Flag kinds: ``financial_hardship``, ``fraud``, ``dispute``, ``complaint_legal``
(a formal complaint, a regulator or ombudsman, a legal threat), ``vulnerability``
(bereavement, serious illness, mental-health distress, abuse, age or care needs),
``repeat_contact`` (the customer says so, wrote again without a reply, or wrote
before about a similar subject) and ``prompt_injection`` (from
:mod:`agent_assist.assist.injection` when it is there).

How it decides (deliberately simple, so an agent can see why):

* Rules are word and phrase patterns for English, Swedish, German, Spanish, French
  and Dutch, in :mod:`agent_assist.assist.triage_words`. All languages are always
  checked: customers mix languages and the ticket's language is sometimes wrong.
* The text is folded first (lower case, accents removed), so "DÉCÉDÉ", "décédé"
  and "decede" read alike; stems and a few common misspellings are in the patterns.
* Quoted e-mail replies ("> ..." lines, "On ... wrote:" and what follows) are not read:
  our own words quoted back must not flag a ticket.
* Recall comes first: missing a bereaved or desperate customer costs more than an
  extra flag. Negation does *not* cancel a flag ("it's not fraud, but someone used my
  card" is still worth a look); only the common innocent readings are excluded
  ("my *phone* died", "the *fraud warning* email", "my *only* complaint").
* ``sensitive`` is any flag about the customer's situation (all kinds except
  ``repeat_contact``); ``escalate`` is any flag at all, or an angry tone.

Deterministic, no model, no network; thousands of tickets a second.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from agent_assist.assist import triage_words as words

if TYPE_CHECKING:
    from agent_assist.store.tickets import Ticket

log = logging.getLogger(__name__)

VULNERABILITY = "vulnerability"
FINANCIAL_HARDSHIP = "financial_hardship"
FRAUD = "fraud"
COMPLAINT_LEGAL = "complaint_legal"
DISPUTE = "dispute"
REPEAT_CONTACT = "repeat_contact"
PROMPT_INJECTION = "prompt_injection"
#: every flag kind, most serious first (the order flags come in)
FLAG_KINDS: tuple[str, ...] = (VULNERABILITY, FINANCIAL_HARDSHIP, FRAUD, COMPLAINT_LEGAL, DISPUTE,
                               REPEAT_CONTACT, PROMPT_INJECTION)
#: kinds about the customer's situation or the safety of the text; repeat_contact escalates but is not "sensitive"
SENSITIVE_KINDS: frozenset[str] = frozenset(FLAG_KINDS) - {REPEAT_CONTACT}

NEGATIVE, ANGRY, NEUTRAL, POSITIVE = "negative", "angry", "neutral", "positive"
SENTIMENTS: tuple[str, ...] = (NEGATIVE, ANGRY, NEUTRAL, POSITIVE)

ANGER_THRESHOLD = 2.0  # anger points for "angry" (an insult or swear word is 2, "ridiculous" 1.5)
MAX_EXCERPT = 80
MAX_REASONS_PER_FLAG = 3
_WINDOW = 40  # characters looked at before and after a match by not_before / not_after


# -- results ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evidence:
    """One thing that triggered a flag: the customer's words and where they are."""

    label: str  # what it means, for a person: "Mentions job loss or lost income"
    excerpt: str  # the words as the customer wrote them
    source: str = "text"  # "text" | "subject" | "history" | "thread"
    start: int = 0  # the excerpt is source_text[start:end] (0, 0 for history and thread)
    end: int = 0


@dataclass(frozen=True)
class Flag:
    """A sensitive situation: its kind and a reason that quotes what triggered it."""

    kind: str
    reason: str  # «Mentions job loss or lost income: “lost my job”; Says they cannot pay: “can't afford”»
    evidence: tuple[Evidence, ...] = ()

    @property
    def excerpt(self) -> str:
        """The first triggering words (the same attribute as :class:`injection.Flag`)."""
        return self.evidence[0].excerpt if self.evidence else ""


@dataclass(frozen=True)
class Triage:
    language: str | None  # passed through; triage does not guess it
    sentiment: str  # one of SENTIMENTS
    sentiment_score: float  # -1.0 (very negative or angry) .. +1.0 (very positive)
    flags: tuple[Flag, ...] = ()
    sentiment_cues: tuple[str, ...] = ()  # the words that set the sentiment, as written
    sensitive: bool = field(init=False)  # a flag of a SENSITIVE_KINDS kind
    escalate: bool = field(init=False)  # any flag, or an angry tone: a person should look first

    def __post_init__(self) -> None:
        object.__setattr__(self, "sensitive", any(f.kind in SENSITIVE_KINDS for f in self.flags))
        object.__setattr__(self, "escalate", bool(self.flags) or self.sentiment == ANGRY)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(f.kind for f in self.flags)

    def has(self, kind: str) -> bool:
        return any(f.kind == kind for f in self.flags)

    def flag(self, kind: str) -> Flag | None:
        return next((f for f in self.flags if f.kind == kind), None)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why it escalates, one line each (empty when it does not)."""
        out = [f.reason for f in self.flags]
        if self.sentiment == ANGRY:
            cues = ", ".join(f"\u201c{c}\u201d" for c in self.sentiment_cues[:3])
            out.append(f"Angry tone: {cues}" if cues else "Angry tone")
        return tuple(out)


# -- folding ------------------------------------------------------------------------------------
_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ı": "i",
                          "\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'",
                          "\u00a0": " ", "\u2013": "-", "\u2014": "-"})


def _fold_char(ch: str) -> str:
    out = []
    for c in unicodedata.normalize("NFKD", ch.casefold().translate(_SPECIAL)):
        if not unicodedata.combining(c):
            out.append(c)
    return "".join(out)


def fold(text: str) -> tuple[str, list[int] | None]:
    """The matching form of ``text`` and, unless it is the same length and aligned, where each
    of its characters came from (``None`` means index i came from index i)."""
    if text.isascii():
        return text.lower().replace("`", "'"), None
    chars: list[str] = []
    origin: list[int] = []
    aligned = True
    for i, ch in enumerate(text):
        f = _fold_char(ch) if not ch.isascii() else (ch.lower() if ch != "`" else "'")
        if len(f) != 1:
            aligned = False
        chars.append(f)
        origin.extend([i] * len(f))
    folded = "".join(chars)
    return folded, (None if aligned else origin)


def _fold_pattern(pattern: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", pattern.translate(_SPECIAL))
                   if not unicodedata.combining(c))


def _regex_body(pattern: str) -> str:
    """A folded pattern in regex form: " ?" is an optional separator, " ~ " up to three words, " " a separator."""
    body = _fold_pattern(pattern).replace(" ?", r"\W*").replace(" ~ ", r"\W+(?:\w+\W+){0,3}")
    return body.replace(" ", r"\W+")


# -- quoted replies -------------------------------------------------------------------------------
_REPLY_HEADER = re.compile(
    # "On Mon, 3 Mar 2025 at 10:00, Lumo Pay <support@...> wrote:" and its translations (the line has an
    # address or a time, so "Am Montag schrieb ich: ..." written by the customer is not taken for one)
    r"^[ \t]*(?=[^\n]*(?:@|\d{1,2}[:.]\d{2}))(?:on|den|am|el|le|op)\b[^\n]{0,160}"
    r"\b(?:wrote|skrev|schrieb|escribio|a ecrit|schreef)\b[^\n]{0,80}:"
    r"|^[ \t]*-{2,} ?(?:original message|ursprungligt meddelande|ursprungliche nachricht|mensaje original"
    r"|message d'origine|oorspronkelijk bericht) ?-{2,}"
    r"|^[ \t]*(?:from|fran|von|de|van): [^\n]{0,200}\n[ \t]*(?:sent|date|skickat|datum|gesendet|enviado|envoye|verzonden): ",
    re.MULTILINE)
_QUOTED_LINE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)


def _mask_quotes(folded: str) -> str:
    """Quoted lines and everything after a reply header turned into spaces (positions kept)."""
    if ">" not in folded and "wrote" not in folded and ":" not in folded:
        return folded
    m = _REPLY_HEADER.search(folded)
    if m:
        folded = folded[:m.start()] + re.sub(r"[^\n]", " ", folded[m.start():])
    if ">" in folded:
        folded = _QUOTED_LINE.sub(lambda q: " " * len(q.group()), folded)
    return folded


def strip_quoted(text: str) -> str:
    """``text`` without quoted lines and without what follows a reply header."""
    folded, origin = fold(text)
    m = _REPLY_HEADER.search(folded)
    if m:
        cut = m.start() if origin is None else (origin[m.start()] if m.start() < len(origin) else len(text))
        text = text[:cut]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">")).strip()


# -- the compiled rules -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Rule:
    label: str
    not_before: re.Pattern[str] | None
    not_after: re.Pattern[str] | None
    requires: re.Pattern[str] | None  # must be found somewhere in the same text


@dataclass(frozen=True)
class _Table:
    regex: re.Pattern[str]
    rules: tuple[_Rule, ...]  # by group index: group "r7" is rules[7]


def _compile_table(spec: list) -> _Table:
    parts: list[str] = []
    rules: list[_Rule] = []
    for entry in spec:
        label, patterns = entry[0], entry[1]
        opts = (entry[2] if len(entry) > 2 else None) or {}
        nb, na, rq = opts.get("not_before"), opts.get("not_after"), opts.get("requires")
        rule = _Rule(label, re.compile(_regex_body(nb)) if nb else None, re.compile(_regex_body(na)) if na else None,
                     re.compile(r"(?<!\w)(?:" + _regex_body(rq) + ")") if rq else None)
        for p in patterns:
            body = _regex_body(p)
            if re.compile(body).groups:
                raise ValueError(f"use non-capturing groups in triage patterns: {p!r}")
            parts.append(f"(?P<r{len(rules)}>{body})")
            rules.append(rule)
    regex = re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.MULTILINE)
    return _Table(regex, tuple(rules))


@dataclass(frozen=True)
class _Weighted:
    regex: re.Pattern[str]
    weights: tuple[float, ...]


def _compile_weighted(spec: list) -> _Weighted:
    parts, weights = [], []
    for weight, patterns in spec:
        for p in patterns:
            parts.append(f"(?P<w{len(weights)}>{_regex_body(p)})")
            weights.append(weight)
    return _Weighted(re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)"), tuple(weights))


@cache
def _tables() -> dict[str, _Table]:
    tables = {kind: _compile_table(spec) for kind, spec in words.KINDS_RULES.items()}
    tables[REPEAT_CONTACT] = _compile_table(words.REPEAT_CONTACT)
    tables[PROMPT_INJECTION] = _compile_table(words.INJECTION_FALLBACK)
    return tables


@cache
def _sentiment_tables() -> tuple[_Weighted, _Weighted, _Weighted, re.Pattern[str]]:
    return (_compile_weighted(words.ANGER), _compile_weighted(words.NEGATIVE), _compile_weighted(words.POSITIVE),
            re.compile(_regex_body(words.NEGATORS)))


# -- scanning -----------------------------------------------------------------------------------
@dataclass
class _Source:
    name: str  # "text" | "subject"
    text: str
    folded: str
    origin: list[int] | None

    @classmethod
    def of(cls, name: str, text: str) -> _Source:
        folded, origin = fold(text)
        return cls(name, text, _mask_quotes(folded), origin)

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1

    def excerpt(self, start: int, end: int) -> str:
        s, e = self.span(start, end)
        return _clip(self.text[s:e])


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EXCERPT else text[:MAX_EXCERPT - 1].rstrip() + "\u2026"


def _scan(table: _Table, src: _Source, context: str | None = None) -> list[Evidence]:
    """Evidence in ``src``; a rule's ``requires`` is looked for in ``context`` (default: the source)."""
    found: list[Evidence] = []
    folded = src.folded
    context = folded if context is None else context
    gates: dict[re.Pattern[str], bool] = {}
    pos = 0
    while (m := table.regex.search(folded, pos)) is not None:
        rule = table.rules[int(m.lastgroup[1:])]  # type: ignore[index]
        start, end = m.start(), m.end()
        if end == start:
            pos = start + 1
            continue
        if ((rule.not_before and rule.not_before.search(folded[max(0, start - _WINDOW):start]))
                or (rule.not_after and rule.not_after.match(folded[end:end + _WINDOW]))):
            pos = start + 1
            continue
        if rule.requires is not None:
            if rule.requires not in gates:
                gates[rule.requires] = rule.requires.search(context) is not None
            if not gates[rule.requires]:
                pos = start + 1
                continue
        s, e = src.span(start, end)
        found.append(Evidence(rule.label, src.excerpt(start, end), src.name, s, e))
        pos = end
    return found


def _make_flag(kind: str, evidence: list[Evidence]) -> Flag:
    seen: set[tuple[str, str]] = set()
    unique: list[Evidence] = []
    for ev in evidence:
        key = (ev.label, ev.excerpt.casefold())
        if key not in seen:
            seen.add(key)
            unique.append(ev)
    parts: list[str] = []
    labels: set[str] = set()
    for ev in unique:
        if ev.label in labels:
            continue
        labels.add(ev.label)
        parts.append(f"{ev.label}: \u201c{ev.excerpt}\u201d" if ev.excerpt else ev.label)
        if len(parts) == MAX_REASONS_PER_FLAG:
            break
    return Flag(kind, "; ".join(parts), tuple(unique))


# -- prompt injection -----------------------------------------------------------------------------
_injection_module: object | None = None
_injection_missing = False


def _injection_evidence(sources: Sequence[_Source]) -> list[Evidence]:
    """Flags from the injection scanner when it is installed, else from a small fallback list."""
    global _injection_module, _injection_missing
    if _injection_module is None and not _injection_missing:
        try:
            from agent_assist.assist import injection
        except ImportError:
            _injection_missing = True
        else:
            _injection_module = injection
    if _injection_module is not None:
        try:
            out: list[Evidence] = []
            for src in sources:
                for f in _injection_module.scan(src.text):  # type: ignore[attr-defined]
                    reason = getattr(f, "reason", "") or "Instruction-like text"
                    label = reason.split(": \u201c")[0] if ": \u201c" in reason else reason
                    out.append(Evidence(label, _clip(getattr(f, "excerpt", "")), src.name,
                                        getattr(f, "start", 0), getattr(f, "end", 0)))
            return out
        except Exception:  # triage must never fail because of another module
            log.exception("injection.scan failed; using triage's fallback patterns")
    table = _tables()[PROMPT_INJECTION]
    return [ev for src in sources for ev in _scan(table, src)]


# -- history ------------------------------------------------------------------------------------
_TOKEN = re.compile(r"[a-z0-9]+")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|tr|rv|antw|ref)\s*(?:\[\d+\])?\s*:\s*)+")


def _subject_terms(subject: str) -> tuple[frozenset[str], frozenset[str]]:
    """(content stems, order-like references) of a subject line."""
    folded = _REPLY_PREFIX.sub("", fold(subject)[0])
    stems: set[str] = set()
    refs: set[str] = set()
    for tok in _TOKEN.findall(folded):
        digits = sum(c.isdigit() for c in tok)
        if digits >= 5:
            refs.add(tok)
        elif len(tok) >= 3 and not digits and tok not in words.SUBJECT_STOPWORDS:
            stems.add(tok[:6])
    return frozenset(stems), frozenset(refs)


def similar_subjects(a: str, b: str) -> bool:
    """Whether two subject lines are about the same thing (shared order number or most content words)."""
    sa, ra = _subject_terms(a)
    sb, rb = _subject_terms(b)
    if ra & rb:
        return True
    if not sa or not sb:
        return False
    shared = len(sa & sb)
    return shared >= 2 or shared / max(len(sa), len(sb)) >= 0.5


def _history_evidence(subject: str, topic: str | None, previous_subjects: Sequence[str],
                      previous_topics: Sequence[str | None]) -> list[Evidence]:
    out: list[Evidence] = []
    if subject.strip():
        for prev in previous_subjects:
            if prev and similar_subjects(subject, prev):
                out.append(Evidence("Wrote before about a similar subject", _clip(prev), "history"))
                break
    if topic:
        if any(t == topic for t in previous_topics):
            out.append(Evidence("Has an earlier ticket on the same topic", topic, "history"))
    return out


# -- sentiment ----------------------------------------------------------------------------------
_CAPS_WORD = re.compile(r"(?<![\w])[^\W\d_]{2,}(?![\w])")
_EXCLAIM = re.compile(r"[!?]*![!?]*!+[!?]*|\?{3,}")


def _sentiment(sources: Sequence[_Source], distress: bool) -> tuple[str, float, tuple[str, ...]]:
    anger_t, neg_t, pos_t, negators = _sentiment_tables()
    anger = neg = pos = 0.0
    lexical_anger = False
    cues: list[str] = []
    seen: set[str] = set()

    def hits(table: _Weighted, src: _Source):
        for m in table.regex.finditer(src.folded):
            key = m.group().strip()
            if key in seen:
                continue
            seen.add(key)
            yield m, table.weights[int(m.lastgroup[1:])]  # type: ignore[index]

    for src in sources:
        for m, w in hits(anger_t, src):
            anger += w
            lexical_anger = True
            cues.append(src.excerpt(m.start(), m.end()))
        for m, w in hits(neg_t, src):
            if negators.search(src.folded[max(0, m.start() - 20):m.start()]):
                continue  # "not worried", "no problem"
            neg += w
            cues.append(src.excerpt(m.start(), m.end()))
        for m, w in hits(pos_t, src):
            if negators.search(src.folded[max(0, m.start() - 20):m.start()]):
                neg += w  # "not happy", "nicht zufrieden"
                cues.append(src.excerpt(max(0, m.start() - 8), m.end()))
                continue
            pos += w
            cues.append(src.excerpt(m.start(), m.end()))
        caps = [w for w in _CAPS_WORD.findall(src.text)
                if w.isupper() and len(w) >= 2 and w.upper() not in words.ACRONYMS and (len(w) >= 3 or w in ("NU", "YA"))]
        if len(caps) >= 2:
            anger += min(1.5, 0.5 * len(caps))
            cues.extend(caps[:3])
        elif caps:
            anger += 0.25
        bangs = len(_EXCLAIM.findall(src.text))
        if bangs:
            anger += min(1.0, 0.5 * bangs)
    if distress:
        neg += 1.0
    angry = anger >= ANGER_THRESHOLD and (lexical_anger or anger >= ANGER_THRESHOLD + 1)
    against = neg + anger
    if angry:
        label = ANGRY
    elif against >= 1.0 and against > pos:
        label = NEGATIVE
    elif pos >= 1.0 and pos > against:
        label = POSITIVE
    else:
        label = NEUTRAL
    score = round(math.tanh((pos - neg - anger) / 3.0), 2)
    if label in (ANGRY, NEGATIVE):
        score = min(score, -0.05)
    return label, score, tuple(dict.fromkeys(c for c in cues if c))[:8]


# -- the public functions -----------------------------------------------------------------------
def triage(ticket_text: str, *, subject: str = "", language: str | None = None,
           previous_subjects: Sequence[str] = (), previous_topics: Sequence[str | None] = (),
           topic: str | None = None, unanswered_followups: int = 0,
           check_injection: bool = True) -> Triage:
    """Triage what a customer wrote.

    ``ticket_text`` is the customer's text (all their messages); ``subject`` is read too.
    ``language`` is passed through. ``previous_subjects`` / ``previous_topics`` describe the
    same customer's earlier tickets and ``topic`` this one's: a similar subject or the same
    topic flags ``repeat_contact``, as does ``unanswered_followups`` > 0 (messages the customer
    sent after an earlier one of theirs without a reply in between).
    """
    if isinstance(previous_subjects, str):
        previous_subjects = (previous_subjects,)
    if isinstance(previous_topics, str):
        previous_topics = (previous_topics,)
    sources = [_Source.of("text", ticket_text or "")]
    if subject and subject.strip():
        sources.append(_Source.of("subject", subject))

    evidence: dict[str, list[Evidence]] = {}
    tables = _tables()
    context = "\n".join(src.folded for src in sources)
    for kind in (VULNERABILITY, FINANCIAL_HARDSHIP, FRAUD, COMPLAINT_LEGAL, DISPUTE, REPEAT_CONTACT):
        found = [ev for src in sources for ev in _scan(tables[kind], src, context)]
        if found:
            evidence[kind] = found
    repeat = _history_evidence(subject, topic, previous_subjects, previous_topics)
    if unanswered_followups > 0:
        n = unanswered_followups
        repeat.append(Evidence("Wrote again without a reply",
                               f"{n} follow-up message{'s' if n != 1 else ''}", "thread"))
    if repeat:
        evidence.setdefault(REPEAT_CONTACT, []).extend(repeat)
    if check_injection:
        injected = _injection_evidence(sources)
        if injected:
            evidence[PROMPT_INJECTION] = injected

    flags = tuple(_make_flag(kind, evidence[kind]) for kind in FLAG_KINDS if kind in evidence)
    distress = any(k in evidence for k in (VULNERABILITY, FINANCIAL_HARDSHIP, FRAUD))
    sentiment, score, cues = _sentiment(sources, distress)
    return Triage(language, sentiment, score, flags, cues)


def _parse_time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def unanswered_followups(ticket: Ticket, *, min_gap_hours: float = 1.0) -> int:
    """Inbound messages that came after another inbound one with no reply in between.

    Chat messages in a row are one conversation, not chasers, so chat tickets count none;
    nor do two e-mails sent less than ``min_gap_hours`` apart.
    """
    if ticket.channel == "chat":
        return 0
    count = 0
    previous = None
    for msg in ticket.messages:
        if msg.direction != "inbound":
            previous = None
            continue
        if previous is not None:
            a, b = _parse_time(previous.created_at), _parse_time(msg.created_at)
            if a is None or b is None or (b - a).total_seconds() >= min_gap_hours * 3600:
                count += 1
        previous = msg
    return count


def triage_ticket(ticket: Ticket, history: Sequence[Ticket] = ()) -> Triage:
    """Triage a stored ticket; ``history`` is the customer's other tickets (any order).

    Only tickets of the same customer created before this one count as history. Quoted
    replies inside the customer's e-mails are not read.
    """
    text = "\n\n".join(strip_quoted(m.body_text) for m in ticket.messages if m.direction == "inbound")
    earlier = [h for h in history
               if h.id != ticket.id and h.created_at <= ticket.created_at
               and (h.customer_id is None or ticket.customer_id is None or h.customer_id == ticket.customer_id)]
    return triage(text, subject=ticket.subject, language=ticket.language,
                  previous_subjects=[h.subject for h in earlier], previous_topics=[h.topic for h in earlier],
                  topic=ticket.topic, unanswered_followups=unanswered_followups(ticket))
