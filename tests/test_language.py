"""Offline language detection on short support sentences (ISO 639-1 codes)."""

from __future__ import annotations

import threading
import time

import pytest

from agent_assist import language
from agent_assist.language import DEFAULT_LANGUAGES, detect, language_name, normalise_code, rank

MIN_ACCURACY = 0.90

# short, realistic support sentences (3-10 words); da/no and sv/no are the hard pairs
SENTENCES: list[tuple[str, str]] = [
    # en
    ('en', 'Where is my refund?'),
    ('en', 'I was charged twice for my order.'),
    ('en', 'Can you help me change my email address?'),
    ('en', 'My card was declined at checkout.'),
    ('en', 'The parcel never arrived.'),
    ('en', 'Please cancel my subscription.'),
    ('en', 'Why did I get a late fee?'),
    ('en', 'Thanks, that worked!'),
    ('en', 'Still waiting for my money'),
    ('en', 'Hi, order 48213 not delivered yet'),
    ('en', 'Please call me back'),
    ('en', 'Wrong size, want to return it'),
    # sv
    ('sv', 'Var är min återbetalning?'),
    ('sv', 'Jag har blivit debiterad två gånger.'),
    ('sv', 'Kan ni hjälpa mig att ändra min e-postadress?'),
    ('sv', 'Mitt kort nekades i kassan.'),
    ('sv', 'Paketet har aldrig kommit fram.'),
    ('sv', 'Jag vill avsluta mitt abonnemang.'),
    ('sv', 'Varför fick jag en förseningsavgift?'),
    ('sv', 'Tack för hjälpen!'),
    ('sv', 'Hej, var är paketet?'),
    ('sv', 'Fakturan stämmer inte'),
    ('sv', 'Jag väntar fortfarande på pengarna'),
    ('sv', 'Kan ni ringa mig?'),
    # de
    ('de', 'Wo bleibt meine Rückerstattung?'),
    ('de', 'Mir wurde zweimal abgebucht.'),
    ('de', 'Können Sie meine E-Mail-Adresse ändern?'),
    ('de', 'Meine Karte wurde abgelehnt.'),
    ('de', 'Das Paket ist nie angekommen.'),
    ('de', 'Bitte kündigen Sie mein Abo.'),
    ('de', 'Warum muss ich eine Mahngebühr zahlen?'),
    ('de', 'Danke für die schnelle Hilfe'),
    ('de', 'Wo ist mein Paket?'),
    ('de', 'Die Rechnung ist falsch'),
    ('de', 'Ich warte immer noch auf mein Geld'),
    ('de', 'Bitte rufen Sie mich an'),
    # es
    ('es', '¿Dónde está mi reembolso?'),
    ('es', 'Me han cobrado dos veces el pedido.'),
    ('es', '¿Podéis cambiar mi correo electrónico?'),
    ('es', 'Mi tarjeta fue rechazada al pagar.'),
    ('es', 'El paquete nunca llegó.'),
    ('es', 'Quiero cancelar mi suscripción, por favor.'),
    ('es', '¿Por qué me cobran un recargo?'),
    ('es', 'Gracias por la ayuda'),
    ('es', '¿Dónde está mi paquete?'),
    ('es', 'La factura está mal'),
    ('es', 'Sigo esperando mi dinero'),
    ('es', 'Llámenme, por favor'),
    # fr
    ('fr', 'Où est mon remboursement ?'),
    ('fr', "J'ai été débité deux fois."),
    ('fr', 'Pouvez-vous changer mon adresse e-mail ?'),
    ('fr', 'Ma carte a été refusée.'),
    ('fr', "Le colis n'est jamais arrivé."),
    ('fr', 'Je voudrais résilier mon abonnement.'),
    ('fr', 'Pourquoi ai-je des frais de retard ?'),
    ('fr', 'Merci pour votre aide'),
    ('fr', 'Où est mon colis ?'),
    ('fr', 'La facture est fausse'),
    ('fr', "J'attends toujours mon argent"),
    ('fr', "Rappelez-moi s'il vous plaît"),
    # nl
    ('nl', 'Waar blijft mijn terugbetaling?'),
    ('nl', 'Ik ben twee keer afgeschreven.'),
    ('nl', 'Kunnen jullie mijn e-mailadres wijzigen?'),
    ('nl', 'Mijn kaart werd geweigerd.'),
    ('nl', 'Het pakket is nooit aangekomen.'),
    ('nl', 'Ik wil mijn abonnement opzeggen.'),
    ('nl', 'Waarom moet ik een boete betalen?'),
    ('nl', 'Bedankt voor de hulp'),
    ('nl', 'Waar is mijn pakket?'),
    ('nl', 'De factuur klopt niet'),
    ('nl', 'Ik wacht nog steeds op mijn geld'),
    ('nl', 'Bel me alsjeblieft terug'),
    # da
    ('da', 'Hvor bliver min tilbagebetaling af?'),
    ('da', 'Jeg er blevet trukket to gange.'),
    ('da', 'Kan I ændre min e-mailadresse?'),
    ('da', 'Mit kort blev afvist ved betalingen.'),
    ('da', 'Pakken er aldrig kommet frem.'),
    ('da', 'Jeg vil gerne opsige mit abonnement.'),
    ('da', 'Hvorfor har jeg fået et rykkergebyr?'),
    ('da', 'Tak for hjælpen'),
    ('da', 'Hvor er min pakke?'),
    ('da', 'Fakturaen er forkert'),
    ('da', 'Jeg venter stadig på mine penge'),
    ('da', 'Ring venligst til mig'),
    # no
    ('no', 'Hvor er pengene mine tilbake?'),
    ('no', 'Jeg har blitt belastet to ganger.'),
    ('no', 'Kan dere endre e-postadressen min?'),
    ('no', 'Kortet mitt ble avvist i kassen.'),
    ('no', 'Pakken har aldri kommet frem.'),
    ('no', 'Jeg vil si opp abonnementet mitt.'),
    ('no', 'Hvorfor fikk jeg et purregebyr?'),
    ('no', 'Takk for hjelpen'),
    ('no', 'Hvor er pakken min?'),
    ('no', 'Fakturaen er feil'),
    ('no', 'Jeg venter fortsatt på pengene'),
    ('no', 'Kan dere ringe meg?'),
    # fi
    ('fi', 'Missä minun hyvitykseni on?'),
    ('fi', 'Minulta veloitettiin kahdesti.'),
    ('fi', 'Voitteko vaihtaa sähköpostiosoitteeni?'),
    ('fi', 'Korttini hylättiin kassalla.'),
    ('fi', 'Paketti ei koskaan saapunut.'),
    ('fi', 'Haluan peruuttaa tilaukseni.'),
    ('fi', 'Miksi sain myöhästymismaksun?'),
    ('fi', 'Kiitos avusta'),
    ('fi', 'Missä pakettini on?'),
    ('fi', 'Lasku on väärin'),
    ('fi', 'Odotan yhä rahojani'),
    ('fi', 'Soittakaa minulle'),
    # it
    ('it', "Dov'è il mio rimborso?"),
    ('it', 'Mi avete addebitato due volte.'),
    ('it', 'Potete cambiare il mio indirizzo email?'),
    ('it', 'La mia carta è stata rifiutata.'),
    ('it', 'Il pacco non è mai arrivato.'),
    ('it', 'Vorrei disdire il mio abbonamento.'),
    ('it', 'Perché ho pagato una penale?'),
    ('it', "Grazie per l'aiuto"),
    ('it', "Dov'è il mio pacco?"),
    ('it', 'La fattura è sbagliata'),
    ('it', 'Sto ancora aspettando i soldi'),
    ('it', 'Richiamatemi per favore'),
    # pt
    ('pt', 'Onde está o meu reembolso?'),
    ('pt', 'Fui cobrado duas vezes pelo pedido.'),
    ('pt', 'Vocês podem alterar o meu e-mail?'),
    ('pt', 'O meu cartão foi recusado.'),
    ('pt', 'A encomenda nunca chegou.'),
    ('pt', 'Quero cancelar a minha assinatura.'),
    ('pt', 'Porque é que me cobraram uma multa?'),
    ('pt', 'Obrigado pela ajuda'),
    ('pt', 'Onde está a minha encomenda?'),
    ('pt', 'A fatura está errada'),
    ('pt', 'Ainda estou à espera do dinheiro'),
    ('pt', 'Liguem-me por favor'),
    # pl
    ('pl', 'Gdzie jest mój zwrot pieniędzy?'),
    ('pl', 'Zostałem obciążony dwa razy.'),
    ('pl', 'Czy możecie zmienić mój adres e-mail?'),
    ('pl', 'Moja karta została odrzucona.'),
    ('pl', 'Paczka nigdy nie dotarła.'),
    ('pl', 'Chcę anulować subskrypcję.'),
    ('pl', 'Dlaczego naliczono mi opłatę za zwłokę?'),
    ('pl', 'Dziękuję za pomoc'),
    ('pl', 'Gdzie jest moja paczka?'),
    ('pl', 'Faktura jest błędna'),
    ('pl', 'Nadal czekam na pieniądze'),
    ('pl', 'Proszę do mnie zadzwonić'),
    # with the noise real messages carry
    ("en", "Order 48213 still not here, see https://track.example.com/48213"),
    ("sv", "Hej, skicka kvittot till anna.lindqvist@gmail.com tack"),
    ("de", "Meine IBAN [IBAN_1] bitte für die Erstattung nutzen"),
    ("es", "Pedido 2026/00451: me cobraron 1.299,00 € dos veces"),
    ("fr", "Commande n° 0612345678 toujours pas reçue depuis le 25/11"),
    ("nl", "Bestelling 100234568 is nog niet binnen, wat nu?"),
]


def test_accuracy_on_short_sentences(record_property: pytest.RecordProperty) -> None:
    assert len(SENTENCES) >= 60
    assert {code for code, _ in SENTENCES} >= {"en", "sv", "de", "es", "fr", "nl", "da", "no", "fi", "it", "pt",
                                               "pl"}
    wrong = [(code, detect(text), text) for code, text in SENTENCES if detect(text) != code]
    accuracy = 1 - len(wrong) / len(SENTENCES)
    summary = f"language detection: {len(SENTENCES)} short sentences, accuracy {accuracy:.3f}"
    print(summary)
    for code, got, text in wrong:
        print(f"   expected {code}, got {got}: {text!r}")
    record_property("language_accuracy", accuracy)
    assert accuracy >= MIN_ACCURACY, summary


@pytest.mark.parametrize("text", ["", "   ", "12345", "2026-11-25 14:30", "+46 70 123 45 67", "€ 1.234,50 !!!",
                                  "https://example.com/a/b", "anna@example.com", "[CARD_1] [KB-12]"])
def test_no_language_without_letters(text: str) -> None:
    assert detect(text) is None
    assert rank(text) == []


def test_candidates_narrow_the_choice() -> None:
    text = "Hvor er pakken min?"  # Danish and Norwegian alike
    assert detect(text, candidates=["da", "sv"]) == "da"
    assert detect(text, candidates=["no", "sv"]) == "no"
    assert detect("Tack för hjälpen", candidates=["sv-SE", "en"]) == "sv"
    ranked = rank("Danke für die schnelle Hilfe", candidates=["de", "nl", "en"])
    assert [code for code, _ in ranked][0] == "de"
    assert sum(p for _, p in ranked) == pytest.approx(1.0)


def test_unknown_candidates_are_an_error() -> None:
    with pytest.raises(ValueError, match="does not know"):
        detect("Hello there", candidates=["en", "xx"])
    with pytest.raises(ValueError, match="empty"):
        detect("Hello there", candidates=[])


def test_quoted_history_does_not_decide() -> None:
    text = "Tack, men pengarna har inte kommit än.\n\n> Hi Anna, your refund was sent on Monday.\n> Kind regards"
    assert detect(text) == "sv"


def test_codes_and_names() -> None:
    assert normalise_code("SV_se") == "sv"
    assert normalise_code("nb") == "no"
    assert language_name("sv-SE") == "Swedish"
    assert language_name("xx") == "xx"
    assert language_name(None) == "the customer's language"
    assert set(DEFAULT_LANGUAGES) <= set(language.supported_languages())
    assert all(code in language.LANGUAGE_NAMES for code in DEFAULT_LANGUAGES)


def test_threads_share_one_model() -> None:
    results: list[str | None] = []

    def work() -> None:
        results.append(detect("Wo bleibt meine Rückerstattung?"))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["de"] * 8


def test_detection_is_fast_once_loaded() -> None:
    detect("warm up")
    start = time.perf_counter()
    for _, text in SENTENCES:
        detect(text)
    assert (time.perf_counter() - start) / len(SENTENCES) < 0.01
    long_text = "Jag har fortfarande inte fått tillbaka pengarna för min retur. " * 500
    assert detect(long_text) == "sv"
