"""Triage keeps nothing of a narrative once its tip is classified: no memo, table or cache of its
modules learns a caller's words (a heap dump of the process would hold every name and place it had
ever read)."""

from __future__ import annotations

import gc
import random
import re
import sys
import types
from collections.abc import Iterator

import numpy as np
import pytest

from schemas.tip import TipFacts, TipSubmission
from services.triage.domain import classification, indicators, reading, safety_net, text
from services.triage.domain.classification import classify
from tests.factories import tip_body

# Invented: in no lexicon, gazetteer or model. A name (one starting with "j", which the tokenizer
# spells out apart), a place, an email address and a phone number written three ways.
NARRATIVES = (
    "My cousin Quillabeth Marrowind phoned me crying from a gas station bathroom in Tharnwick a few"
    " minutes ago, whispering that the man who runs her dates is driving her to another province tonight"
    " and she does not want to go. Then the line went dead. Her email is quillabeth.marrowind@brisquel.ca"
    " and her phone 438-271-9046.",
    "Ma voisine Jessamond Quarrelby travaille au salon de Tharnwick et le patron garde sa paie chaque mois."
    " Elle m'a demandé d'écrire; son numéro est le 4382719046 ou (438) 271 9046 et son courriel"
    " jessamond.quarrelby@brisquel.ca, elle veut partir mais elle a peur de lui.",
    "quillabeth marrowind tharnwick jessamond quarrelby brisquel",
)
INVENTED = frozenset(
    {"quillabeth", "marrowind", "tharnwick", "jessamond", "quarrelby", "brisquel", "4382719046", "9046"}
)

# A number is found only as a number of its own: an object's id in a cache key may hold its digits.
INSIDE = re.compile("|".join(rf"(?<![0-9]){word}(?![0-9])" if word.isdigit() else word for word in INVENTED))


def _classify_every_narrative() -> None:
    for narrative in NARRATIVES:
        for language in ("en", "fr"):
            facts = TipFacts.of(
                TipSubmission.model_validate(tip_body(narrative=narrative, language=language))
            )
            classify(facts, narrative)
            classify(facts, narrative, second_reading=False)
        safety_net.read(narrative)


def _reachable(roots: list[object], stop: set[int]) -> Iterator[object]:
    """Every object reachable from ``roots``, not entering another module's namespace."""
    seen: set[int] = set()
    pending = list(roots)
    while pending:
        found = pending.pop()
        if id(found) in seen or id(found) in stop or isinstance(found, types.ModuleType):
            continue
        seen.add(id(found))
        yield found
        if isinstance(found, dict):
            # The garbage collector is not shown the keys of a dict whose keys are all strings.
            pending.extend(found)
        if not isinstance(found, str | bytes):
            pending.extend(gc.get_referents(found))


def _held_by_triage() -> tuple[set[int], set[str]]:
    """The ids of every object triage's modules hold, and every string among them."""
    ours = [module for name, module in sys.modules.items() if name.startswith(("services.triage", "schemas"))]
    ours_ids = {id(module) for module in ours}
    others = {
        id(vars(module)) for module in list(sys.modules.values()) if module and id(module) not in ours_ids
    }
    ids: set[int] = set()
    strings: set[str] = set()
    for held in _reachable([vars(module) for module in ours], others):
        ids.add(id(held))
        if isinstance(held, str):
            strings.add(held)
        elif isinstance(held, bytes | bytearray):
            # Words kept encoded are words kept.
            strings.add(bytes(held).decode("utf-8", errors="replace"))
        elif isinstance(held, np.ndarray) and held.dtype == np.uint8:
            strings.add(held.tobytes().decode("utf-8", errors="replace"))
        elif isinstance(held, np.ndarray) and held.dtype == np.uint64:
            # The second reading packs windows of words as codes (`safety_net.CODE_BITS` a character):
            # codes kept are words kept.
            strings.update(_unpacked(held))
    return ids, strings


def _unpacked(codes: np.ndarray) -> set[str]:
    character_of = {
        int(code): chr(byte)
        for byte, code in enumerate(safety_net.load_model().char_codes)
        if code != safety_net.FOREIGN
    }
    mask = (1 << safety_net.CODE_BITS) - 1
    unpacked = set()
    for packed in {int(code) for code in codes.ravel()}:
        characters = []
        while packed:
            characters.append(character_of.get(packed & mask, "?"))
            packed >>= safety_net.CODE_BITS
        unpacked.add("".join(characters))
    return unpacked


def test_the_check_reaches_every_memo_and_cache_of_triage() -> None:
    _classify_every_narrative()
    ids, _ = _held_by_triage()
    # The rules name the lexicon's file and the second reading does not: whatever each is given, both
    # automata are reached.
    automata = (indicators.load_lexicon().compiled.automaton, reading.load().automaton)
    structures = {
        "the tokenizer's tables": text._ENTRIES,
        **{f"the automaton's starts ({at})": automaton.starts for at, automaton in enumerate(automata)},
        **{f"the automaton's moves ({at})": automaton.moves for at, automaton in enumerate(automata)},
        "the second reading's n-grams of words": safety_net.load_model().grams_known,
        "the n-gram index": safety_net.load_model().index,
        "the lexicon's cache": reading._load,
        "the indicators' outputs": classification._indicator_output,
    }
    assert [name for name, structure in structures.items() if id(structure) not in ids] == []
    assert all(id(held[-1]) in ids for held in text._ENTRIES.values())
    assert all(id(moves) in ids for automaton in automata for moves in automaton.moves)
    assert automata[0].starts, "the rules read the narratives"


@pytest.mark.parametrize("kept", ["equal", "inside"])
def test_no_name_place_email_or_phone_of_a_tip_outlives_its_classification(kept: str) -> None:
    _classify_every_narrative()
    _, strings = _held_by_triage()
    if kept == "equal":
        assert INVENTED & strings == set()
    else:
        assert [held for held in strings if INSIDE.search(held.lower())] == []


def test_a_classification_still_reads_the_words_it_does_not_keep() -> None:
    # The words triage keeps nothing of are still read for their tip: a name is hidden from the
    # reasons because it was seen, and the tip is raised as before.
    verdict = safety_net.read(NARRATIVES[0])
    assert verdict.raises
    assert "quillabeth" in safety_net.words_of(NARRATIVES[0])
    assert "tharnwick" in safety_net.names_in(NARRATIVES[0])


def test_no_piece_of_a_name_outlives_its_classification() -> None:
    # A memo of n-grams keeps a name in pieces ("quill", "rrowin"), which no whole-word search finds: a
    # name no earlier test has used, and any string of four letters or more that appears among triage's
    # objects with it and is a piece of it, fails.
    letters = random.Random().choices("bcdfghklmnpqrstvwxz", k=24)
    name, place = "".join(letters[:12]).capitalize(), "".join(letters[12:]).capitalize()
    narrative = f"{name} says the man who drives her is taking her to {place} tonight and she is scared."
    _, before = _held_by_triage()
    for language in ("en", "fr"):
        facts = TipFacts.of(TipSubmission.model_validate(tip_body(narrative=narrative, language=language)))
        classify(facts, narrative)
    safety_net.read(narrative)
    _, after = _held_by_triage()
    pieces = [
        held for held in after - before
        if len(held.strip()) >= 4 and any(held.strip().lower() in word.lower() for word in (name, place))
    ]  # fmt: skip
    assert pieces == []


def test_the_check_reads_words_kept_as_packed_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    # A table of packed windows is a name kept in pieces: the check must see it, or it could not fail.
    model = safety_net.load_model()
    padded = np.frombuffer(b" quillabeth ", dtype=np.uint8)
    characters = model.char_codes.take(padded)
    windows = [
        sum(int(characters[start + offset]) << offset * safety_net.CODE_BITS for offset in range(6))
        for start in range(len(characters) - 5)
    ]
    monkeypatch.setattr(safety_net, "KEPT_FOR_THE_CHECK", np.array(windows, dtype=np.uint64), raising=False)
    _, strings = _held_by_triage()
    assert [held for held in strings if "quil" in held or "abet" in held]
