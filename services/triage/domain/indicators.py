"""Trafficking indicators in a narrative, English and French, from a versioned lexicon.

Text is normalised first (lower case, accents and inclusive endings removed, apostrophes
straightened), so one accent-free pattern covers "recrutée", "recruté·e" and "recrutee". A match is
dropped when a negation cue stands among the few words before it in the same clause ("not a minor",
"n'est pas mineure", "no one is forcing her"). The narrative is only ever in memory here.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LEXICON_FILE = Path(__file__).parent / "lexicon" / "indicators.v1.json"
NEGATION_WINDOW_WORDS = 3
# In "n'est jamais payée" the indicator is the second half of a ne...jamais pair: a match that
# starts with one of these particles owns the "ne" or "n'" before it, which then negates nothing.
FRENCH_SECOND_PARTICLES = frozenset({"pas", "jamais", "plus", "aucun", "aucune", "rien"})
FRENCH_FIRST_PARTICLES = frozenset({"ne", "n'", "pas", "jamais"})
ADULT_AGE = 18
CLAUSE_BREAK = re.compile(r"[.;:!?,]|\b(?:and|but|because|so|et|mais|parce|car|donc)\b")
NUMBER_WORDS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "dix": 10, "onze": 11, "douze": 12,
    "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16, "dix-sept": 17, "dix-huit": 18, "dix-neuf": 19,
    "vingt": 20,
}  # fmt: skip
WORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
NOT_AN_AGE = r"(?! ?(?:years? ago|hours?|minutes?|dollars?|\$|km|times|days?|weeks?|months?|%|heures?|minutes?|fois|jours?|semaines?|mois|kilometres?))"
AGE_PATTERNS = [
    re.compile(rf"\b(\d{{1,2}}|{WORDS})[- ]?(?:years?|yrs?)[- ]old\b"),
    re.compile(r"\b(\d{1,2}) ?(?:y/o|yo)\b"),
    re.compile(
        rf"\b(?:she's|he's|she is|he is|they are|i am|i'm|is|was|aged|age|turned|just turned) (\d{{1,2}}|{WORDS})\b{NOT_AN_AGE}"
    ),
    re.compile(rf"\b(?:a|avait|aura|agee?s? de|age de) (\d{{1,2}}|{WORDS}) ans\b"),
    re.compile(
        rf"\b(?:fille|garcon|adolescente?|jeune|victime|niece|cousine?|soeur|frere) de (\d{{1,2}}|{WORDS}) ans\b"
    ),
]


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    strength: str
    en: str
    fr: str
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True)
class Lexicon:
    version: str
    indicators: tuple[Indicator, ...]
    negation: tuple[str, ...]
    minor_terms: re.Pattern[str]
    sex_trade_terms: re.Pattern[str]

    def indicator(self, code: str) -> Indicator:
        return next(indicator for indicator in self.indicators if indicator.code == code)


@dataclass(frozen=True, slots=True)
class TextFindings:
    indicators: tuple[Indicator, ...]
    ages: tuple[int, ...]
    minor_mentioned: bool
    sex_trade_mentioned: bool

    @property
    def youngest(self) -> int | None:
        return min(self.ages) if self.ages else None

    @property
    def minor(self) -> bool:
        youngest = self.youngest
        return self.minor_mentioned or (youngest is not None and youngest < ADULT_AGE)

    def fired(self, code: str) -> bool:
        return any(indicator.code == code for indicator in self.indicators)


def _alternatives(patterns: list[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(f"(?:{pattern})" for pattern in patterns) + r")\b")


@cache
def load_lexicon(path: Path = LEXICON_FILE) -> Lexicon:
    """Read and compile a lexicon file; both languages' patterns apply to every narrative."""
    data = json.loads(path.read_text(encoding="utf-8"))
    indicators = tuple(
        Indicator(
            code=entry["code"],
            strength=entry["strength"],
            en=entry["en"],
            fr=entry["fr"],
            patterns=tuple(
                re.compile(rf"\b(?:{pattern})\b")
                for language in ("en", "fr")
                for pattern in entry["patterns"][language]
            ),
        )
        for entry in data["indicators"]
    )
    return Lexicon(
        version=data["version"],
        indicators=indicators,
        negation=tuple(cue for language in ("en", "fr") for cue in data["negation"][language]),
        minor_terms=_alternatives(data["minor_terms"]["en"] + data["minor_terms"]["fr"]),
        sex_trade_terms=_alternatives(data["sex_trade_terms"]["en"] + data["sex_trade_terms"]["fr"]),
    )


def normalise(text: str) -> str:
    """Lower-case, strip accents and inclusive endings, straighten apostrophes, fold spaces."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("œ", "oe")
    text = re.sub(r"[·•.]e(s?)\b|\(e\)(s?)", r"e\1\2", text)
    text = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    return re.sub(r"\s+", " ", text).strip()


def _negated(text: str, start: int, negation: tuple[str, ...], matched: str = "") -> bool:
    before = text[max(0, start - 80) : start]
    clause = CLAUSE_BREAK.split(before)[-1]
    words = clause.split()[-NEGATION_WINDOW_WORDS:]
    window = " ".join(words)
    first_word = matched.split(" ", 1)[0]
    for cue in negation:
        if first_word in FRENCH_SECOND_PARTICLES and cue in FRENCH_FIRST_PARTICLES:
            continue
        if cue.endswith("'"):
            if any(word.startswith(cue) for word in words):
                return True
        elif re.search(rf"(?:^|\s){re.escape(cue)}(?:\s|$)", window):
            return True
    return False


def _first_affirmed(pattern: re.Pattern[str], text: str, negation: tuple[str, ...]) -> bool:
    return any(
        not _negated(text, match.start(), negation, match.group(0)) for match in pattern.finditer(text)
    )


def _ages(text: str, negation: tuple[str, ...]) -> tuple[int, ...]:
    found = []
    for pattern in AGE_PATTERNS:
        for match in pattern.finditer(text):
            if _negated(text, match.start(), negation):
                continue
            token = match.group(1)
            age = int(token) if token.isdigit() else NUMBER_WORDS[token]
            if 1 <= age <= 99:
                found.append(age)
    return tuple(found)


def detect(narrative: str, lexicon: Lexicon) -> TextFindings:
    """Find the indicators, ages and mentions of minors that the narrative affirms."""
    text = normalise(narrative)
    fired = tuple(
        indicator
        for indicator in lexicon.indicators
        if any(_first_affirmed(pattern, text, lexicon.negation) for pattern in indicator.patterns)
    )
    return TextFindings(
        indicators=fired,
        ages=_ages(text, lexicon.negation),
        minor_mentioned=_first_affirmed(lexicon.minor_terms, text, lexicon.negation),
        sex_trade_mentioned=_first_affirmed(lexicon.sex_trade_terms, text, lexicon.negation),
    )
