"""Links that are not what they say: a text naming another site, a hidden address, look-alike letters."""

from __future__ import annotations

import pytest

from agent_assist.links import domain_in_text, link_warning, registrable


@pytest.mark.parametrize(("href", "text", "says"), [
    ("https://paypa1-login.net/x", "paypal.com", "its text says paypal.com but it leads to paypa1-login.net"),
    ("https://paypal.com.account-check.net/", "https://paypal.com", "but it leads to paypal.com.account-check.net"),
    ("https://evil.co.uk/", "www.example.co.uk", "its text says www.example.co.uk but it leads to evil.co.uk"),
    ("https://t.co/abc", "https://www.lumopay.se/konto", "its text says www.lumopay.se but it leads to t.co"),
    ("https://paypal.com@evil.example/login", "Log in", "hides its real address behind “paypal.com@”"),
    ("https://xn--pypal-4ve.com/", "pаypal.com", "letters of other alphabets (pаypal.com, really xn--pypal-4ve.com)"),
    ("https://xn--80ak6aa92e.com/", "Apple ID", "really xn--80ak6aa92e.com"),  # all-Cyrillic "аррӏе"
    ("http://192.168.1.5/login", "Your bank", "a bare IP address (192.168.1.5)"),
    ("mailto:support@lumopay-help.net", "support@lumopay.se", "its text says lumopay.se but it leads to lumopay-help.net"),
    ("https://bänk-login.com/", "bank.com", "its text says bank.com but it leads to bänk-login.com"),
])
def test_misleading_links_get_one_sentence(href: str, text: str, says: str) -> None:
    warning = link_warning(href, text)
    assert warning is not None and says in warning, warning
    assert warning.startswith("⚠ This link may not be what it seems: ") and warning.endswith(".")


@pytest.mark.parametrize(("href", "text"), [
    ("https://www.paypal.com/signin", "paypal.com"),
    ("https://help.example.co.uk/a", "www.example.co.uk"),
    ("https://example.com/refund", "Click here to see your refund"),
    ("https://example.com/refund", "See e.g. the file.txt of v1.2"),
    ("https://bücher.de/", "bücher.de"),  # an international name in one alphabet is what it looks like
    ("https://пример.рф/", "пример.рф"),
    ("mailto:anna@example.se", "Anna Lindqvist"),
    ("https://Example.COM/x", "example.com"),
    ("javascript:alert(1)", "paypal.com"),  # not a web link: never opened anyway
    ("", ""),
])
def test_honest_links_get_none(href: str, text: str) -> None:
    assert link_warning(href, text) is None


def test_domains_are_compared_by_what_was_registered() -> None:
    assert registrable("help.example.co.uk") == registrable("www.example.co.uk") == "example.co.uk"
    assert registrable("a.github.io") != registrable("b.github.io")  # separate sites on a shared suffix
    assert domain_in_text("Visit https://www.Example.com/help now") == "www.Example.com"
    assert domain_in_text("version 2.14.3, file.txt, e.g. this") is None
