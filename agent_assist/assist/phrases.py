"""Greetings, closings and small connective phrases in the customers' languages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phrases:
    greeting: str  # "{name}" is the customer's first name
    greeting_no_name: str
    thanks: str
    closing: str
    sign_off: str
    source_label: str


PHRASES: dict[str, Phrases] = {
    "en": Phrases("Hi {name},", "Hi,", "Thank you for getting in touch.",
                  "If anything is still unclear, just reply to this message and we'll help you further.",
                  "Kind regards,", "Source"),
    "sv": Phrases("Hej {name},", "Hej,", "Tack för att du hör av dig.",
                  "Om något fortfarande är oklart är det bara att svara på det här meddelandet så hjälper vi dig vidare.",
                  "Vänliga hälsningar,", "Källa"),
    "de": Phrases("Hallo {name},", "Hallo,", "Vielen Dank für Ihre Nachricht.",
                  "Wenn noch etwas unklar ist, antworten Sie einfach auf diese Nachricht – wir helfen Ihnen gern weiter.",
                  "Freundliche Grüße", "Quelle"),
    "es": Phrases("Hola {name}:", "Hola:", "Gracias por ponerte en contacto con nosotros.",
                  "Si algo no queda claro, responde a este mensaje y te ayudaremos encantados.",
                  "Un saludo,", "Fuente"),
    "fr": Phrases("Bonjour {name},", "Bonjour,", "Merci de nous avoir contactés.",
                  "Si quelque chose n'est pas clair, répondez simplement à ce message et nous vous aiderons.",
                  "Cordialement,", "Source"),
    "nl": Phrases("Hallo {name},", "Hallo,", "Bedankt voor je bericht.",
                  "Is er nog iets onduidelijk? Beantwoord dit bericht gewoon en we helpen je verder.",
                  "Met vriendelijke groet,", "Bron"),
    "fi": Phrases("Hei {name},", "Hei,", "Kiitos yhteydenotostasi.",
                  "Jos jokin on vielä epäselvää, vastaa tähän viestiin niin autamme lisää.",
                  "Ystävällisin terveisin,", "Lähde"),
    "no": Phrases("Hei {name},", "Hei,", "Takk for at du tok kontakt.",
                  "Hvis noe fortsatt er uklart, er det bare å svare på denne meldingen.",
                  "Vennlig hilsen,", "Kilde"),
    "da": Phrases("Hej {name},", "Hej,", "Tak fordi du kontaktede os.",
                  "Hvis noget stadig er uklart, så svar bare på denne besked, så hjælper vi dig videre.",
                  "Venlig hilsen,", "Kilde"),
    "it": Phrases("Ciao {name},", "Ciao,", "Grazie per averci contattato.",
                  "Se qualcosa non è chiaro, rispondi a questo messaggio e ti aiuteremo.",
                  "Cordiali saluti,", "Fonte"),
}


def phrases_for(language: str | None) -> Phrases:
    """The phrases of a language (``"sv-SE"`` counts as ``"sv"``); English when unknown."""
    code = (language or "en").lower().replace("_", "-").split("-")[0]
    return PHRASES.get(code, PHRASES["en"])


def signature(name: str) -> str:
    """How a person signs a reply: ``alex`` -> ``Alex``; a full name stays as written."""
    name = (name or "").strip()
    return name if " " in name else name.capitalize()


_SIGN_OFFS = frozenset(p.sign_off.strip() for p in PHRASES.values())


def resign(body: str, drafter: str | None, sender: str) -> str:
    """The reply signed by whoever sends it, not whoever drafted it.

    Only a text that still ends with the drafter's own sign-off (a closing of any of our languages, then the
    drafter's name) is changed, and only its last line; a text the person signed otherwise stays as it is.
    """
    if not drafter or not sender.strip() or signature(drafter) == signature(sender):
        return body
    stripped = body.rstrip()
    lines = stripped.split("\n")
    content = [i for i, line in enumerate(lines) if line.strip()]
    if len(content) < 2:
        return body
    last, before = content[-1], content[-2]
    if lines[last].strip() != signature(drafter) or lines[before].strip() not in _SIGN_OFFS:
        return body
    lines[last] = lines[last].replace(lines[last].strip(), signature(sender))
    return "\n".join(lines) + body[len(stripped):]
