"""One pass over a narrative: every lexicon phrase found, with what the words around it say of it.

The lexicon's phrases, their lemmas expanded into surface forms, are compiled into one automaton for
both languages. Reading walks the tokens once, entering the automaton at each token, and keeps
every phrase that ends, overlapping ones included. Each phrase found is then qualified by the cues
around it, found in the same pass:

- negated: a negation among the three words before it in its clause ("not in immediate danger",
  "personne la menace"), or a French "pas", "jamais" or "pu" just after it ("y la frappe pas");
  a phrase that carries its own negation ("won't let her see a doctor", "la laisse pas sortir")
  owns the "ne" before it, which then negates nothing;
- hedged: an expression of doubt before it in its sentence ("I don't know if she is a minor",
  "je sais pas si elle est en danger"); doubt is not negation: a hedged sign still counts, as a
  possibility;
- over: a sign of the past in its sentence ("used to", "last year", "l'an passé") and nothing of the
  present ("still", "tonight") in its clause, unless the harm is still to come ("said he would
  kill her");
- cancelled: inside an exception ("frappe à la porte", "her kids").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from services.triage.domain.lexicon.syntax import ANY, NUMBER, YEAR, expanded, slots
from services.triage.domain.text import Tokens, tokenize

LEXICON_DIR = Path(__file__).parent / "lexicon"
LEXICON_FILE = LEXICON_DIR / "indicators.v2.json"
FORMS_FILE = LEXICON_DIR / "forms.v2.json"
END = ""
NEGATION_BEFORE_WORDS = 4
# An age just after a phrase of the past belongs to it ("quand j'étais ado, genre 16 ans").
PAST_REACH_WORDS = 4
HEDGE_BEFORE_WORDS = 7
PROSPECT_BEFORE_WORDS = 7
# A French negation is often only its second half in speech ("y la frappe pas"); these may follow.
NEGATION_AFTER = frozenset({"pas", "jamais", "pu"})
# A negation does not reach past a new subject: in "comes back with nothing, the man slaps him" the
# "nothing" says nothing of the slap.
SCOPE_BREAKERS = frozenset(
    {"he", "she", "they", "i", "we", "it", "who", "that", "when", "if", "the", "il", "elle", "ils", "elles", "je",
     "j'", "on", "qui", "que", "qu'", "quand", "si", "le", "les"}
)  # fmt: skip
# "ne"/"n'" belong to a phrase that carries the rest of the negation ("la laisse pas sortir").
FIRST_HALF_NEGATION = frozenset({"ne", "n'"})
NEGATION_WORDS = frozenset(
    {"not", "no", "never", "nobody", "none", "without", "don't", "doesn't", "didn't", "isn't", "aren't",
     "wasn't", "weren't", "won't", "wouldn't", "can't", "cannot", "couldn't", "ne", "n'", "pas", "jamais",
     "aucun", "aucune", "rien", "ni", "sans", "pu"}
)  # fmt: skip
# A French future or conditional says the harm is still to come, whatever the past around it says.
FUTURE_ENDINGS = ("rait", "raient", "rais", "rai", "ras", "rons", "ront", "rez", "riez", "rions", "ra")
NOT_AN_AGE_AFTER = frozenset(
    {"hours", "hour", "hrs", "hr", "h", "minutes", "min", "mins", "dollars", "dollar", "bucks", "$", "k", "grand",
     "thousand", "hundred", "percent", "km", "kilometres", "kilometers", "miles", "times", "days", "day", "weeks",
     "week", "months", "month", "people", "persons", "girls", "women", "men", "guys", "boys", "workers",
     "employees", "others", "of", "more", "am", "pm", "o'clock", "heures", "heure", "piastres", "mille", "fois",
     "jours", "jour", "semaines", "semaine", "mois", "personnes", "filles", "femmes", "hommes", "gars",
     "travailleurs", "travailleuses", "employes", "autres", "kg", "lbs", "livres", "rue", "street",
     "avenue", "ave", "clients", "shifts", "cents", "cennes", "pour", "x", "dates", "hotels", "ago",
     "passes", "plus", "floor", "etage", "apartments", "appartements"}
)  # fmt: skip
NOT_AN_AGE_BEFORE = frozenset(
    {"depuis", "pendant", "durant", "dans", "for", "after", "past", "last", "within", "every", "apres", "fait",
     "unit", "apt", "apartment", "appartement", "room", "chambre", "number", "numero", "no", "route", "highway",
     "exit", "sortie", "$", "paid", "pays", "owes", "owe", "doit", "dette", "debt", "worth", "costs", "coute",
     "over", "top"}
)  # fmt: skip
YOUNGEST_AGE, OLDEST_AGE = 6, 99
SIGN_ROLES = frozenset(
    {"danger", "moving", "possible_danger", "threat", "deportation", "minor", "possible_minor", "age", "age_under",
     "adult_now", "past_age", "indicator", "part", "sex_trade", "person", "vague"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Atom:
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Found:
    """A phrase of the lexicon found in the narrative, and how its context qualifies it."""

    atom: Atom
    start: int
    end: int
    words: str
    numbers: tuple[int, ...]
    negated: bool = False
    hedged: bool = False
    over: bool = False
    past: bool = False
    soon: bool = False
    prospective: bool = False

    @property
    def affirmed(self) -> bool:
        return not self.negated


@dataclass(frozen=True, slots=True)
class Reading:
    tokens: Tokens
    found: tuple[Found, ...]
    over_anywhere: bool = False

    def of_role(self, *roles: str) -> list[Found]:
        return [found for found in self.found if found.atom.role in roles]

    def of_atom(self, name: str) -> list[Found]:
        return [found for found in self.found if found.atom.name == name]


# The compiled lexicon is a small automaton per phrase, its states dicts from a token to the next
# states (END to the atoms a phrase ends in); the root maps each first token to its phrases' states.
Node = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Compiled:
    version: str
    atoms: tuple[Atom, ...]
    root: dict[str, list[Node]]
    data: Mapping[str, Any]
    vocabulary: frozenset[str]


def _phrase_states(
    phrase: str, language: str, forms: Mapping[str, Mapping[str, list[str]]], end: Node
) -> list[Node]:
    """The entry states of one phrase, built from its last slot back to its first."""
    starts = [end]
    for optional, alternatives in reversed(slots(phrase)):
        state: Node = {}
        for alternative in alternatives:
            targets = starts
            for token in reversed(alternative[1:]):
                link: Node = {}
                for form in expanded(token, language, forms):
                    link.setdefault(form, []).extend(targets)
                targets = [link]
            for form in expanded(alternative[0], language, forms):
                state.setdefault(form, []).extend(targets)
        starts = [state, *starts] if optional else [state]
    return starts


def compile_lexicon(data: Mapping[str, Any], forms: Mapping[str, Mapping[str, list[str]]]) -> Compiled:
    """Every phrase of every atom, in both languages, into one automaton."""
    atoms = tuple(Atom(name, entry["role"]) for name, entry in data["atoms"].items())
    root: dict[str, list[Node]] = {}
    vocabulary: set[str] = set()
    for position, (name, entry) in enumerate(data["atoms"].items()):
        for language in ("en", "fr"):
            for phrase in entry.get(language, []):
                carries_negation = any(
                    token in NEGATION_WORDS
                    for _, alternatives in slots(phrase)
                    for alternative in alternatives
                    for token in alternative
                )
                vocabulary.update(
                    form
                    for _, alternatives in slots(phrase)
                    for alternative in alternatives
                    for token in alternative
                    for form in expanded(token, language, forms)
                )
                end: Node = {END: [(position, carries_negation)]}
                for state in _phrase_states(phrase, language, forms, end):
                    if END in state or ANY in state:
                        raise ValueError(f"atom {name}: a phrase must start with a word: {phrase!r}")
                    for token, targets in state.items():
                        root.setdefault(token, []).extend(targets)
    return Compiled(data["version"], atoms, root, data, frozenset(vocabulary))


@cache
def load(lexicon_file: Path = LEXICON_FILE, forms_file: Path = FORMS_FILE) -> Compiled:
    data = json.loads(lexicon_file.read_text(encoding="utf-8"))
    forms = json.loads(forms_file.read_text(encoding="utf-8"))
    return compile_lexicon(data, forms)


def _is_year(word: str) -> bool:
    return len(word) == 4 and word.isdigit() and 1950 <= int(word) <= 2099


def _keys(word: str, number: int | None) -> tuple[str, ...]:
    if number is not None:
        return (word, NUMBER)
    if _is_year(word):
        return (word, YEAR)
    return (word,)


def _scan(tokens: Tokens, root: dict[str, list[Node]]) -> list[tuple[int, int, int, bool, tuple[int, ...]]]:
    """(atom, start, end, carries its own negation, wildcard positions) for every phrase found."""
    words, numbers, sentence = tokens.words, tokens.numbers, tokens.sentence
    count = len(words)
    found: dict[tuple[int, int, int], tuple[int, int, int, bool, tuple[int, ...]]] = {}
    for start in range(count):
        stack: list[tuple[Node, int, tuple[int, ...]]] = [
            (state, start + 1, ())
            for key in _keys(words[start], numbers[start])
            for state in root.get(key, ())
        ]
        while stack:
            state, position, gaps = stack.pop()
            for atom, carries_negation in state.get(END, ()):
                found.setdefault((atom, start, position), (atom, start, position, carries_negation, gaps))
            if position >= count or sentence[position] != sentence[start]:
                continue
            for key in _keys(words[position], numbers[position]):
                for target in state.get(key, ()):
                    stack.append((target, position + 1, gaps))
            for target in state.get(ANY, ()):
                stack.append((target, position + 1, (*gaps, position)))
    return list(found.values())


def _words(tokens: Tokens, start: int, end: int, gaps: tuple[int, ...]) -> str:
    """The words of a phrase found, any wildcard word left out: only lexicon words and numbers."""
    return " ".join("…" if position in gaps else tokens.words[position] for position in range(start, end))


def _numbers(tokens: Tokens, start: int, end: int) -> tuple[int, ...]:
    return tuple(value for value in tokens.numbers[start:end] if value is not None)


def _plausible_age(tokens: Tokens, start: int, end: int) -> bool:
    """Not a count, a sum, an hour or a duration: judged by the words just before and after."""
    words, numbers = tokens.words, tokens.numbers
    last_number = max(position for position in range(start, end) if numbers[position] is not None)
    after = words[last_number + 1] if last_number + 1 < len(words) else ""
    if after in ("years", "year", "yrs") and words[last_number + 2 : last_number + 3] != ("old",):
        return False
    if after in NOT_AN_AGE_AFTER or (last_number + 1 < len(words) and numbers[last_number + 1] is not None):
        return False
    first_number = min(position for position in range(start, end) if numbers[position] is not None)
    for position in {start - 1, first_number - 1} - {-1}:
        before = words[position]
        if before in NOT_AN_AGE_BEFORE or (before == "a" and position > 0 and words[position - 1] == "y"):
            return False
    return all(YOUNGEST_AGE <= value <= OLDEST_AGE for value in _numbers(tokens, start, end))


def read(narrative: str, lexicon: Compiled | None = None) -> Reading:
    """Everything the lexicon finds in a narrative, each qualified by its context."""
    lexicon = lexicon or load()
    tokens = tokenize(narrative)
    raw = _scan(tokens, lexicon.root)
    atoms = lexicon.atoms
    exceptions = [(start, end) for atom, start, end, _, _ in raw if atoms[atom].role == "exception"]
    cues: dict[str, list[tuple[int, int]]] = {
        role: [] for role in ("negation", "hedge", "now", "soon", "future", "over")
    }
    signs = []
    for atom, start, end, carries_negation, gaps in raw:
        role = atoms[atom].role
        if role not in ("person", "vague") and any(
            low <= start and end <= high and (low, high) != (start, end) for low, high in exceptions
        ):
            continue
        if role in cues:
            cues[role].append((start, end))
        elif role in SIGN_ROLES:
            signs.append((atom, start, end, carries_negation, gaps))
    qualify = _Context(tokens, cues)
    past_spans = [(start, end) for atom, start, end, _, _ in signs if atoms[atom].role == "past_age"]
    found = []
    for atom, start, end, carries_negation, gaps in signs:
        role = atoms[atom].role
        ages = role in ("age", "age_under", "adult_now", "past_age") and _numbers(tokens, start, end)
        if ages and not _plausible_age(tokens, start, end):
            continue
        negated = qualify.negated(start, end, carries_negation)
        found.append(
            Found(
                atom=atoms[atom],
                start=start,
                end=end,
                words=_words(tokens, start, end, gaps),
                numbers=_numbers(tokens, start, end),
                negated=negated,
                hedged=qualify.hedged(start),
                over=qualify.over(start, role),
                soon=qualify.soon(start),
                prospective=qualify.prospective(start),
                past=role != "past_age" and _in_the_past(tokens, start, past_spans),
            )
        )
    return Reading(tokens, tuple(found), over_anywhere=qualify.over_anywhere())


def _in_the_past(tokens: Tokens, start: int, past_spans: list[tuple[int, int]]) -> bool:
    return any(
        low <= start < high
        or (high <= start < high + PAST_REACH_WORDS and tokens.sentence[high - 1] == tokens.sentence[start])
        for low, high in past_spans
    )


class _Context:
    """The cues around a phrase: negation, doubt, and whether its sentence is of the past."""

    def __init__(self, tokens: Tokens, cues: Mapping[str, list[tuple[int, int]]]) -> None:
        self.tokens = tokens
        self.cues = cues
        hedges = cues["hedge"]
        self.negations = [
            (start, end)
            for start, end in cues["negation"]
            if not any(low <= start and end <= high for low, high in hedges)
        ]

    def _in_sentence(self, role: str, position: int) -> Iterable[tuple[int, int]]:
        sentence = self.tokens.sentence[position]
        return ((start, end) for start, end in self.cues[role] if self.tokens.sentence[start] == sentence)

    def negated(self, start: int, end: int, carries_negation: bool) -> bool:
        tokens = self.tokens
        clause = tokens.clause[start]
        for cue_start, cue_end in self.negations:
            if (
                cue_end <= start
                and start - cue_end < NEGATION_BEFORE_WORDS
                and tokens.clause[cue_start] == clause
            ):
                if carries_negation and tokens.words[cue_start] in FIRST_HALF_NEGATION:
                    continue
                if any(word in SCOPE_BREAKERS for word in tokens.words[cue_end:start]):
                    continue
                return True
        if not carries_negation and end < len(tokens) and tokens.clause[end] == tokens.clause[end - 1]:
            return tokens.words[end] in NEGATION_AFTER
        return False

    def hedged(self, start: int) -> bool:
        return any(
            end <= start and start - end < HEDGE_BEFORE_WORDS for _, end in self._in_sentence("hedge", start)
        )

    def prospective(self, start: int) -> bool:
        word = self.tokens.words[start]
        if len(word) > 5 and word.endswith(FUTURE_ENDINGS):
            return True
        return any(
            end <= start and start - end < PROSPECT_BEFORE_WORDS
            for _, end in self._in_sentence("future", start)
        )

    def over_anywhere(self) -> bool:
        """Whether the narrative says anywhere that something is over (not negated)."""
        return any(not self.negated(start, end, False) for start, end in self.cues["over"])

    def soon(self, start: int) -> bool:
        return any(True for _ in self._in_sentence("soon", start))

    def over(self, start: int, role: str) -> bool:
        if role not in ("danger", "moving", "possible_danger", "threat"):
            return False
        if not any(True for _ in self._in_sentence("over", start)):
            return False
        clause = self.tokens.clause[start]
        if any(self.tokens.clause[now] == clause for now, _ in self.cues["now"]):
            return False
        return not self.prospective(start)
