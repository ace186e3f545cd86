"""Phenomena of issue 12 found in session 9b (development7), each a rule in English and in French: a
birthday to come ("about to turn 16": 15 now), an age told by a legal threshold not yet reached (the
age to drive or to vote), an age said with "only" ("elle a juste 16"), confinement with its object
between the verb and the place, a threat told without a danger word (knowing where we live, "look in
the lake", overboard, making an example, "shot" as the verb's form); and over-calls: an adult floor
("25 and up"), a prison term, "brûlés" as worn out, a threat of an administrative act only, a grade
taught in the past, a worker's own children, a past event at an age told before "I am 22 today",
"wrong number", and a short call cut off before its account.

The sentences are written from the hotline's rules, never taken from a labelled tip.
"""

import pytest

from schemas.triage import Urgency
from services.triage.domain.classification import classify
from tests.unit.test_triage_phenomena import RECEIVED, a_danger, a_minor, outcome, rules, vague_tip


# 1. A birthday to come gives the age now: one less than the age to come, with or without "ans".
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "The girl at the bar is about to turn 18 and a man books her clients.", True,
                     id="en-about-to-turn-18"),
        pytest.param("en", "My neighbour's niece is going to have her sweet 16 and a man books her dates in motels.", True,
                     id="en-going-to-have-her-sweet-16"),
        pytest.param("fr", "La serveuse va fêter ses 18 le mois prochain et un homme lui trouve des clients.", True,
                     id="fr-va-feter-ses-18-le-mois-prochain"),
        pytest.param("fr", "Ma voisine s'en va sur ses 17 et un gars lui trouve des clients dans des motels.", True,
                     id="fr-s-en-va-sur-ses-17"),
        pytest.param("en", "The dancer is about to turn 30 and a man books her clients.", False,
                     id="en-about-to-turn-30"),
        pytest.param("fr", "La danseuse va fêter ses 31 le mois prochain et un homme lui trouve des clients.", False,
                     id="fr-va-feter-ses-31"),
    ],
)  # fmt: skip
def test_a_birthday_to_come_gives_the_age_now(language: str, narrative: str, minor: bool) -> None:
    result = rules(language, narrative)
    assert result.minor_involved is minor, outcome(result)


# 2. An age told by a legal threshold not yet reached: the age to drive (16) or to vote (18).
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "A girl who is not old enough to drive gets into different cars with older men every night.",
                     id="en-not-old-enough-to-drive"),
        pytest.param("en", "The boy washing dishes there is too young to vote and works until 3 am for cash.",
                     id="en-too-young-to-vote"),
        pytest.param("fr", "Une fille qui a pas encore l'âge de conduire monte dans des autos d'hommes tous les soirs.",
                     id="fr-pas-encore-l-age-de-conduire"),
        pytest.param("fr", "Le garçon à la plonge est trop jeune pour voter et travaille jusqu'à 3 h pour du cash.",
                     id="fr-trop-jeune-pour-voter"),
    ],
)  # fmt: skip
def test_an_age_told_by_a_threshold_not_reached_is_a_minor(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_minor(result), outcome(result)


def test_a_threshold_reached_long_ago_is_no_minor() -> None:
    for language, narrative in (
        ("en", "The driver is old enough to drive a truck and works 70 hours a week for cash."),
        ("fr", "Le chauffeur a l'âge de conduire un camion et travaille 70 heures par semaine au noir."),
    ):
        result = rules(language, narrative)
        assert not a_minor(result), outcome(result)


# 3. An age said with "only" is stated, not approximate.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "My cousin is in college early, she is only 16, and an agent sends her to private parties.",
                     id="en-she-is-only-16"),
        pytest.param("fr", "Ma cousine est au cégep mais elle a juste 16, un agent l'envoie dans des soirées privées.",
                     id="fr-elle-a-juste-16"),
        pytest.param("fr", "Mon voisin a seulement 15 ans et il travaille la nuit dans un entrepôt pour un gars.",
                     id="fr-il-a-seulement-15-ans"),
    ],
)  # fmt: skip
def test_an_age_said_with_only_is_a_stated_age(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.minor_involved, outcome(result)


# 4. Confinement with its object between the verb and the place ("locks three workers in a cabin").
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "The foreman took their passports and shut the three new workers in a cabin at night.", True,
                     id="en-shut-three-workers-in-a-cabin"),
        pytest.param("fr", "Le contremaître a pris les passeports et enferme les trois nouveaux dans une cabine la nuit.", True,
                     id="fr-enferme-les-trois-nouveaux-dans-une-cabine"),
        pytest.param("fr", "Le patron garde nos passeports et barre deux des filles dans la remise le soir.", True,
                     id="fr-barre-deux-des-filles-dans-la-remise"),
        pytest.param("en", "The boss took our passports and shut the tools in a cabin at night.", False,
                     id="en-shut-the-tools-in-a-cabin"),
    ],
)  # fmt: skip
def test_confinement_with_its_object_before_the_place_is_danger(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert result.imminent_danger is danger, outcome(result)


# 5. Threats told without a danger word: where we live, a body to be looked for, overboard, an
# example made, and a verb's irregular past ("he'll be shot").
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "My uncle works at a farm; the owner said they know where we live.", id="en-know-where-we-live"),
        pytest.param("en", "She texted that if she tries to leave the camp she'll be shot.", id="en-shell-be-shot"),
        pytest.param("en", "My friend said if I don't hear from her by Sunday, look in the river.", id="en-look-in-the-river"),
        pytest.param("en", "The captain told the deckhand he would push him overboard on the next trip.",
                     id="en-push-him-overboard"),
        pytest.param("en", "Her boss told her tonight he is making an example of her.", id="en-making-an-example"),
        pytest.param("fr", "Mon amie m'a dit que si je la revois pas lundi, cherche dans le fleuve.",
                     id="fr-cherche-dans-le-fleuve"),
        pytest.param("fr", "Le capitaine a dit au matelot qu'il le jetterait par-dessus bord au prochain voyage.",
                     id="fr-par-dessus-bord"),
    ],
)  # fmt: skip
def test_a_threat_without_a_danger_word_is_danger(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_danger(result), outcome(result)


# 6. Numbers that are not a minor's age: an adult floor, a prison term.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "The agency's ads say the ladies are 21 and up; same phone number on every ad.",
                     id="en-21-and-up"),
        pytest.param("fr", "Les annonces de l'agence disent que les filles ont 21 ans et plus, même numéro partout.",
                     id="fr-21-ans-et-plus"),
        pytest.param("en", "The man who sold me is in prison now for 8 years. I am 30 and need help with debts.",
                     id="en-in-prison-for-8-years"),
        pytest.param("fr", "Le gars qui m'exploitait est en prison pour 8 ans. J'ai 30 ans, j'ai besoin d'aide pour mes dettes.",
                     id="fr-en-prison-pour-8-ans"),
        pytest.param("fr", "Il a écopé de 9 ans. J'ai 28 ans et je cherche un logement.", id="fr-ecope-de-9-ans"),
    ],
)  # fmt: skip
def test_an_adult_floor_or_a_prison_term_is_no_minor(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert not a_minor(result), outcome(result)


def test_a_minor_floor_is_still_a_minor() -> None:
    for language, narrative in (
        ("en", "The site says the girls are 14 and up and a man answers the phone."),
        ("fr", "Le site dit que les filles ont 14 ans et plus et un homme répond au téléphone."),
    ):
        result = rules(language, narrative)
        assert a_minor(result), outcome(result)


# 7. Words in another sense: "brûlés" said of tired workers, "burned out".
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("fr", "Les gars travaillent 70 heures pour 8 $ de l'heure, personne est blessé, ils sont juste brûlés.", False,
                     id="fr-juste-brules"),
        pytest.param("en", "The cleaners work 70 hours a week for cash, nobody is hurt, they are just burned out.", False,
                     id="en-burned-out"),
        pytest.param("fr", "Le patron l'a brûlée avec une cigarette hier soir.", True, id="fr-brulee-avec-une-cigarette"),
    ],
)  # fmt: skip
def test_worn_out_is_no_burn(language: str, narrative: str, danger: bool) -> None:
    result = rules(language, narrative)
    assert result.imminent_danger is danger, outcome(result)


# 8. A threat of an administrative act only (a permit cancelled, a student reported absent) is a
# threat to status, not of violence; a threat of harm beside it still is.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "The employer threatens to cancel his work permit if he complains. No violence, he has his passport.", False,
                     id="en-threatens-to-cancel-his-permit"),
        pytest.param("en", "The restaurant threatened to report him absent to his college.", False,
                     id="en-threatened-to-report-him-absent"),
        pytest.param("fr", "L'employeur menace de lui annuler son permis s'il se plaint. Pas de violence, il a son passeport.", False,
                     id="fr-menace-de-lui-annuler-son-permis"),
        pytest.param("fr", "Le restaurant menace de le déclarer absent à l'école.", False, id="fr-menace-de-le-declarer-absent"),
        pytest.param("fr", "L'employeur menace de le tuer s'il se plaint.", True, id="fr-menace-de-le-tuer"),
    ],
)  # fmt: skip
def test_a_threat_of_an_administrative_act_only_is_no_danger(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 9. A minor in the past, now an adult: a grade taught before, a past event at an age ("À 16 ans, un
# gars m'a..."), told beside an adult age now.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "I taught her in grade 11; she is 20 now and her boyfriend manages her online account.",
                     id="en-taught-her-in-grade-11"),
        pytest.param("fr", "Je lui ai enseigné en secondaire 4. Elle a 20 ans maintenant et son chum gère ses revenus.",
                     id="fr-lui-ai-enseigne-en-secondaire-4"),
        pytest.param("fr", "À 15 ans, un homme m'a fait danser dans des bars. J'ai 24 ans aujourd'hui et je suis en sécurité.",
                     id="fr-a-15-ans-un-homme-m-a"),
    ],
)  # fmt: skip
def test_a_minor_in_the_past_now_an_adult_is_no_minor_now(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert not a_minor(result), outcome(result)


def test_a_student_in_a_grade_now_is_still_a_minor() -> None:
    for language, narrative in (
        ("en", "I teach her in grade 11 and a man picks her up after school with cash."),
        ("fr", "Elle est en secondaire 4 et un homme vient la chercher après l'école avec du cash."),
    ):
        result = rules(language, narrative)
        assert a_minor(result), outcome(result)


# 10. A worker's own children listed with "propres" / "own" beside her adult age are her family.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "A cleaner (38 years old) lives in the couple's basement with her own two children aged 6 and 9; she is paid 300 a month.",
                     id="en-her-own-two-children"),
        pytest.param("fr", "Une femme (38 ans) fait le ménage et vit au sous-sol avec ses propres enfants de 6 et 9 ans, payée 300 $ par mois.",
                     id="fr-ses-propres-enfants"),
    ],
)  # fmt: skip
def test_a_workers_own_children_are_family(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert not a_minor(result), outcome(result)


# 11. A call that says it is a mistake, or a short call cut off before its account, has nothing to act on.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "The caller whispered wrong number and hung up. No details.", id="en-whispered-wrong-number"),
        pytest.param("fr", "L'appelante a chuchoté mauvais numéro puis a raccroché. Aucun détail.",
                     id="fr-chuchote-mauvais-numero"),
    ],
)  # fmt: skip
def test_a_wrong_number_is_no_caller_unable_to_talk(language: str, narrative: str) -> None:
    result = classify(vague_tip(language), narrative, received_on=RECEIVED, second_reading=False)
    assert result.urgency is Urgency.INSUFFICIENT_INFORMATION, outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "A woman said 'I need help, it's about my sister' then the line dropped. Area code 506 only.",
                     id="en-then-the-line-dropped"),
        pytest.param("fr", "Une femme a dit « c'est pour ma sœur, elle... » puis la ligne a coupé. Indicatif 506 seulement.",
                     id="fr-puis-la-ligne-a-coupe"),
    ],
)  # fmt: skip
def test_a_short_call_cut_off_before_its_account_is_insufficient(language: str, narrative: str) -> None:
    result = classify(vague_tip(language), narrative, received_on=RECEIVED)
    assert result.urgency is Urgency.INSUFFICIENT_INFORMATION, outcome(result)


def test_a_call_cut_off_after_a_danger_is_still_urgent() -> None:
    for language, narrative in (
        ("en", "She said he has a gun and is coming back tonight, then the line dropped."),
        ("fr", "Elle a dit qu'il a un fusil et qu'il revient ce soir, puis la ligne a coupé."),
    ):
        result = classify(vague_tip(language), narrative, received_on=RECEIVED)
        assert result.urgency is Urgency.URGENT, outcome(result)
