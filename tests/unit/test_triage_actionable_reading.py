"""The actionable reading: a tip the rules find no sign in is insufficient only when it gives nothing
to act on. A described situation (a person, and what is done with their work, pay, lodging or
movements) in words the lexicon lacks is read as non-urgent for a supervisor's review; a question
about the hotline stays insufficient; and the reading never lowers an urgent call.

The sentences are written from the hotline's rules, never taken from a labelled tip.
"""

import pytest

from schemas.triage import Urgency
from services.triage.domain.classification import classify
from tests.unit.test_triage_phenomena import outcome, vague_tip


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "A young man at the car wash on Main lives above the shop with four others and the manager holds"
            " on to whatever they earn.",
            id="en-lives-above-the-shop-manager-holds-earnings",
        ),
        pytest.param(
            "en",
            "A woman who cleans at the motel says her cousin brought her here, she sleeps in the laundry room"
            " and hands him everything she makes.",
            id="en-sleeps-in-the-laundry-room-hands-over-pay",
        ),
        pytest.param(
            "fr",
            "Une femme du salon d'ongles de la rue King dort dans l'arrière-boutique et le propriétaire la"
            " conduit partout; elle a jamais d'argent à elle.",
            id="fr-dort-dans-l-arriere-boutique-jamais-d-argent",
        ),
        pytest.param(
            "fr",
            "Une femme qui travaille au dépanneur de mon coin habite dans le sous-sol du propriétaire et il la"
            " conduit partout; elle a jamais d'argent à elle.",
            id="fr-habite-chez-le-proprietaire-jamais-d-argent",
        ),
    ],
)
def test_a_described_situation_the_lexicon_has_no_words_for_is_not_insufficient(
    language: str, narrative: str
) -> None:
    rules_alone = classify(vague_tip(language), narrative, second_reading=False)
    result = classify(vague_tip(language), narrative)
    assert rules_alone.urgency is Urgency.INSUFFICIENT_INFORMATION, "the rules alone find nothing concrete"
    assert result.urgency is Urgency.NON_URGENT, outcome(result)
    codes = [reason.code for reason in result.reasons]
    assert "net.actionable" in codes
    assert any(code.startswith("missing.") for code in codes), "the reasons still say what the rules missed"


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "Do you offer workshops for school staff?", id="en-workshops"),
        pytest.param(
            "en",
            "Just wondering what the hotline does with the information people give.",
            id="en-what-you-do",
        ),
        pytest.param(
            "fr", "Est-ce que vous offrez des ateliers pour le personnel des écoles?", id="fr-ateliers"
        ),
        pytest.param("fr", "Est-ce que c'est anonyme si j'appelle?", id="fr-anonyme"),
    ],
)
def test_a_question_about_the_hotline_stays_insufficient(language: str, narrative: str) -> None:
    result = classify(vague_tip(language), narrative)
    assert result.urgency is Urgency.INSUFFICIENT_INFORMATION, outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param(
            "en",
            "The man who runs the car wash took her passport and says he will hurt her mother if she leaves.",
            id="en-threat-to-family",
        ),
        pytest.param(
            "fr",
            "Le gars du lave-auto a gardé son passeport et dit qu'il va faire du mal à sa mère si elle part.",
            id="fr-menace-a-la-famille",
        ),
    ],
)
def test_the_actionable_reading_never_lowers_an_urgent_call(language: str, narrative: str) -> None:
    result = classify(vague_tip(language), narrative)
    assert result.urgency is Urgency.URGENT, outcome(result)
    assert "net.actionable" not in {reason.code for reason in result.reasons}
