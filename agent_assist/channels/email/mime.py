"""Reading an e-mail safely: raw RFC 5322 bytes in, plain data out, never an exception.

Everything in a message is untrusted: headers may be huge or badly encoded, charsets
unknown or lying, MIME trees malformed or nested a thousand deep, HTML full of scripts
and tracking pixels, attachments named ``../../.bashrc``. :func:`parse` turns whatever
arrives into a :class:`ParsedMail` whose ``notes`` say, in words an agent understands,
what was done to show it safely (a charset that was wrong, parts left out, remote images
blocked...). When the body cannot be read at all, :func:`parse` still returns the headers
and a body that says so (``readable`` is False) and keeps the original as an attachment.

The structure is parsed with the stdlib's ``compat32`` policy (the lenient, linear one);
headers and text are decoded here with explicit fallbacks rather than by the policy.
HTML is returned raw (capped); the store sanitizes it (``agent_assist.sanitize``).
"""

from __future__ import annotations

import binascii
import codecs
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime

from agent_assist.sanitize import html_to_text, replace_lone_surrogates, strip_bidi
from agent_assist.timefmt import to_iso


@dataclass(frozen=True)
class Limits:
    max_depth: int = 25  # MIME nesting deeper than this is not read
    max_parts: int = 500  # parts after this many are not read
    max_subject_chars: int = 500
    max_text_chars: int = 1_000_000  # a body longer than this is cut, with a note
    max_html_bytes: int = 5 * 1024 * 1024  # larger HTML: shown as text only
    max_attachment_bytes: int = 30 * 1024 * 1024
    max_references: int = 40  # the newest ones are kept


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    size: int = 0  # bytes of the decoded content (also when it was not kept)
    content_id: str | None = None  # without <>; an inline image referenced as cid:...
    inline: bool = False
    risky: bool = False  # a type that runs code when opened (the UI warns before saving)
    note: str | None = None  # why it was not kept whole (data is then empty)


@dataclass(frozen=True)
class ParsedMail:
    message_id: str  # normalised "<id@host>"; synthetic "<sha256.…@no-message-id.invalid>" when absent
    has_message_id: bool
    subject: str
    from_name: str
    from_addr: str | None  # lower-case, None when missing or not an address
    reply_to: str | None
    date: str | None  # ISO 8601 UTC from the Date header (sender's claim)
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    html: str | None  # raw (unsanitized), None when there is no usable HTML part
    attachments: tuple[Attachment, ...] = ()
    notes: tuple[str, ...] = ()
    auto_submitted: bool = False  # out-of-office, bounces, mailing-list robots
    readable: bool = True
    size: int = 0

    @property
    def author(self) -> str:
        """How the sender is shown: ``Name <addr>``, the address, or a placeholder."""
        if self.from_name and self.from_addr:
            return f"{self.from_name} <{self.from_addr}>"
        return self.from_name or self.from_addr or "Unknown sender"


# -- Message-IDs -------------------------------------------------------------------------------
_MSGID = re.compile(r"<([^<>\s]{1,500})>")
_BARE_MSGID = re.compile(r"^\s*([^<>\s@]{1,250}@[^<>\s@]{1,250})\s*$")


def message_ids(value: str | None) -> list[str]:
    """Every ``<id>`` in a header value (In-Reply-To, References), normalised, in order."""
    if not value:
        return []
    found = [f"<{m}>" for m in _MSGID.findall(value)]
    if not found:
        bare = _BARE_MSGID.match(value)
        if bare:
            found = [f"<{bare.group(1)}>"]
    out: list[str] = []
    for mid in found:
        norm = _norm_id(mid)
        if norm not in out:
            out.append(norm)
    return out


def _norm_id(mid: str) -> str:
    # the local part is case-sensitive in theory; in practice mailers keep case, but the domain
    # part is not: lower-case only the domain so <A@Host> and <A@host> meet
    inner = mid[1:-1]
    local, at, domain = inner.rpartition("@")
    return f"<{local}@{domain.lower()}>" if at else f"<{inner}>"


def normalize_message_id(value: str | None) -> str | None:
    ids = message_ids(value)
    return ids[0] if ids else None


def synthetic_message_id(raw: bytes) -> str:
    """A stable stand-in for a message without a Message-ID: the same bytes give the same id."""
    return f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid>"


# -- charsets ------------------------------------------------------------------------------------
# what mailers declare vs. what they mean (WHATWG's Encoding Standard does the same)
_SUPERSETS = {
    "ascii": "cp1252", "latin-1": "cp1252", "iso8859-1": "cp1252", "gb2312": "gb18030", "gbk": "gb18030",
    "euc_kr": "cp949", "shift_jis": "cp932", "iso8859-9": "cp1254", "tis-620": "cp874", "big5": "big5hkscs",
}
_ALIASES = {"iso-8859-8-i": "iso-8859-8", "x-unknown": "", "unknown-8bit": "", "x-user-defined": "",
            "ks_c_5601-1987": "cp949", "windows-874": "cp874", "x-mac-roman": "mac_roman", "utf8mb4": "utf-8",
            "134": "gb18030", "ansi_x3.4-1968": "ascii", "default": "", "charset": ""}
_SINGLE_BYTE = {"cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257", "cp874", "iso8859-2", "iso8859-15",
                "koi8-r", "mac-roman", "iso8859-7", "iso8859-5"}


def _codec(declared: str | None) -> tuple[str | None, str | None]:
    """(codec name, note) for a declared charset; (None, note) when it is unknown or not text."""
    if not declared:
        return None, None
    name = declared.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    if not name:
        return None, None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None, f"unknown character set {declared[:40]!r}"
    if not getattr(info, "_is_text_encoding", True):  # base64, zlib, rot13... are not charsets
        return None, f"unknown character set {declared[:40]!r}"
    return _SUPERSETS.get(info.name, info.name), None


NOTE_BAD_CHARACTERS = "some characters could not be read and are shown as \ufffd"


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Text from bytes whose charset is claimed, not known: (text, note when the claim was wrong).

    Codecs such as UTF-7 can decode to lone surrogates, which no UTF-8 store can hold: they
    become U+FFFD, with a note (the text is kept, never skipped)."""
    text, note = _decode_bytes(data, declared)
    text, bad = replace_lone_surrogates(text)
    if bad:
        note = f"{note}; {NOTE_BAD_CHARACTERS}" if note else NOTE_BAD_CHARACTERS
    return text, note


def _decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    if not data:
        return "", None
    codec, note = _codec(declared)
    ascii_only = data.isascii()
    if codec and codec != "utf-8" and codec in _SINGLE_BYTE and not ascii_only:
        # single-byte charsets decode anything, so a lie shows only as mojibake: valid UTF-8 with
        # multi-byte sequences is almost never an accident in legacy text
        try:
            text = data.decode("utf-8")
            return text, f"declared {declared} but written in UTF-8; shown as UTF-8"
        except UnicodeDecodeError:
            pass
    if codec:
        try:
            return data.decode(codec), note
        except (UnicodeDecodeError, LookupError):
            note = f"not valid {declared}"
    for fallback, label in (("utf-8", "UTF-8"), ("cp1252", "Windows-1252"), ("latin-1", "ISO-8859-1")):
        if fallback == codec:
            continue
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            continue
        if ascii_only:
            return text, note
        why = note or ("no character set declared" if not declared else f"not valid {declared}")
        return text, f"{why}; shown as {label}"
    return data.decode("utf-8", errors="replace"), f"{note or 'undecodable text'}; unreadable characters replaced"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


# -- headers --------------------------------------------------------------------------------------
_FOLD = re.compile(r"\r?\n[ \t]")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?")


def _raw_bytes(value: str) -> bytes:
    return value.encode("ascii", "surrogateescape")


def decode_header_value(value: str | None, *, limit: int = 2000) -> tuple[str, str | None]:
    """A header as a person reads it: unfolded, RFC 2047 words decoded, 8-bit bytes guessed."""
    if value is None:
        return "", None
    if not isinstance(value, str):  # an email.header.Header
        value = str(value)
    value = _FOLD.sub(" ", value[: limit * 8])
    note = None
    try:
        raw = _raw_bytes(value)
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "replace")
    if not raw.isascii():  # RFC 6532 UTF-8 headers, or a legacy charset sent raw
        value, note = decode_bytes(raw, "utf-8")
    if _ENCODED_WORD.search(value):
        try:
            parts = decode_header(value)
        except (HeaderParseError, ValueError, binascii.Error, AssertionError, IndexError, LookupError) as exc:
            parts = [(value, None)]
            note = note or f"badly encoded header ({type(exc).__name__})"
        out = []
        for chunk, charset in parts:
            if isinstance(chunk, str):
                out.append(chunk)
            elif charset is None:
                text, bad = replace_lone_surrogates(chunk.decode("raw-unicode-escape", errors="replace"))
                note = note or (NOTE_BAD_CHARACTERS if bad else None)
                out.append(text)
            else:
                text, why = decode_bytes(chunk, charset)
                note = note or why
                out.append(text)
        value = "".join(out)
    value = " ".join(_CONTROL.sub(" ", value).replace("\n", " ").replace("\r", " ").split())
    if len(value) > limit:
        value = value[:limit].rstrip() + "…"
        note = note or "header cut short"
    return value, note


_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,64}@[^@\s<>()\[\],;:\"\\]{1,190}\.[^@\s<>()\[\],;:\"\\.]{1,63}$")


def valid_address(addr: str) -> str | None:
    addr = addr.strip().strip(".").lower()
    return addr if _ADDRESS.match(addr) else None


def _addresses(values: list[str], limit: int = 50) -> list[tuple[str, str | None]]:
    """(display name, address or None) from raw header values (addresses parsed before decoding)."""
    raw = [_FOLD.sub(" ", v)[:20_000] for v in values]
    out = []
    for name, addr in getaddresses(raw)[:limit]:
        display, _ = decode_header_value(name, limit=200)
        out.append((display.strip("\"' "), valid_address(addr)))
    return out


def _header_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return to_iso(parsedate_to_datetime(_FOLD.sub(" ", value)[:200]))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


# -- attachments ---------------------------------------------------------------------------------
_RISKY_EXT = {
    "exe", "com", "scr", "pif", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta",
    "msi", "msp", "jar", "lnk", "reg", "scf", "cpl", "dll", "sys", "iso", "img", "vhd", "vhdx", "html", "htm",
    "xhtml", "svg", "shtml", "docm", "xlsm", "pptm", "dotm", "xlam", "ppam", "sh", "command", "app", "desktop",
    "appimage", "deb", "rpm", "apk", "py", "pyw", "pl", "rb", "chm", "url", "website", "library-ms",
}
_RISKY_TYPES = ("application/x-msdownload", "application/x-msdos-program", "application/javascript",
                "text/html", "image/svg+xml", "application/hta", "application/x-sh", "application/java-archive")
_TYPE_EXT = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
             "application/pdf": ".pdf", "text/plain": ".txt", "text/html": ".html", "message/rfc822": ".eml",
             "text/calendar": ".ics"}
_BAD_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
def safe_filename(name: str | None, content_type: str, position: int) -> str:
    """A file name that is only a name: no folders, no control characters (bidi overrides included),
    no leading dots, not too long."""
    name = strip_bidi((name or "").replace("\\", "/").split("/")[-1])
    name = _BAD_NAME_CHARS.sub("_", name).strip().lstrip(".").strip()
    name = re.sub(r"\s+", " ", name)
    if name.upper().split(".")[0] in {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                                      *(f"LPT{i}" for i in range(1, 10))}:
        name = f"_{name}"
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 140] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:150]
    return name or f"attachment-{position}{_TYPE_EXT.get(content_type, '.bin')}"


def is_risky(filename: str, content_type: str) -> bool:
    ext = filename.rpartition(".")[2].lower() if "." in filename else ""
    return ext in _RISKY_EXT or content_type in _RISKY_TYPES


# -- the walk -------------------------------------------------------------------------------------
@dataclass
class _Walk:
    limits: Limits
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parts: int = 0
    too_deep: bool = False
    too_many: bool = False

    def note(self, text: str | None) -> None:
        if text and text not in self.notes and len(self.notes) < 30:
            self.notes.append(text)


def _content_type(part: Message) -> str:
    try:
        ctype = part.get_content_type()
    except Exception:  # noqa: BLE001 - a malformed Content-Type header
        return "application/octet-stream"
    return ctype if re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", ctype) else "application/octet-stream"


def _payload(part: Message, walk: _Walk) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # noqa: BLE001 - broken transfer encodings
        walk.note(f"a part could not be decoded ({type(exc).__name__})")
        return b""
    if data is None:
        return b""
    if isinstance(data, str):
        return data.encode("utf-8", "surrogateescape")
    for defect in getattr(part, "defects", ()):
        name = type(defect).__name__
        if "Base64" in name or "Padding" in name:
            walk.note("an attachment or text was not correctly encoded (base64); it may be incomplete")
            break
    return data


def _param(part: Message, name: str) -> str | None:
    """A decoded ``filename`` (Content-Disposition) or ``name`` (Content-Type) parameter."""
    try:
        if name == "filename":
            value = part.get_filename()
        else:
            value = part.get_param(name)
            if isinstance(value, tuple):
                value = collapse_rfc2231_value(value)
    except Exception:  # noqa: BLE001 - RFC 2231 parameters can be broken in many ways
        return None
    if value is None:
        return None
    text, _ = decode_header_value(str(value), limit=300)
    return text


def _content_id(part: Message) -> str | None:
    value = part.get("Content-ID")
    if not value:
        return None
    cid = str(value).strip().strip("<>").strip()
    return cid[:300] or None


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" or (disposition != "inline" and _param(part, "filename") is not None)


def _walk(part: Message, walk: _Walk, depth: int) -> None:
    walk.parts += 1
    if walk.parts > walk.limits.max_parts:
        if not walk.too_many:
            walk.too_many = True
            walk.note(f"the message has more than {walk.limits.max_parts} parts; the rest were not read")
        return
    if depth > walk.limits.max_depth:
        if not walk.too_deep:
            walk.too_deep = True
            walk.note(f"parts nested more than {walk.limits.max_depth} levels deep were not read")
        return
    ctype = _content_type(part)
    if part.is_multipart() and ctype != "message/rfc822":
        payload = part.get_payload()
        if not isinstance(payload, list):
            return
        if ctype == "multipart/alternative":
            # the richest version of each kind wins: walk all, keep the last plain and last html
            sub = _Walk(walk.limits, parts=walk.parts)
            for child in payload:
                _walk(child, sub, depth + 1)
            walk.parts = sub.parts
            walk.too_deep |= sub.too_deep
            walk.too_many |= sub.too_many
            if sub.plain:
                walk.plain.append(sub.plain[-1])
            if sub.html:
                walk.html.append(sub.html[-1])
            walk.attachments.extend(sub.attachments)
            for n in sub.notes:
                walk.note(n)
            return
        for child in payload:
            _walk(child, walk, depth + 1)
        return
    main = ctype.split("/")[0]
    if ctype in ("text/plain", "text/html") and not _is_attachment(part):
        data = _payload(part, walk)
        if ctype == "text/html" and len(data) > walk.limits.max_html_bytes:
            walk.note(f"the HTML version is too large to show ({len(data) // 1_048_576} MB); shown as text")
            text, why = decode_bytes(data[: walk.limits.max_html_bytes], part.get_content_charset())
            walk.note(why)
            walk.plain.append(html_to_text(text))
            return
        text, why = decode_bytes(data, _charset(part))
        walk.note(why)
        (walk.plain if ctype == "text/plain" else walk.html).append(_clean_text(text))
        return
    # anything else is an attachment (inline images included); nothing is ever opened
    position = len(walk.attachments) + 1
    if ctype == "message/rfc822":
        data = _embedded_message(part)
        inner = part.get_payload()
        subject = ""
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            subject, _ = decode_header_value(inner[0].get("Subject"), limit=100)
        name = _param(part, "filename") or (subject or "forwarded message") + ".eml"
    else:
        data = _payload(part, walk)
        name = _param(part, "filename") or _param(part, "name")
    filename = safe_filename(name, ctype, position)
    cid = _content_id(part)
    inline = bool(cid) and main == "image" and not _is_attachment(part)
    note = None
    size = len(data)
    if size > walk.limits.max_attachment_bytes:
        note = (f"not kept: {len(data) // 1_048_576} MB is more than the "
                f"{walk.limits.max_attachment_bytes // 1_048_576} MB limit")
        walk.note(f"the attachment {filename!r} is too large and was not kept")
        data = b""
    walk.attachments.append(Attachment(filename=filename, content_type=ctype, data=data, size=size, content_id=cid,
                                       inline=inline, risky=is_risky(filename, ctype), note=note))


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # noqa: BLE001
        return None


def _embedded_message(part: Message) -> bytes:
    inner = part.get_payload()
    if isinstance(inner, list) and inner:
        inner = inner[0]
    if isinstance(inner, Message):
        try:
            return inner.as_bytes(policy=policy.compat32)
        except Exception:  # noqa: BLE001 - fall back to a lossy rendering
            try:
                return inner.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")
            except Exception:  # noqa: BLE001
                return b""
    if isinstance(inner, str):
        return inner.encode("utf-8", "surrogateescape")
    return b""


# -- HTML notes ------------------------------------------------------------------------------------
_ACTIVE = (
    (re.compile(r"<script\b", re.I), "script"),
    (re.compile(r"<form\b", re.I), "form"),
    (re.compile(r"<i?frame\b", re.I), "frame"),
    (re.compile(r"<(object|embed|applet)\b", re.I), "embedded object"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler"),
)
# possessive runs: hostile HTML (an <img without its >, a url( and a megabyte of spaces) stays linear
_IMG_TAG = re.compile(r"<img\b[^<>]*+", re.I)
_REMOTE_SRC = re.compile(r"\bsrc\s*+=\s*+[\"']?\s*+(https?:)?//", re.I)
_REMOTE_CSS = re.compile(r"url\(\s*+[\"']?\s*+(https?:)?//", re.I)


def html_notes(html: str) -> list[str]:
    """What the sanitizer will take out, said plainly (for the agent, not for security)."""
    removed = []
    for pattern, label in _ACTIVE:
        n = len(pattern.findall(html))
        if n:
            removed.append(f"{n} {label}{'s' if n > 1 else ''}")
    notes = []
    if removed:
        notes.append("removed for safety: " + ", ".join(removed))
    remote = sum(1 for m in _IMG_TAG.finditer(html) if _REMOTE_SRC.search(m.group())) + len(_REMOTE_CSS.findall(html))
    if remote:
        notes.append(f"{remote} remote image{'s' if remote > 1 else ''} blocked (they can track when a mail is read)")
    return notes


# -- the public entry points ----------------------------------------------------------------------
def _headers(msg: Message) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        out.setdefault(str(name).strip().lower(), []).append(value if isinstance(value, str) else str(value))
    return out


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _envelope(msg: Message, raw: bytes, limits: Limits, notes: list[str]) -> dict:
    """Everything that comes from the headers."""
    headers = _headers(msg)
    if sum(len(v) for vs in headers.values() for v in vs) > 256 * 1024:
        notes.append("the message has unusually large headers")
    mid = normalize_message_id(_first(headers, "message-id"))
    subject, why = decode_header_value(_first(headers, "subject"), limit=limits.max_subject_chars)
    if why:
        notes.append(f"subject: {why}")
    senders = _addresses(headers.get("from", [])[:1])
    from_name, from_addr = senders[0] if senders else ("", None)
    if not from_addr:
        notes.append("the sender's address is missing or invalid")
    reply_to = next((a for _, a in _addresses(headers.get("reply-to", [])[:1]) if a), None)
    refs = message_ids(" ".join(headers.get("references", []))[:100_000])
    auto = (_first(headers, "auto-submitted") or "no").strip().lower()
    precedence = (_first(headers, "precedence") or "").strip().lower()
    return {
        "message_id": mid or synthetic_message_id(raw),
        "has_message_id": mid is not None,
        "subject": subject,
        "from_name": from_name,
        "from_addr": from_addr,
        "reply_to": reply_to,
        "date": _header_date(_first(headers, "date")),
        "in_reply_to": tuple(message_ids(" ".join(headers.get("in-reply-to", []))[:10_000])[:5]),
        "references": tuple(refs[-limits.max_references:]),
        "auto_submitted": (not auto.startswith("no")) or precedence in ("bulk", "junk", "auto_reply")
        or bool(headers.get("x-autoreply") or headers.get("x-autorespond")),
    }


def parse(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> ParsedMail:
    """Read one message. Never raises for bad input (only for programming errors)."""
    notes: list[str] = []
    try:
        msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    except RecursionError:
        return headers_only(raw, "its parts are nested too deeply to read", keep_original=True, limits=limits)
    except Exception as exc:  # noqa: BLE001 - the stdlib parser on hostile input: anything can happen
        return headers_only(raw, f"its structure could not be read ({type(exc).__name__})",
                            keep_original=True, limits=limits)
    try:
        env = _envelope(msg, raw, limits, notes)
    except Exception as exc:  # noqa: BLE001
        return headers_only(raw, f"its headers could not be read ({type(exc).__name__})",
                            keep_original=True, limits=limits)
    walk = _Walk(limits)
    try:
        _walk(msg, walk, 0)
    except RecursionError:
        return headers_only(raw, "its parts are nested too deeply to read", keep_original=True, limits=limits)
    except Exception as exc:  # noqa: BLE001
        return headers_only(raw, f"its body could not be read ({type(exc).__name__})",
                            keep_original=True, limits=limits)
    for defect in getattr(msg, "defects", ())[:5]:
        name = type(defect).__name__
        if name in ("StartBoundaryNotFoundDefect", "CloseBoundaryNotFoundDefect", "MultipartInvariantViolationDefect"):
            walk.note("the message's MIME structure is broken; some parts may be missing")
            break
    html = "\n".join(walk.html) if walk.html else None
    attachments = walk.attachments
    if html is not None:
        for n in html_notes(html):
            walk.note(n)
        # an image the HTML shows (cid:) is inline, whatever its Content-Disposition says
        shown = set(iter_cids(html))
        attachments = [replace(a, inline=True) if a.content_id in shown and a.content_type.startswith("image/")
                       else a for a in attachments]
        if not html.strip():
            html = None
    text = "\n\n".join(p.strip("\n") for p in walk.plain if p.strip())
    if not text and html:
        text = html_to_text(html)
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars] + "\n\n[… the rest of this very long message was cut]"
        walk.note(f"the text was cut after {limits.max_text_chars:,} characters")
    if not text and not html and not walk.attachments:
        walk.note("the message has no text")
    return ParsedMail(text=text, html=html, attachments=tuple(attachments),
                      notes=tuple(notes + walk.notes), size=len(raw), **env)


def headers_only(raw: bytes, reason: str, *, keep_original: bool = False,
                 limits: Limits = DEFAULT_LIMITS) -> ParsedMail:
    """The headers and a body that explains why the rest is not shown (unreadable or too large)."""
    notes = [reason]
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    head = raw[: end if end >= 0 else min(len(raw), 512 * 1024)][: 512 * 1024]
    try:
        msg = BytesHeaderParser(policy=policy.compat32).parsebytes(head)
        env = _envelope(msg, raw, limits, notes)
    except Exception:  # noqa: BLE001 - last resort: nothing in the headers is usable
        env = {"message_id": synthetic_message_id(raw), "has_message_id": False, "subject": "", "from_name": "",
               "from_addr": None, "reply_to": None, "date": None, "in_reply_to": (),
               "references": (), "auto_submitted": False}
        notes.append("its headers could not be read either")
    attachments: tuple[Attachment, ...] = ()
    if keep_original and len(raw) <= limits.max_attachment_bytes:
        attachments = (Attachment(filename="original-message.eml", content_type="message/rfc822", data=raw,
                                  size=len(raw)),)
    body = (f"[This e-mail could not be shown: {reason}. "
            + ("The original is attached as original-message.eml; save it and open it with care.]"
               if attachments else "It is still on the mail server.]"))
    return ParsedMail(text=body, html=None, attachments=attachments, notes=tuple(notes), readable=False,
                      size=len(raw), **env)


def iter_cids(html: str) -> Iterator[str]:
    """The ``cid:`` references of an HTML body."""
    for m in re.finditer(r"""\bsrc\s*=\s*["']?cid:([^"'\s>]+)""", html, re.I):
        yield m.group(1)
