"""Hostile HTML is simplified in one linear pass, and says so; lone surrogates become U+FFFD."""

from __future__ import annotations

import re

import nh3

from agent_assist.sanitize import (
    MAX_HTML_CHARS,
    MAX_HTML_DEPTH,
    NOTICE_TOO_DEEP,
    NOTICE_TOO_LARGE,
    clean_html,
    flatten_html,
    html_to_text,
    replace_lone_surrogates,
    sanitize_html,
)


def max_depth(html: str) -> int:
    """How deep the elements of (parser-normalised) HTML are nested."""
    depth = deepest = 0
    for closing, name in re.findall(r"<(/?)([a-z0-9]+)[^>]*>", nh3.clean(html, tags={"div", "span", "b", "p"})):
        if name in ("br", "img", "hr"):
            continue
        depth += -1 if closing else 1
        deepest = max(deepest, depth)
    return deepest


def test_deep_nesting_is_flattened_and_the_text_kept():
    raw = "<div>" * 100_000 + "Please refund order <b>1234</b>." + "</div>" * 100_000
    cleaned = clean_html(raw)
    assert cleaned.notice == NOTICE_TOO_DEEP
    assert "Please refund order 1234." in cleaned.html  # formatting that deep is what goes
    assert max_depth(cleaned.html) <= MAX_HTML_DEPTH + 1
    assert html_to_text(raw) == "Please refund order 1234."


def test_unclosed_and_mixed_nesting_is_bounded_too():
    for raw in ("<b>" * 50_000 + "x", "<div><span><b>" * 20_000 + "x", '<div title="<">' * 30_000 + "x",
                "<table><tr><td>" * 10_000 + "x"):
        cleaned = clean_html(raw)
        assert cleaned.notice == NOTICE_TOO_DEEP and "x" in cleaned.html
        assert max_depth(cleaned.html) <= MAX_HTML_DEPTH + 3


def test_tricks_that_hide_depth_from_a_naive_counter_are_caught():
    # an end tag that HTML ignores (across a table), a quote in an attribute name (not a delimiter),
    # misnested formatting (repaired by re-opening elements, so nothing is closed), <div/> (it opens)
    for raw in ("<div><table></div>" * 20_000 + "x", '<div a"><div>' * 20_000 + "x",
                "<b><div></b>" * 20_000 + "x", "<font><div><i></font>" * 20_000 + "x", "<div/>" * 20_000 + "x",
                '<div a="x>y"><span b=\'"\'>' * 20_000 + "x"):
        cleaned = clean_html(raw)
        assert cleaned.notice == NOTICE_TOO_DEEP and "x" in cleaned.html
        assert max_depth(cleaned.html) <= 2 * MAX_HTML_DEPTH


def test_formatting_that_html_would_reopen_quadratically_is_capped():
    # each <p> makes the parser re-open every <i> still listed as open: 80 KB would become 150 MB
    raw = "".join(f'<i title="{k}"><p>x' for k in range(4_000))
    cleaned = clean_html(raw)
    assert cleaned.notice == NOTICE_TOO_DEEP
    assert cleaned.html.count("x") == 4_000 and len(cleaned.html) < 20 * len(raw)


def test_messy_but_ordinary_mail_html_keeps_its_formatting():
    for doc in ("<div><font face=Arial>x</div>" * 500, "<p><font color=red>x</p>" * 500,
                "<p class=MsoNormal><span style='x'>text<o:p></o:p></span></p>" * 2_000,
                "<table>" + "<tr><td><span>x</td><td><b>y</td></tr>" * 1_000 + "</table>",
                "<table><tr><td><table><tr><td><span>x</td></tr></table></td></tr></table>" * 300,
                "<div><b>x</div>" * 500, '<p><a href="https://x.example/1">link</a> text</p>' * 1_000):
        assert flatten_html(doc) == (doc, False)


def test_ordinary_html_is_not_touched_by_the_flattening():
    siblings = "<ul>" + "<li>item" * 5_000 + "</ul>" + "<p>para" * 5_000 + "<br>" * 1_000
    assert flatten_html(siblings) == (siblings, False)
    table = "<table>" + "<tr><td>a</td><td>b</td></tr>" * 3_000 + "</table>"
    assert flatten_html(table) == (table, False)
    nested = "<div>" * MAX_HTML_DEPTH + "deep enough" + "</div>" * MAX_HTML_DEPTH
    assert flatten_html(nested) == (nested, False)
    assert clean_html("<p>Hi <b>there</b></p>").notice is None


def test_quoted_markup_in_attributes_is_not_read_as_tags():
    raw = '<div title="a > b <div>">' * 200 + "text" + "</div>" * 200
    flat, changed = flatten_html(raw)
    assert changed and flat.count('title="a > b <div>"') == MAX_HTML_DEPTH


def test_an_unfinished_tag_ends_the_markup():
    raw = "<div>" * 300 + "text <a href='never closed"
    flat, changed = flatten_html(raw)
    assert changed and flat.endswith("text <a href='never closed")


def test_too_large_html_is_shown_as_text_with_a_notice():
    raw = "<p>" + "word " * (MAX_HTML_CHARS // 5) + "<script>x()</script></p>"
    cleaned = clean_html(raw)
    assert cleaned.html is None and cleaned.notice == NOTICE_TOO_LARGE
    shown = sanitize_html(raw)
    assert shown.startswith("<p>word word") and "script" not in shown


def test_html_to_text_with_a_megabyte_of_white_space():
    assert html_to_text("<p>a" + " " * 1_000_000 + "b</p>") == "a b"
    assert html_to_text("<p>a \n \t b</p><p>c</p>") == "a b\n\nc"


def test_lone_surrogates_are_replaced_and_pairs_joined():
    assert replace_lone_surrogates("plain") == ("plain", False)
    assert replace_lone_surrogates("a\ud83d\ude00b") == ("a\U0001f600b", False)
    assert replace_lone_surrogates("x\ud800y\udfffz") == ("x\ufffdy\ufffdz", True)
    assert replace_lone_surrogates("already \ufffd and \udc80") == ("already \ufffd and \ufffd", True)
