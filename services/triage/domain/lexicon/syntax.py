"""How the lexicon writes a phrase, and how a phrase becomes the token sequences it matches.

A phrase is slots separated by spaces, each slot one token of the folded text:
- `word`: that token, written as the tokenizer leaves it ("l'", "don't", "secondaire");
- `<lemma>`: any surface form of the lemma in the entry's language (`forms.v2.json`);
- `a|b|<c>`: any of these single tokens;
- `[a b|c]`: any of these, each one or more tokens ("[sous sol|cave]");
- `(a b|c)`: the same, or nothing;
- `#`: a number, in digits or words ("15", "quinze", "dix-sept"); `%`: a year ("2019");
- `*`: any one word; `(*)`: any one word or none.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

NUMBER = "\x00#"
ANY = "\x00*"
YEAR = "\x00%"
SPECIAL = {"#": NUMBER, "*": ANY, "%": YEAR}
LEMMA = re.compile(r"^<([a-z' -]+)>$")


def slots(phrase: str) -> list[tuple[bool, list[list[str]]]]:
    """(optional, alternatives) per slot; an alternative is one or more tokens."""
    found: list[tuple[bool, list[list[str]]]] = []
    position = 0
    while position < len(phrase):
        char = phrase[position]
        if char == " ":
            position += 1
            continue
        if char in "([":
            close = phrase.index(")" if char == "(" else "]", position)
            body, optional = phrase[position + 1 : close], char == "("
            position = close + 1
        else:
            close = phrase.find(" ", position)
            close = len(phrase) if close == -1 else close
            body, optional = phrase[position:close], False
            position = close
        found.append((optional, [alternative.split() for alternative in body.split("|")]))
    if all(optional for optional, _ in found):
        raise ValueError(f"a phrase needs at least one slot that is not optional: {phrase!r}")
    return found


def expanded(token: str, language: str, forms: Mapping[str, Mapping[str, list[str]]]) -> list[str]:
    if token in SPECIAL:
        return [SPECIAL[token]]
    if lemma := LEMMA.match(token):
        return list(forms.get(language, {}).get(lemma.group(1), [lemma.group(1)]))
    return [token]


def sequences(
    phrase: str, language: str, forms: Mapping[str, Mapping[str, list[str]]]
) -> Iterator[tuple[str, ...]]:
    """Every token sequence ``phrase`` matches."""
    choices: list[list[tuple[str, ...]]] = []
    for optional, alternatives in slots(phrase):
        options: list[tuple[str, ...]] = [() for _ in range(optional)]
        for alternative in alternatives:
            options.extend(itertools.product(*(expanded(token, language, forms) for token in alternative)))
        choices.append(options)
    for combination in itertools.product(*choices):
        sequence = tuple(token for part in combination for token in part)
        if sequence:
            yield sequence


def phrases_of(data: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(atom, language, phrase) for every phrase of a lexicon file."""
    for atom, entry in data["atoms"].items():
        for language in ("en", "fr"):
            for phrase in entry.get(language, []):
                yield atom, language, phrase


def literals_of(data: Mapping[str, Any], language: str) -> set[str]:
    """The words a language's phrases write out (not lemmas, numbers or wildcards)."""
    return {
        token
        for _, phrase_language, phrase in phrases_of(data)
        if phrase_language == language
        for _, alternatives in slots(phrase)
        for token in itertools.chain.from_iterable(alternatives)
        if token not in SPECIAL and not LEMMA.match(token)
    }


def lemmas_of(data: Mapping[str, Any]) -> dict[str, set[str]]:
    """The lemmas each language's phrases use, for the forms table to cover."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for _, language, phrase in phrases_of(data):
        for _, alternatives in slots(phrase):
            for token in itertools.chain.from_iterable(alternatives):
                if lemma := LEMMA.match(token):
                    wanted[language].add(lemma.group(1))
    return wanted
