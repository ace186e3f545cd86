"""More phenomena of issue 12, each a rule in English and in French: over-calls that the statistical
second reading cannot lower, ages worked out from a year of birth, a school grade or an apparent age
against a claimed one, veiled threats, and what a reason quotes.

The sentences are written from the hotline's rules, never taken from a labelled tip.
"""

import re
from datetime import date

import pytest

from schemas.triage import Urgency
from services.triage.domain import safety_net
from services.triage.domain.classification import Classification, classify
from services.triage.domain.text import FUNCTION_WORDS
from tests.unit.test_triage_phenomena import outcome, tip, vague_tip

RECEIVED = date(2026, 11, 30)
MINOR_TEXT_CODES = frozenset({"victim_under_18_in_text", "minor_in_text", "possible_minor"})
DANGER_TEXT_CODES = frozenset({"imminent_danger_in_text", "possible_danger"})
QUOTED = re.compile(r"“([^”]*)”")


def read(language: str, narrative: str, received_on: date | None = RECEIVED) -> Classification:
    return classify(tip(language), narrative, received_on=received_on)


def a_minor(result: Classification) -> bool:
    return result.minor_involved or "possible_minor" in result.possibilities


def a_danger(result: Classification) -> bool:
    return result.imminent_danger or "possible_danger" in result.possibilities


# 1. A minor in the past, now an adult out of the situation, is no minor case, and the reasons say so.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "I was 16 when he started selling me in motels; I'm 25 now, I left him years ago and I'm safe.",
            id="en-i-was-16-now-25",
        ),
        pytest.param(
            "en",
            "Between 15 and 17 I was made to work for a pimp in Ottawa; I'm 30 today and it's over.",
            id="en-between-15-and-17",
        ),
        pytest.param(
            "fr",
            "J'avais 16 ans quand il m'a fait travailler dans des motels; j'ai 25 ans maintenant et je suis en sécurité.",
            id="fr-j-avais-16-j-ai-25",
        ),
        pytest.param(
            "fr",
            "Entre 15 et 17 ans, j'ai été exploitée par un gars de Laval; j'ai 30 ans aujourd'hui et c'est fini.",
            id="fr-entre-15-et-17-ans",
        ),
    ],
)
def test_a_past_minor_now_an_adult_and_out_is_set_aside_with_its_reason(
    language: str, narrative: str
) -> None:
    result = read(language, narrative)
    assert result.urgency is Urgency.NON_URGENT, outcome(result)
    assert not a_minor(result), outcome(result)
    assert "minor_in_past" in {reason.code for reason in result.reasons}, outcome(result)


# 2. The ages of someone's own children are set aside when the tip says the people it is about are
# adults; a parent telling of their own child, or children with no adult victim named, still count.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param(
            "en",
            "I have two kids, 7 and 9, and the women next door, all in their thirties, are never paid.",
            False,
            id="en-my-kids-adult-victims",
        ),
        pytest.param(
            "fr",
            "J'ai deux enfants de 7 et 9 ans, pis les femmes d'à côté, toutes dans la trentaine, sont jamais payées.",
            False,
            id="fr-mes-enfants-victimes-adultes",
        ),
        pytest.param(
            "en", "My daughter, 15, is being sent to men by her boyfriend.", True, id="en-my-daughter-15"
        ),
        pytest.param(
            "fr",
            "Ma fille de 15 ans se fait envoyer chez des clients par son chum.",
            True,
            id="fr-ma-fille-15",
        ),
        pytest.param(
            "en",
            "I have two kids, 7 and 9, and the man next door makes them clean his car wash for nothing.",
            True,
            id="en-my-kids-no-adult-victim",
        ),
        pytest.param(
            "fr",
            "Mes deux enfants de 12 et 14 ans travaillent pour le voisin qui les paye jamais.",
            True,
            id="fr-mes-enfants-sans-victime-adulte",
        ),
    ],
)
def test_children_of_the_family_around_adult_victims_are_not_minors_but_a_parents_own_child_is(
    language: str, narrative: str, minor: bool
) -> None:
    result = read(language, narrative)
    assert a_minor(result) is minor, outcome(result)
    assert (result.urgency is Urgency.URGENT) is minor, outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "My former student, now 20, left high school last year; her boyfriend keeps her pay.",
            id="en-left",
        ),
        pytest.param(
            "fr",
            "Mon ancienne élève a fini son secondaire l'an passé; son chum garde sa paye.",
            id="fr-a-fini",
        ),
    ],
)
def test_a_school_left_or_finished_is_no_minor(language: str, narrative: str) -> None:
    result = read(language, narrative)
    assert not a_minor(result), outcome(result)


# 3. "Emergency" and "urgence" as a place or a service's name are no danger; said of the situation, they are.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param(
            "en",
            "She works nights in the emergency room and her agency keeps her passport.",
            False,
            id="en-emergency-room",
        ),
        pytest.param(
            "en",
            "He left last week and is in emergency housing; the boss still has his papers.",
            False,
            id="en-housing",
        ),
        pytest.param("en", "This is an emergency, he has a knife to her throat.", True, id="en-an-emergency"),
        pytest.param(
            "fr", "Elle est préposée à l'urgence et l'agence garde son passeport.", False, id="fr-a-l-urgence"
        ),
        pytest.param(
            "fr",
            "Il est dans un hébergement d'urgence depuis lundi; le patron a encore ses papiers.",
            False,
            id="fr-hebergement-d-urgence",
        ),
        pytest.param("fr", "C'est une urgence, il la menace avec un couteau.", True, id="fr-une-urgence"),
    ],
)
def test_emergency_as_a_place_or_a_service_is_not_danger(language: str, narrative: str, danger: bool) -> None:
    result = read(language, narrative)
    assert a_danger(result) is danger, outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "How do I volunteer for your emergency line? I speak Tagalog.", id="en-volunteer"),
        pytest.param(
            "fr", "Comment devenir bénévole pour votre ligne d'urgence? Je parle espagnol.", id="fr-benevole"
        ),
        pytest.param(
            "en",
            "I'm in grade 11 doing a school project on trafficking in Nova Scotia, can you send me statistics?",
            id="en-grade-11-project",
        ),
        pytest.param(
            "fr",
            "Je suis en secondaire 4 pis je fais un travail scolaire sur la traite, avez-vous des statistiques?",
            id="fr-secondaire-4-travail",
        ),
    ],
)
def test_a_request_for_information_is_not_urgent(language: str, narrative: str) -> None:
    result = classify(vague_tip(language), narrative, received_on=RECEIVED)
    assert result.urgency is Urgency.INSUFFICIENT_INFORMATION, outcome(result)


# 4. A hospital is where professionals who call work; an injury treated there is still an injury.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param(
            "en",
            "I'm a hospital social worker; a patient says her employer keeps her passport.",
            False,
            id="en-hospital-social-worker",
        ),
        pytest.param(
            "en", "She is in the hospital with broken ribs from the owner.", True, id="en-in-the-hospital"
        ),
        pytest.param(
            "fr",
            "Je suis travailleuse sociale à l'hôpital; une patiente dit que son employeur garde son passeport.",
            False,
            id="fr-travailleuse-sociale",
        ),
        pytest.param(
            "fr", "Elle est à l'hôpital avec des côtes cassées par le patron.", True, id="fr-a-l-hopital"
        ),
        pytest.param(
            "fr", "Les gars plantent des arbres 12 heures par jour au camp.", False, id="fr-plantent-arbres"
        ),
        pytest.param("fr", "Il a dit qu'il allait la planter si elle parlait.", True, id="fr-la-planter"),
        pytest.param(
            "en", "Please don't call my work, my manager reads the phone log.", False, id="en-dont-call-work"
        ),
    ],
)
def test_words_of_care_work_or_trees_are_not_danger(language: str, narrative: str, danger: bool) -> None:
    result = read(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 5. A rumour its teller doubts, with no one and no time to act on, is not danger.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "Someone on TikTok says vans are snatching women at malls in Ontario. Is it true?",
            id="en-tiktok",
        ),
        pytest.param(
            "fr",
            "Quelqu'un sur TikTok dit que des vans enlèvent des femmes dans les centres d'achats. C'est tu vrai?",
            id="fr-tiktok",
        ),
    ],
)
def test_a_doubted_rumour_is_not_danger(language: str, narrative: str) -> None:
    result = classify(vague_tip(language), narrative, received_on=RECEIVED)
    assert result.urgency is not Urgency.URGENT, outcome(result)
    assert "danger_rumoured" in {reason.code for reason in result.reasons}, outcome(result)


# 6. Numbers that are not ages: a count at a time, a wage per hour, a room.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "They sleep about 6 at a time in the back room of the shop.", id="en-6-at-a-time"),
        pytest.param("en", "She is paid 16 $/h in cash and he keeps her passport.", id="en-16-an-hour"),
        pytest.param(
            "en", "They rent room 15 by the week and the boss keeps their passports.", id="en-room-15"
        ),
        pytest.param("fr", "Ils dorment environ 6 à la fois dans l'arrière-boutique.", id="fr-6-a-la-fois"),
        pytest.param("fr", "Elle est payée 16 $/h cash pis il garde son passeport.", id="fr-16-de-l-heure"),
        pytest.param(
            "fr",
            "Ils louent la chambre 15 à la semaine pis le boss garde leurs passeports.",
            id="fr-chambre-15",
        ),
    ],
)
def test_counts_wages_and_rooms_are_not_ages(language: str, narrative: str) -> None:
    result = read(language, narrative)
    assert not a_minor(result), outcome(result)


# 7. A year of birth is an age against the day the tip was received (given to the rules, never read
# from a clock): under 18 a minor, astride 18 a possible minor, without the day not read.
@pytest.mark.parametrize(
    ("language", "narrative", "received_on", "expected"),
    [
        pytest.param("en", "Her ID says she was born in 2011.", RECEIVED, "minor", id="en-born-2011"),
        pytest.param("en", "Her ID says she was born in 2008.", RECEIVED, "possible", id="en-born-2008"),
        pytest.param("en", "Her ID says she was born in 1995.", RECEIVED, "none", id="en-born-1995"),
        pytest.param(
            "en", "Her ID says she was born in 2011.", date(2031, 1, 5), "none", id="en-2011-read-in-2031"
        ),
        pytest.param("en", "Her ID says she was born in 2011.", None, "none", id="en-no-day-received"),
        pytest.param(
            "en",
            "The date of birth on her health card is 14/03/2010.",
            RECEIVED,
            "minor",
            id="en-date-of-birth",
        ),
        pytest.param("fr", "Sa carte dit qu'elle est née en 2011.", RECEIVED, "minor", id="fr-nee-en-2011"),
        pytest.param(
            "fr", "Sa carte dit qu'elle est née en 2008.", RECEIVED, "possible", id="fr-nee-en-2008"
        ),
        pytest.param(
            "fr",
            "Sa date de naissance sur la carte d'assurance maladie : 14/03/2010.",
            RECEIVED,
            "minor",
            id="fr-ddn",
        ),
    ],
)
def test_a_year_of_birth_is_an_age_against_the_day_received(
    language: str, narrative: str, received_on: date | None, expected: str
) -> None:
    result = read(language, narrative, received_on)
    found = (
        "minor"
        if result.minor_involved
        else "possible"
        if "possible_minor" in result.possibilities
        else "none"
    )
    assert found == expected, outcome(result)


# 8. An age told otherwise: arithmetic on papers, broken English, a grade not finished, an apparent
# age or a hint of youth against a claimed adult age.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "The date on her papers makes her 16.", id="en-makes-her-16"),
        pytest.param("en", "My cousin son, he is 16 years. Boss take his passport.", id="en-16-years"),
        pytest.param("en", "Her aunt says she hasn't finished grade 10 yet.", id="en-not-finished-grade-10"),
        pytest.param("en", "He says he is 19 but looks about 15.", id="en-says-19-looks-15"),
        pytest.param("en", "She says she's 18, but she has braces and a school bag.", id="en-18-braces"),
        pytest.param("fr", "Elle a pas encore fini sa 4e secondaire.", id="fr-pas-fini-secondaire"),
        pytest.param(
            "fr", "Il dit qu'il a 19 ans, mais y'a l'air d'en avoir 15.", id="fr-19-l-air-d-en-avoir-15"
        ),
        pytest.param(
            "fr", "Elle dit qu'elle a 18 ans, mais elle a des broches pis un sac d'école.", id="fr-18-broches"
        ),
    ],
)
def test_an_age_told_indirectly_or_against_a_claimed_adult_age_is_a_minor(
    language: str, narrative: str
) -> None:
    result = read(language, narrative)
    assert result.urgency is Urgency.URGENT, outcome(result)
    assert a_minor(result), outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "A young-looking woman, maybe mid-twenties, is driven to the motel by the same man every week.",
            id="en-young-looking-mid-twenties",
        ),
        pytest.param(
            "fr",
            "Une femme qui a l'air jeune, dans la vingtaine je dirais, est amenée au motel par le même homme.",
            id="fr-l-air-jeune-vingtaine",
        ),
    ],
)
def test_a_young_look_beside_an_age_in_the_twenties_is_not_a_minor(language: str, narrative: str) -> None:
    result = read(language, narrative)
    assert not a_minor(result), outcome(result)


# 9. Veiled threats and idioms are a possible danger; a threat dated to the past by the next
# sentence is over.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en", "The foreman asked the others: do you want to end up like him?", id="en-end-up-like-him"
        ),
        pytest.param("en", "He texted her: I know where you live, I'm coming.", id="en-know-where-you-live"),
        pytest.param("en", "When she said she would quit, he said she'd regret it.", id="en-regret-it"),
        pytest.param("en", "He told her she won't see Christmas if she leaves.", id="en-wont-see-christmas"),
        pytest.param(
            "fr",
            "Le contremaître a demandé aux autres : vous voulez finir comme lui?",
            id="fr-finir-comme-lui",
        ),
        pytest.param("fr", "Il lui a texté : je sais où tu restes, j'arrive.", id="fr-je-sais-ou-tu-restes"),
        pytest.param(
            "fr",
            "Quand elle a dit qu'elle lâchait, il a dit : tu vas le regretter.",
            id="fr-tu-vas-le-regretter",
        ),
        pytest.param("fr", "Il a dit que si elle parlait, sa famille va payer.", id="fr-ta-famille-va-payer"),
        pytest.param("fr", "Le gérant a dit qu'elle verrait pas Noël.", id="fr-verrait-pas-noel"),
    ],
)
def test_a_veiled_threat_is_a_possible_danger(language: str, narrative: str) -> None:
    result = read(language, narrative)
    assert result.urgency is Urgency.URGENT, outcome(result)
    assert a_danger(result), outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "He used to say he would kill me if I talked. That was in 2019; he was deported and I'm safe now.",
            id="en-that-was-in-2019",
        ),
        pytest.param(
            "fr",
            "Il me disait qu'il allait me tuer si je parlais. C'était en 2019; il a été déporté et je suis en sécurité.",
            id="fr-c-etait-en-2019",
        ),
        pytest.param(
            "en", "Nobody at the farm has complained of anything violent.", id="en-anything-violent"
        ),
        pytest.param(
            "fr", "Y'a personne qui les menace, mais ils osent pas se plaindre.", id="fr-y-a-personne-qui"
        ),
    ],
)
def test_a_threat_dated_to_the_past_or_denied_is_not_danger(language: str, narrative: str) -> None:
    result = read(language, narrative)
    assert not a_danger(result), outcome(result)


# 10. What a reason quotes: the words that decided, without function words, names or places.
@pytest.mark.parametrize(
    ("language", "narrative", "quoted"),
    [
        pytest.param("en", "She's 15 and works at the salon.", "15", id="en-age"),
        pytest.param("en", "He is hurting her in the back room right now.", "hurting", id="en-harm"),
        pytest.param("fr", "Elle a l'air très jeune et travaille au salon.", "air tres jeune", id="fr-look"),
        pytest.param("fr", "Il la frappe dans l'arrière-boutique.", "frappe", id="fr-harm"),
    ],
)
def test_a_reason_quotes_no_function_word(language: str, narrative: str, quoted: str) -> None:
    result = read(language, narrative)
    texts = " ".join(
        reason.en for reason in result.reasons if reason.code in MINOR_TEXT_CODES | DANGER_TEXT_CODES
    )
    words = [word for match in QUOTED.finditer(texts) for word in match.group(1).split()]
    assert quoted in " ".join(words), texts
    assert not set(words) & FUNCTION_WORDS, texts


def test_the_second_reading_never_quotes_a_place_a_name_or_a_function_word() -> None:
    narrative = (
        "My cousin Marisol phoned me crying from a gas station bathroom in Moncton a few minutes ago,"
        " whispering that the man who runs her dates is driving her to Halifax tonight and she does not"
        " want to go. Then the line went dead and she is not picking up."
    )
    verdict = safety_net.read(narrative, places=("Moncton", "NB"))
    assert verdict.raises
    assert not {"moncton", "halifax", "marisol", "the", "her", "she"} & set(verdict.words), verdict.words
