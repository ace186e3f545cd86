"""A narrative as triage reads it: folded text cut into word tokens, sentences and clauses.

Folding lower-cases, strips accents and inclusive endings and straightens apostrophes, so one
accent-free form covers "recrutée", "recruté·e" and "recrutee". French elisions are their own
token ("l'a" is "l'" and "a"), also when a text drops their apostrophe ("jpeux", "menvoyer"),
English contractions are not ("don't"), and the shorthand of texts and of joual is spelled out
("jsp" is "je sais pas", "2nite" is "tonight") before anything is matched. The narrative is only
ever in memory here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

INCLUSIVE_ENDING = re.compile(r"[·•.]e(s?)\b|\(e\)(s?)")
# Possessive: a word is never given back to the next alternative, so no backtracking is tried.
TOKEN = re.compile(r"[a-z0-9]++(?:'[a-z]++)*+|[.!?;\n,:()\-/$%']")
SKIPPED = frozenset({"'", "-", "/", "%"})
SENTENCE_BREAKS = frozenset({".", "!", "?", ";", "\n"})
CLAUSE_BREAKS = frozenset(
    {",", ":", "(", ")", "but", "mais", "because", "parce", "car", "and", "et", "so", "donc"}
)
DIGITS_THEN_LETTERS = re.compile(r"^(\d+)([a-z]+)$")
# "16 y.o.", "9 p.m.": the dots inside an abbreviation end no sentence, or "16 y" and "o" would be read
# apart and "9" be taken for an age. Its last dot may still end one.
DOTTED_ABBREVIATION = re.compile(r"\b(y\.o|a\.m|p\.m|d\.o\.b)\.")
# A date of birth is always followed by its date ("D.O.B. 2011", "b. 2012"): its dot ends no sentence.
# A name's initial before a year ("John B. 2012 was when...") is read as one too: the text is folded
# by then, so "Jessica B. 2011, he sells her" could not be told from it, and a birth missed is worse.
BIRTH_ABBREVIATION = re.compile(r"\b(dob|b)\.(?=\s*\d)")
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
    "svp": "s'il vous plait", "tsé": "tu sais", "tse": "tu sais", "ben": "bien", "hes": "he's",
    "y'est": "il est",
}  # fmt: skip
# Words that carry no meaning of their own, which a reason never quotes.
FUNCTION_WORDS = frozenset(
    {"a", "an", "the", "her", "his", "him", "them", "their", "they", "she", "he", "i", "me", "my", "we", "us",
     "you", "your", "it", "its", "of", "to", "in", "on", "at", "for", "with", "by", "from", "and", "or", "is",
     "are", "was", "were", "be", "been", "that", "this", "she's", "he's", "they're", "i'm", "mine", "le", "la",
     "les", "l'", "un", "une", "des", "du", "de", "d'", "au", "aux", "en", "et", "ou", "sa", "son", "ses",
     "leur", "leurs", "elle", "il", "ils", "elles", "je", "j'", "m'", "te", "t'", "se", "s'", "lui", "qui",
     "que", "qu'", "ce", "c'", "est", "sont", "y", "dans", "par", "pour", "avec", "sur", "ma", "mon", "mes",
     "ta", "ton", "tes", "nous", "vous", "pis", "puis"}
)  # fmt: skip
SPELLED: dict[str, tuple[str, ...]] = {short: tuple(long.split(" ")) for short, long in SHORTHAND.items()}
# Texting drops the apostrophe of an elision: "jpeux" is "j'peux" (no word starts with j and a
# consonant), and "menvoyer" is "m'envoyer" (the lexicon adds such glued forms to what it spells
# out, only those that are no word of French or English, so "larme" stays "larme").
GLUED_SUBJECT = re.compile(r"^j([bcdfgklmnpqrstvwxz][a-z]+)$")


def fold(text: str) -> str:
    """Lower-case, strip accents and inclusive endings, straighten apostrophes, fold spaces."""
    return re.sub(r"[ \t\r\f\v]+", " ", _folded_letters(text)).strip()


def _folded_letters(text: str) -> str:
    """`fold` but for the spaces, which tokens do not see."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("`", "'").replace("œ", "oe")
    # Every match of INCLUSIVE_ENDING holds one of these: most narratives have none, and a substring
    # test costs less than the substitution.
    if "·e" in text or "•e" in text or ".e" in text or "(e)" in text:
        text = INCLUSIVE_ENDING.sub(r"e\1\2", text)
    if not text.isascii():
        # Accents come apart from their letters and go; what is left that is not ASCII is
        # punctuation or symbols, which no token is made of.
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text


@dataclass(frozen=True, slots=True)
class Tokens:
    """Word tokens, and for each the sentence and clause it stands in (punctuation is dropped)."""

    words: tuple[str, ...]
    sentence: tuple[int, ...]
    clause: tuple[int, ...]
    numbers: tuple[int | None, ...]
    # The sentences that end with a question mark.
    questions: frozenset[int] = frozenset()

    def __len__(self) -> int:
        return len(self.words)


def _spelled_out(token: str, spelled: Mapping[str, tuple[str, ...]]) -> list[str]:
    expansion = spelled.get(token)
    if expansion is not None:
        return list(expansion)
    if elided := GLUED_SUBJECT.match(token):
        return ["j'", *_spelled_out(elided.group(1), spelled)]
    if digits := DIGITS_THEN_LETTERS.match(token):
        return [digits.group(1), *_spelled_out(digits.group(2), spelled)]
    head, apostrophe, rest = token.partition("'")
    if apostrophe and rest and head in ELISIONS:
        return [head + "'", *_spelled_out(rest, spelled)]
    return [token]


def tokenize(
    narrative: str, spelled: Mapping[str, tuple[str, ...]] = SPELLED, known: frozenset[str] = frozenset()
) -> Tokens:
    """Fold a narrative and cut it into word tokens with their sentence and clause.

    ``spelled`` maps a token to the tokens it stands for: the shorthand (`SPELLED`), and, from the
    lexicon, the forms that texting writes without an elision's apostrophe ("menvoyer" is "m'",
    "envoyer"). ``known``: words looked up rather than worked out each time (the lexicon's). Both must
    be fixed at load: a table is made and kept for each pair, so a mapping or set built from a tip
    would keep its words.
    """
    entry_of = _entries_table(spelled, known).get
    words: list[str] = []
    sentences: list[int] = []
    clauses: list[int] = []
    numbers: list[int | None] = []
    sentence = clause = 0
    questions: set[int] = set()
    folded = _folded_letters(narrative)
    if ".m." in folded or ".o." in folded:
        folded = DOTTED_ABBREVIATION.sub(lambda match: match.group(1).replace(".", "") + ".", folded)
    if "b." in folded:
        folded = BIRTH_ABBREVIATION.sub(r"\1", folded)
    for raw in TOKEN.findall(folded):
        entry = entry_of(raw)
        if entry is None:
            # A word the table lacks is no spelling and no number word (those are all in it): most
            # are plain words, which stand for themselves.
            if raw.isalpha() and raw[0] != "j":
                words.append(raw)
                sentences.append(sentence)
                clauses.append(clause)
                numbers.append(None)
                continue
            entry = _entry(raw, spelled)
        if type(entry) is tuple:
            words.append(entry[0])
            sentences.append(sentence)
            clauses.append(clause)
            numbers.append(entry[1])
        elif type(entry) is list:
            for word, number in entry:
                if word in TEENS_AFTER_DIX and words and words[-1] == "dix":
                    numbers[-1] = TEENS_AFTER_DIX[word]
                    continue
                words.append(word)
                sentences.append(sentence)
                clauses.append(clause)
                numbers.append(number)
        elif entry is CLAUSE_BREAK:
            clause += 1
        elif entry is SKIP:
            continue
        elif entry is CLAUSE_WORD:
            clause += 1
            words.append(raw)
            sentences.append(sentence)
            clauses.append(clause)
            numbers.append(None)
        else:
            if entry is QUESTION_MARK:
                questions.add(sentence)
            sentence += 1
            clause += 1
    if not words:
        return Tokens((), (), (), ())
    return Tokens(tuple(words), tuple(sentences), tuple(clauses), tuple(numbers), frozenset(questions))


class Kind:
    """What a punctuation mark, or a word that opens a clause, does to the count of sentences and clauses."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


SENTENCE_BREAK, QUESTION_MARK, CLAUSE_BREAK, CLAUSE_WORD, SKIP = (
    Kind("sentence"), Kind("question"), Kind("clause"), Kind("clause word"), Kind("skip"),
)  # fmt: skip
PUNCTUATION: dict[str, Kind] = {
    **{token: SKIP for token in SKIPPED},
    **{token: CLAUSE_WORD if token[0].isalpha() else CLAUSE_BREAK for token in CLAUSE_BREAKS},
    **{token: SENTENCE_BREAK for token in SENTENCE_BREAKS},
    "?": QUESTION_MARK,
}
# What each raw token stands for, worked out once per table of spellings for a fixed vocabulary: the
# spellings, the words they stand for, number and function words and the lexicon's words. The same
# words come back in tip after tip, and one lookup costs less than the checks and the spelling out.
# Any other token is worked out for its tip and not kept: a table that learnt from tips would hold
# their names, places and addresses for the life of the process. A plain word is its (word, number);
# a token spelled out into several words, or a French teen that may follow "dix", is a list of them;
# punctuation and the words that open a clause are a `Kind`.
# Every numeral of one to three digits: ages, counts and sums come back in tip after tip, and a table of
# all of them says nothing of any.
NUMERALS = tuple(f"{value:0{digits}d}" for digits in (1, 2, 3) for value in range(10**digits))
Entry: TypeAlias = tuple[str, int | None] | list[tuple[str, int | None]] | Kind
# The rules' and the second reading's vocabularies, and the defaults: a few pairs at most.
TABLES_KEPT = 4
_ENTRIES: dict[tuple[int, int], tuple[Mapping[str, tuple[str, ...]], frozenset[str], dict[str, Entry]]] = {}


def _entries_table(spelled: Mapping[str, tuple[str, ...]], known: frozenset[str]) -> dict[str, Entry]:
    held = _ENTRIES.get((id(spelled), id(known)))
    if held is None or held[0] is not spelled or held[1] is not known:
        if len(_ENTRIES) >= TABLES_KEPT:
            # A caller that passed its own vocabularies tip after tip must not pile them up.
            _ENTRIES.clear()
        held = (spelled, known, _fixed_entries(spelled, known))
        _ENTRIES[id(spelled), id(known)] = held
    return held[2]


def _fixed_entries(spelled: Mapping[str, tuple[str, ...]], known: frozenset[str]) -> dict[str, Entry]:
    table: dict[str, Entry] = dict(PUNCTUATION)
    vocabulary = (
        *spelled,
        *(word for words in spelled.values() for word in words),
        *NUMBER_WORDS,
        *FUNCTION_WORDS,
        *CLAUSE_BREAKS,
        *NUMERALS,
        *known,
    )
    for raw in vocabulary:
        if raw not in table and TOKEN.fullmatch(raw):
            table[raw] = _entry(raw, spelled)
    return table


def _entry(raw: str, spelled: Mapping[str, tuple[str, ...]]) -> Entry:
    if raw.isalpha() and raw not in spelled and raw[0] != "j":
        pieces = [(raw, NUMBER_WORDS.get(raw))]
    else:
        pieces = [(word, _number(word)) for word in _spelled_out(raw, spelled)]
    return pieces[0] if len(pieces) == 1 and pieces[0][0] not in TEENS_AFTER_DIX else pieces


def _number(word: str) -> int | None:
    if word[0].isdigit():
        return int(word) if len(word) <= 3 and word.isdigit() else None
    return NUMBER_WORDS.get(word)
