"""Logging to a rotating file in the platform's log folder, with customer data and secrets kept out,
and the text of "Copy diagnostics".

:func:`setup_logging` is called once at start-up. Every record that reaches its handlers passes
through :class:`ScrubFilter` first, whatever its level or logger (ours, httpx, openai, Qt's
messages): e-mail addresses, card and other long numbers, IBANs, phone and identity numbers (via
:class:`agent_assist.assist.redact.Redactor`), ``sk-...`` style keys, bearer tokens, Authorization
headers, ``api_key=...`` pairs and credentials inside URLs are replaced before anything is written,
in the spellings a URL or a page gives them too (``anna%40example.com``, ``4111.1111.1111.1111``).
The scrubbing is a net, not a licence: code should still log ids and counts, never message bodies.
The log files are 0600 in a 0700 folder (see :mod:`agent_assist.store.private_files`).

:func:`diagnostics` is what support asks for: versions, platform, paths, database schema and
counts. It never contains customer text, settings values or keys. Qt-free, like the rest of the core:
the UI passes Qt's versions in (see ``ui/about_dialog.py``).
"""

from __future__ import annotations

import html
import logging
import logging.handlers
import os
import platform
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, unquote_plus

from agent_assist import APP_NAME, __version__, config
from agent_assist.assist.redact import CARD, IBAN, PERSONNUMMER, SSN, Redactor
from agent_assist.store import diagnostics as store_diagnostics
from agent_assist.store import private_files

if TYPE_CHECKING:
    from agent_assist.store import Store

LOG_FILE = "agent-assist.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_HANDLER_TAG = "_agent_assist_handler"

# -- scrubbing ------------------------------------------------------------------------------
_REDACTED = "[REDACTED]"
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # credentials inside a URL: https://user:sk-...@host, https://user:password@proxy
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,15}://)[^\s/?#@'\"<>]+@(?=[\w\[])"), rf"\1{_REDACTED}@"),
    # secret query parameters (?key=, &sig=, &code=): values of these names are credentials
    (re.compile(r"(?i)([?&;](?:key|sig|signature|code|auth|session|sessionid|sid|credential|credentials|"
                r"private[_-]?token|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|"
                r"id[_-]?token|client[_-]?assertion)=)[^&#\s'\"]+"),
     rf"\1{_REDACTED}"),
    # Authorization / Proxy-Authorization / X-Api-Key headers, as text, repr'd dicts or JSON
    (re.compile(r"(?i)((?:proxy-)?authorization|x-api-key|api-key|cookie|set-cookie)(['\"]?\s*[:=]\s*['\"]?)"
                r"(?:(?:bearer|basic|token|digest)\s+)?[^'\"\s,}]+"),
     rf"\1\2{_REDACTED}"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {_REDACTED}"),
    # key=value pairs in URLs, config dumps and reprs
    (re.compile(r"(?i)\b((?:api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|token|secret|client[_-]?secret|"
                r"password|passwd|pwd)['\"]?\s*[:=]\s*['\"]?)[^'\"\s&,;}]+"),
     rf"\1{_REDACTED}"),
    # provider keys: OpenAI (sk-..., sk-proj-...), Anthropic (sk-ant-...), Groq (gsk_...), GitHub, Slack, AWS
    (re.compile(r"\b(?:sk|rk|pk)-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_]{12,}(?:-[A-Za-z0-9_]+)*"), "[API_KEY]"),
    (re.compile(r"\b(?:gsk|ghp|gho|ghu|ghs|ghr|github_pat|xox[abprs])_[A-Za-z0-9_]{16,}"), "[API_KEY]"),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), "[API_KEY]"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "[API_KEY]"),
    # JSON web tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "[TOKEN]"),
)
# a plain e-mail address (the Redactor finds these too; this catches the odd forms it leaves, e.g. in URLs)
_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
# a run of 9+ digits, possibly grouped by single spaces or dashes (card, account, phone, identity
# numbers); dates (2024-05-01), times, short ids (#12345), counts and version numbers stay readable
_DIGIT_RUN = re.compile(r"(?<![\w.])(?!\d{4}-\d\d-\d\d(?!\d))\+?\d(?:[ -]?\d){8,}(?![\w.]\d|\w)")


# %40, %2540 (twice encoded), &#64; and &commat;: a value written for a URL or a page is read as text first
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{2,10});")
# separators the redactor's detectors do not expect between digits, read as ones they do, one character
# for one so that the spans found fit the original text: 4111.1111.1111.1111 and 850709.9805 as
# dashes (for the checksummed kinds only: dots also separate versions and addresses), and
# 0221_9876543 (a name made of a number) as a space, for every kind
_ODD_SEPARATOR = re.compile(r"(?<=[0-9A-Za-z])[._/\u00a0\u2007\u202f](?=[0-9A-Za-z])")
_UNDERSCORE = re.compile(r"(?<=\d)_(?=[\d+(])")


_QUERY_VALUE = re.compile(r"(?<=[?&;])([\w.\[\]-]{1,64}=)([^&#\s'\"<>]*\+[^&#\s'\"<>]*)")


def _decoded(text: str) -> str:
    # in a query string "+" is a space: "q=card+4111+1111+..." is read as the words it encodes
    text = _QUERY_VALUE.sub(lambda m: m.group(1) + unquote_plus(m.group(2), errors="replace"), text)
    for _ in range(3):  # nested encodings, a bounded number of times
        before = text
        if _PERCENT.search(text):
            text = unquote(text, errors="replace")
        if _ENTITY.search(text):
            text = html.unescape(text)
        if text == before:
            break
    return text


def _replace_spans(text: str, spans) -> str:
    if not spans:
        return text
    out, pos = [], 0
    for span in spans:
        out += [text[pos:span.start], f"[{span.kind}]"]
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


class Scrubber:
    """Replaces personal data and secrets in a text. One instance can be shared between threads.

    The detectors are the redactor's (:mod:`agent_assist.assist.redact`), run over the text as
    written and over two readings of it: percent- and entity-decoded (``anna%40example.com``), and
    with dots, underscores and slashes between digits read as spaces (``4111.1111.1111.1111``).
    """

    def __init__(self) -> None:
        self._redactor = Redactor()
        # checksummed (or range-checked) kinds: safe to look for with any separator
        self._numbers = Redactor(kinds=(CARD, IBAN, PERSONNUMMER, SSN))

    def __call__(self, text: str) -> str:
        if not text:
            return text
        text = _decoded(text)
        for pattern, repl in _SECRET_PATTERNS:
            text = pattern.sub(repl, text)
        # personal data: typed placeholders ([EMAIL], [CARD], [IBAN], [PHONE], ...), no numbering
        text = _replace_spans(text, self._redactor.find(text))
        if _UNDERSCORE.search(text):
            text = _replace_spans(text, self._redactor.find(_UNDERSCORE.sub(" ", text)))
        if _ODD_SEPARATOR.search(text):
            text = _replace_spans(text, self._numbers.find(_ODD_SEPARATOR.sub("-", text)))
        text = _EMAIL.sub("[EMAIL]", text)
        return _DIGIT_RUN.sub("[NUMBER]", text)


class ScrubFilter(logging.Filter):
    """A handler filter that rewrites each record's message (and traceback) with :class:`Scrubber`.

    Records below ``min_level`` pass untouched (by default none are below it: every level is
    scrubbed). It never drops a record.
    """

    def __init__(self, min_level: int = logging.NOTSET, scrubber: Scrubber | None = None) -> None:
        super().__init__()
        self.min_level = min_level
        self.scrub = scrubber or Scrubber()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.min_level or getattr(record, "_agent_assist_scrubbed", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = f"{record.msg!r} (unformattable arguments)"
        record.msg = self.scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        record._agent_assist_scrubbed = True  # several handlers share the record: scrub once
        return True


def scrub(text: str) -> str:
    """The text with personal data and secrets replaced, as it would be logged."""
    return _default_scrubber()(text)


_SCRUBBER: Scrubber | None = None


def _default_scrubber() -> Scrubber:
    global _SCRUBBER
    if _SCRUBBER is None:
        _SCRUBBER = Scrubber()
    return _SCRUBBER


# -- set-up -----------------------------------------------------------------------------------
class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file (the first, and each one started by a rotation) is 0600,
    whatever the umask: the log names tickets and errors of customers' conversations."""

    def _open(self):
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self.baseFilename, flags, private_files.FILE_MODE)
        try:
            if private_files.applies():
                os.fchmod(fd, private_files.FILE_MODE)
            return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(fd)
            raise


def _secure_log_folder(log_dir: Path, path: Path, backup_count: int) -> None:
    private_files.private_dir(log_dir, label="log folder")
    for n in range(backup_count + 1):
        private_files.private_file(path if n == 0 else path.with_name(f"{path.name}.{n}"), label="log")


def setup_logging(level: int | str = logging.INFO, log_dir: Path | None = None, *, console: bool = True,
                  max_bytes: int = MAX_BYTES, backup_count: int = BACKUP_COUNT) -> Path:
    """Log to ``<log_dir>/agent-assist.log`` (rotated at ``max_bytes``, ``backup_count`` old files kept)
    and, with ``console``, to stderr; both scrubbed. Returns the log file's path.

    Calling it again replaces the handlers it installed before (and nothing else). When the log
    folder cannot be written, logging goes to stderr only and the intended path is still returned.
    """
    log_dir = Path(log_dir) if log_dir is not None else config.log_dir()
    path = log_dir / LOG_FILE
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_TAG, False):
            root.removeHandler(handler)
            handler.close()
    scrub_filter = ScrubFilter(scrubber=_default_scrubber())
    formatter = logging.Formatter(FORMAT)
    handlers: list[logging.Handler] = []
    try:
        _secure_log_folder(log_dir, path, backup_count)
        handlers.append(PrivateRotatingFileHandler(path, maxBytes=max_bytes, backupCount=backup_count,
                                                   encoding="utf-8", delay=True))
    except OSError as exc:
        print(f"agent-assist: cannot write logs to {log_dir} ({exc.strerror or exc}); logging to stderr only.",
              file=sys.stderr)
        console = True
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(scrub_filter)
        setattr(handler, _HANDLER_TAG, True)
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "openai", "urllib3"):  # their INFO/DEBUG carry URLs and headers
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return path


def log_uncaught_exceptions() -> None:
    """Send exceptions nobody caught (in the main thread, threads and Qt slots) to the log as well."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        if not issubclass(exc_type, KeyboardInterrupt):
            logging.getLogger("agent_assist").critical("uncaught exception", exc_info=(exc_type, exc, tb))
        previous(exc_type, exc, tb)

    sys.excepthook = hook


# -- diagnostics ------------------------------------------------------------------------------
def _frozen() -> str:
    if getattr(sys, "frozen", False):
        return f"bundle ({getattr(sys, '_MEIPASS', Path(sys.executable).parent)})"
    return "source / pip"


def _loaded_qt_versions() -> list[tuple[str, str]]:
    """Qt's versions when the UI already loaded it; the core never imports Qt itself."""
    out: list[tuple[str, str]] = []
    pyside = sys.modules.get("PySide6")
    if pyside is not None:
        out.append(("PySide6", str(getattr(pyside, "__version__", "?"))))
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is not None:
        out.append(("Qt (runtime)", str(qtcore.qVersion())))
    return out


def _privacy_fact(db_path: Path | str | None, store: Store | None) -> str:
    """Whether the data and log folders (and the database's folder) and their files are private."""
    folders = [("data folder", config.data_dir()), ("log folder", config.log_dir())]
    db = store.path if store is not None else (Path(db_path) if db_path is not None else None)
    if db is not None and Path(db).parent.resolve() not in {f.resolve() for _, f in folders}:
        for suffix in ("", *private_files.DB_COMPANIONS):
            companion = Path(db).with_name(Path(db).name + suffix)
            if companion.exists():
                folders.append((companion.name, companion))
    return private_files.describe(folders)


def diagnostics(db_path: Path | str | None = None, *, store: Store | None = None,
                extra: Mapping[str, str] | Iterable[tuple[str, str]] = (), db_reason: str | None = None) -> str:
    """Plain text for a bug report: versions, platform, paths, the database's schema and counts.

    ``extra`` adds lines (the UI passes Qt's versions and the platform plugin). No customer text,
    settings values or keys are ever included, and the whole text is scrubbed once more anyway.
    """
    facts: list[tuple[str, str]] = [
        (APP_NAME, __version__),
        ("Build", _frozen()),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})"),
    ]
    facts += _loaded_qt_versions()
    facts += list(extra.items() if isinstance(extra, Mapping) else extra)
    facts += [
        ("Platform", platform.platform()),
        ("Machine", platform.machine()),
        ("Locale", os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or "-"),
        ("Data folder", str(config.data_dir())),
        ("Config folder", str(config.config_dir())),
        ("Log folder", str(config.log_dir())),
        ("Privacy", _privacy_fact(db_path, store)),
    ]
    facts += store_diagnostics.sqlite_facts()
    facts += store_diagnostics.database_facts(Path(db_path) if db_path is not None else None, store, db_reason)
    width = max(len(k) for k, _ in facts) + 1
    seen: set[str] = set()
    lines = [f"{APP_NAME} diagnostics"]
    for key, value in facts:
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"{key + ':':<{width}} {value}")
    return scrub("\n".join(lines)) + "\n"
