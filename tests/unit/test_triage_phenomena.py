"""Linguistic phenomena the triage classifier must handle, in English and in French.

The narratives were written from the hotline's rules, without looking at the lexicon or at the
labelled corpus, so that they test whether the lexicon generalises. Every tip says where (a province
and a city), who (a victim profile without an age) and what (labour exploitation), and leaves the
minor and danger questions unanswered, so that the narrative alone decides them.
"""

import pytest

from schemas.tip import TipFacts
from schemas.triage import Urgency
from services.triage.domain import safety_net
from services.triage.domain.classification import classify
from tests.unit.triage_phenomena import (
    LOCATIONS,
    RECEIVED,
    a_danger,
    a_minor,
    facts,
    outcome,
    read,
    rules,
    tip,
)

# The harness lives in tests/unit/triage_phenomena.py; the later phenomena files still import it from here.
__all__ = ["LOCATIONS", "RECEIVED", "a_danger", "a_minor", "facts", "outcome", "read", "rules", "tip"]
MINOR_CODES = frozenset({"minor_involved", "victim_under_18", "victim_under_18_in_text", "minor_in_text"})
MINOR_TEXT_CODES = frozenset({"victim_under_18_in_text", "minor_in_text", "possible_minor"})


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


# From here on, the phenomena found in the development3 tips (2026-11-30). The sentences are this
# file's own, written for each rule; none is a corpus tip's.


def vague_tip(language: str) -> TipFacts:
    """A tip that says where, but leaves who and what to the narrative."""
    return facts(
        language=language,
        reporter_role="other",
        location=LOCATIONS[language],
        assessment={"minor_involved": "unknown", "imminent_danger": "unknown", "trafficking_types": []},
        victim_profile=None,
    )


# 11. A negation reaches across "or" / "ni" / "ou" to the next thing it denies...
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "Nobody has used violence or threats against the cleaners, but the agency keeps their passports.",
            id="en-no-violence-or-threats",
        ),
        pytest.param(
            "en",
            "There were never any beatings or threats of harm; he just doesn't pay her.",
            id="en-never-beatings-or-threats",
        ),
        pytest.param(
            "fr",
            "Il y a jamais eu de coups ni de menaces, mais le patron garde son passeport.",
            id="fr-ni-coups-ni-menaces",
        ),
        pytest.param(
            "fr",
            "Aucune des employées parle de violence ou de menaces; c'est la paie qui est retenue.",
            id="fr-aucune-violence-ou-menaces",
        ),
    ],
)
def test_a_negation_reaches_across_or_to_the_next_danger(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.NON_URGENT, outcome(result)
    assert not result.imminent_danger and "possible_danger" not in result.possibilities, outcome(result)


# ...but not to a new subject after "or" ("or he'll kill her").
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "She can't leave or he'll kill her.", id="en-cant-leave-or-hell-kill"),
        pytest.param(
            "en", "No one helps them or the foreman beats them with a pipe.", id="en-no-one-helps-or-beats"
        ),
        pytest.param("fr", "Elle a pas le droit de sortir ou il la bat.", id="fr-pas-sortir-ou-il-la-bat"),
        pytest.param(
            "fr",
            "Personne les aide ni les défend, pis le boss les frappe.",
            id="fr-personne-aide-boss-frappe",
        ),
    ],
)
def test_a_negation_does_not_reach_a_new_subject_after_or(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT and result.imminent_danger, outcome(result)


# 12. A denied report denies what it reports; an instruction not to tell does not.
@pytest.mark.parametrize(
    ("language", "narrative", "urgent"),
    [
        pytest.param(
            "en",
            "She has never said he hit her; her employer just keeps her wages.",
            False,
            id="en-never-said-he-hit-her",
        ),
        pytest.param(
            "en",
            "None of the workers said that anyone threatens them; the pay is the problem.",
            False,
            id="en-none-said-threats",
        ),
        pytest.param(
            "fr",
            "Elle a jamais dit qu'il la menaçait, mais il garde son salaire.",
            False,
            id="fr-jamais-dit-menacait",
        ),
        pytest.param(
            "fr",
            "Il s'est jamais plaint qu'on le frappait; c'est la paie qui manque.",
            False,
            id="fr-jamais-plaint-frappait",
        ),
        pytest.param(
            "en", "He told her not to tell anyone that he beats her.", True, id="en-told-not-to-tell-beats"
        ),
        pytest.param(
            "fr", "Il lui a dit de pas dire à personne qu'il la frappe.", True, id="fr-dit-de-pas-dire-frappe"
        ),
        pytest.param(
            "en", "She never told anyone that he rapes her.", True, id="en-never-told-anyone-secret"
        ),
        pytest.param(
            "fr", "Elle a jamais dit à personne qu'il la viole.", True, id="fr-jamais-dit-a-personne"
        ),
        pytest.param(
            "en",
            "Nobody in the house said anything when he beat her last night.",
            True,
            id="en-said-anything-when",
        ),
    ],
)
def test_a_denied_report_denies_what_it_reports_but_a_secret_or_an_order_not_to_tell_does_not(
    language: str, narrative: str, urgent: bool
) -> None:
    result = classify(tip(language), narrative)
    if urgent:
        assert result.urgency is Urgency.URGENT and result.imminent_danger, outcome(result)
    else:
        assert result.urgency is Urgency.NON_URGENT, outcome(result)
        assert not result.imminent_danger and "possible_danger" not in result.possibilities, outcome(result)


# 13. A question answered no denies; a question left open is a possibility; a minor's "no" is doubted.
@pytest.mark.parametrize(
    ("language", "narrative", "expected"),
    [
        pytest.param(
            "en",
            "I asked her whether he ever hurts her and she said no; he does hold her passport.",
            None,
            id="en-asked-said-no",
        ),
        pytest.param(
            "en",
            "We asked the men if anyone threatens them. They shook their heads.",
            None,
            id="en-asked-shook-heads",
        ),
        pytest.param(
            "fr",
            "Je lui ai demandé si quelqu'un la menaçait. Elle m'a répondu que non, mais elle est jamais payée.",
            None,
            id="fr-demande-repondu-non",
        ),
        pytest.param(
            "fr",
            "On leur a demandé si le gérant les frappe : non, y disent que c'est juste la paie.",
            None,
            id="fr-demande-non",
        ),
        pytest.param(
            "en",
            "I asked her if the manager hits her and she just looked at the floor.",
            "possible_danger",
            id="en-asked-no-answer",
        ),
        pytest.param(
            "fr",
            "Je lui ai demandé si son boss la frappe, pis elle a changé de sujet.",
            "possible_danger",
            id="fr-demande-sans-reponse",
        ),
        pytest.param(
            "en",
            "I asked the girl at the counter if she was a minor and she said no.",
            "possible_minor",
            id="en-asked-minor-said-no",
        ),
        pytest.param(
            "fr",
            "Je lui ai demandé si elle était mineure, elle a dit que non.",
            "possible_minor",
            id="fr-demande-mineure-non",
        ),
    ],
)
def test_a_question_answered_no_denies_and_an_open_one_is_a_possibility(
    language: str, narrative: str, expected: str | None
) -> None:
    result = classify(tip(language), narrative)
    assert not result.imminent_danger and not result.minor_involved, outcome(result)
    if expected is None:
        assert result.urgency is Urgency.NON_URGENT and not result.possibilities, outcome(result)
    else:
        assert result.urgency is Urgency.URGENT and result.possibilities == {expected}, outcome(result)


# 14. Texts drop the apostrophe of an elision ("jpeux", "lenferme", "hes"); a glued form that is a
# word of its own stays one ("larmes" is not "l'armes").
@pytest.mark.parametrize(
    ("language", "narrative", "urgent"),
    [
        pytest.param(
            "en", "hes driving her to ottawa rn she doesnt want to go", True, id="en-hes-driving-her"
        ),
        pytest.param("en", "shes locked in the back rn, hes got the key", True, id="en-shes-locked-in"),
        pytest.param("fr", "ils vont lenfermer dans le sous sol a soir", True, id="fr-lenfermer"),
        pytest.param("fr", "jpeux pas parler y'est juste a cote", True, id="fr-jpeux-pas-parler"),
        pytest.param("fr", "y vont menvoyer a gatineau demain matin", True, id="fr-menvoyer-demain"),
        pytest.param(
            "fr",
            "Elle avait des larmes aux yeux quand elle parlait du patron qui garde son passeport.",
            False,
            id="fr-larmes-not-armes",
        ),
    ],
)
def test_an_elision_without_its_apostrophe_is_read_as_two_words(
    language: str, narrative: str, urgent: bool
) -> None:
    result = classify(tip(language), narrative)
    if urgent:
        assert result.urgency is Urgency.URGENT and result.imminent_danger, outcome(result)
    else:
        assert result.urgency is Urgency.NON_URGENT and not result.imminent_danger, outcome(result)


# 15. More danger told as acts and states: a caller hiding, a person in a trunk, a move happening
# now, an untreated deformity, care cut off, a person not free to speak, a risk of suicide.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en", "I'm hiding in the washroom at the motel, he's asleep on the bed.", id="en-hiding"
        ),
        pytest.param("en", "They stuffed her in the trunk and drove off toward the highway.", id="en-trunk"),
        pytest.param("en", "They're bringing her to a house in Laval right now.", id="en-bringing-her-now"),
        pytest.param(
            "en",
            "She has a swollen, crooked wrist from a fall he caused and it has had no prior treatment.",
            id="en-swollen-wrist-untreated",
        ),
        pytest.param(
            "en", "The nurse saw him pull her out of the ER against medical advice.", id="en-against-advice"
        ),
        pytest.param(
            "en",
            "During the visit she was not free to talk; he stayed by the bed.",
            id="en-not-free-to-speak",
        ),
        pytest.param("en", "I'm going to end my life tonight, I have nothing left.", id="en-end-my-life"),
        pytest.param("en", "She texted that she wants to kill herself.", id="en-kill-herself"),
        pytest.param("fr", "Je suis enfermée dans les toilettes du bar, il m'attend dehors.", id="fr-cachee"),
        pytest.param("fr", "Ils l'ont mise dans le coffre de l'auto derrière le bar.", id="fr-coffre"),
        pytest.param("fr", "Y me ramènent à Montréal, je suis dans l'auto.", id="fr-me-ramenent"),
        pytest.param(
            "fr", "Elle a la main déformée et il veut rien savoir du médecin.", id="fr-main-deformee"
        ),
        pytest.param("fr", "Il l'a fait sortir de l'hôpital contre l'avis médical.", id="fr-contre-avis"),
        pytest.param(
            "fr", "Elle est pas libre de parler, il reste dans la pièce.", id="fr-pas-libre-de-parler"
        ),
        pytest.param("fr", "J'en peux plus, je veux mourir, j'ai gardé toutes mes pilules.", id="fr-mourir"),
        pytest.param("fr", "Je vais en finir ce soir, j'en peux plus de lui.", id="fr-en-finir"),
    ],
)
def test_more_danger_told_as_acts_and_states_is_urgent(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT and result.imminent_danger, outcome(result)


# 16. A person reported missing is a possible danger.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "Her mother reported her missing and she is staying with that man.",
            id="en-reported-missing",
        ),
        pytest.param(
            "en", "I think I saw the girl from the missing poster at his place.", id="en-missing-poster"
        ),
        pytest.param(
            "fr",
            "Elle a été portée disparue par sa mère, pis on l'a vue avec ce gars-là.",
            id="fr-portee-disparue",
        ),
        pytest.param(
            "fr",
            "C'est la fille de l'avis de disparition, elle est chez mon voisin.",
            id="fr-avis-de-disparition",
        ),
    ],
)
def test_a_person_reported_missing_is_a_possible_danger(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT, outcome(result)
    assert "possible_danger" in result.possibilities and not result.imminent_danger, outcome(result)


# 17. Being sent home, to immigration, or losing one's permit is a threat of deportation, not a
# danger; a move to another place stays a possible danger.
@pytest.mark.parametrize(
    ("language", "narrative", "urgent"),
    [
        pytest.param(
            "en",
            "The owner says they'll be sent home if they complain about the hours.",
            False,
            id="en-sent-home",
        ),
        pytest.param(
            "en",
            "He threatened to get her work permit cancelled if she quits.",
            False,
            id="en-permit-cancelled",
        ),
        pytest.param(
            "fr",
            "Le contremaître dit qu'il va les envoyer à l'immigration s'ils se plaignent.",
            False,
            id="fr-envoyer-a-l-immigration",
        ),
        pytest.param(
            "fr", "Il menace de la faire renvoyer au Honduras si elle parle.", False, id="fr-renvoyer-au-pays"
        ),
        pytest.param(
            "en", "He says he'll send her back to his cousin in Regina.", True, id="en-send-back-to-someone"
        ),
        pytest.param(
            "fr", "Il dit qu'il va l'envoyer chez son cousin à Québec.", True, id="fr-envoyer-chez-cousin"
        ),
    ],
)
def test_a_threat_of_deportation_is_not_danger_but_a_move_elsewhere_is_possible(
    language: str, narrative: str, urgent: bool
) -> None:
    result = classify(tip(language), narrative)
    assert not result.imminent_danger, outcome(result)
    if urgent:
        assert result.urgency is Urgency.URGENT and "possible_danger" in result.possibilities, outcome(result)
    else:
        assert result.urgency is Urgency.NON_URGENT and not result.possibilities, outcome(result)
        assert any(finding.code == "HT-07" for finding in result.indicators), outcome(result)


# 18. Things locked away, a subject line, and a wish to keep the police out are not danger.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "Their passports are locked in the manager's desk.", id="en-passports-locked"),
        pytest.param(
            "en",
            "Please don't call immigration on me, I only want to know my rights; my boss keeps my wages.",
            id="en-dont-call-immigration",
        ),
        pytest.param(
            "en", "Subject: URGENT - my cousin's employer keeps her passport", id="en-subject-urgent"
        ),
        pytest.param(
            "fr", "Leurs passeports sont barrés dans le bureau du gérant.", id="fr-passeports-barres"
        ),
        pytest.param(
            "fr",
            "Appelez pas la police svp, je veux juste savoir mes droits, le boss garde ma paie.",
            id="fr-appelez-pas-la-police",
        ),
        pytest.param(
            "fr", "Objet : URGENT. Mon voisin garde le passeport de sa gardienne.", id="fr-objet-urgent"
        ),
        pytest.param(
            "fr",
            "Je veux en finir avec cette job, le boss garde ma paie depuis mars.",
            id="fr-en-finir-avec-job",
        ),
    ],
)
def test_things_locked_away_a_subject_line_and_keeping_police_out_are_not_danger(
    language: str, narrative: str
) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.NON_URGENT, outcome(result)
    assert not result.imminent_danger and not result.possibilities, outcome(result)


# 19. Violence that is over: in custody, a past season, or a past tense once the person is out; but
# leaving with the man is not getting out.
@pytest.mark.parametrize(
    ("language", "narrative", "over"),
    [
        pytest.param(
            "en",
            "He pulled a knife on her last summer, but he has been in custody since and she is safe.",
            True,
            id="en-last-summer-custody",
        ),
        pytest.param(
            "en",
            "She left him in March and lives with her sister; he made her work nights and punished her with burns.",
            True,
            id="en-out-punished-with-burns",
        ),
        pytest.param(
            "fr",
            "L'été passé, il a sorti un couteau contre elle; il est incarcéré depuis ce temps-là.",
            True,
            id="fr-ete-passe-incarcere",
        ),
        pytest.param(
            "fr",
            "Elle l'a quitté en mars et habite chez une amie, en sécurité; il la faisait danser la nuit et la"
            " punissait avec des brûlures.",
            True,
            id="fr-sortie-punissait-brulures",
        ),
        pytest.param(
            "en",
            "She left the bar with him an hour ago and he dragged her into his truck.",
            False,
            id="en-left-with-him",
        ),
    ],
)
def test_violence_that_is_over_and_leaving_with_the_man_that_is_not(
    language: str, narrative: str, over: bool
) -> None:
    result = classify(tip(language), narrative)
    if over:
        assert result.urgency is Urgency.NON_URGENT, outcome(result)
        assert not result.imminent_danger and "possible_danger" not in result.possibilities, outcome(result)
    else:
        assert result.urgency is Urgency.URGENT and result.imminent_danger, outcome(result)


# 20. Ages: a document's age, an English Quebec school grade, an age in doubt, and a minor in the
# past now an adult and out of it.
@pytest.mark.parametrize(
    ("language", "narrative", "quoted"),
    [
        pytest.param(
            "en", "Her hospital chart says 15 and the man with her paid cash.", "15", id="en-chart-says"
        ),
        pytest.param(
            "en", "She's in Secondary 2 at the school down the street.", "secondary", id="en-secondary-2"
        ),
        pytest.param(
            "en", "She says she's 18, but I'd say a lot younger.", "younger", id="en-says-18-a-lot-younger"
        ),
        pytest.param(
            "en",
            "I'm honestly not sure how old the girl is; the man she lives with is about 40.",
            "how old",
            id="en-not-sure-how-old-adult-beside",
        ),
        pytest.param("fr", "Son dossier à la clinique dit 15 ans.", "15", id="fr-dossier-dit"),
        pytest.param(
            "fr",
            "Elle dit qu'elle a 19 ans, mais elle a l'air beaucoup plus jeune.",
            "jeune",
            id="fr-19-beaucoup-plus-jeune",
        ),
        pytest.param(
            "fr",
            "Je sais pas quel âge elle a, le gars avec elle a genre 40 ans.",
            "age",
            id="fr-sais-pas-quel-age-adult-beside",
        ),
    ],
)
def test_a_documented_or_doubted_age_or_a_school_grade_makes_a_minor(
    language: str, narrative: str, quoted: str
) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT, outcome(result)
    assert result.minor_involved or "possible_minor" in result.possibilities, outcome(result)
    minor_reasons = [reason.en.lower() for reason in result.reasons if reason.code in MINOR_TEXT_CODES]
    assert any(quoted in text for text in minor_reasons), (quoted, minor_reasons)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "From ages 13 to 16 she was sold by an older cousin; she's 27 now and out of it.",
            id="en-from-ages-13-to-16",
        ),
        pytest.param(
            "fr",
            "À 15 ans, elle a été vendue par un cousin; elle a 29 ans maintenant et elle en est sortie.",
            id="fr-a-15-ans-elle-a-ete",
        ),
        pytest.param(
            "en",
            "He sold my friend when she was younger; she's 35 now, safe, and wants to report him.",
            id="en-when-she-was-younger",
        ),
    ],
)
def test_a_minor_told_in_the_past_tense_now_an_adult_is_not_a_minor_case(
    language: str, narrative: str
) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.NON_URGENT, outcome(result)
    assert not result.minor_involved and "possible_minor" not in result.possibilities, outcome(result)


# 21. More numbers that are not ages: hours of the day, room numbers, a street number, and the ages
# of the children a worker looks after.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "She scrubs floors until 11 at night and he keeps her passport.",
            id="en-11-at-night",
        ),
        pytest.param("en", "They rent rooms 14 and 15 at the motel by the week.", id="en-rooms-14-and-15"),
        pytest.param("en", "The house is at 16 something on a side street off Main.", id="en-16-something"),
        pytest.param(
            "en", "She looks after their three kids, 2, 5 and 9, and is never paid.", id="en-looks-after-kids"
        ),
        pytest.param("fr", "Elle travaille de 7 h du matin jusqu'à 11 le soir.", id="fr-11-le-soir"),
        pytest.param("fr", "Ils louent les chambres 14 et 15 au motel.", id="fr-chambres-14-et-15"),
        pytest.param(
            "fr",
            "Elle s'occupe de leurs enfants de 3 et 6 ans et elle est jamais payée.",
            id="fr-s-occupe-enfants",
        ),
    ],
)
def test_hours_rooms_addresses_and_children_cared_for_are_not_minors(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert not result.minor_involved and "possible_minor" not in result.possibilities, outcome(result)
    assert result.urgency is Urgency.NON_URGENT, outcome(result)


# 22. Words that are something else: "du" is not "dû", "due" not a debt, "compte" an account, "parlé" a
# report; a tip made of them says no what.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "fr", "Mon beau-frère m'a parlé d'une affaire bizarre au garage du village.", id="fr-parle-du"
        ),
        pytest.param("en", "Something is off at the car wash, due to all the cars at night.", id="en-due-to"),
        pytest.param("fr", "Ma tante dit qu'il y a du monde louche au motel depuis l'été.", id="fr-du-monde"),
    ],
)
def test_words_that_are_something_else_describe_nothing(language: str, narrative: str) -> None:
    result = classify(vague_tip(language), narrative)
    assert result.urgency is Urgency.INSUFFICIENT_INFORMATION, outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "fr",
            "Sa paie arrive dans son compte et son chum la transfère le soir même.",
            id="fr-compte",
        ),
        pytest.param(
            "en", "Her pay goes into an account and he transfers it to his own the same day.", id="en-account"
        ),
    ],
)
def test_money_moved_between_accounts_is_not_a_person_moved(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.NON_URGENT and not result.possibilities, outcome(result)


# 23. Exploitation named ("trafficked", "exploitée") and wording families of indicators say what.
@pytest.mark.parametrize(
    ("language", "narrative", "code"),
    [
        pytest.param(
            "en",
            "My aunt was trafficked through Calgary years ago; she is 44, safe, and wants to report him.",
            None,
            id="en-trafficked",
        ),
        pytest.param(
            "fr",
            "Ma cousine a été exploitée sexuellement à Gatineau il y a dix ans; elle a 33 ans et elle va bien.",
            None,
            id="fr-exploitee",
        ),
        pytest.param(
            "en", "The owner takes $50 of every $70 massage the women give.", "HT-04", id="en-share-of-each"
        ),
        pytest.param("fr", "Le boss garde 60 % de ce que les filles gagnent.", "HT-04", id="fr-pourcentage"),
        pytest.param(
            "en", "The women sleep on the massage tables after closing.", "HT-11", id="en-sleep-tables"
        ),
        pytest.param(
            "fr", "Les employées dorment dans les salles de massage.", "HT-11", id="fr-dorment-salles"
        ),
        pytest.param(
            "en", "The cooks can only leave with the owner's nephew.", "HT-10", id="en-only-go-out-with"
        ),
        pytest.param(
            "fr", "Elles sortent seulement avec la femme du patron.", "HT-10", id="fr-sortent-seulement"
        ),
        pytest.param(
            "en",
            "The landlord holds the bank cards of the two cooks and does their banking.",
            "HT-13",
            id="en-debit-cards",
        ),
        pytest.param(
            "en", "At the clinic he translates everything for the girl.", "HT-09", id="en-translates"
        ),
        pytest.param(
            "fr", "À la clinique, c'est lui qui traduit tout pour elle.", "HT-09", id="fr-traduit-tout"
        ),
        pytest.param(
            "fr", "Les femmes doivent chacune 5 000 $ à l'agence.", "HT-05", id="fr-doivent-chacune"
        ),
    ],
)
def test_exploitation_named_or_an_indicator_in_other_words_says_what(
    language: str, narrative: str, code: str | None
) -> None:
    result = classify(vague_tip(language), narrative)
    assert result.urgency is Urgency.NON_URGENT, outcome(result)
    if code is not None:
        assert any(finding.code == code for finding in result.indicators), outcome(result)


# 24. A negation does not reach a phrase that opens with its own subject, and the past stops where a
# sentence turns to the present.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "Nobody at the salon knows she's 15.", id="en-nobody-knows-shes-15"),
        pytest.param("fr", "Personne au salon sait qu'elle a 15 ans.", id="fr-personne-sait-15-ans"),
        pytest.param(
            "en",
            "Her pimp was arrested last year, but she's back with him and he hits her.",
            id="en-arrested-last-year-but-back",
        ),
        pytest.param(
            "fr",
            "Son pimp a été arrêté l'an passé, mais elle est retournée avec lui pis il la frappe.",
            id="fr-arrete-l-an-passe-mais-retournee",
        ),
    ],
)
def test_a_new_subject_or_a_turn_to_the_present_keeps_a_sign_standing(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT, outcome(result)
    assert result.minor_involved or result.imminent_danger, outcome(result)


# 40. Danger told by circumstances alone is urgent, and the statistical second reading
# (services/triage/domain/safety_net.py) would raise it even if the rules did not:
# a plea cut off, a transfer tonight against the person's will.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "My cousin phoned me crying from a gas station bathroom a few minutes ago, whispering that the man"
            " who runs her dates is driving her to another province tonight and she does not want to go. Then"
            " the line went dead and she is not picking up.",
            id="en-plea-cut-off-moved-tonight",
        ),
        pytest.param(
            "fr",
            "Ma cousine m'a appelée en pleurant d'une toilette de station-service tantôt, elle chuchotait que le"
            " gars qui lui book ses clients l'amène dans une autre province ce soir pis qu'elle veut pas y aller."
            " Après ça a coupé pis elle répond plus.",
            id="fr-appel-coupe-deplacee-ce-soir",
        ),
    ],
)
def test_danger_told_by_circumstances_alone_is_urgent(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result.urgency is Urgency.URGENT, outcome(result)
    assert result.imminent_danger or result.possibilities, outcome(result)
    assert safety_net.read(narrative).raises, "the second reading alone would raise it too"


# 41. The second reading only ever raises: a tip the rules make urgent stays urgent on the rules'
# grounds, and the reading never speaks over a danger the rules read as over.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en", "He told her tonight he will kill her if she stops working for him.", id="en-threat"
        ),
        pytest.param(
            "fr", "Il lui a dit ce soir qu'il allait la tuer si elle arrêtait de travailler.", id="fr-menace"
        ),
    ],
)
def test_the_second_reading_never_replaces_the_rules_grounds(language: str, narrative: str) -> None:
    with_net = classify(tip(language), narrative)
    rules_alone = classify(tip(language), narrative, second_reading=False)
    assert with_net == rules_alone, outcome(with_net)


# 42. A sentence or two is the rules' alone: a handful of n-grams is too little to weigh.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "They rent two rooms at the motel by the week and pay cash.", id="en-short"),
        pytest.param("fr", "Ils louent deux chambres au motel à la semaine pis paient cash.", id="fr-court"),
    ],
)
def test_a_short_tip_is_never_raised_by_the_second_reading(language: str, narrative: str) -> None:
    result = classify(tip(language), narrative)
    assert result == classify(tip(language), narrative, second_reading=False), outcome(result)
