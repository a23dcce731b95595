"""Reading knowledge sources into plain records: Markdown, HTML, text, CSV and JSON.

:func:`read_path` walks a file or a folder and yields one :class:`ArticleRecord`
per article, or a :class:`Skipped` for whatever could not be used, with a short
reason a person can act on. Bad input never stops the walk: wrong encodings are
repaired (and noted), binary, empty and oversized files, unknown types, broken
CSV and JSON are skipped. Nothing here touches the database; see
:mod:`agent_assist.knowledge.sync` for that.

Nothing read is trusted: only regular files are opened (never a named pipe or a device), without
following a link out of the imported folder, and never beyond the size limit whatever the file
claims; JSON nested too deeply and any parser failure end that one file with a reason, and an
export cut off mid-file keeps its complete records (:func:`_salvage_json`).

Only :class:`ImportCancelled` (raised when ``cancel()`` returns true) ends a walk
early, so a caller can never mistake a cancelled walk for a complete one.
"""

from __future__ import annotations

import codecs
import csv
import errno
import html
import io
import json
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from agent_assist.sanitize import html_to_text, replace_lone_surrogates, sanitize_html
from agent_assist.timefmt import parse_iso, to_iso

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 2**20  # 20 MB: a larger document (one article) is skipped, not read
MAX_EXPORT_BYTES = 200 * 2**20  # 200 MB: the same for a CSV or JSON file of many articles

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
TEXT_SUFFIXES = frozenset({".txt"})
CSV_SUFFIXES = frozenset({".csv", ".tsv"})
JSON_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES | CSV_SUFFIXES | JSON_SUFFIXES

Cancel = Callable[[], bool]


class ImportCancelled(Exception):
    """``cancel()`` returned true: the walk (or the import) stopped before the end."""

    def __init__(self) -> None:
        super().__init__("The import was cancelled; nothing was changed.")


@dataclass(frozen=True)
class ArticleRecord:
    """One article as read from a source, before it meets the database."""

    source: str  # absolute path of the imported root (file or folder)
    key: str  # the record's id, or the file's path relative to the root
    title: str
    body: str  # plain text, paragraphs separated by blank lines
    body_html: str | None  # sanitized HTML when the source was HTML, else None
    section: str | None
    locale: str | None
    url: str | None
    updated_at: str | None  # ISO 8601 UTC, as the store writes it
    notes: tuple[str, ...] = ()  # repairs worth telling (e.g. "decoded as windows-1252")


@dataclass(frozen=True)
class Skipped:
    """Something that was not imported, and why."""

    path: str
    reason: str
    item: str | None = None  # "row 7", "record 3", "line 12" inside a CSV/JSON file
    key: str | None = None  # the article it would have been, when known (the sync keeps that article)
    incomplete: bool = False  # articles may be missing because of this; the sync removes none from the source

    @property
    def where(self) -> str:
        return f"{self.path} ({self.item})" if self.item else self.path


Item = ArticleRecord | Skipped


# -- walking ---------------------------------------------------------------------------------------
def list_files(path: str | Path, *, unreadable: list[Skipped] | None = None) -> list[Path]:
    """The files :func:`read_path` would look at, in the order it reads them (hidden ones are left out).

    A sub-folder that cannot be listed is added to ``unreadable`` (its articles are unknown, so a
    sync must not take them for removed).
    """
    root = Path(path)
    if not root.is_dir():
        return [root]

    def failed(exc: OSError) -> None:
        if unreadable is not None:
            unreadable.append(Skipped(str(exc.filename or root), f"folder cannot be read ({exc.strerror or exc})",
                                      incomplete=True))

    found: list[Path] = []
    for folder, dirs, files in os.walk(root, onerror=failed):
        dirs[:] = sorted(d for d in dirs if not _ignored_name(d))
        # a link to a folder is not walked (it may lead anywhere); it is listed, for read_file to say so
        links = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        found.extend(Path(folder, f) for f in sorted(files + links) if not _ignored_name(f))
    return found


def walked_to(path: Path, root: Path) -> bool:
    """Whether ``list_files(root)`` reaches ``path`` (a resolved path inside ``root``): no hidden or
    system name on the way."""
    return not any(_ignored_name(part) for part in path.relative_to(root).parts)


def _ignored_name(name: str) -> bool:
    return name.startswith((".", "~$")) or name in {"__MACOSX", "Thumbs.db", "desktop.ini"}


def read_path(path: str | Path, *, cancel: Cancel | None = None) -> Iterator[Item]:
    """Every article under ``path`` (a file or a folder, recursively), or why a part was skipped."""
    root = Path(path).expanduser().resolve()
    if not root.exists():
        yield Skipped(str(root), "not found", incomplete=True)
        return
    unreadable: list[Skipped] = []
    files = list_files(root, unreadable=unreadable)
    yield from unreadable
    for file in files:
        _check_cancel(cancel)
        yield from read_file(file, root=root, cancel=cancel)


def read_file(file: Path, *, root: Path, cancel: Cancel | None = None) -> Iterator[Item]:
    """The articles of one file; ``root`` is the imported folder (or the file itself)."""
    source = str(root)
    rel = file.name if file == root else file.relative_to(root).as_posix()
    suffix = file.suffix.lower()
    where = str(file)
    if file != root and file.is_symlink() and file.is_dir():
        yield Skipped(where, "a link to a folder; not followed")
        return
    if suffix not in SUPPORTED_SUFFIXES:
        yield Skipped(where, f"not a supported type ({suffix or 'no extension'})")
        return
    structured = suffix in CSV_SUFFIXES or suffix in JSON_SUFFIXES
    # a document file's key is its path: when it cannot be read, the sync keeps its article
    file_key = None if structured else rel
    data = _read_bounded(file, root, MAX_EXPORT_BYTES if structured else MAX_FILE_BYTES)
    if isinstance(data, str):  # why it was not read
        yield Skipped(where, data, key=file_key, incomplete=structured)
        return
    decoded = decode_text(data, html=suffix in HTML_SUFFIXES)
    if isinstance(decoded, str):  # the reason it could not be decoded
        yield Skipped(where, decoded, key=file_key, incomplete=structured)
        return
    text, notes = decoded
    if not text.strip():
        yield Skipped(where, "empty file", key=file_key, incomplete=structured)
        return
    ctx = _Context(source=source, file=file, rel=rel, mtime=_mtime(file))

    def parse() -> Iterator[Item]:  # lazy, so that _guarded sees every parser's failure
        if suffix in MARKDOWN_SUFFIXES:
            yield _finish(ctx, _parse_markdown(text))
        elif suffix in HTML_SUFFIXES:
            yield _finish(ctx, _parse_html(text))
        elif suffix in TEXT_SUFFIXES:
            yield _finish(ctx, _parse_text(text))
        elif suffix in CSV_SUFFIXES:
            yield from _read_csv(ctx, text, delimiter="\t" if suffix == ".tsv" else None, cancel=cancel)
        else:
            yield from _read_json(ctx, text, lines=suffix in {".jsonl", ".ndjson"}, cancel=cancel)

    for item in _guarded(parse(), where, file_key, structured):
        if isinstance(item, ArticleRecord):
            item = _storable(item)
        if notes and isinstance(item, ArticleRecord):  # told once a file, with its first article
            item = replace(item, notes=tuple(f"{rel}: {n}" for n in notes) + item.notes)
            notes = ()
        yield item


_FILE_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> str:
    kind = next((name for test, name in _FILE_KINDS if test(mode)), "a special file")
    return f"not a regular file ({kind}); not read"


def _read_bounded(file: Path, root: Path, cap: int) -> bytes | str:
    """The bytes of ``file`` when it is a regular file of at most ``cap`` bytes, else why not.

    Nothing here trusts a name or a size: a named pipe would block a plain ``open`` forever and a
    device (``/dev/zero``, ``/dev/urandom``) claims size 0 and never ends. So the file is opened
    without following a link and without blocking, checked with ``fstat`` on what was opened, and
    read to at most ``cap + 1`` bytes. A link inside the imported folder is read when it points at
    a file inside that folder too; one that leads out of it (``/etc/passwd``) is refused.
    """
    target = file
    try:
        if file.is_symlink():
            target = file.resolve(strict=True)
            if root.is_dir() and not target.is_relative_to(root):
                return "a link to a file outside the imported folder; not followed"
        before = os.lstat(target)  # a socket cannot even be opened: say what it is
        if not stat.S_ISREG(before.st_mode) and not stat.S_ISLNK(before.st_mode):
            return _not_regular(before.st_mode)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
            | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(target, flags)
    except FileNotFoundError:
        return "a link to nothing (its target does not exist)" if file.is_symlink() else "cannot be read (not found)"
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links (Python < 3.13)
        if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
            return "a link that was replaced while reading; not followed"
        return f"cannot be read ({getattr(exc, 'strerror', None) or exc})"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return _not_regular(st.st_mode)
        if st.st_size > cap:
            return _too_large(st.st_size, cap)
        chunks: list[bytes] = []
        got = 0
        while got <= cap:
            chunk = os.read(fd, min(cap + 1 - got, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > cap:  # it grew while being read
            return f"too large (more than {cap / 2**20:g} MB)"
        return b"".join(chunks)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    finally:
        os.close(fd)


def _guarded(items: Iterable[Item], where: str, key: str | None, structured: bool) -> Iterator[Item]:
    """The items of one file; a parser that fails on hostile input ends this file with a reason,
    never the import (only a cancel goes through)."""
    try:
        yield from items
    except ImportCancelled:
        raise
    except RecursionError:
        yield Skipped(where, "nested too deeply to be read", key=key, incomplete=structured)
    except Exception as exc:  # noqa: BLE001 - one bad file must not end the walk
        log.warning("could not read %s: %s", where, type(exc).__name__, exc_info=True)
        yield Skipped(where, f"could not be read ({type(exc).__name__})", key=key, incomplete=structured)


_TEXT_FIELDS = ("key", "title", "body", "body_html", "section", "locale", "url")


def _storable(rec: ArticleRecord) -> ArticleRecord:
    """Lone surrogates (a JSON ``"\\ud800"`` escape) cannot be stored: they become U+FFFD, with a note."""
    changes: dict[str, str] = {}
    for name in _TEXT_FIELDS:
        value = getattr(rec, name)
        if value:
            fixed, bad = replace_lone_surrogates(value)
            if fixed != value:
                changes[name] = fixed
    if not changes:
        return rec
    note = f"{rec.key}: some characters could not be read and are shown as \ufffd"
    return replace(rec, **changes, notes=(*rec.notes, note))


def _check_cancel(cancel: Cancel | None) -> None:
    if cancel is not None and cancel():
        raise ImportCancelled()


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def _too_large(size: int, cap: int) -> str:
    return f"too large ({_mb(size)}; limit {cap / 2**20:g} MB)"


def _mtime(file: Path) -> str | None:
    try:
        return to_iso(datetime.fromtimestamp(file.stat().st_mtime, UTC))
    except (OSError, OverflowError, ValueError):
        return None


# -- decoding --------------------------------------------------------------------------------------
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),  # before UTF-16: they share a prefix
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def decode_text(data: bytes, *, html: bool = False) -> tuple[str, tuple[str, ...]] | str:
    """Bytes to text: a BOM, else UTF-8, else (for HTML) its declared charset, else a detected one.

    Returns ``(text, notes)``, or a short reason (``"binary file"``) when the bytes are not text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _clean(data.decode(encoding)), ()
            except UnicodeDecodeError:
                return "binary file"
    if b"\x00" in data[:8192]:
        return "binary file"
    try:
        return _clean(data.decode("utf-8")), ()
    except UnicodeDecodeError:
        pass
    if len(_UTF8_MULTIBYTE.findall(data)) >= 1 and _mostly_utf8(data):
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        return _clean(text), (f"{bad} invalid UTF-8 byte sequence{'s' if bad != 1 else ''} replaced",)
    if html:
        declared = _META_CHARSET.search(data[:4096])
        if declared:
            encoding = _codec(declared.group(1).decode("ascii", "replace"))
            if encoding:
                try:
                    return _clean(data.decode(encoding)), (f"decoded as {encoding} (declared by the page)",)
                except UnicodeDecodeError:
                    pass
    guessed = _guess_encoding(data)
    if guessed is None:
        return "binary file"
    text, encoding = guessed
    if len(_CONTROL.findall(text)) > max(2, len(text) // 100):
        return "binary file"
    return _clean(text), (f"decoded as {encoding} (not UTF-8)",)


def _mostly_utf8(data: bytes) -> bool:
    """Valid UTF-8 with a few damaged bytes (not a legacy 8-bit encoding)."""
    text = data.decode("utf-8", errors="replace")
    return text.count("\ufffd") <= max(1, len(_UTF8_MULTIBYTE.findall(data)) // 4)


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _guess_encoding(data: bytes) -> tuple[str, str] | None:
    """A legacy 8-bit encoding: charset-normalizer when installed, else Windows-1252 / Latin-1.

    Short Western European texts are ambiguous between code pages; when Windows-1252 reads them
    as well as the detector's best guess it wins (as in browsers: it is what most such files are).
    The detector looks at the first 2 MB; the whole file is then decoded with what it found.
    """
    try:
        import charset_normalizer
    except ImportError:  # pragma: no cover - depends on the environment
        charset_normalizer = None
    if charset_normalizer is None:  # pragma: no cover - without charset-normalizer
        try:
            return data.decode("cp1252"), "windows-1252"
        except UnicodeDecodeError:
            return data.decode("latin-1"), "latin-1"
    matches = charset_normalizer.from_bytes(data[:2 * 2**20])
    best = matches.best()
    if best is None:
        return None
    encoding = _codec(best.encoding) or best.encoding
    for m in matches:
        if m.chaos <= best.chaos + 0.01 and "cp1252" in m.could_be_from_charset:
            try:
                return data.decode("cp1252"), "windows-1252"
            except UnicodeDecodeError:
                break
    return data.decode(encoding, errors="replace"), encoding


def _clean(text: str) -> str:
    """Normalise line ends and drop NULs and stray BOMs."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").replace("\ufeff", "")


# -- records ---------------------------------------------------------------------------------------
@dataclass
class _Context:
    source: str
    file: Path
    rel: str
    mtime: str | None


@dataclass
class _Parsed:
    title: str
    body: str
    body_html: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


def _finish(ctx: _Context, parsed: _Parsed) -> Item:
    """A document file (Markdown, HTML, text) as a record; defaults come from its place in the folder."""
    where = str(ctx.file)
    title = _one_line(parsed.title) or _title_from_name(ctx.file)
    body = parsed.body.strip()
    if not body:
        return Skipped(where, "no text besides the title", key=ctx.rel)
    meta = parsed.meta
    rel_parts = PurePosixPath(ctx.rel).parts[:-1]
    locale = _locale_value(_meta(meta, "locale")) or _locale_from_path(ctx.rel)
    section = _meta(meta, "section") or next((p for p in reversed(rel_parts) if not _locale(p)), None)
    return ArticleRecord(
        source=ctx.source, key=ctx.rel, title=title, body=body, body_html=parsed.body_html,
        section=section, locale=locale, url=_meta(meta, "url"),
        updated_at=_timestamp(_meta(meta, "updated_at")) or ctx.mtime,
    )


def _one_line(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _title_from_name(file: Path) -> str:
    stem = file.name.split(".")[0] or file.stem
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else file.name


# field names, matched case-insensitively; the first that is present wins
ALIASES: dict[str, tuple[str, ...]] = {
    "key": ("id", "key", "article_id", "slug"),
    "title": ("title", "name", "question", "subject", "heading"),
    "body": ("body", "content", "answer", "body_html", "text", "description", "html", "description_text"),
    "locale": ("locale", "language", "lang"),
    "section": ("section", "category", "folder", "topic"),
    "url": ("url", "html_url", "link", "permalink"),
    "updated_at": ("updated_at", "updated", "modified", "edited_at", "last_modified", "date", "created_at"),
}
_HTML_BODY_FIELDS = frozenset({"body_html", "html"})


def _meta(meta: Mapping[str, str], name: str) -> str | None:
    for alias in ALIASES[name]:
        value = meta.get(alias)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


_LANGUAGES = frozenset(
    "ar bg bn ca cs cy da de el en es et eu fa fi fr ga gl he hi hr hu hy id is it ja ka kk ko lt lv "
    "mk ms mt nb nl nn no pl pt ro ru sk sl sq sr sv sw ta th tr uk ur vi zh".split()
)
_LOCALE = re.compile(r"^([a-z]{2})(?:[-_]([a-z]{2}|[0-9]{3}|[a-z]{4}))?$", re.I)


def _locale(value: str | None) -> str | None:
    """``"en-US"`` -> ``"en-us"``; ``None`` for anything that is not a language tag we know."""
    if not value:
        return None
    m = _LOCALE.match(value.strip())
    if not m or m.group(1).lower() not in _LANGUAGES:
        return None
    return m.group(1).lower() + (f"-{m.group(2).lower()}" if m.group(2) else "")


def _locale_value(value: str | None) -> str | None:
    """A locale a source declared: normalised when it is a language tag, else kept as written (lower-case)."""
    if not value or not value.strip():
        return None
    value = value.strip().split(".")[0]  # "sv_SE.UTF-8"
    return _locale(value) or value.lower()


def _locale_from_path(rel: str) -> str | None:
    """``refunds.sv.md`` or ``sv/refunds.md`` -> ``"sv"``."""
    parts = PurePosixPath(rel).parts
    name_parts = parts[-1].split(".")
    if len(name_parts) >= 3 and (loc := _locale(name_parts[-2])):
        return loc
    for part in reversed(parts[:-1]):
        if loc := _locale(part):
            return loc
    return None


def _timestamp(value: Any) -> str | None:
    """An ISO 8601 UTC timestamp from what a source wrote (ISO text or a Unix time); None if unreadable."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > 1e11 else value  # milliseconds
            return to_iso(datetime.fromtimestamp(seconds, UTC))
        text = str(value).strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            text += "T00:00:00"
        return to_iso(parse_iso(text.replace(" ", "T", 1) if re.match(r"\d{4}-\d{2}-\d{2} ", text) else text))
    except (ValueError, OverflowError, OSError):
        return None


# -- Markdown --------------------------------------------------------------------------------------
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_ITEM = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])[ \t]+(.*)$")
_TABLE_SEP = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s+\S+")


def _parse_markdown(text: str) -> _Parsed:
    meta: dict[str, str] = {}
    m = _FRONT_MATTER.match(text)
    if m:
        meta = _simple_yaml(m.group(1))
        text = text[m.end():]
    lines = text.split("\n")
    title = meta.get("title", "").strip()
    if not title:  # the first level-1 heading (ATX or Setext) is the title; it leaves the body
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            atx = _ATX.match(line)
            if atx and len(atx.group(1)) == 1 and atx.group(2):
                title = _inline_markdown(atx.group(2))
                del lines[i]
            elif i + 1 < len(lines) and re.match(r"^ {0,3}=+[ \t]*$", lines[i + 1]) and not _FENCE.match(line):
                title = _inline_markdown(line.strip())
                del lines[i:i + 2]
            break
    return _Parsed(title=title, body=_drop_leading_title(_markdown_to_text(lines), title), meta=meta)


def _simple_yaml(block: str) -> dict[str, str]:
    """``key: value`` lines of a front-matter block (enough for title, locale, section, url, dates)."""
    meta: dict[str, str] = {}
    for line in block.split("\n"):
        m = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$", line)
        if not m:
            continue
        value = m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote = value[0]
            value = value[1:-1].replace('\\"', '"') if quote == '"' else value[1:-1].replace("''", "'")
        meta[m.group(1).lower().replace("-", "_")] = value
    return meta


def _markdown_to_text(lines: list[str]) -> str:
    """Markdown as readable plain text: paragraphs kept, list items and table rows one a line."""
    blocks: list[list[str]] = [[]]
    fence: str | None = None

    def new_block() -> None:
        if blocks[-1]:
            blocks.append([])

    for i, line in enumerate(lines):
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
                new_block()
            else:
                blocks[-1].append("\x00" + line.rstrip())  # verbatim line
            continue
        fm = _FENCE.match(line)
        if fm:
            fence = fm.group(1)[0] * 3
            new_block()
            continue
        stripped = line.strip()
        if not stripped or _RULE.match(line) or _TABLE_SEP.match(line) or _REF_DEF.match(line):
            if not stripped or _RULE.match(line):
                new_block()
            continue
        if _SETEXT.match(line) and blocks[-1]:  # the underline of a heading
            new_block()
            continue
        atx = _ATX.match(line)
        if atx:
            new_block()
            if atx.group(2):
                blocks[-1].append("\x00" + _inline_markdown(atx.group(2)))
            new_block()
            continue
        stripped = re.sub(r"^(>[ \t]?)+", "", stripped).strip()
        if not stripped:
            new_block()
            continue
        item = _LIST_ITEM.match(stripped)
        if item:
            marker = item.group(2)
            marker = "-" if marker in "-*+" else marker
            blocks[-1].append("\x00" + f"{marker} {_inline_markdown(item.group(3))}")
        elif stripped.startswith("|") or (stripped.count("|") >= 2 and i + 1 < len(lines)
                                            and _TABLE_SEP.match(lines[i + 1] or "")):
            cells = [_inline_markdown(c.strip()) for c in stripped.strip("|").split("|")]
            blocks[-1].append("\x00" + " | ".join(c for c in cells if c))
        elif blocks[-1] and not blocks[-1][-1].startswith("\x00"):
            blocks[-1][-1] += " " + _inline_markdown(stripped)  # a soft line break
        else:
            blocks[-1].append(_inline_markdown(stripped))
    paragraphs = ["\n".join(line.lstrip("\x00") for line in block) for block in blocks if block]
    return "\n\n".join(p for p in paragraphs if p.strip())


_INLINE_RULES = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # image -> its alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),  # <https://...>
    (re.compile(r"`+([^`]+?)`+"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"~~(.+?)~~"), r"\1"),
    (re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"), ""),  # inline HTML tags
)
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])")


def _inline_markdown(text: str) -> str:
    # backslash-escaped characters are literal: park them in the private-use area while the rules run
    text = _ESCAPED.sub(lambda m: chr(0xF0000 + ord(m.group(1))), text)
    for pattern, repl in _INLINE_RULES:
        text = pattern.sub(repl, text)
    text = re.sub("[\U000F0000-\U000F00FF]", lambda m: chr(ord(m.group(0)) - 0xF0000), text)
    return html.unescape(text).strip()


# -- HTML and text ---------------------------------------------------------------------------------
_TITLE_TAG = re.compile(r"<title(?:\s[^>]*)?>([^<]*)", re.I)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1\s*>", re.I | re.S)
_BODY_OPEN = re.compile(r"<body(?:\s[^>]*)?>", re.I)
_HEAD = re.compile(r"<head(?:\s[^>]*)?>.*?</head\s*>|<title(?:\s[^>]*)?>[^<]*(?:</title\s*>)?", re.I | re.S)
# site chrome around a saved help-centre page: not part of the article
_CHROME = re.compile(r"<(nav|header|footer|aside|form|noscript)(?:\s[^>]*)?>.*?</\1\s*>", re.I | re.S)
_HTMLISH = re.compile(r"<(?:p|br|div|span|ul|ol|li|h[1-6]|a|b|i|em|strong|table|tr|td|img|blockquote|pre|code)"
                      r"\b[^>]*>|</[a-z][a-z0-9]*\s*>|&(?:nbsp|amp|lt|gt|quot|#\d+);", re.I)


def looks_like_html(text: str) -> bool:
    return len(_HTMLISH.findall(text[:20000])) >= 1


def _tag_text(fragment: str) -> str:
    return _one_line(html.unescape(re.sub(r"<[^>]*>", " ", fragment)))


def _parse_html(text: str) -> _Parsed:
    title_m = _TITLE_TAG.search(text)
    h1_m = _H1.search(text)
    page_title = _tag_text(title_m.group(1)) if title_m else ""
    h1 = _tag_text(h1_m.group(1)) if h1_m else ""
    # "Refunds – Example Help Center" with an <h1>Refunds</h1>: the heading is the cleaner title
    title = h1 if h1 and (not page_title or h1 in page_title) else page_title or h1
    body_m = _BODY_OPEN.search(text)
    region = text[body_m.end():] if body_m else _HEAD.sub("", text)
    region = _CHROME.sub("", re.split(r"</body\s*>", region, maxsplit=1, flags=re.I)[0])
    body_html, body = _html_body(region)
    return _Parsed(title=title, body=_drop_leading_title(body, title), body_html=body_html, meta=_html_meta(text))


def _html_meta(text: str) -> dict[str, str]:
    meta: dict[str, str] = {}
    lang = re.search(r"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z_-]+)", text[:4096], re.I)
    if lang:
        meta["locale"] = lang.group(1)
    canonical = re.search(r"<link[^>]+rel\s*=\s*[\"']?canonical[^>]*>", text[:20000], re.I)
    if canonical and (href := re.search(r"href\s*=\s*[\"']([^\"']+)", canonical.group(0))):
        meta["url"] = html.unescape(href.group(1))
    return meta


_PRE = re.compile(r"(<pre\b.*?</pre\s*>)", re.I | re.S)
_BLOCK = re.compile(r"</?(?:p|h[1-6]|ul|ol|dl|table|blockquote|pre)(?:\s[^>]*)?>", re.I)
_CELL_END = re.compile(r"</t[dh]\s*>", re.I)


def _html_body(raw: str) -> tuple[str, str]:
    """Sanitized (and so repaired) HTML, and its plain text with paragraphs kept.

    ``html_to_text`` ends a paragraph with one line break and keeps the source's own line breaks;
    here the source's whitespace is collapsed first (as a browser does, except in ``<pre>``) and
    each block gets a blank line after it, so the text has real paragraphs.
    """
    safe = sanitize_html(raw).strip()
    parts = _PRE.split(safe)
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"\s+", " ", parts[i])
    prepared = "".join(parts)
    prepared = re.sub(r"<(/?)h[4-6]\b", r"<\1h3", prepared, flags=re.I)  # html_to_text knows h1-h3
    prepared = _BLOCK.sub(lambda m: "<br><br>" + m.group(0) + "<br><br>", prepared)  # a paragraph each
    prepared = _CELL_END.sub(" | ", prepared)
    prepared = re.sub(r"<li\b[^>]*>", lambda m: m.group(0) + "- ", prepared, flags=re.I)
    text = html_to_text(prepared)
    text = re.sub(r"[ \t]*\|[ \t]*(?=\n|$)", "", text)  # the separator after a row's last cell
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = re.sub(r"(?m)^-[ ]*\n+(?=\S)", "- ", re.sub(r"\n{3,}", "\n\n", text))  # <li><p>item</p>
    text = re.sub(r"(?m)^(- .*)\n\n(?=- )", "\\1\n", text)
    text = re.sub(r"(?m)^(- .*)\n\n(?=- )", "\\1\n", text)  # twice: matches overlap
    return safe, text.strip()


def _drop_leading_title(body: str, title: str) -> str:
    first, _, rest = body.strip().partition("\n")
    if title and _one_line(first) == title:
        return rest.strip()
    return body.strip()


def _parse_text(text: str) -> _Parsed:
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    rest = re.sub(r"\A[ \t]*(=+|-+)[ \t]*\n", "", rest)  # an underlined title
    paragraphs = re.split(r"\n[ \t]*\n+", rest.strip())
    return _Parsed(title=first, body="\n\n".join(p.strip() for p in paragraphs if p.strip()))


# -- CSV -------------------------------------------------------------------------------------------
def _read_csv(ctx: _Context, text: str, *, delimiter: str | None, cancel: Cancel | None) -> Iterator[Item]:
    where = str(ctx.file)
    if csv.field_size_limit() < MAX_FILE_BYTES:
        csv.field_size_limit(MAX_FILE_BYTES)  # one long HTML answer may exceed the 128 KB default
    header_line = text.split("\n", 1)[0]
    if delimiter is None:
        delimiter = max(",;\t|", key=lambda d: (len(next(csv.reader([header_line], delimiter=d), [])),
                                                d == ","))
    # strict: a quote that is never closed is an error, not one field that swallows the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        yield Skipped(where, f"not a readable CSV file: {_csv_problem(exc, 1)}", incomplete=True)
        return
    except StopIteration:
        yield Skipped(where, "not a readable CSV file (no header row)", incomplete=True)
        return
    columns = {name.strip().lstrip("\ufeff").lower(): i for i, name in reversed(list(enumerate(header)))}
    picked = {name: next((a for a in aliases if a in columns), None) for name, aliases in ALIASES.items()}
    missing = [name for name in ("title", "body") if picked[name] is None]
    if missing:
        found = ", ".join(h.strip() for h in header if h.strip()) or "none"
        yield Skipped(where, f"no {' or '.join(missing)} column (found: {found})", incomplete=True)
        return
    n = 1
    while True:
        n += 1
        _check_cancel(cancel)
        first_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield Skipped(where, f"the CSV is malformed here: {_csv_problem(exc, first_line)}; nothing after it "
                                 "was read", item=f"row {n}", incomplete=True)
            break
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        fields = {alias: row[i] if i < len(row) else "" for alias, i in columns.items()}
        yield _structured_record(ctx, fields, picked, item=f"row {n}")


def _csv_problem(exc: csv.Error, line: int) -> str:
    """What the csv module's error means, in words (its own text stays in brackets)."""
    text = str(exc)
    if "unexpected end of data" in text:
        return f"the quote opened on line {line} is not closed"
    if "expected after" in text:
        return f"a closing quote on line {line} is followed by more text in the same field ({text})"
    return f"line {line}: {text}"


# -- JSON ------------------------------------------------------------------------------------------
_LIST_KEYS = ("articles", "data", "items", "results", "records", "entries")


_TOO_DEEP = "nested too deeply to be an article export"


def _read_json(ctx: _Context, text: str, *, lines: bool, cancel: Cancel | None) -> Iterator[Item]:
    where = str(ctx.file)
    broken: Skipped | None = None  # why the records after the last complete one are missing
    try:
        doc = None if lines else json.loads(text)
    except RecursionError:  # "[[[[..." 10,000 deep: skipped from there on, the import goes on
        salvaged = _salvage_json(text)
        n = len(_records_of(salvaged[0]) or []) if salvaged else 0
        if not n:
            yield Skipped(where, _TOO_DEEP, incomplete=True)
            return
        doc = salvaged[0]
        broken = Skipped(where, f"Imported {n} record{'s' if n != 1 else ''}; record {n + 1} is {_TOO_DEEP}.",
                         item=f"record {n + 1}", incomplete=True)
    except json.JSONDecodeError as exc:
        if _first_line_is_json(text):  # JSON Lines in a .json file
            lines = True
        else:  # an export cut off (or broken) mid-file: keep the complete records before the damage
            salvaged = _salvage_json(text)
            if salvaged is None:
                yield Skipped(where, f"Not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}).",
                              incomplete=True)
                return
            doc, broken_at = salvaged
            broken = _broken_tail(where, text, broken_at, doc, exc)
    if lines:
        yield from _read_json_lines(ctx, text, cancel)
        return
    if broken is not None:  # only a list's complete records count: half a single article is none
        yield from _json_records(ctx, doc, cancel) if _records_of(doc) else ()
        yield broken
        return
    yield from _json_records(ctx, doc, cancel)


def _broken_tail(where: str, text: str, pos: int, doc: Any, exc: json.JSONDecodeError) -> Skipped:
    """The line for an export whose complete records end at ``pos``: why the rest is missing."""
    n = len(_records_of(doc) or [])
    invalid = f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
    cut = not text[pos:].strip() or _only_cut(text, pos)
    if not n:
        why = "The file ends in the middle of the first record" if cut else invalid[0].upper() + invalid[1:]
        return Skipped(where, f"{why}; nothing in it was imported.", incomplete=True)
    why = f"the file ends mid-record after record {n}" if cut else f"{invalid} after record {n}"
    return Skipped(where, f"Imported {n} record{'s' if n != 1 else ''}; {why}.", item=f"record {n + 1}",
                   incomplete=True)


def _only_cut(text: str, pos: int) -> bool:
    """Whether the JSON from ``pos`` is a valid beginning that merely stops (a truncated download)."""
    try:
        json.loads(text[pos:])
    except RecursionError:
        return False
    except json.JSONDecodeError as exc:  # a string runs to the end, or a value is missing at the end
        return exc.msg.startswith("Unterminated string") or exc.pos >= len(text[pos:].rstrip())
    return False


def _records_of(doc: Any) -> list | None:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        return next((doc[k] for k in _LIST_KEYS if isinstance(doc.get(k), list)), None)
    return None


_WS = re.compile(r"[ \t\n\r]*")


def _salvage_json(text: str) -> tuple[Any, int] | None:
    """The complete part of a damaged JSON list of records (or of ``{"articles": [...], ...}``),
    and the position where the damage starts; None when the text does not start like either.

    Parsed incrementally with :meth:`json.JSONDecoder.raw_decode`: each element is decoded on its
    own, so everything before the first broken element is kept.
    """
    decoder = json.JSONDecoder()

    def ws(i: int) -> int:
        return _WS.match(text, i).end()

    def array(i: int) -> tuple[list, int, bool]:  # text[i] == "[": (elements, position, complete)
        items: list = []
        i = ws(i + 1)
        if text.startswith("]", i):
            return items, i + 1, True
        while True:
            try:
                value, end = decoder.raw_decode(text, i)
            except (json.JSONDecodeError, RecursionError):
                return items, i, False
            items.append(value)
            i = ws(end)
            if text.startswith(",", i):
                i = ws(i + 1)
            elif text.startswith("]", i):
                return items, i + 1, True
            else:
                return items, i, False

    start = ws(0)
    if text.startswith("[", start):
        items, pos, _ = array(start)
        return items, pos
    if not text.startswith("{", start):
        return None
    doc: dict[str, Any] = {}
    i = ws(start + 1)
    while True:
        try:
            key, i = decoder.raw_decode(text, i)
        except (json.JSONDecodeError, RecursionError):
            return doc, i
        i = ws(i)
        if not isinstance(key, str) or not text.startswith(":", i):
            return doc, i
        i = ws(i + 1)
        if key in _LIST_KEYS and text.startswith("[", i):
            doc[key], i, complete = array(i)
            if not complete:
                return doc, i
        else:
            try:
                doc[key], i = decoder.raw_decode(text, i)
            except (json.JSONDecodeError, RecursionError):
                return doc, i
        i = ws(i)
        if text.startswith(",", i):
            i = ws(i + 1)
        else:
            return doc, i


def _json_records(ctx: _Context, doc: Any, cancel: Cancel | None) -> Iterator[Item]:
    where = str(ctx.file)
    sections: dict[str, str] = {}
    if isinstance(doc, dict):
        sections = _section_names(doc.get("sections"))
        found = next((k for k in _LIST_KEYS if isinstance(doc.get(k), list)), None)
        if found is not None:
            records: Iterable[Any] = doc[found]
        elif _field(doc, "title") is not None:
            records = [doc]  # a single article
        else:
            yield Skipped(where, 'No articles found: expected a list, or {"articles": [...]}.', incomplete=True)
            return
    elif isinstance(doc, list):
        records = doc
    else:
        yield Skipped(where, 'No articles found: expected a list, or {"articles": [...]}.', incomplete=True)
        return
    for n, rec in enumerate(records, start=1):
        _check_cancel(cancel)
        try:
            item = _json_record(ctx, rec, f"record {n}", sections)
        except RecursionError:  # a record with a field nested thousands deep
            item = Skipped(where, _TOO_DEEP, item=f"record {n}", incomplete=True)
        yield item


def _first_line_is_json(text: str) -> bool:
    first = next((ln for ln in text.split("\n") if ln.strip()), "")
    try:
        return isinstance(json.loads(first), dict)
    except json.JSONDecodeError:
        return False


def _read_json_lines(ctx: _Context, text: str, cancel: Cancel | None) -> Iterator[Item]:
    where = str(ctx.file)
    for n, line in enumerate(text.split("\n"), start=1):
        _check_cancel(cancel)
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            item = _json_record(ctx, rec, f"line {n}", {})
        except json.JSONDecodeError as exc:
            yield Skipped(where, f"Not valid JSON at column {exc.colno} ({exc.msg}).", item=f"line {n}",
                          incomplete=True)
            continue
        except RecursionError:
            yield Skipped(where, _TOO_DEEP, item=f"line {n}", incomplete=True)
            continue
        yield item


def _section_names(sections: Any) -> dict[str, str]:
    """``{"sections": [{"id": 7, "name": "Refunds"}]}`` (a help-centre side-load) -> ``{"7": "Refunds"}``."""
    if not isinstance(sections, list):
        return {}
    return {str(s["id"]): str(s["name"]) for s in sections
            if isinstance(s, dict) and s.get("id") is not None and s.get("name")}


def _field(rec: Mapping[str, Any], name: str) -> Any:
    lowered = {str(k).lower(): v for k, v in rec.items()}
    for alias in ALIASES[name]:
        if lowered.get(alias) not in (None, ""):
            return lowered[alias]
    return None


def _json_record(ctx: _Context, rec: Any, item: str, sections: Mapping[str, str]) -> Item:
    if not isinstance(rec, dict):
        return Skipped(str(ctx.file), f"not an article (a JSON {type(rec).__name__})", item=item)
    if rec.get("draft") is True:  # unpublished: an earlier import of it is removed
        return Skipped(str(ctx.file), "a draft (not published)", item=item)
    fields = {str(k).lower(): v for k, v in rec.items()}
    section = _field(rec, "section")
    if isinstance(section, dict):  # {"section": {"id": 7, "name": "Refunds"}}
        section = section.get("name") or section.get("title")
    if section is None and fields.get("section_id") is not None:
        sid = str(fields["section_id"])
        section = sections.get(sid, sid)  # the name when the export carries it, else the id
    fields["section"] = section
    picked = {name: next((a for a in aliases if fields.get(a) not in (None, "")), None)
              for name, aliases in ALIASES.items()}
    return _structured_record(ctx, fields, picked, item=item)


def _structured_record(ctx: _Context, fields: Mapping[str, Any], picked: Mapping[str, str | None], *,
                       item: str) -> Item:
    where = str(ctx.file)

    def get(name: str) -> str:
        alias = picked.get(name)
        value = fields.get(alias) if alias else None
        if value is None:
            return ""
        if isinstance(value, list):  # e.g. tags or a multi-valued field
            value = ", ".join(str(v) for v in value)
        return str(value).strip()

    key = get("key")
    title = _one_line(html.unescape(re.sub(r"<[^>]*>", "", get("title"))))
    raw_body = get("body")
    if not title or not raw_body:
        missing = "title" if not title else "body"
        return Skipped(where, f"empty {missing}", item=item, key=key or None)
    if picked.get("body") in _HTML_BODY_FIELDS or looks_like_html(raw_body):
        body_html, body = _html_body(raw_body)
        body = _drop_leading_title(body, title)
        if not body:
            return Skipped(where, "empty body (after removing markup)", item=item, key=key or None)
    else:
        body_html, body = None, re.sub(r"\n[ \t]*\n+", "\n\n", raw_body).strip()
    return ArticleRecord(
        source=ctx.source, key=key or title, title=title, body=body, body_html=body_html,
        section=get("section") or None, locale=_locale_value(get("locale")), url=get("url") or None,
        updated_at=_timestamp(fields.get(picked["updated_at"] or "")) or ctx.mtime,
    )
