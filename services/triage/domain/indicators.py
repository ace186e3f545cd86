"""What a narrative says of a minor, of danger and of the trafficking indicators, from one reading.

The rules read the phrases the lexicon found (`reading.py`) and prefer recall: a sign of a minor or
of danger that the narrative suggests without stating it (an apparent age, a doubt, a fear) is a
*possibility*, which makes a tip urgent without being a ground for disclosure. Negated signs count
for nothing; signs of violence that is over count for nothing unless the harm is still to come; a
minor in the past is no minor case once the person is said to be an adult now.

Ages are also worked out: a year of birth against the day the tip was received (given, never read
from a clock here), and an apparent age against a claimed one. Some mentions are set aside: a
young look next to an age in the twenties, the ages of someone's own children when the tip says
the people it is about are adults, and danger in a short rumour that its teller doubts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path

from services.triage.domain.reading import (
    LEXICON_FILE,
    YEARS_AGO,
    Compiled,
    Found,
    Reading,
    load,
    read,
)
from services.triage.domain.text import FUNCTION_WORDS

ADULT_AGE = 18
QUOTED_PER_KIND = 2
# An age of 18 or 19 is the one a minor is most often told to give: it does not silence a hint of
# youth ("says she's 18, braces and a school bag"). A young look yields only to an age in the
# twenties (a person of 30 or more beside her is more likely someone else).
CLAIMED_ADULT_AGES = range(18, 20)
TWENTIES = range(20, 30)
YOUNG_LOOK_WORDS = frozenset({"young", "jeune", "babyface", "bebe", "childlike"})
COMPARATIVE_WORDS = frozenset({"younger", "plus", "than", "que"})
TWENTIES_WORDS = frozenset({"twenties", "vingtaine"})
HER = frozenset({"she", "she's", "elle"})
# An age said of a man ("a man, 50", "in his 60s", "un homme de 50 ans") is most often the suspect's
# or a client's: it says nothing of the age of a girl the tip tells of.
MALE_WORDS = frozenset(
    {"man", "men", "guy", "father", "dad", "male", "m", "husband", "boss", "his", "boyfriend", "uncle"}
    | {"homme", "hommes", "gars", "pere", "papa", "mari", "patron", "chum", "monsieur", "oncle"}
)
ADULT_NOW = "age.adult_now"
# A high school's graduating class is named for the year its students turn 18 ("class of 2027",
# "finissante 2027"): a year of birth 18 years earlier, whatever age the person claims.
CLASS_YEAR = "age.class_year"
QUEBEC_COHORT = frozenset(
    {"secondaire", "finissante", "finissant", "finissantes", "finissants", "cohorte", "promotion"}
)
QUEBEC_GRADUATION_AGE = 17
# How far before an age its noun may stand: "un homme de 50 ans", "un homme dans la soixantaine".
AGE_NOUN_REACH = 3
# A rumour is set aside only in a short tip: a long one tells of someone.
RUMOUR_WORDS = 60
DANGER_ROLES = ("danger", "moving", "possible_danger", "threat")
# After a deportation, a word that leads to a place: the move may be to another exploiter.
DESTINATION_WORDS = frozenset({"to", "a", "au", "aux", "chez", "vers", "en", "with", "avec"})


class Certainty(StrEnum):
    NONE = "none"
    POSSIBLE = "possible"
    STATED = "stated"


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    strength: str
    en: str
    fr: str
    atoms: tuple[str, ...]
    together: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """Which kind of sign decided, and the words that showed it (lexicon words and numbers only)."""

    kind: str
    en: str
    fr: str
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Judgement:
    certainty: Certainty = Certainty.NONE
    evidence: tuple[Evidence, ...] = ()
    by_age: bool = False

    @property
    def stated(self) -> bool:
        return self.certainty is Certainty.STATED

    @property
    def possible(self) -> bool:
        return self.certainty is Certainty.POSSIBLE


NOTHING = Judgement()


@dataclass(frozen=True, slots=True)
class Lexicon:
    version: str
    compiled: Compiled
    indicators: tuple[Indicator, ...]
    labels: dict[str, tuple[str, str]]
    # For each atom, the positions of the indicators it fires on its own; the indicators that need
    # atoms together are checked one by one (there are few).
    by_atom: dict[str, tuple[int, ...]] = field(default_factory=dict)
    together: tuple[int, ...] = ()
    # The same, each with its groups of atoms as sets: a group fires when it is a subset of the atoms present.
    together_sets: tuple[tuple[int, tuple[frozenset[str], ...]], ...] = ()

    def indicator(self, code: str) -> Indicator:
        return next(indicator for indicator in self.indicators if indicator.code == code)


@dataclass(frozen=True, slots=True)
class TextFindings:
    indicators: tuple[Indicator, ...]
    ages: tuple[int, ...]
    minor: Judgement
    danger: Judgement
    sex_trade_mentioned: bool
    minor_in_past: Judgement = NOTHING
    danger_over: Judgement = NOTHING
    people_mentioned: bool = False
    vague: bool = False
    exploitation_described: bool = False
    danger_rumoured: Judgement = NOTHING
    # A short tip that tells of a call cut off: what little it says is all there is.
    cut_off: bool = False
    # An adult age or decade is given and nothing suggests a minor: a statistical guess of a minor
    # does not stand against it.
    adults_only: bool = False
    # The narrative's tokens, for the statistical second reading to count without cutting them again.
    words: tuple[str, ...] = ()

    @property
    def youngest(self) -> int | None:
        return min(self.ages) if self.ages else None

    def fired(self, code: str) -> bool:
        return any(indicator.code == code for indicator in self.indicators)


NO_FINDINGS = TextFindings(indicators=(), ages=(), minor=NOTHING, danger=NOTHING, sex_trade_mentioned=False)


@cache
def load_lexicon(path: Path = LEXICON_FILE) -> Lexicon:
    """Read and compile a lexicon file; both languages' phrases apply to every narrative."""
    compiled = load(path)
    data = compiled.data
    indicators = tuple(
        Indicator(
            code=entry["code"],
            strength=entry["strength"],
            en=entry["en"],
            fr=entry["fr"],
            atoms=tuple(entry["atoms"]),
            together=tuple(tuple(pair) for pair in entry.get("together", [])),
        )
        for entry in data["indicators"]
    )
    labels = {
        name: (entry["label"]["en"], entry["label"]["fr"])
        for name, entry in data["atoms"].items()
        if "label" in entry
    }
    by_atom: dict[str, list[int]] = {}
    for position, indicator in enumerate(indicators):
        for atom in dict.fromkeys(indicator.atoms):
            by_atom.setdefault(atom, []).append(position)
    together = tuple(position for position, indicator in enumerate(indicators) if indicator.together)
    return Lexicon(
        compiled.version,
        compiled,
        indicators,
        labels,
        {atom: tuple(positions) for atom, positions in by_atom.items()},
        together,
        tuple(
            (position, tuple(frozenset(group) for group in indicators[position].together))
            for position in together
        ),
    )


def quoted_words(words: str) -> str:
    """The words of a sign worth quoting: its function words left out, unless nothing else is left."""
    kept = " ".join(word for word in words.split() if word not in FUNCTION_WORDS and word != "…")
    return kept or words


def _evidence(lexicon: Lexicon, found: list[Found]) -> tuple[Evidence, ...]:
    by_kind: dict[str, list[str]] = {}
    for sign in sorted(found, key=lambda sign: sign.start):
        quoted = by_kind.setdefault(sign.atom.name, [])
        words = quoted_words(sign.words)
        if len(quoted) < QUOTED_PER_KIND and not any(words in other or other in words for other in quoted):
            quoted.append(words)
    return tuple(
        Evidence(kind, *lexicon.labels.get(kind, (kind, kind)), tuple(words))
        for kind, words in by_kind.items()
    )


def _straddles(sign: Found) -> bool:
    """An age given as a range across 18 ("16 or 20"): a possible minor, not a stated one."""
    return min(sign.numbers) < ADULT_AGE <= max(sign.numbers)


def _youngest(sign: Found) -> int:
    youngest = min(sign.numbers)
    return youngest - 1 if sign.atom.role == "age_under" else youngest


def _doubtful_minor(sign: Found) -> bool:
    role = sign.atom.role
    if sign.past:
        return False
    if role == "minor":
        return sign.hedged
    if role == "possible_minor":
        return True
    if role in ("age", "age_under", "age_guess") and sign.numbers:
        guessed = sign.hedged or role == "age_guess"
        return (guessed and _youngest(sign) <= ADULT_AGE) or _straddles(sign)
    return False


def _still_in_it(reading: Reading) -> bool:
    """Whether a sign of exploitation stands in a sentence that does not speak of the past."""
    sentence = reading.tokens.sentence
    past = {sentence[sign.start] for sign in reading.of_role("past_age")}
    return any(sign.affirmed and sentence[sign.start] not in past for sign in reading.of_role("indicator"))


def _birth_years(reading: Reading, today: date | None) -> list[tuple[Found, int, int]]:
    """(sign, youngest, oldest) age for each year of birth, against the day the tip was received."""
    if today is None:
        return []
    words = reading.tokens.words
    years = []
    for sign in reading.of_role("birth_year"):
        born = [int(word) for word in words[sign.start : sign.end] if len(word) == 4 and word.isdigit()]
        if born and sign.atom.name == CLASS_YEAR:
            # Quebec's secondaire 5 ends the year its students turn 17: a finissante of the year may be 17 today.
            secondary = not QUEBEC_COHORT.isdisjoint(words[sign.start : sign.end])
            born[-1] -= QUEBEC_GRADUATION_AGE if secondary else ADULT_AGE
        if sign.affirmed and born and today.year >= born[-1]:
            years.append((sign, today.year - born[-1] - 1, today.year - born[-1]))
    return years


def _said_of_a_man(sign: Found) -> bool:
    """An age whose own words, or the three words before it in its sentence, name a man."""
    tokens = sign.narrative.tokens
    start = sign.start
    sentence = tokens.sentence[sign.start]
    while start > 0 and sign.start - start < AGE_NOUN_REACH and tokens.sentence[start - 1] == sentence:
        start -= 1
    return bool(set(tokens.words[start : sign.end]) & MALE_WORDS)


def _young_look_of_an_adult(reading: Reading, look: Found, twenties: list[Found]) -> bool:
    """ "Young-looking, maybe mid-twenties", "l'air jeune, dans la vingtaine": a young look (not a
    doubt about an age, "looks younger than she says") beside an age in the twenties, in its
    sentence or said of her ("elle a 23 ans")."""
    words = set(look.words.split())
    if not words & YOUNG_LOOK_WORDS or words & COMPARATIVE_WORDS:
        return False
    sentence = reading.tokens.sentence
    return any(
        sentence[sign.start] == sentence[look.start] or sign.words.split()[0] in HER for sign in twenties
    )


def _minor(
    lexicon: Lexicon, reading: Reading, today: date | None
) -> tuple[Judgement, Judgement, tuple[int, ...], bool]:
    """(the minor judgement, a minor in the past set aside, the ages of the present, adults only)."""
    signs = [
        sign
        for sign in reading.of_role(
            "minor",
            "possible_minor",
            "possible_minor_hint",
            "age",
            "age_under",
            "age_guess",
            "adult_now",
            "past_age",
        )
        if sign.affirmed
    ]
    ages = [sign for sign in signs if sign.atom.role in ("age", "age_under") and sign.numbers]
    present_ages = [sign for sign in ages if not sign.past and not sign.hedged]
    decades = [sign for sign in signs if sign.atom.name == "age.decade" and not sign.past and not sign.hedged]
    adults = [sign for sign in present_ages if _youngest(sign) >= ADULT_AGE and not sign.family] + decades
    born = _birth_years(reading, today)
    # A request for statistics, a workshop or a volunteer's place tells of no victim: a school grade
    # in it is the writer's or the class's.
    if "request" in reading.present and not any(
        sign.affirmed
        for sign in reading.of_role("indicator", "sex_trade", "danger", "threat", "possible_danger")
    ):
        return NOTHING, NOTHING, (), False
    # The ages of someone's own children are set aside when the tip says the people it is about are
    # adults, or says in the same breath that the family is fine: the children are then the family
    # around them. Without that, a parent may be telling of their own children, and they count.
    family_aside = bool(adults) or "family_well" in reading.present
    signs = [sign for sign in signs if not (sign.family and family_aside)]
    present_ages = [sign for sign in present_ages if not (sign.family and family_aside)]
    minor_ages = [sign for sign in present_ages if _youngest(sign) < ADULT_AGE and not _straddles(sign)]
    terms = [sign for sign in signs if sign.atom.role == "minor" and not sign.past and not sign.hedged]
    # A class year gives an age only roughly (grades repeated, provinces that finish at 17): a possible minor.
    born_minor = [sign for sign, _, oldest in born if oldest < ADULT_AGE and sign.atom.name != CLASS_YEAR]
    stated = minor_ages + terms + born_minor
    ages_now = tuple(_youngest(sign) for sign in present_ages) + tuple(youngest for _, youngest, _ in born)
    if stated:
        by_age = any(sign.atom.name == "age.stated" for sign in minor_ages) or bool(born_minor)
        return Judgement(Certainty.STATED, _evidence(lexicon, stated), by_age), NOTHING, ages_now, False
    adult_stated = any(
        _youngest(sign) >= ADULT_AGE
        and _youngest(sign) not in CLAIMED_ADULT_AGES
        and not _said_of_a_man(sign)
        for sign in present_ages
    )
    twenties = [sign for sign in present_ages if _youngest(sign) in TWENTIES] + [
        sign for sign in decades if set(sign.words.split()) & TWENTIES_WORDS or TWENTIES.start in sign.numbers
    ]
    doubtful = [
        sign
        for sign in signs
        if (
            _doubtful_minor(sign)
            and not (sign.atom.role == "possible_minor" and _young_look_of_an_adult(reading, sign, twenties))
        )
        or (
            sign.atom.role == "possible_minor_hint"
            and not sign.past
            and not adult_stated
            and not _young_look_of_an_adult(reading, sign, twenties)
        )
    ] + [
        sign
        for sign, youngest, oldest in born
        if youngest < ADULT_AGE and (oldest >= ADULT_AGE or sign.atom.name == CLASS_YEAR)
    ]
    if doubtful:
        return Judgement(Certainty.POSSIBLE, _evidence(lexicon, doubtful)), NOTHING, ages_now, False
    adults_only = bool(adults) or any(youngest >= ADULT_AGE for _, youngest, _ in born)
    past = [
        sign
        for sign in signs
        if (
            sign.atom.role == "past_age"
            and (not sign.numbers or min(sign.numbers) < ADULT_AGE)
            and not _adult_then(sign, signs, present_ages)
        )
        # An adult's age in the past ("from age 19 to 21") is no minor in the past.
        or (
            sign.past
            and sign.atom.role in ("minor", "age", "age_under")
            and (not sign.numbers or _youngest(sign) < ADULT_AGE)
        )
    ]
    if not past:
        return NOTHING, NOTHING, ages_now, adults_only
    # An age told as the age now ("male, now 19") is of the one who was a minor, a man or not; an age
    # merely beside a man ("a man in his 60s") may be anyone's.
    adult_now = [
        sign
        for sign in signs
        if sign.atom.role == "adult_now"
        and not sign.past
        and (sign.atom.name == ADULT_NOW or not _said_of_a_man(sign))
    ] + [sign for sign in present_ages if _youngest(sign) >= ADULT_AGE and not _said_of_a_man(sign)]
    if adult_now and (reading.over_anywhere or not _still_in_it(reading)):
        return NOTHING, Judgement(Certainty.STATED, _evidence(lexicon, past + adult_now)), ages_now, True
    return Judgement(Certainty.POSSIBLE, _evidence(lexicon, past + adult_now)), NOTHING, ages_now, False


def _adult_then(sign: Found, signs: list[Found], present_ages: list[Found]) -> bool:
    """ "Ten years ago" dates an event, it is no age: beside an adult's age now ("a man in his 60s",
    "she's 20 now") it is a minor in the past only if the age now less those years is under 18, and
    without an age now it says nothing of a minor."""
    if sign.atom.name != YEARS_AGO:
        return False
    now = [_youngest(age) for age in present_ages if not age.family and _youngest(age) >= ADULT_AGE] + [
        min(age.numbers)
        for age in signs
        if age.atom.role == "adult_now" and not age.past and age.numbers and min(age.numbers) >= ADULT_AGE
    ]
    return not now or not sign.numbers or min(now) - max(sign.numbers) >= ADULT_AGE


def _deports(move: Found, deportations: list[Found], words: tuple[str, ...]) -> bool:
    """Whether a move is itself a deportation: it shares words with one ("be sent" in "sent home")
    that names no other place after it ("send her back to the guy in Calgary" is a move)."""
    return any(
        move.start < sign.end
        and sign.start < move.end
        and (sign.end >= len(words) or words[sign.end] not in DESTINATION_WORDS)
        for sign in deportations
    )


def _danger(lexicon: Lexicon, reading: Reading) -> tuple[Judgement, Judgement, Judgement]:
    """(the danger judgement, violence that is over, danger in a doubted rumour), the last two set aside."""
    signs = [sign for sign in reading.of_role(*DANGER_ROLES) if sign.affirmed and not sign.general]
    current = [sign for sign in signs if not sign.over]
    # "Saw a post that men in vans are grabbing girls. Is this true?": a short tip that doubts what
    # it passes on tells of no one in danger now, unless it says when.
    if current and "rumour" in reading.present and len(reading.tokens) <= RUMOUR_WORDS:
        rumoured = [sign for sign in current if not sign.soon]
        if len(rumoured) == len(current):
            return NOTHING, NOTHING, Judgement(Certainty.STATED, _evidence(lexicon, rumoured))
    deportations = [sign for sign in reading.of_role("deportation") if sign.affirmed]
    deportation_sentences = {reading.tokens.sentence[sign.start] for sign in deportations}
    stated = [
        sign
        for sign in current
        if (sign.atom.role == "danger" and not sign.hedged)
        or (sign.atom.role == "moving" and sign.soon and not sign.hedged)
    ]
    if stated:
        return Judgement(Certainty.STATED, _evidence(lexicon, stated)), NOTHING, NOTHING
    # A threat in a sentence that speaks of deportation, and a move still to come that is itself a
    # deportation ("would be sent home", "va m'envoyer à l'immigration"), are threats of deportation:
    # an indicator, not danger. A move at a stated time stays a danger whatever it is.
    doubtful = [
        sign
        for sign in current
        if (sign.atom.role == "danger" and sign.hedged)
        or sign.atom.role == "possible_danger"
        or (
            sign.atom.role == "moving"
            and (sign.soon or (sign.prospective and not _deports(sign, deportations, reading.tokens.words)))
            and not sign.later
        )
        or (sign.atom.role == "threat" and reading.tokens.sentence[sign.start] not in deportation_sentences)
    ]
    if doubtful:
        return Judgement(Certainty.POSSIBLE, _evidence(lexicon, doubtful)), NOTHING, NOTHING
    over = [sign for sign in signs if sign.over and sign.atom.role == "danger"]
    return NOTHING, (Judgement(Certainty.STATED, _evidence(lexicon, over)) if over else NOTHING), NOTHING


def _indicators(lexicon: Lexicon, reading: Reading, danger: Judgement) -> tuple[Indicator, ...]:
    present = {sign.atom.name for sign in reading.found if (sign.atom.role == "when_negated") == sign.negated}
    if danger.stated:
        present.add("@danger")
    fired = {position for atom in present for position in lexicon.by_atom.get(atom, ())}
    fired.update(
        position for position, groups in lexicon.together_sets if any(group <= present for group in groups)
    )
    return tuple(lexicon.indicators[position] for position in sorted(fired))


def detect(narrative: str, lexicon: Lexicon, today: date | None = None) -> TextFindings:
    """What the narrative affirms of a minor, of danger and of each indicator.

    ``today`` is the day the tip was received: a year of birth is an age only against it.
    """
    reading = read(narrative, lexicon.compiled)
    minor, minor_in_past, ages, adults_only = _minor(lexicon, reading, today)
    danger, danger_over, danger_rumoured = _danger(lexicon, reading)
    return TextFindings(
        indicators=_indicators(lexicon, reading, danger),
        ages=ages,
        minor=minor,
        danger=danger,
        sex_trade_mentioned=any(sign.affirmed for sign in reading.of_role("sex_trade")),
        minor_in_past=minor_in_past,
        danger_over=danger_over,
        people_mentioned="person" in reading.present
        or bool(reading.of_role("minor", "possible_minor", "possible_minor_hint", "age")),
        vague="vague" in reading.present,
        exploitation_described=any(sign.affirmed for sign in reading.of_role("what")),
        danger_rumoured=danger_rumoured,
        cut_off="cut_off" in reading.present and len(reading.tokens) <= RUMOUR_WORDS,
        adults_only=adults_only,
        words=reading.tokens.words,
    )
