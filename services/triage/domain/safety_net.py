"""A statistical second reading of a narrative that can only raise a tip to urgent, never lower it.

The lexicon's rules read what they were written for; each fresh set of tips showed phenomena they
had no words for (a veiled threat, a call cut off, an age told by a birth year or a school bag). This
reading was trained, offline, on the labelled regression and development tips only
(`tests/triage_corpus/train_safety_net.py`): a logistic regression over the character n-grams of
each word, which see a word's stem and ending whatever its tense, spelling or accents. It never
decides alone what the rules decided: when the rules find no minor and no danger and the reading's
probability that the tip is urgent passes a threshold chosen by cross-validation to raise few
non-urgent tips, and its minor or its danger model finds that likelier than not, the tip is urgent
as `possible_minor` or `possible_danger` (whichever of the two weighs more), with the words that weighed most. A missed urgent tip is the worse error.

Scoring is pure Python over a table of weights; the narrative is only ever in memory here.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from services.triage.domain.text import tokenize

MODEL_FILE = Path(__file__).parent / "lexicon" / "safety_net.v1.json"
SMALLEST_GRAM, LARGEST_GRAM = 3, 6
WORDS_SHOWN = 4
# The possibility the reading names must itself be likelier than not: an urgent score that neither
# the minor model nor the danger model backs is noise of a short text, not a reading.
AGREEMENT = 0.5
# A sentence or two is too little for n-grams to weigh: normalised over a handful of them, any one
# swings the score ("rooms 14 and 15 at the motel"). Short tips are the rules' alone.
FEWEST_WORDS = 25
MEMO_WORDS = 200_000
# Every number is one token to the model: whether a number is an age is for the rules, which read
# what stands around it ("room 15", "owes 14 000", "at 16 h"); digits alone would teach the model
# that 15 is a minor wherever it stands.
NUMBER = "#number"


def words_of(narrative: str) -> list[str]:
    """The narrative's words as triage reads them (folded, shorthand spelled out), any number as one."""
    return [NUMBER if word[0].isdigit() else word for word in tokenize(narrative).words]


def grams_of(word: str) -> Iterable[str]:
    """The character n-grams of one word padded with spaces, as the model was trained on."""
    padded = f" {word} "
    for size in range(SMALLEST_GRAM, LARGEST_GRAM + 1):
        if len(padded) <= size:
            yield padded
            return
        for offset in range(len(padded) - size + 1):
            yield padded[offset : offset + size]


def analyse(narrative: str) -> list[str]:
    """Every n-gram of every word: the features the model counts."""
    return [gram for word in words_of(narrative) for gram in grams_of(word)]


@dataclass(frozen=True, slots=True)
class Model:
    version: str
    threshold: float
    index: dict[str, int]
    idf: tuple[float, ...]
    # One row of weights and an intercept per target: urgent, minor, danger.
    weights: dict[str, tuple[float, ...]]
    intercepts: dict[str, float]
    # A word's known n-grams, computed once: the same words come back in tip after tip.
    grams_known: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def positions(self, word: str) -> tuple[int, ...]:
        known = self.grams_known.get(word)
        if known is None:
            known = tuple(
                position for gram in grams_of(word) if (position := self.index.get(gram)) is not None
            )
            if len(self.grams_known) < MEMO_WORDS:
                self.grams_known[word] = known
        return known


@dataclass(frozen=True, slots=True)
class Verdict:
    urgent_probability: float
    raises: bool
    code: str
    words: tuple[str, ...]


@cache
def load_model(path: Path = MODEL_FILE) -> Model:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Model(
        version=data["version"],
        threshold=float(data["threshold"]),
        index={gram: position for position, gram in enumerate(data["vocabulary"])},
        idf=tuple(data["idf"]),
        weights={target: tuple(row) for target, row in data["weights"].items()},
        intercepts={target: float(value) for target, value in data["intercepts"].items()},
    )


def _features(model: Model, words: list[str]) -> tuple[dict[int, float], dict[int, list[str]]]:
    """Sublinear tf-idf, L2-normalised, of the known n-grams; and the words each n-gram came from."""
    counts: Counter[int] = Counter()
    sources: dict[int, list[str]] = {}
    for word in words:
        for position in model.positions(word):
            counts[position] += 1
            sources.setdefault(position, []).append(word)
    values = {position: (1.0 + math.log(count)) * model.idf[position] for position, count in counts.items()}
    norm = math.sqrt(sum(value * value for value in values.values())) or 1.0
    return {position: value / norm for position, value in values.items()}, sources


def _probability(model: Model, target: str, features: dict[int, float]) -> float:
    row = model.weights[target]
    score = model.intercepts[target] + sum(row[position] * value for position, value in features.items())
    return 1.0 / (1.0 + math.exp(-score))


def probabilities(narrative: str, model: Model | None = None) -> dict[str, float]:
    """The model's probability of each target (urgent, minor, danger) for a narrative."""
    model = model or load_model()
    features, _ = _features(model, words_of(narrative))
    return {target: _probability(model, target, features) for target in model.weights}


def read(narrative: str, model: Model | None = None) -> Verdict:
    """Whether the reading raises the tip, as which possibility, and the words that weighed most for it."""
    model = model or load_model()
    words = words_of(narrative)
    if len(words) < FEWEST_WORDS:
        return Verdict(0.0, False, "possible_danger", ())
    features, sources = _features(model, words)
    urgent = _probability(model, "urgent", features)
    minor, danger = _probability(model, "minor", features), _probability(model, "danger", features)
    code = "possible_minor" if minor > danger else "possible_danger"
    if urgent < model.threshold or max(minor, danger) < AGREEMENT:
        return Verdict(urgent, False, code, ())
    target = "minor" if code == "possible_minor" else "danger"
    row = model.weights[target]
    weight_of_word: dict[str, float] = {}
    for position, value in features.items():
        share = row[position] * value / len(sources[position])
        for word in sources[position]:
            weight_of_word[word] = weight_of_word.get(word, 0.0) + share
    heaviest = sorted(weight_of_word.items(), key=lambda item: -item[1])[:WORDS_SHOWN]
    shown = tuple(word for word, weight in heaviest if weight > 0 and not word.startswith("#"))
    return Verdict(urgent, True, code, shown)
