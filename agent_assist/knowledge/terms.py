"""Words: folding, tokenizing, stop words, and the key terms of a ticket.

Folding matches the FTS5 tokenizer (``unicode61 remove_diacritics 2``) so a
term picked here is spelled the way the index spells it.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

_STOP = """
a about above after again all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers him his how i if in into is it its just me more most my no nor not now of off
on once only or other our out over own same she should so some such than that the their them then
there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours hi hello hey dear thanks thank please regards best
im ive dont cant wont didnt get got still yet already one two really need want like know just
och att det som en ett är jag på med för inte har av till den om var men de så kan nu mitt min mina
du ni vi han hon hej tack vänliga hälsningar har hade eller från vad när där här också bara skulle
kunde blev blir sig sin sitt era er oss dem denna detta dessa mig dig fick får vill ska
der die das und ist ich nicht ein eine einen einem einer zu mit auf für von den dem des sie es im
wir ihr mein meine meinen hallo danke bitte grüße freundlichen habe hat haben war wurde noch schon
aber oder wie was wenn dass auch nur bei nach aus um sehr mir mich kann können soll will
el la los las de y que en un una es por para con no se su al lo mi me hola gracias saludos
pero como más ya he ha este esta esto muy sin sobre hace tengo favor cuando porque todo
le les et est je pas une des du au aux pour dans sur avec ce cette qui mon ma mes vous nous bonjour
merci cordialement mais ou où ai été fait très sans tout plus avoir être
het een en van ik is dat niet op te met voor zijn mijn je u wij hallo dank groet bedankt maar
of als ook nog al bij aan om er wat hoe heb heeft werd geen
"""
STOP_WORDS = frozenset(_STOP.split())


def fold(text: str) -> str:
    """Lower-case and strip diacritics: ``"Återbetalning"`` -> ``"aterbetalning"``."""
    # lower(), not casefold(): FTS5's unicode61 keeps "ß" (casefold would make it "ss")
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_FOLDED_STOP = frozenset(fold(w) for w in STOP_WORDS)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def content_words(text: str, *, min_len: int = 3) -> list[str]:
    """Words worth searching for: no stop words, no bare numbers, not too short."""
    return [w for w in words(text) if len(w) >= min_len and not w.isdigit() and w not in _FOLDED_STOP]
