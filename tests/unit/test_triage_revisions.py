import pytest

from schemas.intake import FactsUpdate
from schemas.tip import Answer, TipFacts, TipSubmission
from schemas.triage import OverrideReason, Urgency
from services.triage.domain.classification import classify
from services.triage.domain.revisions import UrgencyUnchanged, after_new_information, overridden
from tests.factories import tip_body

ADULT_LABOUR = TipFacts.of(TipSubmission.model_validate(tip_body()))
NO_GROUNDS: frozenset[str] = frozenset()


def codes(reasons: tuple) -> list[str]:
    return [reason.code for reason in reasons]


def test_new_evidence_of_a_minor_raises_a_non_urgent_tip_to_urgent_and_says_so() -> None:
    latest = classify(FactsUpdate.model_validate({"assessment": {"victim_age": 15}}).applied_to(ADULT_LABOUR))
    revision = after_new_information(Urgency.NON_URGENT, Urgency.NON_URGENT, NO_GROUNDS, latest)
    assert revision.urgency is Urgency.URGENT
    assert codes(revision.reasons)[:2] == ["supplement.raised_urgency", "victim_under_18"]


def test_information_that_brings_no_urgent_ground_never_lowers_an_urgent_tip() -> None:
    latest = classify(ADULT_LABOUR)
    revision = after_new_information(Urgency.URGENT, Urgency.URGENT, frozenset({"minor_involved"}), latest)
    assert revision.urgency is Urgency.URGENT
    assert codes(revision.reasons)[0] == "supplement.urgency_kept"


def test_a_supervisors_lowering_stands_when_the_supplement_repeats_what_was_known() -> None:
    facts = FactsUpdate.model_validate({"assessment": {"minor_involved": "yes"}}).applied_to(ADULT_LABOUR)
    latest = classify(facts)
    revision = after_new_information(Urgency.NON_URGENT, Urgency.URGENT, latest.urgent_grounds, latest)
    assert revision.urgency is Urgency.NON_URGENT


def test_a_new_urgent_ground_raises_again_a_tip_a_supervisor_had_lowered() -> None:
    facts = FactsUpdate.model_validate(
        {"assessment": {"minor_involved": "yes", "imminent_danger": "yes"}}
    ).applied_to(ADULT_LABOUR)
    latest = classify(facts)
    revision = after_new_information(
        Urgency.NON_URGENT, Urgency.URGENT, frozenset({"minor_involved"}), latest
    )
    assert revision.urgency is Urgency.URGENT


def test_where_and_who_make_an_insufficient_tip_actionable() -> None:
    vague = ADULT_LABOUR.model_copy(
        update={
            "location": ADULT_LABOUR.location.model_copy(update={"province": None, "city": None}),
            "victim_profile": None,
            "reporter_role": "community",
            "assessment": ADULT_LABOUR.assessment.model_copy(update={"trafficking_types": []}),
        }
    )
    assert classify(vague).urgency is Urgency.INSUFFICIENT_INFORMATION
    update = FactsUpdate.model_validate(
        {
            "location": {"country": "CA", "province": "MB", "city": "Brandon"},
            "victim_profile": {"age": 34},
            "assessment": {"trafficking_types": ["labour"]},
        }
    )
    latest = classify(update.applied_to(vague))
    revision = after_new_information(
        Urgency.INSUFFICIENT_INFORMATION, Urgency.INSUFFICIENT_INFORMATION, NO_GROUNDS, latest
    )
    assert revision.urgency is Urgency.NON_URGENT


def test_an_unknown_answer_in_a_supplement_never_erases_a_known_one() -> None:
    known = FactsUpdate.model_validate({"assessment": {"minor_involved": "yes"}}).applied_to(ADULT_LABOUR)
    later = FactsUpdate.model_validate({"assessment": {"imminent_danger": "yes"}}).applied_to(known)
    assert later.assessment.minor_involved is Answer.YES
    assert later.assessment.imminent_danger is Answer.YES
    assert later.assessment.trafficking_types == ADULT_LABOUR.assessment.trafficking_types


def test_a_new_place_outside_canada_marks_the_tip_outside_canada() -> None:
    moved = FactsUpdate.model_validate({"location": {"country": "US", "city": "Detroit"}}).applied_to(
        ADULT_LABOUR
    )
    assert moved.outside_canada
    assert moved.needs == ADULT_LABOUR.needs


def test_an_override_puts_the_supervisors_reason_first_in_both_languages() -> None:
    revision = overridden(
        Urgency.URGENT, Urgency.NON_URGENT, OverrideReason.CALLER_CLARIFIED, classify(ADULT_LABOUR)
    )
    assert revision.urgency is Urgency.NON_URGENT
    first = revision.reasons[0]
    assert first.code == "override.caller_clarified"
    assert "supervisor" in first.en and "superviseur" in first.fr


def test_an_override_to_the_same_urgency_is_refused() -> None:
    with pytest.raises(UrgencyUnchanged):
        overridden(Urgency.URGENT, Urgency.URGENT, OverrideReason.OTHER, classify(ADULT_LABOUR))
