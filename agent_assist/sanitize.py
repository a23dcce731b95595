"""Customer HTML is untrusted: keep the formatting, drop everything active or remote.

Uses nh3 (the Ammonia sanitizer). Scripts, styles, forms, event handlers and
iframes go; images survive only when they are inline ``data:`` or ``cid:``
references, so nothing is fetched from the network to show a message (no
tracking pixels). Links stay as text the agent can read but the app never
follows on its own.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import nh3

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
MAX_HTML_DEPTH = 100  # deeper elements are flattened: html5ever's tree building is quadratic in depth
MAX_HTML_CHARS = 2_000_000  # larger HTML is shown as text only
NOTICE_TOO_DEEP = ("This message's formatting was simplified: it was nested too deeply "
                   f"(more than {MAX_HTML_DEPTH} levels) to show safely.")
NOTICE_TOO_LARGE = ("This message's formatting was simplified: it was too large "
                    f"(more than {MAX_HTML_CHARS // 1_000_000} million characters of HTML); it is shown as text.")
NOTICE_BAD_CHARACTERS = "Some characters of this message could not be read and are shown as \ufffd."
_LOCAL_IMAGE = re.compile(r"^(data:image/(png|gif|jpe?g|webp);base64,|cid:)", re.I)


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src" and not _LOCAL_IMAGE.match(value.strip()):
        return None  # remote image: never loaded
    if attr == "href" and value.strip().lower().startswith(("data:", "cid:")):
        return None  # a link must not carry a document of its own
    return value


# -- linear pre-processing ---------------------------------------------------------------
_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_lone_surrogates(text: str) -> tuple[str, bool]:
    """Text that can be stored (UTF-8): a lone surrogate (UTF-7 mail, a bad decoder) becomes U+FFFD.

    Two surrogates that form a pair are joined into the character they stand for. Returns the
    text and whether anything had to be replaced.
    """
    if not _SURROGATE.search(text):
        return text, False
    fixed = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return fixed, fixed.count("\ufffd") > text.count("\ufffd")


_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
                   "source", "track", "wbr", "frame", "basefont", "bgsound", "image"})
_SIBLINGS_CLOSE = {"p": ("p",), "li": ("li",), "dt": ("dt", "dd"), "dd": ("dt", "dd"), "tr": ("tr", "td", "th"),
                   "td": ("td", "th"), "th": ("td", "th"), "option": ("option",)}
_TAG_START = re.compile(r"<(/?)([A-Za-z][^\s/<>]*)")
# the rest of a tag, one attribute value at a time: a quote delimits only a value (after "="), as in HTML
_TAG_REST = re.compile(r"""[^>=]*+(?:(>)|=\s*+(?:"[^"]*+"|'[^']*+'|(["'])|))""")
# The depth is counted conservatively: it may overstate what a parser builds, never understate it.
# An end tag closes the innermost element of its name. Only the end tags of block containers also
# close what was left open inside them (<div><span></div>), and only within reach: never across a
# scope boundary, never deeper than _CLOSE_REACH levels. Any other end tag that does not match the
# innermost element is ignored: HTML ignores some (</tr> outside a table, </form>), and repairs
# misnested formatting (<b><div></b>) by re-opening elements rather than closing them.
_BLOCK_CLOSE = frozenset({"p", "div", "ul", "ol", "dl", "li", "dd", "dt", "blockquote", "pre", "center", "section",
                          "article", "aside", "header", "footer", "nav", "main", "address", "details", "fieldset",
                          "figure", "figcaption", "menu", "summary", "h1", "h2", "h3", "h4", "h5", "h6",
                          "table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption"})
_SCOPE = frozenset({"table", "td", "th", "caption", "html", "template", "applet", "object", "marquee", "button",
                    "select", "svg", "math", "foreignobject", "desc", "title", "mi", "mo", "mn", "ms", "mtext",
                    "annotation-xml"})
_CLOSE_REACH = 16
_FORMATTING = frozenset({"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong",
                         "tt", "u"})
# start tags that close an open <p> first (as HTML does), and the elements a </p> cannot reach across
_CLOSES_P = frozenset({"address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
                       "dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu",
                       "nav", "ol", "p", "section", "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
                       "listing", "form", "table", "hr", "xmp", "plaintext", "li", "dd", "dt"})
_TABLE_PARTS = frozenset({"tbody", "thead", "tfoot", "tr", "td", "th", "caption", "col", "colgroup"})


def _tag_end(raw: str, i: int) -> int:
    """Where the tag whose name ends at ``i`` ends (after its ``>``); -1 when it never does."""
    match = _TAG_REST.match
    while True:
        m = match(raw, i)
        if m is None or m.group(2):  # the text ends inside the tag, or in a value whose quote never closes
            return -1
        if m.group(1):
            return m.end()
        i = m.end()


MAX_FORMATTING = 12  # formatting elements (b, i, font...) open at once; more are unwrapped
_SAME_FORMATTING = 3  # how many identical ones HTML re-opens after a block closes ("Noah's Ark")


class _Depth:
    """The open elements as an HTML parser would have them, approximately (see flatten_html)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.keys: list[str | None] = []  # a formatting element's tag text (name and attributes), else None
        self.tables = 0
        self.formatting = 0
        self.same: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.names)

    def push(self, name: str, key: str | None) -> None:
        self.names.append(name)
        self.keys.append(key)
        self.tables += name == "table"
        if key is not None:
            self.formatting += 1
            self.same[key] = self.same.get(key, 0) + 1

    def pop_to(self, k: int, *, reopen: bool = True) -> None:
        """Close elements k.. ; formatting elements among them are re-opened, as HTML does."""
        names, keys = self.names[k:], self.keys[k:]
        del self.names[k:], self.keys[k:]
        self.tables -= names.count("table")
        for key in keys:
            if key is not None:
                self.formatting -= 1
                self.same[key] -= 1
        if reopen:
            for name, key in zip(names, keys):
                if key is not None and self.same.get(key, 0) < _SAME_FORMATTING:
                    self.push(name, key)

    def close(self, name: str) -> None:
        """An end tag: the innermost ``name`` within reach closes (and what is open inside it)."""
        names = self.names
        for k in range(len(names) - 1, max(-1, len(names) - 1 - _CLOSE_REACH), -1):
            if names[k] == name:
                self.pop_to(k)
                return
            if names[k] in _SCOPE or (name == "li" and names[k] in ("ul", "ol")):
                return  # no further: HTML's scope (</li> reaches no further than its list)


def flatten_html(raw: str, max_depth: int = MAX_HTML_DEPTH) -> tuple[str, bool]:
    """The HTML with elements nested deeper than ``max_depth`` unwrapped (their text is kept), and
    formatting elements beyond :data:`MAX_FORMATTING` open at once too.

    One pass over the text, quoted attribute values respected; returns (html, whether it changed).
    An approximation of HTML's tree building that may overstate the depth a parser reaches but
    never understates it, including the elements HTML re-opens by itself after misnested
    formatting (``<i title=1><p>x<i title=2><p>x…`` would otherwise make the parser build a
    quadratic number of elements). Not a sanitizer: the result still goes through nh3.
    """
    if raw.count("<") <= min(max_depth, MAX_FORMATTING):
        return raw, False  # cannot be that deep: the common case costs one count
    out: list[str] = []
    open_ = _Depth()
    dropped: dict[str, int] = {}
    changed = False
    pos = 0  # everything before pos is decided
    search = _TAG_START.search
    i = 0
    while True:
        m = search(raw, i)
        if m is None:
            break
        end = _tag_end(raw, m.end())
        if end < 0:
            break  # an unfinished tag runs to the end: nothing after it is markup
        closing, name = m.group(1) == "/", m.group(2).lower()
        i = end
        names = open_.names
        if closing:
            if dropped.get(name):
                dropped[name] -= 1
                out.append(raw[pos:m.start()])
                pos = end
                changed = True
            elif names and names[-1] == name:
                open_.pop_to(len(names) - 1, reopen=False)
            elif name in _BLOCK_CLOSE:
                open_.close(name)
            continue
        if name in _VOID or (name in _TABLE_PARTS and not open_.tables):
            continue  # nothing opens (a table part outside a table is ignored by HTML; <div/> does open)
        if name in _CLOSES_P and "p" in names[-_CLOSE_REACH:]:
            open_.close("p")
        closes = _SIBLINGS_CLOSE.get(name)
        if closes and names and names[-1] in closes:
            open_.pop_to(len(names) - 1, reopen=False)
        key = None
        if name in _FORMATTING:
            key = name + " " + " ".join(raw[m.end():end - 1].split())
        if len(open_) >= max_depth or (key is not None and open_.formatting >= MAX_FORMATTING):
            dropped[name] = dropped.get(name, 0) + 1
            out.append(raw[pos:m.start()])
            pos = end
            changed = True
            continue
        open_.push(name, key)
    if not changed:
        return raw, False
    out.append(raw[pos:])
    return "".join(out), True


@dataclass(frozen=True)
class CleanHtml:
    html: str | None  # safe to render; None when only the text should be shown
    notice: str | None = None  # what was simplified, for the agent (shown with the message)


def clean_html(raw: str) -> CleanHtml:
    """Sanitize customer HTML in time linear in its size, saying what had to be simplified."""
    if len(raw) > MAX_HTML_CHARS:
        return CleanHtml(None, NOTICE_TOO_LARGE)
    flat, deep = flatten_html(raw)
    return CleanHtml(_clean(flat), NOTICE_TOO_DEEP if deep else None)


def sanitize_html(raw: str) -> str:
    """Return HTML safe to render: no scripts, no handlers, no remote resources.

    Too deep or too large HTML is simplified (see :func:`clean_html`, which also says so).
    """
    cleaned = clean_html(raw)
    return cleaned.html if cleaned.html is not None else text_to_html(html_to_text(raw))


def _clean(raw: str) -> str:
    cleaned = nh3.clean(
        raw,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "data", "cid"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_attribute_filter,
        strip_comments=True,
    )
    # an <img> that lost its src is just noise
    return re.sub(r"<img(?![^>]*\bsrc=)[^>]*>", "", cleaned)


def text_to_html(text: str) -> str:
    """Plain text shown as HTML: escaped, paragraphs and line breaks kept."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "".join(
        "<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs if p.strip()
    )


_SPACE_RUN = re.compile(r"\s+")


def html_to_text(raw: str) -> str:
    """A readable plain-text rendering of (untrusted) HTML, for search and prompts."""
    flat, _ = flatten_html(raw)
    cleaned = nh3.clean(flat, tags={"p", "br", "div", "li", "tr", "h1", "h2", "h3"}, attributes={})
    # source line breaks are just spaces in HTML (one match per run of white space: linear)
    cleaned = _SPACE_RUN.sub(lambda m: " " if "\n" in m.group() else m.group(), cleaned)
    cleaned = re.sub(r"</(p|div|h[1-3])\s*>", "\n\n", cleaned, flags=re.I)
    cleaned = re.sub(r"<(br\s*/?|/li|/tr)\s*>", "\n", cleaned, flags=re.I)
    cleaned = re.sub(r"<[^>]+>", "", cleaned)
    text = html.unescape(cleaned)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# -- names on screen and in terminals ----------------------------------------------------
# Unicode's bidirectional controls (marks, embeddings, overrides, isolates): in a name they only serve to
# disguise it ("invoice\u202efdp.exe" shows as "invoiceexe.pdf"). Joiners (U+200C/D) are not among them:
# Persian and Indic names need them.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
BIDI_CONTROLS = re.compile(f"[{_BIDI}]")
# what a terminal or a label would act on instead of show: C0/C1 controls, DEL, line and paragraph
# separators, bidi controls, lone surrogates
_UNSHOWABLE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")


def strip_bidi(text: str) -> str:
    """``text`` without bidirectional control characters (for names that are stored or saved)."""
    return BIDI_CONTROLS.sub("", text)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode's control pictures: "\n" -> "␊", "\t" -> "␉"
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def shown_name(text: str) -> str:
    """``text`` (a file name, a path, a title) safe to print or show: nothing in it moves the cursor,
    breaks the line, or reorders what follows; each such character is shown as a visible stand-in
    ("\\n" as "␊", U+202E as "<U+202E>"). Everything else, any script, is left as it is."""
    return _UNSHOWABLE.sub(_visible, text)
