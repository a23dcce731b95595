"""Redaction before anything leaves the machine, and restoration of what comes back.

Secrets in customer text are replaced by typed, numbered placeholders before a
prompt is sent to a model: ``[CARD_1]``, ``[IBAN_1]``, ``[EMAIL_1]``,
``[PHONE_1]``, ``[PERSONNUMMER_1]``, ``[SSN_1]``. The mapping placeholder ->
original never leaves the machine; :func:`restore` puts the originals back into
the model's answer — except payment data: a card number comes back as
``•••• 1111`` and an IBAN as ``SE•• •••• 3000``, so one Approve can never mail a
customer's full card number that a model repeated. (A number the agent types
is theirs; the send path still asks before a full card number leaves.)

Detection is deliberately strict where a checksum exists (cards: Luhn; IBAN:
mod-97 and the country's length; personnummer: date and Luhn; SSN: the invalid
number ranges) and shape-and-context based for phone numbers, where dates,
amounts, order and tracking numbers are the false positives to avoid.

One :class:`RedactionSession` per conversation keeps placeholders stable: the
same card number in the first and the third message is ``[CARD_1]`` in both.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent_assist.store.payment import card_number_spans, luhn_ok

__all__ = ["CARD", "EMAIL", "IBAN", "KINDS", "PAYMENT_KINDS", "PERSONNUMMER", "PHONE", "SSN", "Redacted",
           "RedactionSession", "Redactor", "Restored", "Span", "find_placeholders", "find_secrets", "iban_ok",
           "luhn_ok", "mask", "personnummer_ok", "restore", "ssn_ok", "unknown_placeholders"]

CARD, IBAN, EMAIL, PHONE, PERSONNUMMER, SSN = "CARD", "IBAN", "EMAIL", "PHONE", "PERSONNUMMER", "SSN"
KINDS: tuple[str, ...] = (CARD, IBAN, EMAIL, PHONE, PERSONNUMMER, SSN)
PAYMENT_KINDS: frozenset[str] = frozenset({CARD, IBAN})  # restored masked, never in full
MASK = "\u2022"  # •

# when two detections overlap, the lower number wins (then the longer span)
_PRIORITY = {IBAN: 0, CARD: 1, EMAIL: 2, PERSONNUMMER: 3, SSN: 4, PHONE: 5}
_WEAK = 10  # added for weak forms (a bare 10-digit personnummer, an SSN with spaces)


@dataclass(frozen=True)
class Span:
    """One secret found in a text: ``text[start:end]`` is of ``kind``."""

    kind: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Redacted:
    """A redacted text and the placeholders in it (placeholder -> original)."""

    text: str
    mapping: dict[str, str]


@dataclass(frozen=True)
class Restored:
    """One value a restore put back into a model's answer: what it shows and whether it is masked."""

    placeholder: str
    kind: str
    shown: str
    masked: bool


# -- checksums --------------------------------------------------------------------------
# IBAN lengths by country (SWIFT IBAN registry)
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def iban_ok(iban: str) -> bool:
    """Country length and the mod-97 check of an IBAN given without separators."""
    iban = iban.upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit() or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def personnummer_ok(digits: str) -> bool:
    """A Swedish personnummer or samordningsnummer (10 or 12 digits): a real date and the Luhn digit."""
    if len(digits) == 12:
        if digits[:2] not in ("18", "19", "20"):
            return False
        year = int(digits[:4])
        digits10 = digits[2:]
    elif len(digits) == 10:
        year = 2000  # the century is unknown: accept 29 February
        digits10 = digits
    else:
        return False
    month, day = int(digits10[2:4]), int(digits10[4:6])
    if day > 60:  # samordningsnummer: day + 60
        day -= 60
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    return luhn_ok(digits10)


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """A US social security number outside the ranges never issued."""
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


# -- detectors --------------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.+%-])[\w.+%-]*\w@\w[\w-]*(?:\.[\w-]+)*\.[^\W\d_]{2,24}(?![\w@-])")

# "anna (at) example (dot) com", "anna[at]example.com": written that way to dodge spam filters
_EMAIL_OBFUSCATED = re.compile(
    r"(?i)(?<![\w.+%-])[\w.+%-]*\w\s?[(\[{]\s?(?:at|@)\s?[)\]}]\s?\w[\w-]*"
    r"(?:(?:\s?[(\[{]\s?(?:dot|punkt|punto|point)\s?[)\]}]\s?|\.)[\w-]+)*"
    r"(?:\s?[(\[{]\s?(?:dot|punkt|punto|point)\s?[)\]}]\s?|\.)[^\W\d_]{2,24}(?![\w@-])")


_IBAN_START = re.compile(r"(?<![\w])([A-Za-z]{2})(\d{2})(?=[ -]?[A-Za-z0-9])")

_PERSONNUMMER = re.compile(r"(?<![\w+-])(\d{6}|\d{8})([-+]?)(\d{4})(?![\w-])")

_SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-]|[ -]\d)")
_SSN_CONTEXT = re.compile(
    r"(?i)\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?|soc\.?\s*sec\.?)\s*(?:is|:|#|nr\.?)?\s*(\d{9})(?!\d)")


def _find_emails(text: str) -> Iterable[Span]:
    for pattern in (_EMAIL, _EMAIL_OBFUSCATED):
        for m in pattern.finditer(text):
            yield Span(EMAIL, m.start(), m.end(), m.group())


def _find_cards(text: str) -> Iterable[Span]:
    for start, end in card_number_spans(text):  # the send path's own detector: one rule for a card number
        yield Span(CARD, start, end, text[start:end])


def _find_ibans(text: str) -> Iterable[Span]:
    for m in _IBAN_START.finditer(text):
        country = m.group(1).upper()
        length = IBAN_LENGTHS.get(country)
        if length is None:
            continue
        need = length - 4
        chars: list[str] = []
        pos = m.end()
        while len(chars) < need and pos < len(text):
            ch = text[pos]
            if ch.isascii() and ch.isalnum():
                chars.append(ch)
                pos += 1
            elif ch in " -" and pos + 1 < len(text) and text[pos + 1].isascii() and text[pos + 1].isalnum() \
                    and text[pos - 1] != ch:
                pos += 1
            else:
                break
        if len(chars) != need or (pos < len(text) and (text[pos].isalnum() or text[pos] == "_")):
            continue
        if iban_ok(country + m.group(2) + "".join(chars)):
            yield Span(IBAN, m.start(), pos, text[m.start():pos])


def _find_personnummer(text: str) -> Iterable[tuple[Span, bool]]:
    for m in _PERSONNUMMER.finditer(text):
        digits = m.group(1) + m.group(3)
        if len(m.group(1)) == 8 and m.group(2) == "+":
            continue  # the + form only exists with a two-digit year
        if personnummer_ok(digits):
            weak = not m.group(2) and len(digits) == 10
            yield Span(PERSONNUMMER, m.start(), m.end(), m.group()), weak


def _find_ssns(text: str) -> Iterable[tuple[Span, bool]]:
    for m in _SSN.finditer(text):
        if ssn_ok(m.group(1), m.group(3), m.group(4)):
            yield Span(SSN, m.start(), m.end(), m.group()), m.group(2) == " "
    for m in _SSN_CONTEXT.finditer(text):
        d = m.group(1)
        if ssn_ok(d[:3], d[3:5], d[5:]):
            yield Span(SSN, m.start(1), m.end(1), d), False


# -- phone numbers ----------------------------------------------------------------------
# A run of digits with the separators phone numbers use; it is then checked as a whole and,
# when it fails, window by window over its space-separated parts.
_PHONE_RUN = re.compile(
    r"(?<![\w+/.,#%-])(?<!\d[ \u00a0])(?<![A-Z0-9]{4} )(?:\+|\(\+?)?\d[\d \u00a0()./-]{5,40}")

_TWO_DIGIT_CC = {
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48",
    "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81",
    "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
}
# national significant number lengths for the countries agents meet most (others: 6-12)
_NSN_LENGTHS: dict[str, tuple[int, int]] = {
    "1": (10, 10), "7": (10, 10), "30": (10, 10), "31": (9, 9), "32": (8, 9), "33": (9, 9), "34": (9, 9),
    "39": (6, 11), "41": (9, 9), "43": (4, 13), "44": (9, 10), "45": (8, 8), "46": (7, 9), "47": (8, 8),
    "48": (9, 9), "49": (6, 13), "351": (9, 9), "353": (7, 9), "358": (5, 12), "372": (7, 8), "370": (8, 8),
    "371": (8, 8), "420": (9, 9),
}

_US_SHAPE = re.compile(r"^(?:\+?1[ .-]?)?(?:\(([2-9]\d\d)\) ?|([2-9]\d\d)([ .-]))[2-9]\d\d[ .-]\d{4}$")
_ES_SHAPE = re.compile(r"^(?:[6-9]\d\d([ .-])\d\d\d\1\d\d\d|[6-9]\d\d \d\d \d\d \d\d|[6-9]\d \d\d\d \d\d \d\d)$")
_CARD_SHAPE = re.compile(r"^(?:\d{4} ){2,3}\d{1,7}$|^\d{4} \d{6} \d{4,5}$")
_DATE_SHAPE = re.compile(r"^(?:\d{1,2}([./-])\d{1,2}\1(?:\d{2}|\d{4})|\d{4}([./-])\d{1,2}\2\d{1,2})$")

_NEG_WORDS = (
    r"order|ordern|ordernr|ordernummer|orden|bestellung|bestellnummer|bestellnr|bestelling|bestelnummer|"
    r"pedido|commande|invoice|faktura|fakturan|fakturanummer|rechnung|rechnungsnummer|rechnungsnr|factura|"
    r"facture|factuur|factuurnummer|ref|reference|referens|referensnummer|referenz|referencia|référence|"
    r"referentie|kenmerk|tracking|trackingnummer|sendungsnummer|sendung|kolli|kollinummer|kolli-id|"
    r"seguimiento|suivi|track|customer|kundnummer|kundennummer|kundnr|kundennr|cliente|client|klantnummer|"
    r"account|konto|kontonummer|ocr|ocr-nummer|case|ärende|ärendenummer|ticket|id|transaction|transaktion|"
    r"transaktionsnummer|transacción|transacción|artikel|artikelnummer|article|sku|serial|serienummer|"
    r"seriennummer|parcel|paket|paketet|package|colis|paquete|pakket|envío|envio|shipment|dossier|contract|"
    r"contrat|vertrag|vertragsnummer|avtal|policy|póliza|police|postcode|zip|plz|postnummer|membership|"
    r"medlemsnummer|lidnummer|mitgliedsnummer|voucher|gift card|presentkort|gutschein|coupon|code|kod|pin|"
    r"nummer des pakets|booking|bokning|bokningsnummer|buchung|buchungsnummer|reserva|réservation|boeking"
)
_NEGATIVE_CONTEXT = re.compile(
    rf"(?i)(?:\b(?:{_NEG_WORDS})\.?\s*(?:nr|no|number|nummer|número|numero|numéro|n°|nº|#|id|code)?\.?"
    r"\s*(?:is|är|ist|es|est|is)?\s*[:#=]?\s*|#\s*)$")
_POSITIVE_CONTEXT = re.compile(
    r"(?i)\b(?:tel|tfn|tlf|telf|phone|phone number|mobile|mobil|mobilnummer|mobilnr|cell|cellphone|call|"
    r"call me|ring|ringa|ringer|ringt|sms|text me|whatsapp|telefon|telefonnummer|telefonnr|handy|"
    r"handynummer|rufnummer|anrufen|erreichbar|teléfono|telefono|móvil|movil|llamar|llámame|llamadme|"
    r"llámenme|téléphone|telephone|portable|joindre|appeler|rappeler|appelez|bel|bellen|telefoonnummer|"
    r"mobiel|gsm|nummer)\b")
_CURRENCY_AFTER = re.compile(r"(?i)^\s*(?:kr\b|sek\b|nok\b|dkk\b|eur\b|euro|€|\$|usd\b|gbp\b|£|chf\b|:-|pln\b|zł)")
_CURRENCY_BEFORE = re.compile(r"(?i)(?:€|\$|£|\b(?:eur|sek|usd|gbp|nok|dkk|chf|kr)\.?)\s*$")


def _cc_split(intl: str) -> tuple[str, str] | None:
    if not intl or intl[0] == "0":
        return None
    if intl[0] in "17":
        return intl[:1], intl[1:]
    if intl[:2] in _TWO_DIGIT_CC:
        return intl[:2], intl[2:]
    return intl[:3], intl[3:]


def _phone_shape_ok(cand: str, *, positive: bool) -> bool:
    """Whether a candidate (without trailing punctuation) is shaped like a phone number."""
    if cand.count("(") != cand.count(")") or cand.count("(") > 1:
        return False
    if re.search(r"[-./]{2}|\s{2}|[-./]\s[-./]", cand):
        return False
    digits = re.sub(r"\D", "", cand)
    n = len(digits)
    if not 7 <= n <= 15:
        return False
    bare = cand.replace("\u00a0", " ")
    if cand.startswith(("+", "(+")) or digits.startswith("00"):
        intl = digits if cand.lstrip("(").startswith("+") else digits[2:]
        split = _cc_split(intl)
        if split is None:
            return False
        cc, national = split
        if "(0)" in bare.replace(" ", "") and national.startswith("0"):
            national = national[1:]
        lo, hi = _NSN_LENGTHS.get(cc, (6, 12))
        return lo <= len(national) <= hi and len(cc) + len(national) <= 15
    if _DATE_SHAPE.match(bare):
        return False
    if digits[0] == "0":
        contiguous = cand.isdigit()
        return 9 <= n <= 12 if contiguous else 8 <= n <= 12
    if _US_SHAPE.match(bare):
        return True
    if n == 9 and (_ES_SHAPE.match(bare) or (cand.isdigit() and digits[0] in "67")):
        return True
    return positive and n <= 12


def _phone_context_ok(text: str, start: int, end: int) -> tuple[bool, bool]:
    """(allowed, positive): the words before a candidate may forbid it (order no.) or vouch for it (tel.)."""
    before = text[max(0, start - 40):start]
    after = text[end:end + 6]
    if _CURRENCY_AFTER.match(after) or _CURRENCY_BEFORE.search(before):
        return False, False
    if _NEGATIVE_CONTEXT.search(before):
        return False, False
    return True, bool(_POSITIVE_CONTEXT.search(before))


def _trim_run(text: str, start: int, end: int) -> int:
    """Drop trailing separators (and an unmatched closing parenthesis) from a run."""
    while end > start and not text[end - 1].isdigit() and not (
            text[end - 1] == ")" and text.count("(", start, end) >= text.count(")", start, end)):
        end -= 1
    return end


def _find_phones(text: str) -> Iterable[Span]:
    for m in _PHONE_RUN.finditer(text):
        start, end = m.start(), _trim_run(text, m.start(), m.end())
        if end - start < 7:
            continue
        # parts separated by whitespace: the whole run first, then windows of it (longest first)
        parts = [(p.start() + start, p.end() + start) for p in re.finditer(r"[^\s]+", text[start:end])]
        if len(parts) > 1 and _CARD_SHAPE.match(text[start:end]):
            parts = [(start, end)]  # a card number (one that failed Luhn): no phone inside it
        i = 0
        while i < len(parts):
            found = False
            for j in range(len(parts), i, -1):
                s = parts[i][0]
                e = _trim_run(text, s, parts[j - 1][1])
                if e <= s or not text[s].isdigit() and text[s] not in "+(":
                    continue
                if not _phone_shape_ok(text[s:e], positive=True):  # the cheap test first
                    continue
                allowed, positive = _phone_context_ok(text, s, e)
                if allowed and (positive or _phone_shape_ok(text[s:e], positive=False)):
                    yield Span(PHONE, s, e, text[s:e])
                    i, found = j, True
                    break
            if not found:
                i += 1


# -- putting it together ----------------------------------------------------------------
def find_secrets(text: str, kinds: Iterable[str] = KINDS) -> list[Span]:
    """Every secret in the text, non-overlapping, in text order."""
    wanted = set(kinds)
    found: list[tuple[int, Span]] = []
    if EMAIL in wanted:
        found += [(_PRIORITY[EMAIL], s) for s in _find_emails(text)]
    if CARD in wanted:
        found += [(_PRIORITY[CARD], s) for s in _find_cards(text)]
    if IBAN in wanted:
        found += [(_PRIORITY[IBAN], s) for s in _find_ibans(text)]
    if PERSONNUMMER in wanted:
        found += [(_PRIORITY[PERSONNUMMER] + (_WEAK if weak else 0), s) for s, weak in _find_personnummer(text)]
    if SSN in wanted:
        found += [(_PRIORITY[SSN] + (_WEAK if weak else 0), s) for s, weak in _find_ssns(text)]
    if PHONE in wanted:
        found += [(_PRIORITY[PHONE], s) for s in _find_phones(text)]
    found.sort(key=lambda ps: (ps[0], -(ps[1].end - ps[1].start), ps[1].start))
    chosen: list[Span] = []
    for _, span in found:
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _key(kind: str, value: str) -> str:
    """What makes two spellings of one secret the same secret."""
    if kind == EMAIL:
        return value.lower()
    if kind == IBAN:
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    if kind == PHONE:  # +46 70…, 0046 70… and (+46) 70… are one number
        digits = re.sub(r"\D", "", value)
        if value.lstrip("(").startswith("+"):
            return "+" + digits
        return "+" + digits[2:] if digits.startswith("00") else digits
    return re.sub(r"\D", "", value)


class RedactionSession:
    """Redacts the texts of one conversation with one shared, stable mapping (one thread at a time)."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self._redactor = redactor or Redactor()
        self._by_key: dict[tuple[str, str], str] = {}
        self._mapping: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    @property
    def mapping(self) -> dict[str, str]:
        """placeholder -> original, for every secret seen so far (a copy)."""
        return dict(self._mapping)

    def _placeholder(self, kind: str, value: str, text: str) -> str:
        key = (kind, _key(kind, value))
        placeholder = self._by_key.get(key)
        if placeholder is None:
            n = self._counts.get(kind, 0)
            while True:  # never reuse a placeholder the customer happened to type
                n += 1
                placeholder = f"[{kind}_{n}]"
                if placeholder not in text:
                    break
            self._counts[kind] = n
            self._by_key[key] = placeholder
            self._mapping[placeholder] = value
        return placeholder

    def redact(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        for span in self._redactor.find(text):
            out += [text[pos:span.start], self._placeholder(span.kind, span.value, text)]
            pos = span.end
        out.append(text[pos:])
        return "".join(out)

    def restore(self, text: str, *, full_payment: bool = False, restored: list[Restored] | None = None) -> str:
        return restore(text, self._mapping, full_payment=full_payment, restored=restored)


class Redactor:
    """Finds and replaces secrets; ``kinds`` picks which (all by default)."""

    def __init__(self, kinds: Iterable[str] = KINDS) -> None:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds of secret: {', '.join(sorted(unknown))}")
        self.kinds = tuple(kinds)

    def find(self, text: str) -> list[Span]:
        return find_secrets(text, self.kinds)

    def session(self) -> RedactionSession:
        return RedactionSession(self)

    def redact(self, text: str) -> Redacted:
        session = self.session()
        return Redacted(session.redact(text), session.mapping)

    def redact_many(self, texts: Iterable[str]) -> tuple[list[str], dict[str, str]]:
        """Several texts of one conversation with one mapping: the same value, the same placeholder."""
        session = self.session()
        return [session.redact(t) for t in texts], session.mapping


_KIND_ALT = "|".join(KINDS)
# [CARD_1] as sent, and the ways models bend it: [card_1], [Card 1], [CARD-1], CARD_1, **CARD_1**
_PLACEHOLDER = re.compile(
    rf"\[\s*({_KIND_ALT})[ _-]?(\d+)\s*\]|(?<![\w\[])({_KIND_ALT})_(\d+)(?![\w\]])|"
    rf"\[\s*({_KIND_ALT})_(\d+)(?![\w\]])|(?<![\w\[])({_KIND_ALT})_(\d+)\s*\]",
    re.IGNORECASE)


def find_placeholders(text: str) -> list[str]:
    """The placeholders in a text, in canonical form (``[CARD_1]``), in order of appearance."""
    out: list[str] = []
    for m in _PLACEHOLDER.finditer(text):
        kind, num = next((m.group(i), m.group(i + 1)) for i in (1, 3, 5, 7) if m.group(i))
        out.append(f"[{kind.upper()}_{int(num)}]")
    return out


def mask(kind: str, value: str) -> str:
    """The masked form of a payment value: ``•••• 1111`` for a card, ``SE•• •••• 3000`` for an IBAN."""
    compact = re.sub(r"[^0-9A-Za-z]", "", value)
    if kind == CARD:
        return f"{MASK * 4} {compact[-4:]}"
    if kind == IBAN:
        return f"{compact[:2].upper()}{MASK * 2} {MASK * 4} {compact[-4:]}"
    return value


def restore(text: str, mapping: Mapping[str, str], *, full_payment: bool = False,
            restored: list[Restored] | None = None) -> str:
    """Put the originals back where a model's answer quotes placeholders; unknown ones stay as they are.

    Card numbers and IBANs come back masked unless ``full_payment`` (used only for text the
    agent wrote themselves). Every value put back is appended to ``restored`` when given.
    """
    if not mapping:
        return text

    def put_back(m: re.Match[str]) -> str:
        kind, num = next((m.group(i), m.group(i + 1)) for i in (1, 3, 5, 7) if m.group(i))
        placeholder = f"[{kind.upper()}_{int(num)}]"
        value = mapping.get(placeholder)
        if value is None:
            return m.group()
        kind = kind.upper()
        masked = kind in PAYMENT_KINDS and not full_payment
        shown = mask(kind, value) if masked else value
        if restored is not None:
            restored.append(Restored(placeholder, kind, shown, masked))
        return shown

    return _PLACEHOLDER.sub(put_back, text)


def unknown_placeholders(text: str, mapping: Mapping[str, str]) -> list[str]:
    """Placeholders in a model's answer that no redaction made (a model inventing ``[CARD_7]``)."""
    return [p for p in find_placeholders(text) if p not in mapping]
