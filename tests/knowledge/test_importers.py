"""Reading sources into records: each format, the help-centre export, and every kind of bad input."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path

import pytest

from agent_assist.knowledge.importers import (
    ArticleRecord,
    ImportCancelled,
    Skipped,
    decode_text,
    list_files,
    read_path,
)

FIXTURES = Path(__file__).parent / "fixtures"


def records(path: Path) -> list[ArticleRecord]:
    return [i for i in read_path(path) if isinstance(i, ArticleRecord)]


def skipped(path: Path) -> list[Skipped]:
    return [i for i in read_path(path) if isinstance(i, Skipped)]


def by_key(path: Path) -> dict[str, ArticleRecord]:
    return {r.key: r for r in records(path)}


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


# -- a folder of documents -------------------------------------------------------------------------
def test_folder_of_documents() -> None:
    root = FIXTURES / "kb_folder"
    recs = by_key(root)
    assert set(recs) == {"Payments/late-fees.md", "Payments/pay-early.md", "Refunds/refund-status.html",
                         "Refunds/closed-card.txt", "sv/Refunds/aterbetalning.md"}
    assert all(r.source == str(root.resolve()) for r in recs.values())
    assert [(s.path, s.reason) for s in skipped(root)] == [
        (str((root / "README.rst").resolve()), "not a supported type (.rst)")]


def test_markdown_front_matter_and_plain_text_body() -> None:
    late = by_key(FIXTURES / "kb_folder")["Payments/late-fees.md"]
    assert late.title == "How late fees work"
    assert (late.locale, late.section, late.url) == ("en", "Payments", "https://help.example.com/late-fees")
    assert late.updated_at == "2026-03-01T09:30:00Z"
    assert late.body_html is None
    assert late.body == (
        "If a payment fails we retry after three days. A late fee of up to 5 EUR applies only after the retry "
        "fails.\n\n"
        "You can avoid the fee by paying early in the app:\n\n"
        "- open the purchase\n- choose Pay now\n\n"
        "Fee | Amount\nLate fee | 5 EUR"
    )  # the repeated "# How late fees work" heading left the body; markup, links and table rules are gone


def test_markdown_title_from_heading_then_file_name(tmp_path: Path) -> None:
    recs = by_key(FIXTURES / "kb_folder")
    assert recs["Payments/pay-early.md"].title == "Paying early"
    assert recs["Payments/pay-early.md"].body.startswith("You can pay any instalment")
    assert recs["Payments/pay-early.md"].locale is None
    write(tmp_path / "kb" / "card-blocked_help.md", "Your card can be blocked after three wrong PINs.\n")
    write(tmp_path / "kb" / "setext.markdown", "Setext title\n============\n\nBody *here*.\n")
    recs = by_key(tmp_path / "kb")
    assert recs["card-blocked_help.md"].title == "Card blocked help"
    assert recs["card-blocked_help.md"].section is None  # top of the imported folder: no section
    assert (recs["setext.markdown"].title, recs["setext.markdown"].body) == ("Setext title", "Body here.")


def test_markdown_locale_from_folder_or_file_name(tmp_path: Path) -> None:
    recs = by_key(FIXTURES / "kb_folder")
    sv = recs["sv/Refunds/aterbetalning.md"]
    assert (sv.locale, sv.section, sv.title) == ("sv", "Refunds", "När får jag min återbetalning?")
    write(tmp_path / "kb" / "Faq" / "refunds.de.md", "# Rückerstattung\n\nDas Geld kommt in 5 Tagen.")
    write(tmp_path / "kb" / "Faq" / "refunds.md", "---\nlanguage: fr-FR\nsection: 'Remboursements'\n---\n"
                                                  "# Remboursement\n\nL'argent arrive en 5 jours.")
    recs = by_key(tmp_path / "kb")
    assert (recs["Faq/refunds.de.md"].locale, recs["Faq/refunds.de.md"].section) == ("de", "Faq")
    assert (recs["Faq/refunds.md"].locale, recs["Faq/refunds.md"].section) == ("fr-fr", "Remboursements")


def test_markdown_code_quotes_and_escapes(tmp_path: Path) -> None:
    md = ("# Codes\n\n> Quoted *advice*\n> over two lines\n\n```\nPIN  1234\n# not a heading\n```\n\n"
          "1. first\n2. second\n\nSnake_case_words stay, \\*stars\\* too & <span>html</span> &amp; entities.\n\n"
          "[ref]: https://example.com\n\n---\n\nAfter the rule ![logo](logo.png).")
    (rec,) = records(write(tmp_path / "codes.md", md))
    assert rec.key == "codes.md" and rec.section is None
    assert rec.body == ("Quoted advice over two lines\n\nPIN  1234\n# not a heading\n\n1. first\n2. second\n\n"
                        "Snake_case_words stay, *stars* too & html & entities.\n\nAfter the rule logo.")


def test_html_document(tmp_path: Path) -> None:
    rec = by_key(FIXTURES / "kb_folder")["Refunds/refund-status.html"]
    assert rec.title == "When will I get my refund?"  # the <h1>, not "... – Example Help Center"
    assert (rec.locale, rec.url) == ("en", "https://help.example.com/refund-status")
    assert rec.body == ("Refunds show within 5 business days after the merchant registers your return.\n\n"
                        "Check the purchase in the app to see the refund status.")
    assert rec.body_html is not None
    for gone in ("<script", "trackVisit", "onerror", "tracker.example.com", "<nav", "Home", "©", "<style"):
        assert gone not in rec.body_html and gone not in rec.body
    assert "<b>refund status</b>" in rec.body_html
    assert rec.body_html.count("<p>") == rec.body_html.count("</p>") == 2  # unclosed <p>s were closed


def test_broken_html_is_repaired(tmp_path: Path) -> None:
    write(tmp_path / "broken.htm", "<title>Card declined</title><h1>Ignored heading<p>Try <b>another <i>card"
                                   "<ul><li>one<li>two</div></span>")
    (rec,) = records(tmp_path / "broken.htm")
    assert rec.title == "Card declined"  # <title> when the <h1> is not part of it
    assert rec.body == "Ignored heading\n\nTry another card\n\n- one\n- two"
    assert rec.body_html.count("<li>") == rec.body_html.count("</li>") == 2
    assert rec.body_html.endswith("</ul></i></b></p></h1>") or "</ul>" in rec.body_html


def test_html_meta_charset(tmp_path: Path) -> None:
    page = '<html><head><meta charset="iso-8859-1"><title>Adresse ändern</title></head><body><p>Straße</p>'
    (rec,) = records(write(tmp_path / "adresse.html", page.encode("latin-1")))
    assert (rec.title, rec.body) == ("Adresse ändern", "Straße")
    assert rec.notes == ("adresse.html: decoded as iso8859-1 (declared by the page)",)


def test_plain_text(tmp_path: Path) -> None:
    rec = by_key(FIXTURES / "kb_folder")["Refunds/closed-card.txt"]
    assert rec.title == "Refund to a closed card"
    assert rec.body == ("If the card is closed the refund goes to your bank account instead.\n\n"
                        "It can take up to 10 business days.")
    write(tmp_path / "t.txt", "Only a title\n\n   \n")
    assert [(s.reason, s.key) for s in skipped(tmp_path / "t.txt")] == [("no text besides the title", "t.txt")]
    (crlf,) = records(write(tmp_path / "crlf.txt", b"Title\r\n=====\r\nLine one\r\nline two\r\n\r\nNext"))
    assert (crlf.title, crlf.body) == ("Title", "Line one\nline two\n\nNext")


# -- CSV -----------------------------------------------------------------------------------------------
def test_csv_aliases_semicolons_html_and_bad_rows() -> None:
    path = FIXTURES / "faq.csv"
    recs = by_key(path)
    assert set(recs) == {"101", "102"}
    email = recs["101"]
    assert (email.title, email.body, email.body_html) == (
        "How do I change my e-mail address?", "Open Settings and choose E-mail.", None)
    assert (email.locale, email.section, email.url, email.updated_at) == (
        "en-gb", "Account", "https://help.example.com/email", "2026-02-01T00:00:00Z")
    assert email.source == str(path.resolve())
    sv = recs["102"]
    assert sv.body == "Ja, du kan betala när som helst i appen.\n\nDet kostar inget extra."
    assert sv.body_html == "<p>Ja, du kan betala <b>när som helst</b> i appen.</p><p>Det kostar inget extra.</p>"
    assert (sv.locale, sv.section, sv.url, sv.updated_at) == ("sv", "Betalningar", None, "2026-02-03T10:00:00Z")
    assert [(s.item, s.reason, s.key, s.incomplete) for s in skipped(path)] == [
        ("row 4", "empty title", "103", False), ("row 5", "empty body", "104", False)]


def test_csv_missing_columns_names_what_it_found(tmp_path: Path) -> None:
    write(tmp_path / "export.csv", "Ticket,Subject,Status\n1,Refund,open\n")
    (skip,) = skipped(tmp_path / "export.csv")
    assert skip.reason == "no body column (found: Ticket, Subject, Status)"
    assert skip.incomplete  # its articles are unknown: a sync must not remove any
    write(tmp_path / "other.csv", "a,b\n1,2\n")
    assert skipped(tmp_path / "other.csv")[0].reason == "no title or body column (found: a, b)"


def test_csv_variants(tmp_path: Path) -> None:
    # Excel's UTF-8 with BOM, upper-case headers, quoted multi-line cells, no id column (the title is the key)
    content = ('\ufeffTITLE,CONTENT,Lang\r\n"Card, declined","Line one\r\n\r\nLine two",SV\r\n,,\r\n'
               '"Quote ""x""",Body,\r\n')
    recs = by_key(write(tmp_path / "kb.csv", content.encode("utf-8")))
    assert set(recs) == {"Card, declined", 'Quote "x"'}
    assert recs["Card, declined"].body == "Line one\n\nLine two"
    assert recs["Card, declined"].locale == "sv"
    assert skipped(tmp_path / "kb.csv") == []  # a blank row is no article and no problem
    write(tmp_path / "kb.tsv", "id\tname\ttext\nA\tTab title\tTab body\n")
    assert [(r.key, r.title, r.body) for r in records(tmp_path / "kb.tsv")] == [("A", "Tab title", "Tab body")]
    long_answer = "word " * 60_000  # over the csv module's default 128 KB field limit
    write(tmp_path / "long.csv", f"title,body\nLong,{long_answer}\n")
    assert len(records(tmp_path / "long.csv")[0].body) > 200_000


def test_csv_body_html_column_is_html_even_without_tags(tmp_path: Path) -> None:
    write(tmp_path / "kb.csv", "key,title,body_html\nk,T,Fish &amp; chips\n")
    (rec,) = records(tmp_path / "kb.csv")
    assert (rec.body, rec.body_html) == ("Fish & chips", "Fish &amp; chips")


# -- JSON ----------------------------------------------------------------------------------------------
def test_help_centre_export() -> None:
    path = FIXTURES / "helpcenter.json"
    recs = by_key(path)
    assert set(recs) == {"360001", "360002", "360003"}
    dispute = recs["360001"]
    assert dispute.title == "Disputing a purchase"
    assert dispute.body == ("Open the purchase and choose Report a problem.\n\n"
                            "We pause the payments while the merchant answers.")
    assert "<strong>Report a problem</strong>" in dispute.body_html
    assert (dispute.locale, dispute.section, dispute.url, dispute.updated_at) == (
        "en-us", "Disputes", "https://help.example.com/hc/en-us/articles/360001", "2026-01-15T08:00:00Z")
    assert recs["360002"].section == "Disputes" and recs["360002"].locale == "de"
    assert "script" not in recs["360002"].body_html and "alert" not in recs["360002"].body
    assert recs["360003"].section == "Cards"
    assert [(s.item, s.reason) for s in skipped(path)] == [("record 4", "a draft (not published)")]


def test_json_shapes(tmp_path: Path) -> None:
    article = {"id": 7, "title": "Seven", "body": "Plain body", "section_id": 3, "updated_at": 1767225600}
    write(tmp_path / "list.json", json.dumps([article, {"id": 8, "name": "Eight", "answer": "<p>Yes</p>"}]))
    recs = by_key(tmp_path / "list.json")
    assert (recs["7"].section, recs["7"].updated_at, recs["7"].body_html) == ("3", "2026-01-01T00:00:00Z", None)
    assert (recs["8"].title, recs["8"].body, recs["8"].body_html) == ("Eight", "Yes", "<p>Yes</p>")
    write(tmp_path / "one.json", json.dumps(article))
    assert [r.key for r in records(tmp_path / "one.json")] == ["7"]
    write(tmp_path / "data.json", json.dumps({"data": [article], "meta": {}}))
    assert [r.key for r in records(tmp_path / "data.json")] == ["7"]
    recs = by_key(FIXTURES / "articles.jsonl")
    assert (recs["gift-cards"].section, recs["gift-cards"].locale) == ("Payments", "en")
    assert (recs["store-credit"].title, recs["store-credit"].section) == ("Store credit", "Payments")
    # JSON Lines saved as .json
    write(tmp_path / "lines.json", json.dumps(article) + "\n" + json.dumps({**article, "id": 9}) + "\n")
    assert [r.key for r in records(tmp_path / "lines.json")] == ["7", "9"]


def test_invalid_json_says_where(tmp_path: Path) -> None:
    write(tmp_path / "bad.json", '{"articles": [\n  {"id": 1, "title": "x",\n   "body": oops}\n]}')
    (skip,) = skipped(tmp_path / "bad.json")
    assert skip.reason == "Not valid JSON at line 3, column 12 (Expecting value); nothing in it was imported."
    assert skip.incomplete
    write(tmp_path / "bad.jsonl", '{"id": 1, "title": "A", "body": "a"}\n{"id": 2, "title": \n'
                                  '{"id": 3, "title": "C", "body": "c"}\n')
    assert [r.key for r in records(tmp_path / "bad.jsonl")] == ["1", "3"]
    assert [(s.item, s.reason) for s in skipped(tmp_path / "bad.jsonl")] == [
        ("line 2", "Not valid JSON at column 20 (Expecting value).")]
    write(tmp_path / "scalar.json", "42")
    assert skipped(tmp_path / "scalar.json")[0].reason.startswith("No articles found: ")
    write(tmp_path / "mixed.json", json.dumps([{"title": "T", "body": "B"}, "text", {"title": "", "body": "B"}]))
    assert [(s.item, s.reason) for s in skipped(tmp_path / "mixed.json")] == [
        ("record 2", "not an article (a JSON str)"), ("record 3", "empty title")]
    assert [r.key for r in records(tmp_path / "mixed.json")] == ["T"]


# -- bad input -----------------------------------------------------------------------------------------
def test_encodings_are_detected_and_repaired(tmp_path: Path) -> None:
    sv = "# Återbetalning\n\nPengarna kommer inom fem bankdagar. Hälsningar, Åsa"
    write(tmp_path / "cp1252.md", sv.encode("cp1252"))
    write(tmp_path / "utf16.md", codecs.BOM_UTF16_LE + sv.encode("utf-16-le"))
    write(tmp_path / "utf8bom.md", codecs.BOM_UTF8 + sv.encode("utf-8"))
    write(tmp_path / "damaged.md", sv.encode("utf-8") + b" \xff trailing")
    recs = by_key(tmp_path)
    for key in ("cp1252.md", "utf16.md", "utf8bom.md"):
        assert recs[key].title == "Återbetalning", key
        assert recs[key].body == "Pengarna kommer inom fem bankdagar. Hälsningar, Åsa", key
    assert recs["cp1252.md"].notes == ("cp1252.md: decoded as windows-1252 (not UTF-8)",)
    assert recs["utf16.md"].notes == recs["utf8bom.md"].notes == ()
    assert recs["damaged.md"].body.endswith("Åsa \ufffd trailing")
    assert recs["damaged.md"].notes == ("damaged.md: 1 invalid UTF-8 byte sequence replaced",)
    de = "Rückerstattung für Ihre Bestellung: Sie erhalten das Geld in fünf Tagen."
    assert decode_text(de.encode("cp1252")) == (de, ("decoded as windows-1252 (not UTF-8)",))


def test_other_legacy_encodings_are_detected(tmp_path: Path) -> None:
    pytest.importorskip("charset_normalizer")
    ru = ("Возврат денег\n\n"
          "Деньги вернутся на вашу карту в течение пяти рабочих дней после возврата товара.")
    (rec,) = records(write(tmp_path / "ru.txt", ru.encode("cp1251")))
    assert (rec.title, rec.body) == ("Возврат денег", ru.split("\n\n")[1])
    assert rec.notes == ("ru.txt: decoded as cp1251 (not UTF-8)",)


def test_binary_empty_large_and_unknown_files(tmp_path: Path) -> None:
    write(tmp_path / "image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    write(tmp_path / "noise.md", bytes((i * 167 + 13) % 256 for i in range(4000)))
    write(tmp_path / "empty.md", b"")
    write(tmp_path / "blank.txt", "  \n\n\t\n")
    write(tmp_path / "slides.pptx", b"PK\x03\x04")
    write(tmp_path / "Makefile", "all:\n")
    huge = tmp_path / "huge.md"
    with huge.open("wb") as fh:  # sparse: 50 MB on paper, no time to write
        fh.truncate(50 * 2**20)
    reasons = {Path(s.path).name: (s.reason, s.key) for s in skipped(tmp_path)}
    assert reasons == {
        "image.md": ("binary file", "image.md"),
        "noise.md": ("binary file", "noise.md"),
        "empty.md": ("empty file", "empty.md"),
        "blank.txt": ("empty file", "blank.txt"),
        "slides.pptx": ("not a supported type (.pptx)", None),
        "Makefile": ("not a supported type (no extension)", None),
        "huge.md": ("too large (50.0 MB; limit 20 MB)", "huge.md"),
    }
    assert records(tmp_path) == []
    export = tmp_path / "exports" / "helpcenter.json"
    export.parent.mkdir()
    with export.open("wb") as fh:  # an export of many articles may be larger, up to 200 MB
        fh.truncate(250 * 2**20)
    assert [(s.reason, s.key, s.incomplete) for s in skipped(export.parent)] == [
        ("too large (250.0 MB; limit 200 MB)", None, True)]


def test_unreadable_file_and_missing_path(tmp_path: Path) -> None:
    assert [(s.reason, s.incomplete) for s in skipped(tmp_path / "nowhere")] == [("not found", True)]
    if os.geteuid() == 0:
        return  # root reads everything
    locked = write(tmp_path / "locked.md", "# T\n\nB")
    locked.chmod(0)
    try:
        assert skipped(tmp_path)[0].reason == "cannot be read (Permission denied)"
    finally:
        locked.chmod(0o644)


def test_hidden_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path / ".git" / "config.md", "# Not an article\n\nx")
    write(tmp_path / ".DS_Store", b"\x00\x01")
    write(tmp_path / "~$draft.md", "# Lock file\n\nx")
    write(tmp_path / "real.md", "# Real\n\nArticle")
    assert list_files(tmp_path) == [tmp_path / "real.md"]
    assert [r.key for r in records(tmp_path)] == ["real.md"]


def test_cancel_stops_the_walk(tmp_path: Path) -> None:
    for i in range(5):
        write(tmp_path / f"a{i}.md", f"# A{i}\n\nbody")
    asked = 0

    def cancel() -> bool:
        nonlocal asked
        asked += 1
        return asked > 3

    walk = read_path(tmp_path, cancel=cancel)
    got = [next(walk), next(walk), next(walk)]
    assert [r.key for r in got] == ["a0.md", "a1.md", "a2.md"]
    with pytest.raises(ImportCancelled):
        next(walk)
    rows = "title,body\n" + "".join(f"T{i},B{i}\n" for i in range(100))
    write(tmp_path / "csv" / "many.csv", rows)
    flag = {"stop": False}
    walk = read_path(tmp_path / "csv", cancel=lambda: flag["stop"])
    assert next(walk).key == "T0"
    flag["stop"] = True
    with pytest.raises(ImportCancelled):
        next(walk)
