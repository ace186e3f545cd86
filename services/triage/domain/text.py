"""A narrative as triage reads it: folded text cut into word tokens, sentences and clauses.

Folding lower-cases, strips accents and inclusive endings and straightens apostrophes, so one
accent-free form covers "recrutée", "recruté·e" and "recrutee". French elisions are their own
token ("l'a" is "l'" and "a"), English contractions are not ("don't"), and the shorthand of texts
and of joual is spelled out ("jsp" is "je sais pas", "2nite" is "tonight") before anything is
matched. The narrative is only ever in memory here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

INCLUSIVE_ENDING = re.compile(r"[·•.]e(s?)\b|\(e\)(s?)")
TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|'|[.!?;\n]|[,:()\-/$%]")
SKIPPED = frozenset({"'", "-", "/", "%"})
SENTENCE_BREAKS = frozenset({".", "!", "?", ";", "\n"})
CLAUSE_BREAKS = frozenset(
    {",", ":", "(", ")", "but", "mais", "because", "parce", "car", "and", "et", "so", "donc"}
)
DIGITS_THEN_LETTERS = re.compile(r"^(\d+)([a-z]+)$")
ELISIONS = frozenset(
    {"c", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu"}
)
NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14,
    "quinze": 15, "seize": 16, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50,
}  # fmt: skip
TEENS_AFTER_DIX = {"sept": 17, "huit": 18, "neuf": 19}
# Shorthand of texts and joual, spelled out before matching. Only forms that mean one thing.
SHORTHAND = {
    "u": "you", "ur": "your", "im": "i'm", "ive": "i've", "dont": "don't", "doesnt": "doesn't",
    "didnt": "didn't", "cant": "can't", "couldnt": "couldn't", "wont": "won't", "wouldnt": "wouldn't",
    "isnt": "isn't", "wasnt": "wasn't", "arent": "aren't", "werent": "weren't", "hasnt": "hasn't",
    "havent": "haven't", "shes": "she's", "theyre": "they're", "thats": "that's", "gonna": "going to",
    "gona": "going to", "gunna": "going to", "wanna": "want to", "gotta": "got to", "tonite": "tonight",
    "2nite": "tonight", "2night": "tonight", "2day": "today", "2moro": "tomorrow", "2morrow": "tomorrow",
    "tmrw": "tomorrow", "tmr": "tomorrow", "rn": "right now", "b4": "before", "bc": "because",
    "cuz": "because", "coz": "because", "cause": "because", "ppl": "people", "bf": "boyfriend",
    "yrs": "years", "yr": "year", "idk": "i don't know", "dunno": "don't know", "prolly": "probably",
    "abt": "about", "w": "with", "pls": "please", "plz": "please", "lil": "little", "kinda": "kind of",
    "jsp": "je sais pas", "chu": "je suis", "chui": "je suis", "jsuis": "je suis", "jai": "j' ai",
    "cest": "c' est", "ya": "il y a", "y'a": "il y a", "pcq": "parce que", "pck": "parce que",
    "tjrs": "toujours", "tjs": "toujours", "bcp": "beaucoup", "qqn": "quelqu'un", "qqch": "quelque chose",
    "pis": "puis", "ds": "dans", "ke": "que", "ki": "qui", "koi": "quoi", "pr": "pour", "ms": "mais",
    "mtn": "maintenant", "asteure": "maintenant", "astheure": "maintenant", "icitte": "ici",
    "pantoute": "pas", "2m1": "demain", "tantot": "bientot", "slm": "seulement", "stp": "s'il te plait",
    "svp": "s'il vous plait", "tsé": "tu sais", "tse": "tu sais", "ben": "bien",
}  # fmt: skip


def fold(text: str) -> str:
    """Lower-case, strip accents and inclusive endings, straighten apostrophes, fold spaces."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("`", "'").replace("œ", "oe")
    text = INCLUSIVE_ENDING.sub(r"e\1\2", text)
    if not text.isascii():
        # Accents come apart from their letters and go; what is left that is not ASCII is
        # punctuation or symbols, which no token is made of.
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[ \t\r\f\v]+", " ", text).strip()


@dataclass(frozen=True, slots=True)
class Tokens:
    """Word tokens, and for each the sentence and clause it stands in (punctuation is dropped)."""

    words: tuple[str, ...]
    sentence: tuple[int, ...]
    clause: tuple[int, ...]
    numbers: tuple[int | None, ...]

    def __len__(self) -> int:
        return len(self.words)


def _spelled_out(token: str) -> list[str]:
    expansion = SHORTHAND.get(token)
    if expansion is not None:
        return expansion.split(" ")
    if glued := DIGITS_THEN_LETTERS.match(token):
        return [glued.group(1), *_spelled_out(glued.group(2))]
    head, apostrophe, rest = token.partition("'")
    if apostrophe and rest and head in ELISIONS:
        return [head + "'", *_spelled_out(rest)]
    return [token]


def tokenize(narrative: str) -> Tokens:
    """Fold a narrative and cut it into word tokens with their sentence and clause."""
    cut: list[tuple[str, int, int]] = []
    teens: dict[int, int] = {}
    sentence = clause = 0
    for raw in TOKEN.findall(fold(narrative)):
        if raw in SENTENCE_BREAKS:
            sentence += 1
            clause += 1
        elif raw in CLAUSE_BREAKS:
            clause += 1
            if raw[0].isalpha():
                cut.append((raw, sentence, clause))
        elif raw in SKIPPED:
            continue
        elif raw in SHORTHAND or "'" in raw or raw[0].isdigit() or raw in TEENS_AFTER_DIX:
            for word in _spelled_out(raw):
                if word in TEENS_AFTER_DIX and cut and cut[-1][0] == "dix":
                    teens[len(cut) - 1] = TEENS_AFTER_DIX[word]
                else:
                    cut.append((word, sentence, clause))
        else:
            cut.append((raw, sentence, clause))
    if not cut:
        return Tokens((), (), (), ())
    words, sentences, clauses = zip(*cut, strict=True)
    numbers = [
        (int(word) if len(word) <= 3 and word.isdigit() else None)
        if word[0].isdigit()
        else NUMBER_WORDS.get(word)
        for word in words
    ]
    for position, value in teens.items():
        numbers[position] = value
    return Tokens(words, sentences, clauses, tuple(numbers))
