"""One pass over a narrative: every lexicon phrase found, with what the words around it say of it.

The lexicon's phrases, their lemmas expanded into surface forms, are compiled into one automaton for
both languages. Reading walks the tokens once, entering the automaton at each token, and keeps
every phrase that ends, overlapping ones included. Each phrase found is then qualified by the cues
around it, found in the same pass:

- negated: a negation among the four words before it in its clause ("not in immediate danger",
  "personne la menace"), or a French "pas", "jamais", "pu" or "point" just after it ("y la frappe
  pas"); a phrase that carries its own negation ("won't let her see a doctor", "la laisse pas
  sortir") owns the "ne" before it, which then negates nothing. A negation reaches across "or" to
  the next thing it denies ("no violence or threats of violence", "ni violence ni menace"), and a
  denied report denies what it reports ("she never said he threatened her", "a jamais dit qu'il la
  frappait"), but an instruction not to tell does not ("told her not to say he hits her"); a report
  denied to the caller reaches what it was "about" ("never said anything to me about being hurt"),
  a secret kept from anyone does not. A negative determiner denies the whole noun phrase it opens
  ("no noise like violence", "aucune plainte de bruit de violence"), and a denied belief denies the
  harm it judges ("I don't think he'd hurt me", "je pense pas qu'il me ferait mal"). A question
  answered no is negated too ("asked if she's in danger, she said no"), unless it asked about a
  minor;
- hedged: an expression of doubt before it in its sentence ("I don't know if she is a minor",
  "je sais pas si elle est en danger"), or a question in its clause that was not answered no
  ("asked her if he hits her"); doubt is not negation: a hedged sign still counts, as a
  possibility;
- over: a sign of the past in its sentence ("used to", "last year", "l'an passé", "in custody") and
  nothing of the present ("still", "tonight") in its clause, unless the harm is still to come
  ("said he would kill her"), but a wish does not reach into a relative clause told in the past
  ("wants to report the man who trafficked her"); once the tip says the person is out (or left
  her pimp, or feels safe now), also violence told in a past tense ("punished her with burns", "lui
  a cassé une dent");
- cancelled: inside an exception ("frappe à la porte", "her kids", a service's name: "SOS violence
  conjugale", "domestic violence shelter");
- hypothetical: "in danger" inside a condition ("what do I do if someone is in danger", "si elle
  était en danger, elle me le dirait") says nothing of anyone's state: negated. A condition is an
  "if", "si", "s'il", "in case" or "au cas" before it in its clause with at most one subject between
  (a second subject starts the consequence: "if she talks he'll kill her" keeps its threat);
- advice for a case that may never come: a sign after a condition in a sentence that asks what to
  do ("what should I do if he ever gets violent?", "s'il revient, je fais quoi?"), with nothing of
  now or tonight in it, is negated; a minor only in an open condition ("if I ever see a kid"), since
  "what do I do if my niece of 14 is being sold" tells of a real child;
- asked: a danger sign in a sentence the caller ends with a question mark ("Is she in danger?") is
  asked, not stated: hedged, a possibility;
- general: said of the trade in general, not of anyone ("traffickers generally threaten families",
  "j'ai lu dans un article qu'elles se font battre"): a generic cue in its sentence ("in general",
  "documentary", "on dit que") and no one in it (no he, she, my, we, il, elle, mon...) and nothing of
  the present; danger said in general is no danger to anyone now;
- family: inside the list of someone's own children with their ages ("I have two kids, 8 and 11",
  "mes enfants de 5 et 7 ans"): the rules set such ages aside only when the tip says the people it
  is about are adults, or says of that list that the family is fine ("three kids (4, 7 and 11),
  we're all fine").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from services.triage.domain.lexicon.syntax import ANY, NUMBER, YEAR, expanded, slots
from services.triage.domain.text import CLAUSE_BREAKS, SPELLED, Tokens, tokenize

LEXICON_DIR = Path(__file__).parent / "lexicon"
LEXICON_FILE = LEXICON_DIR / "indicators.v2.json"
FORMS_FILE = LEXICON_DIR / "forms.v2.json"
END = ""
NEGATION_BEFORE_WORDS = 4
# A negation reaches across a disjunction to a bare noun phrase ("no violence or threats", "ni coups ni
# menaces", "aucune violence ou de menace"): across "or" and at most three of these words.
DISJUNCTIONS = frozenset({"or", "nor", "ou", "ni"})
DISJUNCT_WORDS = 3
# A negation carried down a list of dangers ("nobody reported violence, confinement or threats") goes
# from one danger to the next, never onto an act ("no pay, beaten or raped"). A threat, a weapon, a
# possible danger and a move are dangers of one kind there ("no threats, weapons or violence").
# "At 6" is an hour up to 12 ("at 15" is an age however many hours the sentence tells, but see
# below), and never after a verb that dates a life by an age: every form of these, the past of those.
LAST_HOUR = 12
# Past 12, "at 13" is an hour only in a clause that tells a working day in the present ("shift is at
# 13", "opens at 14"): the past of these ("worked at 14") dates a life.
LAST_CLOCK_HOUR = 23
WORKING_TIME = frozenset(
    {"shift", "shifts", "start", "starts", "begin", "begins", "finish", "finishes", "end", "ends", "work",
     "works", "open", "opens", "close", "closes"}
)  # fmt: skip
ALWAYS_TAKEN_AT = frozenset({"sell", "pimp", "recruit", "traffic", "groom", "lure", "exploit", "prostitute"})
TAKEN_AT_LEMMAS = ALWAYS_TAKEN_AT | {"get", "take", "start", "bring", "meet"}
PAST_PARTICIPLES = frozenset({"got", "gotten", "taken", "met"})
TAKEN_PRONOUNS = frozenset({"her", "him", "them", "me", "us", "working", "dancing"})
# "Anymore" after "can't" ("I can't do this anymore", "je suis pu capable") says how one is now.
NO_LONGER = frozenset({"anymore", "any", "pu", "plus"})
UNABLE = frozenset({"can't", "cannot", "cant", "couldn't", "unable", "capable", "peux", "peut"})
UNABLE_REACH_WORDS = 5
DANGER_NAMES = frozenset({"danger", "dangers"})
DANGER_ITEM_ROLES = frozenset({"danger", "threat", "possible_danger", "moving"})
VERB_FORMS_THAT_ARE_NOUNS = frozenset({"menace", "menaces", "drogue", "drogues", "abus", "coups", "threat"})
# The teller's own child is set aside only in a life an adult tells (an adult age now, an age of the
# past), and never once it comes back, by name or pronoun, near what is done to someone.
TOLD_BY_AN_ADULT = frozenset({"adult_now", "past_age"})
# An adult age the teller states of herself ("I'm 30", "j'ai 26 ans", "she's 28") tells an adult
# life too; an age "now" under 18 ("I have a kid now, 12") is the child's, no adult's.
ADULT_YEARS = 18
TELLERS = frozenset({("i'm",), ("i", "am"), ("she's",), ("j'", "ai"), ("je", "suis")})
DONE_TO_SOMEONE = frozenset(
    {"danger", "moving", "threat", "possible_danger", "sex_trade", "indicator", "what"}
)
CHILD_NAMES = frozenset(
    {"kid", "kids", "child", "children", "baby", "enfant", "enfants", "bebe", "bebes", "petit", "petite"}
)
CHILD_PRONOUNS = frozenset({"it", "him", "l'", "lui"})
CHILD_AGAIN = CHILD_NAMES | CHILD_PRONOUNS
CHILD_AGAIN_REACH = 3
DONE_TO_LEMMAS = {
    "en": ("sell", "pimp", "take", "move", "send", "traffic", "beat", "hit", "hurt", "abuse", "make", "force", "rape",
           "lock"),
    "fr": ("vendre", "prendre", "amener", "emmener", "envoyer", "battre", "frapper", "abuser", "forcer", "enfermer",
           "violer"),
}  # fmt: skip
OF_WORDS = frozenset({"of", "de", "d'"})
DISJUNCT_FILLERS = frozenset(
    {"a", "an", "any", "of", "other", "physical", "sexual", "verbal", "real", "de", "d'", "des", "du", "la", "le",
     "les", "l'", "un", "une", "autre", "autres", "physique", "physiques", "sexuelle", "sexuelles", "verbale"}
)  # fmt: skip
# A report denied ("never said", "none of the workers mentioned", "aucune des employées parle de")
# reaches into what it reports, its subject included; the report may follow the negation's own
# subject, of up to three words that start no clause of their own.
REPORT_AFTER_NEGATION = 3
INFINITIVE_ENDINGS = ("er", "ir", "re")
# What a denied report says stops at these: "nobody said anything | when he beat her" denies no beating,
# and "never said to anyone that" keeps a secret.
REPORT_OBJECT_BREAKERS = frozenset(
    {"anything", "nothing", "something", "rien", "when", "while", "if", "since", "quand", "lorsqu'", "pendant",
     "si", "depuis", "to", "a", "personne"}
)  # fmt: skip
# A question ("asked her if") reaches the rest of its clause; an answer no is looked for after the
# sign in its sentence or among the first words of the next one.
ANSWER_REACH_WORDS = 4
# An age just after a phrase of the past belongs to it ("quand j'étais ado, genre 16 ans").
PAST_REACH_WORDS = 4
PRESENT_TURNS = frozenset({"but", "mais", "now", "today", "maintenant", "aujourd'hui"})
HEDGE_BEFORE_WORDS = 7
# Fear colours only what it is about, just after it in its clause: "I'm scared he'll hurt her".
FEAR_BEFORE_WORDS = 3
# Someone in particular: a sentence with one of these speaks of a person, not of the trade in general.
# (Not "I" or "je": "I read that..." is how a general statement is often told.)
SOMEONE = frozenset(
    {"he", "she", "him", "her", "his", "he's", "she's", "my", "we", "us", "our", "i'm", "il", "elle", "lui",
     "ma", "mon", "mes", "nous", "notre", "nos", "m'", "me"}
)  # fmt: skip
# "Il y a", "il paraît que": an impersonal "il" is no one.
IMPERSONAL_AFTER_IL = frozenset({"y", "parait", "semble", "faut", "arrive"})
# Once a tip says the person is out, violence told in a past tense is over ("se faisait frapper",
# "punished her with burns"): the verb of the sign, or one of the three words before it in its clause.
PAST_ENDINGS = ("ait", "aient", "ais", "ed")
PAST_VERB_REACH = 3
# A short sentence that dates the one before it ("C'était en 2020.", "That was years ago.") puts all
# of it in the past, a threat of harm to come included.
DATING_OPENERS = frozenset({("c'", "etait"), ("ca", "c'"), ("that", "was"), ("it", "was"), ("this", "was")})
DATING_REACH = 3
# "Nobody has complained of anything violent": a negation earlier in the clause reaches a sign
# that a word of negative polarity introduces.
NEGATIVE_POLARITY = frozenset({"anything", "anyone", "anybody"})
# A count per unit is no age ("about 6 at a time", "16 par chambre").
PER_UNIT = (
    ("at", "a", "time"),
    ("a", "la", "fois"),
    ("per",),
    ("par",),
    ("each",),
    ("chacun",),
    ("chacune",),
)
PER_UNIT_OPENERS = frozenset(unit[0] for unit in PER_UNIT)
PAST_AUXILIARIES = frozenset(
    {"was", "were", "had", "used", "got", "avait", "etait", "etaient", "avaient", "faisait"}
)
PROSPECT_BEFORE_WORDS = 7
RELATIVES = frozenset({"who", "whom", "that", "which", "qui"})
IRREGULAR_PAST = frozenset(
    {"sold", "took", "brought", "sent", "drove", "dealt", "kept", "held", "hit", "beat"}
)
FRENCH_PERFECT = frozenset({"a", "ont", "ai", "as", "avons", "avez"})
# "No complaint of noise or violence", "aucune plainte de bruit de violence": a negative determiner
# denies the whole noun phrase it opens, a chain of nouns joined by these.
NEGATIVE_DETERMINERS = frozenset({"no", "aucun", "aucune", "aucuns", "aucunes", "sans", "without", "pas"})
CHAIN_LINKS = frozenset({"of", "de", "d'", "du", "des", "like", "comme", "about", "or", "ou", "ni"})
CHAIN_FILLERS = frozenset({"a", "an", "any", "the", "la", "le", "les", "l'", "un", "une"})
CHAIN_WORDS = 8
ABOUT = "about"
SECRET_KEPT = frozenset({"anyone", "anybody", "nobody", "personne"})
# A French negation is often only its second half in speech ("y la frappe pas"); these may follow.
NEGATION_AFTER = frozenset({"pas", "jamais", "pu", "point"})
# A negation does not reach past a new subject: in "comes back with nothing, the man slaps him" the
# "nothing" says nothing of the slap.
SCOPE_BREAKERS = frozenset(
    {"he", "she", "they", "i", "we", "it", "who", "that", "when", "if", "the", "il", "elle", "ils", "elles", "je",
     "j'", "on", "qui", "quand", "si"}
)  # fmt: skip
# A phrase that opens with its own subject ("she's 15", "he's right here") starts a clause of its own:
# "nobody knows she's 15" does not deny the age.
SUBJECTS = frozenset(
    {"he", "she", "they", "i", "we", "il", "elle", "ils", "elles", "je", "j'", "he's", "she's", "they're", "i'm",
     "we're", "he'll", "she'll", "they'll"}
)  # fmt: skip
# A condition's opening words, and the words that may be its subject.
CONDITIONS = frozenset({"if", "whether", "si"})
CONDITION_REACH_WORDS = 8
CONDITION_SUBJECTS = (
    SOMEONE
    | SUBJECTS
    | frozenset(
        {
            "someone",
            "somebody",
            "anyone",
            "anybody",
            "quelqu'un",
            "quelqu'une",
            "i",
            "je",
            "j'",
            "you",
            "tu",
            "it",
            "on",
        }
    )
)
# "If I ever", "si jamais": a condition open to a case that may never come.
OPEN_CONDITION = frozenset({"ever", "jamais"})
# The atom of danger as a state ("in danger", "en danger"), which a condition makes hypothetical.
DANGER_AS_A_STATE = "danger.stated"
# "Ten years ago" dates an event; it says nothing of the ages told beside it ("eight years ago
# (she's 25 now)"), so it puts none of them in the past.
YEARS_AGO = "age.years_ago"
# "ne"/"n'" belong to a phrase that carries the rest of the negation ("la laisse pas sortir").
FIRST_HALF_NEGATION = frozenset({"ne", "n'"})
NEGATION_WORDS = frozenset(
    {"not", "no", "never", "nobody", "none", "without", "don't", "doesn't", "didn't", "isn't", "aren't",
     "wasn't", "weren't", "won't", "wouldn't", "can't", "cannot", "couldn't", "ne", "n'", "pas", "jamais",
     "aucun", "aucune", "rien", "ni", "sans", "pu"}
)  # fmt: skip
# A denial ("denies", "nie") negates only when the one at risk or the teller denies, or when a note has
# no subject ("Denies threats or violence"): anyone else's word ("her pimp denies threatening her",
# "le propriétaire nie enfermer les filles") is no statement that nothing happened.
DENIALS = frozenset(
    {"denies", "denied", "deny", "denying", "nie", "nient", "niait", "niaient", "nier", "niant"}
)
DENIERS_WHO_NEGATE = frozenset(
    {"she", "i", "we", "victim", "worker", "caller", "reporter", "survivor", "elle", "je", "j'", "nous",
     "victime", "travailleuse", "travailleur", "appelante", "appelant", "survivante"}
)  # fmt: skip
# Between a denier and the denial: "she also denies", "she has denied", "elle a toujours nié".
DENIAL_FILLERS = frozenset(
    {"also", "still", "firmly", "strongly", "categorically", "has", "had", "have", "always", "again", "aussi",
     "toujours", "encore", "a", "avait", "ont", "avaient", "categoriquement", "formellement"}
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
     "passes", "plus", "floor", "etage", "apartments", "appartements", "something"}
)  # fmt: skip
# A number followed by a time of day is an hour ("until 11 at night", "10 h du soir").
TIME_OF_DAY_BEFORE = frozenset({"at", "in", "du", "le", "ce", "this"})
TIMES_OF_DAY = frozenset(
    {"night", "morning", "evening", "afternoon", "tonight", "matin", "soir", "nuit", "apres", "soiree"}
)
NOT_AN_AGE_BEFORE = frozenset(
    {"depuis", "pendant", "durant", "dans", "for", "after", "past", "last", "within", "every", "apres", "fait",
     "unit", "apt", "apartment", "appartement", "room", "chambre", "number", "numero", "no", "route", "highway",
     "exit", "sortie", "$", "paid", "pays", "owes", "owe", "doit", "dette", "debt", "worth", "costs", "coute",
     "over", "top", "rooms", "units", "suite", "suites", "chambres", "address", "adresse"}
)  # fmt: skip
YOUNGEST_AGE, OLDEST_AGE = 6, 99
# "She was too young to drink back then": too young for what the law keeps from minors, in a sentence
# of the past, is of then.
YOUTH_TOLD_OF_THEN = frozenset({"minor", "possible_minor_hint"})
TOO_YOUNG = frozenset({"young", "jeune"})
# "girl 15yrs": years just after a person's name for her are her age, not a duration.
AGED_PEOPLE = frozenset({"girl", "boy", "kid", "victim", "daughter", "niece", "son", "teen", "fille", "gars"})
# A number, a street's name of at most two words, then the kind of street: an address, not an age.
ADDRESS_NAME_WORDS = 2
STREET_KINDS = frozenset(
    {"st", "street", "ave", "avenue", "rd", "road", "blvd", "boulevard", "dr", "drive", "lane", "ln", "way",
     "crescent", "cres", "court", "ct", "place", "pl", "hwy", "highway", "rue", "boul", "chemin", "ch", "rang",
     "route", "montee", "cote"}
)  # fmt: skip
# "She was 12 on Main St": a preposition or a verb between the number and the street keeps the age.
ADDRESS_BREAKS = frozenset(
    {"on", "at", "in", "near", "by", "from", "to", "sur", "dans", "pres", "a", "au", "de"}
)
DOUBT_CUES = frozenset({"hedge", "fear"})
# The roles whose numbers are ages: a number that is no plausible age drops the phrase.
AGE_ROLES = frozenset({"age", "age_under", "age_guess", "adult_now", "past_age"})
# Danger is judged in time (over, soon, still to come); minors and danger are judged in doubt.
TIMED_ROLES = frozenset({"danger", "moving", "possible_danger", "threat"})
QUALIFIED_ROLES = TIMED_ROLES | {
    "minor",
    "possible_minor",
    "possible_minor_hint",
    "age",
    "age_under",
    "age_guess",
    "birth_year",
}
MINOR_ROLES = frozenset(
    {"minor", "possible_minor", "possible_minor_hint", "age", "age_under", "age_guess", "birth_year"}
)
# Roles that only need to be present somewhere: someone is spoken of, the tip calls itself a feeling,
# doubts the rumour it passes on, asks for information (statistics, a workshop), says that the
# teller's own children listed with their ages are fine with the rest of the family, or tells of a
# call cut off ("then the line dropped", "la ligne a coupé").
PRESENCE_ROLES = frozenset({"person", "vague", "rumour", "request", "family_well", "cut_off"})
# Someone's own children listed with their ages; "family_well" says in the same breath that they are
# fine ("three kids, 4, 7 and 11, we're all fine").
FAMILY_ROLES = frozenset({"family_children", "family_well"})
SIGN_ROLES = frozenset(
    {"danger", "moving", "possible_danger", "threat", "deportation", "minor", "possible_minor", "possible_minor_hint",
     "age", "age_under", "age_guess", "birth_year", "when_negated",
     "adult_now", "past_age", "indicator", "part", "sex_trade", "what"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Atom:
    name: str
    role: str


class Narrative(NamedTuple):
    """The tokens a phrase was found in, and the lexicon's words, to quote the phrase from."""

    tokens: Tokens
    vocabulary: frozenset[str]

    def __repr__(self) -> str:
        # A phrase found may be printed (a test's message, a debugger); the whole narrative must not.
        return "Narrative(…)"


class Found(NamedTuple):
    """A phrase of the lexicon found in the narrative, and how its context qualifies it.

    A named tuple: a long tip has dozens, and a frozen dataclass costs several times more to make.
    """

    atom: Atom
    start: int
    end: int
    narrative: Narrative
    numbers: tuple[int, ...]
    negated: bool = False
    hedged: bool = False
    over: bool = False
    past: bool = False
    soon: bool = False
    prospective: bool = False
    later: bool = False
    family: bool = False
    general: bool = False

    @property
    def affirmed(self) -> bool:
        return not self.negated

    @property
    def words(self) -> str:
        """The phrase's words, a wildcard's left out: worked out when a reason quotes them, since
        most phrases found are never quoted."""
        return _words(self.narrative.tokens, self.start, self.end, self.narrative.vocabulary)


@dataclass(frozen=True, slots=True)
class Reading:
    tokens: Tokens
    found: tuple[Found, ...]
    over_anywhere: bool = False
    present: frozenset[str] = frozenset()
    # The roles of the phrases found: most roles asked for are not among them.
    roles: frozenset[str] = frozenset()

    def of_role(self, *roles: str) -> list[Found]:
        if self.roles.isdisjoint(roles):
            return []
        return [found for found in self.found if found.atom.role in roles]


# The compiled lexicon is a small automaton per phrase, its states dicts from a token to the next
# states (END to the atoms a phrase ends in); the root maps each first token to its phrases' states.
Node = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Compiled:
    version: str
    atoms: tuple[Atom, ...]
    automaton: _Automaton
    data: Mapping[str, Any]
    vocabulary: frozenset[str]
    spelled: Mapping[str, tuple[str, ...]]
    # The lexicon's verbs conjugated (not their lemma, nor a form that is also a noun): a list of
    # acts ("locked in, beaten or raped") is no list of nouns a negation may be carried down.
    conjugated: frozenset[str] = frozenset()
    # Every form of the verbs of what is done to someone ("sells", "l'a pris"): a child named or
    # pronounced just after one of them is a victim, whoever's child.
    done_to: frozenset[str] = frozenset()
    # The verbs that date a life by an age ("got her at 12", "pimped at 15", "started working at 11").
    taken_at: frozenset[str] = frozenset()


Slots = list[tuple[bool, list[list[str]]]]


def _phrase_states(
    parsed: Slots, language: str, forms: Mapping[str, Mapping[str, list[str]]], end: Node
) -> list[Node]:
    """The entry states of one phrase, built from its last slot back to its first."""
    starts = [end]
    for optional, alternatives in reversed(parsed):
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
                parsed = slots(phrase)
                tokens = [
                    token
                    for _, alternatives in parsed
                    for alternative in alternatives
                    for token in alternative
                ]
                carries_negation = any(token in NEGATION_WORDS for token in tokens)
                vocabulary.update(form for token in tokens for form in expanded(token, language, forms))
                end: Node = {END: [(position, carries_negation)]}
                for state in _phrase_states(parsed, language, forms, end):
                    if END in state or ANY in state:
                        raise ValueError(f"atom {name}: a phrase must start with a word: {phrase!r}")
                    for token, targets in state.items():
                        root.setdefault(token, []).extend(targets)
    glued_table = forms.get("glued", {})
    words = set(glued_table.get("words", ())) | vocabulary
    glued = {
        pronoun + form: (pronoun + "'", form)
        for pronoun in glued_table.get("pronouns", ())
        for form in glued_table.get("forms", ())
        if pronoun + form not in words
    }
    spelled = {**glued, **SPELLED}
    done_to = frozenset(
        form
        for language, lemmas in DONE_TO_LEMMAS.items()
        for lemma in lemmas
        for form in forms.get(language, {}).get(lemma, ())
    )
    taken_at = frozenset(
        form
        for lemma in TAKEN_AT_LEMMAS
        for form in forms.get("en", {}).get(lemma, ())
        if lemma in ALWAYS_TAKEN_AT
        or form.endswith("ed")
        or form in IRREGULAR_PAST
        or form in PAST_PARTICIPLES
    )
    return Compiled(
        data["version"],
        atoms,
        _Automaton(root),
        data,
        frozenset(vocabulary),
        spelled,
        _conjugated(forms),
        done_to,
        taken_at,
    )


def _conjugated(forms: Mapping[str, Mapping[str, list[str]]]) -> frozenset[str]:
    conjugated = {
        form
        for language in ("en", "fr")
        for lemma, surface in forms.get(language, {}).items()
        for form in surface
        if form not in (lemma, lemma + "s", lemma + "es") and not form.endswith("ing")
    }
    return frozenset(conjugated - VERB_FORMS_THAT_ARE_NOUNS)


def load(lexicon_file: Path = LEXICON_FILE, forms_file: Path = FORMS_FILE) -> Compiled:
    # Cached by both files however they are passed: the rules name the lexicon, the second reading
    # does not, and one compiled lexicon (its automaton and its tables) serves both.
    return _load(lexicon_file, forms_file)


@cache
def _load(lexicon_file: Path, forms_file: Path) -> Compiled:
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


class _Automaton:
    """The phrases' automaton made deterministic lazily: a state is a set of phrase states, and a
    move from it on a word is computed once, then looked up (a bounded cache).

    Moves are remembered under a word of the phrases only. Any other word moves as what it is, a
    number, a year or a word, and is remembered as that: a table that kept the words of tips would
    hold their names and places for the life of the process."""

    DEAD = -1
    CACHED_MOVES = 500_000

    def __init__(self, root: dict[str, list[Node]]) -> None:
        self.root = root
        self.literals = _literals(root)
        self.states: list[tuple[Node, ...]] = []
        self.index: dict[frozenset[int], int] = {}
        self.ends: list[tuple[tuple[int, bool], ...]] = []
        self.moves: list[dict[str, int]] = []
        self.starts: dict[str, int] = {}
        self.cached = 0

    def _state(self, nodes: list[Node]) -> int:
        if not nodes:
            return self.DEAD
        identity = frozenset(id(node) for node in nodes)
        known = self.index.get(identity)
        if known is not None:
            return known
        unique = tuple({id(node): node for node in nodes}.values())
        self.index[identity] = len(self.states)
        self.states.append(unique)
        self.ends.append(tuple(dict.fromkeys(end for node in unique for end in node.get(END, ()))))
        self.moves.append({})
        return len(self.states) - 1

    def _remember(self, table: dict[str, int], word: str, state: int) -> int:
        if self.cached >= self.CACHED_MOVES:
            for moves in self.moves:
                moves.clear()
            self.starts.clear()
            self.cached = 0
        table[word] = state
        self.cached += 1
        return state

    def keys(self, words: Sequence[str], numbers: Sequence[int | None]) -> list[str]:
        """The key each word moves under: itself if a phrase is written with it, else what it is."""
        literals = self.literals
        return [
            word if word in literals else NUMBER if number is not None else YEAR if _is_year(word) else ANY
            for word, number in zip(words, numbers, strict=True)
        ]

    def start(self, key: str, number: int | None) -> int:
        known = self.starts.get(key)
        if known is not None:
            return known
        nodes = [node for phrase_key in _phrase_keys(key, number) for node in self.root.get(phrase_key, ())]
        return self._remember(self.starts, key, self._state(nodes))

    def move(self, state: int, key: str, number: int | None) -> int:
        table = self.moves[state]
        known = table.get(key)
        if known is not None:
            return known
        keys = (*_phrase_keys(key, number), ANY)
        nodes = [target for node in self.states[state] for each in keys for target in node.get(each, ())]
        return self._remember(table, key, self._state(nodes))


def _phrase_keys(key: str, number: int | None) -> tuple[str, ...]:
    """The keys of the phrases a word's key follows (beside a wildcard)."""
    if key == ANY:
        return ()
    if key in (NUMBER, YEAR):
        return (key,)
    return _keys(key, number)


def _literals(root: dict[str, list[Node]]) -> frozenset[str]:
    """Every word a phrase of the automaton is written with."""
    words = set(root)
    seen: set[int] = set()
    pending = [node for nodes in root.values() for node in nodes]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for key, targets in node.items():
            if key != END:
                words.add(key)
                pending.extend(targets)
    return frozenset(words - {ANY, NUMBER, YEAR})


def _scan(tokens: Tokens, automaton: _Automaton) -> list[tuple[int, int, int, bool]]:
    """(atom, start, end, carries its own negation) for every phrase found."""
    words, numbers, sentence = tokens.words, tokens.numbers, tokens.sentence
    count = len(words)
    found: dict[tuple[int, int, int], tuple[int, int, int, bool]] = {}
    dead = _Automaton.DEAD
    # The automaton's caches are read here directly (a method call per word costs more than the
    # lookup); a key not met yet goes through the automaton's methods, which fill them.
    starts, moves, ends = automaton.starts, automaton.moves, automaton.ends
    keys = automaton.keys(words, numbers)
    for start in range(count):
        key = keys[start]
        state = starts.get(key)
        if state is None:
            state = automaton.start(key, numbers[start])
        position = start + 1
        while state != dead:
            for atom, carries_negation in ends[state]:
                found.setdefault((atom, start, position), (atom, start, position, carries_negation))
            if position >= count or sentence[position] != sentence[start]:
                break
            key = keys[position]
            following = moves[state].get(key)
            state = automaton.move(state, key, numbers[position]) if following is None else following
            position += 1
    return list(found.values())


def _words(tokens: Tokens, start: int, end: int, vocabulary: frozenset[str]) -> str:
    """The words of a phrase found, any word that is not the lexicon's (a wildcard's) left out."""
    return " ".join(
        word if word in vocabulary or number is not None else "…"
        for word, number in zip(tokens.words[start:end], tokens.numbers[start:end], strict=True)
    )


def _numbers(tokens: Tokens, start: int, end: int) -> tuple[int, ...]:
    window = tokens.numbers[start:end]
    if window.count(None) == len(window):
        return ()
    return tuple(value for value in window if value is not None)


def _plausible_age(tokens: Tokens, start: int, end: int) -> bool:
    """Not a count, a sum, an hour or a duration: judged by the words just before and after."""
    words, numbers = tokens.words, tokens.numbers
    at = [position for position in range(start, end) if numbers[position] is not None]
    first_number, last_number = at[0], at[-1]
    # What follows in another clause or sentence says nothing of the number: "She is 16. 45 Oak Ave."
    # is an age and then an address, not a count of 16 followed by another number.
    following = last_number + 1 < len(words) and tokens.clause[last_number + 1] == tokens.clause[last_number]
    after = words[last_number + 1] if following else ""
    if (
        after in ("years", "year", "yrs")
        # Even when the years seem to place a time ("daughter 14 years back then, 16 now", "girl 15yrs
        # since last summer"): read as an age, an over-call at worst, never a minor missed.
        and not (first_number > 0 and words[first_number - 1] in AGED_PEOPLE)
        and words[last_number + 2 : last_number + 3] != ("old",)
        and not _years_end_the_clause(tokens, last_number + 1, end)
    ):
        return False
    if after in PER_UNIT_OPENERS and any(
        words[last_number + 1 : last_number + 1 + len(unit)] == unit for unit in PER_UNIT
    ):
        return False
    if after in NOT_AN_AGE_AFTER or (following and numbers[last_number + 1] is not None):
        return False
    if _opens_an_address(tokens, last_number):
        return False
    if (
        after in TIME_OF_DAY_BEFORE
        and words[last_number + 2 : last_number + 3]
        and (words[last_number + 2] in TIMES_OF_DAY)
    ):
        return False
    # "Il y a 15 ans" is a time ago; "y'a l'air d'en avoir 15" (il a l'air) is not.
    looks = words[start : start + 2] == ("l'", "air")
    for position in (start - 1, first_number - 1) if first_number > start else (start - 1,):
        if position < 0 or tokens.sentence[position] != tokens.sentence[first_number]:
            continue
        before = words[position]
        if before in NOT_AN_AGE_BEFORE or (
            before == "a" and position > 0 and words[position - 1] == "y" and not looks
        ):
            return False
    return all(YOUNGEST_AGE <= value <= OLDEST_AGE for value in _numbers(tokens, start, end))


def _opens_an_address(tokens: Tokens, number: int) -> bool:
    """ "At 12 Main St", "au 45 boul. Taschereau": a street's name, then its kind, follow the number."""
    clause = tokens.clause[number]
    for position in range(number + 1, min(number + 1 + ADDRESS_NAME_WORDS + 1, len(tokens))):
        word = tokens.words[position]
        if tokens.clause[position] != clause or word in ADDRESS_BREAKS:
            return False
        if word in STREET_KINDS:
            # Right after the number, "St" is a saint's name as often as a street ("14 St. Catharines").
            return position > number + 1
    return False


def _years_end_the_clause(tokens: Tokens, years: int, end: int) -> bool:
    """ "He is 16 years.": a phrase that owns its "years", with nothing after them in the clause."""
    return years < end and (end >= len(tokens) or tokens.clause[end] != tokens.clause[years])


def read(narrative: str, lexicon: Compiled | None = None) -> Reading:
    """Everything the lexicon finds in a narrative, each qualified by its context."""
    lexicon = lexicon or load()
    tokens = tokenize(narrative, lexicon.spelled, lexicon.vocabulary)
    raw = _scan(tokens, lexicon.automaton)
    atoms = lexicon.atoms
    exceptions = [(start, end) for atom, start, end, _ in raw if atoms[atom].role == "exception"]
    exceptions += _own_children(tokens, raw, atoms, lexicon.done_to)
    # Where a phrase may start to stand inside an exception: most phrases start elsewhere, and are
    # not compared with every exception.
    excepted = {position for low, high in exceptions for position in range(low, high)}
    families = [(start, end) for atom, start, end, _ in raw if atoms[atom].role in FAMILY_ROLES]
    cues: dict[str, list[tuple[int, int]]] = {
        role: []
        for role in (
            "negation", "hedge", "fear", "now", "soon", "later", "future", "over", "report", "question", "answer_no",
            "generic", "belief_denied", "advice", "clock", "relocation",
        )
    }  # fmt: skip
    signs = []
    present: set[str] = set()
    for atom, start, end, carries_negation in raw:
        role = atoms[atom].role
        if (
            start in excepted
            and role not in PRESENCE_ROLES
            and any(low <= start and end <= high and (low, high) != (start, end) for low, high in exceptions)
        ):
            continue
        if role in cues:
            cues[role].append((start, end))
        elif role in PRESENCE_ROLES:
            present.add(role)
        elif role in SIGN_ROLES:
            signs.append((atom, start, end, carries_negation))
    # A set hour ("at 5am", "à 4h") makes a move soon only in a sentence that moves people elsewhere
    # ("to another plant", "dans le nord"): a pick-up at a set hour is how a working day starts.
    denials = [span for span in cues["negation"] if tokens.words[span[0]] in DENIALS]
    if denials:
        cues["negation"] = [
            span
            for span in cues["negation"]
            if span not in denials or _denied_by_the_one_at_risk(tokens, span[0])
        ]
    if cues["over"]:
        cues["over"] = [span for span in cues["over"] if not _no_longer_able(tokens, *span)]
    elsewhere = {tokens.sentence[start] for start, _ in cues.pop("relocation")}
    hours = {tokens.sentence[start] for start, _ in cues["clock"]}
    cues["soon"] += [(start, end) for start, end in cues.pop("clock") if tokens.sentence[start] in elsewhere]
    items: dict[int, set[tuple[str, str]]] = {}
    for atom, start, end, _ in signs:
        if atoms[atom].role in DANGER_ITEM_ROLES:
            items.setdefault(start, set()).add(("starts", atoms[atom].role))
            items.setdefault(end, set()).add(("ends", atoms[atom].role))
    qualify = _Context(tokens, cues, items, lexicon.conjugated)
    # A denial never negates a minor's age or a sign of youth: "she denies being 15" is what a minor
    # is told to say. Those signs are read as if no denial had been said.
    undenied = qualify
    if any(tokens.words[start] in DENIALS for start, _ in cues["negation"]):
        undenied = _Context(
            tokens,
            {**cues, "negation": [span for span in cues["negation"] if tokens.words[span[0]] not in DENIALS]},
            items,
            lexicon.conjugated,
        )
    past_spans = [
        (start, end)
        for atom, start, end, _ in signs
        if atoms[atom].role == "past_age" and atoms[atom].name != YEARS_AGO
    ]
    narrative_of = Narrative(tokens, lexicon.vocabulary)
    # A qualification whose cue the narrative lacks is false for every phrase: not asked phrase by phrase.
    # Each guard names the only cues its `_Context` method reads; a method that comes to read another
    # cue needs that cue in its guard too.
    cued = {role for role, spans in cues.items() if spans}
    fear, doubt, denied_belief, advice = (
        "fear" in cued,
        bool(cued & DOUBT_CUES),
        "belief_denied" in cued,
        "advice" in cued,
    )
    over, soon, later, generic = "over" in cued, "soon" in cued, "later" in cued, "generic" in cued
    found = []
    for atom, start, end, carries_negation in signs:
        role = atoms[atom].role
        numbers = _numbers(tokens, start, end)
        # A number of years ago is a duration, not an age: no test of a plausible age applies.
        if (
            numbers
            and role in AGE_ROLES
            and atoms[atom].name != YEARS_AGO
            and not _plausible_age(tokens, start, end)
        ):
            continue
        # "Drops them off at midnight, picks them up at 6": a bare "at 6" in a sentence that tells an
        # hour is another hour, not an age.
        if (
            hours
            and role == "past_age"
            and tokens.sentence[start] in hours
            and _another_hour(tokens, start, end, lexicon.taken_at)
        ):
            continue
        asked = qualify.asked(start)
        # A minor's "no" is not believed (a minor is often told to say she is an adult): asked, a
        # sign of a minor stays a possibility whatever the answer.
        answered_no = asked and role not in MINOR_ROLES and qualify.answered_no(end)
        timed = role in TIMED_ROLES
        negated = (
            (undenied if role in MINOR_ROLES else qualify).negated(start, end, carries_negation)
            or (fear and qualify.feared_not(start))
            or answered_no
            or (atoms[atom].name == DANGER_AS_A_STATE and qualify.conditional(start))
            or (timed and denied_belief and not carries_negation and qualify.belief_denied(start))
            or (advice and (timed or role in MINOR_ROLES) and qualify.hypothetical(start, timed))
        )
        asked = asked or (timed and tokens.sentence[start] in tokens.questions)
        found.append(
            Found(
                atom=atoms[atom],
                start=start,
                end=end,
                narrative=narrative_of,
                numbers=numbers,
                negated=negated,
                hedged=role in QUALIFIED_ROLES and ((doubt and qualify.hedged(start)) or asked),
                over=timed and over and qualify.over(start, end),
                soon=timed and soon and qualify.soon(start),
                prospective=timed and qualify.prospective(start),
                later=timed and later and qualify.later(start),
                past=(bool(past_spans) and role != "past_age" and _in_the_past(tokens, start, past_spans))
                or (
                    over
                    and role in YOUTH_TOLD_OF_THEN
                    and not TOO_YOUNG.isdisjoint(tokens.words[start:end])
                    and qualify.over(start, end)
                ),
                family=bool(families) and any(low <= start and end <= high for low, high in families),
                general=timed and generic and qualify.general(start),
            )
        )
    return Reading(
        tokens,
        tuple(found),
        over_anywhere=qualify.out,
        present=frozenset(present),
        roles=frozenset(sign.atom.role for sign in found),
    )


def _own_children(
    tokens: Tokens, raw: list[tuple[int, int, int, bool]], atoms: tuple[Atom, ...], done_to: frozenset[str]
) -> list[tuple[int, int]]:
    """The teller's own child among the facts of her life ("I have a job, a husband, a kid"): no
    victim, but only in a life told by an adult, beside an adult age now, the teller's own adult
    age or an age of the past, and only while the child does not come back as the object of what is done ("makes my kid do
    videos", "mon pimp l'a pris")."""
    mentions = [(start, end) for atom, start, end, _ in raw if atoms[atom].role == "own_child"]
    if not mentions or not any(
        _an_adult_life(tokens, atoms[atom].role, start, end) for atom, start, end, _ in raw
    ):
        return []
    words = tokens.words
    acts = [(start, end) for atom, start, end, _ in raw if atoms[atom].role in DONE_TO_SOMEONE]
    return [
        (low, high)
        for low, high in mentions
        if not _done_to_a_child(words, high, done_to)
        and not any(
            start >= high
            and CHILD_AGAIN.intersection(
                words[max(high, start - CHILD_AGAIN_REACH) : end + CHILD_AGAIN_REACH]
            )
            for start, end in acts
        )
    ]


def _an_adult_life(tokens: Tokens, role: str, start: int, end: int) -> bool:
    """An age of the past, an adult age now, or an adult age the teller states of herself."""
    if role == "past_age":
        return True
    if role not in ("adult_now", "age"):
        return False
    ages = [
        (position, age) for position in range(start, end) if (age := tokens.numbers[position]) is not None
    ]
    if role == "adult_now":
        return all(age >= ADULT_YEARS for _, age in ages)
    return (
        bool(ages)
        and ages[0][1] >= ADULT_YEARS
        and any(tokens.words[max(0, ages[0][0] - len(teller)) : ages[0][0]] == teller for teller in TELLERS)
    )


def _done_to_a_child(words: tuple[str, ...], after: int, done_to: frozenset[str]) -> bool:
    """A child named just after a verb of what is done ("sells my kid"), or a pronoun just before or
    after one ("l'a pris", "took it"), after ``after``."""
    for position in range(after, len(words)):
        word = words[position]
        if word in CHILD_NAMES and done_to.intersection(
            words[max(after, position - CHILD_AGAIN_REACH) : position]
        ):
            return True
        if word in CHILD_PRONOUNS and done_to.intersection(
            words[max(after, position - 1) : position + CHILD_AGAIN_REACH]
        ):
            return True
    return False


def _another_hour(tokens: Tokens, start: int, end: int, taken_at: frozenset[str]) -> bool:
    """ "At 6" beside another hour is an hour: not "at 15" outside a working day's clause, nor when it
    opens the sentence ("At 13 she was sold at 9 pm") or follows a verb that dates a life ("got her
    at 12", "pimped at 15"); "start work at 6" is the hour a day starts, "shift is at 13" too."""
    at = end - 2
    if at < start or tokens.words[at] != "at" or (tokens.numbers[end - 1] or 0) > LAST_CLOCK_HOUR:
        return False
    if at == 0 or tokens.sentence[at - 1] != tokens.sentence[at]:
        return False
    if (tokens.numbers[end - 1] or 0) > LAST_HOUR:
        clause = tokens.clause[at]
        opener = at
        while opener > 0 and tokens.clause[opener - 1] == clause:
            opener -= 1
        if WORKING_TIME.isdisjoint(tokens.words[opener:at]):
            return False
    before = tokens.words[at - 1]
    return before not in taken_at and not (
        before in TAKEN_PRONOUNS and at > 1 and tokens.words[at - 2] in taken_at
    )


def _no_longer_able(tokens: Tokens, start: int, end: int) -> bool:
    """ "I can't do this anymore", "je suis pu capable": a state of now, not something over."""
    if tokens.words[start] not in NO_LONGER:
        return False
    clause = tokens.clause[start]
    return any(
        tokens.words[position] in UNABLE and tokens.clause[position] == clause
        for position in range(max(0, start - UNABLE_REACH_WORDS), start)
    )


def _denied_by_the_one_at_risk(tokens: Tokens, start: int) -> bool:
    """The denier is the one at risk or the teller ("she denies", "je nie"), or the note has none."""
    position = start - 1
    while position >= 0 and tokens.words[position] in DENIAL_FILLERS:
        position -= 1
    if position < 0 or tokens.sentence[position] != tokens.sentence[start]:
        return True
    return tokens.words[position] in DENIERS_WHO_NEGATE


def _noun_chain(between: tuple[str, ...]) -> bool:
    """Nouns joined by "of", "de", "like" or "or", ending on a link: the rest of a negated noun phrase."""
    if not between or len(between) > CHAIN_WORDS:
        return False
    noun_next = between[0] not in CHAIN_LINKS or between[0] in ("de", "d'")
    for word in between[1:] if between[0] in ("de", "d'") else between:
        if word in CHAIN_FILLERS:
            continue
        if noun_next:
            if word in CHAIN_LINKS or word in SCOPE_BREAKERS or word in NEGATION_WORDS:
                return False
            noun_next = False
        elif word in CHAIN_LINKS:
            noun_next = True
        else:
            return False
    return noun_next


def _in_the_past(tokens: Tokens, start: int, past_spans: list[tuple[int, int]]) -> bool:
    return any(
        low <= start < high
        or (
            high <= start < high + PAST_REACH_WORDS
            and tokens.sentence[high - 1] == tokens.sentence[start]
            and not PRESENT_TURNS.intersection(tokens.words[high:start])
        )
        for low, high in past_spans
    )


def _opens_condition(words: tuple[str, ...], position: int) -> bool:
    word = words[position]
    return (
        word in CONDITIONS
        or (word == "s'" and position + 1 < len(words) and words[position + 1] in ("il", "ils"))
        or (word == "case" and position > 0 and words[position - 1] == "in")
        or (word == "cas" and position > 0 and words[position - 1] == "au")
    )


# Shared by every cue a narrative lacks; never written to.
NO_SPANS: Mapping[int, list[tuple[int, int]]] = MappingProxyType({})


class _Context:
    """The cues around a phrase: negation, doubt, and whether its sentence is of the past."""

    def __init__(
        self,
        tokens: Tokens,
        cues: Mapping[str, list[tuple[int, int]]],
        items: Mapping[int, set[tuple[str, str]]] = MappingProxyType({}),
        conjugated: frozenset[str] = frozenset(),
    ) -> None:
        self.tokens = tokens
        self.cues = cues
        # The roles of the dangers that start and end at each position: the items of a list.
        self.items = items
        self.conjugated = conjugated
        hedges = cues["hedge"]
        self.negations: dict[int, list[tuple[int, int]]] = {}
        for start, end in cues["negation"]:
            if not any(low <= start and end <= high for low, high in hedges):
                self.negations.setdefault(tokens.clause[start], []).append((start, end))
        self.by_sentence: dict[str, Mapping[int, list[tuple[int, int]]]] = {}
        for role, spans in cues.items():
            if not spans:
                self.by_sentence[role] = NO_SPANS  # most cues are absent from a narrative
                continue
            sentences: dict[int, list[tuple[int, int]]] = {}
            for span in spans:
                sentences.setdefault(tokens.sentence[span[0]], []).append(span)
            self.by_sentence[role] = sentences
        self.questions = bool(cues["question"])
        self.disjunctions = not DISJUNCTIONS.isdisjoint(tokens.words)
        # Whether the narrative says anywhere, not negated, that something is over.
        self.out = any(not self.negated(start, end, False) for start, end in cues["over"])
        # The sentences that a short sentence after them dates to the past ("C'était en 2020.").
        self.dated: set[int] = set()
        for start, _ in cues["over"]:
            opener = start
            while opener > 0 and tokens.sentence[opener - 1] == tokens.sentence[start]:
                opener -= 1
            if (
                opener > 0
                and start - opener <= DATING_REACH
                and tokens.words[opener : opener + 2] in DATING_OPENERS
            ):
                self.dated.add(tokens.sentence[opener - 1])

    def _in_sentence(self, role: str, position: int) -> Sequence[tuple[int, int]]:
        return self.by_sentence[role].get(self.tokens.sentence[position], ())

    def negated(self, start: int, end: int, carries_negation: bool) -> bool:
        tokens = self.tokens
        if self._in_scope(start, carries_negation) or (
            self.disjunctions and (self._after_disjunction(start) or self._listed_after_negation(start))
        ):
            return True
        if start > 0 and tokens.words[start - 1] in NEGATIVE_POLARITY:
            clause = tokens.clause[start]
            if any(cue_end < start for _, cue_end in self.negations.get(clause, ())):
                return True
        if not carries_negation and end < len(tokens) and tokens.clause[end] == tokens.clause[end - 1]:
            return tokens.words[end] in NEGATION_AFTER
        return False

    def _in_scope(self, start: int, carries_negation: bool) -> bool:
        """A negation before ``start`` in its clause reaches it (or a denied report does)."""
        tokens = self.tokens
        clause = tokens.clause[start]
        for cue_start, cue_end in self.negations.get(clause, ()):
            if cue_end > start:
                continue
            reported = self._report_after(cue_end, start)
            if reported is not None and start - reported < NEGATION_BEFORE_WORDS:
                return True
            if start - cue_end < NEGATION_BEFORE_WORDS:
                if carries_negation and tokens.words[cue_start] in FIRST_HALF_NEGATION:
                    continue
                if any(word in SCOPE_BREAKERS for word in tokens.words[cue_end:start]):
                    continue
                if cue_end < start and tokens.words[start] in SUBJECTS:
                    continue
                return True
            if tokens.words[cue_end - 1] in NEGATIVE_DETERMINERS and _noun_chain(tokens.words[cue_end:start]):
                return True
        return False

    def _report_after(self, cue_end: int, start: int) -> int | None:
        """Where what a denied report says begins ("never said | he hit her"), if one follows.

        Not an instruction not to tell ("told her not to tell anyone he hits her", "lui a dit de pas
        dire qu'il la frappe"): there the report is an infinitive, and what it reports stands.
        """
        words = self.tokens.words
        for low, high in self._in_sentence("report", cue_end) if cue_end < len(self.tokens) else ():
            if cue_end <= low <= cue_end + REPORT_AFTER_NEGATION and high <= start:
                between = words[cue_end:low]
                if "to" in between or words[low].endswith(INFINITIVE_ENDINGS):
                    continue
                if any(word in SCOPE_BREAKERS and word != "the" for word in between):
                    continue
                told = words[high:start]
                if ABOUT in told:
                    # "never said anything to me about being hurt": what follows "about" is what was
                    # not told; "never told anyone about it" keeps a secret, which denies nothing.
                    about = len(told) - 1 - told[::-1].index(ABOUT)
                    if SECRET_KEPT.intersection(told[:about]):
                        continue
                    told, high = told[about + 1 :], high + about + 1
                if REPORT_OBJECT_BREAKERS.intersection(told):
                    continue
                return high
        return None

    def _after_disjunction(self, start: int) -> bool:
        """ "No violence or threats": the "or" carries the negation of what comes before it."""
        tokens = self.tokens
        words, clause = tokens.words, tokens.clause[start]
        for position in range(start - 1, max(-1, start - 2 - DISJUNCT_WORDS), -1):
            word = words[position]
            if tokens.clause[position] != clause:
                return False
            if word in DISJUNCTIONS:
                return (
                    position > 0
                    and tokens.clause[position - 1] == clause
                    and (
                        self._in_scope(position - 1, False)
                        or self._after_disjunction(position - 1)
                        or self._listed_after_negation(position - 1)
                    )
                )
            if word not in DISJUNCT_FILLERS and words[position + 1] not in OF_WORDS:
                return False  # a word of its own, unless the head of "threats of violence"
        return False

    def _listed_after_negation(self, start: int) -> bool:
        """ "Nobody reported violence, confinement or threats": a danger that opens a clause after a
        comma, in a list a disjunction closes, is negated with the danger (of any role) just before the
        comma. Not an act ("aren't paid, locked in or beaten", "pas de paye, battues ou violées"):
        what is done to someone is told, not listed among what nobody reported."""
        tokens = self.tokens
        words, clauses = tokens.words, tokens.clause
        # An item may open on its article ("pas de coups, de menaces ou ..."): the list goes on from it.
        opener = start
        while opener > 0 and clauses[opener - 1] == clauses[start] and words[opener - 1] in DISJUNCT_FILLERS:
            opener -= 1
        if opener == 0 or clauses[opener - 1] == clauses[opener] or words[opener] in CLAUSE_BREAKS:
            return False
        starts = {edge for edge, _ in self.items.get(start, set())}
        ends = {edge for edge, _ in self.items.get(opener, set())}
        # "No danger, threat or violence": the word "danger" names no danger of its own, yet opens the list.
        named_danger = (
            opener > 1 and words[opener - 1] in DANGER_NAMES and words[opener - 2] in NEGATIVE_DETERMINERS
        )
        if words[start] in self.conjugated or "starts" not in starts or not ("ends" in ends or named_danger):
            return False
        if tokens.sentence[opener - 1] != tokens.sentence[start]:
            return False
        in_clause = 0
        for position in range(start + 1, len(tokens)):
            if tokens.sentence[position] != tokens.sentence[start]:
                return False
            if clauses[position] != clauses[position - 1]:
                if words[position] in CLAUSE_BREAKS:
                    return False  # "and", "but": a clause of its own, no item of the list
                in_clause = 0
            if words[position] in DISJUNCTIONS:
                break
            in_clause += 1
            if in_clause > DISJUNCT_WORDS:
                return False
        else:
            return False
        before = opener - 1
        return (
            self._in_scope(before, False)
            or self._after_disjunction(before)
            or self._listed_after_negation(before)
        )

    def asked(self, start: int) -> bool:
        """Inside a question in its clause ("asked her if he hits her", "demandé s'ils la frappent")."""
        if not self.questions:
            return False
        clause = self.tokens.clause[start]
        return any(
            end <= start and self.tokens.clause[end - 1] == clause
            for _, end in self._in_sentence("question", start)
        )

    def answered_no(self, end: int) -> bool:
        """The question was answered no, after it in its sentence or just after ("she said no")."""
        tokens = self.tokens
        if end >= len(tokens):
            return False
        sentence = tokens.sentence[end - 1]
        for low, _ in self.cues["answer_no"]:
            if low < end or tokens.sentence[low] > sentence + 1:
                continue
            if tokens.words[low] == "non" and tokens.clause[low - 1] == tokens.clause[low]:
                continue  # "non payée" denies a word, it answers nothing
            if (
                tokens.sentence[low] == sentence
                or tokens.sentence[max(0, low - ANSWER_REACH_WORDS)] <= sentence
            ):
                return True
        return False

    def hedged(self, start: int) -> bool:
        if any(
            end <= start and start - end < HEDGE_BEFORE_WORDS for _, end in self._in_sentence("hedge", start)
        ):
            return True
        clause = self.tokens.clause[start]
        return any(
            end <= start and start - end < FEAR_BEFORE_WORDS and self.tokens.clause[end - 1] == clause
            for _, end in self._in_sentence("fear", start)
        )

    def feared_not(self, start: int) -> bool:
        """ "Elle a pas peur qu'y la frappent": a fear denied denies what it was about."""
        clause = self.tokens.clause[start]
        return any(
            end <= start
            and start - end < FEAR_BEFORE_WORDS
            and self.tokens.clause[end - 1] == clause
            and self.negated(low, end, False)
            for low, end in self._in_sentence("fear", start)
        )

    def prospective(self, start: int) -> bool:
        words = self.tokens.words
        word = words[start]
        if len(word) > 5 and word.endswith(FUTURE_ENDINGS):
            return True
        # "wants to report the man who trafficked her": the wish does not reach into a relative
        # clause told in the past.
        past = word.endswith("ed") or word in IRREGULAR_PAST
        return any(
            end <= start
            and start - end < PROSPECT_BEFORE_WORDS
            and not (past and RELATIVES.intersection(words[end:start]))
            for _, end in self._in_sentence("future", start)
        )

    def belief_denied(self, start: int) -> bool:
        """ "I don't think he'd hurt me", "je pense pas qu'il me ferait mal": the teller's judgement
        that the harm will not come, said just before it in its sentence."""
        return any(
            end <= start and start - end < HEDGE_BEFORE_WORDS
            for _, end in self._in_sentence("belief_denied", start)
        )

    def later(self, start: int) -> bool:
        """Months away ("in August", "l'été prochain"): a move then is not imminent."""
        return bool(self._in_sentence("later", start))

    def soon(self, start: int) -> bool:
        return bool(self._in_sentence("soon", start))

    def conditional(self, start: int) -> bool:
        """Inside a condition: an "if" before it in its clause, at most one subject between."""
        words, clauses = self.tokens.words, self.tokens.clause
        clause = clauses[start]
        for position in range(start - 1, max(-1, start - 1 - CONDITION_REACH_WORDS), -1):
            if clauses[position] != clause:
                return False
            if _opens_condition(words, position):
                return sum(word in CONDITION_SUBJECTS for word in words[position + 1 : start]) <= 1
        return False

    def hypothetical(self, start: int, timed: bool) -> bool:
        """Asked as advice for a case that may never come ("what do I do if he comes back?", "s'il
        revient, je fais quoi?"): a condition before it in a sentence that asks what to do, nothing of
        the present or of what is soon to come in it. A minor is hypothetical only in an open
        condition ("if I ever see a kid"): "what do I do if my niece of 14 is being sold" is a minor."""
        if not self._in_sentence("advice", start):
            return False
        if self._in_sentence("now", start) or self._in_sentence("soon", start):
            return False
        words, sentences = self.tokens.words, self.tokens.sentence
        sentence = sentences[start]
        for position in range(start - 1, -1, -1):
            if sentences[position] != sentence:
                return False
            if _opens_condition(words, position):
                return timed or not OPEN_CONDITION.isdisjoint(words[position + 1 : position + 4])
        return False

    def general(self, start: int) -> bool:
        """Said of the trade in general: a generic cue in its sentence, no one in particular in it
        and nothing of the present or of what is soon to come."""
        if not self._in_sentence("generic", start):
            return False
        if self._in_sentence("now", start) or self._in_sentence("soon", start):
            return False
        words, sentences = self.tokens.words, self.tokens.sentence
        sentence = sentences[start]
        for position, word in enumerate(words):
            if sentences[position] != sentence or word not in SOMEONE:
                continue
            if word == "il" and position + 1 < len(words) and words[position + 1] in IMPERSONAL_AFTER_IL:
                continue
            return False
        return True

    def over(self, start: int, end: int) -> bool:
        """Told of the past: a sign of the past in its sentence (or, once the tip says the person is
        out, a verb in a past tense), nothing of the present in its clause, and no harm still to
        come unless the past is in its own clause ("threatened to kill her back when..."). A sign of
        the past before it no longer counts once the sentence turns to the present ("was arrested
        last year, but she's back with him and he hits her")."""
        tokens = self.tokens
        clause = tokens.clause[start]
        if any(tokens.clause[now] == clause for now, _ in self._in_sentence("now", start)):
            return False
        if tokens.sentence[start] in self.dated:
            return True
        words = tokens.words
        signs = [
            (low, high)
            for low, high in self._in_sentence("over", start)
            if (low >= end or (high <= start and not PRESENT_TURNS.intersection(words[high:start])))
            and not self.negated(low, high, False)
        ]
        if signs:
            in_clause = any(tokens.clause[low] == clause for low, _ in signs)
            return in_clause or not self.prospective(start)
        return self.out and self._told_in_the_past(start) and not self.prospective(start)

    def _told_in_the_past(self, start: int) -> bool:
        words, clauses = self.tokens.words, self.tokens.clause
        if words[start].endswith(PAST_ENDINGS):
            return True
        # A French perfect: its auxiliary just before the participle ("lui a cassé une dent").
        if start > 0 and words[start - 1] in FRENCH_PERFECT and clauses[start - 1] == clauses[start]:
            return True
        for position in range(start - 1, max(-1, start - 1 - PAST_VERB_REACH), -1):
            if clauses[position] != clauses[start]:
                return False
            if words[position].endswith(PAST_ENDINGS) or words[position] in PAST_AUXILIARIES:
                return True
        return False
