"""Where a danger word stands decides whether it is a danger to anyone now: in a service's name, or in
a statement about the trade in general, it is not; said of someone, it still is. Each rule in
English and in French.

The sentences are written from the hotline's rules, never taken from a labelled tip.
"""

import pytest

from services.triage.domain.classification import Classification, classify
from tests.unit.test_triage_phenomena import outcome, tip

DANGER_CODES = frozenset({"imminent_danger_in_text", "possible_danger"})


def a_danger(result: Classification) -> bool:
    return bool(DANGER_CODES & {reason.code for reason in result.reasons})


def rules(language: str, narrative: str) -> Classification:
    return classify(tip(language), narrative, second_reading=False)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "I called SOS violence conjugale last week and they told me to call you about my cousin's boss,"
            " who keeps her passport.",
            id="en-sos-violence-conjugale",
        ),
        pytest.param(
            "en",
            "The worker at the domestic violence program told me about a woman whose boss keeps her passport.",
            id="en-domestic-violence-program",
        ),
        pytest.param(
            "en",
            "She lives at a shelter for women fleeing violence and her employer keeps her wages.",
            id="en-shelter-for-women-fleeing-violence",
        ),
        pytest.param(
            "fr",
            "L'intervenante de la maison d'hébergement pour femmes victimes de violence conjugale m'a dit"
            " d'appeler : le patron de ma cousine garde son passeport.",
            id="fr-maison-pour-femmes-victimes-de-violence",
        ),
        pytest.param(
            "fr",
            "J'ai appelé SOS violence conjugale et ils m'ont dit de vous appeler pour le patron de ma cousine,"
            " qui garde son passeport.",
            id="fr-sos-violence-conjugale",
        ),
    ],
)
def test_a_danger_word_in_a_services_name_is_no_danger(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert not a_danger(result), outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "Traffickers generally threaten the families of their victims, I read in an article, and I wonder"
            " if that is what is happening with the workers at the farm.",
            id="en-traffickers-generally-threaten",
        ),
        pytest.param(
            "en",
            "I saw a documentary saying these girls get beaten if they don't bring money; the woman at the"
            " motel might be one of them.",
            id="en-documentary-girls-get-beaten",
        ),
        pytest.param(
            "fr",
            "En général, les trafiquants menacent la famille des victimes, j'ai lu ça dans un article; je me"
            " demande si c'est ce qui se passe à la ferme.",
            id="fr-en-general-les-trafiquants-menacent",
        ),
        pytest.param(
            "fr",
            "Y'a un reportage qui disait que les filles se font battre si elles rapportent pas assez; la femme"
            " au motel est peut-être une d'elles.",
            id="fr-un-reportage-disait-battre",
        ),
    ],
)
def test_danger_said_of_the_trade_in_general_is_no_danger_to_anyone_now(
    language: str, narrative: str
) -> None:
    result = rules(language, narrative)
    assert not a_danger(result), outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en", "In general he beats her when she comes back with nothing.", id="en-in-general-he-beats-her"
        ),
        pytest.param(
            "en",
            "I read that girls get beaten in that industry, and the girl next door is being beaten right now.",
            id="en-read-that-and-next-door-now",
        ),
        pytest.param(
            "fr",
            "En général il la bat quand elle revient les mains vides.",
            id="fr-en-general-il-la-bat",
        ),
        pytest.param(
            "fr",
            "J'ai lu un article sur les réseaux, et mon amie se fait battre par son patron en ce moment.",
            id="fr-article-et-mon-amie-maintenant",
        ),
    ],
)
def test_danger_said_of_someone_stays_a_danger_even_beside_a_general_word(
    language: str, narrative: str
) -> None:
    result = rules(language, narrative)
    assert a_danger(result), outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en", "What should I do if someone is in danger?", id="en-what-do-i-do-if-someone-is-in-danger"
        ),
        pytest.param(
            "en",
            "If she were in danger she would tell me; her boss keeps her papers though.",
            id="en-if-she-were-in-danger",
        ),
        pytest.param(
            "fr", "Qu'est-ce que je fais si quelqu'un est en danger?", id="fr-si-quelqu-un-est-en-danger"
        ),
        pytest.param(
            "fr",
            "Si elle était en danger elle me le dirait; son patron garde ses papiers par contre.",
            id="fr-si-elle-etait-en-danger",
        ),
    ],
)
def test_in_danger_inside_a_condition_says_nothing_of_anyones_state(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert not a_danger(result), outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en", "If he finds out she called, she's in danger.", id="en-condition-then-danger-clause"
        ),
        pytest.param(
            "en", "If she talks he says she will be in danger.", id="en-second-subject-is-the-consequence"
        ),
        pytest.param(
            "fr", "S'il apprend qu'elle a appelé, elle est en danger.", id="fr-condition-puis-danger"
        ),
        pytest.param(
            "fr", "Si elle parle il dit qu'elle sera en danger.", id="fr-deuxieme-sujet-consequence"
        ),
    ],
)
def test_danger_in_the_consequence_of_a_condition_stays_a_danger(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert "imminent_danger_in_text" in {reason.code for reason in result.reasons}, outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en", "The cook at the restaurant, is she in danger? I can't tell.", id="en-is-she-in-danger"
        ),
        pytest.param(
            "fr", "La cuisinière du resto, est-elle en danger? Je sais pas.", id="fr-est-elle-en-danger"
        ),
    ],
)
def test_danger_in_a_question_the_caller_asks_is_a_possibility_not_a_statement(
    language: str, narrative: str
) -> None:
    codes = {reason.code for reason in rules(language, narrative).reasons}
    assert "possible_danger" in codes and "imminent_danger_in_text" not in codes, codes
