from schemas.referral import ProposalStatus
from schemas.tip import Need, TipFacts, TipSubmission
from services.referral.domain.matching import Provider, match
from tests.factories import tip_body

DIRECTORY = [
    Provider(
        "quebec-shelter",
        "Quebec Shelter",
        frozenset({"QC"}),
        frozenset({Need.EMERGENCY_SHELTER}),
        frozenset({"fr"}),
    ),
    Provider(
        "quebec-legal",
        "Quebec Legal Clinic",
        frozenset({"QC"}),
        frozenset({Need.LEGAL, Need.EMERGENCY_SHELTER}),
        frozenset({"fr", "en"}),
    ),
    Provider(
        "national-line",
        "National Line",
        frozenset({"CA"}),
        frozenset({Need.CRISIS_SUPPORT}),
        frozenset({"en", "fr"}),
    ),
    Provider(
        "ontario-only",
        "Ontario Only",
        frozenset({"ON"}),
        frozenset({Need.LEGAL, Need.EMERGENCY_SHELTER}),
        frozenset({"fr"}),
    ),
]


def facts(**overrides: object) -> TipFacts:
    return TipFacts.of(TipSubmission.model_validate(tip_body(**overrides)))


def test_only_providers_serving_the_province_or_all_of_canada_are_proposed() -> None:
    result = match(facts(), DIRECTORY)
    assert result.status is ProposalStatus.PROPOSED
    assert {p.provider_id for p in result.proposals} == {"quebec-shelter", "quebec-legal", "national-line"}


def test_the_provider_meeting_more_needs_ranks_first_and_says_why() -> None:
    first = match(facts(), DIRECTORY).proposals[0]
    assert first.provider_id == "quebec-legal"
    assert {"area.province", "needs.met", "language.match"} <= {reason.code for reason in first.reasons}


def test_no_referral_is_proposed_without_the_callers_consent() -> None:
    result = match(facts(consent={"service_referral": False}), DIRECTORY)
    assert result.status is ProposalStatus.NOT_CONSENTED and not result.proposals


def test_a_situation_outside_canada_is_referred_outside() -> None:
    result = match(facts(location={"country": "US"}), DIRECTORY)
    assert result.status is ProposalStatus.OUTSIDE_CANADA and not result.proposals


def test_an_area_nobody_serves_gives_no_match() -> None:
    result = match(facts(location={"country": "CA", "province": "NU"}), DIRECTORY[:2])
    assert result.status is ProposalStatus.NO_MATCH
