"""The log scrubber over hostile spellings and the whole redaction corpus: nothing leaks."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus

import pytest

from agent_assist.logs import scrub
from tests.assist.redaction_corpus import CORPUS


@pytest.mark.parametrize(("line", "secret"), [
    ("card 4111.1111.1111.1111 declined", "4111.1111.1111.1111"),
    ("card 4111_1111_1111_1111 declined", "4111_1111_1111_1111"),
    ("iban GB29.NWBK.6016.1331.9268.19", "GB29.NWBK.6016.1331.9268.19"),
    ("mail to anna%40example.com failed", "anna"),
    ("mailto:anna%2Elind%40example%2Ese", "anna"),
    ("reply to anna%2540example.com (twice encoded)", "anna"),
    ("from anna&#64;example.com", "anna"),
    ("GET https://u:sk-proj-Zq3XbT9uKc2LmN8pQr4sVw6yA1bC@api.example.com/v1/models", "Zq3XbT9uKc2LmN8"),
    ("connect https://agent:hunter2-is-my-password@proxy.example.com:8080/v1", "hunter2"),
    ("POST https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-06-01"
     "&api-key=0123456789abcdef0123456789abcdef", "0123456789abcdef"),
    ("GET https://llm.example.com/v1?key=AIzaSyD-abcdefghijklmnop&alt=json", "AIzaSyD"),
    ("GET https://blob.example.net/kb.json?sv=2024&sig=Zm9vYmFyYmF6cXV4%2Bsecret", "Zm9vYmFy"),
    ("search https://shop.example/s?q=card+4111+1111+1111+1111&page=2", "4111"),
])
def test_hostile_spellings_are_scrubbed(line: str, secret: str) -> None:
    out = scrub(line)
    assert secret not in out, out


def test_ordinary_lines_stay_readable() -> None:
    for line in ("version 2.14.3 at 127.0.0.1:8080 on 2026-11-25 12:00:01.250",
                 "GET https://api.example.com/v1/models?api-version=2024-06-01 200",
                 "imported 10.100.200.150 articles_2026_11.json in 1.5 s",
                 "50% done, 5 of 10 files"):
        assert scrub(line) == line


def _variants(text: str) -> dict[str, str]:
    """The corpus text as it may reach a log: as typed, in a URL, in JSON or a repr, other separators."""
    return {
        "plain": text,
        "percent-encoded": quote(text),
        "query string": "GET https://help.example/search?q=" + quote_plus(text) + "&page=1",
        "json": json.dumps({"body": text}),
        "repr": repr({"body": text}),
        "dots": re.sub(r"(?<=\d)[ -](?=\d)", ".", text),
        "underscores": re.sub(r"(?<=\d)[ -](?=\d)", "_", text),
    }


def test_the_redaction_corpus_leaks_nothing_through_the_scrubber(record_property) -> None:
    leaks: list[str] = []
    checked = 0
    for case in CORPUS:
        for name, text in _variants(case.text).items():
            out = scrub(text)
            out_digits = "|".join(re.sub(r"\D", "", w) for w in re.split(r"\[[A-Z_]+\]|\s", out))
            for kind, secret in case.secrets:
                checked += 1
                digits = re.sub(r"\D", "", secret)
                if any(form in out for form in (secret, quote(secret), quote_plus(secret))) or (
                        kind != "EMAIL" and len(digits) >= 7 and digits in out_digits):
                    leaks.append(f"{name}: {kind} {secret!r} in {out!r}")
    record_property("scrubber_corpus", f"{checked} secrets x spellings, {len(leaks)} leaks")
    assert checked > 1000
    assert leaks == []
