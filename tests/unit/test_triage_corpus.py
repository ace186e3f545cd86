"""The classifier against the labelled corpus of tests/triage_corpus (see its README)."""

from schemas.triage import Reason
from services.triage.domain import classification
from services.triage.domain.indicators import load_lexicon
from tests.triage_corpus.evaluate import Case, evaluate, load_corpus

CASES: list[Case] = evaluate()
LEXICON_CODES = {f"HT-{number:02d}" for number in range(1, 23)} | {"IM-01"}


def test_the_corpus_has_at_least_80_tips_half_of_them_in_french() -> None:
    corpus = load_corpus()
    assert len(corpus) >= 80
    assert sum(tip["language"] == "fr" for tip in corpus) * 2 >= len(corpus)


def test_the_corpus_covers_every_indicator_and_every_kind_of_tip() -> None:
    labelled = {code for case in CASES for code in case.labels["indicators"]}
    assert labelled == LEXICON_CODES
    urgencies = {case.labels["urgency"] for case in CASES}
    assert urgencies == {"urgent", "non_urgent", "insufficient_information"}
    assert any(tip["location"]["country"] != "CA" for tip in load_corpus())


def test_the_classifier_agrees_with_the_urgency_labels_on_at_least_95_percent() -> None:
    disagreements = [case.tip["id"] for case in CASES if not case.urgency_agrees]
    assert len(disagreements) <= 0.05 * len(CASES), disagreements


def test_the_classifier_never_misses_a_minor_in_the_corpus() -> None:
    missed = [case.tip["id"] for case in CASES if case.labels["minor"] and not case.result.minor_involved]
    assert missed == []


def test_the_classifier_never_misses_an_imminent_danger_in_the_corpus() -> None:
    missed = [case.tip["id"] for case in CASES if case.labels["danger"] and not case.result.imminent_danger]
    assert missed == []


def test_every_indicator_is_detected_where_it_is_labelled_at_least_once() -> None:
    for code in LEXICON_CODES:
        assert any(code in case.labels["indicators"] and code in case.detected for case in CASES), code


def test_indicator_detection_recall_and_precision_stay_high() -> None:
    labelled = sum(len(case.labels["indicators"]) for case in CASES)
    found = sum(len(set(case.labels["indicators"]) & case.detected) for case in CASES)
    extra = sum(len(case.detected - set(case.labels["indicators"])) for case in CASES)
    assert found / labelled >= 0.9
    assert extra / max(1, found + extra) <= 0.1


def test_every_reason_comes_from_a_closed_set_so_none_can_quote_a_narrative() -> None:
    lexicon = load_lexicon()
    fixed = {value for value in vars(classification).values() if isinstance(value, Reason)}
    possible = fixed | set(classification.MISSING.values())
    possible |= {classification._indicator_reason(indicator) for indicator in lexicon.indicators}
    for case in CASES:
        assert set(case.result.reasons) <= possible, case.tip["id"]
