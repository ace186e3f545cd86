from schemas.tip import TipFacts, TipSubmission
from schemas.triage import Urgency
from services.triage.domain.classification import classify
from tests.factories import tip_body


def facts(**overrides: object) -> TipFacts:
    return TipFacts.of(TipSubmission.model_validate(tip_body(**overrides)))


def test_a_minor_stated_by_the_reporter_makes_a_tip_urgent() -> None:
    result = classify(facts(assessment={"minor_involved": "yes", "imminent_danger": "no"}))
    assert result.urgency is Urgency.URGENT
    assert result.minor_involved
    assert "minor_involved" in {reason.code for reason in result.reasons}


def test_a_victim_age_under_18_makes_a_tip_urgent_even_when_the_answer_says_no_minor() -> None:
    result = classify(facts(assessment={"minor_involved": "no", "victim_age": 16}))
    assert result.urgency is Urgency.URGENT
    assert "victim_under_18" in {reason.code for reason in result.reasons}


def test_a_profile_age_under_18_makes_a_tip_urgent() -> None:
    result = classify(facts(victim_profile={"age": 17}))
    assert result.urgency is Urgency.URGENT and result.minor_involved


def test_imminent_danger_makes_a_tip_urgent() -> None:
    result = classify(facts(assessment={"imminent_danger": "yes"}))
    assert result.urgency is Urgency.URGENT
    assert result.imminent_danger and not result.minor_involved


def test_an_adult_without_danger_is_non_urgent_and_goes_to_supervisor_review() -> None:
    result = classify(facts())
    assert result.urgency is Urgency.NON_URGENT
    assert [reason.code for reason in result.reasons] == ["no_urgent_ground"]


def test_a_tip_that_says_neither_where_who_nor_what_lacks_information() -> None:
    result = classify(
        facts(location={"country": "CA"}, assessment={}, victim_profile=None), "Something felt wrong."
    )
    assert result.urgency is Urgency.INSUFFICIENT_INFORMATION
    assert {reason.code for reason in result.reasons} == {"missing.where", "missing.who", "missing.what"}


def test_a_tip_from_outside_canada_says_where() -> None:
    narrative = "Her employer in Buffalo keeps her passport and she works every night in the kitchen there."
    result = classify(facts(location={"country": "US"}, assessment={}), narrative)
    assert result.urgency is Urgency.NON_URGENT
    assert "where" not in result.missing


def test_an_age_in_the_text_raises_urgency_over_the_specialists_answer() -> None:
    result = classify(
        facts(assessment={"minor_involved": "no"}), "Sa cousine a seize ans et elle danse dans un bar."
    )
    assert result.urgency is Urgency.URGENT
    assert "victim_under_18_in_text" in {reason.code for reason in result.reasons}


def test_a_negated_minor_does_not_raise_urgency() -> None:
    narrative = "Elle n'est pas mineure; son patron garde son passeport et ne la paie pas."
    result = classify(facts(), narrative)
    assert result.urgency is Urgency.NON_URGENT
    assert {finding.code for finding in result.indicators} == {"HT-03", "HT-04"}


def test_danger_described_in_the_text_is_urgent_even_when_the_answer_says_no() -> None:
    result = classify(
        facts(assessment={"imminent_danger": "no"}), "He says he will kill her if she talks to anyone."
    )
    assert result.urgency is Urgency.URGENT and result.imminent_danger


def test_the_ruleset_version_names_the_rules_and_the_lexicon() -> None:
    assert (
        classify(facts()).ruleset_version.startswith("rules-")
        and "+lexicon-" in classify(facts()).ruleset_version
    )


def test_every_reason_is_given_in_english_and_french() -> None:
    for body in (facts(), facts(assessment={"minor_involved": "yes", "imminent_danger": "yes"})):
        for reason in classify(body).reasons:
            assert reason.en and reason.fr and reason.en != reason.fr
