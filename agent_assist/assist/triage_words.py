"""The words and phrases offline triage looks for, in en, sv, de, es, fr and nl.

Plain data, read by :mod:`agent_assist.assist.triage`, which compiles it once.

How a pattern is written
------------------------
* A pattern is a regular expression matched against a *folded* copy of the
  customer's text: lower case, accents removed (``é`` -> ``e``, ``ö`` -> ``o``,
  ``ß`` -> ``ss``), curly apostrophes made straight. Write patterns in lower case;
  accents in a pattern are folded the same way, so ``"décédé"`` and ``"decede"``
  are the same pattern.
* A single space stands for any run of spaces and punctuation between two words.
* ``" ~ "`` stands for "up to three words in between".
* Every pattern starts and ends at a word boundary; add ``\\w*`` to match a stem
  (``"depress\\w*"``) and ``\\w*`` in front for compounds (``"\\w*betrug\\w*"``).
* Only non-capturing groups ``(?:...)``.

A rule is ``(label, patterns)`` or ``(label, patterns, options)``. The label is
what the agent reads ("Mentions job loss or lost income"), followed by the
customer's own words. Options, all regexes written the same way:

* ``not_before``: searched in the forty characters before a match, must match up
  to their end; ``not_after``: must match at the start of the forty characters
  after it. They remove the common innocent readings ("my *phone* died", "the
  *fraud warning* email", "my *only* complaint").
* ``requires``: must occur somewhere in the ticket (subject or text); "not
  arrived" and "broken" only count in a ticket about goods, so "my new ID card
  hasn't arrived" or "my phone is broken, how do I log in?" are not disputes.

Negation otherwise does not cancel a flag: "it's not fraud, but someone used my
card" is still worth a look. Patterns are found through the first letters of
their first word, so keep a pattern's start literal where you can ("(?:lost|losing)
my job", not "\\w+ my job"); a start that cannot be worked out is searched
everywhere, which is slower. Keep repetitions bounded (``\\d{1,4}``, not ``\\d+``).
"""

from __future__ import annotations

# -- shared pieces -----------------------------------------------------------------------------
CANT = (r"(?:can'?t|cannot|can not|unable to|not able to|won'?t be able to|will not be able to|wont be able to"
        r"|couldn'?t|could not|(?:am|i'?m|im) not going to be able to|no way (?:i|we) can)")
RELATIVE_EN = (r"(?:mum|mom|mother|mam|mummy|dad|daddy|father|husband|hubby|wife|partner|son|daughter|brother|sister"
               r"|grandmother|grandfather|grandma|grandpa|grandad|granddad|nan|nana|nanna|gran|granny|aunt|auntie"
               r"|uncle|cousin|friend|fiance|fiancee|boyfriend|girlfriend|child|baby|parent|parents|stepdad"
               r"|stepmum|stepmom|father-in-law|mother-in-law|he|she)")
RELATIVE_SV = (r"(?:pappa|mamma|far|mor|man|make|fru|hustru|sambo|son|dotter|bror|syster|mormor|morfar|farmor"
               r"|farfar|moster|faster|morbror|farbror|kusin|van|pojkvan|flickvan|barn|foralder|foraldrar|han|hon)")
DEVICE = (r"(?:phone|mobile|battery|laptop|computer|pc|car|app|screen|tablet|ipad|iphone|charger|card|it|router"
          r"|mobil|mobilen|telefon|telefonen|batteri|batteriet|dator|datorn|handy|akku|tablet|telefono|movil"
          r"|bateria|portatil|ordenador|telephone|portable|ordinateur|gsm|accu|computer|laptop|appen|app)")
# what a "did not arrive" phrase must not be about (money and messages are not parcels)
NOT_GOODS = (r"(?:refund|money|reply|answer|response|email|e-mail|mail|code|sms|text|confirmation|invoice"
             r"|statement|letter|call|callback|update|credit|payment|cash|pin|link|discount|voucher|coupon|licen[cs]e|id|passport|bon|bons"
             r"|manadsavi\w*|avi|kvitto|rabatt\w*|id-kort\w*|legitimation|korkort|bankid|ausweis\w*|personalausweis|fuhrerschein|kontoauszug\w*|reisepass"
             r"|extracto|descuento|dni|carnet|pasaporte|releve|reduction|remise|permis|carte|passeport|afschrift|korting|rijbewijs|paspoort|pas\b"
             r"|aterbetalning\w*|pengar\w*|svar|mejl\w*|kod\w*|faktura\w*|erstattung|geld|antwort|rueckmeldung"
             r"|rückmeldung|gutschrift|rechnung|reembolso|dinero|respuesta|correo|codigo|factura|devolucion"
             r"|remboursement|argent|reponse|courriel|facture|terugbetaling|geld|antwoord|reactie|factuur)")
APP_THINGS = (r"(?:chip|sim|app|application|appli|appen|website|site|web|login|log in|code|card|kort|karte|tarjeta|carte"
              r"|kaart|link|button|knappen|password|face id|bankid|promo|discount|voucher|rabattkod\w*|gutschein\w*"
              r"|codigo|pagina|page|seite|sidan|pinpas|inlog\w*|anmeldung|connexion)")
# a ticket about goods: an order, a parcel, a shop. "Not arrived" and "broken" need this somewhere in the
# ticket, so "my new ID card hasn't arrived" or "my phone is broken, how do I log in?" are not disputes.
GOODS_CONTEXT = (r"(?:order\w*|parcel\w*|package\w*|deliver\w*|tracking|shipp\w*|courier|item\w*|bought|purchase\w*"
                 r"|shop\w*|store|merchant|seller|retailer|goods|product\w*|warrant\w*|return\w*|refund\w*"
                 r"|bestall\w*|paket\w*|levere\w*|leverans\w*|sparning\w*|butik\w*|handlare\w*|saljare\w*|vara|varan|varor\w*|kopt\w*|kopte|kop|kopet|kopen|retur\w*"
                 r"|bestell\w*|sendung\w*|lieferung\w*|geliefert|zugestellt|handler\w*|haendler\w*|verkaufer\w*|ware\w*|artikel\w*|gekauft|retoure\w*"
                 r"|pedido\w*|paquete\w*|envio\w*|entreg\w*|seguimiento|tienda\w*|vendedor\w*|compr\w*|articulo\w*|producto\w*|devol\w*"
                 r"|command\w*|colis|livr\w*|suivi|boutique\w*|vendeur\w*|marchand\w*|achat\w*|achete\w*|article\w*|produit\w*|renvo\w*"
                 r"|bestel\w*|pakket\w*|bezorg\w*|track|webshop\w*|winkel\w*|verkoper\w*|gekocht|artikel\w*|product\w*|retour\w*)")

# -- financial hardship ------------------------------------------------------------------------
FINANCIAL_HARDSHIP: list = [
    ("Mentions job loss or lost income", [
        r"(?:lost|losing|lose|lost all) (?:my|our|his|her) (?:job|jobs|income|work|business)",
        r"(?:made|been made|being made) redundant", r"redundan\w*", r"laid off", r"unemploy\w*", r"out of work",
        r"(?:got|been|was|being|i'?ve been) (?:fired|sacked|let go)", r"furlough\w*",
        r"(?:hours|shifts|pay|wages?|salary|income) (?:have been |has been |were |was |got |being )?(?:cut|reduced|slashed|halved|cut back)",
        r"(?:reduced|cut|slashed|halved) (?:my |our |his |her )?(?:hours|shifts|pay|wages?|salary)", r"(?:living|live|surviving) on (?:one|a single) (?:wage|income|salary)",
        r"zero[- ]hours?",
        # sv
        r"(?:blivit|blev|bli|har blivit|ar) (?:av med (?:jobbet|mitt jobb|arbetet)|uppsagd|varslad|arbetslos)",
        r"(?:forlorat|forlorade|tappat|tappade) (?:jobbet|mitt jobb|arbetet|min inkomst|inkomsten)",
        r"arbetslos\w*", r"uppsagd\w*", r"varslad\w*", r"permitterad\w*", r"a-kassa\w*",
        # de
        r"(?:job|arbeit|stelle|arbeitsplatz|einkommen) (?:verloren|verlieren|weg|los)", r"arbeitslos\w*",
        r"(?:wurde|bin|worden) (?:gekundigt|gekuendigt|entlassen)", r"kurzarbeit\w*", r"arbeitslosengeld\w*",
        r"alg (?:i|1|ii|2)", r"burgergeld|buergergeld|hartz\w*|jobcenter|arbeitsamt",
        # es
        r"(?:me he quedado|me quede|estoy|quedarme|me quedado) sin (?:trabajo|empleo|ingresos|curro)",
        r"(?:perdido|perdi|perder) (?:mi|el) (?:trabajo|empleo|curro)", r"en (?:el )?paro",
        r"desemplead\w*", r"me (?:han )?despedid\w*|me han echado|despido", r"\berte\b",
        r"prestacion por desempleo",
        # fr
        r"(?:perdu|perds|perdre|perte de) (?:mon|son|mon|notre) (?:emploi|travail|boulot|job)",
        r"(?:au|du) chomage|chomeu\w*", r"licencie\w*|licenciement", r"sans emploi", r"pole emploi|france travail",
        # nl
        r"(?:baan|werk|job|inkomen) (?:kwijt\w*|verloren)", r"ontslagen", r"werkloos\w*",
        r"(?:in de|zit in de) ww\b|ww-uitkering", r"bijstand\w*",
    ]),
    ("Says they cannot pay", [
        CANT + r" (?:afford|pay (?:for )?(?:it|this|that|them|the|my|these|next|any|anything)|make (?:the|my|this|these|next|any|that) (?:\w+ )?(?:payments?|instal+ments?|repayments?)|keep up)",
        r"(?:don'?t|do not|dont|won'?t|will not|wont) have (?:the|enough|any) (?:money|funds|cash)",
        r"no money (?:left|until|till|for)", r"(?:money|cash|finances) (?:is|are|has been|have been) (?:\w+ )?(?:tight|short|a struggle|an issue)",
        r"struggl\w* (?:to pay|to keep up|to make|with (?:money|bills|payments|debt|debts|the payments|my payments)|financially)",
        r"financial(?:ly)? (?:difficult\w*|hardship|problems?|trouble|struggl\w*|crisis|situation is)",
        r"(?:behind|fallen behind|falling behind) (?:on|with) (?:my |the |our )?(?:bills|rent|payments|everything|mortgage)",
        r"in (?:a lot of |so much |serious )?debt", r"debts", r"debt (?:collector\w*|advice|charity|management|relief|agency)",
        r"bailiff\w*", r"bankrupt\w*", r"insolven\w*", r"(?:an|my|on an|in an) iva\b|individual voluntary arrangement", r"stepchange", r"citizens advice",
        r"national debtline", r"payplan", r"food ?bank\w*", r"universal credit", r"(?:on|claiming|living on) benefits",
        r"benefits (?:\w+ )?(?:delayed|stopped|cut|sanctioned|late)", r"(?:statutory )?sick pay",
        r"(?:that'?s|that is|it'?s|it is) (?:my|our) (?:rent|food|bills?) money", r"(?:i'?m|i am|im|totally|completely|flat|so|we'?re|we are) (?:broke|skint)",
        r"make ends meet", r"money (?:i|we) (?:didn'?t|don'?t|did not|do not) have", r"barely (?:\w+ )?(?:covers?|enough|pays?|scraping)",
        r"rack(?:er|te)? (?:knappt|inte) (?:till|for)", r"sjukpenning\w*", r"apenas (?:me |nos )?(?:llega|alcanza|cubre)", r"(?:couvre\w*|suffi\w*) a peine|a peine (?:de quoi|assez)",
        r"nauwelijks (?:genoeg|toereikend)", r"uitkering\w*", r"niet (?:meer )?(?:kan|kunnen) (?:betalen|opbrengen|voldoen)",
        r"inte (?:langre )?(?:kan|kunde) betala", r"(?:short|tight) (?:of|on|for) (?:money|cash)", r"cost of living", r"payment (?:holiday|break)", r"breathing space", r"hardship",
        r"things are (?:really |very |so )?(?:hard|tough|difficult|tight) (?:right now|at the moment|atm|financially|money wise)",
        # sv
        r"(?:har|hade|har jag|hade jag) (?:inte|inga) (?:rad|pengar)", r"inte (?:har )?rad (?:med|att)",
        r"(?:klarar|klara|klarade) (?:inte|inte av) (?:att betala|betalningarna|betalningen|rakningarna|delbetalningen)",
        r"kommer inte (?:att )?(?:kunna|klara) (?:att )?betala", r"kan inte betala(?! med| i appen| via)",
        r"svart att (?:betala|fa ihop|klara|fa pengarna)", r"ekonomisk\w* (?:svarigheter|problem|kris|trubbel)",
        r"ekonomin (?:ar|har varit) (?:\w+ )?(?:tajt|tuff|karv|anstrangd|dalig|kass|kaos)", r"ont om pengar",
        r"(?:lus)?pank\w*", r"(?:tufft|svart|kaosigt|jobbigt|knapert|tajt) ekonomiskt", r"inga pengar (?:kvar|alls)", r"skulder", r"skuldsatt\w*", r"skuldsanering\w*",
        r"kronofogde\w*", r"inkasso\w*", r"betalningsanmarkning\w*", r"forsorjningsstod", r"socialtjansten|socialen",
        r"skuldradgiv\w*|budget- och skuldradgiv\w*",
        # de
        r"kann (?:\w+ ){0,4}nicht (?:mehr )?(?:zahlen|bezahlen|begleichen|leisten|aufbringen)(?! mit| per| in der app)",
        r"nicht (?:mehr )?leisten", r"kein geld (?:mehr|ubrig|uebrig)", r"geld (?:ist|wird|war) (?:\w+ )?knapp",
        r"(?:geld )?reicht (?:hinten und vorne nicht|nicht mehr|kaum|einfach nicht)",
        r"finanziell\w* (?:schwierigkeiten|probleme|notlage|engpass|engpasse|sorgen|situation)",
        r"zahlungsschwierigkeit\w*|zahlungsunfahig\w*", r"pleite", r"schulden\w*", r"uberschuldet|ueberschuldet",
        r"inkasso\w*", r"privatinsolvenz|insolvenz\w*", r"schuldnerberat\w*", r"gerichtsvollzieher", r"pfandung\w*",
        r"krankengeld", r"knapp bei kasse", r"uber die runden", r"nicht (?:mehr )?(?:bezahlen|zahlen|begleichen|leisten) (?:kann|konnen|koennen)",
        # es
        r"no (?:puedo|podre|voy a poder|podemos|podremos|consigo) (?:pagar|hacer frente|asumir|afrontar)(?! con| en la app| desde)",
        r"no (?:me )?llego a fin de mes", r"(?:dificultades|problemas|apuros) (?:economic\w*|financier\w*|de dinero)",
        r"(?:mala|muy mala) racha", r"(?:voy|vamos|estoy|estamos|ando) (?:muy )?(?:justo|justa|justos|justas|apurad\w*|ahogad\w*) de dinero",
        r"(?:voy|vamos|estoy|estamos|ando) muy (?:justo|justa|justos|justas|apurad\w*|ahogad\w*)",
        r"sin dinero", r"no tengo (?:dinero|el dinero|para pagar|con que pagar)", r"deudas", r"endeudad\w*",
        r"(?:fichero|lista) de morosos", r"asnef", r"moros[oa]s?", r"embargo\w*", r"ingreso minimo vital",
        r"servicios sociales", r"(?:lo estoy|lo estamos) pasando (?:muy |fatal|realmente )?mal|(?:estoy|estamos) pasando (?:por )?(?:un mal momento|una mala racha|apuros)",
        r"(?:det ar|det har varit|har det) (?:\w+ )?(?:tufft|svart|jobbigt|kampigt|knapert) (?:just nu|nu|ekonomiskt|for tillfallet|i ekonomin)",
        r"(?:gerade|zur zeit|momentan|derzeit) (?:ist es|ist alles|lauft es) (?:\w+ )?(?:schwer|schwierig|eng|knapp|hart)|es ist (?:\w+ )?(?:schwer|eng|knapp) (?:gerade|momentan|zur zeit)",
        r"c'?est (?:\w+ )?(?:complique|difficile|dur|tendu) (?:en ce moment|financierement|ce mois)|(?:passe|traverse) une (?:periode|passe) difficile",
        r"(?:l'?argent|le budget|les finances) (?:est|sont) (?:\w+ )?(?:juste|serre|tendu|limite)",
        r"(?:het is|het gaat) (?:\w+ )?(?:zwaar|moeilijk|krap) (?:nu|op dit moment|momenteel|financieel)", r"no me (?:alcanza|llega) (?:el dinero|para)",
        # fr
        r"(?:peux|pourrai|pourrais|arrive|arriverai|pouvons|pourrons|suis en mesure) (?:plus|pas) (?:a )?(?:payer|regler|honorer|rembourser|faire face)",
        r"(?:pas|plus) les moyens", r"(?:difficultes|problemes|soucis|galere\w*) (?:financier\w*|d'argent)",
        r"(?:complique|difficile|dur|tendu) financierement", r"fins? de mois (?:difficile\w*|complique\w*)",
        r"surendett\w*", r"fiche\w* (?:a la )?banque de france", r"huissier\w*", r"dettes?", r"endette\w*",
        r"fauche\w*", r"sans le sou", r"recouvrement",
        # nl
        r"kan (?:\w+ ){0,4}niet (?:meer )?(?:betalen|opbrengen|voldoen|ophoesten)(?! met| via| in de app)",
        r"(?:geen|niet genoeg) geld", r"geld is (?:\w+ )?op(?=\W*(?:$|[.,!;]|en\b|dus\b|want\b|maar\b))", r"financi\w* (?:problemen|moeite|moeilijkheden|zorgen|krapte|nood)",
        r"geldproblemen|geldzorgen", r"moeite (?:met|om) (?:te )?(?:betalen|rondkomen|rond te komen)",
        r"krap bij kas", r"(?:niet|nauwelijks|amper) (?:meer )?rond(?:komen| te komen)|kom (?:\w+ )?(?:niet|nauwelijks) (?:meer )?rond",
        r"schulden\w*", r"schuldhulp\w*|schuldsanering|wsnp", r"incassobureau\w*|incassokosten|incassotraject|(?:naar|bij) (?:de |een )?incasso\b", r"deurwaarder\w*", r"\bbkr\b", r"blut",
        r"platzak", r"betalingsregeling",
    ]),
]

# -- fraud -------------------------------------------------------------------------------------
# material about fraud (a warning, tips, "your e-mail about scams"), not a fraud that happened
# material about fraud (a warning, tips, "your e-mail about scams"), not a fraud that happened; an e-mail
# that is the customer's own ("I sent you an e-mail about the fraud") does not count
_NOT_MINE = "".join(rf"(?<!\b{w}\W)" for w in ("a", "an", "my", "un", "una", "mi", "en", "ett", "mitt", "min", "ein",
                                           "eine", "einer", "meine", "meiner", "une", "mon", "ma", "een", "mijn"))
_INFO_NOUN = (r"(?:(?:warnings?|tips|advice|alerts?|newsletters?|articles?|guides?|campaign|flyers?|leaflets?"
              r"|varning\w*|tipsen|rad|artikel\w*|warnung\w*|hinweis\w*|tipps|ratschlage|consejos|avisos?|alertas?"
              r"|articulo|alertes?|conseils|waarschuwing\w*|tips|nieuwsbrief)"
              r"|" + _NOT_MINE + r"\b(?:e-?mails?|mails?|messages?|texts?|correos?|courriels?|berichten?|nachrichten?"
              r"|mejlet|mailet|e-?mailet|meddelandet)(?: que \w+)?)")
_INFO_PREP = r"(?:about|on|regarding|against|re|om|mot|kring|uber|ueber|vor|zu|sobre|contra|de|sur|contre|over|tegen|voor)"
# "the e-mail about fraud", "tipsen om bedrägerier och falska sms", "consejos contra el fraude"
_INFO_BEFORE = _INFO_NOUN + r"\W+(?:\w+\W+){0,2}?" + _INFO_PREP + r"\W+(?:\w+\W+){0,3}$"
_INFO_AFTER = (r"^\W+(?:warning|alert|awareness|prevention|protection|team|department|tips|advice|info\w*|email|e-mail"
               r"|mail|article|page|guide|check|checks|settings|training)\b")
FRAUD: list = [
    ("Mentions fraud or a scam", [
        r"fraud(?!e?(?:preventie|preventie|waarschuwing))\w*", r"scam\w*", r"phish\w*", r"con artists?", r"swindl\w*", r"identity theft", r"stolen identity",
        r"bedrageri(?!\w*varning)\w*|bedragare\w*|blivit bedragen|har bedragit", r"bluff\w*", r"lurad\w*|lurade mig|lurat mig|blivit lurad", r"natfiske", r"id-kapning|identitetsstold|kapat\w* (?:mitt|min)",
        r"\w*betrug(?!s?(?:warnung|hinweis|schutz|pravention|praevention|tipps|aufklarung))\w*", r"betruger\w*", r"identitatsdiebstahl|identitaetsdiebstahl", r"abzocke\w*",
        r"fraude(?!(?:preventie|waarschuwing))\w*", r"fraudulent\w*", r"estaf\w*", r"timo|timad\w*|timaron", r"suplanta\w*", r"robo de (?:identidad|datos)",
        r"frauduleu\w*", r"arnaqu\w*", r"escroc\w*", r"escroquer\w*", r"hameconnage", r"usurpation",
        r"oplicht\w*", r"identiteitsfraude",
    ], {"not_before": _INFO_BEFORE, "not_after": _INFO_AFTER}),
    ("Says their account or details were compromised", [
        r"hack(?:ed|er|ers|ing)?", r"compromised", r"account takeover",
        r"someone (?:else )?(?:has |had |must have |might have |may have |is |was )?(?:used|accessed|opened|got into|gotten into|logged into|logged in|taken over|using|made|placed|ordered|stolen|got hold of|has got|has my|got my|have my)",
        r"someone (?:has|had|knows|got) (?:my|all my) (?:details|password|card|login|data|information|info)",
        r"(?:stolen|stole|nicked) (?:my )?(?:card|identity|details|phone|wallet|id|purse|bag)",
        r"(?:my )?(?:card|wallet|phone|purse|identity|details|id) (?:was|were|has been|got|have been) (?:stolen|nicked|cloned|taken)",
        r"opened (?:a |an )?(?:lumo pay |lumo )?account in my name", r"in my name (?:without|that i)",
        r"(?:new|unknown|different|strange) device", r"(?:login|log in|sign in|signed in|logged in|signing in) from (?:a |an )?(?:new|unknown|different|strange)",
        # sv
        r"hackad\w*|hackat\w*|hackare", r"nagon (?:har |hade )?(?:anvant|handlat|bestallt|loggat in|kommit at|tagit|har mina|har mitt)",
        r"obehorig\w*", r"(?:stulit|stulen|stulet|stulna) (?:\w+ )?(?:kort|bankid|identitet|mobil|planbok|uppgifter)",
        # de
        r"gehackt\w*|hacker\w*", r"jemand (?:hat|muss|nutzt|benutzt|hatte|konnte) (?:\w+ ){0,2}(?:mein\w*|zugriff|zugang)",
        r"(?:karte|handy|portemonnaie|geldborse|ausweis) (?:wurde|ist) (?:mir )?gestohlen", r"gestohlen\w*",
        # es
        r"hacke\w*|pirate\w*", r"alguien (?:ha |habia )?(?:usado|utilizado|entrado|comprado|hecho|accedido|tiene|cogido)",
        r"(?:me han|han) (?:robado|clonado|hackeado|pirateado)", r"robad[oa]s? (?:la|mi|mis) (?:tarjeta|datos|cuenta|movil)",
        # fr
        r"pirate\w*", r"quelqu'?un (?:a|utilise|aurait|m'a) (?:\w+ )?(?:mon|ma|mes|acces|utilise|pirate|vole)",
        r"(?:vole|volee|voles|volees) (?:ma|mon|mes) (?:carte|telephone|identite|donnees|portefeuille)",
        r"(?:ma|mon|mes) (?:carte|telephone|identite|donnees|portefeuille) (?:a ete|ont ete|est) (?:vole\w*|pirate\w*|clone\w*)",
        # nl
        r"gehackt|hacker\w*", r"iemand (?:heeft|had|gebruikt|is|moet|zit) (?:\w+ ){0,2}(?:mijn|met mijn|in mijn|ingelogd)",
        r"(?:gestolen|gejat) (?:\w+ )?(?:pas|kaart|telefoon|identiteit|gegevens)", r"gestolen",
    ]),
    ("Says they did not make a purchase", [
        r"(?:purchases?|orders?|payments?|charges?|transactions?|debits?|items?|shops?|stores?|merchants?) (?:that |which )?(?:i|we) (?:did ?n[o']?t|never|have not|haven'?t|didnt|dont|don'?t) (?:make|made|place|placed|do|did|order|ordered|authori[sz]e|authori[sz]ed|buy|bought|recogni[sz]e|know)",
        r"(?:that|which|it|this|these|those) (?:that |which )?(?:i|we) (?:did ?n[o']?t|never|didnt) (?:make|made|place|placed|order|ordered|authori[sz]e|authori[sz]ed|buy|bought)",
        r"(?:it|that|this) (?:was ?n'?t|wasnt|was not) (?:me|us)", r"(?:is|are|was|were) ?n'?t mine|(?:is|are|was|were) not mine",
        r"(?:i|we) (?:did ?n[o']?t|never|have not|haven'?t|didnt|have never|'?ve never) (?:make|made|place|placed|order|ordered|buy|bought|authori[sz]e|authori[sz]ed|sign(?:ed)? up|signed up|shop(?:ped)?|purchase[d]?) (?:this|these|that|those|it|them|any|anything|the|with|there|from|for|on|a)",
        r"(?:don'?t|do not|dont|didn'?t|did not|can'?t|cannot) recogni[sz]e", r"not (?:made|placed|authori[sz]ed|done|ordered) by me",
        r"unaut?hori[sz]ed", r"without my (?:permission|consent|knowledge|authori[sz]ation|agreement)",
        r"utan (?:mitt|min) (?:medgivande|samtycke|tillstand|godkannande|lov|vetskap)",
        r"ohne (?:mein\w*|unser\w*) (?:wissen|zustimmung|einverstandnis|einverstaendnis|erlaubnis|einwilligung)",
        r"sans (?:mon|ma) (?:accord|consentement|autorisation|permission)",
        r"zonder (?:mijn|onze) (?:toestemming|medeweten|goedkeuring)",
        r"never (?:even )?(?:heard of|shopped (?:there|at|with)|been to) (?:this|that|the|them|it)",
        r"je ne connais (?:meme )?pas (?:cette|la) boutique",
        # sv
        r"(?:kop|order|ordrar|betalning\w*|bestallning\w*) (?:som )?jag (?:inte|aldrig) (?:har )?(?:gjort|bestallt|godkant|handlat)",
        r"jag har (?:inte|aldrig|inget|inte alls) (?:bestallt|handlat|godkant|kopt)(?: \w+)? (?:det|detta|den|dem|nagot|nagonting|har|hos|fran|dar)",
        r"som jag (?:inte|aldrig) (?:har )?(?:gjort|bestallt|godkant|handlat)", r"aldrig (?:ens )?hort talas om",
        r"(?:kanner|kanner jag) inte igen", r"inte (?:gjort|bestallt) av mig",
        # de
        r"(?:die|den|das|welche) ich (?:nicht|nie) (?:\w+ )?(?:gemacht|getatigt|getaetigt|bestellt|autorisiert|gekauft|veranlasst)",
        r"ich (?:habe )?(?:nichts|nie|das nicht|diese \w+ nicht|dort nie|nie etwas|keine \w+) (?:\w+ )?(?:bestellt|gekauft|getatigt)",
        r"(?:noch nie|nie) (?:\w+ )?(?:von (?:diesem|dem) (?:shop|handler|laden)|gehort)",
        r"nicht (?:von mir|autorisiert)", r"(?:kenne|erkenne) (?:ich )?(?:diese\w* |den |die |das )?(?:\w+ )?nicht",
        # es
        r"(?:yo )?no (?:lo |la )?(?:he|hice|habia) (?:comprado|pedido|autorizado)",
        r"que (?:yo )?no (?:he|hice|habia) (?:hecho|comprado|pedido|autorizado|realizado)",
        r"no (?:he|hice) hecho (?:esta|este|esa|ese|estas|estos|ninguna|ningun) (?:compra|pedido|cargo|pago)\w*", r"ni (?:siquiera )?conozco (?:esa|esta|la) tienda", r"no (?:la |lo )?reconozco",
        r"no autoriza\w*|sin (?:mi )?(?:permiso|autorizacion|consentimiento)",
        # fr
        r"(?:que|qui) je n'?ai (?:jamais|pas) (?:\w+ )?(?:fait|passe\w*|commande\w*|autorise\w*|effectue\w*)",
        r"je n'?ai (?:rien|jamais rien|jamais|pas) (?:\w+ )?(?:commande|achete|autorise|passe)",
        r"(?:pas|jamais) (?:fait|passe\w*|commande\w*) par moi", r"non autoris\w*", r"je ne reconnais pas",
        # nl
        r"(?:die|dat) ik (?:niet|nooit) (?:\w+ )?(?:heb )?(?:gedaan|besteld|gekocht|goedgekeurd|geplaatst)",
        r"ik heb (?:niks|niets|nooit|dit niet|deze \w+ niet|dat niet) (?:\w+ )?(?:besteld|gekocht)", r"ken (?:die|deze) (?:winkel|webshop) (?:niet|niet eens)",
        r"niet door mij", r"(?:herken|ken) ik (?:niet|helemaal niet)",
    ]),
    ("Describes a scam contact or phishing", [
        r"(?:pretend\w*|claim\w*|saying|said|posing|posed|impersonat\w*) (?:to be |they were |he was |she was |it was |as |that they were |they'?re )?(?:from )?(?:lumo|you|your|the bank|my bank|support|customer service|security)",
        r"impersonat\w*", r"(?:gave|give|read out|shared|told|sent) (?:them|him|her|the caller|someone|a man|a woman|the person)?(?: the| my)? ?(?:code|pin|password|one-time|otp|bankid|verification code|login code|security code)",
        r"(?:clicked|tapped|pressed|opened|followed) (?:on )?(?:a|the|this|that) (?:\w+ )?link",
        r"suspicious (?:order|orders|payment|payments|email|text|call|sms|message|link|activity|login|transaction|purchase)",
        r"(?:is|was|are) (?:this|the|that|these) (?:\w+ )?(?:email|e-mail|text|sms|call|message|letter|website|site|link)s? (?:\w+ ){0,3}(?:real|legit\w*|genuine|really from you|from you|from lumo|safe)",
        r"(?:ar|var) (?:det har|detta|det) (?:\w+ )?(?:mejl\w*|mail\w*|sms\w*|samtal\w*|brev\w*) (?:verkligen )?(?:akta|fran er|fran lumo|pa riktigt)",
        r"(?:ist|war) (?:diese|die|das|dieser|der) (?:\w+ )?(?:mail|e-mail|sms|nachricht|anruf|brief) (?:wirklich )?(?:echt|von ihnen|von euch|von lumo)",
        r"(?:es|era) (?:real|de verdad|verdadero|legitimo|vuestro) (?:este|ese|el) (?:correo|sms|mensaje|llamada)|(?:este|ese) (?:correo|sms|mensaje) (?:es )?(?:real|vuestro|de verdad|legitimo)",
        r"(?:ce|le|cet) (?:mail|e-mail|sms|message|appel|courrier) (?:est|vient|est-il|vient-il)(?: bien)? (?:vrai|authentique|de vous|de chez vous|legitime)",
        r"(?:is|was) (?:deze|die|dit|dat) (?:\w+ )?(?:mail|e-mail|sms|bericht|brief|telefoontje) (?:echt|van jullie|van lumo|betrouwbaar)",
        r"(?:fake|dodgy|weird|strange|suspicious) (?:website|site|email|text|sms|call|caller|link|message|page)",
        # sv
        r"utgav sig for", r"(?:sa|pastod|pastod sig) (?:att )?(?:de|han|hon|det) (?:var|ringde) fran",
        r"bad mig (?:att )?(?:signera|legitimera|logga in|identifiera|uppge|ge)",
        r"misstankt\w* (?:kop|order|betalning|sms|mejl|mail|samtal|lank|inloggning)", r"falsk\w* (?:sms|mejl|mail|sida|lank|samtal)",
        r"(?:tryckte|klickade) pa (?:en |den |lanken)", r"polisanmal\w*",
        # de
        r"angeblich (?:\w+ )?(?:von|vom) (?:lumo|ihnen|euch|kundenservice|ihrer|der bank)",
        r"(?:verdachtig\w*|seltsam\w*|komisch\w*|gefalscht\w*|falsch\w*) (?:sms|mail|e-mail|anruf|link|nachricht|webseite|seite)",
        r"(?:anzeige|strafanzeige) (?:\w+ )?(?:erstattet|erstatten|gemacht|aufgegeben|bei der polizei)", r"polizei",
        r"(?:code|tan|passwort|pin) (?:\w+ ){0,2}(?:vorgelesen|gegeben|weitergegeben|genannt)",
        r"(?:auf|den) link (?:geklickt|gedruckt)", r"gab sich (?:\w+ )?als",
        # es
        r"diciendo que (?:era|eran|llamaba|llamaban) de", r"haciendose pasar por",
        r"(?:le|les) (?:di|dije|pase|lei) (?:el|mi) (?:codigo|pin|contrasena)", r"(?:se lo|se la) di",
        r"(?:llamada|pago|sms|correo|mensaje|enlace|cargo|compra)s? sospechos\w*", r"sospechos\w* (?:llamada|pago|sms|correo|mensaje|enlace)",
        r"(?:pulse|pinche|clique|abri) (?:en )?(?:el|un) enlace", r"denuncia (?:a|en|ante) la policia|puesto (?:la |una )?denuncia|(?:la|una) denuncia",
        # fr
        r"faux (?:conseiller|conseillere|agent|site|mail|sms|message)", r"se (?:faisant|faisait) passer pour",
        r"se (?:presentant|presentait) comme", r"(?:sms|mail|appel|lien|paiement|message|achat|commande)s? (?:suspect\w*|frauduleu\w*)",
        r"(?:donne|communique|lu) (?:le|mon|un) code", r"(?:clique|appuye) sur (?:le|un) lien",
        r"porte plainte|porter plainte|depot de plainte|deposer plainte",
        # nl
        r"(?:zich )?(?:voordeed|voordoet|uitgaf|voordoen) als", r"(?:verdacht\w*|vreemd\w*|rare|nep) (?:sms|mail|bericht|betaling|link|bestelling|telefoontje|website)",
        r"nep(?:bericht|website|site|mail|sms|link|-\w+)", r"(?:op een|op de) link (?:geklikt|gedrukt)",
        r"aangifte (?:gedaan|doen|gedaan bij|bij de politie)", r"(?:inlogcode|code|pincode|wachtwoord) (?:\w+ )?(?:gegeven|doorgegeven)",
    ], {"not_before": _INFO_BEFORE}),
]

# -- dispute -----------------------------------------------------------------------------------
DISPUTE: list = [
    ("Mentions a dispute", [
        r"disput\w*", r"charge ?back", r"open (?:a|an) (?:claim|case) (?:with|against)",
        r"tvist\w*", r"reklamat\w*|reklamer\w*", r"(?:oppna|oppnade|oppnat|starta|startade|startat) (?:ett )?(?:arende|arendet)",
        r"streitfall|klarungsfall|klaerungsfall|reklamation\w*|reklamier\w*|ruckbuchung|rueckbuchung|widerspruch",
        r"disputa\w*", r"contracargo", r"litige\w*", r"contestation", r"geschil\w*", r"dispuut", r"terugboeking",
    ]),
    ("Says an order never arrived", [
        r"(?:never|not|hasn'?t|has not|haven'?t|have not|didn'?t|did not|still not|still hasn'?t|yet to|not yet) (?:\w+ )?(?:arrived?|received?|recieved?|come|came|turned up|turn up|showed up|show up|been delivered|delivered|got it|get it|got them)",
        r"(?:tracking|it|the app|the courier|royal mail|dpd|ups|dhl|postnord|hermes|evri) (?:says|said|shows|showed|shows it as|says it was|said it was) (?:\w+ )?delivered",
        r"(?:marked|shown|showing|listed) as delivered", r"(?:still )?no sign of (?:it|them|the|my|our|any)",
        r"only (?:\w+ ){0,3}(?:arrived|came|turned up|was delivered|were delivered)", r"(?:items?|parts?|pieces?) (?:\w+ )?(?:missing|was missing|were missing)",
        r"bara (?:\w+ ){0,3}(?:kom|har kommit|levererades)", r"(?:saknas|fattas) (?:\w+ ){0,3}(?:i paketet|i leveransen)",
        r"nur (?:\w+ ){0,3}(?:angekommen|geliefert|gekommen)", r"(?:fehlt|fehlen) (?:\w+ ){0,3}(?:im paket|in der lieferung)",
        r"(?:solo|solamente) (?:\w+ ){0,3}(?:llego|llegaron|recibi|entregaron)", r"(?:falta|faltan) (?:\w+ ){0,3}(?:en el paquete|en el pedido)",
        r"(?:seulement|que) (?:\w+ ){0,3}(?:arrive\w*|recu\w*|livre\w*)", r"(?:il manque|manquant\w*)",
        r"(?:maar|slechts|alleen) (?:\w+ ){0,3}(?:aangekomen|ontvangen|geleverd|bezorgd)", r"ontbreek\w*", r"nothing (?:has |have |ever )?(?:\w+ )?(?:arrived|come|came|turned up|been delivered)", r"(?:lost|stolen|missing) (?:in the post|in transit|parcel|package)",
        r"(?:parcel|package|order|delivery) (?:was |has been |is |got )?(?:lost|stolen|missing)", r"out for delivery for",
        r"(?:was|is) (?:supposed|meant|due) to (?:arrive|be delivered|come)|should have (?:arrived|come|been delivered)",
        r"(?:tracking|sparning\w*|sendungsverfolgung|seguimiento|suivi|track ?(?:&|and|n) ?trace) (?:\w+ ){0,4}(?:not|hasn'?t|has not|inte|nicht|no|pas|niet) (?:\w+ )?(?:updated|moved|changed|uppdaterats|uppdaterad|aktualisiert|actualizado|bouge|mis a jour|bijgewerkt)",
        r"(?:tracking|sparning\w*|sendungsverfolgung|seguimiento|suivi|track ?(?:&|and|n) ?trace) (?:\w+ ){0,3}(?:says|said|shows|sager|sagt|zeigt|dice|pone|dit|indique|affiche|zegt|geeft aan) (?:\w+ ){0,2}(?:delivered|levererad\w*|zugestellt|geliefert|entregado|livr\w*|bezorgd|geleverd)",
        r"skulle (?:ha )?(?:kommit|levererats|komma)", r"(?:hatte|hatte|sollte|hätte) (?:\w+ ){0,4}(?:ankommen|kommen|geliefert werden|da sein)",
        r"(?:tenia|deberia|debia) (?:que |de )?(?:haber )?(?:llegado|llegar)", r"(?:aurait du|devait|devrait) (?:\w+ )?(?:arriver|etre livre\w*)",
        r"had (?:\w+ ){0,3}(?:moeten|zullen) (?:aankomen|komen|bezorgd|geleverd)|zou (?:\w+ ){0,3}(?:aankomen|bezorgd worden|geleverd worden)",
        # sv
        r"(?:aldrig|inte|annu inte|fortfarande inte|inget|ingenting) (?:\w+ )?(?:kommit|kom|fatt|levererats|dykt upp|levererat)",
        r"(?:star|stod|sager|sa) (?:att den ar |som )?levererad", r"levererad men",
        # de
        r"(?:nicht|nie|noch nicht|immer noch nicht|noch immer nicht|nichts) (?:\w+ )?(?:angekommen|erhalten|geliefert|zugestellt|bekommen|da)",
        r"als zugestellt", r"(?:paket|sendung|lieferung) (?:ist )?(?:verloren|verschwunden|weg)",
        # es
        r"(?:no|nunca|todavia no|aun no|nada) (?:me )?(?:ha |han |he )?(?:llegado|llego|recibido|recibi|entregado|entregaron)",
        r"(?:marcado|aparece|figura|pone) como entregado", r"(?:paquete|pedido) (?:perdido|extraviado|robado)",
        # fr
        r"(?:jamais|pas|toujours pas|rien) (?:rien |encore )?(?:recu|arrive|livre|ete livre)",
        r"(?:indique|marque|affiche|note|notee|indiquee) comme livr\w*", r"colis (?:perdu|vole|egare|jamais)",
        # nl
        r"(?:niet|nooit|nog steeds niet|nog niet|niks|niets) (?:\w+ )?(?:ontvangen|aangekomen|geleverd|bezorgd|gekregen|binnen)",
        r"(?:als )?bezorgd(?:,)? maar", r"(?:pakket|bestelling) (?:is )?(?:kwijt|zoek|verloren|gestolen)",
    ], {"not_before": NOT_GOODS + r"\W+(?:\w+\W+){0,3}$",
        "not_after": r"^\W+(?:(?:\w+\W+){0,2}" + NOT_GOODS + r"\b|a (?:fin|final) de mes|a pagar|a cubrir)",
        "requires": GOODS_CONTEXT}),
    ("Says the item is faulty, damaged or wrong", [
        r"(?:arrived|came|delivered|turned up|was|is|were|are) (?:\w+ )?(?:damaged|broken|smashed|cracked|faulty|defective|torn|ripped|scratched|dented|shattered|chipped|leaking|mouldy|used)",
        r"(?:damaged|broken|faulty|defective|counterfeit|fake|wrong|smashed|cracked|used|second-hand) (?:item|items|product|products|goods|parcel|package|order|model|colour|color|thing|article|one|device|unit)",
        r"(?:stopped|stops) (?:working|charging|turning on)", r"broke (?:after|within|down|the first|on the)", r"fell apart",
        r"(?:leaks|leaking) (?:everywhere|water|all over)", r"not as (?:described|advertised|pictured)", r"not what i (?:ordered|paid for)",
        r"(?:sent|got|received|delivered) (?:me )?(?:the )?wrong (?:\w+ )?(?:item|thing|product|order|one|colour|model)",
        # sv
        r"(?:fel|trasig\w*|defekt\w*|skadad\w*|sonder\w*) (?:vara|varor|produkt\w*|farg|modell|paket|leverans)",
        r"(?:kom|kommit|var|ar|levererades|anlande) (?:\w+ )?(?:trasig\w*|sonder|skadad\w*|defekt\w*|repig)",
        r"slutade (?:att )?(?:fungera|funka|ladda)", r"gatt sonder", r"hal i",
        # de
        r"(?:falsch\w*|defekt\w*|kaputt\w*|beschadigt\w*) (?:artikel|ware|produkt|lieferung|paket|farbe|modell|teil|jacke)",
        r"(?:ist|kam|war|wurde|sind|kamen) (?:\w+ )?(?:defekt|kaputt|beschadigt|zerbrochen|gebrochen)",
        r"funktioniert (?:\w+ )?nicht mehr", r"(?:falsche|andere) \w+ (?:bekommen|erhalten|geliefert)",
        r"kaputt(?:gegangen|gemacht)", r"(?:lauft|leckt) (?:\w+ )?aus", r"geht (?:\w+ )?nicht mehr",
        # es
        r"(?:llego|llegaron|vino|esta|estaba|vinieron) (?:\w+ )?(?:rot[oa]s?|danad\w*|defectuos\w*|estropead\w*|rayad\w*)",
        r"(?:articulo|producto|pedido|paquete) (?:equivocad\w*|incorrect\w*|defectuos\w*|rot[oa]|danad\w*)",
        r"dejo de funcionar", r"no es lo que (?:pedi|compre)",
        # fr
        r"(?:article|produit|colis|commande|appareil) (?:defectueu\w*|casse\w*|abime\w*|endommage\w*|errone\w*)",
        r"mauvais (?:article|produit|modele|colis|coloris)", r"(?:est arrive\w*|arrive\w*|recu\w*) (?:\w+ )?(?:casse\w*|abime\w*|endommage\w*|defectueu\w*)",
        r"defectueu\w*", r"ne fonctionne plus", r"(?:tombe|tombee) en panne",
        # nl
        r"(?:verkeerd\w*|kapot\w*|defect\w*|beschadigd\w*) (?:artikel|product|pakket|bestelling|item|kleur|model|apparaat)",
        r"(?:kwam|is|was|zijn|waren) (?:\w+ )?(?:kapot|stuk|beschadigd|defect) (?:aan|binnen|geleverd|bezorgd)",
        r"doet het niet meer", r"(?:werkt|werken) niet meer",
    ], {"not_before": APP_THINGS + r"\W+(?:\w+\W+){0,3}$", "requires": GOODS_CONTEXT}),
    ("Says the merchant will not help", [
        r"(?:merchant|shop|store|seller|retailer|they|company|vendor|website) (?:still )?(?:won'?t|will not|wont|refuses?|refused|isn'?t|is not|aren'?t|are not|haven'?t|hasn'?t|have not|has not|didn'?t|did not|never|keeps?) (?:\w+ )?(?:refund|reply|replied|replying|respond|responded|responding|answer|answered|answering|get back|got back|help|helping|accept|take it back|replace|ignoring)",
        r"(?:ignored|ignoring) (?:my|me|all|every|\w+ (?:emails|messages|calls))", r"(?:shop|merchant|store|seller)'?s? (?:chat|phone|email) (?:just )?(?:closes|is dead|doesn'?t work)",
        r"(?:won'?t|will not|wont|refuses? to|refused to|refusing to) (?:give me (?:a|my) |issue (?:a|my) |process (?:a|my) )?refund",
        r"in (?:the )?(?:merchant|shop|seller|store|retailer)'?s? favou?r",
        r"(?:inte vill|vagrar|vagrade) (?:\w+ )?(?:aterbetala|betala tillbaka|ersatta|byta|ta tillbaka)", r"(?:har )?ignorerat (?:\w+ ){0,2}(?:mejl|mail|meddelanden|samtal|mig)",
        r"(?:i|till) (?:butikens|handlarens|saljarens) favor",
        r"(?:will|mochte|moechte) (?:mir )?(?:das geld |den betrag )?nicht (?:erstatten|zuruckzahlen|zurueckzahlen|zuruckerstatten)", r"zugunsten (?:des|der) (?:handlers|haendlers|shops|verkaufers)",
        r"no (?:me )?quiere(?:n)? (?:devolver|reembolsar)|se niega(?:n)? a (?:devolver|reembolsar|cambiar)", r"a favor (?:de la tienda|del comercio|del vendedor)",
        r"refuse\w* de (?:me )?(?:rembourser|reprendre|echanger)|ne veut pas (?:me )?rembourser", r"en faveur du (?:marchand|commercant|vendeur)",
        r"wil (?:\w+ )?niet (?:terugbetalen|terugnemen|omruilen)|weigert (?:\w+ )?(?:terug te betalen|terug te nemen)", r"in het voordeel van de (?:winkel|verkoper|webshop)",
        # sv
        r"(?:butiken|saljaren|handlaren|foretaget|de|dom|hemsidan) (?:\w+ ){0,4}(?:svarar inte|har inte svarat|vagrar|ignorerar|hor inte av sig)",
        # de
        r"(?:handler|haendler|shop|verkaufer|verkaeufer|laden|geschaft|firma) (?:\w+ ){0,4}(?:antwortet|reagiert|meldet sich) (?:\w+ ){0,4}(?:nicht|nie)",
        r"(?:handler|haendler|shop|verkaufer|verkaeufer) (?:weigert sich|verweigert)",
        # es
        r"(?:la tienda|el comercio|el vendedor|la empresa|el comerciante|la web) (?:\w+ ){0,4}no (?:responde|contesta|quiere|me devuelve|me hace caso)",
        # fr
        r"(?:vendeur|marchand|commercant|magasin|site|boutique) (?:\w+ ){0,4}(?:ne (?:repond|veut|me rembourse|donne)|refuse)",
        # nl
        r"(?:winkel|webshop|verkoper|shop|handelaar) (?:\w+ ){0,4}(?:reageert|antwoordt|belt) (?:\w+ ){0,4}(?:niet|nooit)",
        r"(?:winkel|webshop|verkoper) (?:weigert|negeert)",
    ]),
]

# -- complaint or legal threat -----------------------------------------------------------------
_NOT_CASUAL = r"(?:only|no|not|any|without|enda|inga|inget|einzige\w*|keine|kein|unica|ninguna|sin|seule|aucune|enige|geen|niet)\W+(?:\w+\W+)?$"
COMPLAINT_LEGAL: list = [
    ("Makes a formal complaint", [
        r"formal complaint", r"official complaint",
        r"(?:make|making|file|filing|lodge|lodging|raise|raising|submit|submitting|register|open|escalate|put in) (?:a |an |my )?(?:formal |official |written )?complaint",
        r"complaints? (?:procedure|process|department|team|policy|reference)", r"(?:want|wish|would like|'?d like|going|need|intend) to complain",
        r"final response(?: letter)?", r"deadlock letter", r"writing to complain|(?:i'?m|i am) complaining (?:about|to)",
        r"formell\w* klagomal", r"(?:lamna|lamnar|gora|framfora|skicka|inkomma med|anmala) (?:ett )?(?:formellt )?klagomal",
        r"(?:vill|tanker|ska) klaga", r"klagomalsansvarig|klagomalshantering",
        r"(?:offizielle|formelle|formliche|foermliche) beschwerde", r"beschwerde (?:\w+ )?(?:einreichen|einlegen|erheben)",
        r"lege (?:\w+ ){0,3}beschwerde ein", r"beschwere mich(?! nicht)", r"(?:mochte|moechte|will|werde) mich (?:(?!nicht\b)\w+ )?beschweren",
        r"beschwerdestelle|beschwerdemanagement",
        r"reclamacion (?:formal|oficial)", r"(?:poner|presentar|interponer|hacer|pongo|presento) (?:una )?(?:reclamacion|queja)",
        r"hoja de reclamaciones", r"queja formal", r"(?:quiero|voy a|me gustaria|escribo para) quejarme",
        r"reclamation (?:officielle|formelle)", r"(?:deposer|faire|adresser|formuler|introduire) (?:une )?(?:reclamation|plainte)",
        r"(?:je veux|je souhaite|pour) me plaindre", r"service (?:des )?reclamations",
        r"(?:officiele|formele) klacht", r"klacht (?:\w+ )?(?:indienen|in te dienen|ingediend|neerleggen|indien)",
        r"klacht (?:over|tegen)", r"klachtenprocedure|klachtenafdeling|klachtenformulier",
    ], {"not_before": _NOT_CASUAL}),
    ("Complains about how they were treated", [
        r"(?:agent|staff|employee|advis[eo]r|colleague|person|lady|man|woman|guy|rep|representative|operator) (?:\w+ ){0,5}(?:rude|unprofessional|disrespectful|condescending|patronising|patronizing|laughed at me|hung up on me)",
        r"(?:want|would like|expect) (?:this|it) (?:to be )?(?:looked into|investigated)",
        r"(?:handlaggare|personal|medarbetare|kundtjanst\w*|hon|han) (?:\w+ ){0,4}(?:otrevlig|oforskamd|nedlatande|respektlos)", r"vill att (?:det|detta) utreds",
        r"(?:mitarbeiter\w*|personal|berater\w*|sie|er) (?:\w+ ){0,5}(?:unhoflich|unhoeflich|respektlos|herablassend|frech)", r"(?:mochte|moechte|will|erwarte),? dass (?:das|dies) (?:\w+ )?(?:untersucht|gepruft|geprueft)",
        r"(?:agente|empleado|empleada|asesor\w*|operador\w*|persona) (?:\w+ ){0,5}(?:maleducad\w*|groser[oa]|borde|irrespetuos\w*)", r"quiero que se investigue",
        r"(?:conseill\w*|agent|employe\w*|personne|operat\w*) (?:\w+ ){0,6}(?:impoli\w*|irrespectueu\w*|desagreable|meprisant\w*)|impolitesse", r"je veux que (?:ce soit|cela soit) (?:examine|etudie)",
        r"(?:medewerker|medewerkster|personeel|adviseur|ze|hij) (?:\w+ ){0,5}(?:onbeschoft|onvriendelijk|respectloos|brutaal)", r"wil dat (?:dit|het) (?:\w+ )?(?:onderzocht|uitgezocht)",
    ]),
    ("Mentions an ombudsman or regulator", [
        r"ombuds\w*", r"\bfos\b", r"\bfca\b", r"financial conduct authority", r"regulator\w*", r"trading standards",
        r"\bcfpb\b", r"information commissioner", r"watchdog", r"better business bureau", r"consumer protection",
        r"\barn\b", r"allmanna reklamationsnamnden|reklamationsnamnden", r"konsumentverket", r"finansinspektionen",
        r"konsumentvagled\w*", r"halla konsument", r"integritetsskyddsmyndigheten|\bimy\b",
        r"bafin", r"verbraucherzentrale", r"schlichtungsstelle", r"datenschutzbehorde|datenschutzbeauftragt\w*",
        r"verbraucherschutz\w*",
        r"oficinas? (?:municipal(?:es)? )?de consumo", r"(?:a|en|ante) consumo\b", r"\bomic\b", r"\bocu\b", r"facua",
        r"banco de espana", r"defensor del (?:cliente|consumidor|pueblo)", r"agencia (?:espanola )?de proteccion de datos|\baepd\b",
        r"mediateur|mediation", r"dgccrf", r"que choisir|\bufc\b", r"60 millions", r"\bacpr\b", r"\bcnil\b", r"signal ?conso",
        r"associations? de consommateurs",
        r"kifid", r"\bafm\b", r"\bacm\b", r"autoriteit (?:consument en markt|financiele markten|persoonsgegevens)",
        r"consumentenbond", r"geschillencommissie", r"juridisch loket", r"\bdnb\b",
    ]),
    ("Threatens legal action", [
        r"lawyers?", r"solicitors?", r"attorneys?", r"legal (?:action|advice|proceedings|steps|team|route|claim)",
        r"(?:take|taking|see) (?:you|this|them|lumo|it|the matter) (?:to|in) court", r"(?:to|in|at) court\b",
        r"court (?:case|action|order|claim|proceedings)", r"county court|\bccj\b", r"small claims",
        r"(?:will|going to|gonna|i'?ll|i will|could|can|should|to|and) sue\b", r"sue (?:you|lumo|your|the|them)", r"suing", r"lawsuit",
        r"(?:is|that'?s|this is|isn'?t|it'?s) (?:even |not |definitely )?(?:legal|illegal|lawful|unlawful)", r"illegal\w*|unlawful\w*",
        r"section 75", r"consumer (?:credit|rights) act",
        # sv
        r"advokat\w*", r"jurist\w*", r"stamma (?:er|foretaget|lumo|dem)", r"stamning", r"tingsratt\w*", r"domstol\w*",
        r"rattslig\w* (?:atgard\w*|steg|process)", r"juridisk\w* (?:hjalp|atgard\w*|steg|vag)", r"olagligt",
        # de
        r"\w*anwalt\w*|\w*anwaltin\w*", r"rechtsschutz\w*", r"legal (?:expenses|cover|insurance)", r"rechtlich\w* (?:schritte|konsequenzen|wege)", r"vor gericht|gerichtlich\w*|amtsgericht|gerichtsverfahren",
        r"\w*klage (?:einreichen|erheben)|verklag\w*", r"(?:zeige|zeig) (?:euch|sie|ihre firma|ihr unternehmen) an", r"illegal|rechtswidrig",
        # es
        r"abogad\w*", r"demandar\w*|demanda judicial|(?:os|les) (?:voy a )?demand\w*", r"juzgado\w*", r"tribunal\w*",
        r"acciones legales|via judicial|medidas legales", r"denunciar(?:os|les)?|(?:os|les) (?:voy a )?denunci\w*", r"ilegal",
        # fr
        r"avocat\w*", r"(?:mise|mets|mettre) en demeure", r"tribunal\w*", r"en justice|action en justice",
        r"poursuite\w* (?:judiciaire|en justice)|poursuivre en justice", r"procedure judiciaire", r"juridique\w*",
        r"plainte contre", r"illegal",
        # nl
        r"advocaat\w*", r"jurist\w*", r"(?:naar|bij) de rechter|rechtszaak|rechtbank", r"juridische (?:stappen|actie|weg)",
        r"dagvaard\w*", r"aansprakelijk\w*", r"onwettig|illegaal",
    ], {"not_before": r"(?:power|powers|lasting power|enduring power) of\W+$|food\W+$|tennis\W+$|basketball\W+$"}),
    ("Threatens to report the company or go public", [
        r"report (?:you|your company|lumo|this|it|the company|you guys|you lot) to", r"reporting (?:you|your company|lumo|this|it) to",
        r"(?:go|going|went) to the (?:press|media|papers|newspapers|bbc|news)", r"trustpilot",
        r"(?:leave|leaving|write|writing) (?:a |an )?(?:bad|terrible|awful|negative|1|one)[- ]?(?:star )?review",
        r"anmala (?:er|foretaget|lumo|detta|det har)", r"(?:gora|gor) en anmalan", r"anmaler er", r"anmalan (?:till|mot)",
        r"(?:ga|gar|vanda mig) till (?:media|pressen|tidningen|tidningarna)",
        r"(?:zur|an die) presse", r"(?:ir|acudir) a los medios", r"(?:aux|les) medias",
        r"(?:stap|ga) (?:ik )?naar (?:radar|de media|de pers|de krant)",
    ]),
    ("Asks for a manager", [
        r"(?:speak|talk) (?:to|with) (?:a|your|the|someone) (?:manager|supervisor|senior|team leader|someone more senior|higher up)",
        r"escalate (?:this|my|it)", r"(?:prata|tala) med (?:en|er) (?:chef|ansvarig|overordnad)",
        r"(?:mit|einen|ihren) (?:vorgesetzten|teamleiter|chef)", r"hablar con (?:un|el|tu|su|vuestro) (?:responsable|supervisor|encargado|jefe)",
        r"parler (?:a|avec) (?:un|votre|le) (?:responsable|superieur|manager)", r"(?:leidinggevende|teamleider|manager) (?:spreken|aan de lijn)",
    ]),
]

# -- vulnerability -----------------------------------------------------------------------------
# "died", "dog", "murió", "mort", "dood": a death only when it is a person's.
_DIED_EXCLUDE = {"not_before": DEVICE + r"\W+(?:\w+\W+){0,2}$|\b(?:se me|se le|it|that|idea|plan|dream|hope)\W+$",
                 "not_after": r"^\W+(?:on me\b|el (?:movil|telefono|portatil|ordenador)|la bateria|de (?:rire|faim|froid|envie|ganas|risa))"}
VULNERABILITY: list = [
    ("Mentions a bereavement", [
        r"pas+ed away", r"passed on", r"passing of", r"death\w*", r"deceased", r"bereav\w*", r"funeral\w*", r"probate",
        r"executor\w*|executrix", r"(?:my|our|his|her) late (?:\w+ )?" + RELATIVE_EN, r"widow\w*",
        r"lost (?:my|our) " + RELATIVE_EN + r"\b(?! (?:card|phone|password|job))", r"\brip\b", r"estate of",
        r"(?:has|had|have|recently|who|just|suddenly|sadly|unexpectedly|since|when|after) died",
        r"(?:was|were|got|been|being) killed", r"fatal (?:accident|crash|heart attack)", r"lost (?:his|her|their) li(?:fe|ves)",
        r"(?:gatt|gick|gar) bort", r"avled\w*|avlid\w*", r"dodsbo\w*", r"bouppteckning\w*", r"dodsfall\w*",
        r"dodsattest|dodsbevis", r"begravning\w*", r"ankling|anka\b", r"(?:har|hade) dott|ar dod\b",
        r"verstorben\w*|verstarb|gestorben|verschieden", r"todesfall|trauerfall|\btod\b|todes\w*", r"sterbeurkunde",
        r"beerdigung|bestattung|beisetzung", r"verwitwet|witwe\w*", r"erbschein|nachlass\w*|testamentsvollstreck\w*|\berbe\b|\berbin\b",
        r"falleci\w*", r"(?:ha|han|habia) muerto|muerte", r"defuncion", r"herencia|heredero\w*|albacea", r"viud[oa]\w*",
        r"funeral|entierro|velatorio|tanatorio", r"\bduelo\b", r"difunt\w*", r"q\.?e\.?p\.?d",
        r"deced\w*|deces", r"(?:est|etait) mort\w*|la mort de", r"succession", r"notaire", r"heritier\w*|heritage",
        r"obseques|enterrement|funerailles", r"\bveuf\b|\bveuve\b", r"defunt\w*",
        r"overled\w*|overlijd\w*", r"gestorven|stierf", r"nalatenschap|erfenis|erfgena\w*|executeur|verklaring van erfrecht",
        r"begrafenis|crematie|uitvaart", r"weduw\w*",
        r"grie(?:f|ving)", r"\bsorg\b|sorgen efter|sorgearbete", r"\btrauer\w*", r"\bduelo\b|de luto", r"\bdeuil\b|en deuil", r"\brouw\b|in de rouw",
    ]),
    ("Mentions a bereavement", [
        r"died", r"(?:is|are|was|'s|am|'m|were) dying\b(?! (?:to|for))",
        RELATIVE_SV + r" (?:\w+ ){0,3}(?:dog|dott|ar dod|har dott|avled)", r"(?:ar|var) doende|haller pa att do",
        r"murio|ha muerto|han muerto|se (?:esta|estaba) muriendo", r"(?:est|etait|sont) (?:mort|morte|morts)\b|\bmort (?:le|en|il|la|subitement)",
        r"(?:is|zijn|was) (?:\w+ )?dood\b(?! moe)", r"(?:ligt|lag) op sterven",
    ], _DIED_EXCLUDE),

    ("Mentions serious illness or hospital", [
        r"(?:in|into|out of|from|left|discharged from|admitted to) (?:the )?hospital", r"hospitali[sz]\w*", r"hospice",
        r"intensive care|\bicu\b|\ba&e\b", r"cancer", r"chemo\w*", r"radiotherapy", r"tumou?r", r"stroke",
        r"heart attack", r"surgery", r"(?:seriously|terminally|chronically|very|critically|long[- ]term) (?:ill|sick|unwell)",
        r"terminal(?:ly)?", r"illness", r"(?:been|am|was|fell|is|became|i'?m|im|being) (?:very |really |quite |so |seriously )?(?:ill|unwell)\b",
        r"(?:signed off|off) (?:work )?sick", r"sick (?:leave|note)", r"diagnos\w*", r"disab\w*",
        r"partially sighted|visually impaired|\bblind\b|\bdeaf\b|hard of hearing|wheelchair", r"dementia", r"alzheimer\w*",
        r"parkinson\w*", r"pregnan\w*", r"miscarriage", r"learning (?:disabilit\w*|difficult\w*)", r"autis\w*", r"dyslexi\w*",
        r"brain injury", r"long covid", r"recovering from",
        # sv
        r"sjukhus\w*", r"inlagd", r"cancer", r"cellgift\w*|stralbehandling\w*", r"stroke", r"hjartinfarkt", r"opererad\w*|operation",
        r"(?:allvarligt|svart|langtids|kroniskt|jatte|valdigt|blev|ar|varit|legat) sjuk\b", r"langtidssjuk\w*", r"sjukskriv\w*",
        r"sjukdom\w*", r"funktionsned\w*|funktionsvar\w*|handikapp\w*|synskad\w*|\bblind\b|\bdov\b|rullstol", r"demens\w*|alzheimer",
        r"gravid\w*", r"missfall",
        # de
        r"krankenhaus\w*|klinik\w*", r"intensivstation", r"krebs\w*", r"chemo\w*", r"schlaganfall", r"herzinfarkt",
        r"operiert|operation", r"(?:schwer|chronisch|lange|unheilbar|todkrank)(?:\w* )?krank\w*", r"krankgeschrieben",
        r"krankheit\w*", r"(?:bin|war|wurde|ist) (?:\w+ )?krank\b", r"behinder\w*", r"\bblind\b|gehorlos|sehbehindert|rollstuhl",
        r"demenz\w*|alzheimer", r"schwanger\w*", r"fehlgeburt", r"pflegegrad|pflegefall|pflegeheim|pflegebedurftig\w*",
        # es
        r"hospital\w*|ingresad\w*|urgencias|\buci\b", r"cancer", r"quimio\w*|radioterapia", r"ictus|infarto",
        r"(?:me )?operaron|operacion|cirugia|intervencion quirurgica", r"enfermedad\w*",
        r"(?:estoy|he estado|esta|estaba|muy|gravemente|cai) enferm[oa]", r"(?:estoy|estar|he estado|sigo|llevo (?:\w+ ){0,3})de baja",
        r"baja medica", r"discapacidad|minusvalia|invalidez|\bciego\b|\bciega\b|sord[oa]\b|silla de ruedas",
        r"demencia|alzheimer", r"embarazad\w*", r"aborto espontaneo",
        # fr
        r"hospitalis\w*|(?:a|de) l'?hopital|hopital", r"urgences", r"reanimation", r"cancer", r"chimio\w*|radiotherapie",
        r"\bavc\b|infarctus|crise cardiaque", r"opere\w*|operation", r"(?:gravement|tres|serieusement) malade|maladie\w*",
        r"(?:suis|etais|ete|etre|tombe\w*) malade", r"arret maladie|en arret", r"handicap\w*|invalidit\w*|aveugle|malvoyant\w*|\bsourd\w*|fauteuil roulant",
        r"demence|alzheimer", r"enceinte|grossesse", r"fausse couche",
        # nl
        r"ziekenhuis\w*", r"opgenomen", r"intensive care|\bic\b", r"kanker", r"chemo\w*|bestraling\w*",
        r"beroerte|hartaanval|herseninfarct", r"geopereerd|operatie", r"(?:ernstig|erg|zwaar|chronisch|langdurig|ben|was|werd|word|zit|lag|ligt) (?:\w+ ){0,2}ziek\b",
        r"ziekte\w*", r"ziek (?:thuis|gemeld|geworden)", r"gehandicapt|beperking|\bblind\b|\bdoof\b|slechtziend|rolstoel",
        r"dementie|alzheimer", r"zwanger\w*", r"miskraam",
    ], {"not_before": r"(?:work|works|working|worked|job|shifts?|nurse|doctor|volunteer\w*|jobbar|arbetar|arbeite\w*|trabaj\w*|travaill\w*|werk\w*)"
                      r" (?:at|in|for|on|pa|vid|im|in einem|en|a|dans|bij) (?:the |a |an |el |un |une |l'|het |een |de )?$"}),
    ("Mentions mental-health distress", [
        r"suicid\w*", r"kill (?:myself|me)\b(?! (?:with|laughing))", r"end (?:it all|my life|things)", r"(?:take|taking) my (?:own )?life",
        r"(?:don'?t|do not|dont) want to (?:be here|live|go on|exist)", r"no (?:point|reason) (?:in )?(?:living|going on|carrying on)",
        r"(?:don'?t|can'?t|cannot) see the point", r"self[- ]?harm\w*", r"(?:harm|hurt) myself", r"mental(?:ly)? (?:health|ill|illness|breakdown|crisis)",
        r"(?:nervous|mental|emotional) breakdown", r"having a breakdown", r"depress(?:ed|ion|ive)", r"anxiety",
        r"panic attack\w*", CANT + r" cope", r"not coping", r"in crisis", r"bipolar", r"\bptsd\b", r"psychiatr\w*",
        r"therapist|therapy|counsell\w*", r"samaritans", r"breaking point", r"falling apart", r"overwhelmed", r"burn(?:ed|t)?[- ]?out",
        r"(?:i'?m|i am|im) (?:so |really )?(?:desperate|terrified)", r"(?:bad|dark) place(?: mentally)?", r"manic|mania|psychos[ie]s|psychotic",
        # sv
        r"sjalvmord\w*", r"ta (?:mitt|livet av mig)|ta livet av", r"vill inte leva", r"orkar inte (?:mer|langre|leva|med nagonting|med nagot)",
        r"psykisk\w*", r"mar (?:sa |jatte|valdigt |otroligt |fruktansvart )?(?:daligt|skit|uselt)", r"depression|deprimerad",
        r"angest\w*", r"panikangest", r"utbrand|utmattning\w*|utmattad", r"i kris", r"sjalvskad\w*",
        # de
        r"suizid\w*|selbstmord\w*|umbringen", r"nicht mehr leben", r"(?:leben|alles) beenden", r"(?:keinen|kein) sinn mehr",
        r"selbstverletz\w*", r"depression\w*|depressiv\w*", r"angststorung|panikattacke\w*|angstzustand\w*", r"psychisch\w*|psychiatr\w*",
        r"burn-?out", r"(?:halte|ertrage) (?:das|es) (?:\w+ )?nicht mehr", r"am ende meiner krafte", r"nervenzusammenbruch", r"uberfordert|ueberfordert",
        r"psychotherap\w*",
        # es
        r"suicid\w*|quitarme la vida|no quiero vivir|acabar con todo", r"no tiene sentido (?:nada|vivir|seguir)", r"autolesion\w*",
        r"depresion|deprimid\w*", r"ansiedad", r"ataques? de (?:panico|ansiedad)", r"salud mental", r"psicolog\w*|psiquiatr\w*",
        r"no puedo mas", r"al limite", r"desbordad\w*", r"me hunde\w*|hundid[oa]",
        # fr
        r"suicid\w*", r"mettre fin a (?:mes jours|ma vie)", r"en finir", r"envie de mourir", r"plus envie de vivre",
        r"automutil\w*", r"depression|deprime\w*|depressi\w*", r"crises? d'?angoisse|troubles? anxieu\w*",
        r"sante mentale", r"psychiatr\w*|psycholog\w*", r"burn-?out", r"n'?en peux plus", r"a bout\b", r"je craque",
        r"(?:idees|pensees) (?:noires|suicidaires)",
        # nl
        r"zelfmoord\w*|suicid\w*", r"niet meer (?:willen )?leven", r"(?:er )?een eind aan (?:maken|mijn leven)", r"zelfbeschadig\w*",
        r"depressie\w*|depressief", r"angststoornis|paniekaanval\w*", r"psychisch\w*|psychiat\w*|psycholoog",
        r"burn-?out|overspannen", r"(?:kan|trek) (?:het|dit) (?:\w+ )?niet meer aan|kan (?:\w+ ){0,3}niks aan", r"ten einde raad",
        r"zie het niet meer zitten", r"wanhopig",
    ]),
    ("Mentions abuse or coercion", [
        r"domestic (?:abuse|violence)", r"abus(?:ive|er|ers)\b", r"(?:being|been|was|were|am) abused|abusing me|abuse (?:from|by|at home)",
        r"(?:physical|emotional|verbal|sexual|financial|economic) abuse", r"coerc\w*",
        r"controlling (?:partner|ex|husband|wife|boyfriend|girlfriend|relationship)",
        r"(?:made|forced|pressured|pressurised|pressurized|make|makes|forcing) me (?:to )?(?:take|buy|sign|open|order|use|put)",
        r"(?:women'?s )?refuge", r"restraining order", r"(?:scared|afraid|frightened|terrified) of (?:him|her|my \w+)",
        r"violent", r"(?:fled|flee|escaped|left) (?:from )?(?:an? )?(?:abusive|violent)", r"(?:economic|financial) abuse",
        # sv
        r"vald i nara relation\w*", r"misshand\w*", r"kvinnojour\w*|skyddat boende", r"kontaktforbud", r"ekonomiskt vald",
        r"(?:tvingade|tvingat|tvingar|pressade) mig", r"(?:radd|livradd) for (?:honom|henne|min|mitt)", r"hotade mig|hotar mig",
        r"skyddad identitet|sekretessmarkering",
        # de
        r"hausliche gewalt|haeusliche gewalt", r"gewalttatig\w*|gewalttaetig\w*", r"misshandl\w*", r"frauenhaus",
        r"kontaktverbot|naherungsverbot|gewaltschutz\w*", r"(?:hat|hatte) mich (?:\w+ )?(?:gezwungen|genotigt|unter druck gesetzt)",
        r"angst vor (?:ihm|ihr|meinem|meiner)", r"bedroht mich", r"auskunftssperre",
        # es
        r"violencia (?:de genero|domestica|machista)", r"maltrat\w*", r"me (?:obligo|obligaba|forzo|forzaba|obliga) a",
        r"orden de alejamiento", r"casa de acogida", r"miedo (?:de|a) (?:el|ella|mi)\b", r"me amenaz\w*",
        # fr
        r"violences? (?:conjugal\w*|domestique\w*)", r"(?:conjoint|mari|compagnon) violent", r"maltrait\w*", r"battue?\b",
        r"foyer d'?accueil|centre d'?hebergement", r"ordonnance de protection", r"(?:m'a|me) (?:force\w*|oblige\w*) a",
        r"peur de (?:lui|elle|mon|ma)\b", r"sous emprise|son emprise", r"harcel\w*", r"me menac\w*|m'?a menace\w*|menaces",
        r"heberge\w* (?:dans|en) (?:un )?foyer|foyer pour femmes",
        # nl
        r"huiselijk geweld", r"mishandel\w*", r"blijf-van-mijn-lijfhuis|vrouwenopvang", r"contactverbod|straatverbod",
        r"(?:dwong|gedwongen|dwingt) (?:me|mij)", r"bang voor (?:hem|haar|mijn)", r"bedreig\w*", r"financieel misbruik",
    ]),
    ("Mentions age or care needs", [
        r"elderly", r"pensioner\w*|\boap\b", r"(?:aged|is|am|i'?m|she'?s|he'?s) (?:7[5-9]|[89]\d|10\d)\b(?! (?:pounds|quid|gbp|eur|usd|dollars|euros|kr|sek))",
        r"(?:7[5-9]|[89]\d|10\d)[- ](?:years?|yrs?)[- ]old", r"\((?:7[5-9]|[89]\d)(?:,|\))",
        r"power of attorney", r"\bcarer\b|\bcarers\b|caring for", r"care home|nursing home|sheltered housing", r"lives (?:alone|on (?:her|his) own)",
        r"vulnerab\w*", r"(?:doesn'?t|does not|don'?t|do not) understand (?:the app|technology|computers|what|how)",
        r"not (?:very )?good with (?:computers|technology|phones|apps)",
        # sv
        r"(?:7[5-9]|[89]\d) ar\b", r"pensionar\w*", r"aldre (?:man|kvinna|person|mamma|pappa|foralder|dam|herre)", r"fullmakt",
        r"god man|forvaltare", r"hemtjanst", r"aldreboende|demensboende", r"anhorigvardare|anhorig",
        r"forstar inte (?:appen|tekniken|hur|datorn|mobilen)",
        # de
        r"(?:7[5-9]|[89]\d) jahre", r"rentner\w*|senior(?:in|innen|en)\b", r"betreuer\w*|gesetzliche betreuung|vorsollmacht|vorsorgevollmacht|vollmacht",
        r"pflegt? (?:meine|meinen)", r"verwirrt", r"versteht (?:die app|das|nicht)",
        # es
        r"(?:7[5-9]|[89]\d) anos", r"jubilad\w*|pensionista", r"ancian[oa]s?|persona mayor|tercera edad",
        r"tutor legal|tutela|curatela|poder notarial", r"cuidador\w*|le cuido|la cuido", r"residencia (?:de ancianos|de mayores)",
        r"no entiende (?:bien )?(?:el movil|la app|la aplicacion|la tecnologia|internet)",
        # fr
        r"(?:7[5-9]|[89]\d) ans", r"personne agee|agee\b|\bage de", r"curatelle|tutelle|mandat de protection|procuration",
        r"ehpad|maison de retraite", r"aidant\w*", r"ne comprend pas (?:l'?appli\w*|internet|le telephone)",
        # nl
        r"(?:7[5-9]|[89]\d) jaar", r"bejaard\w*|\bouderen\b|gepensioneerd\w*|\baow\b", r"mantelzorg\w*",
        r"bewindvoer\w*|curator|curatele|volmacht|mentorschap", r"verzorgingstehuis|verpleeghuis|zorginstelling",
        r"snapt (?:de app|het) niet|begrijpt (?:de app|het) niet",
    ]),
]
KINDS_RULES: dict[str, list] = {
    "vulnerability": VULNERABILITY,
    "financial_hardship": FINANCIAL_HARDSHIP,
    "fraud": FRAUD,
    "complaint_legal": COMPLAINT_LEGAL,
    "dispute": DISPUTE,
}

# -- repeat contact ----------------------------------------------------------------------------
_ORDINAL_EN = r"(?:second|third|fourth|fifth|sixth|seventh|tenth|2nd|3rd|4th|5th|6th|nth|umpteenth|hundredth|millionth)"
_TIMES = r"(?:\d{1,4}|two|three|four|five|six|seven|ten|several|multiple|many|numerous|countless|so many|a few|a couple of)"
_CONTACT_EN = (r"(?:contacted|written|wrote|emailed|e-mailed|called|rung|rang|phoned|messaged|chased|asked|explained|told|"
               r"reached out|sent|chatted|been in touch|gotten in touch|got in touch)")
REPEAT_CONTACT: list = [
    ("Says they have written before", [
        _ORDINAL_EN + r" time (?:i|i'?ve|i'?m|im|i am|i have|that i|we|writing|asking|contacting|emailing|calling|messaging|chasing|now)",
        r"for the " + _ORDINAL_EN + r" time", _CONTACT_EN + r" (?:\w+ ){0,4}" + _TIMES + r" times",
        _TIMES + r" times (?:now |already )?(?:i'?ve|i have|we'?ve) (?:\w+ )?" + _CONTACT_EN,
        r"how many (?:more )?times (?:do|must|have|should|will) (?:i|we)", r"already (?:\w+ )?" + _CONTACT_EN, r"(?:twice|three times) already",
        r"follow(?:ing)?[- ]?up (?:on|about|regarding) my (?:previous |last |earlier |original |first )?(?:email|e-mail|message|ticket|case|request|complaint|query|chat|call|letter|enquiry)",
        r"my (?:previous|last|earlier|original|first) (?:email|e-mail|message|ticket|case|request|query|complaint|enquiry|chat)",
        r"as i (?:said|mentioned|explained|wrote|stated) (?:before|previously|earlier|already|in my|last)",
        r"i (?:wrote|emailed|e-mailed|contacted|called|rang|messaged) (?:to )?(?:you )?(?:guys )?(?:last (?:week|month|time)|yesterday|before|earlier|a (?:week|month|few days) ago|\d{1,4} days ago|twice|already|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))",
        r"every time i (?:call|write|contact|chat|ring|email|message)", r"writing (?:to you )?again", r"chasing (?:this|again|up)",
        # sv
        r"(?:andra|tredje|fjarde|femte|sjatte|tionde|\d{1,4}:e) gangen (?:jag|som|vi|nu)",
        r"(?:skrivit|mejlat|mailat|ringt|kontaktat|fragat|chattat|hort av mig|forklarat) (?:\w+ ){0,4}(?:\d{1,4}|tva|tre|fyra|fem|flera|manga|massor av|x) ganger",
        r"har redan (?:\w+ )?(?:skrivit|mejlat|mailat|ringt|kontaktat|fragat|forklarat|skickat)",
        r"hur manga ganger (?:ska|maste|har)", r"mitt (?:forra|tidigare|forsta|senaste) (?:mejl|mail|meddelande|arende)",
        r"som jag (?:skrev|sa|namnde|forklarade) (?:tidigare|forut|innan|senast)",
        # de
        r"zum (?:zweiten|dritten|vierten|funften|fuenften|x-ten|zigsten|wiederholten|\d{1,4}\.?) mal",
        r"(?:(?:zwei|drei|vier|funf|fuenf|sechs|zehn|zig|\d{1,4}) ?(?:x|mal)|zweimal|dreimal|viermal|funfmal|fuenfmal|zehnmal|mehrfach|mehrmals|zigmal|oft) (?:\w+ ){0,3}(?:geschrieben|angerufen|kontaktiert|gemeldet|nachgefragt|gemailt|gefragt|erklart|geschickt)",
        r"(?:bereits|schon) (?:\w+ ){0,3}(?:geschrieben|angerufen|kontaktiert|gemeldet|nachgefragt|gemailt|erklart|geschickt)",
        r"wie oft (?:noch|muss|soll)", r"meine (?:letzte|vorherige|fruhere|frueheren|erste) (?:e-mail|mail|nachricht|anfrage)",
        r"wie (?:schon|bereits) (?:geschrieben|erwahnt|gesagt|erklart)",
        # es
        r"(?:segunda|tercera|cuarta|quinta|sexta|enesima|\d{1,4}a) vez", r"(?:escrito|llamado|contactado|reclamado|preguntado|escribo|llamo) (?:\w+ ){0,4}(?:\d{1,4}|dos|tres|cuatro|cinco|varias|muchas|mil) veces",
        r"(?:\d{1,4}|dos|tres|cuatro|cinco|varias|muchas|mil) veces (?:ya )?(?:os |les |le )?(?:he )?(?:escrito|llamado|contactado|reclamado|preguntado)",
        r"ya (?:os |les |le |te )?(?:he )?(?:escrito|llamado|contactado|escribi|llame|reclame|explique)", r"cuantas veces (?:tengo|hay)",
        r"mi (?:anterior|ultimo|primer) (?:correo|mensaje|email|e-mail)", r"como (?:ya )?(?:dije|comente|explique|os dije) (?:antes|anteriormente)",
        # fr
        r"(?:deuxieme|troisieme|quatrieme|cinquieme|enieme|nieme|\d{1,4}e|\d{1,4}eme) fois", r"(?:contacte|ecrit|appele|relance|demande|explique) (?:\w+ ){0,4}(?:\d{1,4}|deux|trois|quatre|cinq|plusieurs|maintes|mille) fois",
        r"(?:\d{1,4}|deux|trois|quatre|cinq|plusieurs|maintes) fois (?:que )?(?:je )?(?:vous )?(?:ai )?(?:contacte|ecrit|appele|relance)",
        r"(?:deja|a plusieurs reprises) (?:\w+ )?(?:ecrit|contacte|appele|relance|envoye|explique)", r"je (?:vous )?relance",
        r"combien de fois", r"mon (?:precedent|dernier|premier) (?:mail|message|courriel|e-mail)",
        r"comme (?:je l'?ai |deja )?(?:dit|indique|explique|ecrit) (?:precedemment|auparavant|plus haut)",
        # nl
        r"(?:tweede|derde|vierde|vijfde|zesde|zoveelste|\d{1,4}e) keer", r"(?:\d{1,4}|twee|drie|vier|vijf|meerdere|meermaals|vaak|zo vaak) (?:keer|maal) (?:\w+ ){0,3}(?:gemaild|gebeld|geschreven|contact|gevraagd|gestuurd|gechat|uitgelegd)",
        r"(?:al|reeds) (?:\w+ ){0,3}(?:eerder|eens|vaker|meerdere keren|twee keer|drie keer) (?:\w+ )?(?:gemaild|gebeld|geschreven|contact|gevraagd|gestuurd)",
        r"hoe vaak (?:moet|nog)", r"mijn (?:vorige|eerdere|laatste|eerste) (?:mail|e-mail|bericht|vraag)",
        r"zoals ik (?:al )?(?:eerder )?(?:schreef|zei|aangaf|uitlegde)",
    ]),
    ("Says they are still waiting for an answer", [
        r"(?:still|yet) (?:no|not had an?|haven'?t (?:had|got|received) an?y?|not received an?y?|no one has given me an?) (?:reply|answer|response|word|update|news|call ?back|feedback)",
        r"no (?:reply|answer|response) (?:yet|from you|to my|at all|whatsoever)", r"(?:haven'?t|have not|not) (?:had|heard|got|received) (?:a |any )?(?:reply|response|answer|word|back|anything back|a thing)(?:\W+(?:yet|from you))?",
        r"still waiting (?:for|on) (?:a |an |your |any |someone |somebody )?(?:reply|answer|response|call ?back|email|update|someone|somebody|you)",
        r"(?:nobody|no one|noone|no-one|nobody has|no one has) (?:has |ever )?(?:got back|gotten back|replied|answered|responded|gets back|reads|reply|answers|called me back)",
        r"(?:haven'?t|have not|not) heard (?:back|anything|a thing|from you|from anyone)",
        # sv
        r"(?:fortfarande|annu|an) (?:inget|ingen|inte fatt|inte nagot) (?:svar|aterkoppling|besked)", r"(?:inget|ingen) (?:har )?svar (?:an|annu|alls)",
        r"vantar (?:fortfarande|fortfarande pa|an) (?:pa )?(?:svar|aterkoppling|besked)", r"(?:har )?inte hort (?:nagot|nat|av er|ett ljud|nagonting)", r"ingen (?:har )?(?:svarar|svarat|hort av sig|aterkommit|aterkommer)",
        # de
        r"(?:immer noch|noch immer|bis heute|nach wie vor) (?:keine|nicht|keinerlei|nichts) (?:\w+ )?(?:antwort|ruckmeldung|rueckmeldung|reaktion|gehort)",
        r"warte (?:\w+ ){0,3}(?:immer noch|noch immer|seit \w+ \w+|schon) (?:auf )?(?:eine |ihre |eure )?(?:antwort|ruckmeldung|rueckmeldung)",
        r"(?:niemand|keiner) (?:\w+ )?(?:antwortet|meldet sich|reagiert|ruft zuruck)",
        # es
        r"sigo sin (?:respuesta|saber nada|noticias|contestacion)", r"(?:todavia|aun) (?:no|sin) (?:he recibido |tengo )?(?:respuesta|contestacion|noticias)",
        r"nadie (?:me )?(?:responde|contesta|ha respondido|ha contestado|lee)", r"sigo esperando (?:una |vuestra |su )?(?:respuesta|contestacion)",
        # fr
        r"toujours (?:aucune|pas de|sans) (?:\w+ )?(?:reponse|nouvelles?|retour)", r"(?:personne|aucun) ne (?:me )?(?:repond|rappelle|lit)",
        r"sans (?:aucune )?reponse", r"j'?attends toujours (?:une |votre |un )?(?:reponse|retour)",
        # nl
        r"nog (?:steeds|altijd) (?:geen|niks|niets) (?:\w+ )?(?:antwoord|reactie|gehoord|bericht)", r"(?:niemand|geen mens) (?:\w+ )?(?:reageert|antwoordt|belt terug)",
        r"wacht (?:nog steeds|nog altijd) op (?:een )?(?:antwoord|reactie)",
    ]),
    ("Chases an earlier message", [
        r"sorry (?:to|for) (?:chase|chasing|nag|nagging|bother(?:ing)? you again)", r"chasing (?:this|up|again|my)",
        r"(?:been|it'?s been|that'?s) (?:a|one|two|three|\d{1,4}|several|a few|over a) (?:day|days|week|weeks|month)s? (?:now )?(?:and|with|without) (?:still )?(?:no|not|an?) (?:\w+ )?(?:answer|reply|response|word)",
        r"(?:forlat|ursakta) att jag (?:tjatar|stor igen)", r"(?:gatt|har gatt) (?:ett|en|\w+) (?:dygn|dag|dagar|vecka|veckor) utan (?:\w+ )?svar",
        r"(?:dass|wenn) ich nachhake|(?:seit|nach) (?:einem|einer|\w+) (?:tag|tagen|woche|wochen) (?:\w+ )?(?:keine|ohne) (?:\w+ )?antwort",
        r"(?:perdon|perdona\w*|disculpa\w*|siento) (?:por |de )?insistir|vuelvo a escribir\w*",
        r"(?:ha|han) pasado (?:un|una|\w+) (?:dia|dias|semana|semanas) (?:y|sin) (?:\w+ )?(?:nadie|respuesta|contestar)",
        r"(?:desole|desolee|pardon) de (?:vous )?relancer|je reviens (?:encore )?vers vous",
        r"(?:ca fait|cela fait|depuis) (?:une|un|\w+) (?:journee|jour|jours|semaine|semaines) (?:et |sans )(?:toujours )?(?:pas de |aucune )?reponse",
        r"sorry dat ik (?:aandring|weer stoor|nogmaals)", r"(?:al|sinds) (?:een|\w+) (?:dag|dagen|week|weken) (?:geen|zonder) (?:\w+ )?(?:reactie|antwoord)",
    ]),
]

# -- a small stand-in for the prompt-injection scanner ----------------------------------------
INJECTION_FALLBACK: list = [
    # always checked, on top of agent_assist.assist.injection when it is there: the classic phrasings
    ("Tries to override the assistant's instructions", [
        r"(?:ignore|disregard|forget|override|bypass) (?:\w+ ){0,3}(?:instructions?|prompts?|guidelines|system prompt|programming)",
        r"(?:ignore|disregard|forget|override|bypass) (?:\w+ ){0,2}(?:rules|polic(?:y|ies))(?! (?:about|on|for) (?:the )?(?:returns?|refunds?|delivery))",
        r"ignorera (?:\w+ ){0,3}(?:instruktioner\w*|regler\w*)", r"glom (?:\w+ ){0,3}(?:instruktioner\w*|regler\w*)",
        r"(?:ignorier\w*|vergiss|vergessen sie) (?:\w+ ){0,3}(?:anweisungen|instruktionen|regeln|vorgaben)",
        r"(?:ignora\w*|olvida\w*) (?:\w+ ){0,3}(?:instrucciones|reglas|indicaciones)",
        r"(?:ignore\w*|oublie\w*) (?:\w+ ){0,3}(?:instructions|consignes|regles)",
        r"(?:negeer|vergeet) (?:\w+ ){0,3}(?:instructies|regels|opdrachten)",
    ]),
    ("Tries to switch the assistant into another mode", [
        r"you are now (?:in )?(?:an? )?(?:admin|developer|dan|unrestricted|jailbr\w*|god|root|system)",
        r"(?:developer|admin|god|jailbreak|debug|sudo) mode", r"(?:entwickler|admin)-?modus", r"modo (?:desarrollador|administrador|dios)",
        r"mode (?:developpeur|administrateur|dieu)", r"(?:ontwikkelaars|beheerders)modus", r"(?:utvecklar|admin)lage",
    ]),
    ("Writes as the system or the assistant", [
        r"^[\t\x20]*(?:system|assistant)\s*:", r"<\|?(?:system|im_start|assistant)\|?>", r"\[/?(?:inst|system)\]",
    ]),
]

# -- history: words that say nothing about what a subject is about ----------------------------
SUBJECT_STOPWORDS = frozenset("""
re fw fwd aw wg sv vs tr rv antw ref ang betreff asunto objet onderwerp
a an the and or of to for in on at my your our is are was it its i me we you this that with about from by not no
please pls hi hello hey question query help issue problem urgent request thanks thank info again still new
order orders payment payments pay lumo account app ticket case message email mail
och att det en ett i pa for med om min mitt mina er ni jag inte fran till har ar var fraga hjalp hej tack
bestallning order betalning betalningar konto appen arende
und der die das ein eine mit von zu fur auf ich mein meine ihr sie nicht ist frage hilfe hallo danke
bestellung zahlung zahlungen konto anfrage
y el la los las un una de del en con por para mi mis su no es pregunta ayuda hola gracias pedido pago pagos cuenta
et le la les un une de du des en avec pour sur mon ma mes votre ne pas est question aide bonjour merci commande
paiement paiements compte demande
en het de een van voor op met mijn je jullie niet is vraag hulp hallo bedankt bestelling betaling betalingen account
""".split())

# -- sentiment ---------------------------------------------------------------------------------
# (weight, patterns): anger adds to the anger score, negative and positive to theirs.
ANGER: list = [
    (2.0, [
        r"fuck\w*|f\*+k\w*|f\*\*\*\w*|wtf|\bffs\b|shit\w*|bullshit|bloody|the hell|as hell|piss(?:ed)? off|pissed|crap\b|damn\w*",
        r"(?:est|c'?est|quelle) (?:une )?honte|(?:es|que) una verguenza|(?:ar|ni ar) (?:en )?(?:skandal|skam)|(?:ist|sind) (?:eine|ne) schande|(?:is|zijn) (?:een )?schande",
        r"scammers|thieves|crooks|cowboys|clowns|idiots|morons|incompetent\w*|disgrace\w*|disgust\w*|furious|livid|fuming",
        r"jav(?:la|lar|el|ligt)|\bfan\b|helvete\w*|skit\w*|idioter|tjuvar|bedragare|skandal\w*|forbannad|rasande",
        r"schei(?:ss|ß)\w*|verdammt\w*|sauladen|saftladen|drecksladen|idioten|betruger|frechheit|unverschamt\w*|stinksauer|verarsch\w*|zum kotzen",
        r"joder|mierda|cono|hostia\w*|ladrones|estafadores|sinverguenza\w*|cabread\w*|furios[oa]|hasta las narices|tomando el pelo",
        r"putain|merde|bordel|fout(?:ez|ent|re|u)|foutage|escrocs|voleurs|furieu\w*|ras le bol|vous moquez|se moquer",
        r"kut\w*|godverdomme|verdomme|kolere|tering|klote\w*|oplichters|dieven|boeven|woedend|prutsers",
    ]),
    (1.5, [
        r"ridiculous|unacceptable|outrageous|appalling|shocking|pathetic|useless|absolute joke|a joke|what a joke|rip[- ]?off|daylight robbery",
        r"worst|fed up|sick (?:and tired )?of|had enough|how dare|are you (?:kidding|serious|joking)|sort (?:it|this|your \w+(?: \w+)?) out|i'?m done",
        r"angry|rubbish|shambles|terrible service|awful service|never again|embarr?ass\w*",
        r"lojligt|oacceptabelt|vardelos\w*|samsta|trott pa|helt sjukt|sjukt (?:daligt|uselt)|fattar ni inte|ett skamt|arg\b|uselt|pinsamt",
        r"lacherlich|inakzeptabel|unfassbar|unmoglich|katastroph\w*|inkompetent\w*|wutend|sauer\b|reicht mir|nase voll|schlechteste\w*|unverschamt",
        r"verguenza|indignante|inaceptable|ridicul\w*|vergonzoso|pesim[oa]|hart[oa]\b|peor\b|una broma|inutiles|incompetentes|de risa|ya basta",
        r"c'?est abuse|honte\w*|inadmissible|inacceptable|scandal\w*|ridicule|incompetent\w*|en colere|marre|pire\b|lamentable|minable|n'?importe quoi|nul(?:le|s)?\b",
        r"belachelijk\w*|waardeloos|schandalig|schande|onacceptabel|boos|kwaad|het zat|slechtste|lachertje|een grap|amateurs|bizar",
    ]),
]
ANGER.append((1.0, [
    r"how many (?:more )?times|seriously\?|unbelievable|get your act together|(?:why|how) is (?:it|this) so (?:hard|difficult)",
    r"nobody (?:cares|reads)|i want (?:this|it) (?:sorted|fixed) (?:now|today|immediately)",
    r"hur manga ganger|pa allvar\?|otroligt daligt|ingen bryr sig",
    r"wie oft (?:noch|denn|muss)|ernsthaft\?|kummert sich niemand|unglaublich",
    r"cuantas veces|en serio\?|increible|a nadie le importa",
    r"combien de fois|serieusement\?|incroyable|personne ne s'?en occupe",
    r"hoe vaak (?:nog|moet)|serieus\?|ongelooflijk|niemand die",
]))
NEGATIVE: list = [
    (1.0, [
        r"worr(?:y|ied|ying)|anxious|scared|afraid|frightened|upset|stress\w*|frustrat\w*|disappoint\w*|\bsad\b|unfortunately|annoy\w*",
        r"confus\w*|in tears|crying|desperate|panic\w*|ashamed|so stupid|terrible|awful|horrible|unhappy|not happy|struggl\w*|hopeless|nightmare",
        r"orolig|radd|ledsen|stressad|besviken|frustrerad|tyvarr|jobbigt|tufft|grater|dum\b|ledsamt|nervos",
        r"sorge\w*|angst|besorgt|traurig|enttauscht|frustriert|leider|verzweifelt|gestresst|argerlich|aergerlich|schlimm",
        r"preocupad\w*|miedo|agobiad\w*|triste|decepcionad\w*|frustrad\w*|lamentablemente|desesperad\w*|angustiad\w*|estresad\w*|fatal\b|me preocupa",
        r"inquiet\w*|\bpeur\b|angoiss\w*|triste|decu\w*|frustr\w*|malheureusement|desespere\w*|stresse\w*|\bbete\b|galere",
        r"bezorgd|\bbang\b|ongerust|verdrietig|teleurgesteld|gefrustreerd|helaas|wanhopig|gestrest|vervelend|balen",
    ]),
]
POSITIVE: list = [
    (1.0, [
        r"great|brilliant|excellent|amazing|love\b|loving|helpful|apprecia\w*|perfect|awesome|wonderful|fantastic|happy|pleased|well done|good job|lovely|smooth",
        r"toppen|grym\w*|jattebra|fantastisk\w*|nojd|glad|alskar|smidigt|super\w*",
        r"super|toll\w*|klasse|prima|hilfreich|zufrieden|freue|begeistert|spitze|wunderbar|genial",
        r"genial|excelente|perfect[oa]|encantad\w*|\butil\b|fantastic[oa]|me encanta|estupend\w*|maravill\w*",
        r"genial|parfait\w*|excellent\w*|\btop\b|ravi\w*|impeccable|\butile\b|j'?adore|formidable|au top",
        r"\btop\b|geweldig|fantastisch|handig|tevreden|\bblij\b|prima|fijn|super",
        r":\)|:-\)|😊|🙂|😀|😃|👍|❤|♥|🙏|🥰|😍",
    ]),
    (0.5, [
        r"thanks?\b|thank you|thx|cheers|\bta\b|tack\w*|danke\w*|dank je|dank u|bedankt|gracias|merci",
    ]),
]
NEGATORS = (r"(?:not|no|never|isn'?t|wasn'?t|aren'?t|don'?t|doesn'?t|didn'?t|inte|inget|ingen|aldrig|nicht|kein\w*|nie"
            r"|nunca|ni|pas|jamais|plus|niet|geen|nooit)\W+(?:\w+\W+)?$")
# capitalised words that are not shouting
ACRONYMS = frozenset("""
ID PIN OTP SMS PDF VAT GDPR FCA FOS ARN KYC BNPL UK US EU USA GBP EUR USD SEK NOK DKK CHF IBAN BIC CCJ IVA OK ATM
ICO BBB CFPB FAQ URL IOS APP TV PC ASAP AM PM NB PS DHL DPD UPS GLS PIN BANKID NU MVH BKR WW AOW KIFID AFM ACM DNB
CNIL ACPR DGCCRF UFC RSA CAF AEPD OCU OMIC FACUA ASNEF ERTE UCI AVC ICU IT LP XL XXL XS MWST UST BAFIN SCHUFA
TAN AG GMBH SA SL SAS BV AB LTD PLC MB GB
""".split())
