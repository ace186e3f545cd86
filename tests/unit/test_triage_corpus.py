"""The classifier against the labelled corpus of tests/triage_corpus (see its README).

The regression part (the 84 tips the first lexicon was tuned on) and the development parts (the
tips the lemma lexicon was tuned on, development4 to 10 included since they were tuned on) are scored here; the sealed part is scored only by hand, with
`python -m tests.triage_corpus.evaluate --part sealed`, and every look is recorded.
"""

import re

import pytest

from schemas.places import listed_city_names
from schemas.triage import Urgency
from services.triage.domain import classification
from services.triage.domain.indicators import load_lexicon
from services.triage.domain.text import NUMBER_WORDS, fold, tokenize
from tests.triage_corpus.evaluate import PARTS, TUNABLE_PARTS, Case, evaluate, load_corpus, sealed_intact

SCORED = TUNABLE_PARTS
CASES: dict[str, list[Case]] = {part: evaluate(part) for part in SCORED}
LEXICON_CODES = {f"HT-{number:02d}" for number in range(1, 23)} | {"IM-01"}
QUOTED = re.compile(r"“([^”]*)”|« ([^»]*) »")


def test_the_corpus_has_at_least_300_tips_half_of_them_in_french_and_100_sealed() -> None:
    corpus = [tip for paths in PARTS.values() for tip in load_corpus(paths)]
    assert len(corpus) >= 300
    assert sum(tip["language"] == "fr" for tip in corpus) * 2 >= len(corpus)
    assert len(load_corpus(PARTS["sealed"])) >= 100


def test_the_sealed_part_is_the_one_whose_hash_was_committed_before_its_first_evaluation() -> None:
    assert sealed_intact()


def test_the_regression_part_covers_every_indicator_and_every_kind_of_tip() -> None:
    labelled = {code for case in CASES["regression"] for code in case.labels["indicators"]}
    assert labelled == LEXICON_CODES
    for part in SCORED:
        assert {case.labels["urgency"] for case in CASES[part]} == {
            "urgent",
            "non_urgent",
            "insufficient_information",
        }
    assert any(tip["location"]["country"] != "CA" for tip in load_corpus())


@pytest.mark.parametrize("part", SCORED)
def test_the_classifier_agrees_with_the_urgency_labels_on_at_least_95_percent(part: str) -> None:
    disagreements = [case.tip["id"] for case in CASES[part] if not case.urgency_agrees]
    assert len(disagreements) <= 0.05 * len(CASES[part]), disagreements


@pytest.mark.parametrize("part", SCORED)
def test_the_classifier_calls_every_urgent_tip_urgent(part: str) -> None:
    missed = [case.tip["id"] for case in CASES[part] if case.urgent_missed]
    assert missed == []


@pytest.mark.parametrize("part", ["regression"])
def test_every_labelled_minor_is_a_minor_or_a_possible_minor(part: str) -> None:
    missed = [
        case.tip["id"]
        for case in CASES[part]
        if case.labels["minor"]
        and not (case.result.minor_involved or "possible_minor" in case.result.possibilities)
    ]
    assert missed == []


@pytest.mark.parametrize("part", ["regression"])
def test_every_labelled_danger_is_a_danger_or_a_possible_danger(part: str) -> None:
    missed = [
        case.tip["id"]
        for case in CASES[part]
        if case.labels["danger"]
        and not (case.result.imminent_danger or "possible_danger" in case.result.possibilities)
    ]
    assert missed == []


def test_every_indicator_is_detected_where_it_is_labelled_at_least_once() -> None:
    for code in LEXICON_CODES:
        assert any(
            code in case.labels["indicators"] and code in case.detected for case in CASES["regression"]
        ), code


def test_indicator_detection_recall_and_precision_stay_high() -> None:
    cases = CASES["regression"]
    labelled = sum(len(case.labels["indicators"]) for case in cases)
    found = sum(len(set(case.labels["indicators"]) & case.detected) for case in cases)
    extra = sum(len(case.detected - set(case.labels["indicators"])) for case in cases)
    assert found / labelled >= 0.9
    assert extra / max(1, found + extra) <= 0.25


def test_reasons_quote_only_lexicon_words_and_numbers_never_the_rest_of_a_narrative_nor_a_place() -> None:
    vocabulary = {word for phrase in load_lexicon().compiled.vocabulary for word in phrase.split()}
    cities = {" ".join(tokenize(fold(city)).words) for city in listed_city_names()}
    for part in SCORED:
        for case in CASES[part]:
            for reason in case.result.reasons:
                for text in (reason.en, reason.fr):
                    for match in QUOTED.finditer(text):
                        for word in (match.group(1) or match.group(2)).split():
                            assert (
                                word == "…" or word.isdigit() or word in NUMBER_WORDS or word in vocabulary
                            ), (
                                case.tip["id"],
                                word,
                            )
                            assert fold(word) not in cities, (case.tip["id"], word)


def test_a_reason_names_the_kind_of_sign_that_decided_and_its_words() -> None:
    result = next(case.result for case in CASES["regression"] if case.tip["id"] == "en-34")
    assert result.urgency is Urgency.URGENT
    danger = next(reason for reason in result.reasons if reason.code == classification.DANGER_IN_TEXT)
    assert "confinement" in danger.en and "“chained”" in danger.en
    assert "séquestration" in danger.fr and "« chained »" in danger.fr
