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
_LOCAL_IMAGE = re.compile(r"^(data:image/(png|gif|jpe?g|webp);base64,|cid:)", re.I)


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src" and not _LOCAL_IMAGE.match(value.strip()):
        return None  # remote image: never loaded
    if attr == "href" and value.strip().lower().startswith(("data:", "cid:")):
        return None  # a link must not carry a document of its own
    return value


def sanitize_html(raw: str) -> str:
    """Return HTML safe to render: no scripts, no handlers, no remote resources."""
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


def html_to_text(raw: str) -> str:
    """A readable plain-text rendering of (untrusted) HTML, for search and prompts."""
    cleaned = nh3.clean(raw, tags={"p", "br", "div", "li", "tr", "h1", "h2", "h3"}, attributes={})
    cleaned = re.sub(r"\s*\n\s*", " ", cleaned)  # source line breaks are just spaces in HTML
    cleaned = re.sub(r"</(p|div|h[1-3])\s*>", "\n\n", cleaned, flags=re.I)
    cleaned = re.sub(r"<(br\s*/?|/li|/tr)\s*>", "\n", cleaned, flags=re.I)
    cleaned = re.sub(r"<[^>]+>", "", cleaned)
    text = html.unescape(cleaned)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
