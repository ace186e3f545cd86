"""Urgency rules of the hotline: any minor victim or imminent danger is urgent."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.tip import Answer, TipFacts
from schemas.triage import Reason, Urgency

RULESET_VERSION = "2026.11-skeleton.1"
ADULT_AGE = 18

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
DANGER_STATED = Reason(
    code="imminent_danger",
    en="Imminent danger to the caller or others was reported.",
    fr="Un danger imminent pour la personne qui appelle ou pour d'autres a été signalé.",
)
NO_URGENT_GROUND = Reason(
    code="no_urgent_ground",
    en="No minor and no imminent danger reported: a supervisor reviews the tip within 24 hours.",
    fr="Aucune personne mineure ni aucun danger imminent signalé : un superviseur examine le signalement dans les 24 heures.",
)
MISSING_WHERE = Reason(
    code="missing.where",
    en="The tip does not say where the situation is (province, city or another country).",
    fr="Le signalement n'indique pas où se trouve la situation (province, ville ou autre pays).",
)
MISSING_WHAT = Reason(
    code="missing.what",
    en="The tip does not say what is happening: no type of exploitation and too short an account.",
    fr="Le signalement n'indique pas ce qui se passe : aucun type d'exploitation et un récit trop bref.",
)
NARRATIVE_ERASED = Reason(
    code="narrative.erased",
    en="The tip's identifying data was erased; it was classified from its other answers.",
    fr="Les données identificatoires du signalement ont été effacées; il a été classé selon ses autres réponses.",
)
DESCRIBED_IN_WORDS = 12


@dataclass(frozen=True, slots=True)
class Classification:
    urgency: Urgency
    reasons: tuple[Reason, ...]
    minor_involved: bool
    imminent_danger: bool
    ruleset_version: str = RULESET_VERSION


def classify(facts: TipFacts, narrative: str | None = None, narrative_erased: bool = False) -> Classification:
    """Decide a tip's urgency from what the reporter or the specialist stated and told."""
    erased = (NARRATIVE_ERASED,) if narrative_erased else ()
    minor_reasons = _minor_reasons(facts)
    imminent_danger = facts.assessment.imminent_danger is Answer.YES
    urgent_reasons = (*minor_reasons, *((DANGER_STATED,) if imminent_danger else ()))
    if urgent_reasons:
        return Classification(
            Urgency.URGENT, (*urgent_reasons, *erased), bool(minor_reasons), imminent_danger
        )
    missing = _missing_details(facts, narrative)
    if len(missing) == 2:
        return Classification(Urgency.INSUFFICIENT_INFORMATION, (*missing, *erased), False, False)
    return Classification(Urgency.NON_URGENT, (NO_URGENT_GROUND, *missing, *erased), False, False)


def _minor_reasons(facts: TipFacts) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    if facts.assessment.minor_involved is Answer.YES:
        reasons.append(MINOR_STATED)
    ages = [facts.assessment.victim_age, facts.victim_profile.age if facts.victim_profile else None]
    if any(age is not None and age < ADULT_AGE for age in ages):
        reasons.append(MINOR_BY_AGE)
    return tuple(reasons)


def _missing_details(facts: TipFacts, narrative: str | None) -> tuple[Reason, ...]:
    location = facts.location
    knows_where = facts.outside_canada or location.province is not None or location.city is not None
    described = narrative is not None and len(narrative.split()) >= DESCRIBED_IN_WORDS
    knows_what = bool(facts.assessment.trafficking_types) or described
    return tuple(
        reason for reason, known in ((MISSING_WHERE, knows_where), (MISSING_WHAT, knows_what)) if not known
    )
