"""The lexicon file is well formed: its forms table is current and its words are the tokenizer's."""

import json

import pytest

from services.triage.domain.lexicon import build_forms
from services.triage.domain.lexicon.syntax import LEMMA, SPECIAL, phrases_of, slots
from services.triage.domain.reading import FORMS_FILE, LEXICON_FILE, compile_lexicon
from services.triage.domain.text import tokenize

DATA = json.loads(LEXICON_FILE.read_text(encoding="utf-8"))


def test_the_committed_forms_table_is_the_one_the_lexicon_builds() -> None:
    committed = json.loads(FORMS_FILE.read_text(encoding="utf-8"))
    assert committed == build_forms.build(LEXICON_FILE)


def _cut(token: str) -> tuple[str, ...]:
    """How the tokenizer cuts a word; an elision ("l'") only exists before another word."""
    return tokenize(token + "a").words[:1] if token.endswith("'") else tokenize(token).words


def test_every_word_of_the_lexicon_is_written_as_the_tokenizer_cuts_it() -> None:
    miswritten = [
        (atom, phrase, token)
        for atom, _, phrase in phrases_of(DATA)
        for _, alternatives in slots(phrase)
        for token in (token for alternative in alternatives for token in alternative)
        if not (token in SPECIAL or LEMMA.match(token)) and _cut(token) != (token,)
    ]
    assert miswritten == []


def test_a_phrase_with_only_optional_slots_is_refused() -> None:
    with pytest.raises(ValueError, match="not optional"):
        compile_lexicon({"version": "t", "atoms": {"x": {"role": "danger", "en": ["(a) (b)"]}}}, {})


def test_a_phrase_starting_with_any_word_is_refused() -> None:
    with pytest.raises(ValueError, match="start with a word"):
        compile_lexicon({"version": "t", "atoms": {"x": {"role": "danger", "en": ["* knife"]}}}, {})


def test_every_indicator_and_rule_names_atoms_the_lexicon_has() -> None:
    names = set(DATA["atoms"]) | {"@danger"}
    for indicator in DATA["indicators"]:
        assert set(indicator["atoms"]) <= names, indicator["code"]
        for group in indicator["together"]:
            assert set(group) <= names, indicator["code"]
