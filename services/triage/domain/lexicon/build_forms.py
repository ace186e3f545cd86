"""Expand the lexicon's lemmas into every surface form, offline, into `forms.v2.json`.

    python -m services.triage.domain.lexicon.build_forms

Classification then matches surface tokens against a table and never lemmatises at run time, so
"tuerait", "battue" and "beaten" cost a dictionary lookup. The forms come from simplemma's
dictionaries inverted (every form whose lemma is the lemma, or a form of it), completed by the
regular paradigms simplemma leaves out: the agreement of French participles (tué, tuée, tués,
tuées), the whole paradigm of regular French -er and -ir verbs, and English -s, -ed and -ing. A form that
does not exist costs nothing: no tip contains it.

The table's "glued" entry serves texts that drop an elision's apostrophe ("menvoyer", "largent"): the
elided words, the French words of the lexicon that start with a vowel, and the glued forms that are
themselves words of French or English ("larme"), which the tokenizer leaves whole.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from services.triage.domain.lexicon.syntax import lemmas_of, literals_of
from services.triage.domain.text import fold

LEXICON_FILE = Path(__file__).parent / "indicators.v2.json"
FORMS_FILE = Path(__file__).parent / "forms.v2.json"
FRENCH_ER_ENDINGS = [
    "e",
    "es",
    "ent",
    "ons",
    "ez",
    "ais",
    "ait",
    "aient",
    "ions",
    "iez",
    "ai",
    "as",
    "a",
    "ames",
    "ates",
    "erent",
    "asse",
    "asses",
    "assent",
    "assions",
    "assiez",
    "at",
    "erai",
    "eras",
    "era",
    "erons",
    "erez",
    "eront",
    "erais",
    "erait",
    "erions",
    "eriez",
    "eraient",
    "ant",
    "é",
    "ée",
    "és",
    "ées",
    "er",
]
FRENCH_IR_ENDINGS = [
    "ir",
    "i",
    "ie",
    "is",
    "ies",
    "it",
    "issons",
    "issez",
    "issent",
    "issais",
    "issait",
    "issions",
    "issiez",
    "issaient",
    "irai",
    "iras",
    "ira",
    "irons",
    "irez",
    "iront",
    "irais",
    "irait",
    "irions",
    "iriez",
    "iraient",
    "isse",
    "isses",
    "issant",
]
VOWELS = set("aeiou")
# Texting glues an elided pronoun or article to the word after it ("menvoyer", "largent"). "glued"
# lists them, the French words and forms of the lexicon that start with a vowel, and the glued forms
# that are words of French or English ("larme"), which stay whole; the tokenizer cuts the others.
GLUED_CLITICS = ("d", "j", "l", "m", "n", "s", "t")


def _dictionary(language: str) -> dict[bytes, bytes]:
    from simplemma.strategies.dictionaries.dictionary_factory import (
        _load_dictionary_from_disk,
    )

    return dict(_load_dictionary_from_disk(language))


def _inverted(dictionary: dict[bytes, bytes]) -> dict[str, set[str]]:
    inverted: dict[str, set[str]] = defaultdict(set)
    for form, lemma in dictionary.items():
        inverted[fold(lemma.decode())].add(fold(form.decode()))
    return inverted


def _glued(french: set[str], words: set[str]) -> dict[str, list[str]]:
    """The elided pronouns, the forms they glue to, and the glued forms that are words."""
    starts = sorted(
        form for form in french if form[0] in VOWELS | {"h"} and len(form) >= 3 and form.isalpha()
    )
    return {
        "pronouns": list(GLUED_CLITICS),
        "forms": starts,
        "words": sorted(
            clitic + form for clitic in GLUED_CLITICS for form in starts if clitic + form in words
        ),
    }


def _french_regular(lemma: str) -> set[str]:
    if lemma.endswith("ir") and len(lemma) >= 4:
        return {fold(lemma[:-2] + ending) for ending in FRENCH_IR_ENDINGS}
    if not lemma.endswith("er") or len(lemma) < 4:
        return set()
    stem = lemma[:-2]
    soft = stem[:-1] + "ç" if stem.endswith("c") else stem
    softened = stem + "e" if stem.endswith("g") else soft
    forms = set()
    for ending in FRENCH_ER_ENDINGS:
        base = softened if ending[0] in "ao" else stem
        forms.add(fold(base + ending))
    return forms


# Past forms simplemma files under a noun or adjective of the same spelling ("a shot", "broke"), so
# that inverting its dictionary never finds them under the verb.
ENGLISH_IRREGULAR = {"shoot": {"shot"}, "break": {"broke"}, "shake": {"shook"}}


def _english_regular(lemma: str) -> set[str]:
    if " " in lemma:
        return set()
    forms = {lemma, lemma + "s", lemma + "es"}
    stem = lemma[:-1] if lemma.endswith("e") else lemma
    forms |= {stem + "ed", stem + "ing"}
    if (
        len(lemma) >= 3
        and lemma[-1] not in VOWELS | set("wxy")
        and lemma[-2] in VOWELS
        and lemma[-3] not in VOWELS
    ):
        forms |= {lemma + lemma[-1] + "ed", lemma + lemma[-1] + "ing"}
    if lemma.endswith("c"):
        forms |= {lemma + "ked", lemma + "king", lemma + "ks"}
    if lemma.endswith("y") and len(lemma) > 2 and lemma[-2] not in VOWELS:
        forms |= {lemma[:-1] + "ies", lemma[:-1] + "ied"}
    return forms


def _with_agreement(forms: set[str]) -> set[str]:
    agreed = set(forms)
    for form in forms:
        if form.endswith(("u", "i", "is", "it")) and not form.endswith(("ais", "ait", "ai")):
            agreed |= {form + "e", form + "s", form + "es"}
    return agreed


def expand(lemma: str, language: str, inverted: dict[str, set[str]]) -> list[str]:
    """Every surface form of ``lemma`` in ``language``, folded the way tip text is.

    The regular -er paradigm already agrees its participle (tue, tuee, tues, tuees); the others
    agree here (battu, battue, battus, battues; pris, prise).
    """
    lemma = fold(lemma)
    forms = {lemma} | inverted.get(lemma, set())
    for form in list(forms):
        forms |= inverted.get(form, set())
    if language == "fr":
        forms |= _french_regular(lemma)
        forms = _with_agreement(forms)
    else:
        forms |= _english_regular(lemma) | ENGLISH_IRREGULAR.get(lemma, set())
    return sorted(form for form in forms if form.isascii() and " " not in form)


def build(lexicon_file: Path = LEXICON_FILE) -> dict[str, dict[str, list[str]]]:
    data = json.loads(lexicon_file.read_text(encoding="utf-8"))
    wanted = lemmas_of(data)
    table: dict[str, dict[str, list[str]]] = {}
    words: set[str] = set()
    for language in ("en", "fr"):
        dictionary = _dictionary(language)
        inverted = _inverted(dictionary)
        words.update(fold(form.decode()) for form in dictionary)
        words.update(inverted)
        table[language] = {lemma: expand(lemma, language, inverted) for lemma in sorted(wanted[language])}
    french = {form for forms in table["fr"].values() for form in forms} | literals_of(data, "fr")
    table["glued"] = _glued(french, words)
    return table


def main() -> None:
    table = build()
    FORMS_FILE.write_text(
        json.dumps(table, indent=0, ensure_ascii=True, sort_keys=True) + "\n", encoding="utf-8"
    )
    count = sum(len(forms) for language in ("en", "fr") for forms in table[language].values())
    lemmas = len(table["en"]) + len(table["fr"])
    glued = len(table["glued"]["forms"])
    print(f"{FORMS_FILE.name}: {lemmas} lemmas, {count} forms, {glued} forms to unglue", file=sys.stderr)


if __name__ == "__main__":
    main()
