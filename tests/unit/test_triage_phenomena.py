"""Linguistic phenomena the triage classifier must handle, in English and in French.

The narratives were written from the hotline's rules, without looking at the lexicon or at the
labelled corpus, so that they test whether the lexicon generalises. Every tip says where (a province
and a city), who (a victim profile without an age) and what (labour exploitation), and leaves the
minor and danger questions unanswered, so that the narrative alone decides them.
"""

import pytest

from schemas.tip import TipFacts, TipSubmission
from schemas.triage import Urgency
from services.triage.domain.classification import Classification, classify
from tests.factories import tip_body

LOCATIONS = {
    "en": {"country": "CA", "province": "ON", "city": "Toronto"},
    "fr": {"country": "CA", "province": "QC", "city": "Montréal"},
}
MINOR_CODES = frozenset({"minor_involved", "victim_under_18", "victim_under_18_in_text", "minor_in_text"})
MINOR_TEXT_CODES = frozenset({"victim_under_18_in_text", "minor_in_text", "possible_minor"})


def facts(**overrides: object) -> TipFacts:
    return TipFacts.of(TipSubmission.model_validate(tip_body(**overrides)))


def tip(language: str) -> TipFacts:
    """A tip that says where, who and what, and leaves minor and danger to the narrative."""
    return facts(
        language=language,
        location=LOCATIONS[language],
        assessment={
            "minor_involved": "unknown",
            "imminent_danger": "unknown",
            "trafficking_types": ["labour"],
        },
        victim_profile={"gender_identity": "woman", "languages": [language]},
    )


def outcome(result: Classification) -> str:
    """What came out, for the failure message."""
    return (
        f"urgency={result.urgency.value} minor_involved={result.minor_involved}"
        f" imminent_danger={result.imminent_danger} possibilities={sorted(result.possibilities)}"
        f" reasons={[reason.code for reason in result.reasons]}"
    )


# 1. Lemmas: every tense, mood, person and elision of tuer, battre, frapper, enfermer, kill, beat, lock.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "Her boyfriend manages the salon and he's beating her almost every night.",
            id="en-is-beating",
        ),
        pytest.param(
            "en",
            "They locked her in the storage room behind the kitchen again this morning.",
            id="en-locked-in",
        ),
        pytest.param(
            "en", "The foreman told the men he'll kill anyone who talks to the inspectors.", id="en-will-kill"
        ),
        pytest.param(
            "en", "She gets beaten when she comes back with less than the owner wants.", id="en-gets-beaten"
        ),
        pytest.param(
            "en", "He kills the girls' pets in front of them and says they are next.", id="en-kills"
        ),
        pytest.param("en", "The manager beats the workers with a belt when they fall behind.", id="en-beats"),
        pytest.param(
            "en", "At night the boss locks them up in the trailer and takes the key.", id="en-locks-up"
        ),
        pytest.param("en", "He said he would kill her family if she ever ran off.", id="en-would-kill"),
        pytest.param(
            "en", "She's been locked inside the apartment since Friday.", id="en-been-locked-inside"
        ),
        pytest.param(
            "en", "Her uncle keeps beating her up over the money she sends home.", id="en-keeps-beating-up"
        ),
        pytest.param(
            "en", "they r gonna kill her if she runs, thats what he texted", id="en-gonna-kill-texting"
        ),
        pytest.param(
            "fr", "Il l'a tuée, presque, hier soir, pis elle est encore chez lui.", id="fr-l-a-tuee"
        ),
        pytest.param("fr", "Y va la battre si a revient pas avec l'argent à soir.", id="fr-y-va-la-battre"),
        pytest.param(
            "fr", "Elle se fait frapper par le gérant chaque fois qu'elle se trompe.", id="fr-se-fait-frapper"
        ),
        pytest.param(
            "fr", "Le soir, ils nous enferment dans le sous-sol du restaurant.", id="fr-nous-enferment"
        ),
        pytest.param("fr", "Son patron la bat depuis qu'elle est arrivée des Philippines.", id="fr-la-bat"),
        pytest.param(
            "fr", "Ils l'ont enfermée dans une chambre sans fenêtre depuis mardi.", id="fr-l-ont-enfermee"
        ),
        pytest.param("fr", "Il m'a écrit : « si tu parles, je te tuerai ».", id="fr-je-te-tuerai"),
        pytest.param(
            "fr", "Les filles sont battues quand elles veulent prendre congé.", id="fr-sont-battues"
        ),
        pytest.param("fr", "Ils vont nous tuer si on va voir la police.", id="fr-vont-nous-tuer"),
        pytest.param("fr", "Le boss frappait encore les gars hier sur le chantier.", id="fr-frappait-encore"),
        pytest.param(
            "fr", "J'me fais enfermer dans l'appart quand y part travailler.", id="fr-me-fais-enfermer"
        ),
        pytest.param("fr", "Il les frappe avec un bâton quand elles ramènent pas assez.", id="fr-les-frappe"),
        pytest.param("fr", "Il a juré qu'il la tuerait si elle le quittait.", id="fr-la-tuerait"),
        pytest.param("fr", "Y nous battent si on finit pas les chambres à temps.", id="fr-nous-battent"),
    ],
)
def test_every_form_of_kill_beat_hit_and_lock_in_is_danger(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT and result.imminent_danger, outcome(result)


# 2. Apparent and approximate ages make a minor; the reason quotes the words that decided.
@pytest.mark.parametrize(
    ("language", "narrative", "quoted"),
    [
        pytest.param(
            "en",
            "The girl at the front desk looks 14 and the manager holds her phone.",
            "14",
            id="en-looks-14",
        ),
        pytest.param(
            "en",
            "There's a boy about 15 washing dishes there until two in the morning.",
            "15",
            id="en-about-15",
        ),
        pytest.param(
            "en",
            "His so-called niece is maybe 12 and she cleans their house all day.",
            "12",
            id="en-maybe-12",
        ),
        pytest.param(
            "en",
            "Girls in their early teens are driven to the motel on weekends.",
            "teens",
            id="en-early-teens",
        ),
        pytest.param(
            "en",
            "A teenager works the door of the massage place every night.",
            "teenager",
            id="en-a-teenager",
        ),
        pytest.param("en", "There's a kid selling for them on the corner every night.", "kid", id="en-a-kid"),
        pytest.param(
            "en",
            "She should be in grade 8 but he has her working at the nail bar.",
            "grade 8",
            id="en-grade-8",
        ),
        pytest.param("en", "She is under 18 and he posts ads for her online.", "18", id="en-under-18"),
        pytest.param(
            "en", "The new girl is clearly underage and never leaves the house.", "underage", id="en-underage"
        ),
        pytest.param("en", "She says she's 19 but looks 15 at most.", "15", id="en-says-19-looks-15"),
        pytest.param(
            "en", "A young girl, I'd say 13 or 14, serves drinks at the back.", "13", id="en-id-say-13"
        ),
        pytest.param("fr", "Y'a une ado qui travaille au bar jusqu'à la fermeture.", "ado", id="fr-une-ado"),
        pytest.param(
            "fr", "Un enfant d'environ 12 ans fait la vaisselle au restaurant.", "12", id="fr-environ-12-ans"
        ),
        pytest.param(
            "fr", "Une fillette fait le ménage chez eux tous les jours.", "fillette", id="fr-une-fillette"
        ),
        pytest.param(
            "fr",
            "Elle est en secondaire 2 pis il la fait travailler le soir.",
            "secondaire",
            id="fr-secondaire-2",
        ),
        pytest.param(
            "fr", "La fille est mineure et c'est lui qui garde ses papiers.", "mineure", id="fr-mineure"
        ),
        pytest.param("fr", "Elle a l'air d'avoir 14 ans, pas plus.", "14", id="fr-a-l-air-14"),
        pytest.param("fr", "A dit qu'a l'a 19 ans mais a en paraît 15.", "15", id="fr-dit-19-parait-15"),
        pytest.param("fr", "La p'tite a genre 13 ans pis a sert aux tables.", "13", id="fr-genre-13"),
        pytest.param(
            "fr", "C'est une adolescente, elle va même pas à l'école.", "adolescente", id="fr-adolescente"
        ),
        pytest.param(
            "fr", "Des jeunes filles d'à peu près 14 ans dansent au club.", "14", id="fr-a-peu-pres-14"
        ),
        pytest.param(
            "fr",
            "Elle est pas encore majeure pis il la fait travailler la nuit.",
            "majeure",
            id="fr-pas-encore-majeure",
        ),
    ],
)
def test_an_apparent_or_approximate_age_makes_a_minor_and_the_reason_quotes_it(
    language: str, narrative: str, quoted: str
) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT, outcome(result)
    assert result.minor_involved or "possible_minor" in result.possibilities, outcome(result)
    minor_reasons = [reason.en.lower() for reason in result.reasons if reason.code in MINOR_TEXT_CODES]
    assert any(quoted in text for text in minor_reasons), (quoted, minor_reasons)


# 3. Danger as acts and states is urgent.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "He keeps a gun on the table while she works and showed it to her last night.",
            id="en-gun-shown",
        ),
        pytest.param(
            "en", "The supervisor pulled a knife on one of the pickers this morning.", id="en-knife-pulled"
        ),
        pytest.param(
            "en", "She has a broken arm and he won't take her to the hospital.", id="en-broken-arm-no-care"
        ),
        pytest.param(
            "en",
            "She's bleeding and covered in bruises and they won't let her see a doctor.",
            id="en-injuries-no-doctor",
        ),
        pytest.param("en", "He choked her until she passed out on Saturday.", id="en-choked"),
        pytest.param("en", "They chained him to the bed in the back room.", id="en-chained"),
        pytest.param("en", "They're moving her to Calgary tonight.", id="en-moved-tonight"),
        pytest.param("en", "The guy is selling her to another pimp tonight.", id="en-sold-tonight"),
        pytest.param(
            "en", "If she doesn't make a thousand a night she'll be punished, he said.", id="en-punishment"
        ),
        pytest.param(
            "en",
            "They told her they'll hurt her mother back in Manila if she leaves.",
            id="en-family-back-home",
        ),
        pytest.param("en", "I can't talk right now, he's in the next room.", id="en-cannot-talk"),
        pytest.param(
            "fr", "Il a un fusil dans le char pis y lui montre quand a parle de partir.", id="fr-fusil-montre"
        ),
        pytest.param("fr", "Le boss a sorti un couteau devant elle hier soir.", id="fr-couteau-sorti"),
        pytest.param(
            "fr", "Elle a le bras cassé pis il veut pas qu'elle aille à l'hôpital.", id="fr-bras-casse"
        ),
        pytest.param(
            "fr",
            "Elle est couverte de bleus pis y l'empêchent de voir un médecin.",
            id="fr-bleus-pas-de-medecin",
        ),
        pytest.param("fr", "Il l'a étranglée jusqu'à ce qu'elle perde connaissance.", id="fr-etranglee"),
        pytest.param("fr", "Elle est enchaînée dans le garage depuis deux jours.", id="fr-enchainee"),
        pytest.param("fr", "Le boss l'a barrée dans la chambre pis y'a gardé la clé.", id="fr-barree"),
        pytest.param("fr", "Ils vont la vendre à un autre gars ce soir.", id="fr-vendue-ce-soir"),
        pytest.param("fr", "Ils la transfèrent à Toronto cette nuit.", id="fr-transferee-cette-nuit"),
        pytest.param("fr", "Si a rapporte pas assez, a va se faire punir.", id="fr-punie"),
        pytest.param(
            "fr",
            "Ils ont dit qu'ils s'en prendraient à sa famille au Mexique si elle parle.",
            id="fr-famille-au-pays",
        ),
        pytest.param("fr", "Je peux pas parler, il est juste à côté.", id="fr-peut-pas-parler"),
        pytest.param("fr", "Il a dit qu'il allait me tuer.", id="fr-allait-me-tuer"),
        pytest.param("fr", "Il me battrait si je parle à quelqu'un.", id="fr-me-battrait"),
    ],
)
def test_danger_described_as_an_act_or_a_state_is_urgent(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT and result.imminent_danger, outcome(result)


# 4. Danger that is over is not danger.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "He used to beat her, she left two years ago and is safe in a shelter.",
            id="en-used-to-beat-left",
        ),
        pytest.param(
            "en",
            "Her ex-pimp beat her badly back in 2019, but he's in prison now and she lives on her own.",
            id="en-beat-2019-in-prison",
        ),
        pytest.param(
            "en",
            "Years ago the farm boss locked them in the bunkhouse at night; she got out in 2021 and is doing fine.",
            id="en-locked-years-ago",
        ),
        pytest.param(
            "en",
            "He threatened to kill her back when they were together, but she's been safe and far away for three years.",
            id="en-threat-long-ago",
        ),
        pytest.param(
            "fr",
            "Il la battait avant, mais elle est partie y a deux ans pis elle est en sécurité dans une maison d'hébergement.",
            id="fr-battait-partie",
        ),
        pytest.param(
            "fr",
            "Son ancien patron l'enfermait dans la roulotte, mais ça fait longtemps, elle s'en est sortie en 2020 pis a va bien.",
            id="fr-enfermait-sortie",
        ),
        pytest.param(
            "fr",
            "Y l'a déjà menacée de la tuer quand ils étaient ensemble, mais c'est fini depuis 3 ans, a l'a pu aucun contact avec lui.",
            id="fr-menace-finie",
        ),
        pytest.param(
            "fr",
            "Elle se faisait frapper quand elle travaillait là-bas; elle a quitté l'an passé et elle est en sécurité chez sa sœur.",
            id="fr-se-faisait-frapper",
        ),
    ],
)
def test_danger_that_is_over_is_not_danger(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.NON_URGENT, outcome(result)
    assert not result.imminent_danger and "possible_danger" not in result.possibilities, outcome(result)


# 5a. A negation with a scope covers the danger it negates.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "She is not in immediate danger, but her employer keeps her passport and pays her nothing.",
            id="en-not-in-immediate-danger",
        ),
        pytest.param(
            "en",
            "No one is threatening her; she just works seventy hours a week for almost nothing.",
            id="en-no-one-threatening",
        ),
        pytest.param(
            "en",
            "He has never hit her and she doesn't feel unsafe, but he holds her work permit.",
            id="en-never-hit",
        ),
        pytest.param(
            "en",
            "There are no weapons in the house and nobody has hurt her; they just don't pay her.",
            id="en-no-weapons-nobody-hurt",
        ),
        pytest.param(
            "fr",
            "Elle est pas en danger immédiat, mais le patron garde son passeport.",
            id="fr-pas-en-danger-immediat",
        ),
        pytest.param(
            "fr",
            "Personne la menace, c'est juste qu'a travaille 80 heures par semaine pour presque rien.",
            id="fr-personne-la-menace",
        ),
        pytest.param(
            "fr", "Il l'a jamais frappée, mais il garde son permis de travail.", id="fr-jamais-frappee"
        ),
        pytest.param(
            "fr",
            "Y'a aucune arme dans la maison pis personne lui a fait de mal; c'est le salaire le problème.",
            id="fr-aucune-arme",
        ),
    ],
)
def test_a_negated_danger_does_not_fire(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.NON_URGENT, outcome(result)
    assert not result.imminent_danger and "possible_danger" not in result.possibilities, outcome(result)


# 5b. A negation in another clause does not cancel a later danger.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "She has no phone and he beats her.", id="en-no-phone-beats"),
        pytest.param(
            "en", "They don't pay her and the boss hits her when she asks about it.", id="en-dont-pay-hits"
        ),
        pytest.param(
            "en", "No one visits her and the manager locks her in every night.", id="en-no-one-visits-locks"
        ),
        pytest.param(
            "en",
            "She doesn't speak English, nobody helps her, and her boyfriend threatened to kill her yesterday.",
            id="en-nobody-helps-kill",
        ),
        pytest.param("fr", "A l'a pas de téléphone pis il la bat.", id="fr-pas-de-telephone-bat"),
        pytest.param(
            "fr",
            "Elle parle pas français et son patron la frappe quand elle se trompe.",
            id="fr-parle-pas-frappe",
        ),
        pytest.param(
            "fr",
            "Personne vient la voir et le gérant l'enferme à clé chaque soir.",
            id="fr-personne-vient-enferme",
        ),
        pytest.param("fr", "Y la paye jamais, pis hier y l'a menacée de la tuer.", id="fr-paye-jamais-tuer"),
    ],
)
def test_a_negation_in_another_clause_does_not_cancel_a_later_danger(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT and result.imminent_danger, outcome(result)


# 6. Uncertainty is not negation.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "I don't know if she is a minor; she works at the spa every night.",
            id="en-dont-know-if-minor",
        ),
        pytest.param(
            "en",
            "Not sure if she's 17 or 18, the older man always does the talking for her.",
            id="en-not-sure-17-or-18",
        ),
        pytest.param(
            "en", "I can't tell how old he is, he could be 16 or he could be 20.", id="en-could-be-16-or-20"
        ),
        pytest.param("en", "She might be underage, I never saw any ID.", id="en-might-be-underage"),
        pytest.param("fr", "Je sais pas si elle est mineure.", id="fr-sais-pas-si-mineure"),
        pytest.param("fr", "Chu pas sûre si elle a 17 ou 18 ans.", id="fr-pas-sure-17-ou-18"),
        pytest.param(
            "fr", "Elle est peut-être mineure, j'ai jamais vu ses papiers.", id="fr-peut-etre-mineure"
        ),
        pytest.param(
            "fr", "J'sais pas quel âge y'a, peut-être 16, peut-être 20.", id="fr-peut-etre-16-ou-20"
        ),
    ],
)
def test_uncertainty_about_a_minor_is_a_possible_minor_not_a_negation(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT, outcome(result)
    assert "possible_minor" in result.possibilities and not result.minor_involved, outcome(result)


# 7. Recall first: a suggested danger is urgent, as a possibility only.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "I'm scared he'll hurt her.", id="en-scared-hell-hurt"),
        pytest.param(
            "en", "I have a bad feeling something is going to happen to her there.", id="en-bad-feeling"
        ),
        pytest.param(
            "en", "She seemed terrified of him and I'm worried for her safety.", id="en-worried-for-safety"
        ),
        pytest.param(
            "en", "I fear for her, I don't think she's safe with those people.", id="en-fear-for-her"
        ),
        pytest.param("fr", "J'ai peur qu'il lui arrive quelque chose.", id="fr-peur-qu-il-arrive"),
        pytest.param(
            "fr", "J'suis inquiète pour sa sécurité, a l'avait l'air terrorisée.", id="fr-inquiete-securite"
        ),
        pytest.param(
            "fr", "J'ai peur qu'il y fasse du mal, asteure qu'a veut partir.", id="fr-peur-qu-il-fasse-mal"
        ),
        pytest.param(
            "fr",
            "Je crains pour elle, j'ai l'impression qu'elle est pas en sécurité là-bas.",
            id="fr-crains-pour-elle",
        ),
    ],
)
def test_a_suggested_danger_is_urgent_as_a_possible_danger_only(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT, outcome(result)
    assert "possible_danger" in result.possibilities and not result.imminent_danger, outcome(result)


# 8a. A minor in the past, now an adult and out of the situation, is not a minor case.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "She was 15 when it started; she's 24 now and has been out for years.",
            id="en-was-15-now-24",
        ),
        pytest.param(
            "en",
            "He recruited her at 14, but she's 30 today and left that life long ago; she wants to report him.",
            id="en-recruited-at-14-now-30",
        ),
        pytest.param(
            "en",
            "As a teenager he was made to work on the farm for nothing; he's 35 now and lives in Ottawa.",
            id="en-as-a-teenager-now-35",
        ),
        pytest.param(
            "fr",
            "Elle avait 15 ans quand ça a commencé; a l'a 24 ans maintenant pis elle en est sortie depuis des années.",
            id="fr-avait-15-a-24",
        ),
        pytest.param(
            "fr",
            "Il l'a recrutée à 16 ans, mais elle a 31 ans aujourd'hui et c'est fini depuis longtemps.",
            id="fr-recrutee-a-16-a-31",
        ),
        pytest.param(
            "fr",
            "Quand elle était ado il la faisait travailler au dépanneur; astheure elle a 27 ans et elle est partie depuis 2018.",
            id="fr-etait-ado-a-27",
        ),
    ],
)
def test_a_minor_in_the_past_now_an_adult_and_out_is_not_a_minor_case(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.NON_URGENT, outcome(result)
    assert not result.minor_involved and "possible_minor" not in result.possibilities, outcome(result)


# 8b. The same people holding minors now make it a minor case again.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "She was 15 when it started; she's 24 now and has been out for years, and they still have younger girls there, about 14.",
            id="en-still-younger-girls-14",
        ),
        pytest.param(
            "en",
            "He recruited her at 14 and she left at 22, but he is bringing in high school girls right now.",
            id="en-high-school-girls-now",
        ),
        pytest.param(
            "fr",
            "Elle avait 15 ans quand ça a commencé; a l'a 24 ans maintenant, mais ils ont encore des plus jeunes là-bas, genre 14 ans.",
            id="fr-encore-des-plus-jeunes-14",
        ),
        pytest.param(
            "fr",
            "Elle en est sortie à 20 ans, mais le même gars recrute encore des filles de secondaire 3 ces temps-ci.",
            id="fr-recrute-secondaire-3",
        ),
    ],
)
def test_a_minor_in_the_past_with_minors_held_now_is_urgent(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT, outcome(result)
    assert result.minor_involved or "possible_minor" in result.possibilities, outcome(result)


# 9. Numbers that are not ages do not make a minor.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "He has worked there 15 years without a day off and they keep his passport.",
            id="en-worked-15-years",
        ),
        pytest.param("en", "She owes 14 000 $ to the agency that brought her here.", id="en-owes-14000"),
        pytest.param(
            "en", "They make them work 12 hours a day, 7 days a week, for cash.", id="en-12-hours-a-day"
        ),
        pytest.param(
            "en",
            "She pays 17 dollars a night for a bunk in a room with 16 other workers.",
            id="en-17-dollars-16-workers",
        ),
        pytest.param(
            "fr",
            "Il travaille là depuis 15 ans pis y l'ont jamais payé comme du monde.",
            id="fr-depuis-15-ans",
        ),
        pytest.param("fr", "A doit 14 000 $ à l'agence de placement.", id="fr-doit-14000"),
        pytest.param("fr", "Ils commencent à 16 h pis finissent à 4 h du matin, sans pause.", id="fr-a-16-h"),
        pytest.param(
            "fr",
            "Ils sont 12 dans un 4 et demie pis le patron garde leurs passeports.",
            id="fr-12-dans-un-4-et-demie",
        ),
        pytest.param(
            "fr",
            "Elle fait des journées de 13 heures au restaurant pour 10 $ par jour.",
            id="fr-journees-de-13-heures",
        ),
    ],
)
def test_numbers_that_are_not_ages_do_not_make_a_minor(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert not result.minor_involved and "possible_minor" not in result.possibilities, outcome(result)
    assert result.urgency is Urgency.NON_URGENT, outcome(result)


# 10. Possible grounds are never disclosure grounds.
@pytest.mark.parametrize(
    ("language", "narrative", "possibility"),
    [
        pytest.param(
            "en",
            "Could be 16, could be 19, hard to say with all the makeup.",
            "possible_minor",
            id="en-could-be-16-or-19",
        ),
        pytest.param(
            "en",
            "I'm not sure she's even an adult, she looks so young.",
            "possible_minor",
            id="en-not-sure-adult",
        ),
        pytest.param(
            "en",
            "I'm afraid they'll do something to her if she tries to leave.",
            "possible_danger",
            id="en-afraid-something",
        ),
        pytest.param(
            "fr", "Je suis pas certaine qu'elle ait 18 ans.", "possible_minor", id="fr-pas-certaine-18-ans"
        ),
        pytest.param(
            "fr",
            "Difficile à dire si c'est une mineure ou pas.",
            "possible_minor",
            id="fr-difficile-a-dire-mineure",
        ),
        pytest.param(
            "fr",
            "J'ai un mauvais pressentiment, j'ai peur pour elle.",
            "possible_danger",
            id="fr-mauvais-pressentiment",
        ),
    ],
)
def test_a_possible_ground_is_never_a_disclosure_ground(
    language: str, narrative: str, possibility: str
) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT and possibility in result.possibilities, outcome(result)
    assert possibility not in result.urgent_grounds, outcome(result)
    if possibility == "possible_minor":
        assert not result.minor_involved and not result.urgent_grounds & MINOR_CODES, outcome(result)
    else:
        assert not result.imminent_danger, outcome(result)
