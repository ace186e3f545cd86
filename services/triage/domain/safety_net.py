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

A fourth model, actionable (a tip labelled urgent or non-urgent, against insufficient), also weighs
the account's length and whether the tip names a place. It answers one question only: whether a tip
the rules found nothing concrete in still tells of someone and something to act on (in words the
lexicon lacks); if so the tip is non-urgent, not insufficient. It never lowers an urgent call.

Scoring runs over a table compiled once from the weights: a matrix of idf times each target's
weight per n-gram (numpy), and each word's n-gram positions, looked up once and remembered. A
narrative's score is then its n-grams gathered, counted and multiplied in a handful of vector
operations; the words behind a score are worked out only when the reading raises a tip. The
narrative is only ever in memory here.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, partial, reduce
from itertools import islice
from operator import add, is_not, itemgetter
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from schemas.places import listed_city_names
from services.triage.domain.reading import load as load_lexicon
from services.triage.domain.text import CLAUSE_BREAKS, FUNCTION_WORDS, NUMBER_WORDS, fold, tokenize

MODEL_FILE = Path(__file__).parent / "lexicon" / "safety_net.v1.json"
SMALLEST_GRAM, LARGEST_GRAM = 3, 6
WORDS_SHOWN = 4
SHORTEST_WORD_SHOWN = 3
# The possibility the reading names must itself be likelier than not: an urgent score that neither
# the minor model nor the danger model backs is noise of a short text, not a reading.
AGREEMENT = 0.5
# A sentence or two is too little for n-grams to weigh: normalised over a handful of them, any one
# swings the score ("rooms 14 and 15 at the motel"). Short tips are the rules' alone.
FEWEST_WORDS = 25
POSITION_BYTES = 4
# Six bits a character of an n-gram: the index's alphabet (letters, space, apostrophe and a few
# signs; 30 characters today, so a retrained index with digits or other signs still fits) and one
# code for any other byte, never zero.
CODE_BITS = 6
FOREIGN = (1 << CODE_BITS) - 1
# The table the packed n-grams are found in: two slots a code (cuckoo hashing: the top SLOT_BITS bits
# of the code times one of two odd multipliers), 2**16 slots for the index's 20,000 n-grams.
SLOT_BITS = 16
SLOT_SHIFT = np.uint64(64 - SLOT_BITS)
MULTIPLIERS = (0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F)
SLOT_MULTIPLIERS = tuple(np.uint64(multiplier) for multiplier in MULTIPLIERS)
# A code moved this many times without finding a free slot means the table is too full.
MOST_MOVES = 500
# Fewer unknown words than this are cut one by one: the vector operations cost a fixed ~20 us.
FEWEST_UNKNOWN_AT_ONCE = 4
LONGEST_CUT = 40
# The array type of a word's n-gram positions, as `np.int32` reads them back (an array of them costs
# less to make than numpy's).
POSITION_TYPE = next(code for code in "ilh" if array(code).itemsize == POSITION_BYTES)
# Every number is one token to the model: whether a number is an age is for the rules, which read
# what stands around it ("room 15", "owes 14 000", "at 16 h"); digits alone would teach the model
# that 15 is a minor wherever it stands.
NUMBER = "#number"
TARGETS = ("urgent", "minor", "danger", "actionable")
# Beside the n-grams, two plain features: how long the account is (log of its words) and whether the
# tip names a place. A tip with no what, who or where is most often a line or two, placeless.
DENSE = ("length", "place")
# A capitalised word that does not open a sentence is a name, of a place or a person: never shown.
NAME = re.compile(r"(?<=[^.!?\s]\s)[A-ZÀ-ÖØ-Ý][\w'’-]*")


def _slices(width: int) -> Callable[[str], str | tuple[str, ...]]:
    """What cuts a padded word of ``width`` characters into its n-grams, in `grams_of`'s order."""
    return itemgetter(
        *(
            slice(offset, offset + size)
            for size in range(SMALLEST_GRAM, min(LARGEST_GRAM, width) + 1)
            for offset in range(width - size + 1)
        )
    )


# Made once for the lengths of nearly every word; a longer one's is made for it.
CUTTERS = tuple(_slices(width) for width in range(SMALLEST_GRAM, LONGEST_CUT + 1))
_IS_KNOWN = partial(is_not, None)


def _cutter(width: int) -> Callable[[str], str | tuple[str, ...]]:
    return CUTTERS[width - SMALLEST_GRAM] if width <= LONGEST_CUT else _slices(width)


def words_of(narrative: str) -> list[str]:
    """The narrative's words as triage's rules read them (folded, shorthand and glued elisions
    spelled out), any number as one."""
    lexicon = load_lexicon()
    return _as_features(tokenize(narrative, lexicon.spelled, lexicon.vocabulary).words)


def _as_features(words: Iterable[str]) -> list[str]:
    return [NUMBER if word[0].isdigit() else word for word in words]


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
    idf: NDArray[np.float64]
    # One row of weights and an intercept per target: urgent, minor, danger, actionable.
    weights: dict[str, NDArray[np.float64]]
    intercepts: dict[str, float]
    # The probability of "actionable" (a tip a specialist can act on: labelled urgent or non-urgent)
    # above which a tip the rules found nothing concrete in is read as non-urgent, not insufficient.
    actionable_threshold: float = 1.0
    # Each target's weights of the plain features (DENSE), in TARGETS order.
    dense: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    # Compiled once: idf times each target's weight (a row per target, in TARGETS order), idf squared.
    scaled: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    # The same, a row per n-gram: a tip's n-grams are gathered as whole rows (`take`, several times
    # faster than picking columns), and the product is taken on the transposed view, the very layout
    # (and so the very sums, to the last bit) that picking columns gives.
    scaled_by_gram: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    idf_squared: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    offsets: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    # The known n-grams of a fixed vocabulary (the lexicon's words, the shorthand's, function words,
    # any number), computed once: the same words come back in tip after tip. Kept as the bytes of
    # their positions (32 bits: a quarter of a million n-grams would fit; 32-bit integers sort twice
    # as fast as 64-bit ones), so that a tip's are joined in one call rather than concatenated as a
    # hundred small arrays. Any other word's are worked out for its tip and not kept: a memo that
    # learnt from tips would hold their names, places and addresses for the life of the process.
    grams_known: dict[str, bytes] = field(default_factory=dict)
    # The index again as numbers, for the words outside the vocabulary: each n-gram its characters'
    # codes packed into one integer (`CODE_BITS` a character, no code zero, so n-grams of different
    # sizes never share a number), in a table of slots with its position. A tip's unknown words are
    # cut into every window of three to six characters at once and each window is looked for in its
    # two slots, in a handful of vector operations instead of thirty-odd dictionary lookups a word in
    # Python (a sorted array and `searchsorted` cost twice as much). Built from the model alone.
    char_codes: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    slot_codes: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    slot_positions: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    def positions(self, word: str) -> NDArray[np.int32]:
        return np.frombuffer(self.known(word), dtype=np.int32)

    def known(self, word: str) -> bytes:
        """The bytes of a word's known n-gram positions (32-bit)."""
        # A number is one feature whatever its digits (a token of the rules is looked up as the feature
        # it stands for, so the rules' tokens need no conversion first).
        key = NUMBER if word[0].isdigit() else word
        known = self.grams_known.get(key)
        return self.grams_of_word(key) if known is None else known

    def grams_of_word(self, word: str) -> bytes:
        """`grams_of` looked up in the index, in its order. A word outside the vocabulary is worked
        out afresh for each tip: its n-grams are cut in one call and looked up by `map`."""
        padded = f" {word} "
        grams = _cutter(len(padded))(padded)
        positions = map(self.index.get, (grams,) if type(grams) is str else grams)
        return array(POSITION_TYPE, cast("Iterator[int]", filter(_IS_KNOWN, positions))).tobytes()

    def all_positions(self, words: Sequence[str]) -> NDArray[np.int32]:
        """The known n-gram positions of every word, in one array (one lookup for a word of the
        vocabulary; the other words' all at once). Not in the words' order: only counted."""
        memo = self.grams_known
        held = [memo.get(word) for word in words]
        unknown = [word for word, known in zip(words, held, strict=True) if known is None]
        # A few short unknown words cost less one by one; a long one (pasted junk) is cut all at once.
        one_by_one = len(unknown) < FEWEST_UNKNOWN_AT_ONCE and all(
            len(word) <= LONGEST_CUT for word in unknown
        )
        if one_by_one or not self.slot_codes.size:
            joined = b"".join(
                [
                    known if known is not None else self.known(word)
                    for word, known in zip(words, held, strict=True)
                ]
            )
            return np.frombuffer(joined, dtype=np.int32)
        numbers = [word for word in unknown if word[0].isdigit()]
        joined = b"".join(
            [known for known in held if known is not None] + [self.known(NUMBER)] * len(numbers)
        )
        words_apart = [word for word in unknown if not word[0].isdigit()] if numbers else unknown
        return np.concatenate((np.frombuffer(joined, dtype=np.int32), self.unknown_positions(words_apart)))

    def unknown_positions(self, words: Sequence[str]) -> NDArray[np.int32]:
        """The known n-gram positions of words outside the vocabulary, as `grams_of_word` finds them
        but in another order. The padded words are joined (" one  two "): a window that crosses
        from one word into the next holds two spaces running, which no n-gram of the index does,
        so it is found nowhere, as a window a word does not have."""
        if not words:
            return np.zeros(0, dtype=np.int32)
        # Bytes, not characters: a character outside the index's alphabet, of one byte or several,
        # has a code no n-gram holds, so a window with it matches nothing, as in `grams_of_word`.
        characters = self.char_codes.take(np.frombuffer(f" {'  '.join(words)} ".encode(), dtype=np.uint8))
        window = characters[:-2] | characters[1:-1] << CODE_BITS | characters[2:] << 2 * CODE_BITS
        windows = [window]
        for size in range(SMALLEST_GRAM + 1, LARGEST_GRAM + 1):
            window = window[:-1] | characters[size - 1 :] << (size - 1) * CODE_BITS
            windows.append(window)
        codes = np.concatenate(windows)
        # Each n-gram of the index sits in one of its two slots; an empty slot's code is 0, which
        # no window has (no character's code is 0).
        first, second = (codes * multiplier >> SLOT_SHIFT for multiplier in SLOT_MULTIPLIERS)
        in_first = self.slot_codes.take(first) == codes
        # A code whose two slots are one is found once, not twice.
        in_second = (self.slot_codes.take(second) == codes) & (first != second)
        return np.concatenate(
            (self.slot_positions.take(first[in_first]), self.slot_positions.take(second[in_second]))
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    urgent_probability: float
    raises: bool
    code: str
    words: tuple[str, ...]
    # The account reads as one a specialist can act on (only ever used to keep a tip from
    # `insufficient_information`, never to lower an urgent call).
    actionable: bool = False


@cache
def load_model(path: Path = MODEL_FILE) -> Model:
    lexicon = load_lexicon()
    spelled_out = (word for words in lexicon.spelled.values() for word in words)
    cities = (word for city in listed_city_names() for word in tokenize(fold(city)).words)
    clause_words = (word for word in CLAUSE_BREAKS if word.isalpha())
    vocabulary = (
        *lexicon.vocabulary,
        *spelled_out,
        *FUNCTION_WORDS,
        *NUMBER_WORDS,
        *clause_words,
        *cities,
        NUMBER,
    )
    return compile_model(json.loads(path.read_text(encoding="utf-8")), vocabulary)


def compile_model(data: dict[str, Any], vocabulary: Iterable[str] = ()) -> Model:
    """The scoring tables of a model's weights (as written by the training script), and the n-grams of
    a fixed vocabulary's words."""
    idf = np.array(data["idf"], dtype=np.float64)
    weights = {target: np.array(data["weights"][target], dtype=np.float64) for target in TARGETS}
    intercepts = {target: float(value) for target, value in data["intercepts"].items()}
    dense = data.get("dense", {})
    scaled = np.stack([weights[target] * idf for target in TARGETS])
    index = {gram: position for position, gram in enumerate(data["vocabulary"])}
    model = Model(
        version=data["version"],
        threshold=float(data["threshold"]),
        actionable_threshold=float(data.get("actionable_threshold", 1.0)),
        dense=np.array([dense.get(target, [0.0] * len(DENSE)) for target in TARGETS], dtype=np.float64),
        index=index,
        idf=idf,
        weights=weights,
        intercepts=intercepts,
        scaled=scaled,
        scaled_by_gram=np.ascontiguousarray(scaled.T),
        idf_squared=idf * idf,
        offsets=np.array([intercepts[target] for target in TARGETS]),
        **_index_codes(index),
    )
    for word in vocabulary:
        # A number is looked up as the one feature; the lexicon's markers (a number, any word) are no words.
        if word and not word[0].isdigit() and word[0] != "\x00":
            model.grams_known[word] = model.grams_of_word(word)
    return model


def _index_codes(index: dict[str, int]) -> dict[str, Any]:
    """`Model.char_codes`, `slot_codes` and `slot_positions` from the index (none, and the words cut
    one by one, if its n-grams need more characters than the codes can tell apart)."""
    alphabet = sorted({character for gram in index for character in gram})
    if len(alphabet) >= FOREIGN or not all(character.isascii() for character in alphabet):
        return {}
    # The joined words' windows are told apart from the index's n-grams only if no n-gram holds two
    # spaces running; and a code holds at most LARGEST_GRAM characters.
    if any("  " in gram or not SMALLEST_GRAM <= len(gram) <= LARGEST_GRAM for gram in index):
        return {}
    char_codes = np.full(256, FOREIGN, dtype=np.uint64)
    for code, character in enumerate(alphabet, start=1):
        char_codes[ord(character)] = code
    packed = {
        sum(
            int(char_codes[ord(character)]) << offset * CODE_BITS for offset, character in enumerate(gram)
        ): position
        for gram, position in index.items()
    }
    slots = _cuckoo(list(packed))
    if slots is None:
        return {}
    codes = np.zeros(1 << SLOT_BITS, dtype=np.uint64)
    positions = np.full(1 << SLOT_BITS, -1, dtype=np.int32)
    for code, slot in slots.items():
        codes[slot], positions[slot] = code, packed[code]
    return {"char_codes": char_codes, "slot_codes": codes, "slot_positions": positions}


def _slot(code: int, multiplier: int) -> int:
    """`Model.unknown_positions`'s slot of a code, in Python: the top bits of a 64-bit product."""
    return ((code * multiplier) & 0xFFFF_FFFF_FFFF_FFFF) >> (64 - SLOT_BITS)


def _cuckoo(codes: list[int]) -> dict[int, int] | None:
    """Each code's slot, one of its two (`MULTIPLIERS`): a code that finds both taken takes one
    and moves the code that held it to that code's other slot, and so on. None if a code finds no
    slot within `MOST_MOVES` moves (an index too large for the table): the words are then cut one
    by one, as before the table, rather than a model failing to load."""
    held: dict[int, int] = {}
    for code in codes:
        moving, slot = code, _slot(code, MULTIPLIERS[0])
        for _ in range(MOST_MOVES):
            evicted = held.get(slot)
            held[slot] = moving
            if evicted is None:
                break
            moving = evicted
            first, second = (_slot(moving, multiplier) for multiplier in MULTIPLIERS)
            slot = second if slot == first else first
        else:
            return None
    return {code: slot for slot, code in held.items()}


@dataclass(frozen=True, slots=True)
class _Scores:
    """The probability of each target, and the distinct n-grams with their normalised counts."""

    probability: dict[str, float]
    grams: NDArray[np.int32]
    normalised: NDArray[np.float64]

    def values(self, model: Model) -> NDArray[np.float64]:
        """Each n-gram's tf-idf value: worked out only for the words behind a raised tip."""
        return self.normalised * model.idf[self.grams]


def dense_features(words: Sequence[str], has_place: bool) -> tuple[float, float]:
    """The plain features: the log of the account's length in words, and whether a place is named."""
    return math.log1p(len(words)), 1.0 if has_place else 0.0


def _counted(positions: NDArray[np.int32]) -> tuple[NDArray[np.int32], NDArray[np.intp]]:
    """The distinct positions, ascending, and how often each occurs (`np.unique`'s answer, without
    its checks and options, which cost as much as the counting on a tip's thousand n-grams)."""
    if not positions.size:
        return positions, np.zeros(0, dtype=np.intp)
    positions = np.sort(positions)
    distinct = np.empty(positions.size, dtype=np.bool_)
    distinct[0] = True
    np.not_equal(positions[1:], positions[:-1], out=distinct[1:])
    firsts = distinct.nonzero()[0]
    following = np.empty_like(firsts)
    following[:-1] = firsts[1:]
    following[-1] = positions.size
    return positions[firsts], following - firsts


def _scores(model: Model, words: Sequence[str], has_place: bool = False) -> _Scores:
    """Sublinear tf-idf, L2-normalised, of the known n-grams, against each target's weights.

    ``words`` are features or the rules' tokens: a number's digits are looked up as the one feature."""
    grams, counts = _counted(model.all_positions(words))
    factors = 1.0 + np.log(counts)
    norm = math.sqrt(float(factors * factors @ model.idf_squared.take(grams))) or 1.0
    values = factors / norm
    scores = model.scaled_by_gram.take(grams, axis=0).T @ values + model.offsets
    if model.dense.size:
        scores = scores + model.dense @ np.array(dense_features(words, has_place))
    probability = dict(zip(TARGETS, (1.0 / (1.0 + math.exp(-float(score))) for score in scores), strict=True))
    return _Scores(probability, grams, values)


def probabilities(narrative: str, model: Model | None = None, has_place: bool = False) -> dict[str, float]:
    """The model's probability of each target (urgent, minor, danger, actionable) for a narrative."""
    model = model or load_model()
    return _scores(model, words_of(narrative), has_place).probability


def _heaviest(
    model: Model, target: str, scores: _Scores, words: Sequence[str], hidden: set[str]
) -> tuple[str, ...]:
    """The words that weighed most for ``target``: no number, function word, short word or name.

    Each n-gram's weight is shared equally by the distinct words that hold it, and a word's shares
    are summed in the order of its n-grams (as a loop over n-grams and their words would sum them),
    found for all words at once as pairs of (word, n-gram)."""
    distinct = list(dict.fromkeys(words))
    known = [model.known(word) for word in distinct]
    sizes = [len(positions) // POSITION_BYTES for positions in known]
    if not any(sizes):
        return ()
    width = len(model.idf)
    keys = np.repeat(np.arange(len(distinct)), sizes) * width + np.frombuffer(b"".join(known), dtype=np.int32)
    keys.sort()
    first_of_key = np.empty(keys.size, dtype=np.bool_)
    first_of_key[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first_of_key[1:])
    word_at, gram = np.divmod(keys[first_of_key], width)
    holders = np.bincount(gram, minlength=width)[gram]
    weights = model.weights[target][scores.grams] * scores.values(model)
    shares = (weights[np.searchsorted(scores.grams, gram)] / holders).tolist()
    new_word = np.empty(word_at.size, dtype=np.bool_)
    new_word[0] = True
    np.not_equal(word_at[1:], word_at[:-1], out=new_word[1:])
    firsts = new_word.nonzero()[0].tolist()
    grams_of_pairs, words_of_pairs = gram.tolist(), word_at.tolist()
    weighed = [
        (grams_of_pairs[first], words_of_pairs[first], reduce(add, shares[first:following], 0.0))
        for first, following in zip(firsts, [*firsts[1:], len(shares)], strict=True)
    ]
    # Listed in the order a loop over n-grams first meets each word, so that equal weights keep it.
    weighed.sort()
    heaviest = sorted(((distinct[word], weight) for _, word, weight in weighed), key=lambda item: -item[1])
    quotable = _quotable()
    shown = (
        word
        for word, weight in heaviest
        if weight > 0
        and word != NUMBER
        and len(word) >= SHORTEST_WORD_SHOWN
        and word not in FUNCTION_WORDS
        and word not in hidden
        and word in quotable
    )
    return tuple(islice(shown, WORDS_SHOWN))


@cache
def _quotable() -> frozenset[str]:
    """The words a reason may quote: the lexicon's, never a city the gazetteer lists. A name written
    in lower case ("calgary") escapes the filter of capitals; a word the lexicon does not know may be
    a place, a street or a person, and the lexicon's own words are the ones a specialist can read as
    a sign."""
    cities = (tokenize(fold(city)).words for city in listed_city_names())
    return load_lexicon().vocabulary - {words[0] for words in cities if len(words) == 1}


def names_in(narrative: str, places: Iterable[str] = ()) -> set[str]:
    """The folded words of the names a narrative writes with a capital, and of the tip's places."""
    names: set[str] = set()
    for name in (*NAME.findall(narrative), *places):
        names.update(tokenize(fold(name)).words)
    return names


def read(
    narrative: str,
    model: Model | None = None,
    *,
    words: Sequence[str] | None = None,
    minor_ruled_out: bool = False,
    places: Iterable[str] = (),
) -> Verdict:
    """Whether the reading raises the tip, as which possibility, and the words that weighed most for it.

    ``words`` are the narrative's tokens when the rules have already cut them. ``minor_ruled_out``:
    the rules read an adult age and nothing of a minor, so only the danger model may raise the tip.
    """
    model = model or load_model()
    places = tuple(places)
    tokens = words_of(narrative) if words is None else words
    scores = _scores(model, tokens, bool(places))
    urgent, minor, danger, actionable = (scores.probability[target] for target in TARGETS)
    readable = actionable >= model.actionable_threshold
    if len(tokens) < FEWEST_WORDS:
        return Verdict(0.0, False, "possible_danger", (), readable)
    if minor_ruled_out:
        minor = 0.0
    code = "possible_minor" if minor > danger else "possible_danger"
    if urgent < model.threshold or max(minor, danger) < AGREEMENT:
        return Verdict(urgent, False, code, (), readable)
    target = "minor" if code == "possible_minor" else "danger"
    shown = _heaviest(model, target, scores, _as_features(tokens), names_in(narrative, places))
    return Verdict(urgent, True, code, shown, readable)
