"""Customer HTML is untrusted: keep formatting, drop everything active or remote."""

from __future__ import annotations

import re

import pytest

from agent_assist.sanitize import html_to_text, sanitize_html, text_to_html

PNG_DATA = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
            "60e6kgAAAABJRU5ErkJggg==")


def tags_in(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*([a-zA-Z0-9]+)", html)}


# -- sanitize_html: what goes ------------------------------------------------------------------
@pytest.mark.parametrize("raw,gone", [
    ("<p>hi</p><script>alert('x')</script>", ["<script", "alert"]),
    ("<p>hi</p><SCRIPT type='text/javascript'>steal()</SCRIPT>", ["script", "steal"]),
    ("<style>p { display:none }</style><p>hi</p>", ["<style", "display"]),
    ("<p>hi</p><iframe src='https://evil.example/'></iframe>", ["iframe", "evil.example"]),
    ("<form action='https://evil.example/post'><input name='pw'><button>Go</button></form><p>hi</p>",
     ["<form", "<input", "<button", "evil.example"]),
    ("<p onclick='steal()'>hi</p>", ["onclick", "steal"]),
    ("<p ONMOUSEOVER=\"steal()\">hi</p>", ["onmouseover", "steal"]),
    ("<img src='cid:x' onerror='steal()'><p>hi</p>", ["onerror", "steal"]),
    ("<body onload='steal()'><p>hi</p></body>", ["onload", "steal", "<body"]),
    ("<svg onload='steal()'><circle r='1'/></svg><p>hi</p>", ["svg", "steal"]),
    ("<a href='javascript:alert(1)'>hi</a>", ["javascript", "alert"]),
    ("<a href='JaVaScRiPt:alert(1)'>hi</a>", ["javascript", "alert"]),
    ("<a href=' javascript:alert(1)'>hi</a>", ["javascript", "alert"]),
    ("<a href='vbscript:msgbox(1)'>hi</a>", ["vbscript"]),
    ("<object data='x.swf'></object><embed src='x.swf'><p>hi</p>", ["object", "embed", "swf"]),
    ("<link rel='stylesheet' href='https://evil.example/s.css'><p>hi</p>", ["<link", "evil.example"]),
    ("<meta http-equiv='refresh' content='0;url=https://evil.example'><p>hi</p>", ["<meta", "evil.example"]),
    ("<p style='background:url(https://tracker.example/p.gif)'>hi</p>", ["style", "tracker.example"]),
    ("<base href='https://evil.example/'><p>hi</p>", ["<base", "evil.example"]),
    ("<!-- secret comment --><p>hi</p>", ["secret", "<!--"]),
])
def test_active_content_is_removed(raw: str, gone: list[str]) -> None:
    out = sanitize_html(raw)
    for piece in gone:
        assert piece.lower() not in out.lower(), (piece, out)
    assert "hi" in out


@pytest.mark.parametrize("src", [
    "https://tracker.example.com/pixel.gif",
    "http://tracker.example.com/pixel.gif",
    "//tracker.example.com/pixel.gif",
    "HTTPS://TRACKER.EXAMPLE.COM/PIXEL.GIF",
    "  https://tracker.example.com/pixel.gif",
    "/relative/pixel.gif",
    "pixel.gif",
    "ftp://tracker.example.com/pixel.gif",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "javascript:alert(1)",
])
def test_remote_and_unsafe_images_are_dropped(src: str) -> None:
    out = sanitize_html(f'<p>before<img src="{src}" alt="logo" width="1">after</p>')
    assert "<img" not in out
    assert "tracker" not in out.lower()
    assert out == "<p>beforeafter</p>"


@pytest.mark.parametrize("src", [
    PNG_DATA,
    "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
    "data:image/jpeg;base64,/9j/4AAQSkZJRg==",
    "data:image/webp;base64,UklGRg==",
    "cid:logo@example.com",
    "CID:part1.06090408@example.com",
])
def test_inline_images_are_kept(src: str) -> None:
    out = sanitize_html(f'<p><img src="{src}" alt="logo" width="10" height="12"></p>')
    assert "<img" in out
    assert f'src="{src}"' in out
    assert 'alt="logo"' in out and 'width="10"' in out and 'height="12"' in out


def test_links_keep_their_text_and_safe_targets() -> None:
    out = sanitize_html('<a href="https://help.example.com/refunds" title="Help" target="_blank">Help</a> '
                        '<a href="mailto:support@example.com">mail us</a>')
    assert 'href="https://help.example.com/refunds"' in out
    assert 'href="mailto:support@example.com"' in out
    assert "Help</a>" in out and "mail us</a>" in out
    assert 'rel="noopener noreferrer nofollow"' in out
    assert "target" not in out


@pytest.mark.parametrize("href", [
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:text/html,<script>alert(1)</script>",
    "data:image/svg+xml,<svg onload=alert(1)>",
])
def test_links_to_data_urls_are_dropped(href: str) -> None:
    # data: is allowed for <img> (inline pictures) but a link to a data: document is a script-injection vector
    out = sanitize_html(f'<a href="{href}">open me</a>')
    assert "data:" not in out
    assert "open me" in out


def test_formatting_is_kept() -> None:
    raw = ("<h2>Order</h2><p>Hello <b>bold</b> <strong>strong</strong> <i>it</i> <em>em</em> <u>u</u></p>"
           "<ul><li>one</li><li>two</li></ul><ol><li>first</li></ol><blockquote>quoted</blockquote>"
           "<table><tr><td colspan='2'>cell</td></tr></table><pre>code  spaced</pre><br><hr>")
    out = sanitize_html(raw)
    for tag in ("h2", "p", "b", "strong", "i", "em", "u", "ul", "li", "ol", "blockquote", "table", "td", "pre",
                "br", "hr"):
        assert tag in tags_in(out), tag
    assert 'colspan="2"' in out
    assert "code  spaced" in out


def test_unknown_tags_are_unwrapped_not_lost() -> None:
    out = sanitize_html("<custom-tag>kept text</custom-tag><font color='red'>red</font><center>c</center>")
    assert "kept text" in out and "red" in out and "c" in out
    assert tags_in(out) == set()


def test_output_is_stable() -> None:
    raw = "<p onclick='x()'>Hi <b>there</b><img src='https://t.example/p.gif'><img src='cid:a'></p>"
    once = sanitize_html(raw)
    assert sanitize_html(once) == once


def test_plain_text_passes_through_escaped() -> None:
    assert sanitize_html("1 < 2 & 3 > 2") == "1 &lt; 2 &amp; 3 &gt; 2"
    assert sanitize_html("") == ""


# -- text_to_html ----------------------------------------------------------------------------------
def test_text_to_html_escapes() -> None:
    out = text_to_html('if a < b && c > d then "quote" <script>alert(1)</script>')
    assert "<script>" not in out
    assert "&lt;script&gt;" in out
    assert "a &lt; b &amp;&amp; c &gt; d" in out
    assert tags_in(out) == {"p"}


def test_text_to_html_keeps_paragraphs_and_line_breaks() -> None:
    text = "Hi Tom,\n\nYour refund is on its way.\nIt takes 5 days.\n\n\n   \nKind regards,\nAlex\n"
    assert text_to_html(text) == ("<p>Hi Tom,</p><p>Your refund is on its way.<br>It takes 5 days.</p>"
                                  "<p>Kind regards,<br>Alex</p>")


def test_text_to_html_of_nothing() -> None:
    assert text_to_html("") == ""
    assert text_to_html("  \n\n \n") == ""


# -- html_to_text ----------------------------------------------------------------------------------
def test_html_to_text_basics() -> None:
    raw = ("<div>Hello&nbsp;<b>Tom</b>,</div><p>Line one<br>Line two</p>"
           "<ul><li>first</li><li>second</li></ul>"
           "<p>5 &lt; 6 &amp; &quot;quoted&quot; &#229;</p>")
    text = html_to_text(raw)
    assert "<" not in text.replace("5 < 6", "")
    assert "Hello\xa0Tom," in text or "Hello Tom," in text
    assert "Line one\nLine two" in text
    assert "first\nsecond" in text
    assert '5 < 6 & "quoted" å' in text
    assert text == text.strip()


def test_html_to_text_drops_script_and_style_content() -> None:
    text = html_to_text("<style>p{color:red}</style><p>Visible</p><script>var secret = 1;</script>")
    assert text == "Visible"


def test_html_to_text_collapses_whitespace() -> None:
    text = html_to_text("<p>a    lot\t\tof   space</p>\n\n\n\n<p>next</p>")
    assert "a lot of space" in text
    assert "\n\n\n" not in text


def test_html_to_text_keeps_paragraphs_apart() -> None:
    # paragraphs stay paragraphs (a blank line), however the HTML source happens to be laid out
    assert html_to_text("<p>First paragraph.</p><p>Second paragraph.</p>") == "First paragraph.\n\nSecond paragraph."
    assert html_to_text("<p>First paragraph.</p>\n<p>Second paragraph.</p>") == \
        "First paragraph.\n\nSecond paragraph."


def test_text_round_trips_through_html() -> None:
    text = "Hi Tom,\n\nYour refund <5 days> & more.\nSecond line.\n\nKind regards,\nAlex"
    assert html_to_text(text_to_html(text)) == text
