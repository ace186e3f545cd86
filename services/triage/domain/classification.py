"""Urgency rules of the hotline, from the specialist's answers and the narrative together.

Any minor victim or imminent danger is urgent. Staff answers win over what the text suggests,
except that evidence of a minor or of danger, from either, always raises urgency and never lowers
it. A tip on which no indicator fires and that does not say where, who or what happened lacks the
information to act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas.tip import Answer, ReporterRole, TipFacts, TraffickingType
from schemas.triage import IndicatorFinding, MissingDetail, Reason, Strength, Urgency
from services.triage.domain.indicators import (
    ADULT_AGE,
    Indicator,
    Lexicon,
    TextFindings,
    detect,
    load_lexicon,
)

RULES_VERSION = "rules-2026.11.1"
DESCRIBED_IN_WORDS = 12
PERSON_WORDS = re.compile(
    r"\b(?:she|he|her|him|they|girl|woman|women|man|men|boy|worker|workers|niece|daughter|son|friend|neighbou?r|"
    r"cousin|sister|brother|elle|il|elles|ils|femme|femmes|homme|hommes|fille|garcon|travailleu\w+|niece|voisine?|"
    r"amie?|fils|soeur|frere|cousine?|jeune)\b(?! (?:y a|se passe|faut|semble|parait))"
)
NO_FINDINGS = TextFindings(indicators=(), ages=(), minor_mentioned=False, sex_trade_mentioned=False)
STRENGTH_FR = {
    "urgent": "urgent",
    "strong": "fort",
    "medium": "moyen",
    "weak": "faible",
    "context": "contexte",
}

MINOR_STATED = Reason(
    code="minor_involved",
    en="The reporter says a minor is involved; every case involving a minor is urgent.",
    fr="La personne qui signale indique qu'une personne mineure est en cause; tout cas impliquant une personne mineure est urgent.",
)
MINOR_BY_AGE = Reason(
    code="victim_under_18",
    en="The victim's stated age is under 18; every case involving a minor is urgent.",
    fr="L'âge indiqué de la victime est inférieur à 18 ans; tout cas impliquant une personne mineure est urgent.",
)
MINOR_AGE_IN_TEXT = Reason(
    code="victim_under_18_in_text",
    en="The account gives an age under 18; every case involving a minor is urgent.",
    fr="Le récit mentionne un âge inférieur à 18 ans; tout cas impliquant une personne mineure est urgent.",
)
MINOR_IN_TEXT = Reason(
    code="minor_in_text",
    en="The account speaks of a minor; every case involving a minor is urgent.",
    fr="Le récit parle d'une personne mineure; tout cas impliquant une personne mineure est urgent.",
)
DANGER_STATED = Reason(
    code="imminent_danger",
    en="Imminent danger to the caller or others was reported.",
    fr="Un danger imminent pour la personne qui appelle ou pour d'autres a été signalé.",
)
DANGER_IN_TEXT = Reason(
    code="imminent_danger_in_text",
    en="The account describes imminent danger.",
    fr="Le récit décrit un danger imminent.",
)
URGENT_GROUNDS = frozenset(
    reason.code
    for reason in (
        MINOR_STATED,
        MINOR_BY_AGE,
        MINOR_AGE_IN_TEXT,
        MINOR_IN_TEXT,
        DANGER_STATED,
        DANGER_IN_TEXT,
    )
)
NO_URGENT_GROUND = Reason(
    code="no_urgent_ground",
    en="No minor and no imminent danger: a supervisor reviews the tip within 24 hours.",
    fr="Aucune personne mineure ni aucun danger imminent : un superviseur examine le signalement dans les 24 heures.",
)
MISSING = {
    MissingDetail.WHERE: Reason(
        code="missing.where",
        en="The tip does not say where the situation is (province, city or another country).",
        fr="Le signalement n'indique pas où se trouve la situation (province, ville ou autre pays).",
    ),
    MissingDetail.WHO: Reason(
        code="missing.who",
        en="The tip does not say who is affected.",
        fr="Le signalement n'indique pas qui est touché.",
    ),
    MissingDetail.WHAT: Reason(
        code="missing.what",
        en="The tip does not say what is happening: no type of exploitation and too short an account.",
        fr="Le signalement n'indique pas ce qui se passe : aucun type d'exploitation et un récit trop bref.",
    ),
}
NARRATIVE_ERASED = Reason(
    code="narrative.erased",
    en="The tip's identifying data was erased; it was classified from its other answers.",
    fr="Les données identificatoires du signalement ont été effacées; il a été classé selon ses autres réponses.",
)


@dataclass(frozen=True, slots=True)
class Classification:
    urgency: Urgency
    reasons: tuple[Reason, ...]
    minor_involved: bool
    imminent_danger: bool
    indicators: tuple[IndicatorFinding, ...] = ()
    missing: tuple[MissingDetail, ...] = ()
    ruleset_version: str = RULES_VERSION

    @property
    def urgent_grounds(self) -> frozenset[str]:
        """The codes of the reasons that make the tip urgent: a minor, or imminent danger."""
        return frozenset(reason.code for reason in self.reasons if reason.code in URGENT_GROUNDS)


def classify(
    facts: TipFacts,
    narrative: str | None = None,
    narrative_erased: bool = False,
    lexicon: Lexicon | None = None,
) -> Classification:
    """Decide a tip's urgency and say why, in English and French."""
    lexicon = lexicon or load_lexicon()
    findings = detect(narrative, lexicon) if narrative else NO_FINDINGS
    minor_reasons = _minor_reasons(facts, findings)
    danger_reasons = _danger_reasons(facts, findings)
    indicators = list(findings.indicators)
    commercial_sex = findings.sex_trade_mentioned or TraffickingType.SEX in facts.assessment.trafficking_types
    if minor_reasons and commercial_sex:
        indicators.insert(0, lexicon.indicator("HT-01"))
    indicator_reasons = tuple(_indicator_reason(indicator) for indicator in indicators)
    erased = (NARRATIVE_ERASED,) if narrative_erased else ()
    missing = _missing_details(facts, narrative, bool(indicators))
    version = f"{RULES_VERSION}+{lexicon.version}"
    findings_out = tuple(IndicatorFinding(code=i.code, strength=Strength(i.strength)) for i in indicators)
    missing_reasons = tuple(MISSING[detail] for detail in missing)
    if minor_reasons or danger_reasons:
        return Classification(
            Urgency.URGENT, (*minor_reasons, *danger_reasons, *indicator_reasons, *erased),
            bool(minor_reasons), bool(danger_reasons), findings_out, missing, version,
        )  # fmt: skip
    actionable_signal = any(indicator.strength != "context" for indicator in indicators)
    if not actionable_signal and missing:
        return Classification(
            Urgency.INSUFFICIENT_INFORMATION, (*missing_reasons, *indicator_reasons, *erased),
            False, False, findings_out, missing, version,
        )  # fmt: skip
    return Classification(
        Urgency.NON_URGENT, (NO_URGENT_GROUND, *indicator_reasons, *missing_reasons, *erased),
        False, False, findings_out, missing, version,
    )  # fmt: skip


def _minor_reasons(facts: TipFacts, findings: TextFindings) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    if facts.assessment.minor_involved is Answer.YES:
        reasons.append(MINOR_STATED)
    ages = [facts.assessment.victim_age, facts.victim_profile.age if facts.victim_profile else None]
    if any(age is not None and age < ADULT_AGE for age in ages):
        reasons.append(MINOR_BY_AGE)
    youngest = findings.youngest
    if youngest is not None and youngest < ADULT_AGE:
        reasons.append(MINOR_AGE_IN_TEXT)
    if findings.minor_mentioned:
        reasons.append(MINOR_IN_TEXT)
    return tuple(reasons)


def _danger_reasons(facts: TipFacts, findings: TextFindings) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    if facts.assessment.imminent_danger is Answer.YES:
        reasons.append(DANGER_STATED)
    if findings.fired("IM-01"):
        reasons.append(DANGER_IN_TEXT)
    return tuple(reasons)


def _indicator_reason(indicator: Indicator) -> Reason:
    return Reason(
        code=f"indicator.{indicator.code}",
        en=f"Indicator {indicator.code} ({indicator.strength}): {indicator.en}.",
        fr=f"Indicateur {indicator.code} ({STRENGTH_FR[indicator.strength]}) : {indicator.fr}.",
    )


def _missing_details(
    facts: TipFacts, narrative: str | None, any_indicator: bool
) -> tuple[MissingDetail, ...]:
    location = facts.location
    text = narrative.lower() if narrative else ""
    knows_where = facts.outside_canada or location.province is not None or location.city is not None
    knows_who = (
        facts.reporter_role is ReporterRole.VICTIM
        or facts.victim_profile is not None
        or bool(PERSON_WORDS.search(text))
    )
    described = len(text.split()) >= DESCRIBED_IN_WORDS
    knows_what = bool(facts.assessment.trafficking_types) or described or any_indicator
    return tuple(
        detail
        for detail, known in (
            (MissingDetail.WHERE, knows_where),
            (MissingDetail.WHO, knows_who),
            (MissingDetail.WHAT, knows_what),
        )
        if not known
    )
