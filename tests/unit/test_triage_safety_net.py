"""The statistical second reading of a narrative: what it was trained on and what it may do."""

from __future__ import annotations

import json
import math

import pytest

from services.triage.domain import safety_net
from tests.triage_corpus import train_safety_net
from tests.triage_corpus.evaluate import PARTS

LONG_ACCOUNT = (
    "My cousin phoned me crying from a gas station bathroom a few minutes ago, whispering that the man who"
    " runs her dates is driving her to another province tonight and she does not want to go. Then the line"
    " went dead and she is not picking up."
)


def test_the_net_was_never_trained_on_the_sealed_part_and_says_what_it_was_trained_on() -> None:
    trained_on = set(json.loads(safety_net.MODEL_FILE.read_text(encoding="utf-8"))["trained_on"])
    sealed = {path.name for path in PARTS["sealed"]}
    tunable = {
        path.name
        for part in (
            "regression",
            "development",
            "development4",
            "development5",
            "development6",
            "development7",
            "development8",
        )
        for path in PARTS[part]
    }
    assert trained_on, "the model says what it was trained on"
    assert not trained_on & sealed
    # development8 was held out until session 10; since then it is trained on like development 1-7.
    # Nothing else is held out but the sealed part: the net is trained on exactly the tunable parts.
    assert trained_on == tunable


def test_the_compiled_table_scores_as_the_weights_do() -> None:
    model = safety_net.load_model()
    words = safety_net.words_of(LONG_ACCOUNT)
    counts: dict[int, int] = {}
    for word in words:
        for position in model.positions(word):
            counts[position] = counts.get(position, 0) + 1
    values = {position: (1 + math.log(count)) * model.idf[position] for position, count in counts.items()}
    norm = math.sqrt(sum(value * value for value in values.values()))
    length, place = safety_net.dense_features(words, has_place=False)
    for row_of_target, (target, row) in enumerate(model.weights.items()):
        length_weight, place_weight = model.dense[row_of_target]
        score = (
            model.intercepts[target]
            + sum(row[position] * value / norm for position, value in values.items())
            + length_weight * length
            + place_weight * place
        )
        assert safety_net.probabilities(LONG_ACCOUNT)[target] == pytest.approx(1 / (1 + math.exp(-score)))


def test_a_guess_of_a_minor_does_not_stand_against_an_adult_age_the_rules_read() -> None:
    verdict = safety_net.read(LONG_ACCOUNT, minor_ruled_out=True)
    assert not verdict.raises or verdict.code == "possible_danger"


def test_a_raise_names_a_possibility_and_only_words_of_the_account() -> None:
    verdict = safety_net.read(LONG_ACCOUNT)
    assert verdict.raises
    assert verdict.code in {"possible_minor", "possible_danger"}
    assert verdict.words
    assert set(verdict.words) <= set(safety_net.words_of(LONG_ACCOUNT))


def test_a_number_is_one_token_whatever_its_digits() -> None:
    assert safety_net.words_of("rooms 14 and 15") == safety_net.words_of("rooms 40 and 41")


def test_the_threshold_was_chosen_within_the_false_raise_budget() -> None:
    data = json.loads(safety_net.MODEL_FILE.read_text(encoding="utf-8"))
    assert 0 < data["threshold"] < 1
    assert data["cross_validated_false_raises"] <= train_safety_net.FALSE_RAISE_BUDGET <= 0.05


def test_the_actionable_threshold_was_chosen_on_held_out_folds_within_its_budget() -> None:
    data = json.loads(safety_net.MODEL_FILE.read_text(encoding="utf-8"))
    assert 0 < data["actionable_threshold"] < 1
    assert data["cross_validated_insufficient_let_through"] <= 0.02
