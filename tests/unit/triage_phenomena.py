"""The harness every test_triage_phenomena*.py shares: a tip that leaves minor and danger to its
narrative, the readings to classify it with, and what a failure prints.

Each session's phenomena file used to import these from test_triage_phenomena.py or write its own
again; they live here so that a new file imports them from one place.
"""

from datetime import date

from schemas.tip import TipFacts, TipSubmission
from services.triage.domain.classification import Classification, classify
from tests.factories import tip_body

LOCATIONS = {
    "en": {"country": "CA", "province": "ON", "city": "Toronto"},
    "fr": {"country": "CA", "province": "QC", "city": "Montréal"},
}
# Phenomena are read as of the day the sentences were written: an age against a year of birth in them.
RECEIVED = date(2026, 11, 30)


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


def read(language: str, narrative: str) -> Classification:
    """Both readings: the rules and the statistical second reading."""
    return classify(tip(language), narrative, received_on=RECEIVED)


def rules(language: str, narrative: str) -> Classification:
    """The rules alone, without the second reading."""
    return classify(tip(language), narrative, received_on=RECEIVED, second_reading=False)


def told_by_a_stranger(language: str, narrative: str) -> Classification:
    """A web tip that says where and no more, read by the rules alone: what is happening, and
    whether there is anything to act on, must come from the narrative."""
    return classify(
        facts(
            language=language,
            location=LOCATIONS[language],
            assessment={"minor_involved": "unknown", "imminent_danger": "unknown", "trafficking_types": []},
        ),
        narrative,
        received_on=RECEIVED,
        second_reading=False,
    )


def a_minor(result: Classification) -> bool:
    return result.minor_involved or "possible_minor" in result.possibilities


def a_danger(result: Classification) -> bool:
    return result.imminent_danger or "possible_danger" in result.possibilities
