"""Links in customer messages that are not what they say.

A phishing mail shows one address and links to another: ``<a href="https://paypa1-login.net">
paypal.com</a>``, ``https://paypal.com@evil.example/``, a name spelt with Cyrillic letters
(``xn--pypal-4ve.com`` shows as ``pаypal.com``), or a bare IP address. :func:`link_warning` says so
in one sentence, for the agent to read when hovering over or clicking a link; it never blocks one.

Domains are compared by what can be registered (the Public Suffix List, bundled with the
``publicsuffixlist`` package, so no network is needed): ``help.example.co.uk`` and
``www.example.co.uk`` belong together, ``example.co.uk`` and ``evil.co.uk`` do not.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache
from urllib.parse import unquote, urlsplit

# a domain written in a link's text: "paypal.com", "www.paypal.com/login", "https://paypal.com",
# "anna@example.se"; labels may be international ("bücher.de")
_DOMAIN_IN_TEXT = re.compile(
    r"(?<![\w.@-])(?:[a-z][a-z0-9+.-]*://)?(?:[^\s/@:]+(?::[^\s/@]*)?@)?"
    r"((?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{2,59}))(?![\w-])",
    re.IGNORECASE)
WEB_SCHEMES = ("http", "https", "mailto")


@lru_cache(maxsize=1)
def _suffixes():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_unknown=False)  # "file.txt" names no domain: .txt is no suffix


def _ascii_host(host: str) -> str | None:
    """The host as DNS spells it (``bücher.de`` -> ``xn--bcher-kva.de``), lower case; None if not a name."""
    host = host.strip().rstrip(".").lower()
    if not host:
        return None
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _unicode_host(host: str) -> str:
    """The host as a person reads it (``xn--pypal-4ve.com`` -> ``pаypal.com``)."""
    try:
        return host.encode("ascii").decode("idna")
    except UnicodeError:
        return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def registrable(host: str) -> str:
    """What was registered: ``help.example.co.uk`` -> ``example.co.uk`` (the host itself when unknown)."""
    ascii_host = _ascii_host(host) or host.lower()
    if _is_ip(ascii_host):
        return ascii_host
    return _suffixes().privatesuffix(ascii_host) or ascii_host


def domain_in_text(text: str) -> str | None:
    """The domain a link's text names, if it names one."""
    m = _DOMAIN_IN_TEXT.search(text or "")
    if not m:
        return None
    domain = m.group(1).rstrip(".")
    ascii_domain = _ascii_host(domain)
    if ascii_domain is None or _suffixes().publicsuffix(ascii_domain) == ascii_domain:
        return None
    # only a real public suffix makes it a domain ("e.g.", "file.txt" and "v1.2" are not)
    suffix = _suffixes().publicsuffix(ascii_domain)
    if suffix is None or not _suffixes().is_public(suffix):
        return None
    return domain


def _scripts(label: str) -> set[str]:
    """The alphabets of a label's letters (LATIN, CYRILLIC, GREEK, ...)."""
    out = set()
    for ch in label:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            out.add(name.split(" ", 1)[0] if name else "?")
    return out


def _looks_alike(ascii_host: str) -> bool:
    """An international name that can pass for another: alphabets mixed in one label (``pаypal``
    with a Cyrillic а), or a Cyrillic or Greek name under a Latin top-level domain (``аррӏе.com``).
    ``bücher.de`` and ``пример.рф`` are what they look like."""
    labels = _unicode_host(ascii_host).split(".")
    if not any(label.startswith("xn--") for label in ascii_host.split(".")):
        return False
    tld_scripts = _scripts(labels[-1])
    for label in labels[:-1]:
        scripts = _scripts(label)
        if len(scripts) > 1:
            return True
        if scripts & {"CYRILLIC", "GREEK", "ARMENIAN"} and tld_scripts <= {"LATIN"}:
            return True
    return False


def link_target(href: str) -> tuple[str, str] | None:
    """(scheme, host) of a web or mail link; None for anything else or what cannot be read."""
    try:
        parts = urlsplit((href or "").strip())
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES:
        return None
    if scheme == "mailto":
        address = unquote(parts.path).split(",")[0].split("?")[0]
        host = address.rpartition("@")[2]
    else:
        try:
            host = parts.hostname or ""
        except ValueError:
            return None
    return (scheme, host) if host else None


def link_warning(href: str, text: str = "") -> str | None:
    """One sentence when the link ``href``, shown as ``text``, may not lead where it seems; else None."""
    target = link_target(href)
    if target is None:
        return None
    scheme, host = target
    warnings: list[str] = []
    if scheme != "mailto":
        netloc = urlsplit(href.strip()).netloc
        if "@" in netloc:
            shown = unquote(netloc.rpartition("@")[0])
            warnings.append(f"it hides its real address behind “{shown}@”")
    ascii_host = _ascii_host(host)
    if _is_ip(host):
        warnings.append(f"it leads to a bare IP address ({host}), not to a named site")
    elif ascii_host is None:
        warnings.append("its address cannot be read as a site name")
    elif _looks_alike(ascii_host):
        warnings.append(f"its address uses letters of other alphabets ({_unicode_host(ascii_host)}, "
                        f"really {ascii_host}) that can imitate another site's name")
    named = domain_in_text(text)
    if named and ascii_host and not _is_ip(host) and registrable(named) != registrable(ascii_host):
        warnings.insert(0, f"its text says {named} but it leads to {_unicode_host(ascii_host)}")
    elif named and _is_ip(host):
        warnings.insert(0, f"its text says {named}")
    if not warnings:
        return None
    sentence = "; ".join(warnings)
    return f"⚠ This link may not be what it seems: {sentence}."
