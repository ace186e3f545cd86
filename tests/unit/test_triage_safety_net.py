"""The statistical second reading of a narrative: what it was trained on and what it may do."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from services.triage.domain import safety_net
from services.triage.domain.text import FUNCTION_WORDS
from tests.triage_corpus import train_safety_net
from tests.triage_corpus.evaluate import PARTS, TUNABLE_PARTS

LONG_ACCOUNT = (
    "My cousin phoned me crying from a gas station bathroom a few minutes ago, whispering that the man who"
    " runs her dates is driving her to another province tonight and she does not want to go. Then the line"
    " went dead and she is not picking up."
)


def test_the_net_was_never_trained_on_the_sealed_part_and_says_what_it_was_trained_on() -> None:
    trained_on = set(json.loads(safety_net.MODEL_FILE.read_text(encoding="utf-8"))["trained_on"])
    sealed = {path.name for path in PARTS["sealed"]}
    tunable = {path.name for part in TUNABLE_PARTS for path in PARTS[part]}
    assert trained_on, "the model says what it was trained on"
    assert not trained_on & sealed
    # development10 was held out until session 12; since then it is trained on like development 1-9.
    # Nothing else is held out but the sealed part: the net is trained on exactly the tunable parts.
    assert trained_on == tunable


def test_the_fast_scoring_gives_the_same_probabilities_to_the_last_bit_as_picking_columns_does() -> None:
    # The tables are gathered as rows and multiplied on their transposed view: the layout that picking
    # columns gives, so the same sums in the same order. A contiguous gather would differ in the last
    # bits, and a probability at a threshold could then change a decision.
    model = safety_net.load_model()
    for narrative in (LONG_ACCOUNT, LONG_ACCOUNT + " She is 16 and he took her passport in 2024.", "", "zzz"):
        words = safety_net.words_of(narrative)
        found = [model.positions(word).astype(np.intp) for word in words]
        grams, counts = np.unique(
            np.concatenate(found) if found else np.zeros(0, np.intp), return_counts=True
        )
        factors = 1.0 + np.log(counts)
        norm = math.sqrt(float(factors * factors @ model.idf_squared[grams])) or 1.0
        scores = model.scaled[:, grams] @ (factors / norm) + model.offsets
        scores = scores + model.dense @ np.array(safety_net.dense_features(words, has_place=True))
        expected = {
            target: 1.0 / (1.0 + math.exp(-float(score)))
            for target, score in zip(safety_net.TARGETS, scores, strict=True)
        }
        assert safety_net.probabilities(narrative, has_place=True) == expected


def _words_that_weighed_most_one_n_gram_at_a_time(
    model: safety_net.Model, target: str, grams: list[int], values: list[float], words: list[str]
) -> list[tuple[str, float]]:
    weight_of = dict(zip(grams, (model.weights[target][grams] * np.array(values)).tolist(), strict=True))
    sources: dict[int, set[str]] = {}
    for word in set(words):
        for position in model.positions(word).tolist():
            sources.setdefault(position, set()).add(word)
    weight_of_word: dict[str, float] = {}
    for position, weight in weight_of.items():
        for word in sources[position]:
            weight_of_word[word] = weight_of_word.get(word, 0.0) + weight / len(sources[position])
    return sorted(weight_of_word.items(), key=lambda item: -item[1])


def test_the_words_behind_a_raised_tip_are_those_a_loop_over_its_n_grams_finds() -> None:
    model = safety_net.load_model()
    narratives = (LONG_ACCOUNT, LONG_ACCOUNT + " Banana banana, she is scared he will hurt her baby tonight.")
    for narrative in narratives:
        words = safety_net.words_of(narrative)
        scores = safety_net._scores(model, words)
        for target in ("minor", "danger"):
            expected = _words_that_weighed_most_one_n_gram_at_a_time(
                model, target, scores.grams.tolist(), scores.values(model).tolist(), words
            )
            shown = [
                word
                for word, weight in expected
                if weight > 0
                and len(word) >= 3
                and word not in FUNCTION_WORDS
                and word in safety_net._quotable()
            ][: safety_net.WORDS_SHOWN]
            assert list(safety_net._heaviest(model, target, scores, words, set())) == shown


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


def test_words_outside_the_vocabulary_have_the_same_n_grams_all_at_once_as_one_by_one() -> None:
    # A tip's unknown words are looked up together, as packed codes in a table of slots; the n-grams
    # found must be those the index finds word by word (any order: they are only counted).
    model = safety_net.load_model()
    invented = [
        "zorblaxian", "qu'aujourd'hui", "x", "ab", "abc", "a1b2c3", "née", "garçon", "straße", "sk8",
        "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm", "o'neil", "zorblaxian", "p$ay", "#tag",
        "tiktokeuse", "vlogueur", "snapchatté", "kidnappé", "12ans", "ouin", "pantoufle", "w",
    ]  # fmt: skip
    alphabet = "abcdefghijklmnopqrstuvwxyz'#$0123456789éàç-~"
    rng = np.random.default_rng(12)
    made_up = ["".join(rng.choice(list(alphabet), size=int(rng.integers(1, 16)))) for _ in range(400)]
    assert model.slot_codes.size, "the shipped model's n-grams fit the table of slots"
    for words in (invented, made_up, invented[:3], ["the", "she", *invented, "14", "2025"], ["x" * 300]):
        one_by_one = np.sort(np.concatenate([model.positions(word) for word in words]))
        assert np.array_equal(np.sort(model.all_positions(words)), one_by_one)


def test_an_n_gram_whose_two_slots_are_one_is_found_once() -> None:
    # Its code's two slots coincide (about one code in 65,536: a retrained index may hold one): found
    # in the first slot, it must not be counted again from the second.
    data = json.loads(safety_net.MODEL_FILE.read_text(encoding="utf-8"))
    char_codes = safety_net.compile_model(data).char_codes
    letters = np.arange(ord("a"), ord("z") + 1)
    grams = np.stack(np.meshgrid(letters, letters, letters, letters, indexing="ij"), axis=-1).reshape(-1, 4)
    codes = sum(
        char_codes.take(grams[:, offset]) << np.uint64(offset * safety_net.CODE_BITS) for offset in range(4)
    )
    first, second = (
        codes * multiplier >> safety_net.SLOT_SHIFT for multiplier in safety_net.SLOT_MULTIPLIERS
    )
    known = set(data["vocabulary"])
    coinciding = [
        "".join(map(chr, gram)) for gram in grams[first == second] if "".join(map(chr, gram)) not in known
    ]
    assert coinciding, "four letters give some"
    data["vocabulary"] = [coinciding[0], *data["vocabulary"][1:]]
    model = safety_net.compile_model(data)
    assert model.slot_codes.size
    words = [coinciding[0], f"x{coinciding[0]}y", "zorblaxian", "tiktokeuse", "vlogueur"]
    one_by_one = np.sort(np.concatenate([model.positions(word) for word in words]))
    assert np.array_equal(np.sort(model.all_positions(words)), one_by_one)


def test_an_index_the_table_of_slots_cannot_hold_is_read_one_word_at_a_time() -> None:
    # Too many n-grams for the slots, or a character the codes cannot tell apart: the model
    # still loads, and cuts its unknown words one by one.
    assert safety_net._cuckoo(list(range(1, 3 << safety_net.SLOT_BITS))) is None
    data = json.loads(safety_net.MODEL_FILE.read_text(encoding="utf-8"))
    data["vocabulary"] = ["é" * 3, *data["vocabulary"][1:]]
    model = safety_net.compile_model(data)
    assert not model.slot_codes.size
    words = ["zorblaxian", "tiktokeuse", "vlogueur", "snapchatté", "kidnappé", "pantoufle"]
    one_by_one = np.sort(np.concatenate([model.positions(word) for word in words]))
    assert np.array_equal(np.sort(model.all_positions(words)), one_by_one)


def test_a_model_compiled_without_a_vocabulary_reads_numbers_among_many_unknown_words() -> None:
    # Cross-validation compiles each fold's model with no vocabulary: every word is unknown, and a
    # number is still the one feature.
    model = safety_net.compile_model(json.loads(safety_net.MODEL_FILE.read_text(encoding="utf-8")))
    words = ["she", "is", "16", "and", "he", "hits", "her", "tonight", "2025"]
    one_by_one = np.sort(np.concatenate([model.positions(word) for word in words]))
    assert np.array_equal(np.sort(model.all_positions(words)), one_by_one)
